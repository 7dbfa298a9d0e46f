#include "runtime/StateStore.h"

#include "compiler/Compilation.h"
#include "planner/Planner.h"
#include "planner/Sql.h"
#include "runtime/Executor.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

namespace strata::runtime {

namespace {
llvm::Error failure(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string clientName() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0)
    host[0] = 0;
  return fmt::format("{} pid {}", host, getpid());
}
} // namespace

llvm::Expected<StateStore::Creation> StateStore::creation() {
  compiler::Compilation compilation;
  compilation.addSource("<strata>/schemas/strata.strata", stateSchemaSource());
  const compiler::Project *project = compilation.run();
  if (!project)
    return failure("strata's own state schema does not compile");
  planner::VersionGraph graph(*project);
  planner::PlanRequest request;
  request.phase = planner::Phase::Bootstrap;
  llvm::Expected<planner::Plan> plan =
      planner::makePlan(*project, graph, request, [](compiler::SourceRange) { return ""; });
  if (!plan)
    return plan.takeError();
  Creation out;
  for (const planner::Step &step : plan->steps)
    out.statements.push_back(step.sql);
  for (compiler::VersionRef node : graph.closure({{0, project->subsystems[0].latest()}}))
    out.nodes.push_back({stateSubsystem, project->at(node).text, project->at(node).checksum, true});
  return out;
}

llvm::Error StateStore::ensure(llvm::StringRef strataVersion) {
  compiler::Compilation compilation;
  compilation.addSource("<strata>/schemas/strata.strata", stateSchemaSource());
  const compiler::Project *project = compilation.run();
  if (!project) {
    std::string text;
    llvm::raw_string_ostream os(text);
    compilation.diagnostics().render(os, false);
    return failure("strata's own state schema does not compile:\n" + os.str());
  }
  planner::VersionGraph graph(*project);
  const compiler::Subsystem &own = project->subsystems[0];
  unsigned latest = own.latest();
  auto none = [](compiler::SourceRange) { return std::string(); };

  llvm::Expected<bool> present = exists();
  if (!present)
    return present.takeError();
  std::vector<std::pair<planner::Phase, planner::PlanRequest>> runs;
  if (!*present) {
    // Fix: created in one transaction, with strata's own record. Step by step, a run
    // killed between the two tables (or before the record) left tables that every later
    // run tried to create again ("relation already exists"), for good.
    planner::PlanRequest request;
    request.phase = planner::Phase::Bootstrap;
    llvm::Expected<planner::Plan> plan = planner::makePlan(*project, graph, request, none);
    if (!plan)
      return plan.takeError();
    std::string text = "BEGIN;\n";
    for (const planner::Step &step : plan->steps) {
      assert(step.transactional && "strata's own tables are created in one transaction");
      text += step.sql + ";\n";
    }
    if (llvm::Expected<Result> r = conn.exec(text); !r) {
      llvm::Error err = r.takeError();
      if (auto rb = conn.exec("ROLLBACK"); !rb)
        llvm::consumeError(rb.takeError());
      return err;
    }
    for (compiler::VersionRef node : graph.closure({{0, latest}}))
      if (llvm::Error err = recordNode({stateSubsystem, project->at(node).text,
                                        project->at(node).checksum, true},
                                       "bootstrap", 0, strataVersion)) {
        if (auto rb = conn.exec("ROLLBACK"); !rb)
          llvm::consumeError(rb.takeError());
        return err;
      }
    if (llvm::Expected<Result> r = conn.exec("COMMIT"); !r)
      return r.takeError();
    return llvm::Error::success();
  }
  llvm::Expected<Result> r = conn.exec(
      "SELECT version, checksum FROM strata_nodes WHERE subsystem = 'strata'");
  if (!r)
    return r.takeError();
  std::vector<compiler::VersionRef> done;
  for (int i = 0; i < r->rows(); ++i)
    if (auto v = own.findVersion(r->get(i, 0)))
      done.push_back({0, *v});
  if (llvm::is_contained(done, compiler::VersionRef{0, latest}))
    return llvm::Error::success();
  // An older strata made these tables: upgrade them, both phases at once (nothing but
  // strata itself uses them).
  planner::PlanRequest up;
  up.phase = planner::Phase::Up;
  up.start = planner::startingPointFrom(graph, done);
  planner::PlanRequest finish = up;
  finish.phase = planner::Phase::Finish;
  runs.push_back({planner::Phase::Up, up});
  runs.push_back({planner::Phase::Finish, finish});

  ExecOptions options;
  options.record = false;
  Executor executor(conn, options);
  for (auto &[phase, request] : runs) {
    llvm::Expected<planner::Plan> plan = planner::makePlan(*project, graph, request, none);
    if (!plan)
      return plan.takeError();
    for (size_t i = 0; i < plan->steps.size(); ++i)
      if (llvm::Error err = executor.run(plan->steps[i], static_cast<int>(i), nullptr))
        return err;
  }
  for (compiler::VersionRef node : graph.closure({{0, latest}}))
    if (llvm::Error err = recordNode({stateSubsystem, project->at(node).text,
                                      project->at(node).checksum, true},
                                     "bootstrap", 0, strataVersion))
      return err;
  return llvm::Error::success();
}

namespace {
/// Rows of strata_steps, as steps() and startedSteps() select them.
std::map<StepKey, StepRecord> readSteps(const Result &r) {
  std::map<StepKey, StepRecord> out;
  for (int i = 0; i < r.rows(); ++i) {
    StepKey key{r.get(i, 0).str(), r.get(i, 1).str(), r.get(i, 2).str(), 0};
    llvm::StringRef(r.get(i, 3)).getAsInteger(10, key.step);
    StepRecord record;
    record.done = r.get(i, 4) == "done";
    record.sqlHash = r.get(i, 5).str();
    if (!r.isNull(i, 6)) {
      nlohmann::json cursor = nlohmann::json::parse(r.get(i, 6).str(), nullptr, false);
      if (cursor.is_array())
        for (const auto &v : cursor)
          if (v.is_string())
            record.cursor.push_back(v.get<std::string>());
    }
    llvm::StringRef(r.get(i, 7)).getAsInteger(10, record.rowsDone);
    out[key] = std::move(record);
  }
  return out;
}
} // namespace

llvm::Expected<std::map<StepKey, StepRecord>> StateStore::steps() {
  llvm::Expected<Result> r = conn.exec("SELECT subsystem, version, phase, step, status, sql_hash, "
                                       "cursor::text, rows_done FROM strata_steps");
  if (!r)
    return r.takeError();
  return readSteps(*r);
}

llvm::Expected<std::map<StepKey, StepRecord>> StateStore::startedSteps() {
  llvm::Expected<Result> r = conn.exec(
      "SELECT s.subsystem, s.version, s.phase, s.step, s.status, s.sql_hash, s.cursor::text, "
      "s.rows_done FROM strata_steps s LEFT JOIN strata_nodes n ON n.subsystem = s.subsystem "
      "AND n.version = s.version WHERE s.subsystem <> 'strata' AND CASE s.phase WHEN 'up' THEN "
      "n.subsystem IS NULL WHEN 'finish' THEN n.status = 'pending' ELSE NOT EXISTS (SELECT 1 "
      "FROM strata_nodes o WHERE o.subsystem <> 'strata') END");
  if (!r)
    return r.takeError();
  return readSteps(*r);
}

llvm::Error StateStore::recordNode(const NodeRecord &node, llvm::StringRef phase, int64_t millis,
                                   llvm::StringRef strataVersion) {
  if (llvm::Error err = prepareRecords())
    return err;
  llvm::Expected<Result> r =
      conn.exec(recordNodeSql(node, phase, std::to_string(millis), strataVersion));
  if (!r)
    return r.takeError();
  return llvm::Error::success();
}

namespace {
// A node's record, as prepared statements: a version's record is written in every
// version's transaction, and parsing and planning the upsert each time cost more than
// running it (pgbench: 0.27 against 0.19 ms a transaction).
// Parameters: subsystem, version, checksum, status, duration in ms, client, strata version.
constexpr llvm::StringLiteral recordUpName = "strata_record_node_up";
constexpr llvm::StringLiteral recordUpSql =
    "INSERT INTO strata_nodes (subsystem, version, checksum, status, up_started_at, "
    "up_finished_at, finish_finished_at, up_ms, client, strata_version) VALUES ($1::text, "
    "$2::text, $3::text, $4::text, clock_timestamp() - make_interval(secs => $5::bigint / "
    "1000.0), clock_timestamp(), CASE WHEN $4 = 'executed' THEN clock_timestamp() END, $5, "
    "$6::text, $7::text) "
    "ON CONFLICT (subsystem, version) DO UPDATE SET checksum = EXCLUDED.checksum, "
    "status = EXCLUDED.status, up_started_at = EXCLUDED.up_started_at, up_finished_at = "
    "EXCLUDED.up_finished_at, finish_finished_at = EXCLUDED.finish_finished_at, up_ms = "
    "EXCLUDED.up_ms, client = EXCLUDED.client, strata_version = EXCLUDED.strata_version";
// Parameters: subsystem, version, duration in ms, strata version.
constexpr llvm::StringLiteral recordFinishName = "strata_record_node_finish";
constexpr llvm::StringLiteral recordFinishSql =
    "UPDATE strata_nodes SET status = 'executed', finish_finished_at = clock_timestamp(), "
    "finish_ms = "
    "$3::bigint, strata_version = $4::text WHERE subsystem = $1::text AND version = $2::text";
} // namespace

llvm::Error StateStore::prepareRecords() {
  static const std::string up = recordUpSql.str() + recordReturningSql();
  static const std::string finish = recordFinishSql.str() + recordReturningSql();
  if (llvm::Error err = conn.prepareOnce(recordUpName, up))
    return err;
  return conn.prepareOnce(recordFinishName, finish);
}

std::string StateStore::nodeMillisSql(int64_t clientMillis) {
  return fmt::format("{} + (extract(epoch from clock_timestamp() - {}) * 1000)::bigint",
                     clientMillis, transactionStartSql);
}

std::string StateStore::nodeMillisSql(const NodeRecord &node, llvm::StringRef phase,
                                      bool severalSteps) {
  using planner::sql::literal;
  std::string started =
      severalSteps ? fmt::format("(SELECT coalesce(min(started_at), {}) FROM strata_steps WHERE "
                                 "subsystem = {} AND version = {} AND phase = {})",
                                 transactionStartSql, literal(node.subsystem),
                                 literal(node.version), literal(phase))
                   : std::string(transactionStartSql);
  return "(extract(epoch from clock_timestamp() - " + started + ") * 1000)::bigint";
}

std::vector<std::pair<std::string, std::string>> StateStore::recordStatements() {
  return {{recordUpName.str(), recordUpSql.str() + recordReturningSql()},
          {recordFinishName.str(), recordFinishSql.str() + recordReturningSql()}};
}

std::string StateStore::recordNodeSql(const NodeRecord &node, llvm::StringRef phase,
                                      llvm::StringRef millisSql, llvm::StringRef strataVersion,
                                      llvm::StringRef clientSql) {
  using planner::sql::literal;
  std::string millis = "(" + millisSql.str() + ")";
  if (phase == "finish")
    return fmt::format("EXECUTE {}({}, {}, {}, {})", recordFinishName.str(),
                       literal(node.subsystem), literal(node.version), millis,
                       literal(strataVersion));
  return fmt::format("EXECUTE {}({}, {}, {}, {}, {}, {}, {})", recordUpName.str(),
                     literal(node.subsystem), literal(node.version), literal(node.checksum),
                     literal(node.executed ? "executed" : "pending"), millis,
                     clientSql.empty() ? literal(clientName()) : clientSql.str(),
                     literal(strataVersion));
}

llvm::Error StateStore::forgetNode(llvm::StringRef subsystem, llvm::StringRef version) {
  llvm::Expected<Result> r = conn.execParams(
      "DELETE FROM strata_steps WHERE subsystem = $1 AND version = $2",
      {std::optional<std::string>(subsystem.str()), std::optional<std::string>(version.str())});
  if (!r)
    return r.takeError();
  r = conn.execParams("DELETE FROM strata_nodes WHERE subsystem = $1 AND version = $2",
                      {std::optional<std::string>(subsystem.str()),
                       std::optional<std::string>(version.str())});
  if (!r)
    return r.takeError();
  return llvm::Error::success();
}

} // namespace strata::runtime
