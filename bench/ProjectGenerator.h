// Synthetic strata projects for benchmarks: S subsystems x V versions each, with a mix of
// the changes real releases make, deterministic from a seed.
//
// Subsystem 0 is "core"; the others are plugins. Each version makes one change: a new
// table (a plugin's with a foreign key into a core table), an added column, an index, a
// column made NOT NULL with a fill, a column or table rename, a backfill or a check. A
// plugin's versions require newer core versions as they go (every fifth version), and
// every fourth plugin also requires the plugin before it and references its first table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace strata::bench {

struct GeneratorOptions {
  unsigned subsystems = 10;
  unsigned versionsPerSubsystem = 10;
  uint32_t seed = 1;
  /// Only new tables and added columns (one per version): the apply benchmark's project.
  bool smallChanges = false;
};

struct GeneratedFile {
  std::string name; ///< "core.strata", "plugin_1.strata", ...
  std::string text;
};

/// One file per subsystem, as a product lays out its plugins' migrations.
std::vector<GeneratedFile> generateFiles(const GeneratorOptions &options);

/// The same project as one source text.
std::string generateProject(const GeneratorOptions &options);

} // namespace strata::bench
