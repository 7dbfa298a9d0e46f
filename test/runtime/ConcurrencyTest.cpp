// Concurrency against a real PostgreSQL 15 (issue #8, item 4):
//
// - eight `strata apply` processes started at once on one database: exactly one runs each
//   step, the others wait for it within --lock-timeout and find the work done, or give up
//   with a clear message when --lock-timeout is shorter than the run; strata_steps has
//   each step once, every backfill touched each row once, and the catalog and data equal
//   an uninterrupted run's;
// - `strata status --format json` run over and over while bootstrap, up and finish run:
//   every answer parses, lists each version exactly once, and no version ever goes back
//   (new -> pending finish -> executed), so a reader never sees a torn state.
#include "test/runtime/ApplyHelpers.h"
#include "test/runtime/TestDatabase.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <map>
#include <memory>

using namespace strata;
using namespace strata::test;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

// A function of ApplyHelpers.h named like the namespace: found here first.
using test::strata;

class ConcurrencyTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (!serverConnInfo())
      GTEST_SKIP() << "STRATA_TEST_DB is not set (run scripts/test.sh)";
  }
};

/// Starts \p n copies of `strata ARGS` at once and waits for all of them.
std::vector<Outcome> runAtOnce(int n, const std::vector<std::string> &args) {
  std::vector<std::unique_ptr<StrataProcess>> processes;
  for (int i = 0; i < n; ++i)
    processes.push_back(std::make_unique<StrataProcess>(args));
  std::vector<Outcome> out;
  for (auto &p : processes)
    out.push_back(p->wait());
  return out;
}

/// How many lines of \p text contain \p what.
int linesWith(const std::string &text, const std::string &what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

TEST_F(ConcurrencyTest, EightAppliesAtOnceRunEachStepOnce) {
  TestDatabase db("conc");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(crashProject);
  LoadedProject project = load("crash.strata", crashProject);
  ASSERT_TRUE(project.project);
  BackfillSteps backfills = crashBackfillSteps(project);
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  ASSERT_EQ(strata(dir, db, {"apply", "bootstrap", "--to", "app@1.0.0"}).exitCode, 0);
  const int rows = 3000;
  ASSERT_TRUE(query(*conn, seedCrashRows(rows)));

  for (const char *phase : {"up", "finish"}) {
    SCOPED_TRACE(phase);
    std::vector<std::string> args = {"apply", phase, "--batch-size", "100", "--batch-pause", "5",
                                     "--lock-timeout", "120"};
    if (std::string(phase) == "finish")
      args.push_back("--yes");
    std::vector<Outcome> outcomes = runAtOnce(8, withDb(dir, db, args));
    int ran = 0, waited = 0;
    std::string all;
    for (const Outcome &o : outcomes) {
      EXPECT_EQ(o.exitCode, 0) << show(o);
      all += o.out;
      if (o.out.find(" step ") != std::string::npos) {
        ++ran;
        continue;
      }
      // The others did nothing but find the work done, after waiting or not.
      EXPECT_THAT(o.out, ::testing::AnyOf(HasSubstr("already up to date"),
                                          HasSubstr("no versions pending finish")))
          << show(o);
      waited += o.out.find("waiting for another strata apply to finish") != std::string::npos;
    }
    EXPECT_EQ(ran, 1) << "steps ran in more than one process";
    // Each step of the phase once, in all the output together.
    std::string stepsSql = "SELECT count(*) FROM strata_steps WHERE version = '1.1.0' AND phase "
                           "= '" + std::string(phase) + "'";
    int steps = std::stoi(query(*conn, stepsSql).value_or("0"));
    EXPECT_GT(steps, 0);
    for (int i = 1; i <= steps; ++i)
      EXPECT_EQ(linesWith(all, "app@1.1.0 " + std::string(phase) + " step " + std::to_string(i) +
                                   ":"),
                1)
          << "step " << i << " reported " << linesWith(all, "step " + std::to_string(i) + ":")
          << " times";
    EXPECT_EQ(query(*conn, stepsSql + " AND status = 'done'"), std::to_string(steps));
    EXPECT_EQ(backfillInvariant(*conn, backfills), "");
    std::cerr << "[ info ] 8 x apply " << phase << ": 1 ran " << steps << " steps, " << waited
              << " waited for it, " << 7 - waited << " found it done without waiting\n";
  }
  EXPECT_EQ(query(*conn, "SELECT string_agg(rows_done::text, ',' ORDER BY step) FROM "
                         "strata_steps WHERE cursor IS NOT NULL"),
            "3000,3000");
  EXPECT_EQ(recordedNodes(*conn), "app@1.0.0 executed\napp@1.1.0 executed");
  EXPECT_EQ(snapshot(*conn), referenceSnapshot(dir, seedCrashRows(rows), true));
}

TEST_F(ConcurrencyTest, EightAppliesWithAShortLockTimeoutFailClearly) {
  TestDatabase db("conc");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(crashProject);
  LoadedProject project = load("crash.strata", crashProject);
  ASSERT_TRUE(project.project);
  BackfillSteps backfills = crashBackfillSteps(project);
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  ASSERT_EQ(strata(dir, db, {"apply", "bootstrap", "--to", "app@1.0.0"}).exitCode, 0);
  const int rows = 3000;
  ASSERT_TRUE(query(*conn, seedCrashRows(rows)));

  // The run takes a few seconds (60 batches, 40 ms apart); the others wait 0.5 s at most.
  std::vector<Outcome> outcomes =
      runAtOnce(8, withDb(dir, db, {"apply", "up", "--batch-size", "100", "--batch-pause", "40",
                                    "--lock-timeout", "0.5"}));
  int ran = 0, gaveUp = 0, foundDone = 0;
  for (const Outcome &o : outcomes) {
    EXPECT_EQ(o.signal, 0) << show(o);
    if (o.out.find(" step ") != std::string::npos) {
      ++ran;
      EXPECT_EQ(o.exitCode, 0) << show(o);
      EXPECT_THAT(o.out, HasSubstr("app@1.1.0 migrated up: pending finish"));
      continue;
    }
    if (o.exitCode == 0) {
      // Started late enough to get the lock after the winner: nothing left to do.
      EXPECT_THAT(o.out, HasSubstr("already up to date")) << show(o);
      ++foundDone;
      continue;
    }
    ++gaveUp;
    EXPECT_EQ(o.exitCode, 1) << show(o);
    // One line, naming the holder and the option.
    EXPECT_THAT(o.err, HasSubstr("strata: error: another strata apply is running on this "
                                 "database (backend pid "))
        << show(o);
    EXPECT_THAT(o.err, HasSubstr("gave up after waiting 0.5 s (--lock-timeout)")) << show(o);
    EXPECT_EQ(linesWith(o.err, "\n"), 1) << show(o);
  }
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(ran + gaveUp + foundDone, 8);
  EXPECT_EQ(query(*conn, "SELECT count(*) || ' ' || count(*) FILTER (WHERE status = 'done') "
                         "FROM strata_steps WHERE version = '1.1.0' AND phase = 'up'"),
            "7 7");
  EXPECT_EQ(backfillInvariant(*conn, backfills), "");
  std::cerr << "[ info ] 8 x apply up --lock-timeout 0.5: 1 ran, " << gaveUp << " gave up, "
            << foundDone << " found it done\n";
}

// --- status during an apply -----------------------------------------------------------------

/// Where a version is: new 0, its up under way 1, pending finish 2, its finish under way 3,
/// executed 4.
using Ranks = std::map<std::string, int>;

/// Reads one `status --format json`; "" when it is consistent, else why not.
std::string readStatus(const Outcome &o, Ranks &ranks, bool &needsBootstrap) {
  nlohmann::json j = nlohmann::json::parse(o.out, nullptr, false);
  if (!j.is_object())
    return "not JSON";
  needsBootstrap = j.value("needs_bootstrap", false);
  if (j["status"] != o.exitCode)
    return "status " + j["status"].dump() + " but exit code " + std::to_string(o.exitCode);
  ranks.clear();
  for (const auto &s : j["subsystems"]) {
    std::string name = s["subsystem"];
    std::pair<const char *, int> lists[] = {{"new", 0}, {"pending_finish", 2}, {"executed", 4}};
    for (const auto &[list, rank] : lists)
      for (const auto &v : s[list]) {
        std::string key = name + "@" + v.get<std::string>();
        if (ranks.count(key))
          return key + " is in two lists";
        ranks[key] = rank;
      }
    if (!s["changed"].empty() || !s["unknown"].empty())
      return name + ": changed or unknown versions";
  }
  // A version the apply is in the middle of (status 8), running, not cut short.
  for (const auto &i : j["interrupted"]) {
    std::string key = i["subsystem"].get<std::string>() + "@" + i["version"].get<std::string>();
    if (ranks.count(key))
      return key + " is interrupted and in a list";
    ranks[key] = i["phase"] == "finish" ? 3 : 1;
  }
  if ((o.exitCode == 8) != !j["interrupted"].empty())
    return "exit code " + std::to_string(o.exitCode) + " with " + j["interrupted"].dump();
  return "";
}

TEST_F(ConcurrencyTest, StatusDuringAnApplyReadsAConsistentState) {
  TestDatabase db("conc");
  ASSERT_TRUE(db.ok());
  const std::string gateway = std::string(STRATA_SOURCE_DIR) + "/examples/gateway";
  auto args = [&](std::vector<std::string> a) {
    a.insert(a.end(), {"-s", gateway, "--db", db.connInfo()});
    return a;
  };
  const std::string baseline = "core@0.14.1,acl@1.0.0,key_auth@1.0.0,oauth2@1.0.0,"
                               "rate_limiting@1.0.0";
  std::map<int, int> exitCodes;
  int reads = 0;
  Ranks last;
  bool lastNeedsBootstrap = true;

  // Polls status while \p apply runs (and once after): every answer consistent, and no
  // version going back.
  auto watch = [&](StrataProcess &apply, const char *what) {
    for (bool running = true; running;) {
      running = !apply.outputClosed();
      Outcome o = runStrata(args({"status", "--format", "json"}));
      ++reads;
      ++exitCodes[o.exitCode];
      ASSERT_TRUE(o.exitCode == 0 || o.exitCode == 3 || o.exitCode == 4 || o.exitCode == 5 ||
                  o.exitCode == 8)
          << what << ": " << show(o);
      Ranks now;
      bool needsBootstrap = true;
      std::string problem = readStatus(o, now, needsBootstrap);
      ASSERT_EQ(problem, "") << what << ": " << show(o);
      // Bootstrapped is for good.
      EXPECT_FALSE(needsBootstrap && !lastNeedsBootstrap) << what << ": " << show(o);
      if (!needsBootstrap && !lastNeedsBootstrap) {
        for (const auto &[version, rank] : last)
          EXPECT_GE(now[version], rank) << what << ": " << version << " went back\n" << show(o);
      }
      last = now;
      lastNeedsBootstrap = needsBootstrap;
    }
    Outcome done = apply.wait();
    ASSERT_EQ(done.exitCode, 0) << what << ": " << show(done);
  };

  {
    StrataProcess bootstrap(args({"apply", "bootstrap", "--to", baseline}));
    watch(bootstrap, "bootstrap");
  }
  EXPECT_FALSE(lastNeedsBootstrap);
  {
    StrataProcess up(args({"apply", "up"}));
    watch(up, "up");
  }
  {
    StrataProcess finish(args({"apply", "finish", "--yes"}));
    watch(finish, "finish");
  }
  for (const auto &[version, rank] : last)
    EXPECT_EQ(rank, 4) << version << " not executed at the end";
  std::string codes;
  for (const auto &[code, n] : exitCodes)
    codes += " " + std::to_string(n) + " x " + std::to_string(code);
  std::cerr << "[ info ] " << reads << " status reads during bootstrap, up and finish; exit "
            << "codes:" << codes << "\n";
}

} // namespace
