#include "runtime/Executor.h"

#include "compiler/Sha256.h"
#include "planner/Sql.h"
#include "runtime/PgError.h"

#include <llvm/ADT/StringExtras.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cassert>
#include <optional>
#include <random>
#include <regex>
#include <thread>

namespace strata::runtime {

namespace {
constexpr llvm::StringLiteral lockNotAvailable = "55P03";

bool isLockTimeout(llvm::Error &err) {
  bool timeout = false;
  err = llvm::handleErrors(std::move(err), [&](std::unique_ptr<PgError> e) -> llvm::Error {
    timeout = e->sqlState() == lockNotAvailable;
    return llvm::Error(std::move(e));
  });
  return timeout;
}

std::string cursorJson(const std::vector<std::string> &cursor) {
  if (cursor.empty())
    return "";
  return nlohmann::json(cursor).dump();
}

std::string millisText(int64_t ms) {
  return ms < 1000 ? fmt::format("{} ms", ms) : fmt::format("{:.1f} s", ms / 1000.0);
}

std::string elapsed(std::chrono::steady_clock::time_point since) {
  return millisText(std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - since)
                        .count());
}
} // namespace

std::string Executor::hashOf(const planner::Step &step) {
  compiler::Sha256 hash;
  hash.update(step.sql);
  return hash.finalHex().substr(0, 16);
}

namespace {
// A step's record, as a prepared statement (see StateStore::prepareRecords). Parameters:
// subsystem, version, phase, step, status, SQL hash, cursor, rows done.
constexpr llvm::StringLiteral recordStepStatementName = "strata_record_step";
constexpr llvm::StringLiteral recordStepSql =
    "INSERT INTO strata_steps (subsystem, version, phase, step, status, sql_hash, cursor, "
    "rows_done, started_at, finished_at) VALUES ($1::text, $2::text, $3::text, $4::integer, "
    "$5::text, $6::text, $7::jsonb, $8::bigint, $9::timestamptz, CASE WHEN $5 = 'done' THEN "
    "clock_timestamp() END) "
    "ON CONFLICT (subsystem, version, phase, step) DO UPDATE SET status = EXCLUDED.status, "
    "sql_hash = EXCLUDED.sql_hash, cursor = EXCLUDED.cursor, rows_done = EXCLUDED.rows_done, "
    "finished_at = EXCLUDED.finished_at";

} // namespace

llvm::StringRef Executor::recordStepName() { return recordStepStatementName; }

const std::string &Executor::recordStepText() {
  static const std::string text = recordStepSql.str() + recordReturningSql();
  return text;
}

std::string Executor::recordSql(const planner::Step &step, int index, llvm::StringRef status,
                                llvm::StringRef cursor, int64_t rows) {
  using planner::sql::literal;
  return fmt::format("EXECUTE {}({}, {}, {}, {}, {}, {}, {}, {}, {})",
                     recordStepStatementName.str(), literal(step.subsystem), literal(step.version),
                     literal(planner::phaseName(step.phase)), index, literal(status),
                     literal(hashOf(step)), cursor.empty() ? "NULL" : literal(cursor), rows,
                     transactionStartSql);
}

llvm::Error Executor::withRetries(const planner::Step &step,
                                  const std::function<llvm::Error()> &attempt) {
  std::mt19937 rng(std::random_device{}());
  for (unsigned n = 1;; ++n) {
    llvm::Error err = attempt();
    if (!err)
      return llvm::Error::success();
    if (!isLockTimeout(err) || n >= options.maxAttempts)
      return err;
    llvm::consumeError(std::move(err));
    // Exponential backoff with full jitter, capped: the application's queries that queued
    // behind our lock request run while we wait.
    auto cap = std::min<int64_t>(options.retryBase.count() << std::min(n, 6u), 10'000);
    std::uniform_int_distribution<int64_t> jitter(cap / 2, cap);
    auto wait = std::chrono::milliseconds(jitter(rng));
    if (options.log) {
      *options.log << fmt::format("  lock not granted within {} ms on {}: retrying in {} ms "
                                  "(attempt {} of {})\n",
                                  options.lockTimeout.count(),
                                  step.lockTables.empty() ? std::string("the table")
                                                          : "\"" + step.lockTables[0] + "\"",
                                  wait.count(), n + 1, options.maxAttempts);
      options.log->flush();
    }
    std::this_thread::sleep_for(wait);
  }
}

llvm::Error Executor::run(const planner::Step &step, int index, const StepRecord *previous,
                          llvm::StringRef alsoCommit) {
  assert((alsoCommit.empty() || runsInOneTransaction(step, previous)) &&
         "only a transactional step that runs can carry more SQL");
  if (previous && previous->done) {
    if (previous->sqlHash != hashOf(step))
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "step %d of %s@%s (%s) ran with different SQL; the plan changed since it ran "
          "(use --force to re-run the version)",
          index + 1, step.subsystem.c_str(), step.version.c_str(), planner::phaseName(step.phase));
    return llvm::Error::success();
  }
  if (options.record)
    if (llvm::Error err = conn.prepareOnce(recordStepStatementName, recordStepText()))
      return err;
  if (options.beforeHook)
    options.beforeHook(step, "step");
  auto start = std::chrono::steady_clock::now();
  llvm::Error err = llvm::Error::success();
  if (step.isBackfill)
    err = runBackfill(step, index, previous);
  else if (step.transactional)
    err = runTransactional(step, index, alsoCommit);
  else
    err = runNonTransactional(step, index);
  if (err)
    return err;
  logStep(step, index, elapsed(start));
  return llvm::Error::success();
}

void Executor::logStep(const planner::Step &step, int index, llvm::StringRef time) {
  if (!options.log)
    return;
  *options.log << fmt::format("  {}@{} {} step {}: {}{}\n", step.subsystem, step.version,
                              planner::phaseName(step.phase), index + 1, step.reason,
                              time.empty() ? "" : " (" + time.str() + ")");
  // Fix: flushed per step. To a pipe (a CI log, kubectl logs) the lines came out only
  // at exit, and a killed run lost the record of the steps it had completed.
  options.log->flush();
}

std::string Executor::transactionText(const planner::Step &step, int index,
                                      llvm::StringRef alsoCommit, bool waitForDisk) {
  return transactionSql(step, index, alsoCommit, options.lockTimeout, options.record, waitForDisk);
}

std::string Executor::transactionSql(const planner::Step &step, int index,
                                     llvm::StringRef alsoCommit,
                                     std::chrono::milliseconds lockTimeout, bool record,
                                     bool waitForDisk) {
  // The step and its record commit together or not at all. A node's last step commits
  // with the node's record instead of its own: a completed node's steps are never read
  // again, so its last step's row would only cost a statement per version.
  // A scanning step (VALIDATE, a backfill as one UPDATE) is long by nature: lift the
  // statement timeout before it runs, not after.
  std::string text =
      fmt::format("BEGIN;\nSET LOCAL lock_timeout = '{}ms';\n{}{}{};\n", lockTimeout.count(),
                  waitForDisk ? "" : "SET LOCAL synchronous_commit = off;\n",
                  step.scans ? "SET LOCAL statement_timeout = 0;\n" : "", step.sql);
  if (record && alsoCommit.empty())
    text += recordSql(step, index, "done", "", 0) + ";\n";
  if (!alsoCommit.empty())
    text += alsoCommit.str() + ";\n";
  text += "COMMIT";
  return text;
}

size_t Executor::runBatch(llvm::ArrayRef<Pending> items,
                          llvm::function_ref<void(size_t)> committed) {
  if (options.record)
    if (llvm::Error err = conn.prepareOnce(recordStepStatementName, recordStepText())) {
      llvm::consumeError(std::move(err));
      return 0;
    }
  std::string text;
  for (size_t i = 0; i < items.size(); ++i)
    text += transactionText(*items[i].step, items[i].index, items[i].alsoCommit,
                            /*waitForDisk=*/i + 1 == items.size()) +
            ";\n";
  // Each transaction ends with its record, which returns how long the transaction took
  // (the steps' times, for the log), and its COMMIT: the n-th COMMIT is the n-th item's.
  // Nothing else in a transaction's text commits: planned DDL does not, and `check`
  // refuses transaction control in sql blocks.
  std::vector<std::optional<int64_t>> times; // of the transactions that committed
  std::optional<int64_t> ms;
  llvm::Error err = conn.execEach(text, [&](const Result &r) {
    if (r.rows() == 1 && r.cols() > 0 && r.columnName(0) == "strata_ms") {
      int64_t value = 0;
      if (!r.get(0, 0).getAsInteger(10, value))
        ms = value;
    } else if (r.command() == "COMMIT" && times.size() < items.size()) {
      times.push_back(ms);
      ms.reset();
    }
  });
  if (err) {
    llvm::consumeError(std::move(err));
    // The failed statement left its transaction aborted; end it before anything else.
    if (conn.inTransaction())
      if (llvm::Expected<Result> rb = conn.exec("ROLLBACK"); !rb)
        llvm::consumeError(rb.takeError());
    // The transactions that committed did not wait for the disk: a commit that waits
    // (one that wrote something: it has a transaction id) makes them durable. Unless it
    // succeeds, nothing is reported; the caller's next step meets the same failure.
    if (!times.empty())
      if (llvm::Expected<Result> flush = conn.exec("BEGIN; SELECT pg_current_xact_id(); COMMIT");
          !flush) {
        llvm::consumeError(flush.takeError());
        return 0;
      }
  }
  for (size_t i = 0; i < times.size(); ++i) {
    logStep(*items[i].step, items[i].index, times[i] ? millisText(*times[i]) : "");
    committed(i);
  }
  return times.size();
}

llvm::Error Executor::runTransactional(const planner::Step &step, int index,
                                       llvm::StringRef alsoCommit) {
  // One round trip: the step and its record commit together or not at all.
  std::string text = transactionText(step, index, alsoCommit);
  return withRetries(step, [&]() -> llvm::Error {
    llvm::Expected<Result> r = conn.exec(text);
    if (r)
      return llvm::Error::success();
    llvm::Error err = r.takeError();
    // The failed statement left the transaction aborted; end it before anything else.
    if (llvm::Expected<Result> rb = conn.exec("ROLLBACK"); !rb)
      llvm::consumeError(rb.takeError());
    return err;
  });
}

std::optional<std::string> Executor::concurrentIndexOf(const planner::Step &step) {
  static const std::regex createIndex(
      R"re(^CREATE (UNIQUE )?INDEX CONCURRENTLY "((?:[^"]|"")+)")re");
  std::smatch m;
  if (step.transactional || !std::regex_search(step.sql, m, createIndex))
    return std::nullopt;
  std::string name = m[2].str();
  for (size_t at = name.find("\"\""); at != std::string::npos; at = name.find("\"\"", at + 1))
    name.erase(at, 1);
  return name;
}

llvm::Error Executor::runNonTransactional(const planner::Step &step, int index) {
  // A concurrent index build that was interrupted leaves an INVALID index behind: drop it
  // so the build can run again; a VALID one means the build finished before the crash.
  std::optional<std::string> indexName = concurrentIndexOf(step);
  // Fix: the check runs before every attempt, not once before the first. A build whose
  // wait for older transactions hits lock_timeout (PostgreSQL applies it to those waits)
  // also leaves an INVALID index, and the retry then failed with "relation already
  // exists" instead of building it again.
  auto attempt = [&]() -> llvm::Error {
    if (indexName) {
      llvm::Expected<Result> r = conn.execParams(
          "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
          "WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace",
          {std::optional<std::string>(*indexName)});
      if (!r)
        return r.takeError();
      if (r->rows() == 1 && r->get(0, 0) == "t")
        return llvm::Error::success();
      if (r->rows() == 1) {
        if (options.log) {
          *options.log << "  dropping invalid index \"" << *indexName
                       << "\" left by an interrupted build\n";
          options.log->flush();
        }
        // Under lock_timeout like the build: the drop waits for every transaction that
        // uses the table, and must not queue behind one for ever.
        if (auto d = conn.exec("DROP INDEX CONCURRENTLY IF EXISTS " +
                               planner::sql::ident(*indexName));
            !d)
          return d.takeError();
      }
    }
    llvm::Expected<Result> r = conn.exec(step.sql);
    if (!r)
      return r.takeError();
    return llvm::Error::success();
  };
  llvm::Error err = withRetries(step, [&]() -> llvm::Error {
    auto set = conn.exec(fmt::format("SET lock_timeout = '{}ms'; SET statement_timeout = 0",
                                     options.lockTimeout.count()));
    if (!set)
      return set.takeError();
    llvm::Error result = attempt();
    auto reset = conn.exec("RESET lock_timeout; RESET statement_timeout");
    if (!reset)
      llvm::consumeError(reset.takeError());
    return result;
  });
  if (err)
    return err;
  if (!options.record)
    return llvm::Error::success();
  return recordDone(step, index, false);
}

llvm::Error Executor::recordDone(const planner::Step &step, int index, bool) {
  llvm::Expected<Result> r = conn.exec(recordSql(step, index, "done", "", 0));
  if (!r)
    return r.takeError();
  return llvm::Error::success();
}

llvm::Error Executor::runBackfill(const planner::Step &step, int index,
                                  const StepRecord *previous) {
  std::vector<std::string> cursor = previous ? previous->cursor : std::vector<std::string>{};
  int64_t rows = previous ? previous->rowsDone : 0;
  int64_t batch = step.backfill.batchSize > 0 ? step.backfill.batchSize : options.batchSize;
  size_t keys = step.backfill.keyColumns.size();
  auto start = std::chrono::steady_clock::now();
  auto lastDraw = start;
  // The planner's estimate of the table's size gives the ETA; no count(*) scan for it.
  double total = 0;
  if (options.log) {
    llvm::Expected<Result> est = conn.execParams(
        "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass($1)",
        {std::optional<std::string>(planner::sql::ident(step.backfill.table))});
    if (est && est->rows() == 1)
      llvm::StringRef(est->get(0, 0)).getAsDouble(total);
    else if (!est)
      llvm::consumeError(est.takeError());
  }
  for (;;) {
    if (options.beforeHook)
      options.beforeHook(step, "batch");
    std::vector<std::optional<std::string>> params;
    params.push_back(std::string(cursor.empty() ? "true" : "false"));
    for (size_t i = 0; i < keys; ++i)
      params.push_back(cursor.empty() ? std::nullopt
                                      : std::optional<std::string>(cursor[i]));
    params.push_back(std::to_string(batch));
    int64_t updated = 0;
    bool finished = false;
    llvm::Error err = withRetries(step, [&]() -> llvm::Error {
      auto begin = conn.exec(
          fmt::format("BEGIN; SET LOCAL lock_timeout = '{}ms'", options.lockTimeout.count()));
      if (!begin)
        return begin.takeError();
      llvm::Expected<Result> r = conn.execParams(step.sql, params);
      if (!r) {
        llvm::Error e = r.takeError();
        if (auto rb = conn.exec("ROLLBACK"); !rb)
          llvm::consumeError(rb.takeError());
        return e;
      }
      std::vector<std::string> next = cursor;
      finished = r->rows() == 0;
      updated = 0;
      if (!finished) {
        llvm::StringRef(r->get(0, 0)).getAsInteger(10, updated);
        next.clear();
        for (size_t i = 0; i < keys; ++i)
          next.push_back(r->get(0, static_cast<int>(i + 1)).str());
      }
      std::string record =
          options.record ? recordSql(step, index, finished ? "done" : "running", cursorJson(next),
                                     rows + updated)
                         : "SELECT 1";
      auto commit = conn.exec(record + "; COMMIT");
      if (!commit) {
        llvm::Error e = commit.takeError();
        if (auto rb = conn.exec("ROLLBACK"); !rb)
          llvm::consumeError(rb.takeError());
        return e;
      }
      cursor = std::move(next);
      return llvm::Error::success();
    });
    if (err)
      return err;
    rows += updated;
    auto now = std::chrono::steady_clock::now();
    if (options.log && (finished || now - lastDraw > std::chrono::milliseconds(500))) {
      double secs = std::chrono::duration<double>(now - start).count();
      double rate = secs > 0 ? (rows - (previous ? previous->rowsDone : 0)) / secs : 0.0;
      std::string line = fmt::format("  backfill \"{}\": {} rows, {:.0f} rows/s",
                                     step.backfill.table, rows, rate);
      if (!finished && total > rows && rate > 0)
        line += fmt::format(", about {:.0f} s left", (total - rows) / rate);
      if (options.progressBar)
        *options.log << "\r" << line << "\x1b[K" << (finished ? "\n" : "");
      else
        *options.log << line << "\n";
      options.log->flush();
      lastDraw = now;
    }
    if (finished)
      return llvm::Error::success();
    if (options.batchPause.count() > 0)
      std::this_thread::sleep_for(options.batchPause);
  }
}

} // namespace strata::runtime
