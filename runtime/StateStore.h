// strata's state in the target database: which (subsystem, version) nodes ran, with their
// checksums and times, and which steps of them completed (with backfill cursors).
//
// The tables are declared in schemas/strata.strata (embedded in the binary) and created or
// upgraded by strata's own planner: the runtime bootstraps itself with its own compiler.
#pragma once

#include "compiler/Project.h"
#include "runtime/Connection.h"

#include <llvm/Support/Error.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace strata::runtime {

/// The subsystem name of strata's own state tables.
inline constexpr const char *stateSubsystem = "strata";

/// SQL: when the current transaction began, for the records. Transactions sent together
/// in one message all have the message's arrival as now(), so each record also leaves the
/// time it ran in the session's `strata.mark` (recordReturningSql): a transaction began at
/// the later of now() and the previous record, which in a message is the end of the
/// transaction before.
inline constexpr const char *transactionStartSql =
    "greatest(now(), nullif(current_setting('strata.mark', true), '')::timestamptz)";

/// Ends each record statement (a step's, a node's): the record returns how long its
/// transaction has run, in ms, as `strata_ms` (Executor::runBatch logs it as the step's
/// time), and sets the mark that transactionStartSql reads.
inline std::string recordReturningSql() {
  return std::string(" RETURNING (extract(epoch from clock_timestamp() - ") + transactionStartSql +
         ") * 1000)::bigint AS strata_ms, set_config('strata.mark', clock_timestamp()::text, "
         "false) AS strata_mark";
}

struct NodeRecord {
  std::string subsystem;
  std::string version;
  std::string checksum;
  bool executed = false; ///< false: `up` ran, `finish` is pending
  /// Read only (nodes()): `finish` ran for it. Executed but not finished: recorded by a
  /// bootstrap, or by an `up` that had nothing for `finish` to do.
  bool finished = false;
  /// Read only (nodes()): who recorded its `up`, "host pid N": one strata process.
  std::string client{};
};

struct StepRecord {
  bool done = false;
  std::string sqlHash;
  std::vector<std::string> cursor; ///< a backfill's last key done, as text
  int64_t rowsDone = 0;
};

struct StepKey {
  std::string subsystem;
  std::string version;
  std::string phase;
  int step = 0;
  friend auto operator<=>(const StepKey &, const StepKey &) = default;
};

/// The text of schemas/strata.strata, compiled into the binary.
llvm::StringRef stateSchemaSource();

class StateStore {
public:
  explicit StateStore(Connection &conn) : conn(conn) {}

  /// Do strata's state tables exist? (A database without them needs bootstrap.)
  llvm::Expected<bool> exists();
  /// Creates strata's state tables, or upgrades them to the version this strata knows.
  /// Idempotent; the caller holds the runner lock.
  llvm::Error ensure(llvm::StringRef strataVersion);
  /// Every recorded node of the project's subsystems (strata's own excluded).
  llvm::Expected<std::vector<NodeRecord>> nodes();
  /// nodes(), or none when strata's state tables do not exist (a database strata has
  /// never touched).
  llvm::Expected<std::vector<NodeRecord>> nodesIfAny();
  /// Every recorded step.
  llvm::Expected<std::map<StepKey, StepRecord>> steps();
  /// The recorded steps of phases that did not complete: an `up` step of a node with no
  /// record, a `finish` step of a node still pending, a `bootstrap` step of a database
  /// with no node recorded. What an apply that was cut short (or still runs) left.
  /// One statement, so one snapshot. Strata's own steps are left out.
  llvm::Expected<std::map<StepKey, StepRecord>> startedSteps();

  llvm::Error recordNode(const NodeRecord &node, llvm::StringRef phase, int64_t millis,
                         llvm::StringRef strataVersion);
  /// Prepares, on this store's connection, the statements that recordNodeSql's text
  /// executes. Once per session; recordNode does it itself.
  llvm::Error prepareRecords();
  /// The statement recordNode runs, with the duration as an SQL expression (in ms), so
  /// that it can commit in the transaction of the node's last step. It executes a
  /// prepared statement: the connection it runs on needs prepareRecords() first.
  /// SQL, for recordNodeSql: a node's time in ms, \p clientMillis of it before the current
  /// transaction plus the transaction's own.
  static std::string nodeMillisSql(int64_t clientMillis);
  /// SQL, for recordNodeSql: a node's time in ms measured by the server alone, for a node
  /// whose steps went in one message with others: from its first step's transaction (the
  /// start its step record keeps, when it has more than one step) to now.
  static std::string nodeMillisSql(const NodeRecord &node, llvm::StringRef phase,
                                   bool severalSteps);
  /// \p clientSql: who records it, as an SQL expression (empty: this process, "host pid
  /// N", as a literal).
  static std::string recordNodeSql(const NodeRecord &node, llvm::StringRef phase,
                                   llvm::StringRef millisSql, llvm::StringRef strataVersion,
                                   llvm::StringRef clientSql = "");
  /// The prepared statements recordNodeSql's text executes, as (name, text), for a script
  /// that records what apply records (runtime/ApplyScript.h).
  static std::vector<std::pair<std::string, std::string>> recordStatements();
  /// What ensure() runs on a database without strata's tables, before recording strata's
  /// own nodes: the CREATE statements of its state tables; and those nodes.
  struct Creation {
    std::vector<std::string> statements;
    std::vector<NodeRecord> nodes;
  };
  static llvm::Expected<Creation> creation();
  /// Forgets a node's steps and record (`--force` re-runs it).
  llvm::Error forgetNode(llvm::StringRef subsystem, llvm::StringRef version);

private:
  Connection &conn;
};

} // namespace strata::runtime
