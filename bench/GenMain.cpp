// strata_gen [--small] SUBSYSTEMS VERSIONS [SEED] [DIR]: prints a synthetic project
// (bench/ProjectGenerator.h), or writes it to DIR as one .strata file per subsystem.
// --small: every version adds one table or one column, nothing else.
#include "bench/ProjectGenerator.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/stat.h>

int main(int argc, char **argv) {
  strata::bench::GeneratorOptions options;
  if (argc > 1 && std::string(argv[1]) == "--small") {
    options.smallChanges = true;
    --argc;
    ++argv;
  }
  if (argc < 3 || argc > 5) {
    std::fprintf(stderr, "usage: strata_gen [--small] SUBSYSTEMS VERSIONS [SEED] [DIR]\n");
    return 2;
  }
  options.subsystems = static_cast<unsigned>(std::atoi(argv[1]));
  options.versionsPerSubsystem = static_cast<unsigned>(std::atoi(argv[2]));
  if (argc > 3)
    options.seed = static_cast<uint32_t>(std::atoi(argv[3]));
  if (argc < 5) {
    std::string text = strata::bench::generateProject(options);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  std::string dir = argv[4];
  if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
    std::perror(dir.c_str());
    return 1;
  }
  for (const strata::bench::GeneratedFile &file : strata::bench::generateFiles(options)) {
    std::string path = dir + "/" + file.name;
    std::FILE *out = std::fopen(path.c_str(), "wb");
    if (!out || std::fwrite(file.text.data(), 1, file.text.size(), out) != file.text.size() ||
        std::fclose(out) != 0) {
      std::perror(path.c_str());
      return 1;
    }
  }
  return 0;
}
