// Plan rendering and the plan file format: one Plan, four renderings.
//
// - renderText: for a terminal (`strata plan`), optionally with ANSI colour;
// - renderSql: a script for `psql -v ON_ERROR_STOP=1 -f`, one transaction per step as
//   `apply` runs it, for reviewers and for people who must run the SQL by hand;
// - renderMarkdown: for a pull-request comment;
// - renderJson / readJson: the plan file (`--format json`, `apply --plan`), described by
//   schemas/plan.schema.json. readJson validates strictly and reports the first problem as
//   one line naming the field (`plan file: steps[3].lock: unknown lock mode "SHARED"`).
//
// Every renderer is a pure function of the Plan: equal plans give byte-identical output,
// so the renderings can be golden files and diffs of them are meaningful.
#pragma once

#include "planner/Plan.h"

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include <string>

namespace strata::planner {

struct TextOptions {
  bool color = false; ///< ANSI escapes: only when writing to a terminal
};

/// The version of the plan file format renderJson writes and readJson reads.
inline constexpr int planFormatVersion = 1;

std::string renderText(const Plan &plan, const TextOptions &options);
std::string renderSql(const Plan &plan);
/// The parts of renderSql, for a script that runs the steps with more around them
/// (runtime/ApplyScript.h adds strata's records, which the planner does not know): the
/// header (nodes, findings, the refusal of a plan with errors), and one step's comment.
std::string renderSqlHeader(const Plan &plan);
std::string renderSqlStepComment(const Plan &plan, const Step &step, size_t number);
std::string renderMarkdown(const Plan &plan);

/// The plan file: `{"format": "strata-plan", "formatVersion": 1, ...}`, 2-space indent, keys
/// in a fixed order, a final newline. Invalid UTF-8 in a string is written as U+FFFD.
std::string renderJson(const Plan &plan);
/// Reads a plan file. Never throws; any problem (not JSON, another format or version, a
/// missing, mistyped or unknown field, an unknown phase or lock mode) is an llvm::Error with
/// a one-line message. readJson(renderJson(p)) == p for every plan the planner makes.
llvm::Expected<Plan> readJson(llvm::StringRef text);

/// The line an empty plan shows instead of steps ("nothing to do: ...", or, for an up
/// that has no step but new versions to record, which ones and that finish has the rest).
std::string nothingToDo(const Plan &plan);

} // namespace strata::planner
