// A Plan: the ordered Steps that `strata apply` executes, as a value.
//
// Each Step carries everything a reviewer and the executor need: the node it belongs to,
// its phase, the exact SQL, whether it can run in a transaction, the lock it takes and on
// which tables, whether it scans or rewrites a table or destroys data, whether it is a
// batched backfill, and a one-line reason naming the DSL line it came from. What `plan`
// prints is what `apply` runs.
#pragma once

#include "compiler/Project.h"

#include <string>
#include <vector>

namespace strata::planner {

enum class Phase { Up, Finish, Bootstrap };

/// PostgreSQL's table lock modes ("Explicit Locking"), weakest first.
enum class LockMode {
  None,
  AccessShare,
  RowShare,
  RowExclusive,
  ShareUpdateExclusive,
  Share,
  ShareRowExclusive,
  Exclusive,
  AccessExclusive,
  /// Raw SQL whose statements strata cannot classify (a DO block, say): read it, and
  /// assume the worst. Sorts as the strongest.
  Unknown,
};

const char *phaseName(Phase phase);
const char *lockModeName(LockMode mode); ///< "ACCESS EXCLUSIVE", "UNKNOWN", "" for None
std::optional<Phase> parsePhase(llvm::StringRef text);
std::optional<LockMode> parseLockMode(llvm::StringRef text);

/// A batched backfill: `UPDATE table SET <set> WHERE <key> IN (next batch) AND <where>`,
/// one batch per transaction, keyed on the table's primary key.
struct Backfill {
  std::string table;
  std::vector<std::string> keyColumns;
  std::string set;   ///< the SET list, rendered SQL
  std::string where; ///< rows still to fill, rendered SQL ("true" for all)
  int64_t batchSize = 0; ///< 0: the runtime's default
  friend bool operator==(const Backfill &, const Backfill &) = default;
};

struct Step {
  std::string subsystem;
  std::string version;
  Phase phase = Phase::Up;
  std::string sql; ///< one or more statements; for a backfill, one batch's UPDATE template
  bool transactional = true;
  LockMode lock = LockMode::None;
  std::vector<std::string> lockTables;
  bool scans = false;
  bool rewrites = false;
  bool destroys = false;
  bool isBackfill = false;
  Backfill backfill;
  bool unsafe = false;
  std::string reason;   ///< one line: what and why
  std::string location; ///< "file:line:col" of the DSL that asked for it
  std::vector<std::string> lints; ///< lint codes raised on this step ("S101")

  friend bool operator==(const Step &, const Step &) = default;
};

/// A finding of the compatibility proof or the lint rules.
struct Finding {
  std::string code;     ///< stable: S1xx lint, C2xx compatibility
  bool error = false;   ///< errors block the plan; warnings are shown prominently
  std::string message;
  std::string location; ///< file:line:col
  friend bool operator==(const Finding &, const Finding &) = default;
};

struct NodeId {
  std::string subsystem;
  std::string version;
  std::string checksum;
  friend bool operator==(const NodeId &, const NodeId &) = default;
};

struct Plan {
  Phase phase = Phase::Up;
  std::vector<NodeId> from;    ///< executed nodes the plan starts from
  std::vector<NodeId> to;      ///< target nodes
  std::vector<NodeId> applies; ///< nodes whose steps the plan runs, in order
  std::vector<Step> steps;
  std::vector<Finding> findings;

  bool hasErrors() const;
  friend bool operator==(const Plan &, const Plan &) = default;
};

} // namespace strata::planner
