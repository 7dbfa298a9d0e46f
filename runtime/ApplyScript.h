// ApplyScript: `strata plan --format sql`, a psql script that does what `strata apply`
// does with the same plan: the same statements in the same transactions, each with the
// record the runner commits with it, so that `psql -f` of the script and `strata apply`
// leave the same catalog and the same state tables, and the next `strata apply` (or
// `status`, `diff`) works on either.
//
// Why here, in the runtime, and not in planner/PlanFormat.cpp: the records are the
// runtime's (StateStore and Executor own their SQL, which is the SQL the script runs),
// and so is how steps become transactions (a version's last step commits with the
// version's record; a backfill commits batch by batch with its cursor; an interrupted
// concurrent index build is dropped and built again). The planner may not depend on the
// runtime; it renders the header and each step's comment (renderSqlHeader,
// renderSqlStepComment) and the runtime composes the script around them.
//
// What the script does, in order:
// - `\set ON_ERROR_STOP on`; on a fresh database (bootstrap), strata's state tables with
//   strata's own records, in one transaction, as StateStore::ensure creates them;
// - one DO block that refuses, before anything runs, a database in another state than
//   the plan was made from (its recorded versions, checksums and finish states), one whose
//   completed steps ran other SQL, one with strata's state tables of another version, and
//   one where a strata apply holds the runner lock, which the script then takes for its
//   session;
// - each version's steps in the runner's order, each skipped when strata_steps shows it
//   done (so a script cut short, or an apply cut short, resumes); transactional steps in
//   a transaction with their record; a backfill as a DO block that commits each batch
//   with its cursor and resumes from the recorded one; a CREATE INDEX CONCURRENTLY
//   outside any transaction, after dropping an INVALID index left by an interrupted build;
// - the versions' records, as apply writes them (pending finish exactly when apply would
//   record it so).
// What it does not do: retry a step that hit lock_timeout (apply retries with backoff; a
// script stops, and running it again resumes).
#pragma once

#include "compiler/Project.h"
#include "planner/Planner.h"

#include <llvm/Support/Error.h>

#include <string>

namespace strata::runtime {

/// The script of \p plan, made by makePlan from \p request. \p strataVersion goes into the
/// records as apply writes it.
llvm::Expected<std::string> applyScript(const compiler::Project &project,
                                        const planner::VersionGraph &graph,
                                        const planner::PlanRequest &request,
                                        const planner::Plan &plan, const planner::Locator &locate,
                                        llvm::StringRef strataVersion);

} // namespace strata::runtime
