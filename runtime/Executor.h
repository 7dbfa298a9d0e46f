// The executor: runs a Plan's steps against PostgreSQL, one step at a time, safely.
//
// - A transactional step runs in its own transaction with `lock_timeout` set, and its
//   completion is recorded in the same transaction: a crash leaves it either done and
//   recorded or neither. A lock timeout is retried with exponential backoff and jitter, so
//   DDL never waits in the lock queue long enough to stall the application.
// - A non-transactional step (CREATE/DROP INDEX CONCURRENTLY) is idempotent: an INVALID
//   index left by an interrupted build is dropped and rebuilt, a valid one is kept.
// - A backfill runs in batches keyed on the primary key, each batch its own transaction
//   with its cursor saved, so a rerun resumes after the last committed batch.
// Steps recorded as done are skipped, which is how the next `apply` resumes.
#pragma once

#include "planner/Plan.h"
#include "runtime/Connection.h"
#include "runtime/StateStore.h"

#include <llvm/Support/raw_ostream.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>

namespace strata::runtime {

struct ExecOptions {
  std::chrono::milliseconds lockTimeout{1000};
  unsigned maxAttempts = 20; ///< per step, for lock timeouts
  std::chrono::milliseconds retryBase{200};
  int64_t batchSize = 1000;
  std::chrono::milliseconds batchPause{0};
  /// Record steps in strata_steps (off only while bootstrapping strata's own tables).
  bool record = true;
  llvm::raw_ostream *log = nullptr; ///< one line per step; progress for backfills
  bool progressBar = false;         ///< a terminal: redraw the backfill line
  /// Test hook: called before each step and each backfill batch ("step", "batch").
  std::function<void(const planner::Step &, const char *)> beforeHook;
};

class Executor {
public:
  Executor(Connection &conn, ExecOptions options) : conn(conn), options(std::move(options)) {}

  /// Runs \p step, the \p index-th step of its node in its phase, unless \p done says it
  /// completed already. \p alsoCommit (SQL: the node's record) runs in the step's
  /// transaction, after it, instead of the step's own record in strata_steps: the node's
  /// record says the same and more. Only for a transactional step that is not done (see
  /// runsInOneTransaction).
  llvm::Error run(const planner::Step &step, int index, const StepRecord *previous,
                  llvm::StringRef alsoCommit = "");
  /// Whether run() commits \p step in one transaction that can carry more SQL.
  static bool runsInOneTransaction(const planner::Step &step, const StepRecord *previous) {
    return step.transactional && !step.isBackfill && !(previous && previous->done);
  }

  /// Whether \p step can go to the server in a batch with others (runBatch): a
  /// transactional step that has not started, and is not known to scan or rewrite a table,
  /// so that it holds back the log lines of the steps before it only for catalog time.
  static bool canBatch(const planner::Step &step, const StepRecord *previous) {
    return runsInOneTransaction(step, previous) && !previous && !step.scans && !step.rewrites;
  }

  /// One transaction of a batch: a step run() would run in one transaction, and the SQL
  /// its transaction also commits (see run()).
  struct Pending {
    const planner::Step *step = nullptr;
    int index = 0;
    std::string alsoCommit;
  };
  /// Runs \p items, each in a transaction of its own as run() runs it, as one message to
  /// the server: one round trip for all of them instead of one each. Each transaction
  /// that commits is logged as run() logs a step and passed to \p committed, in order.
  /// Returns how many committed, from the first: the server stops at the first failure,
  /// which is rolled back and not reported here. The caller runs that item again with
  /// run(), which retries a lock timeout and reports any other error in full. A test hook
  /// (ExecOptions::beforeHook) is not called.
  /// Only the last transaction waits for its WAL to reach the disk, which makes the ones
  /// before it durable too: one disk flush per batch, not per transaction. What committed
  /// is reported (logged, passed to \p committed) only once it is durable.
  size_t runBatch(llvm::ArrayRef<Pending> items, llvm::function_ref<void(size_t)> committed);

  /// The hash that identifies a step's SQL in strata_steps.
  static std::string hashOf(const planner::Step &step);

  // The SQL of the records, for a script that does what run() does (runtime/ApplyScript.h).

  /// The prepared statement that records a step: its name, and its text with parameters
  /// subsystem, version, phase, step, status, SQL hash, cursor (jsonb), rows done,
  /// started at.
  static llvm::StringRef recordStepName();
  static const std::string &recordStepText();
  /// The statement that executes it for \p step, the \p index-th of its node.
  static std::string recordSql(const planner::Step &step, int index, llvm::StringRef status,
                               llvm::StringRef cursorJson, int64_t rows);
  /// The transaction run() runs for a transactional step that is not a backfill, from
  /// BEGIN to COMMIT (see run() for \p alsoCommit).
  static std::string transactionSql(const planner::Step &step, int index,
                                    llvm::StringRef alsoCommit,
                                    std::chrono::milliseconds lockTimeout, bool record = true,
                                    bool waitForDisk = true);
  /// The index a CREATE INDEX CONCURRENTLY step builds (run() drops an INVALID one left by
  /// an interrupted build first, and skips a VALID one); nothing for other steps.
  static std::optional<std::string> concurrentIndexOf(const planner::Step &step);

private:
  /// The step's line in the log, with how long it took (\p time, "" if unknown).
  void logStep(const planner::Step &step, int index, llvm::StringRef time);
  llvm::Error runTransactional(const planner::Step &step, int index, llvm::StringRef alsoCommit);
  /// The SQL of a transactional step's transaction, from BEGIN to COMMIT. Unless
  /// \p waitForDisk, its COMMIT returns before its WAL is on disk (a later commit that
  /// waits makes it durable).
  std::string transactionText(const planner::Step &step, int index, llvm::StringRef alsoCommit,
                              bool waitForDisk = true);
  llvm::Error runNonTransactional(const planner::Step &step, int index);
  llvm::Error runBackfill(const planner::Step &step, int index, const StepRecord *previous);
  llvm::Error recordDone(const planner::Step &step, int index, bool inTransaction);
  /// Runs \p attempt until it succeeds or fails with something other than a lock
  /// timeout; lock timeouts are retried with backoff and jitter.
  llvm::Error withRetries(const planner::Step &step, const std::function<llvm::Error()> &attempt);

  Connection &conn;
  ExecOptions options;
};

} // namespace strata::runtime
