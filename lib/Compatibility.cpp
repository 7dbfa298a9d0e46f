// strata::checkCompatibility: Kong's node-start check (refuse when the database needs
// bootstrap or has not run the node's versions; start during the blue/green window), made
// exact for old nodes too: Kong let an old node start after `finish` had contracted the
// schema under it; strata refuses it.
//
// Only the state tables are read (strata_nodes), in one snapshot. Per subsystem, the
// recorded versions are the ancestors of the newest one, H: bootstrap records a target's
// whole closure and `up` every version on the way. So H is the recorded version with the
// highest semver, and a version that never ran is newer than the database exactly when it
// sorts after H. The blue/green window is open while any version is pending; the versions
// its `up` recorded are the pending ones and those that `up` recorded as executed at once
// (nothing for `finish` to do) in the same strata process. The old version of a subsystem
// is its newest version recorded before the window; the new one is H. docs/install.md has
// the table of cases.
#include "strata/strata.h"

#include "compiler/SemVer.h"
#include "runtime/Connection.h"
#include "runtime/StateStore.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>

namespace strata {

namespace {

using compiler::SemVer;

struct Recorded {
  std::string text;
  SemVer semver;
  bool executed = false;
  bool inWindow = false; ///< recorded by the `up` of the open window
};

/// The newest of `list` that satisfies `pred`, if any.
template <typename Pred>
const Recorded *newest(const std::vector<Recorded> &list, Pred pred) {
  const Recorded *best = nullptr;
  for (const Recorded &r : list)
    if (pred(r) && (!best || best->semver < r.semver))
      best = &r;
  return best;
}

SubsystemCheck checkOne(const std::string &subsystem, const std::string &version,
                        const SemVer &wanted, const std::vector<Recorded> &recorded,
                        bool window) {
  SubsystemCheck out;
  out.subsystem = subsystem;
  out.version = version;
  std::string name = subsystem + "@" + version;
  if (recorded.empty()) {
    out.verdict = Verdict::NeedsUp;
    out.reason = fmt::format("{} has never run on this database; run 'strata apply up'", name);
    return out;
  }
  const Recorded *head = newest(recorded, [](const Recorded &) { return true; });
  const Recorded *before = newest(recorded, [](const Recorded &r) { return !r.inWindow; });
  const Recorded *executed = newest(recorded, [](const Recorded &r) { return r.executed; });
  const Recorded *pending = newest(recorded, [](const Recorded &r) { return !r.executed; });
  out.executed = executed ? executed->text : "";
  out.pending = pending ? pending->text : "";
  bool upgrading = window && head->inWindow; // this subsystem changes in the open window

  if (head->semver == wanted) {
    out.verdict = Verdict::Ok;
    out.reason = upgrading ? fmt::format("{}: up ran, finish pending (blue/green window; new "
                                         "node)",
                                         name)
                           : fmt::format("{} is up to date", name);
    return out;
  }
  if (head->semver < wanted) {
    out.verdict = Verdict::NeedsUp;
    out.reason = window ? fmt::format("{} has not run; the database is being upgraded to {}: "
                                      "run 'strata apply finish', then 'strata apply up'",
                                      name, head->text)
                        : fmt::format("{} has not run; the database is at {}: run 'strata "
                                      "apply up'",
                                      name, head->text);
    return out;
  }
  // The application is older than the database: only the old node of an open window.
  if (upgrading && before && before->semver == wanted) {
    out.verdict = Verdict::Ok;
    out.reason = fmt::format("{}: up to {} ran, finish pending (blue/green window; old node, "
                             "until 'strata apply finish')",
                             name, head->text);
    return out;
  }
  out.verdict = Verdict::TooNew;
  if (upgrading)
    out.reason = fmt::format("{}: the database is being upgraded from {} to {}; only those "
                             "two may run until 'strata apply finish'; upgrade the application",
                             name, before ? before->text : "nothing", head->text);
  else
    out.reason = llvm::any_of(recorded, [&](const Recorded &r) { return r.semver == wanted; })
                     ? fmt::format("{}: the database has moved on to {} and finished that "
                                   "upgrade; upgrade the application",
                                   name, head->text)
                     : fmt::format("{} never ran on this database, which is at {} (newer, or "
                                   "another branch); upgrade the application",
                                   name, head->text);
  return out;
}

/// Severity of a refusal, to pick the verdict of the whole application.
int severity(Verdict v) {
  switch (v) {
  case Verdict::Ok:
    return 0;
  case Verdict::NeedsUp:
    return 1;
  case Verdict::TooNew:
    return 2;
  case Verdict::NeedsBootstrap:
    return 3;
  case Verdict::Error:
    return 4;
  }
  return 4;
}

Compatibility failed(std::string reason) {
  Compatibility out;
  out.verdict = Verdict::Error;
  out.reason = std::move(reason);
  return out;
}

} // namespace

Compatibility checkCompatibility(const std::string &conninfo,
                                 const std::vector<std::string> &application) {
  struct Wanted {
    std::string subsystem, version;
    SemVer semver;
  };
  std::vector<Wanted> wanted;
  std::set<std::string> seen;
  for (const std::string &item : application) {
    size_t at = item.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == item.size())
      return failed(fmt::format("'{}': expected SUBSYSTEM@VERSION, such as core@1.0.0", item));
    Wanted w{item.substr(0, at), item.substr(at + 1), {}};
    llvm::Expected<SemVer> v = SemVer::parse(w.version);
    if (!v)
      return failed(fmt::format("'{}': {}", item, llvm::toString(v.takeError())));
    w.semver = std::move(*v);
    if (!seen.insert(w.subsystem).second)
      return failed(fmt::format("subsystem '{}' is listed twice", w.subsystem));
    wanted.push_back(std::move(w));
  }
  if (wanted.empty())
    return failed("no SUBSYSTEM@VERSION given");

  llvm::Expected<runtime::Connection> conn = runtime::Connection::open(conninfo);
  if (!conn)
    return failed(llvm::toString(conn.takeError()));
  runtime::StateStore store(*conn);
  // One snapshot, even while an apply is running; read only, no lock taken.
  if (auto begin = conn->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !begin)
    return failed(llvm::toString(begin.takeError()));
  llvm::Expected<bool> exists = store.exists();
  if (!exists)
    return failed(llvm::toString(exists.takeError()));
  std::vector<runtime::NodeRecord> records;
  if (*exists) {
    llvm::Expected<std::vector<runtime::NodeRecord>> r = store.nodes();
    if (!r)
      return failed(llvm::toString(r.takeError()));
    records = std::move(*r);
  }
  if (auto end = conn->exec("COMMIT"); !end)
    return failed(llvm::toString(end.takeError()));

  Compatibility out;
  if (records.empty()) {
    out.verdict = Verdict::NeedsBootstrap;
    out.reason = "the database needs bootstrap; run 'strata apply bootstrap'";
    for (const Wanted &w : wanted)
      out.subsystems.push_back({w.subsystem, w.version, Verdict::NeedsBootstrap, out.reason, "", ""});
    return out;
  }
  // The open window: every pending version, and what the same processes recorded
  // executed at `up` (nothing to finish).
  std::set<std::string> windowClients;
  for (const runtime::NodeRecord &r : records)
    if (!r.executed)
      windowClients.insert(r.client);
  bool window = !windowClients.empty();
  auto inWindow = [&](const runtime::NodeRecord &r) {
    return !r.executed || (!r.finished && windowClients.count(r.client));
  };

  out.verdict = Verdict::Ok;
  std::vector<std::string> refusals;
  for (const Wanted &w : wanted) {
    std::vector<Recorded> recorded;
    for (const runtime::NodeRecord &r : records) {
      if (r.subsystem != w.subsystem)
        continue;
      if (llvm::Expected<SemVer> v = SemVer::parse(r.version))
        recorded.push_back({r.version, std::move(*v), r.executed, inWindow(r)});
      else
        llvm::consumeError(v.takeError());
    }
    SubsystemCheck check = checkOne(w.subsystem, w.version, w.semver, recorded, window);
    if (severity(check.verdict) > severity(out.verdict))
      out.verdict = check.verdict;
    if (check.verdict != Verdict::Ok)
      refusals.push_back(check.reason);
    out.subsystems.push_back(std::move(check));
  }
  out.window = window;
  if (out.verdict == Verdict::Ok)
    out.reason = out.window ? "may start (blue/green window: a finish is pending)"
                            : "may start (the database is up to date for this application)";
  else
    out.reason = fmt::format("may not start: {}", fmt::join(refusals, "; "));
  return out;
}

const char *verdictName(Verdict verdict) noexcept {
  switch (verdict) {
  case Verdict::Ok:
    return "ok";
  case Verdict::Error:
    return "error";
  case Verdict::NeedsBootstrap:
    return "needs_bootstrap";
  case Verdict::NeedsUp:
    return "needs_up";
  case Verdict::TooNew:
    return "too_new";
  }
  return "error";
}

const char *libraryVersion() noexcept { return STRATA_VERSION; }

} // namespace strata
