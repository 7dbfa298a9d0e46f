#include "runtime/Runner.h"

#include "compiler/Fold.h"
#include "planner/Sql.h"
#include "runtime/ConnInfo.h"
#include "runtime/Drift.h"
#include "runtime/StatusFacts.h"

#include <fmt/format.h>

#include <map>
#include <set>
#include <thread>

namespace strata::runtime {

namespace {
llvm::Error failure(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The advisory lock key of `strata apply` (per database, as advisory locks are).
constexpr const char *lockKey = "7308327893412620645"; // "strata\0e" as an int64

std::string nodeName(const planner::NodeId &n) { return n.subsystem + "@" + n.version; }

int64_t millisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}
} // namespace

StatusCode DatabaseStatus::code() const {
  // First: whatever else the records say, the database is half-way through a version.
  if (!interrupted.empty())
    return StatusInterrupted;
  if (needsBootstrap)
    return StatusNeedsBootstrap;
  bool pending = false, fresh = false, changed = false;
  for (const SubsystemStatus &s : subsystems) {
    pending |= !s.pending.empty();
    fresh |= !s.fresh.empty();
    changed |= !s.changed.empty();
  }
  // Fix: an edited version said "up to date" (exit 0) while apply refused it, so a CI gate
  // on status passed. It comes first: neither up nor finish runs until it is restored.
  if (changed)
    return StatusChanged;
  if (pending)
    return StatusPendingFinish;
  if (fresh)
    return StatusNewOnly;
  return StatusUpToDate;
}

void DatabaseStatus::noteInterruptions(std::vector<Interruption> found) {
  for (const Interruption &i : found)
    for (SubsystemStatus &s : subsystems) {
      if (s.name != i.subsystem)
        continue;
      llvm::erase_value(s.fresh, i.version);
      llvm::erase_value(s.pending, i.version);
      if (!llvm::is_contained(s.interrupted, i.version))
        s.interrupted.push_back(i.version);
    }
  interrupted = std::move(found);
}

llvm::Error Runner::refuseFinishUnderInterruptedUp(Connection &conn) {
  // Fix: finish ran while an up was cut short half-way through a version, which changed
  // the starting point that version's completed steps were planned from: the resumed up
  // then met other SQL for those steps (or dropped what they still needed).
  StateStore store(conn);
  llvm::Expected<std::map<StepKey, StepRecord>> started = store.startedSteps();
  if (!started)
    return started.takeError();
  for (const auto &[key, record] : *started)
    if (key.phase == "up")
      return failure(fmt::format("{}@{}: its up was interrupted (step {} ran); run 'strata "
                                 "apply up' to complete it before finishing",
                                 key.subsystem, key.version, key.step + 1));
  return llvm::Error::success();
}

planner::PlanRequest Runner::finishRequest(const planner::VersionGraph &graph,
                                           const planner::StartingPoint &start) {
  planner::PlanRequest request;
  request.phase = planner::Phase::Finish;
  request.start = start;
  // The latest executed node per subsystem as target.
  for (const planner::StartingPoint::Entry &e : start.executed) {
    compiler::VersionRef t = e.node;
    bool dominated = false;
    for (const planner::StartingPoint::Entry &other : start.executed)
      if (!(other.node == t) && llvm::is_contained(graph.closure({other.node}), t))
        dominated = true;
    if (!dominated && llvm::none_of(request.targets, [&](compiler::VersionRef h) {
          return h.subsystem == t.subsystem;
        }))
      request.targets.push_back(t);
  }
  return request;
}

const char *Runner::runnerLockKey() { return lockKey; }

llvm::Expected<bool> Runner::applyRunning(Connection &conn) {
  llvm::Expected<Result> r = conn.exec(fmt::format(
      "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
      "database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND "
      "(classid::bigint << 32 | objid::bigint) = {} AND pid <> pg_backend_pid())",
      lockKey));
  if (!r)
    return r.takeError();
  return r->get(0, 0) == "t";
}

llvm::Expected<std::vector<Interruption>>
Runner::interruptions(Connection &conn, const compiler::Project &project,
                      const planner::VersionGraph &graph, const std::vector<NodeRecord> &records,
                      llvm::ArrayRef<compiler::VersionRef> targets) {
  StateStore store(conn);
  llvm::Expected<std::map<StepKey, StepRecord>> started = store.startedSteps();
  if (!started)
    return started.takeError();
  if (started->empty())
    return std::vector<Interruption>{};
  std::vector<Interruption> out = interruptionsOf(project, graph, records, *started, targets);
  llvm::Expected<bool> running = applyRunning(conn);
  if (!running)
    return running.takeError();
  for (Interruption &i : out)
    i.running = *running;
  return out;
}

// Fix: the runner lock is held by the session that does the work. It was held by a
// second, idle connection: when that one was terminated (pg_terminate_backend by an
// administrator, idle_session_timeout, a pooler or a firewall dropping idle sessions)
// PostgreSQL released the lock while the runner went on, and a waiting runner took it
// and ran the same steps at the same time (the same backfill twice, its progress records
// overwriting each other, then "constraint already exists"). Now the lock and the work
// share one fate: whatever ends the session ends the run at its next statement.
struct Runner::Session {
  Connection work;
};

llvm::Expected<std::unique_ptr<Runner::Session>> Runner::open() {
  llvm::Expected<Connection> work = Connection::open(options.connInfo);
  if (!work)
    return work.takeError();
  auto session = std::make_unique<Session>(Session{std::move(*work)});
  // Fix: PostgreSQL notices a dead client only when it next talks to it, so the backend
  // of a killed strata went on with its statement unobserved (a concurrent index build
  // for hours, waiting for old snapshots for ever) while holding a lock the next run
  // needs. PostgreSQL 14+ can check the socket while a statement runs; older servers do
  // not know the setting, which is then left alone.
  if (llvm::Expected<Result> r = session->work.exec("SET client_connection_check_interval = 1000");
      !r)
    llvm::consumeError(r.takeError());
  // Poll, never block: a session waiting in pg_advisory_lock holds a snapshot that a
  // concurrent index build in the holder's session would wait for, forever.
  auto start = std::chrono::steady_clock::now();
  bool announced = false;
  for (;;) {
    llvm::Expected<Result> r =
        session->work.exec(fmt::format("SELECT pg_try_advisory_lock({})", lockKey));
    if (!r)
      return r.takeError();
    if (r->get(0, 0) == "t")
      return session;
    auto waited = std::chrono::steady_clock::now() - start;
    if (waited >= options.runnerLockWait) {
      std::string holder;
      llvm::Expected<Result> who = session->work.exec(fmt::format(
          "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.client_addr::text, "
          "'local'), now() - a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON "
          "a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND "
          "(l.classid::bigint << 32 | l.objid::bigint) = {} LIMIT 1",
          lockKey));
      if (who && who->rows() == 1)
        holder = fmt::format(" (backend pid {}, from {}, connected {} ago)", who->get(0, 0).str(),
                             who->get(0, 2).str(), who->get(0, 3).str());
      else if (!who)
        llvm::consumeError(who.takeError());
      return failure(fmt::format("another strata apply is running on this database{}; gave up "
                                 "after waiting {} s (--lock-timeout)",
                                 holder, options.runnerLockWait.count() / 1000.0));
    }
    if (!announced) {
      log << "waiting for another strata apply to finish...\n";
      // Fix: flushed. To a pipe (a CI log) the line came out only when the wait was over.
      log.flush();
      announced = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

llvm::Expected<planner::StartingPoint> Runner::startingPoint(const compiler::Project &project,
                                                             const std::vector<NodeRecord> &records,
                                                             bool force,
                                                             std::vector<NodeRecord> *changed) {
  planner::StartingPoint start;
  for (const NodeRecord &r : records) {
    auto s = project.findSubsystem(r.subsystem);
    if (!s)
      continue; // a subsystem this project no longer declares: ignored, as Kong does
    const compiler::Subsystem &sub = project.subsystems[*s];
    std::optional<unsigned> v;
    for (unsigned i = 0; i < sub.versions.size(); ++i)
      if (sub.versions[i].text == r.version)
        v = i;
    if (!v)
      continue; // a version squashed away before the baseline: ignored
    if (sub.versions[*v].checksum != r.checksum) {
      if (changed)
        changed->push_back(r);
      if (force)
        continue; // re-run: treated as new
    }
    start.executed.push_back({{*s, *v}, r.executed});
  }
  return start;
}

llvm::Expected<DatabaseStatus> Runner::status() {
  llvm::Expected<Connection> conn = Connection::open(options.connInfo);
  if (!conn)
    return conn.takeError();
  StateStore store(*conn);
  llvm::Expected<bool> exists = store.exists();
  if (!exists)
    return exists.takeError();
  std::vector<NodeRecord> records;
  if (*exists) {
    // One statement: one consistent snapshot of the state, even while an apply is
    // running (a transaction around it only added two round trips).
    llvm::Expected<std::vector<NodeRecord>> r = store.nodes();
    if (!r)
      return r.takeError();
    records = std::move(*r);
  }
  // The same pure function that a warm status cache feeds (runtime/StatusFacts.h).
  DatabaseStatus out = statusOf(StatusFacts::of(project, graph), *exists, records, options.targets);
  if (*exists) {
    llvm::Expected<std::vector<Interruption>> found =
        interruptions(*conn, project, graph, records, options.targets);
    if (!found)
      return found.takeError();
    out.noteInterruptions(std::move(*found));
  }
  return out;
}

llvm::Error Runner::runSteps(Session &session, const planner::Plan &plan, planner::Phase phase,
                             const std::vector<planner::NodeId> &nodes,
                             const std::vector<planner::NodeId> &pendingAfterUp, bool recordNodes) {
  StateStore store(session.work);
  llvm::Expected<std::map<StepKey, StepRecord>> done = store.steps();
  if (!done)
    return done.takeError();
  if (recordNodes)
    if (llvm::Error err = store.prepareRecords())
      return err;
  Executor executor(session.work, options.exec);
  // Each node's steps, in plan order (looked up, not searched for: scanning every step for
  // every node was quadratic in the size of the plan).
  std::map<std::pair<llvm::StringRef, llvm::StringRef>, std::vector<const planner::Step *>> stepsOf;
  for (const planner::Step &step : plan.steps)
    stepsOf[{step.subsystem, step.version}].push_back(&step);
  static const std::vector<const planner::Step *> noSteps;
  auto stepsOfNode =
      [&](const planner::NodeId &node) -> const std::vector<const planner::Step *> & {
    auto own = stepsOf.find({node.subsystem, node.version});
    return own == stepsOf.end() ? noSteps : own->second;
  };
  auto keyOf = [](const planner::Step &step, int index) {
    return StepKey{step.subsystem, step.version, planner::phaseName(step.phase), index};
  };
  auto previousOf = [&](const planner::Step &step, int index) -> const StepRecord * {
    auto it = done->find(keyOf(step, index));
    return it == done->end() ? nullptr : &it->second;
  };
  const char *phaseText = phase == planner::Phase::Finish ? "finish" : planner::phaseName(phase);
  auto recordOf = [&](const planner::NodeId &node) {
    bool pending = phase == planner::Phase::Up && llvm::is_contained(pendingAfterUp, node);
    return NodeRecord{node.subsystem, node.version, node.checksum, !pending};
  };
  auto logNode = [&](const NodeRecord &record) {
    log << fmt::format("{}@{} {}: {}\n", record.subsystem, record.version,
                       phase == planner::Phase::Up ? "migrated up" : planner::phaseName(phase),
                       record.executed ? "executed" : "pending finish");
    log.flush();
  };

  // One node, a step at a time.
  auto runNode = [&](const planner::NodeId &node) -> llvm::Error {
    auto start = std::chrono::steady_clock::now();
    const std::vector<const planner::Step *> &steps = stepsOfNode(node);
    NodeRecord record = recordOf(node);
    bool recorded = !recordNodes;
    for (size_t i = 0; i < steps.size(); ++i) {
      const planner::Step &step = *steps[i];
      int index = static_cast<int>(i);
      const StepRecord *previous = previousOf(step, index);
      // The node's record commits with its last step when that step is one transaction:
      // one round trip and one transaction for a small version instead of two of each.
      std::string alsoCommit;
      if (!recorded && i + 1 == steps.size() && Executor::runsInOneTransaction(step, previous)) {
        alsoCommit = StateStore::recordNodeSql(record, phaseText,
                                               StateStore::nodeMillisSql(millisSince(start)),
                                               options.strataVersion);
        recorded = true;
      }
      if (llvm::Error err = executor.run(step, index, previous, alsoCommit))
        return llvm::joinErrors(
            failure(fmt::format("{} {} step {} failed ({}; at {}); fix the cause and run "
                                "'strata apply {}' again: it resumes here",
                                nodeName(node), planner::phaseName(step.phase), index + 1,
                                step.reason, step.location.empty() ? "?" : step.location,
                                planner::phaseName(phase))),
            std::move(err));
    }
    if (!recordNodes)
      return llvm::Error::success();
    if (!recorded)
      if (llvm::Error err =
              store.recordNode(record, phaseText, millisSince(start), options.strataVersion))
        return err;
    logNode(record);
    return llvm::Error::success();
  };

  // Consecutive nodes whose steps all can go to the server together (Executor::canBatch)
  // do, up to batchLimit transactions in a message: one round trip for them all instead
  // of one per transaction, which is what a remote server makes expensive. Each still
  // commits in a transaction of its own with its record, so a crash or a failure leaves
  // the same states as a step at a time: the nodes before it done, the rest not run.
  constexpr size_t batchLimit = 64;
  auto canBatch = [&](const planner::NodeId &node) {
    const std::vector<const planner::Step *> &steps = stepsOfNode(node);
    if (steps.empty() || options.exec.beforeHook)
      return false;
    for (size_t i = 0; i < steps.size(); ++i)
      if (!Executor::canBatch(*steps[i], previousOf(*steps[i], static_cast<int>(i))))
        return false;
    return true;
  };
  size_t next = 0;
  while (next < nodes.size()) {
    std::vector<Executor::Pending> batch;
    std::vector<NodeRecord> records; ///< of the batch's nodes
    std::vector<size_t> lastItem;    ///< each batched node's last item in `batch`
    size_t end = next;
    for (; end < nodes.size() && canBatch(nodes[end]) &&
           batch.size() + stepsOfNode(nodes[end]).size() <= batchLimit;
         ++end) {
      const std::vector<const planner::Step *> &steps = stepsOfNode(nodes[end]);
      records.push_back(recordOf(nodes[end]));
      for (size_t i = 0; i < steps.size(); ++i)
        batch.push_back({steps[i], static_cast<int>(i), ""});
      lastItem.push_back(batch.size() - 1);
      if (recordNodes)
        batch.back().alsoCommit = StateStore::recordNodeSql(
            records.back(), phaseText,
            StateStore::nodeMillisSql(records.back(), planner::phaseName(phase), steps.size() > 1),
            options.strataVersion);
    }
    if (end - next < 2) {
      if (llvm::Error err = runNode(nodes[next]))
        return err;
      ++next;
      continue;
    }
    size_t node = 0;
    size_t committed = executor.runBatch(batch, [&](size_t item) {
      // What committed is done: a node that failed later in the batch skips it when it
      // runs again below.
      const Executor::Pending &p = batch[item];
      (*done)[keyOf(*p.step, p.index)] = StepRecord{true, Executor::hashOf(*p.step), {}, 0};
      if (item == lastItem[node]) {
        if (recordNodes)
          logNode(records[node]);
        ++node;
      }
    });
    next += node;
    if (committed < batch.size()) {
      // The node that failed runs alone: its failed transaction again, with retries for
      // a lock timeout and the full error for anything else.
      if (llvm::Error err = runNode(nodes[next]))
        return err;
      ++next;
    }
  }
  return llvm::Error::success();
}

llvm::Error Runner::recordBootstrap(Session &session, const planner::Plan &plan) {
  // Fix: every node of a bootstrap is recorded at its end, in one transaction. Recorded
  // target by target, a bootstrap killed between two subsystems left a database that
  // counted as bootstrapped with only some of its nodes (and none of their ancestors):
  // bootstrap then refused to resume and up re-ran versions whose tables existed.
  // Unrecorded, a cut-short bootstrap still needs bootstrap, which resumes (its
  // completed steps are in strata_steps).
  StateStore store(session.work);
  if (llvm::Expected<Result> begin = session.work.exec("BEGIN"); !begin)
    return begin.takeError();
  for (const planner::NodeId &n : plan.applies)
    if (llvm::Error err = store.recordNode({n.subsystem, n.version, n.checksum, true}, "bootstrap",
                                           0, options.strataVersion)) {
      if (auto rb = session.work.exec("ROLLBACK"); !rb)
        llvm::consumeError(rb.takeError());
      return err;
    }
  if (llvm::Expected<Result> commit = session.work.exec("COMMIT"); !commit)
    return commit.takeError();
  for (const planner::NodeId &n : plan.to)
    log << fmt::format("{} bootstrap: executed\n", nodeName(n));
  log.flush();
  return llvm::Error::success();
}

llvm::Error Runner::checkBootstrapInto(Connection &conn, const compiler::Project &project,
                                       const planner::Plan &plan) {
  StateStore store(conn);
  llvm::Expected<bool> exists = store.exists();
  if (!exists)
    return exists.takeError();
  if (*exists) {
    llvm::Expected<std::map<StepKey, StepRecord>> steps = store.steps();
    if (!steps)
      return steps.takeError();
    if (llvm::any_of(*steps, [](const auto &s) { return s.first.phase == "bootstrap"; }))
      return llvm::Error::success(); // resuming: its own tables are expected
  }
  std::vector<compiler::VersionRef> targets;
  std::vector<std::string> targetNames;
  for (const planner::NodeId &n : plan.to) {
    auto s = project.findSubsystem(n.subsystem);
    auto v = s ? project.subsystems[*s].findVersion(n.version) : std::nullopt;
    if (!v)
      continue;
    targets.push_back({*s, *v});
    targetNames.push_back(nodeName(n));
  }
  compiler::Schema declared = declaredState(project, targets);
  std::vector<std::string> tables, types;
  for (const auto &[name, _] : declared.tables())
    tables.push_back(planner::sql::literal(name));
  for (const auto &[name, _] : declared.enums())
    types.push_back(planner::sql::literal(name));
  if (tables.empty() && types.empty())
    return llvm::Error::success();
  // Fix: bootstrap into a database that already had the tables failed late, at the first
  // CREATE that clashed, with no word of `apply baseline`. Any relation of the schema
  // counts (an index or a view holds a table's name as well).
  llvm::Expected<Result> found = conn.exec(fmt::format(
      "SELECT kind, name FROM (SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'i' THEN "
      "'index' WHEN 'S' THEN 'sequence' ELSE 'table' END AS kind, c.relname::text AS name "
      "FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = "
      "ANY (ARRAY[{}]::text[]) UNION ALL SELECT 'type', t.typname::text FROM pg_type t WHERE "
      "t.typnamespace = current_schema()::regnamespace AND t.typtype <> 'c' AND t.typname = "
      "ANY (ARRAY[{}]::text[])) x ORDER BY kind, name",
      tables.empty() ? "NULL" : fmt::format("{}", fmt::join(tables, ", ")),
      types.empty() ? "NULL" : fmt::format("{}", fmt::join(types, ", "))));
  if (!found)
    return found.takeError();
  if (found->rows() == 0)
    return llvm::Error::success();
  std::vector<std::string> names;
  for (int i = 0; i < found->rows(); ++i)
    names.push_back(fmt::format("{} \"{}\"", found->get(i, 0).str(), found->get(i, 1).str()));
  return failure(fmt::format(
      "the database already has {} that bootstrap would create: bootstrap needs a database "
      "without them; to adopt a database built by these versions, record it with 'strata "
      "apply baseline --to {}' (see docs/adopting.md); nothing was run",
      fmt::join(names, ", "), fmt::join(targetNames, ",")));
}

llvm::Error Runner::bootstrap() {
  llvm::Expected<std::unique_ptr<Session>> session = open();
  if (!session)
    return session.takeError();
  StateStore store((*session)->work);
  llvm::Expected<bool> exists = store.exists();
  if (!exists)
    return exists.takeError();
  if (*exists) {
    llvm::Expected<std::vector<NodeRecord>> records = store.nodes();
    if (!records)
      return records.takeError();
    if (!records->empty())
      return failure("the database is already bootstrapped; run 'strata apply up' to upgrade it");
  }
  planner::PlanRequest request;
  request.phase = planner::Phase::Bootstrap;
  request.targets = options.targets;
  llvm::Expected<planner::Plan> plan = planner::makePlan(project, graph, request, locate);
  if (!plan)
    return plan.takeError();
  if (llvm::Error err = checkBootstrapInto((*session)->work, project, *plan))
    return err;
  if (llvm::Error err = store.ensure(options.strataVersion))
    return err;
  log << "bootstrapping the database...\n";
  // Bootstrap steps belong to the target nodes; every node they contain is recorded.
  if (llvm::Error err = runSteps(**session, *plan, planner::Phase::Bootstrap, plan->to, {},
                                 /*recordNodes=*/false))
    return err;
  if (llvm::Error err = recordBootstrap(**session, *plan))
    return err;
  // Fix: a bootstrap --to an old release said "database is up to date" while status then
  // exited 5. The verdict is status's own, against every subsystem's latest version.
  std::vector<NodeRecord> recorded;
  for (const planner::NodeId &n : plan->applies)
    recorded.push_back({n.subsystem, n.version, n.checksum, true});
  DatabaseStatus after = statusOf(StatusFacts::of(project, graph), true, recorded, {});
  std::vector<std::string> newer;
  for (const SubsystemStatus &s : after.subsystems)
    for (const std::string &v : s.fresh)
      newer.push_back(s.name + "@" + v);
  if (newer.empty()) {
    log << "database is up to date\n";
    return llvm::Error::success();
  }
  std::vector<std::string> at;
  for (const planner::NodeId &n : plan->to)
    at.push_back(nodeName(n));
  log << fmt::format("database is at {}; newer versions are not applied: {}; run 'strata apply "
                     "up' to proceed\n",
                     fmt::join(at, ", "), fmt::join(newer, ", "));
  return llvm::Error::success();
}

namespace {
/// A version number to suggest for `strata new version`: the patch after the subsystem's
/// highest version.
std::string nextVersion(const compiler::Subsystem &sub) {
  std::vector<std::string> texts;
  for (const compiler::Version &v : sub.versions)
    texts.push_back(v.text);
  return nextPatchVersion(texts);
}

/// The advice for versions edited after they ran: what always works is to leave them as
/// they ran and put the change in a new version; --force only where it would run.
std::string changedAdvice(const compiler::Project &project, const std::vector<NodeRecord> &changed,
                          bool forceWouldRun) {
  std::vector<std::string> names, news;
  std::set<std::string> subsystems;
  for (const NodeRecord &r : changed) {
    names.push_back(r.subsystem + "@" + r.version);
    if (subsystems.insert(r.subsystem).second)
      news.push_back(
          fmt::format("'strata new version {} {}'", r.subsystem,
                      nextVersion(project.subsystems[*project.findSubsystem(r.subsystem)])));
  }
  std::string out = fmt::format(
      "{} changed since {} ran (checksum differs): restore {} as {} ran and put the change in a "
      "new version ({})",
      fmt::join(names, ", "), names.size() == 1 ? "it" : "they", names.size() == 1 ? "it" : "them",
      names.size() == 1 ? "it" : "they", fmt::join(news, ", "));
  if (forceWouldRun)
    out += "; or, for a release candidate, re-run it with 'strata apply up --force'";
  return out;
}

} // namespace

llvm::Expected<UpDecision>
Runner::decideUp(const compiler::Project &project, const planner::VersionGraph &graph,
                 const planner::Locator &locate, const std::vector<NodeRecord> &records,
                 llvm::ArrayRef<compiler::VersionRef> targets, bool force) {
  if (records.empty())
    return failure("the database needs bootstrap; run 'strata apply bootstrap'");
  std::vector<NodeRecord> changed;
  llvm::Expected<planner::StartingPoint> start = startingPoint(project, records, force, &changed);
  if (!start)
    return start.takeError();
  // Fix: --force re-runs a changed version as new, so what stays recorded must still be
  // closed under dependencies. A changed version that a kept one was built on (1.0.0
  // edited under 1.1.0) gave the planner a start without its base, and it crashed; the
  // records had already been deleted by then. Checked before the refusal without
  // --force, so that the refusal offers --force only where it would run.
  std::vector<std::string> builtOnAll;
  const NodeRecord *builtOnChanged = nullptr;
  for (const NodeRecord &c : changed) {
    unsigned sub = *project.findSubsystem(c.subsystem); // startingPoint knew it
    compiler::VersionRef ref{sub, *project.subsystems[sub].findVersion(c.version)};
    std::vector<std::string> builtOn;
    for (const NodeRecord &r : records) {
      auto s = project.findSubsystem(r.subsystem);
      auto v = s ? project.subsystems[*s].findVersion(r.version) : std::nullopt;
      // Changed versions are re-run together: only a kept one is in the way.
      bool rerunToo = llvm::any_of(changed, [&](const NodeRecord &o) {
        return o.subsystem == r.subsystem && o.version == r.version;
      });
      if (!v || rerunToo)
        continue;
      if (llvm::is_contained(graph.closure({{*s, *v}}), ref))
        builtOn.push_back(r.subsystem + "@" + r.version);
    }
    if (!builtOn.empty() && !builtOnChanged) {
      builtOnChanged = &c;
      builtOnAll = std::move(builtOn);
    }
  }
  if (!changed.empty() && !force)
    return failure(changedAdvice(project, changed, /*forceWouldRun=*/!builtOnChanged));
  if (builtOnChanged)
    return failure(fmt::format(
        "{}@{} changed since it ran, and {} ran after it: --force re-runs a changed version "
        "only when no version that ran was built on it; {}",
        builtOnChanged->subsystem, builtOnChanged->version, fmt::join(builtOnAll, ", "),
        changedAdvice(project, {*builtOnChanged}, /*forceWouldRun=*/false)));
  UpDecision decision;
  decision.rerun = changed;
  for (const planner::StartingPoint::Entry &e : start->executed)
    if (!e.finished)
      decision.pending.push_back(project.describe(e.node));
  planner::PlanRequest request;
  request.phase = planner::Phase::Up;
  request.targets.assign(targets.begin(), targets.end());
  request.start = *start;
  llvm::Expected<planner::Plan> plan = planner::makePlan(project, graph, request, locate);
  if (!plan)
    return plan.takeError();
  decision.plan = std::move(*plan);
  // Fix: nothing to do is success even with versions pending finish. Checked before the
  // pending refusal, so that the second of two identical `apply up` (two deploy jobs, the
  // waiter of the runner lock) finds the work done instead of failing on the pending
  // finish the first one left, as it should.
  if (decision.nothingToDo())
    return decision;
  if (!decision.pending.empty() && !force)
    return failure(fmt::format("the database has versions pending finish: {}; run 'strata apply "
                               "finish' once no old node runs (or --force to upgrade anyway)",
                               fmt::join(decision.pending, ", ")));
  return decision;
}

llvm::Expected<std::vector<planner::NodeId>>
Runner::pendingAfterUp(const compiler::Project &project, const planner::VersionGraph &graph,
                       planner::PlanRequest request, const planner::Plan &plan,
                       const planner::Locator &locate) {
  request.phase = planner::Phase::Finish;
  llvm::Expected<planner::Plan> finishPlan = planner::makePlan(project, graph, request, locate);
  if (!finishPlan)
    return finishPlan.takeError();
  // The applied nodes with finish steps (by name: a scan of the nodes for every step was
  // quadratic), in the order of their first finish step.
  std::map<std::pair<llvm::StringRef, llvm::StringRef>, const planner::NodeId *> applied;
  for (const planner::NodeId &n : plan.applies)
    applied.try_emplace({n.subsystem, n.version}, &n);
  std::vector<planner::NodeId> pendingAfter;
  std::set<const planner::NodeId *> listed;
  for (const planner::Step &s : finishPlan->steps)
    if (auto it = applied.find({s.subsystem, s.version});
        it != applied.end() && listed.insert(it->second).second)
      pendingAfter.push_back(*it->second);
  return pendingAfter;
}

llvm::Error Runner::up() {
  llvm::Expected<std::unique_ptr<Session>> session = open();
  if (!session)
    return session.takeError();
  StateStore store((*session)->work);
  llvm::Expected<std::vector<NodeRecord>> records = store.nodesIfAny();
  if (!records)
    return records.takeError();
  llvm::Expected<UpDecision> decision =
      decideUp(project, graph, locate, *records, options.targets, options.force);
  if (!decision)
    return decision.takeError();
  const planner::Plan *plan = &decision->plan;
  if (decision->nothingToDo()) {
    log << "database is already up to date\n";
    if (!decision->pending.empty())
      log << fmt::format("pending finish: {}; run 'strata apply finish' once no node of the "
                         "old version runs\n",
                         fmt::join(decision->pending, ", "));
    return llvm::Error::success();
  }
  if (plan->hasErrors()) {
    std::string list;
    for (const planner::Finding &f : plan->findings)
      if (f.error)
        list += fmt::format("\n  {}: error[{}]: {}", f.location, f.code, f.message);
    return failure("the plan is not safe to run:" + list);
  }
  if (llvm::Error err = store.ensure(options.strataVersion))
    return err;
  // Forgotten only now that the re-run is sure to start: a refusal above leaves the
  // records as they were. (A re-run cut short resumes as a new version would.)
  for (const NodeRecord &r : decision->rerun)
    if (llvm::Error err = store.forgetNode(r.subsystem, r.version))
      return err;
  planner::PlanRequest request;
  request.targets = options.targets;
  llvm::Expected<planner::StartingPoint> start =
      startingPoint(project, *records, options.force, nullptr);
  if (!start)
    return start.takeError();
  request.start = std::move(*start);
  llvm::Expected<std::vector<planner::NodeId>> pendingAfter =
      pendingAfterUp(project, graph, request, *plan, locate);
  if (!pendingAfter)
    return pendingAfter.takeError();
  if (llvm::Error err =
          runSteps(**session, *plan, planner::Phase::Up, plan->applies, *pendingAfter))
    return err;
  log << fmt::format("{} version(s) processed: {} executed, {} pending finish\n",
                     plan->applies.size(), plan->applies.size() - pendingAfter->size(),
                     pendingAfter->size());
  if (!pendingAfter->empty())
    log << "run 'strata apply finish' once no node of the old version runs\n";
  return llvm::Error::success();
}

llvm::Expected<FinishDecision> Runner::decideFinish(const compiler::Project &project,
                                                    const planner::VersionGraph &graph,
                                                    const planner::Locator &locate,
                                                    const std::vector<NodeRecord> &records,
                                                    llvm::ArrayRef<compiler::VersionRef> targets) {
  std::vector<NodeRecord> changed;
  // Not force: finish re-runs nothing, so changed versions stay what they were (and are
  // refused below).
  llvm::Expected<planner::StartingPoint> start =
      startingPoint(project, records, /*force=*/false, &changed);
  if (!start)
    return start.takeError();
  FinishDecision decision;
  // Finish only what ran up: the pending nodes. (New versions wait for the next up.)
  std::vector<planner::NodeId> pending;
  for (const planner::StartingPoint::Entry &e : start->executed)
    if (!e.finished)
      pending.push_back({project.subsystems[e.node.subsystem].name, project.at(e.node).text,
                         project.at(e.node).checksum});
  // Fix: finish refused nothing. A version edited after its up ran would get the finish
  // steps of its new text on the schema its old text made (a check dropped that was never
  // added, a NOT NULL on a column filled another way). --force does not help here: the
  // new text's up has to run first, so the advice names what works.
  if (pending.empty())
    return decision;
  if (!changed.empty())
    return failure(changedAdvice(project, changed, /*forceWouldRun=*/false) + " before finishing");
  // Plan with the pending nodes' heads as targets, so that new versions are not included.
  planner::PlanRequest request = finishRequest(graph, *start);
  llvm::Expected<planner::Plan> plan = planner::makePlan(project, graph, request, locate);
  if (!plan)
    return plan.takeError();
  // Order the pending nodes as the plan does.
  for (const planner::NodeId &n : plan->applies)
    if (llvm::is_contained(pending, n))
      decision.finishes.push_back(n);
  decision.plan = std::move(*plan);
  return decision;
}

llvm::Error Runner::finish() {
  llvm::Expected<std::unique_ptr<Session>> session = open();
  if (!session)
    return session.takeError();
  StateStore store((*session)->work);
  llvm::Expected<bool> exists = store.exists();
  if (!exists)
    return exists.takeError();
  if (!*exists)
    return failure("the database needs bootstrap; run 'strata apply bootstrap'");
  llvm::Expected<std::vector<NodeRecord>> records = store.nodes();
  if (!records)
    return records.takeError();
  llvm::Expected<FinishDecision> decision =
      decideFinish(project, graph, locate, *records, options.targets);
  if (!decision)
    return decision.takeError();
  if (decision->finishes.empty()) {
    log << "no versions pending finish\n";
    return llvm::Error::success();
  }
  if (llvm::Error err = refuseFinishUnderInterruptedUp((*session)->work))
    return err;
  if (llvm::Error err =
          runSteps(**session, decision->plan, planner::Phase::Finish, decision->finishes, {}))
    return err;
  log << fmt::format("{} version(s) finished\n", decision->finishes.size());
  llvm::Expected<DatabaseStatus> after = status();
  if (after && after->code() == StatusNewOnly)
    log << "new versions are available; run 'strata apply up' to proceed\n";
  if (!after)
    llvm::consumeError(after.takeError());
  return llvm::Error::success();
}

llvm::Error Runner::runPlanFile(const planner::Plan &plan) {
  llvm::Expected<std::unique_ptr<Session>> session = open();
  if (!session)
    return session.takeError();
  StateStore store((*session)->work);
  llvm::Expected<bool> exists = store.exists();
  if (!exists)
    return exists.takeError();
  std::vector<NodeRecord> records;
  if (*exists) {
    llvm::Expected<std::vector<NodeRecord>> r = store.nodes();
    if (!r)
      return r.takeError();
    records = std::move(*r);
  }
  // The database must be exactly where the plan started.
  std::set<std::string> have, want;
  for (const NodeRecord &r : records)
    if (project.findSubsystem(r.subsystem))
      have.insert(r.subsystem + "@" + r.version + " " + r.checksum);
  for (const planner::NodeId &n : plan.from)
    want.insert(nodeName(n) + " " + n.checksum);
  if (have != want) {
    std::vector<std::string> extra, missing;
    for (const std::string &h : have)
      if (!want.count(h))
        extra.push_back(h.substr(0, h.find(' ')));
    for (const std::string &w : want)
      if (!have.count(w))
        missing.push_back(w.substr(0, w.find(' ')));
    return failure(fmt::format(
        "the database is no longer in the state the plan was made from (it has {}; the plan "
        "expected {}); make the plan again",
        extra.empty() ? std::string("nothing more") : fmt::format("{}", fmt::join(extra, ", ")),
        missing.empty() ? std::string("nothing more")
                        : fmt::format("{}", fmt::join(missing, ", "))));
  }
  // Fix: a plan file was a way around the pending-finish refusal of `apply up`: the plan
  // records which versions ran, not whether they were finished.
  if (plan.phase == planner::Phase::Up && !options.force) {
    std::vector<std::string> pending;
    for (const NodeRecord &r : records)
      if (!r.executed && project.findSubsystem(r.subsystem))
        pending.push_back(r.subsystem + "@" + r.version);
    if (!pending.empty())
      return failure(fmt::format("the database has versions pending finish: {}; run 'strata "
                                 "apply finish' once no old node runs (or --force to upgrade "
                                 "anyway)",
                                 fmt::join(pending, ", ")));
  }
  for (const planner::NodeId &n : plan.applies) {
    auto s = project.findSubsystem(n.subsystem);
    auto v = s ? project.subsystems[*s].findVersion(n.version) : std::nullopt;
    if (!v || project.at({*s, *v}).checksum != n.checksum)
      return failure(fmt::format("{} in the plan does not match the .strata files (checksum "
                                 "differs); make the plan again",
                                 nodeName(n)));
  }
  if (plan.hasErrors())
    return failure("the plan file has compatibility errors; it cannot run");
  if (plan.phase == planner::Phase::Bootstrap) {
    if (!records.empty())
      return failure("the database is already bootstrapped; run 'strata apply up' instead");
  } else if (!*exists) {
    return failure("the database needs bootstrap; run 'strata apply bootstrap'");
  }
  if (llvm::Error err = store.ensure(options.strataVersion))
    return err;
  switch (plan.phase) {
  case planner::Phase::Bootstrap: {
    if (llvm::Error err = runSteps(**session, plan, plan.phase, plan.to, {},
                                   /*recordNodes=*/false))
      return err;
    return recordBootstrap(**session, plan);
  }
  case planner::Phase::Up:
    // Without the finish plan at hand every applied node waits for finish.
    return runSteps(**session, plan, plan.phase, plan.applies, plan.applies);
  case planner::Phase::Finish: {
    std::vector<planner::NodeId> pending;
    for (const NodeRecord &r : records)
      if (!r.executed)
        pending.push_back({r.subsystem, r.version, r.checksum});
    std::vector<planner::NodeId> ordered;
    for (const planner::NodeId &n : plan.applies)
      if (llvm::is_contained(pending, n))
        ordered.push_back(n);
    return runSteps(**session, plan, plan.phase, ordered, {});
  }
  }
  llvm_unreachable("unknown phase");
}

llvm::Error Runner::baseline() {
  if (options.targets.empty())
    return failure("baseline needs the versions the database is at: --to core@X[,plugin@Y...]");
  // Every subsystem the targets stand on must be named: its version cannot be guessed.
  std::vector<compiler::VersionRef> nodes = graph.closure(options.targets);
  for (compiler::VersionRef n : nodes)
    if (llvm::none_of(options.targets,
                      [&](compiler::VersionRef t) { return t.subsystem == n.subsystem; }))
      return failure(fmt::format(
          "{} requires {}: name the version of {} the database is at in --to as well",
          fmt::join(llvm::map_range(options.targets,
                                    [&](compiler::VersionRef t) { return project.describe(t); }),
                    ", "),
          project.subsystems[n.subsystem].name, project.subsystems[n.subsystem].name));
  llvm::Expected<std::unique_ptr<Session>> session = open();
  if (!session)
    return session.takeError();
  Connection &conn = (*session)->work;
  StateStore store(conn);
  llvm::Expected<bool> exists = store.exists();
  if (!exists)
    return exists.takeError();
  if (*exists) {
    llvm::Expected<std::vector<NodeRecord>> records = store.nodes();
    if (!records)
      return records.takeError();
    if (!records->empty())
      return failure("the database is already managed by strata; 'strata status' says which "
                     "versions it is at");
  }
  std::vector<compiler::VersionRef> heads = headsOf(graph, options.targets);
  llvm::Expected<DriftReport> drift = checkDrift(conn, project, heads);
  if (!drift)
    return drift.takeError();
  std::vector<std::string> names;
  for (compiler::VersionRef h : heads)
    names.push_back(project.describe(h));
  if (drift->drifted()) {
    std::string list;
    for (const Change &c : drift->changes)
      list += "\n  " + describeChange(c);
    return failure(fmt::format("the database does not match {} ({} difference{}); nothing was "
                               "recorded:{}",
                               fmt::join(names, ", "), drift->changes.size(),
                               drift->changes.size() == 1 ? "" : "s", list));
  }
  if (llvm::Error err = store.ensure(options.strataVersion))
    return err;
  // As a completed bootstrap records its nodes: every one, in one transaction.
  if (llvm::Expected<Result> begin = conn.exec("BEGIN"); !begin)
    return begin.takeError();
  for (compiler::VersionRef n : nodes) {
    NodeRecord record{project.subsystems[n.subsystem].name, project.at(n).text,
                      project.at(n).checksum, true};
    if (llvm::Error err = store.recordNode(record, "bootstrap", 0, options.strataVersion)) {
      if (auto rb = conn.exec("ROLLBACK"); !rb)
        llvm::consumeError(rb.takeError());
      return err;
    }
  }
  if (llvm::Expected<Result> commit = conn.exec("COMMIT"); !commit)
    return commit.takeError();
  for (const UnmanagedObject &u : drift->unmanaged)
    log << fmt::format("unmanaged {} \"{}\": left alone\n", u.kind, u.name);
  log << fmt::format("recorded the database as being at {} ({} version(s)); nothing was "
                     "executed\n",
                     fmt::join(names, ", "), nodes.size());
  log.flush();
  return llvm::Error::success();
}

llvm::Expected<bool> Runner::reset(llvm::function_ref<bool(const ResetTargets &)> confirm) {
  llvm::Expected<std::unique_ptr<Session>> session = open();
  if (!session)
    return session.takeError();
  Connection &conn = (*session)->work;
  StateStore store(conn);
  llvm::Expected<bool> exists = store.exists();
  if (!exists)
    return exists.takeError();
  if (!*exists)
    return failure("the database is not bootstrapped: nothing to reset");
  llvm::Expected<std::vector<NodeRecord>> records = store.nodes();
  if (!records)
    return records.takeError();
  llvm::Expected<planner::StartingPoint> start = startingPoint(project, *records, true, nullptr);
  if (!start)
    return start.takeError();
  // What strata created: the state after every recorded version (replayed), whatever
  // phase it reached; views left by renames go too.
  compiler::Schema created;
  std::vector<compiler::VersionRef> nodes;
  for (const planner::StartingPoint::Entry &e : start->executed)
    nodes.push_back(e.node);
  for (compiler::VersionRef n : graph.closure(nodes))
    for (const compiler::Op &op : project.at(n).ops)
      compiler::applyOp(created, op);
  std::vector<std::string> tables, types, views;
  for (compiler::VersionRef n : graph.closure(nodes))
    for (const compiler::Op &op : project.at(n).ops)
      if (op.kind == compiler::OpKind::RenameTable)
        views.push_back(op.table); // the view that kept the old name for old nodes
  for (const auto &[name, _] : created.tables())
    tables.push_back(name);
  for (const auto &[name, _] : created.enums())
    types.push_back(name);
  // Fix: the trigger functions that serve old nodes until finish outlived their tables
  // (a trigger goes with its table, its function does not). strata gives a trigger and
  // its function one name; functions of the user's own are left alone.
  std::vector<std::string> functions;
  if (!tables.empty()) {
    std::vector<std::string> regclasses;
    for (const std::string &t : tables)
      regclasses.push_back("to_regclass(" + planner::sql::literal(planner::sql::ident(t)) + ")");
    llvm::Expected<Result> fns = conn.exec(fmt::format(
        "SELECT DISTINCT p.oid::regprocedure::text FROM pg_trigger tg JOIN pg_proc p ON p.oid "
        "= tg.tgfoid WHERE NOT tg.tgisinternal AND tg.tgname = p.proname AND tg.tgrelid = "
        "ANY (ARRAY[{}]) ORDER BY 1",
        fmt::join(regclasses, ", ")));
    if (!fns)
      return fns.takeError();
    for (int i = 0; i < fns->rows(); ++i)
      functions.push_back(fns->get(i, 0).str());
  }
  ResetTargets targets{conn.host(), conn.port(), conn.database(),
                       conn.user(), {},          {},
                       functions,   types,       {"strata_nodes", "strata_steps"}};
  // Only what is there is listed (and dropped): the declared state of every recorded
  // version names tables that a pending finish has not dropped or a cut-short up has not
  // created yet.
  {
    std::vector<std::string> names;
    for (const std::string &t : tables)
      names.push_back(planner::sql::literal(t));
    for (const std::string &v : views)
      names.push_back(planner::sql::literal(v));
    std::set<std::string> present;
    if (!names.empty()) {
      llvm::Expected<Result> live = conn.exec(fmt::format(
          "SELECT relname::text FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
          "AND relkind IN ('r', 'p', 'v') AND relname = ANY (ARRAY[{}]::text[])",
          fmt::join(names, ", ")));
      if (!live)
        return live.takeError();
      for (int i = 0; i < live->rows(); ++i)
        present.insert(live->get(i, 0).str());
    }
    for (const std::string &t : tables)
      if (present.count(t))
        targets.tables.push_back(t);
    for (const std::string &v : views)
      if (!created.findTable(v) && present.count(v))
        targets.views.push_back(v);
  }
  if (!confirm(targets))
    return false;
  std::string sql = "BEGIN;\n";
  for (const std::string &view : views)
    if (!created.findTable(view))
      sql += "DROP VIEW IF EXISTS " + planner::sql::ident(view) + ";\n";
  if (!tables.empty())
    sql += "DROP TABLE IF EXISTS " + planner::sql::identList(tables) + ";\n";
  for (const std::string &fn : functions) // already quoted by regprocedure
    sql += "DROP FUNCTION IF EXISTS " + fn + ";\n";
  if (!types.empty())
    sql += "DROP TYPE IF EXISTS " + planner::sql::identList(types) + ";\n";
  sql += "DROP TABLE IF EXISTS strata_steps, strata_nodes;\nCOMMIT";
  llvm::Expected<Result> r = conn.exec(sql);
  if (!r) {
    llvm::Error err = r.takeError();
    if (auto rb = conn.exec("ROLLBACK"); !rb)
      llvm::consumeError(rb.takeError());
    return err;
  }
  log << fmt::format("dropped {} table(s), {} type(s) and strata's state\n", targets.tables.size(),
                     types.size());
  return true;
}

} // namespace strata::runtime
