// strata_gen SUBSYSTEMS VERSIONS [SEED]: prints a synthetic project (bench/ProjectGenerator.h).
#include "bench/ProjectGenerator.h"

#include <cstdio>
#include <cstdlib>

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: strata_gen SUBSYSTEMS VERSIONS [SEED]\n");
    return 2;
  }
  strata::bench::GeneratorOptions options;
  options.subsystems = static_cast<unsigned>(std::atoi(argv[1]));
  options.versionsPerSubsystem = static_cast<unsigned>(std::atoi(argv[2]));
  if (argc > 3)
    options.seed = static_cast<uint32_t>(std::atoi(argv[3]));
  std::string text = strata::bench::generateProject(options);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}
