// The no-downtime proof of examples/gateway (issue 6), against a real PostgreSQL 15
// (STRATA_TEST_DB, from scripts/pg.sh; skipped without it): the upgrade of a gateway
// from release 0.14.1 to the latest one, under traffic.
//
// 1. A database is bootstrapped at 0.14.1 and filled with tens of thousands of rows
//    (services, routes, consumers, acls, rate-limiting counters), in the 0.14.1 columns.
// 2. Old nodes start: threads, each with its own session, run the 0.14.1 application
//    workload (test/support/Workload.h: inserts, reads and updates of exactly 0.14.1's
//    columns in every table) over and over, and between two runs read and update existing
//    rows by primary key, as a gateway does: `services.retries + 1`, and Kong's
//    rate-limiting upsert `value = value + 1`.
// 3. `up` runs (the Runner, as `strata apply up` does) while they do.
// 4. New nodes start beside the old ones: the same against the latest schema
//    (`max_retries`, the renamed `retries`; counters that are bigint from now on).
// 5. The old nodes stop; `finish` runs while the new nodes go on; they stop.
//
// Asserted: not one statement of either workload failed (each failure is printed with
// PostgreSQL's message); every row either version wrote reads back through the latest
// schema with the values its writer read (renamed columns followed; a null that a `fill`
// replaced must now be non-null); every existing row holds its seeded value plus exactly
// the increments old and new nodes made, through the renamed and the retyped column; the
// acls that `fill` backfilled hold the computed cache_key; and the catalog equals that of
// a database bootstrapped at the latest release (columns compared as a set: a renamed or
// retyped column is re-created, so it ends up last).
//
// Nothing is timed: phases advance when every running client has completed a number of
// rounds, not after a delay.
#include "planner/Sql.h"
#include "runtime/Runner.h"
#include "test/runtime/TestDatabase.h"
#include "test/support/Upgrade.h"
#include "test/support/Workload.h"

#include <gtest/gtest.h>

#include <llvm/ADT/StringExtras.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <unistd.h>

using namespace strata;
using test::Value;

namespace {

const char *const oldRelease =
    "core@0.14.1,key_auth@1.0.0,acl@1.0.0,rate_limiting@1.0.0,oauth2@1.0.0";

// The seeded rows: tens of thousands in all, most in the tables `up` changes.
constexpr int seededServices = 20000;
constexpr int seededRoutes = 20000;
constexpr int seededConsumers = 5000;
constexpr int seededCounters = 40000;

// Clients per version, and the rounds each completes per phase.
constexpr int oldClients = 3;
constexpr int newClients = 2;
constexpr int roundsPerPhase = 3;
// Primary-key reads and updates of seeded rows in a round.
constexpr int keyOpsPerRound = 20;

/// The uuid of the g-th seeded row of a table: deterministic, so that clients can find
/// rows by key without reading them first.
std::string seededUuid(int g) { return fmt::format("00000000-0000-4000-8000-{:012x}", g); }
const char *const seededUuidSql = "('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid";

/// The seed, in 0.14.1's columns. A third of the services have no protocol (1.0.0 makes it
/// NOT NULL with fill ('http')); retries is g % 7 and a counter's value is g.
std::vector<std::string> seedSql() {
  std::string u = seededUuidSql;
  std::string serviceOf = "('00000000-0000-4000-8000-' || lpad(to_hex(g % " +
                          std::to_string(seededServices) + " + 1), 12, '0'))::uuid";
  std::string consumerOf = "('00000000-0000-4000-8000-' || lpad(to_hex(g % " +
                           std::to_string(seededConsumers) + " + 1), 12, '0'))::uuid";
  return {
      fmt::format("INSERT INTO services (id, name, retries, protocol, host, port, path) "
                  "SELECT {}, 'seeded-service-' || g, g % 7, CASE WHEN g % 3 = 0 THEN NULL "
                  "ELSE 'https' END, 'host' || g || '.example', 443, '/' "
                  "FROM generate_series(1, {}) g",
                  u, seededServices),
      fmt::format("INSERT INTO routes (id, service_id, protocols, methods, paths, "
                  "regex_priority, strip_path, preserve_host) "
                  "SELECT {}, {}, '{{http,https}}', '{{GET}}', ARRAY['/r' || g], 0, true, "
                  "false FROM generate_series(1, {}) g",
                  u, serviceOf, seededRoutes),
      fmt::format("INSERT INTO consumers (id, username, custom_id) "
                  "SELECT {}, 'seeded-user-' || g, 'c' || g FROM generate_series(1, {}) g",
                  u, seededConsumers),
      fmt::format("INSERT INTO acls (id, consumer_id, \"group\") "
                  "SELECT {}, {}, 'group-' || (g / {}) FROM generate_series(1, {}) g",
                  u, consumerOf, seededConsumers, seededConsumers * 2),
      fmt::format("INSERT INTO ratelimiting_metrics (identifier, period, period_date, "
                  "service_id, value) "
                  "SELECT 'seeded-' || g, 'minute', timestamptz '2026-01-01 00:00:00+00', {}, g "
                  "FROM generate_series(1, {}) g",
                  serviceOf, seededCounters),
  };
}

/// The statements runWorkload runs for \p w when none fails: per table the inserts, the
/// read back of each inserted row, the updates and the read after them.
int64_t statementsOf(const test::Workload &w) {
  int64_t n = 0;
  for (const test::TableWorkload &t : w.tables) {
    int64_t inserts = t.insertMinimal.empty() ? 1 : 2;
    n += inserts;
    if (!t.keyColumns.empty())
      n += inserts + static_cast<int64_t>(t.updates.size()) + (t.updates.empty() ? 0 : 1);
  }
  return n;
}

/// What a client did: the rows its application workload wrote, the increments it made to
/// seeded rows, and every failure.
struct ClientLog {
  std::vector<test::WorkloadRun> runs;
  std::map<int, int> serviceIncrements; ///< seeded service g -> increments
  std::map<int, int> counterIncrements; ///< seeded counter g -> increments
  std::vector<std::string> failures;
  int64_t statements = 0;
};

/// One node of the gateway: a session that runs a version's workload in rounds until told
/// to stop. Clients partition the seeded rows (g % clients == index), so that each one
/// knows exactly how many increments it made to its rows.
class Client {
public:
  Client(std::string connInfo, const compiler::Schema &schema, bool isNew, int index, int clients)
      : connInfo(std::move(connInfo)), schema(schema), isNew(isNew), index(index),
        clients(clients) {}

  void start() {
    thread = std::thread([this] { loop(); });
  }
  void stop() {
    stopping = true;
    if (thread.joinable())
      thread.join();
  }
  int rounds() const { return completed.load(); }
  /// The client stopped: told to, or it could not connect.
  bool ended() const { return done.load(); }
  const ClientLog &result() const { return log; }
  std::string name() const { return fmt::format("{} client {}", isNew ? "new" : "old", index); }

private:
  void fail(const std::string &what, llvm::Error err) {
    log.failures.push_back(
        fmt::format("{}: {}\n  {}", name(), what, llvm::toString(std::move(err))));
  }

  /// One statement, its own transaction; false (and a failure) when it failed.
  bool run(runtime::Connection &conn, const std::string &sql, const std::vector<Value> &params) {
    ++log.statements;
    llvm::Expected<runtime::Result> r = conn.execParams(sql, params);
    if (!r) {
      fail(sql, r.takeError());
      return false;
    }
    return true;
  }

  void loop() {
    struct Done {
      std::atomic<bool> &flag;
      ~Done() { flag = true; }
    } markDone{done};
    llvm::Expected<runtime::Connection> conn = runtime::Connection::open(connInfo);
    if (!conn) {
      fail("connect", conn.takeError());
      return;
    }
    std::mt19937 random(static_cast<unsigned>(index * 7919 + (isNew ? 1 : 0)));
    std::string retries = isNew ? "max_retries" : "retries";
    std::string increment = fmt::format("UPDATE services SET {0} = {0} + 1 WHERE id = $1", retries);
    std::string readService =
        fmt::format("SELECT id, name, {}, protocol, host FROM services WHERE id = $1", retries);
    // Kong's rate-limiting increment (policy "cluster").
    const std::string upsert =
        "INSERT INTO ratelimiting_metrics (identifier, period, period_date, service_id, value) "
        "VALUES ($1, 'minute', timestamptz '2026-01-01 00:00:00+00', $2, 1) "
        "ON CONFLICT (identifier, period, period_date, service_id) "
        "DO UPDATE SET value = ratelimiting_metrics.value + 1";
    const std::string readCounter =
        "SELECT value FROM ratelimiting_metrics WHERE identifier = $1 AND period = 'minute' "
        "AND period_date = timestamptz '2026-01-01 00:00:00+00' AND service_id = $2";
    auto mine = [&](int limit) {
      int g =
          std::uniform_int_distribution<int>(0, limit / clients - 1)(random) * clients + index + 1;
      return g <= limit ? g : index + 1;
    };
    for (int round = 0; !stopping; ++round) {
      test::WorkloadOptions options;
      // Unique per client and round (a test runs tens of rounds, not 1000): text columns
      // carry "o1_..." or "n3_...", integers a range of their own, below 2^31 since
      // integer columns take them too (a round uses a few hundred values).
      options.tag = fmt::format("{}{}_", isNew ? "n" : "o", index);
      options.firstValue = 1 + (static_cast<int64_t>(index) * 1000 + round % 1000) * 10000;
      llvm::Expected<test::Workload> w = test::generateWorkload(schema, options);
      if (!w) {
        fail("generate the workload", w.takeError());
        return;
      }
      log.statements += statementsOf(*w);
      llvm::Expected<test::WorkloadRun> written = test::runWorkload(*conn, *w);
      if (!written)
        fail("the application workload", written.takeError());
      else
        log.runs.push_back(std::move(*written));
      for (int i = 0; i < keyOpsPerRound; ++i) {
        int s = mine(seededServices);
        if (run(*conn, readService, {seededUuid(s)}) && run(*conn, increment, {seededUuid(s)}))
          ++log.serviceIncrements[s];
        int c = mine(seededCounters);
        std::string identifier = "seeded-" + std::to_string(c);
        std::string service = seededUuid(c % seededServices + 1);
        if (run(*conn, upsert, {identifier, service}))
          ++log.counterIncrements[c];
        run(*conn, readCounter, {identifier, service});
      }
      completed = round + 1;
    }
  }

  std::string connInfo;
  const compiler::Schema &schema;
  bool isNew;
  int index, clients;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::atomic<int> completed{0};
  std::atomic<bool> done{false};
  ClientLog log;
};

class NoDowntime : public testing::Test {
protected:
  void SetUp() override {
    const char *server = std::getenv("STRATA_TEST_DB");
    if (!server || !*server)
      GTEST_SKIP() << "STRATA_TEST_DB is not set (scripts/pg.sh start)";
    serverConnInfo = server;
    p = test::loadUpgrade("examples/gateway", oldRelease, "");
    ASSERT_EQ(p.failure, "");
    renames = test::renamesBetween(p);
  }

  /// Runs \p phase to \p targets on \p connInfo, as `strata apply` does.
  llvm::Error apply(const std::string &connInfo, llvm::ArrayRef<compiler::VersionRef> targets,
                    planner::Phase phase) {
    runtime::RunnerOptions options;
    options.connInfo = connInfo;
    options.targets.assign(targets.begin(), targets.end());
    options.exec.batchSize = 500; // tens of batches over the seeded tables
    llvm::raw_string_ostream log(runLog);
    return test::runPhase(p, options, phase, log);
  }

  /// Waits until every client of \p clients has completed \p rounds more rounds than when
  /// called (or ended: one that cannot connect has a failure the test reports).
  static void waitForRounds(const std::vector<std::unique_ptr<Client>> &clients, int rounds) {
    std::vector<int> start;
    for (const auto &c : clients)
      start.push_back(c->rounds());
    for (size_t i = 0; i < clients.size(); ++i)
      while (clients[i]->rounds() < start[i] + rounds && !clients[i]->ended())
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  /// Reads every row \p log's runs wrote through the latest schema (N) and compares it
  /// with what the writer read: equal values in every column N still has (through
  /// renames); a null that a NOT NULL `fill` replaced must be non-null now.
  void checkWrittenRows(runtime::Connection &conn, const ClientLog &log,
                        const compiler::Schema &writer, bool writerIsNew, const std::string &who) {
    for (const test::WorkloadRun &run : log.runs)
      for (const auto &[table, rows] : run.rows) {
        const compiler::Table *wt = writer.findTable(table);
        std::string nName = writerIsNew ? table : renames.table(table);
        const compiler::Table *nt = p.n.findTable(nName);
        if (!wt || !nt || !wt->primaryKey() || !nt->primaryKey())
          continue; // a table N dropped, or one without a key to find a row by
        std::vector<std::pair<std::string, std::string>> common; // writer column, N column
        for (const compiler::Column &c : wt->columns) {
          std::string nc = writerIsNew ? c.name : renames.column(table, c.name);
          if (nt->findColumn(nc))
            common.push_back({c.name, nc});
        }
        std::vector<std::string> nColumns, nKey;
        for (const auto &[_, nc] : common)
          nColumns.push_back(nc);
        for (const std::string &k : wt->primaryKey()->columns)
          nKey.push_back(writerIsNew ? k : renames.column(table, k));
        for (const test::WrittenRow &row : rows) {
          if (row.key.empty())
            continue;
          llvm::Expected<std::map<std::string, Value>> now =
              test::readRow(conn, nName, nColumns, nKey, row.key);
          if (!now) {
            ADD_FAILURE() << who << ": a row of \"" << table
                          << "\" cannot be read: " << llvm::toString(now.takeError());
            continue;
          }
          ++rowsChecked;
          for (const auto &[wc, nc] : common) {
            auto written = row.read.find(wc);
            if (written == row.read.end())
              continue;
            const Value &read = now->at(nc);
            if (!written->second && nt->findColumn(nc)->notNull) {
              EXPECT_TRUE(read.has_value())
                  << who << ": \"" << nName << "\".\"" << nc << "\" is still null after its fill";
              continue;
            }
            EXPECT_EQ(written->second, read)
                << who << ": \"" << table << "\".\"" << wc << "\" as written, \"" << nName
                << "\".\"" << nc << "\" as read after finish";
          }
        }
      }
  }

  std::string serverConnInfo;
  test::LoadedUpgrade p;
  test::Renames renames;
  std::string runLog;
  int64_t rowsChecked = 0;
};

TEST_F(NoDowntime, GatewayUpgradesUnderOldAndNewTraffic) {
  test::TestDatabase db("a");
  ASSERT_TRUE(db.ok());
  if (llvm::Error err = apply(db.connInfo(), p.from, planner::Phase::Bootstrap))
    FAIL() << "bootstrap of " << oldRelease << ": " << llvm::toString(std::move(err)) << "\n"
           << runLog;
  llvm::Expected<runtime::Connection> admin = runtime::Connection::open(db.connInfo());
  ASSERT_TRUE(bool(admin)) << llvm::toString(admin.takeError());
  for (const std::string &sql : seedSql()) {
    llvm::Expected<runtime::Result> r = admin->exec(sql);
    ASSERT_TRUE(bool(r)) << sql << "\n" << llvm::toString(r.takeError());
  }
  ASSERT_TRUE(bool(admin->exec("ANALYZE")));

  // Old nodes, then up under their traffic.
  std::vector<std::unique_ptr<Client>> oldNodes, newNodes, all;
  int clients = oldClients + newClients;
  for (int i = 0; i < oldClients; ++i)
    oldNodes.push_back(std::make_unique<Client>(db.connInfo(), p.o, false, i, clients));
  for (int i = 0; i < newClients; ++i)
    newNodes.push_back(std::make_unique<Client>(db.connInfo(), p.n, true, oldClients + i, clients));
  for (auto &c : oldNodes)
    c->start();
  waitForRounds(oldNodes, roundsPerPhase);
  int roundsBeforeUp = 0;
  for (const auto &c : oldNodes)
    roundsBeforeUp += c->rounds();
  llvm::Error up = apply(db.connInfo(), p.to, planner::Phase::Up);
  int roundsDuringUp = -roundsBeforeUp;
  for (const auto &c : oldNodes)
    roundsDuringUp += c->rounds();
  std::string upError = up ? llvm::toString(std::move(up)) : "";
  waitForRounds(oldNodes, 1); // at least one whole round after up

  // Old and new nodes side by side; then the old ones stop and finish runs.
  for (auto &c : newNodes)
    c->start();
  waitForRounds(newNodes, roundsPerPhase);
  waitForRounds(oldNodes, roundsPerPhase);
  for (auto &c : oldNodes)
    c->stop();
  std::string finishError;
  if (upError.empty())
    if (llvm::Error err = apply(db.connInfo(), p.to, planner::Phase::Finish))
      finishError = llvm::toString(std::move(err));
  waitForRounds(newNodes, 1); // at least one whole round after finish
  for (auto &c : newNodes)
    c->stop();
  ASSERT_EQ(upError, "") << "up failed:\n" << runLog;
  ASSERT_EQ(finishError, "") << "finish failed:\n" << runLog;

  // Not one failed statement, in either version.
  int64_t statements = 0;
  std::string failures;
  for (const auto *group : {&oldNodes, &newNodes})
    for (const auto &c : *group) {
      statements += c->result().statements;
      for (const std::string &f : c->result().failures)
        failures += f + "\n";
    }
  EXPECT_EQ(failures, "") << "statements of the workloads failed during the upgrade\n"
                          << "--- runner log ---\n"
                          << runLog;
  EXPECT_GT(statements, 0);

  // Every row either version wrote, through the latest schema.
  for (const auto &c : oldNodes)
    checkWrittenRows(*admin, c->result(), p.o, false, c->name());
  for (const auto &c : newNodes)
    checkWrittenRows(*admin, c->result(), p.n, true, c->name());
  EXPECT_GT(rowsChecked, 0);

  // The seeded rows: seed plus every increment, through the renamed and retyped columns.
  std::map<int, int> serviceIncrements, counterIncrements;
  for (const auto *group : {&oldNodes, &newNodes})
    for (const auto &c : *group) {
      for (const auto &[g, n] : c->result().serviceIncrements)
        serviceIncrements[g] += n;
      for (const auto &[g, n] : c->result().counterIncrements)
        counterIncrements[g] += n;
    }
  llvm::Expected<runtime::Result> services =
      admin->exec("SELECT split_part(name, '-', 3)::int, max_retries, protocol FROM services "
                  "WHERE name LIKE 'seeded-service-%' ORDER BY 1");
  ASSERT_TRUE(bool(services)) << llvm::toString(services.takeError());
  ASSERT_EQ(services->rows(), seededServices);
  int wrong = 0;
  for (int r = 0; r < services->rows(); ++r) {
    int g = std::stoi(services->get(r, 0).str());
    std::string expected = std::to_string(g % 7 + serviceIncrements[g]);
    std::string protocol = g % 3 == 0 ? "http" : "https";
    if (services->get(r, 1) != expected || services->get(r, 2) != protocol)
      ADD_FAILURE() << "seeded service " << g << ": max_retries " << services->get(r, 1).str()
                    << ", protocol " << services->get(r, 2).str() << "; expected " << expected
                    << ", " << protocol << (++wrong > 10 ? " (and more)" : "");
    if (wrong > 10)
      break;
  }
  llvm::Expected<runtime::Result> counters =
      admin->exec("SELECT substr(identifier, 8)::int, value, pg_typeof(value)::text "
                  "FROM ratelimiting_metrics WHERE identifier LIKE 'seeded-%' ORDER BY 1");
  ASSERT_TRUE(bool(counters)) << llvm::toString(counters.takeError());
  ASSERT_EQ(counters->rows(), seededCounters);
  wrong = 0;
  for (int r = 0; r < counters->rows(); ++r) {
    int g = std::stoi(counters->get(r, 0).str());
    std::string expected = std::to_string(g + counterIncrements[g]);
    if (counters->get(r, 1) != expected || counters->get(r, 2) != "bigint")
      ADD_FAILURE() << "seeded counter " << g << ": " << counters->get(r, 1).str() << " ("
                    << counters->get(r, 2).str() << "), expected " << expected << " (bigint)"
                    << (++wrong > 10 ? " (and more)" : "");
    if (wrong > 10)
      break;
  }
  // cache_key: computed by the backfill on the seeded acls, and by the fill trigger on
  // the acls old nodes inserted during the upgrade (new nodes write their own). A fill
  // fills nulls only: an old node that later changes "group" leaves the cache_key of the
  // group the row was inserted with (the workload does; reported, not failed), and a
  // row without a group gets none (the expression is null).
  std::vector<std::string> oldAcls;
  for (const auto &c : oldNodes)
    for (const test::WorkloadRun &run : c->result().runs)
      if (auto acls = run.rows.find("acls"); acls != run.rows.end())
        for (const test::WrittenRow &row : acls->second)
          if (!row.key.empty() && row.key[0])
            oldAcls.push_back(*row.key[0]);
  EXPECT_FALSE(oldAcls.empty());
  llvm::Expected<runtime::Result> acls = admin->execParams(
      "SELECT count(*) FILTER (WHERE \"group\" LIKE 'group-%'), "
      "count(*) FILTER (WHERE \"group\" LIKE 'group-%' AND cache_key IS DISTINCT FROM "
      "'acls:' || consumer_id || ':' || \"group\"), "
      "count(*) FILTER (WHERE id = ANY($1::uuid[])), "
      "count(*) FILTER (WHERE id = ANY($1::uuid[]) AND cache_key IS NULL AND "
      "\"group\" IS NOT NULL), "
      "count(*) FILTER (WHERE id = ANY($1::uuid[]) AND cache_key IS DISTINCT FROM "
      "'acls:' || consumer_id || ':' || \"group\") FROM acls",
      {"{" + llvm::join(oldAcls, ",") + "}"});
  ASSERT_TRUE(bool(acls)) << llvm::toString(acls.takeError());
  EXPECT_EQ(acls->get(0, 0).str(), std::to_string(seededConsumers * 2));
  EXPECT_EQ(acls->get(0, 1).str(), "0") << "seeded acls whose cache_key the backfill missed";
  EXPECT_EQ(acls->get(0, 2).str(), std::to_string(oldAcls.size()));
  EXPECT_EQ(acls->get(0, 3).str(), "0") << "acls of old nodes with a group and no cache_key";
  std::cout << "[  NOTE    ] " << acls->get(0, 4).str() << " of " << oldAcls.size()
            << " acls of old nodes have the cache_key of the group they were inserted with "
               "(fill fills nulls; old nodes then changed the group)\n";
  EXPECT_EQ(test::query(*admin, "SELECT count(*) FROM routes WHERE paths[1] LIKE '/r%'"),
            std::to_string(seededRoutes));

  // The catalog of a database bootstrapped at the latest release.
  std::string upgraded = test::catalogOf(*admin);
  test::TestDatabase fresh("b");
  ASSERT_TRUE(fresh.ok());
  if (llvm::Error err = apply(fresh.connInfo(), p.to, planner::Phase::Bootstrap))
    FAIL() << "bootstrap of the latest release: " << llvm::toString(std::move(err));
  llvm::Expected<runtime::Connection> freshConn = runtime::Connection::open(fresh.connInfo());
  ASSERT_TRUE(bool(freshConn)) << llvm::toString(freshConn.takeError());
  std::string bootstrapped = test::catalogOf(*freshConn);
  EXPECT_EQ(test::withoutColumnOrder(bootstrapped), test::withoutColumnOrder(upgraded))
      << "the upgraded catalog (right) is not that of bootstrap (left)";
  std::cout << "[  NOTE    ] " << statements << " statements by " << clients << " clients; "
            << rowsChecked << " written rows read back after finish; old clients completed "
            << roundsDuringUp << " rounds while up ran\n";
  if (bootstrapped != upgraded)
    std::cout << "[  NOTE    ] columns in another order than bootstrap:\n"
              << test::columnOrderDiff(bootstrapped, upgraded);
}

} // namespace
