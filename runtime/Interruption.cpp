#include "runtime/Interruption.h"

#include "planner/Planner.h"
#include "runtime/Executor.h"
#include "runtime/Runner.h"

#include <fmt/format.h>

#include <optional>
#include <tuple>

namespace strata::runtime {

std::string groupedNumber(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string Interruption::command() const {
  return std::string("strata apply ") + planner::phaseName(phase);
}

std::string Interruption::describe() const {
  std::string phaseWord =
      phase == planner::Phase::Up ? "" : std::string(planner::phaseName(phase)) + " ";
  std::string where = fmt::format("{}step {}", phaseWord, step + 1);
  if (steps > 0)
    where += fmt::format(" of {}", steps);
  if (steps > 0 && step >= steps)
    where = fmt::format("the end of its {}steps ({} of {} done; its record is missing)", phaseWord,
                        steps, steps);
  std::string what = backfill ? fmt::format("backfill, {} rows", groupedNumber(rowsDone)) : reason;
  if (!what.empty())
    where += " (" + what + ")";
  if (running)
    return fmt::format("{}: being applied now, at {} (another strata apply holds the runner "
                       "lock)",
                       node(), where);
  std::string out =
      fmt::format("{}: interrupted at {}: run '{}' to resume", node(), where, command());
  if (planChanged)
    out += "; but a step that ran had other SQL than the plan has now (the .strata files or "
           "--to changed since): restore them as they were when it ran";
  return out;
}

namespace {
using NodeKey = std::tuple<std::string, std::string, std::string>; // subsystem, version, phase

/// The plan `apply` makes now for \p phase (Runner::up, finish, bootstrap), or nothing
/// when it cannot make one.
std::optional<planner::Plan> planOf(const compiler::Project &project,
                                    const planner::VersionGraph &graph,
                                    const std::vector<NodeRecord> &records, planner::Phase phase,
                                    llvm::ArrayRef<compiler::VersionRef> targets) {
  auto none = [](compiler::SourceRange) { return std::string(); };
  planner::PlanRequest request;
  request.phase = phase;
  request.targets.assign(targets.begin(), targets.end());
  if (phase != planner::Phase::Bootstrap) {
    llvm::Expected<planner::StartingPoint> start =
        Runner::startingPoint(project, records, /*force=*/false, nullptr);
    if (!start) {
      llvm::consumeError(start.takeError());
      return std::nullopt;
    }
    request.start = std::move(*start);
    if (phase == planner::Phase::Finish)
      request = Runner::finishRequest(graph, request.start);
  }
  llvm::Expected<planner::Plan> plan = planner::makePlan(project, graph, request, none);
  if (!plan) {
    llvm::consumeError(plan.takeError());
    return std::nullopt;
  }
  return std::move(*plan);
}
} // namespace

std::vector<Interruption> interruptionsOf(const compiler::Project &project,
                                          const planner::VersionGraph &graph,
                                          const std::vector<NodeRecord> &records,
                                          const std::map<StepKey, StepRecord> &started,
                                          llvm::ArrayRef<compiler::VersionRef> targets) {
  std::map<NodeKey, std::map<int, const StepRecord *>> byNode;
  for (const auto &[key, record] : started)
    byNode[{key.subsystem, key.version, key.phase}][key.step] = &record;
  std::map<planner::Phase, std::optional<planner::Plan>> plans;
  std::vector<Interruption> out;
  for (const auto &[key, recorded] : byNode) {
    const auto &[subsystem, version, phaseText] = key;
    std::optional<planner::Phase> phase = planner::parsePhase(phaseText);
    if (!phase)
      continue; // the table's check allows no other phase
    if (!plans.count(*phase))
      plans[*phase] = planOf(project, graph, records, *phase, targets);
    std::vector<const planner::Step *> steps;
    if (const std::optional<planner::Plan> &plan = plans[*phase])
      for (const planner::Step &s : plan->steps)
        if (s.subsystem == subsystem && s.version == version && s.phase == *phase)
          steps.push_back(&s);
    Interruption i;
    i.subsystem = subsystem;
    i.version = version;
    i.phase = *phase;
    i.steps = static_cast<int>(steps.size());
    auto isDone = [&](int index) {
      auto it = recorded.find(index);
      return it != recorded.end() && it->second->done;
    };
    // The next step: the first one not done. A node's last step commits with the node's
    // record, never with one of its own, so it is never found done here.
    int limit = steps.empty() ? recorded.rbegin()->first + 1 : i.steps;
    while (i.step < limit && isDone(i.step))
      ++i.step;
    if (auto it = recorded.find(i.step); it != recorded.end() && !it->second->done) {
      i.backfill = true; // only a backfill records a step that is running
      i.rowsDone = it->second->rowsDone;
    }
    for (int s = 0; s < i.steps && s <= i.step; ++s) {
      const planner::Step &step = *steps[s];
      if (s < i.step && recorded.at(s)->sqlHash != Executor::hashOf(step))
        i.planChanged = true;
      for (compiler::SqlObjectRef &ref : compiler::sqlScriptObjects(step.sql))
        if (!llvm::is_contained(i.objects, ref))
          i.objects.push_back(std::move(ref));
    }
    if (i.step < i.steps)
      i.reason = steps[i.step]->reason;
    out.push_back(std::move(i));
  }
  return out;
}

} // namespace strata::runtime
