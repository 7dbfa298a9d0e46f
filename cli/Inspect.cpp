#include "cli/Inspect.h"
#include "cli/Sources.h"

#include "compiler/Compilation.h"
#include "compiler/Printer.h"
#include "runtime/ConnInfo.h"
#include "runtime/Drift.h"
#include "runtime/Runner.h"

#include <fmt/format.h>

namespace strata::cli {

namespace {
int fail(llvm::Error e, const std::string &db, llvm::raw_ostream &err, int code) {
  std::string message = runtime::redactSecretsIn(llvm::toString(std::move(e)), db);
  err << "strata: error: " << llvm::StringRef(message).rtrim() << "\n";
  return code;
}

/// Comment lines: one per entry, each line of an entry prefixed.
void comment(llvm::raw_ostream &out, llvm::StringRef text) {
  llvm::SmallVector<llvm::StringRef, 4> lines;
  text.split(lines, '\n');
  for (llvm::StringRef line : lines)
    out << "// " << line << "\n";
}
} // namespace

int runInspect(const InspectOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err) {
  std::string name = options.schema, version = "1.0.0";
  if (!options.as.empty()) {
    auto [n, v] = llvm::StringRef(options.as).split('@');
    if (n.empty() || v.empty()) {
      err << "strata: error: --as: expected NAME@VERSION, such as core@0.14.1\n";
      return ExitUsage;
    }
    name = n.str();
    version = v.str();
  }
  llvm::Expected<runtime::Connection> conn = runtime::Connection::open(options.run.db);
  if (!conn)
    return fail(conn.takeError(), options.run.db, err, ExitFailure);
  runtime::InspectOptions iopts;
  iopts.schema = options.schema;
  llvm::Expected<runtime::Inspection> inspection = runtime::inspect(*conn, iopts);
  if (!inspection)
    return fail(inspection.takeError(), options.run.db, err, ExitFailure);
  compiler::Schema shown = std::move(inspection->schema);
  std::vector<std::string> others;

  if (!options.subsystem.empty()) {
    // Only what the subsystem declares, at the version the database is at.
    compiler::Compilation compilation;
    const compiler::Project *project =
        compileSources(compilation, options.run.paths, options.run.color, err);
    if (!project)
      return ExitFailure;
    std::optional<unsigned> sub = project->findSubsystem(options.subsystem);
    if (!sub) {
      err << "strata: error: --subsystem: no subsystem \"" << options.subsystem
          << "\" in the .strata files\n";
      return ExitUsage;
    }
    planner::VersionGraph graph(*project);
    llvm::Expected<std::vector<compiler::VersionRef>> versions =
        runtime::recordedVersions(*conn, *project, graph);
    if (!versions)
      return fail(versions.takeError(), options.run.db, err, ExitFailure);
    auto head =
        llvm::find_if(*versions, [&](compiler::VersionRef r) { return r.subsystem == *sub; });
    if (head == versions->end()) {
      err << "strata: error: --subsystem: the database has no version of \"" << options.subsystem
          << "\" recorded (is it managed by strata? see 'strata status'); inspect it "
             "without --subsystem\n";
      return ExitFailure;
    }
    compiler::Schema declared = runtime::declaredState(*project, {*head});
    compiler::Schema only;
    for (const auto &[tableName, table] : shown.tables()) {
      if (declared.findTable(tableName))
        only.putTable(*table);
      else
        others.push_back(tableName);
    }
    for (const auto &[typeName, type] : shown.enums())
      if (declared.findEnum(typeName))
        only.putEnum(type);
    shown = std::move(only);
    if (options.as.empty()) {
      name = options.subsystem;
      version = project->at(*head).text;
    }
  }

  out << fmt::format("// schema \"{}\" as inspected: {} table(s), {} enum type(s)\n",
                     options.schema, shown.tables().size(), shown.enums().size());
  if (!others.empty())
    out << fmt::format("// not declared by {}, left out: {}\n", options.subsystem,
                       fmt::join(others, ", "));
  for (const std::string &u : inspection->unsupported)
    comment(out, "not represented: " + u);
  for (const runtime::InvalidIndex &i : inspection->invalidIndexes)
    comment(out, fmt::format("left out: index \"{}\" on table \"{}\" is invalid (a failed "
                             "build): {}",
                             i.index.name, i.table, compiler::printIndex(i.index)));
  for (const runtime::ConstraintRef &c : inspection->notValidConstraints)
    comment(out, fmt::format("constraint \"{}\" on table \"{}\" is NOT VALID in the database",
                             c.name, c.table));
  out << "subsystem " << compiler::quoteIdent(name) << " {\n";
  out << "  version \"" << version << "\" {\n";
  compiler::printSchema(out, shown, 4);
  out << "  }\n}\n";
  return ExitOk;
}

int runBaseline(const RunOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err) {
  compiler::Compilation compilation;
  const compiler::Project *project = compileSources(compilation, options.paths, options.color, err);
  if (!project)
    return ExitFailure;
  planner::VersionGraph graph(*project);
  auto targets = parseVersionsFlag(*project, "--to", options.to, err);
  if (!targets)
    return ExitUsage;
  if (targets->empty()) {
    err << "strata: error: baseline needs --to: the versions the database is at, such as "
           "--to core@1.0.0,acl@1.0.0\n";
    return ExitUsage;
  }
  runtime::RunnerOptions ropts;
  ropts.connInfo = options.db;
  ropts.targets = std::move(*targets);
  runtime::Runner runner(
      *project, graph, [](compiler::SourceRange) { return std::string(); }, ropts, out);
  if (llvm::Error e = runner.baseline())
    return fail(std::move(e), options.db, err, ExitFailure);
  return ExitOk;
}

} // namespace strata::cli
