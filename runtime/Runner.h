// The runner: `strata apply bootstrap|up|finish`, `status` and `reset` as library
// functions, with Kong's semantics and its failures fixed.
//
// One runner at a time: a session-level advisory lock held by the session that runs the
// steps (so that losing the session loses the lock and stops the run together), taken
// with pg_try_advisory_lock in a polling loop (a blocking pg_advisory_lock would deadlock
// against CREATE INDEX CONCURRENTLY) and released by PostgreSQL if the runner dies. The
// state is re-read under the lock, every step is recorded in its own transaction, and
// losing the race for the lock is an error, never a silent success.
#pragma once

#include "planner/Planner.h"
#include "runtime/Executor.h"
#include "runtime/Interruption.h"
#include "runtime/StateStore.h"

#include <llvm/ADT/STLFunctionalExtras.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/raw_ostream.h>

#include <chrono>
#include <string>
#include <vector>

namespace strata::runtime {

/// Kong's `migrations list` exit codes, kept by `strata status`, and one of strata's own:
/// an apply that started and did not complete (see docs/cli.md for why not 4 or 5).
enum StatusCode : int {
  StatusUpToDate = 0,
  StatusNeedsBootstrap = 3,
  StatusPendingFinish = 4,
  StatusNewOnly = 5,
  /// Not Kong's: a version was edited after it ran, which `apply` refuses until it is
  /// restored (6 is `status --app`'s "too new").
  StatusChanged = 7,
  /// Not Kong's: an apply started and did not complete; `apply` resumes it.
  StatusInterrupted = 8,
};

struct SubsystemStatus {
  std::string name;
  std::vector<std::string> executed;
  std::vector<std::string> pending; ///< up ran, finish has not
  std::vector<std::string> fresh;   ///< declared, needed by the target, not run
  std::vector<std::string> changed; ///< ran with another checksum
  std::vector<std::string> unknown; ///< recorded but not declared (ignored, as Kong does)
  /// With changed versions: the version to suggest for the change (`strata new version`).
  std::string nextVersion;
  /// started and not complete (see DatabaseStatus::interrupted); listed neither as
  /// pending nor as fresh
  std::vector<std::string> interrupted;
};

struct DatabaseStatus {
  bool needsBootstrap = true;
  std::vector<SubsystemStatus> subsystems;
  /// Versions whose apply started and did not complete; they decide the code.
  std::vector<Interruption> interrupted;
  StatusCode code() const;
  /// Records \p found in interrupted and in each subsystem's list, moving those versions
  /// out of its pending and fresh lists.
  void noteInterruptions(std::vector<Interruption> found);
};

/// What `apply up` would do from the database's records: the plan to run, or the refusal
/// (an llvm::Error from Runner::decideUp). `apply up` runs it and `plan up --db` prints
/// it, so that the dry run and the run never disagree.
struct UpDecision {
  planner::Plan plan;
  /// Changed versions that --force re-runs: their records are forgotten before the run.
  std::vector<NodeRecord> rerun;
  /// Versions pending finish before the run, as "subsystem@version".
  std::vector<std::string> pending;
  bool nothingToDo() const { return plan.applies.empty(); }
};

/// What `apply finish` would do: the plan and the pending versions it finishes, in plan
/// order (none: "no versions pending finish").
struct FinishDecision {
  planner::Plan plan;
  std::vector<planner::NodeId> finishes;
};

/// What `strata reset` drops, for its confirmation: named as psql users know a database.
struct ResetTargets {
  std::string host, port, database, user;
  std::vector<std::string> tables, views, functions, types;
  std::vector<std::string> state; ///< strata's own tables
};

struct RunnerOptions {
  std::string connInfo;
  std::vector<compiler::VersionRef> targets; ///< empty: every subsystem's latest
  bool force = false;
  /// How long to wait for another runner to finish (--lock-timeout), polling.
  std::chrono::milliseconds runnerLockWait{60'000};
  ExecOptions exec;
  std::string strataVersion = "0.1.0";
};

class Runner {
public:
  Runner(const compiler::Project &project, const planner::VersionGraph &graph,
         planner::Locator locate, RunnerOptions options, llvm::raw_ostream &log)
      : project(project), graph(graph), locate(std::move(locate)), options(std::move(options)),
        log(log) {}

  llvm::Error bootstrap();
  llvm::Error up();
  llvm::Error finish();
  /// Runs a plan saved by `strata plan -o`, after checking that the database is still in
  /// the state the plan was made from.
  llvm::Error runPlanFile(const planner::Plan &plan);
  llvm::Expected<DatabaseStatus> status();
  /// `strata apply baseline`: records an existing database that strata does not manage
  /// yet as being at options.targets (and the versions they were built on), as bootstrap
  /// would have, without running anything. Refuses, listing the differences, unless the
  /// catalog matches their declared state (checkDrift); refuses a managed database, and
  /// targets that require a subsystem they do not name.
  llvm::Error baseline();
  /// Drops what strata created: the declared tables and types of the recorded versions,
  /// then strata's own state tables. \p confirm is asked first, under the runner lock,
  /// with the database and everything that would be dropped; false (no drop) when it
  /// says no.
  llvm::Expected<bool> reset(llvm::function_ref<bool(const ResetTargets &)> confirm);

  /// `apply up`'s decision from \p records (see UpDecision): refuses, as `apply up` does,
  /// a database that needs bootstrap, versions changed since they ran (unless \p force
  /// can re-run them), and new versions on top of versions pending finish (unless
  /// \p force). Compatibility errors of the plan are in the plan, not a refusal: `plan`
  /// prints them, `apply` refuses them.
  static llvm::Expected<UpDecision>
  decideUp(const compiler::Project &project, const planner::VersionGraph &graph,
           const planner::Locator &locate, const std::vector<NodeRecord> &records,
           llvm::ArrayRef<compiler::VersionRef> targets, bool force);
  /// `apply finish`'s decision from \p records: refuses versions changed since they ran;
  /// plans the finish of the pending versions only (new versions wait for the next up).
  static llvm::Expected<FinishDecision> decideFinish(const compiler::Project &project,
                                                     const planner::VersionGraph &graph,
                                                     const planner::Locator &locate,
                                                     const std::vector<NodeRecord> &records,
                                                     llvm::ArrayRef<compiler::VersionRef> targets);

  /// Refuses a bootstrap of \p plan into a database that already has tables or types
  /// that it would create, naming them: strata did not create them, and `apply baseline`
  /// adopts such a database (docs/adopting.md). A bootstrap that was cut short (steps
  /// recorded) resumes and is not refused.
  static llvm::Error checkBootstrapInto(Connection &conn, const compiler::Project &project,
                                        const planner::Plan &plan);

  /// Refuses a finish while an `up` of the database on \p conn was cut short half-way
  /// through a version: finishing the versions below it would change what its completed
  /// steps were planned from. `apply finish` and `plan finish --db` both ask.
  static llvm::Error refuseFinishUnderInterruptedUp(Connection &conn);

  /// The request of `apply finish` from \p start: the latest executed node of each
  /// subsystem as targets, so that new versions are left out.
  static planner::PlanRequest finishRequest(const planner::VersionGraph &graph,
                                            const planner::StartingPoint &start);
  /// The nodes of \p plan, an up planned from \p request, that `apply up` records as
  /// pending finish: those with finish steps, in the order of the first one.
  static llvm::Expected<std::vector<planner::NodeId>>
  pendingAfterUp(const compiler::Project &project, const planner::VersionGraph &graph,
                 planner::PlanRequest request, const planner::Plan &plan,
                 const planner::Locator &locate);
  /// Whether a strata apply holds the runner lock on \p conn's database now.
  static llvm::Expected<bool> applyRunning(Connection &conn);
  /// What an apply cut short left (or one that runs now), read from the records of the
  /// database on \p conn (Interruption, StateStore::startedSteps).
  static llvm::Expected<std::vector<Interruption>>
  interruptions(Connection &conn, const compiler::Project &project,
                const planner::VersionGraph &graph, const std::vector<NodeRecord> &records,
                llvm::ArrayRef<compiler::VersionRef> targets);

  /// The starting point recorded in the database (read under the lock by apply).
  static llvm::Expected<planner::StartingPoint>
  startingPoint(const compiler::Project &project, const std::vector<NodeRecord> &records,
                bool force, std::vector<NodeRecord> *changed);

  /// The advisory lock key of the runner lock ("one runner at a time").
  static const char *runnerLockKey();

private:
  struct Session;
  llvm::Expected<std::unique_ptr<Session>> open();
  llvm::Error runSteps(Session &session, const planner::Plan &plan, planner::Phase phase,
                       const std::vector<planner::NodeId> &nodes,
                       const std::vector<planner::NodeId> &pendingAfterUp, bool recordNodes = true);
  /// Records every node of a completed bootstrap plan, in one transaction.
  llvm::Error recordBootstrap(Session &session, const planner::Plan &plan);

  const compiler::Project &project;
  const planner::VersionGraph &graph;
  planner::Locator locate;
  RunnerOptions options;
  llvm::raw_ostream &log;
};

} // namespace strata::runtime
