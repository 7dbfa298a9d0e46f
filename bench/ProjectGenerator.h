// Synthetic strata projects for benchmarks: S subsystems x V versions each, with a mix of
// the changes real releases make, deterministic from a seed.
#pragma once

#include <cstdint>
#include <string>

namespace strata::bench {

struct GeneratorOptions {
  unsigned subsystems = 10;
  unsigned versionsPerSubsystem = 10;
  uint32_t seed = 1;
};

/// One .strata source text holding the whole project. Subsystem 0 is "core"; every other
/// subsystem requires a core version and references core tables with foreign keys.
std::string generateProject(const GeneratorOptions &options);

} // namespace strata::bench
