#include "compiler/Project.h"

namespace strata::compiler {

bool ResolvedRequirement::satisfiedBy(const SemVer &version) const {
  for (const ResolvedBound &bound : bounds) {
    int c = version.compare(bound.version);
    bool ok = false;
    switch (bound.op) {
    case VersionOp::Ge:
      ok = c >= 0;
      break;
    case VersionOp::Gt:
      ok = c > 0;
      break;
    case VersionOp::Le:
      ok = c <= 0;
      break;
    case VersionOp::Lt:
      ok = c < 0;
      break;
    case VersionOp::Eq:
      ok = c == 0;
      break;
    }
    if (!ok)
      return false;
  }
  return true;
}

std::optional<unsigned> Subsystem::findVersion(llvm::StringRef text) const {
  for (unsigned i = 0; i < versions.size(); ++i)
    if (versions[i].text == text)
      return i;
  // "1.2.0" also finds a version written "1.2.0+build"; a bare prefix like "2" finds
  // the highest "2.x.y" so that `--to rate_limiting@2` works as people expect.
  std::optional<unsigned> best;
  for (unsigned i = 0; i < versions.size(); ++i) {
    llvm::StringRef v = versions[i].text;
    if (v.startswith(text) && (v.size() == text.size() || v[text.size()] == '.' ||
                               v[text.size()] == '+'))
      if (!best || versions[*best].semver < versions[i].semver)
        best = i;
  }
  return best;
}

unsigned Subsystem::latest() const {
  assert(!versions.empty() && "subsystem without versions");
  std::vector<bool> hasChild(versions.size(), false);
  for (const Version &v : versions)
    for (unsigned p : v.parents)
      hasChild[p] = true;
  unsigned best = 0;
  bool found = false;
  for (unsigned i = 0; i < versions.size(); ++i) {
    if (hasChild[i])
      continue;
    if (!found || versions[best].semver < versions[i].semver)
      best = i;
    found = true;
  }
  return best;
}

std::optional<unsigned> Project::findSubsystem(llvm::StringRef name) const {
  for (unsigned i = 0; i < subsystems.size(); ++i)
    if (subsystems[i].name == name)
      return i;
  return std::nullopt;
}

} // namespace strata::compiler
