// libstrata: the node-start contract for applications (Kong's start-time check, made a
// library). An application built for some versions of some subsystems asks, before it
// serves, whether it may run on a database now:
//
//   strata::Compatibility c = strata::checkCompatibility(conninfo, {"core@1.1.0", "acl@1.0.0"});
//   if (!c.mayStart()) { std::cerr << c.reason << "\n"; return strata::exitCode(c.verdict); }
//
// The answer comes from strata's state tables alone (strata_nodes: which versions ran `up`,
// which ran `finish`), read in one snapshot; no .strata source is needed at run time. See
// docs/install.md for the rules and why they need no version graph.
//
// Stable API: plain structs and free functions of the standard library only; no LLVM,
// libpq or strata-internal type appears here. Never throws (std::bad_alloc aside).
#pragma once

#include <strata/version.h>

#include <string>
#include <vector>

// libstrata.so is built with hidden visibility: only what is marked here is exported.
#define STRATA_API __attribute__((visibility("default")))

namespace strata {

/// May the application start? Values are the exit codes of `strata status --app` and stay
/// stable.
enum class Verdict : int {
  Ok = 0,             ///< up to date, or inside the blue/green window (see Compatibility::window)
  Error = 1,          ///< could not tell: bad arguments, cannot connect, cannot read the state
  NeedsBootstrap = 3, ///< no strata state in the database: run `strata apply bootstrap`
  NeedsUp = 5,        ///< the application's versions have not run: run `strata apply up`
  TooNew = 6,         ///< the database is past the application (a newer `finish` ran): upgrade it
};

/// The answer for one subsystem of the application.
struct SubsystemCheck {
  std::string subsystem;
  std::string version; ///< what the application is built for
  Verdict verdict = Verdict::Error;
  std::string reason;           ///< one line
  std::string executed; ///< the newest version recorded as executed; "" if none
  std::string pending;  ///< the newest version whose `up` ran and `finish` has not; "" if none
};

struct Compatibility {
  Verdict verdict = Verdict::Error;
  std::string reason; ///< one line: why it may not start, or in which state it may
  /// The database is inside a blue/green window: an `up` ran, its `finish` has not, and
  /// old and new nodes share the database until it runs.
  bool window = false;
  std::vector<SubsystemCheck> subsystems;

  bool mayStart() const noexcept { return verdict == Verdict::Ok; }
};

/// Checks the database at `conninfo` (a libpq connection string or postgres:// URI; "" uses
/// the PG* variables, as psql does) for an application built for `application`, a list of
/// "SUBSYSTEM@VERSION" with exact versions as declared in the .strata files. Subsystems in
/// the database that the application does not list are ignored, as Kong does.
STRATA_API Compatibility checkCompatibility(const std::string &conninfo,
                                            const std::vector<std::string> &application);

/// "ok", "error", "needs_bootstrap", "needs_up", "too_new".
STRATA_API const char *verdictName(Verdict verdict) noexcept;

/// The exit code a start script should use for a verdict (its numeric value).
inline int exitCode(Verdict verdict) noexcept { return static_cast<int>(verdict); }

/// The version of the library that is linked (strata's version), such as "0.1.0".
STRATA_API const char *libraryVersion() noexcept;

} // namespace strata
