// The compiled project: every subsystem, every version with its parents, requirements,
// Ops and full Schema state. The output of the front end and the input of the planner.
#pragma once

#include "compiler/Op.h"
#include "compiler/SemVer.h"

#include <llvm/ADT/StringRef.h>

#include <optional>
#include <string>
#include <vector>

namespace strata::compiler {

struct VersionRef {
  unsigned subsystem = 0;
  unsigned version = 0;
  friend bool operator==(const VersionRef &, const VersionRef &) = default;
  friend auto operator<=>(const VersionRef &, const VersionRef &) = default;
};

struct ResolvedBound {
  VersionOp op;
  SemVer version;
};

struct ResolvedRequirement {
  unsigned subsystem = 0;            ///< index of the required subsystem
  std::vector<ResolvedBound> bounds; ///< all must hold
  unsigned lowest = 0;               ///< lowest declared version that satisfies them
  SourceRange range;

  bool satisfiedBy(const SemVer &version) const;
};

struct Version {
  std::string text; ///< as written
  SemVer semver;
  std::vector<unsigned> parents; ///< indices into the subsystem's versions
  std::vector<ResolvedRequirement> requirements;
  std::vector<Op> ops;
  Schema state; ///< the subsystem's own objects after this version
  std::string checksum;
  SourceRange range;
  SourceRange nameRange;
};

struct Subsystem {
  std::string name;
  std::optional<unsigned> baseline; ///< index of the baseline version
  std::vector<Version> versions;    ///< in declaration order: parents come first
  SourceRange range;

  std::optional<unsigned> findVersion(llvm::StringRef text) const;
  /// The version with no children that sorts highest (the default target).
  unsigned latest() const;
};

struct Project {
  std::vector<Subsystem> subsystems; ///< in declaration order

  std::optional<unsigned> findSubsystem(llvm::StringRef name) const;
  const Version &at(VersionRef ref) const {
    return subsystems[ref.subsystem].versions[ref.version];
  }
  std::string describe(VersionRef ref) const {
    return subsystems[ref.subsystem].name + "@" + at(ref).text;
  }
};

} // namespace strata::compiler
