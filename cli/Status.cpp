#include "cli/Commands.h"

#include "runtime/Runner.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace strata::cli {

std::string statusText(const runtime::DatabaseStatus &status) {
  if (status.needsBootstrap)
    return "database needs bootstrap; run 'strata apply bootstrap'\n";
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
                          {"unknown", s.unknown}});
  out["subsystems"] = subsystems;
  return out.dump(2);
}

} // namespace strata::cli
