// Google Benchmark: the front end (parse + analyze + fold) over synthetic projects from
// 100 to 20,000 versions. Run: build/bench/strata_bench --benchmark_filter=Compile
#include "bench/ProjectGenerator.h"
#include "compiler/Compilation.h"

#include <benchmark/benchmark.h>

#include <sys/resource.h>

using namespace strata;

namespace {
long peakRssKb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

void compileProject(benchmark::State &state) {
  unsigned subsystems = static_cast<unsigned>(state.range(0));
  unsigned versions = static_cast<unsigned>(state.range(1));
  std::string source = bench::generateProject({subsystems, versions, 42});
  for (auto _ : state) {
    compiler::Compilation compilation;
    compilation.addSource("generated.strata", source);
    const compiler::Project *project = compilation.run();
    if (!project) {
      state.SkipWithError("generated project does not compile");
      break;
    }
    benchmark::DoNotOptimize(project);
  }
  state.counters["versions"] = subsystems * versions;
  state.counters["source_kb"] = static_cast<double>(source.size()) / 1024.0;
  state.counters["peak_rss_mb"] = static_cast<double>(peakRssKb()) / 1024.0;
  state.SetComplexityN(subsystems * versions);
}
} // namespace

BENCHMARK(compileProject)
    ->Args({10, 10})
    ->Args({20, 50})
    ->Args({100, 50})
    ->Args({200, 50})
    ->Args({400, 50})
    ->Unit(benchmark::kMillisecond)
    ->Complexity();

BENCHMARK_MAIN();
