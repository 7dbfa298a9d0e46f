#include "cli/Commands.h"

#include "runtime/Runner.h"

#include <strata/strata.h>

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
