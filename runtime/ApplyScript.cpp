#include "runtime/ApplyScript.h"

#include "planner/PlanFormat.h"
#include "planner/Sql.h"
#include "runtime/Executor.h"
#include "runtime/Runner.h"
#include "runtime/StateStore.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace strata::runtime {

namespace {
using planner::sql::literal;

/// Who the records say ran it: the psql session.
constexpr const char *clientSql =
    "'psql ' || coalesce(host(inet_client_addr()), 'local') || ' pid ' || pg_backend_pid()";

/// A psql meta-command argument in single quotes.
std::string psqlQuoted(llvm::StringRef text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += "''";
    else if (c == '\\')
      out += "\\\\";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out + "'";
}

/// \p text between dollar quotes whose tag it does not contain.
std::string dollarQuoted(llvm::StringRef text, llvm::StringRef base) {
  std::string tag = "$" + base.str() + "$";
  for (int n = 1; text.contains(tag); ++n)
    tag = fmt::format("${}{}$", base.str(), n);
  return tag + text.str() + tag;
}

/// A statement that stops the script under ON_ERROR_STOP with PostgreSQL's error fields.
std::string refusal(llvm::StringRef message, llvm::StringRef hint) {
  return fmt::format("DO {} ;\n",
                     dollarQuoted(fmt::format("BEGIN RAISE EXCEPTION USING MESSAGE = {}, HINT = "
                                              "{}; END",
                                              literal(message), literal(hint)),
                                  "strata"));
}

std::string stepKeySql(const planner::Step &step, int index) {
  return fmt::format("subsystem = {} AND version = {} AND phase = {} AND step = {}",
                     literal(step.subsystem), literal(step.version),
                     literal(planner::phaseName(step.phase)), index);
}

/// Ends \p transaction (BEGIN ... record; COMMIT, as Executor::transactionSql gives it)
/// for psql: the record's RETURNING row goes into variables instead of the output.
std::string forPsql(const std::string &transaction) {
  llvm::StringRef text = transaction;
  bool ends = text.consume_back(";\nCOMMIT");
  assert(ends && "a step's transaction ends with its record and COMMIT");
  (void)ends;
  return text.str() + " \\gset\nCOMMIT;\n";
}

/// The backfill as a DO block: Executor::runBackfill's loop, one batch per transaction
/// with its cursor recorded, starting from the recorded cursor.
std::string backfillBlock(const planner::Step &step, int index) {
  const planner::Backfill &b = step.backfill;
  int64_t batch = b.batchSize > 0 ? b.batchSize : ExecOptions().batchSize;
  std::string declare, resume, using_, assign, cursor;
  for (size_t i = 0; i < b.keyColumns.size(); ++i) {
    std::string type = fmt::format("{}.{}%TYPE", planner::sql::ident(b.table),
                                   planner::sql::ident(b.keyColumns[i]));
    declare += fmt::format("  k{0} {1};\n  next{0} {1};\n", i + 1, type);
    resume += fmt::format("    k{} := previous->>{};\n", i + 1, i);
    using_ += fmt::format(", k{}", i + 1);
    assign += fmt::format("    k{0} := next{0};\n", i + 1);
    cursor += fmt::format("{}k{}::text", i ? ", " : "", i + 1);
  }
  std::string into;
  for (size_t i = 0; i < b.keyColumns.size(); ++i)
    into += fmt::format(", next{}", i + 1);
  std::string record = dollarQuoted(Executor::recordStepText(), "strata_record");
  std::string key = fmt::format("{}, {}, {}, {}", literal(step.subsystem), literal(step.version),
                                literal(planner::phaseName(step.phase)), index);
  std::string body = fmt::format(
      "DECLARE\n"
      "  first boolean := true;\n"
      "{declare}"
      "  n bigint;\n"
      "  found_rows bigint;\n"
      "  done_rows bigint;\n"
      "  previous jsonb;\n"
      "BEGIN\n"
      "  SELECT s.cursor, s.rows_done INTO previous, done_rows FROM strata_steps s WHERE {where};\n"
      "  done_rows := coalesce(done_rows, 0);\n"
      "  IF previous IS NOT NULL THEN\n"
      "    first := false;\n"
      "{resume}"
      "  END IF;\n"
      "  LOOP\n"
      "    PERFORM set_config('lock_timeout', '{timeout}ms', true);\n"
      "    EXECUTE {batchSql} INTO n{into} USING first{using_}, {batch}::bigint;\n"
      "    GET DIAGNOSTICS found_rows = ROW_COUNT;\n"
      "    IF found_rows = 0 THEN\n"
      "      EXECUTE {record} USING {key}, 'done', {hash}, CASE WHEN first THEN NULL ELSE "
      "jsonb_build_array({cursor}) END, done_rows, {started};\n"
      "      COMMIT;\n"
      "      EXIT;\n"
      "    END IF;\n"
      "    done_rows := done_rows + n;\n"
      "    first := false;\n"
      "{assign}"
      "    EXECUTE {record} USING {key}, 'running', {hash}, jsonb_build_array({cursor}), "
      "done_rows, {started};\n"
      "    COMMIT;\n"
      "  END LOOP;\n"
      "END",
      fmt::arg("declare", declare), fmt::arg("where", stepKeySql(step, index)),
      fmt::arg("resume", resume), fmt::arg("timeout", ExecOptions().lockTimeout.count()),
      fmt::arg("batchSql", dollarQuoted(step.sql, "strata_batch")), fmt::arg("into", into),
      fmt::arg("using_", using_), fmt::arg("batch", batch), fmt::arg("record", record),
      fmt::arg("key", key), fmt::arg("hash", literal(Executor::hashOf(step))),
      fmt::arg("cursor", cursor), fmt::arg("assign", assign),
      fmt::arg("started", transactionStartSql));
  return "DO " + dollarQuoted(body, "strata") + ";\n";
}

/// A non-transactional step, as Executor::runNonTransactional runs it.
std::string nonTransactional(const planner::Step &step, int index) {
  std::string out = fmt::format("SET lock_timeout = '{}ms';\nSET statement_timeout = 0;\n",
                                ExecOptions().lockTimeout.count());
  std::string sql = llvm::StringRef(step.sql).rtrim().rtrim(';').str() + ";\n";
  if (std::optional<std::string> index = Executor::concurrentIndexOf(step)) {
    std::string where = fmt::format("c.relname = {} AND c.relnamespace = "
                                    "current_schema()::regnamespace",
                                    literal(*index));
    out += fmt::format(
        "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE "
        "{w} AND i.indisvalid) AS strata_valid, EXISTS (SELECT 1 FROM pg_index i JOIN pg_class "
        "c ON c.oid = i.indexrelid WHERE {w} AND NOT i.indisvalid) AS strata_invalid \\gset\n"
        "\\if :strata_invalid\n"
        "-- an INVALID index left by an interrupted build: dropped and built again\n"
        "DROP INDEX CONCURRENTLY IF EXISTS {i};\n"
        "\\endif\n"
        "\\if :strata_valid\n"
        "\\else\n{s}\\endif\n",
        fmt::arg("w", where), fmt::arg("i", planner::sql::ident(*index)), fmt::arg("s", sql));
  } else {
    out += sql;
  }
  out += "RESET lock_timeout;\nRESET statement_timeout;\n";
  out += Executor::recordSql(step, index, "done", "", 0) + " \\gset\n";
  return out;
}

std::string prepareRecords() {
  std::string out = fmt::format("PREPARE {} AS {};\n", Executor::recordStepName().str(),
                                Executor::recordStepText());
  for (const auto &[name, text] : StateStore::recordStatements())
    out += fmt::format("PREPARE {} AS {};\n", name, text);
  return out;
}

std::string recordText(const NodeRecord &r) {
  return r.subsystem + "@" + r.version + " " + r.checksum + " " +
         (r.executed ? "executed" : "pending");
}
} // namespace

llvm::Expected<std::string>
applyScript(const compiler::Project &project, const planner::VersionGraph &graph,
            const planner::PlanRequest &planned, const planner::Plan &plannedPlan,
            const planner::Locator &locate, llvm::StringRef strataVersion) {
  // apply finish plans to the heads of what ran, leaving new versions out: the script
  // runs what it would.
  planner::PlanRequest request = planned;
  planner::Plan plan = plannedPlan;
  if (request.phase == planner::Phase::Finish) {
    request = Runner::finishRequest(graph, planned.start);
    llvm::Expected<planner::Plan> finish = planner::makePlan(project, graph, request, locate);
    if (!finish)
      return finish.takeError();
    plan = std::move(*finish);
  }
  const planner::Phase phase = plan.phase;
  const char *phaseText = planner::phaseName(phase);

  // The state the plan starts from, as strata_nodes would hold it.
  std::vector<NodeRecord> want;
  std::vector<planner::NodeId> pendingNow;
  for (const planner::StartingPoint::Entry &e : request.start.executed) {
    NodeRecord r{project.subsystems[e.node.subsystem].name, project.at(e.node).text,
                 project.at(e.node).checksum, e.finished};
    if (!e.finished)
      pendingNow.push_back({r.subsystem, r.version, r.checksum});
    want.push_back(std::move(r));
  }
  std::vector<std::string> wantText;
  for (const NodeRecord &r : want)
    wantText.push_back(recordText(r));
  std::sort(wantText.begin(), wantText.end());
  std::vector<std::string> subsystems;
  for (const compiler::Subsystem &s : project.subsystems)
    subsystems.push_back(literal(s.name));

  // The nodes in the runner's order, and what their records say.
  std::vector<planner::NodeId> nodes, pendingAfter;
  switch (phase) {
  case planner::Phase::Bootstrap:
    nodes = plan.to;
    break;
  case planner::Phase::Up: {
    nodes = plan.applies;
    llvm::Expected<std::vector<planner::NodeId>> after =
        Runner::pendingAfterUp(project, graph, request, plan, locate);
    if (!after)
      return after.takeError();
    pendingAfter = std::move(*after);
    break;
  }
  case planner::Phase::Finish:
    for (const planner::NodeId &n : plan.applies)
      if (llvm::is_contained(pendingNow, n))
        nodes.push_back(n);
    break;
  }

  std::string out = planner::renderSqlHeader(plan);
  out += "-- with strata's records: psql -f of this script and 'strata apply' leave the same\n"
         "-- state; run again after a failure, it resumes where it stopped\n"
         "\\set ON_ERROR_STOP on\n";
  if (phase == planner::Phase::Up && !pendingNow.empty() && !plan.applies.empty()) {
    std::vector<std::string> names;
    for (const planner::NodeId &n : pendingNow)
      names.push_back(n.subsystem + "@" + n.version);
    out += refusal(
        fmt::format("strata: the database has versions pending finish: {}", fmt::join(names, ", ")),
        "run 'strata apply finish' once no old node runs, then make the script "
        "again");
  }

  llvm::Expected<StateStore::Creation> creation = StateStore::creation();
  if (!creation)
    return creation.takeError();
  std::string ownLatest = creation->nodes.empty() ? "" : creation->nodes.back().version;
  if (phase == planner::Phase::Bootstrap) {
    out += "\n-- strata's state tables, unless they exist (as 'strata apply' creates them)\n"
           "SELECT to_regclass('strata_nodes') IS NULL AS strata_fresh \\gset\n"
           "\\if :strata_fresh\nBEGIN;\n";
    for (const std::string &s : creation->statements)
      out += llvm::StringRef(s).rtrim().str() + ";\n";
    out += prepareRecords();
    for (const NodeRecord &r : creation->nodes)
      out += StateStore::recordNodeSql(r, "bootstrap", "0", strataVersion, clientSql) + " \\gset\n";
    out += "COMMIT;\n\\else\n" + prepareRecords() + "\\endif\n";
  }

  // Refuse what apply would refuse, before anything runs.
  std::string planned_steps;
  std::map<std::pair<std::string, std::string>, int> indexOf;
  for (const planner::Step &s : plan.steps) {
    int index = indexOf[{s.subsystem, s.version}]++;
    planned_steps +=
        fmt::format("{}({}, {}, {}, {}, {})", planned_steps.empty() ? "" : ", ",
                    literal(s.subsystem), literal(s.version), literal(planner::phaseName(s.phase)),
                    index, literal(Executor::hashOf(s)));
  }
  std::string check = fmt::format(
      "DECLARE\n  have text;\nBEGIN\n"
      "  IF to_regclass('strata_nodes') IS NULL OR to_regclass('strata_steps') IS NULL THEN\n"
      "    RAISE EXCEPTION USING MESSAGE = 'strata: the database needs bootstrap', HINT = "
      "'make the script of strata plan bootstrap, or run strata apply bootstrap';\n"
      "  END IF;\n"
      "  IF NOT pg_try_advisory_lock({lock}) THEN\n"
      "    RAISE EXCEPTION 'strata: another strata apply is running on this database';\n"
      "  END IF;\n"
      "  IF NOT EXISTS (SELECT 1 FROM strata_nodes WHERE subsystem = 'strata' AND version = "
      "{own}) THEN\n"
      "    RAISE EXCEPTION USING MESSAGE = 'strata: strata''s state tables are not at the "
      "version this script was made for', HINT = 'run strata status with this strata once "
      "(or strata apply), then make the script again';\n"
      "  END IF;\n"
      "  SELECT coalesce(string_agg(subsystem || '@' || version || ' ' || checksum || ' ' || "
      "status, ', ' ORDER BY subsystem || '@' || version || ' ' || checksum || ' ' || status "
      "COLLATE \"C\"), '') INTO have FROM strata_nodes WHERE subsystem = ANY (ARRAY[{subs}]"
      "::text[]);\n"
      "  IF have <> {want} THEN\n"
      "    RAISE EXCEPTION USING MESSAGE = 'strata: the database is not in the state this "
      "script was made from', DETAIL = format('It has: %s. The script expects: %s.', "
      "nullif(have, ''), nullif({want}, '')), HINT = 'make the script again: strata plan {phase} "
      "--db ... --format sql';\n"
      "  END IF;\n"
      "{hashes}"
      "END",
      fmt::arg("lock", Runner::runnerLockKey()), fmt::arg("own", literal(ownLatest)),
      fmt::arg("subs", subsystems.empty() ? "NULL" : llvm::join(subsystems, ", ")),
      fmt::arg("want", literal(llvm::join(wantText, ", "))), fmt::arg("phase", phaseText),
      fmt::arg(
          "hashes",
          planned_steps.empty()
              ? std::string()
              : fmt::format("  IF EXISTS (SELECT 1 FROM strata_steps s JOIN (VALUES {}) AS "
                            "p(subsystem, version, phase, step, sql_hash) ON s.subsystem = "
                            "p.subsystem AND s.version = p.version AND s.phase = p.phase AND "
                            "s.step = p.step WHERE s.status = 'done' AND s.sql_hash <> "
                            "p.sql_hash) THEN\n"
                            "    RAISE EXCEPTION USING MESSAGE = 'strata: a step that ran had "
                            "other SQL than this script', HINT = 'restore the .strata files as "
                            "they were when it ran (or re-run the version with strata apply up "
                            "--force)';\n"
                            "  END IF;\n",
                            planned_steps)));
  out += "\n-- refuse a database in another state than the plan was made from\n";
  out += "DO " + dollarQuoted(check, "strata") + ";\n";
  if (phase != planner::Phase::Bootstrap)
    out += prepareRecords();

  // The steps, node by node, as Runner::runSteps runs them.
  std::map<std::pair<std::string, std::string>, std::vector<size_t>> stepsOf;
  for (size_t i = 0; i < plan.steps.size(); ++i)
    stepsOf[{plan.steps[i].subsystem, plan.steps[i].version}].push_back(i);
  bool recordNodes = phase != planner::Phase::Bootstrap;
  std::chrono::milliseconds lockTimeout = ExecOptions().lockTimeout;
  for (const planner::NodeId &node : nodes) {
    const std::vector<size_t> &steps = stepsOf[{node.subsystem, node.version}];
    bool pending = phase == planner::Phase::Up && llvm::is_contained(pendingAfter, node);
    NodeRecord record{node.subsystem, node.version, node.checksum, !pending};
    // The node's time as apply measures it, from before its first step (kept in a psql
    // variable: an EXECUTE's parameters cannot hold a subquery).
    std::string nodeRecord = StateStore::recordNodeSql(
        record, phaseText,
        "(extract(epoch from clock_timestamp() - :'strata_node_started'::timestamptz) * "
        "1000)::bigint",
        strataVersion, clientSql);
    if (recordNodes)
      out += fmt::format("\n-- {}@{}\nSELECT clock_timestamp() AS strata_node_started \\gset\n",
                         node.subsystem, node.version);
    bool recorded = !recordNodes;
    for (size_t i = 0; i < steps.size(); ++i) {
      const planner::Step &step = plan.steps[steps[i]];
      int index = static_cast<int>(i);
      out += planner::renderSqlStepComment(plan, step, steps[i] + 1);
      out += fmt::format(
          "SELECT EXISTS (SELECT 1 FROM strata_steps WHERE {} AND status = "
          "'done') AS strata_done \\gset\n\\if :strata_done\n\\echo {}\n\\else\n",
          stepKeySql(step, index),
          psqlQuoted(fmt::format("{}@{} {} step {}: done already", node.subsystem, node.version,
                                 planner::phaseName(step.phase), index + 1)));
      if (step.isBackfill) {
        out += backfillBlock(step, index);
      } else if (!step.transactional) {
        out += nonTransactional(step, index);
      } else {
        std::string alsoCommit;
        if (!recorded && i + 1 == steps.size()) {
          alsoCommit = nodeRecord;
          recorded = true;
        }
        out += forPsql(Executor::transactionSql(step, index, alsoCommit, lockTimeout));
      }
      out += "\\endif\n";
    }
    if (!recorded) {
      out += fmt::format("\n-- {}@{} {}: {}\n", node.subsystem, node.version, phaseText,
                         record.executed ? "executed" : "pending finish");
      out += nodeRecord + " \\gset\n";
    }
  }
  if (phase == planner::Phase::Bootstrap) {
    // Runner::recordBootstrap: every node at the end, in one transaction.
    out += "\n-- every version of the bootstrap, recorded at its end\nBEGIN;\n";
    for (const planner::NodeId &n : plan.applies)
      out += StateStore::recordNodeSql({n.subsystem, n.version, n.checksum, true}, "bootstrap", "0",
                                       strataVersion, clientSql) +
             " \\gset\n";
    out += "COMMIT;\n";
  }
  return out;
}

} // namespace strata::runtime
