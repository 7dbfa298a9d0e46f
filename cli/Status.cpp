#include "cli/Commands.h"
#include "cli/Inspect.h"
#include "cli/Sources.h"

#include "compiler/Compilation.h"
#include "runtime/Drift.h"
#include "runtime/Runner.h"
#include "runtime/StateStore.h"
#include "runtime/StatusCache.h"
#include "runtime/StatusFacts.h"

#include <strata/strata.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace strata::cli {

std::string statusText(const runtime::DatabaseStatus &status) {
  std::string interrupted;
  for (const runtime::Interruption &i : status.interrupted)
    interrupted += i.describe() + "\n";
  if (status.needsBootstrap)
    return interrupted.empty() ? "database needs bootstrap; run 'strata apply bootstrap'\n"
                               : interrupted;
  size_t width = 0;
  for (const runtime::SubsystemStatus &s : status.subsystems)
    width = std::max(width, s.name.size());
  std::string out;
  // Kong's `migrations list` layout: one block per state, names right-aligned.
  auto block = [&](const char *title, auto member) {
    std::string lines;
    for (const runtime::SubsystemStatus &s : status.subsystems) {
      const std::vector<std::string> &list = s.*member;
      if (!list.empty())
        lines += fmt::format("{:>{}}: {}\n", s.name, width, fmt::join(list, ", "));
    }
    if (lines.empty())
      return;
    if (!out.empty())
      out += "\n";
    out += std::string(title) + "\n" + lines;
  };
  block("Executed:", &runtime::SubsystemStatus::executed);
  block("Pending finish:", &runtime::SubsystemStatus::pending);
  block("Interrupted:", &runtime::SubsystemStatus::interrupted);
  block("New:", &runtime::SubsystemStatus::fresh);
  block("Changed since they ran (checksum differs):", &runtime::SubsystemStatus::changed);
  switch (status.code()) {
  case runtime::StatusUpToDate:
    out += "\ndatabase is up to date\n";
    break;
  case runtime::StatusPendingFinish:
    out += "\nrun 'strata apply finish' once no node of the old version runs\n";
    break;
  case runtime::StatusNewOnly:
    out += "\nrun 'strata apply up' to proceed\n";
    break;
  case runtime::StatusChanged: {
    std::vector<std::string> names, news;
    for (const runtime::SubsystemStatus &s : status.subsystems) {
      for (const std::string &v : s.changed)
        names.push_back(s.name + "@" + v);
      if (!s.changed.empty())
        news.push_back(fmt::format("'strata new version {} {}'", s.name, s.nextVersion));
    }
    out += fmt::format("\n{} changed since {} ran: 'strata apply' refuses {}; restore {} as {} "
                       "ran and put the change in a new version ({})\n",
                       fmt::join(names, ", "), names.size() == 1 ? "it" : "they",
                       names.size() == 1 ? "it" : "them", names.size() == 1 ? "it" : "them",
                       names.size() == 1 ? "it" : "they", fmt::join(news, ", "));
    break;
  }
  case runtime::StatusInterrupted:
    out += "\n" + interrupted;
    break;
  case runtime::StatusNeedsBootstrap:
    break;
  }
  return out;
}

std::string statusJson(const runtime::DatabaseStatus &status) {
  nlohmann::ordered_json out;
  out["needs_bootstrap"] = status.needsBootstrap;
  out["status"] = static_cast<int>(status.code());
  nlohmann::ordered_json subsystems = nlohmann::ordered_json::array();
  for (const runtime::SubsystemStatus &s : status.subsystems)
    subsystems.push_back({{"subsystem", s.name},
                          {"executed", s.executed},
                          {"pending_finish", s.pending},
                          {"new", s.fresh},
                          {"changed", s.changed},
                          {"unknown", s.unknown},
                          {"interrupted", s.interrupted}});
  out["subsystems"] = subsystems;
  nlohmann::ordered_json interrupted = nlohmann::ordered_json::array();
  for (const runtime::Interruption &i : status.interrupted)
    interrupted.push_back({{"subsystem", i.subsystem},
                           {"version", i.version},
                           {"phase", planner::phaseName(i.phase)},
                           {"step", i.step + 1},
                           {"steps", i.steps},
                           {"reason", i.reason},
                           {"backfill", i.backfill},
                           {"rows_done", i.rowsDone},
                           {"running", i.running},
                           {"plan_changed", i.planChanged},
                           {"resume", i.command()},
                           {"message", i.describe()}});
  out["interrupted"] = interrupted;
  return out.dump(2);
}

namespace {
llvm::Error failure(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The cache status uses, or nothing (--no-cache, STRATA_NO_CACHE, no directory known).
std::optional<runtime::StatusCache> statusCache(const StatusOptions &options) {
  if (options.noCache || runtime::cacheDisabledByEnvironment())
    return std::nullopt;
  if (!options.cacheDir.empty())
    return runtime::StatusCache(options.cacheDir);
  if (std::optional<std::string> dir = runtime::defaultCacheDirectory())
    return runtime::StatusCache(*dir);
  return std::nullopt;
}

/// The sources, compiled on first use only: a warm status never needs them compiled.
class LazyProject {
public:
  LazyProject(compiler::Compilation &compilation, bool color, llvm::raw_ostream &err)
      : compilation(compilation), color(color), err(err) {}

  /// Null, after the diagnostics, when the sources do not compile.
  const compiler::Project *get() {
    if (!tried) {
      tried = true;
      project = compileLoaded(compilation, color, err);
      if (project)
        graph.emplace(*project);
    }
    return project;
  }
  const planner::VersionGraph &versionGraph() const { return *graph; }

private:
  compiler::Compilation &compilation;
  bool color;
  llvm::raw_ostream &err;
  bool tried = false;
  const compiler::Project *project = nullptr;
  std::optional<planner::VersionGraph> graph;
};

/// The drift of schema public against \p heads. With a cache: the result stored for these
/// sources, versions and server when the catalog fingerprint is the one it was computed at
/// (no catalog read). Otherwise the declared state in stored form, from the cache or built
/// in a scratch schema (and saved), compared with the live catalog; the result is saved
/// with the fingerprint, computed before the catalog is read (see fingerprintQuery).
llvm::Expected<runtime::DriftReport>
statusDrift(runtime::Connection &conn, const runtime::StatusFacts &facts,
            const std::vector<compiler::VersionRef> &heads, LazyProject &sources,
            const std::optional<runtime::StatusCache> &cache, const std::string &sourcesKey) {
  const char *schema = "public";
  std::optional<std::string> key;
  std::string fingerprint;
  if (cache) {
    llvm::Expected<runtime::Result> server = conn.exec(runtime::StatusCache::serverFactsQuery());
    if (!server)
      return server.takeError();
    std::vector<std::string> versions;
    for (compiler::VersionRef h : heads)
      versions.push_back(facts.subsystems[h.subsystem].name + "@" + facts.at(h).text);
    key = runtime::StatusCache::declaredKey(sourcesKey, versions, schema,
                                            {server->get(0, 0).str(), server->get(0, 1).str()});
    llvm::Expected<std::string> fp = runtime::catalogFingerprint(conn, schema);
    if (!fp)
      return fp.takeError();
    fingerprint = std::move(*fp);
    if (std::optional<runtime::DriftReport> known = cache->loadDrift(*key, fingerprint)) {
      known->against = heads;
      return std::move(*known);
    }
  }
  std::optional<compiler::Schema> stored;
  if (key)
    stored = cache->loadDeclared(*key);
  if (!stored) {
    const compiler::Project *project = sources.get();
    if (!project)
      return failure("the sources do not compile");
    llvm::Expected<compiler::Schema> built =
        runtime::storedForm(conn, runtime::declaredState(*project, heads), schema);
    if (!built)
      return built.takeError();
    stored = std::move(*built);
    if (key)
      cache->saveDeclared(*key, *stored);
  }
  llvm::Expected<runtime::DriftReport> report =
      runtime::compareWithLive(conn, *stored, heads, schema);
  if (report && key)
    cache->saveDrift(*key, fingerprint, *report);
  return report;
}
} // namespace

int runStatus(const StatusOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err) {
  compiler::Compilation compilation;
  if (!loadSources(compilation, options.run.paths, err))
    return ExitFailure;
  LazyProject sources(compilation, options.run.color, err);
  std::optional<runtime::StatusCache> cache = statusCache(options);
  // --to names versions of the compiled project: the cache serves the default targets only.
  if (!options.run.to.empty())
    cache.reset();
  std::string key = cache ? runtime::sourcesKey(compilation.sources(), STRATA_VERSION) : "";
  std::optional<runtime::StatusFacts> facts;
  if (cache)
    facts = cache->loadFacts(key);
  std::vector<compiler::VersionRef> targets;
  if (!facts) {
    const compiler::Project *project = sources.get();
    if (!project)
      return ExitFailure;
    auto named = parseVersionsFlag(*project, "--to", options.run.to, err);
    if (!named)
      return ExitUsage;
    targets = std::move(*named);
    facts = runtime::StatusFacts::of(*project, sources.versionGraph());
    // Diagnostics must never be lost: sources with warnings are compiled, and their
    // warnings shown, on every run (errors stop before this point).
    if (cache && compilation.diagnostics().warningCount() == 0)
      cache->saveFacts(key, *facts);
  }

  // One connection and one read of the records for the status and its drift warning.
  llvm::Expected<runtime::Connection> conn = runtime::Connection::open(options.run.db);
  if (!conn)
    return reportRunError(conn.takeError(), options.run, err);
  runtime::StateStore store(*conn);
  llvm::Expected<bool> exists = store.exists();
  if (!exists)
    return reportRunError(exists.takeError(), options.run, err);
  std::vector<runtime::NodeRecord> records;
  if (*exists) {
    llvm::Expected<std::vector<runtime::NodeRecord>> r = store.nodes();
    if (!r)
      return reportRunError(r.takeError(), options.run, err);
    records = std::move(*r);
  }
  runtime::DatabaseStatus status = runtime::statusOf(*facts, *exists, records, targets);
  if (*exists) {
    // An apply that was cut short: the sources are compiled (a warm status does not need
    // them otherwise) to number its steps as the plan of the resuming apply does.
    llvm::Expected<std::map<runtime::StepKey, runtime::StepRecord>> started = store.startedSteps();
    if (!started)
      return reportRunError(started.takeError(), options.run, err);
    if (!started->empty()) {
      const compiler::Project *project = sources.get();
      if (!project)
        return ExitFailure;
      std::vector<runtime::Interruption> found =
          runtime::interruptionsOf(*project, sources.versionGraph(), records, *started, targets);
      llvm::Expected<bool> running = runtime::Runner::applyRunning(*conn);
      if (!running)
        return reportRunError(running.takeError(), options.run, err);
      for (runtime::Interruption &i : found)
        i.running = *running;
      status.noteInterruptions(std::move(found));
    }
  }
  if (!status.needsBootstrap) {
    // As warnAboutDrift: not while versions are pending finish (the catalog is then between
    // up and finish on purpose), and never changing the exit code. What the steps of an
    // interrupted version did so far is not drift.
    std::vector<compiler::VersionRef> pending;
    std::vector<compiler::VersionRef> heads = runtime::recordedHeads(*facts, records, &pending);
    if (!heads.empty() && pending.empty()) {
      llvm::Expected<runtime::DriftReport> drift =
          statusDrift(*conn, *facts, heads, sources, cache, key);
      if (drift)
        runtime::leaveOutInFlight(*drift, status.interrupted);
      printDriftWarnings(std::move(drift), options.run.db, err);
    }
  }
  if (options.json) {
    out << statusJson(status) << "\n";
    return status.code();
  }
  out << statusText(status);
  return status.code();
}

int runAppStatus(const StatusOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err) {
  std::vector<std::string> app;
  for (llvm::StringRef rest = options.app; !rest.empty();) {
    auto [item, tail] = rest.split(',');
    if (!item.trim().empty())
      app.push_back(item.trim().str());
    rest = tail;
  }
  strata::Compatibility c = strata::checkCompatibility(options.run.db, app);
  if (c.verdict == strata::Verdict::Error) {
    err << "strata: error: " << c.reason << "\n";
    return strata::exitCode(c.verdict);
  }
  if (options.json) {
    nlohmann::ordered_json subsystems = nlohmann::ordered_json::array();
    for (const strata::SubsystemCheck &s : c.subsystems)
      subsystems.push_back({{"subsystem", s.subsystem},
                            {"version", s.version},
                            {"verdict", strata::verdictName(s.verdict)},
                            {"executed", s.executed},
                            {"pending", s.pending},
                            {"reason", s.reason}});
    nlohmann::ordered_json doc{{"verdict", strata::verdictName(c.verdict)},
                               {"may_start", c.mayStart()},
                               {"window", c.window},
                               {"status", strata::exitCode(c.verdict)},
                               {"reason", c.reason},
                               {"subsystems", subsystems}};
    out << doc.dump(2) << "\n";
    return strata::exitCode(c.verdict);
  }
  for (const strata::SubsystemCheck &s : c.subsystems)
    out << fmt::format("{:<16} {}\n", strata::verdictName(s.verdict), s.reason);
  out << "\n" << c.reason << "\n";
  return strata::exitCode(c.verdict);
}

} // namespace strata::cli
