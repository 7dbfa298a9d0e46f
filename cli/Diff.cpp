#include "cli/Inspect.h"
#include "cli/Sources.h"

#include "compiler/Compilation.h"
#include "planner/Plan.h"
#include "runtime/ConnInfo.h"
#include "runtime/Drift.h"
#include "runtime/Runner.h"
#include "runtime/StateStore.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace strata::cli {

namespace {
int fail(llvm::Error e, const std::string &db, llvm::raw_ostream &err) {
  std::string message = runtime::redactSecretsIn(llvm::toString(std::move(e)), db);
  err << "strata: error: " << llvm::StringRef(message).rtrim() << "\n";
  return DiffError;
}

/// The drift of the database at \p db against \p versions (empty: the recorded ones).
/// Null report with no error: the database is not managed and no versions were given, or
/// \p skipWhenPending and versions are pending finish (the catalog is then between `up`
/// and `finish` on purpose, which is not drift worth a warning).
llvm::Expected<std::optional<runtime::DriftReport>>
driftOf(const compiler::Project &project, const planner::VersionGraph &graph, const std::string &db,
        std::vector<compiler::VersionRef> versions, llvm::StringRef schema,
        bool skipWhenPending = false) {
  llvm::Expected<runtime::Connection> conn = runtime::Connection::open(db);
  if (!conn)
    return conn.takeError();
  std::vector<compiler::VersionRef> pending;
  if (versions.empty()) {
    llvm::Expected<std::vector<compiler::VersionRef>> recorded =
        runtime::recordedVersions(*conn, project, graph, &pending);
    if (!recorded)
      return recorded.takeError();
    if (recorded->empty() || (skipWhenPending && !pending.empty()))
      return std::nullopt;
    versions = std::move(*recorded);
  } else {
    versions = runtime::headsOf(graph, versions);
  }
  llvm::Expected<runtime::DriftReport> report =
      runtime::checkDrift(*conn, project, versions, schema);
  if (!report)
    return report.takeError();
  // Fix: the objects of a version whose apply was cut short (a rename's new column, its
  // `_strata_nn` check, ...) were drift, with SQL that dropped them and broke the table
  // (its sync trigger stayed) and the apply that would have resumed. They are left out.
  runtime::StateStore store(*conn);
  llvm::Expected<bool> exists = store.exists();
  if (!exists)
    return exists.takeError();
  if (*exists) {
    llvm::Expected<std::vector<runtime::NodeRecord>> records = store.nodes();
    if (!records)
      return records.takeError();
    llvm::Expected<std::vector<runtime::Interruption>> interrupted =
        runtime::Runner::interruptions(*conn, project, graph, *records, {});
    if (!interrupted)
      return interrupted.takeError();
    runtime::leaveOutInFlight(*report, *interrupted);
  }
  for (compiler::VersionRef p : pending)
    if (llvm::is_contained(versions, p))
      report->notes.push_back(project.describe(p) +
                              " is pending finish: what its finish drops or changes shows as "
                              "drift until 'strata apply finish' runs");
  return std::optional<runtime::DriftReport>(std::move(*report));
}

std::string sqlScript(const runtime::DriftReport &report) {
  std::string out;
  for (const std::string &statement : report.sql())
    out += statement + ";\n";
  return out;
}

std::string textReport(const compiler::Project &project, const runtime::DriftReport &report,
                       llvm::StringRef schema) {
  std::vector<std::string> names;
  for (compiler::VersionRef r : report.against)
    names.push_back(project.describe(r));
  std::string out =
      fmt::format("comparing schema \"{}\" with {}\n", schema, fmt::join(names, ", "));
  if (!report.drifted()) {
    out += "no drift: the database matches the declared state\n";
  } else {
    out += fmt::format("drift: {} change{}\n", report.changes.size(),
                       report.changes.size() == 1 ? "" : "s");
    for (const runtime::Change &c : report.changes)
      out += "  " + runtime::describeChange(c) + "\n";
  }
  if (!report.unmanaged.empty()) {
    out += "unmanaged (no subsystem declares them; never changed):\n";
    for (const runtime::UnmanagedObject &u : report.unmanaged)
      out += fmt::format("  {} \"{}\"\n", u.kind, u.name);
  }
  for (const std::string &note : report.notes)
    out += "note: " + note + "\n";
  if (report.drifted()) {
    out += "\n-- SQL that makes the database match the declared state again (review it; the "
           "CONCURRENTLY\n-- statements cannot run inside a transaction block):\n";
    out += sqlScript(report);
  }
  return out;
}

std::string jsonReport(const compiler::Project &project, const runtime::DriftReport &report,
                       llvm::StringRef schema) {
  nlohmann::ordered_json out;
  out["schema"] = schema.str();
  nlohmann::ordered_json against = nlohmann::ordered_json::array();
  for (compiler::VersionRef r : report.against)
    against.push_back(
        {{"subsystem", project.subsystems[r.subsystem].name}, {"version", project.at(r).text}});
  out["against"] = against;
  out["drift"] = report.drifted();
  nlohmann::ordered_json changes = nlohmann::ordered_json::array();
  for (const runtime::Change &c : report.changes)
    changes.push_back({{"kind", runtime::changeKindName(c.kind)},
                       {"table", c.table},
                       {"object", c.object},
                       {"declared", c.declared},
                       {"live", c.live},
                       {"sql", c.sql},
                       {"note", c.note}});
  out["changes"] = changes;
  nlohmann::ordered_json unmanaged = nlohmann::ordered_json::array();
  for (const runtime::UnmanagedObject &u : report.unmanaged)
    unmanaged.push_back({{"kind", u.kind}, {"name", u.name}});
  out["unmanaged"] = unmanaged;
  out["notes"] = report.notes;
  out["sql"] = report.sql();
  return out.dump(2) + "\n";
}
} // namespace

int runDiff(const DiffOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err) {
  if (options.format != "text" && options.format != "json" && options.format != "sql") {
    err << "strata: error: --format: expected text, json or sql\n";
    return DiffError;
  }
  compiler::Compilation compilation;
  const compiler::Project *project =
      compileSources(compilation, options.run.paths, options.run.color, err);
  if (!project)
    return DiffError;
  planner::VersionGraph graph(*project);
  auto versions = parseVersionsFlag(*project, "--to", options.run.to, err);
  if (!versions)
    return DiffError;
  auto report = driftOf(*project, graph, options.run.db, *versions, options.schema);
  if (!report)
    return fail(report.takeError(), options.run.db, err);
  if (!*report) {
    err << "strata: error: strata does not manage this database (no versions recorded): "
           "name the versions to compare with, --to core@X[,plugin@Y...]\n";
    return DiffError;
  }
  const runtime::DriftReport &r = **report;
  if (options.format == "json")
    out << jsonReport(*project, r, options.schema);
  else if (options.format == "sql")
    out << sqlScript(r);
  else
    out << textReport(*project, r, options.schema);
  return r.drifted() ? DiffDrift : DiffNone;
}

void warnAboutDrift(const compiler::Project &project, const planner::VersionGraph &graph,
                    const std::string &db, llvm::raw_ostream &err) {
  auto report = driftOf(project, graph, db, {}, "public", /*skipWhenPending=*/true);
  if (!report) {
    printDriftWarnings(report.takeError(), db, err);
    return;
  }
  if (*report)
    printDriftWarnings(std::move(**report), db, err);
}

void printDriftWarnings(llvm::Expected<runtime::DriftReport> report, const std::string &db,
                        llvm::raw_ostream &err) {
  if (!report) {
    std::string message = runtime::redactSecretsIn(llvm::toString(report.takeError()), db);
    err << "strata: warning: could not check for drift: " << llvm::StringRef(message).rtrim()
        << "\n";
    return;
  }
  if (!report->drifted())
    return;
  for (const runtime::Change &c : report->changes)
    err << "strata: warning: drift: " << runtime::describeChange(c) << "\n";
  err << "strata: warning: the database differs from its versions; 'strata diff' shows the SQL "
         "that removes the drift\n";
}

unsigned noteDriftInPlan(const compiler::Project &project, const planner::VersionGraph &graph,
                         const std::string &db, planner::Plan &plan, llvm::raw_ostream &err) {
  auto report = driftOf(project, graph, db, {}, "public", /*skipWhenPending=*/true);
  if (!report) {
    std::string message = runtime::redactSecretsIn(llvm::toString(report.takeError()), db);
    err << "strata: warning: could not check for drift: " << llvm::StringRef(message).rtrim()
        << "\n";
    return 0;
  }
  if (!*report || !(*report)->drifted())
    return 0;
  const runtime::DriftReport &r = **report;
  unsigned marked = 0;
  // One finding per drifted table that the plan touches, naming its steps and its drift.
  for (const std::string &table : r.driftedTables()) {
    std::vector<std::string> steps;
    std::string location;
    for (size_t i = 0; i < plan.steps.size(); ++i) {
      planner::Step &step = plan.steps[i];
      if (!llvm::is_contained(step.lockTables, table))
        continue;
      if (!llvm::is_contained(step.lints, "D301")) {
        step.lints.push_back("D301");
        ++marked;
      }
      steps.push_back(std::to_string(i + 1));
      if (location.empty())
        location = step.location;
    }
    if (steps.empty())
      continue;
    std::vector<std::string> drift;
    for (const runtime::Change &c : r.changes)
      if (c.table == table)
        drift.push_back(runtime::describeChange(c));
    planner::Finding f;
    f.code = "D301";
    f.message = fmt::format("step{} {} touch{} \"{}\", which has drifted from its declaration "
                            "({}); see 'strata diff'",
                            steps.size() == 1 ? "" : "s", fmt::join(steps, ", "),
                            steps.size() == 1 ? "es" : "", table, fmt::join(drift, "; "));
    f.location = location;
    plan.findings.push_back(std::move(f));
  }
  return marked;
}

} // namespace strata::cli
