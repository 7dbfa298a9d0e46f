// Interruption: a version whose apply started and did not complete (a killed `strata
// apply`, a lost connection, a failed step), as `strata status` and `strata diff` report
// it: which phase, at which step of how many, how far its backfill got, and what its
// steps that ran or started left in the catalog.
//
// The facts come from strata's records (StateStore::startedSteps: steps recorded for a
// phase whose node is not recorded as done with it) and from the plan that `apply` would
// make now to resume, which numbers the steps exactly as the runner does. Nothing here
// guesses from names: the objects a started step created are read from its SQL.
#pragma once

#include "compiler/Project.h"
#include "compiler/SqlExpr.h"
#include "planner/Plan.h"
#include "planner/VersionGraph.h"
#include "runtime/StateStore.h"

#include <llvm/ADT/ArrayRef.h>

#include <map>
#include <string>
#include <vector>

namespace strata::runtime {

struct Interruption {
  std::string subsystem;
  std::string version;
  planner::Phase phase = planner::Phase::Up;
  /// The step that runs next when the apply resumes (0-based, as strata_steps numbers
  /// them): the first the records do not show done.
  int step = 0;
  /// How many steps the node has in this phase, in the plan `apply` makes now; 0 when
  /// that plan does not have the node (then `step` and `reason` are what the records say).
  int steps = 0;
  std::string reason;    ///< the next step's one-line reason, from the plan
  bool backfill = false; ///< the next step is a batched backfill that has started
  int64_t rowsDone = 0;  ///< rows its committed batches updated
  /// An apply holds the runner lock: it is running now, not cut short.
  bool running = false;
  /// A step the records show done ran other SQL than the plan's step of that number
  /// (the sources changed since, or another --to): `apply` refuses to resume it.
  bool planChanged = false;
  /// What the steps that ran or started (all but the ones after `step`) created, changed
  /// or dropped, read from their SQL: strata's helper objects (shadow columns, `_strata_nn`
  /// checks, sync and fill triggers, compatibility views) and the version's own changes
  /// made so far. Drift leaves them out.
  std::vector<compiler::SqlObjectRef> objects;

  /// "core@1.2.0".
  std::string node() const { return subsystem + "@" + version; }
  /// "strata apply up": what resumes it.
  std::string command() const;
  /// One line: `reviews@1.2.0: interrupted at step 7 of 11 (backfill, 16,000 rows): run
  /// 'strata apply up' to resume`.
  std::string describe() const;
};

/// The interruptions that \p started (StateStore::startedSteps) shows, one per node and
/// phase, in the order of the steps' keys. \p records are the database's node records
/// and \p targets the --to of the command (empty: every subsystem's latest), so that the
/// plan is the one `apply` would make. Pure: no database.
std::vector<Interruption> interruptionsOf(const compiler::Project &project,
                                          const planner::VersionGraph &graph,
                                          const std::vector<NodeRecord> &records,
                                          const std::map<StepKey, StepRecord> &started,
                                          llvm::ArrayRef<compiler::VersionRef> targets);

/// "16,000": \p n with thousands separated by commas.
std::string groupedNumber(int64_t n);

} // namespace strata::runtime
