#include "planner/Plan.h"

#include <llvm/Support/ErrorHandling.h>

namespace strata::planner {

const char *phaseName(Phase phase) {
  switch (phase) {
  case Phase::Up:
    return "up";
  case Phase::Finish:
    return "finish";
  case Phase::Bootstrap:
    return "bootstrap";
  }
  llvm_unreachable("unknown phase");
}

std::optional<Phase> parsePhase(llvm::StringRef text) {
  for (Phase p : {Phase::Up, Phase::Finish, Phase::Bootstrap})
    if (text == phaseName(p))
      return p;
  return std::nullopt;
}

const char *lockModeName(LockMode mode) {
  switch (mode) {
  case LockMode::None:
    return "";
  case LockMode::AccessShare:
    return "ACCESS SHARE";
  case LockMode::RowShare:
    return "ROW SHARE";
  case LockMode::RowExclusive:
    return "ROW EXCLUSIVE";
  case LockMode::ShareUpdateExclusive:
    return "SHARE UPDATE EXCLUSIVE";
  case LockMode::Share:
    return "SHARE";
  case LockMode::ShareRowExclusive:
    return "SHARE ROW EXCLUSIVE";
  case LockMode::Exclusive:
    return "EXCLUSIVE";
  case LockMode::AccessExclusive:
    return "ACCESS EXCLUSIVE";
  case LockMode::Unknown:
    return "UNKNOWN";
  }
  llvm_unreachable("unknown lock mode");
}

std::optional<LockMode> parseLockMode(llvm::StringRef text) {
  for (LockMode m : {LockMode::None, LockMode::AccessShare, LockMode::RowShare,
                     LockMode::RowExclusive, LockMode::ShareUpdateExclusive, LockMode::Share,
                     LockMode::ShareRowExclusive, LockMode::Exclusive, LockMode::AccessExclusive,
                     LockMode::Unknown})
    if (text == lockModeName(m))
      return m;
  return std::nullopt;
}

bool Plan::hasErrors() const {
  for (const Finding &f : findings)
    if (f.error)
      return true;
  return false;
}

} // namespace strata::planner
