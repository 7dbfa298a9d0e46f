// Helpers of the integration tests of `strata apply` (ApplyTest, FaultTest,
// ConcurrencyTest): the crash project and its rows, running the real executable on a
// test database, the Runner in a child process that kills itself at a boundary, and
// snapshots of everything a run could change (catalog and data) to compare with an
// uninterrupted reference run.
//
// Header-only and test-only: every failure is a gtest failure, never an exception.
#pragma once

#include "compiler/Compilation.h"
#include "planner/Planner.h"
#include "planner/VersionGraph.h"
#include "runtime/Inspector.h"
#include "runtime/Runner.h"
#include "test/runtime/TestDatabase.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>

namespace strata::test {

using Outcome = StrataProcess::Outcome;
using namespace std::chrono_literals;

/// A version with every kind of step: DDL in a transaction, a trigger, two backfills (the
/// second one, n = n + 1, is not idempotent: a batch applied twice shows in the data), a
/// NOT VALID check and its validation, a concurrent index build.
inline const char *const crashProject = R"(
subsystem app {
  version "1.0.0" {
    table t {
      id bigint primary key
      a  integer not null  // the fill of c reads it (C215 if it could be null)
      n  integer
      b  text
    }
  }
  version "1.1.0" {
    alter table t {
      add column c integer not null fill ((a * 2))
      add index t_b_idx (b)
    }
    backfill t set n = ((n + 1))
  }
}
)";

/// Rows for crashProject's table t: n = id, so n = id + 1 after the backfill ran exactly
/// once over a row.
inline std::string seedCrashRows(int rows) {
  return "INSERT INTO t (id, a, n, b) SELECT g, g % 1000, g, md5(g::text) FROM "
         "generate_series(1, " +
         std::to_string(rows) + ") g";
}

// --- helpers ----------------------------------------------------------------------------

/// `strata ARGS -s DIR --db CONNINFO`.
inline Outcome strata(const ProjectDir &dir, const TestDatabase &db, std::vector<std::string> args) {
  args.insert(args.end(), {"-s", dir.path(), "--db", db.connInfo()});
  return test::runStrata(args);
}

inline std::vector<std::string> withDb(const ProjectDir &dir, const TestDatabase &db,
                                std::vector<std::string> args) {
  args.insert(args.end(), {"-s", dir.path(), "--db", db.connInfo()});
  return args;
}

/// Everything a run could change, as text: the catalog of the public schema (strata's own
/// tables left out) with invalid indexes and unvalidated constraints, and the data of t.
inline std::string snapshot(runtime::Connection &conn) {
  runtime::InspectOptions options;
  llvm::Expected<runtime::Inspection> inspection = runtime::inspect(conn, options);
  if (!inspection) {
    ADD_FAILURE() << llvm::toString(inspection.takeError());
    return "";
  }
  std::string out = runtime::describeSchema(inspection->schema);
  for (const runtime::InvalidIndex &i : inspection->invalidIndexes)
    out += "INVALID index " + i.index.name + " on " + i.table + "\n";
  for (const runtime::ConstraintRef &c : inspection->notValidConstraints)
    out += "NOT VALID constraint " + c.name + " on " + c.table + "\n";
  out += "functions: " +
         query(conn, "SELECT coalesce(string_agg(proname, ',' ORDER BY proname), '') FROM "
                     "pg_proc WHERE pronamespace = 'public'::regnamespace")
             .value_or("?") +
         "\n";
  out += "triggers: " +
         query(conn, "SELECT coalesce(string_agg(tgname, ',' ORDER BY tgname), '') FROM "
                     "pg_trigger WHERE NOT tgisinternal")
             .value_or("?") +
         "\n";
  out += "data of t: " +
         query(conn, "SELECT count(*) || ' rows, md5 ' || md5(string_agg(t::text, ',' ORDER BY "
                     "id)) FROM t")
             .value_or("?") +
         "\n";
  return out;
}

/// The recorded nodes of the project (strata's own left out), one "subsystem@version
/// status" per line.
inline std::string recordedNodes(runtime::Connection &conn) {
  return query(conn, "SELECT string_agg(subsystem || '@' || version || ' ' || status, E'\\n' "
                     "ORDER BY subsystem, version) FROM strata_nodes WHERE subsystem <> "
                     "'strata'")
      .value_or("?");
}

/// A project compiled in this process, for running the Runner in a child process.
struct LoadedProject {
  std::unique_ptr<compiler::Compilation> compilation;
  const compiler::Project *project = nullptr;
  std::unique_ptr<planner::VersionGraph> graph;
};

inline LoadedProject load(const std::string &name, const std::string &text) {
  LoadedProject p;
  p.compilation = std::make_unique<compiler::Compilation>();
  p.compilation->addSource(name, text);
  p.project = p.compilation->run();
  if (!p.project) {
    std::string diags;
    llvm::raw_string_ostream os(diags);
    p.compilation->diagnostics().render(os, false);
    ADD_FAILURE() << "the project does not compile:\n" << os.str();
    return p;
  }
  p.graph = std::make_unique<planner::VersionGraph>(*p.project);
  return p;
}

inline std::string readFile(const std::string &path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

enum class RunPhase { Bootstrap, Up, Finish };

/// Runs \p phase with the Runner in a child process that SIGKILLs itself when, within
/// that run, it is about to start its second step or its third backfill batch: so every
/// run completes exactly one step (or two batches) and dies at the next boundary, with
/// its connections open. Returns the child's wait status.
inline int runAndDieAtNextBoundary(const LoadedProject &p, const std::string &connInfo, RunPhase phase,
                            int64_t batchSize) {
  pid_t pid = fork();
  if (pid != 0) {
    int status = 0;
    if (pid > 0)
      waitpid(pid, &status, 0);
    return status;
  }
  // The child: no gtest here; it ends with _exit (or the signal), never returning into
  // the test, so the parent's connections stay untouched.
  runtime::RunnerOptions options;
  options.connInfo = connInfo;
  options.runnerLockWait = 20s;
  options.exec.batchSize = batchSize;
  int steps = 0, batches = 0;
  options.exec.beforeHook = [&](const planner::Step &, const char *what) {
    bool die = std::strcmp(what, "step") == 0 ? ++steps == 2 : ++batches == 3;
    if (die)
      raise(SIGKILL);
  };
  std::string log;
  llvm::raw_string_ostream logStream(log);
  runtime::Runner runner(
      *p.project, *p.graph, [](compiler::SourceRange) { return std::string(); }, options,
      logStream);
  llvm::Error err = phase == RunPhase::Bootstrap ? runner.bootstrap()
                    : phase == RunPhase::Up      ? runner.up()
                                                 : runner.finish();
  if (err) {
    std::string message = llvm::toString(std::move(err));
    fprintf(stderr, "child run failed: %s\n", message.c_str());
    _exit(1);
  }
  _exit(0);
}

/// How far a phase got: done steps, and rows done by backfills.
inline std::pair<int64_t, int64_t> progress(runtime::Connection &conn, const std::string &phase) {
  std::string done = query(conn, "SELECT count(*) FROM strata_steps WHERE status = 'done' AND "
                                 "phase = '" +
                                     phase + "'")
                         .value_or("-1");
  std::string rows = query(conn, "SELECT coalesce(sum(rows_done), 0) FROM strata_steps WHERE "
                                 "phase = '" +
                                     phase + "'")
                         .value_or("-1");
  return {std::stoll(done), std::stoll(rows)};
}

/// Polls \p sql until it returns "t"; false after \p timeout.
inline bool waitUntil(runtime::Connection &conn, const std::string &sql,
               std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::optional<std::string> v = query(conn, sql);
    if (!v)
      return false;
    if (*v == "t")
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

/// The steps of crashProject's `up` that are its two backfills, as the plan numbers them:
/// the fill of c, and n = n + 1.
struct BackfillSteps {
  int fillC = -1, bumpN = -1;
};

inline BackfillSteps crashBackfillSteps(const LoadedProject &project) {
  BackfillSteps out;
  planner::PlanRequest request;
  request.start = planner::startingPointFrom(*project.graph, {compiler::VersionRef{0, 0}});
  llvm::Expected<planner::Plan> plan =
      planner::makePlan(*project.project, *project.graph, request,
                        [](compiler::SourceRange) { return std::string(); });
  if (!plan) {
    ADD_FAILURE() << llvm::toString(plan.takeError());
    return out;
  }
  for (size_t i = 0; i < plan->steps.size(); ++i)
    if (plan->steps[i].isBackfill)
      (llvm::StringRef(plan->steps[i].backfill.set).startswith("\"c\"") ? out.fillC
                                                                          : out.bumpN) =
          static_cast<int>(i);
  EXPECT_GE(out.fillC, 0);
  EXPECT_GE(out.bumpN, 0);
  return out;
}

/// Whether crashProject's backfills counted exactly the rows they changed, whenever they
/// were interrupted: no batch lost, none applied twice (n = n + 1 shows a second run).
/// "" when they did, else what differs.
inline std::string backfillInvariant(runtime::Connection &conn, const BackfillSteps &steps) {
  auto rowsDone = [&](int step) {
    return "coalesce((SELECT rows_done FROM strata_steps WHERE phase = 'up' AND step = " +
           std::to_string(step) + "), 0)";
  };
  // Killed before the step that adds c committed: there is no c to count yet.
  bool hasC = query(conn, "SELECT count(*) FROM pg_attribute WHERE attrelid = 't'::regclass AND "
                          "attname = 'c' AND NOT attisdropped") == "1";
  std::string sql = "SELECT concat_ws(' ', " + rowsDone(steps.fillC) + ", " +
                    (hasC ? "(SELECT count(*) FROM t WHERE c IS NOT NULL)" : "0") + ", " +
                    rowsDone(steps.bumpN) +
                    ", (SELECT count(*) FROM t WHERE n = id + 1), (SELECT count(*) FROM t "
                    "WHERE n > id + 1))";
  std::string v = query(conn, sql).value_or("? ? ? ? ?");
  llvm::SmallVector<llvm::StringRef, 5> f;
  llvm::StringRef(v).split(f, ' ');
  if (f.size() != 5)
    return "unreadable: " + v;
  std::string out;
  if (f[0] != f[1])
    out += "fill of c recorded " + f[0].str() + " rows, " + f[1].str() + " filled; ";
  if (f[2] != f[3])
    out += "n = n + 1 recorded " + f[2].str() + " rows, " + f[3].str() + " bumped once; ";
  if (f[4] != "0")
    out += f[4].str() + " rows bumped twice; ";
  return out;
}

/// The reference: the same project, seed and runs on another database, never interrupted.
inline std::string referenceSnapshot(const ProjectDir &dir, const std::string &seed, bool finish) {
  TestDatabase ref("ref");
  if (!ref.ok())
    return "";
  std::optional<runtime::Connection> conn = ref.connect();
  if (!conn)
    return "";
  Outcome o = strata(dir, ref, {"apply", "bootstrap", "--to", "app@1.0.0"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
  if (!seed.empty())
    query(*conn, seed);
  o = strata(dir, ref, {"apply", "up"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
  if (finish) {
    o = strata(dir, ref, {"apply", "finish", "--yes"});
    EXPECT_EQ(o.exitCode, 0) << show(o);
  }
  return snapshot(*conn);
}

} // namespace strata::test
