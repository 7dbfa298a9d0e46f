// Google Benchmark: each stage of strata on synthetic projects of 100 to 20,000 versions
// (bench/ProjectGenerator.h, seed 42, one file per subsystem):
//
//   parse        .strata text -> AST (ANTLR lexer and parser, AST lowering)
//   compile      AST -> Project: declarations checked, every version folded (fold + diff)
//   graph        the version DAG (Boost.Graph, topological order)
//   plan_up      makePlan up from an empty database to every latest version
//   plan_finish  makePlan finish with every version pending finish
//   plan_boot    makePlan bootstrap of every latest version
//   render_sql   the up plan as SQL (`strata plan up --format sql`)
//   render_json  the up plan as the JSON plan file
//
// Each reports the time per run and, as counters, the peak of live heap bytes during one
// run above what was live before it (peak_heap_mb, every C++ allocation counted through a
// replaced operator new) and the process's peak RSS so far (max_rss_mb, getrusage).
// `bash bench/run.sh` runs them all and prints the table; see docs/performance.md.
#include "bench/ProjectGenerator.h"
#include "compiler/ASTContext.h"
#include "compiler/Analyzer.h"
#include "compiler/Diagnostics.h"
#include "compiler/Parser.h"
#include "planner/PlanFormat.h"
#include "planner/Planner.h"

#include <benchmark/benchmark.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/SourceMgr.h>

#include <atomic>
#include <cstdlib>
#include <malloc.h>
#include <map>
#include <memory>
#include <new>
#include <sys/resource.h>

using namespace strata;

// ---- heap accounting: every operator new / delete of the process goes through here ----
namespace {
std::atomic<int64_t> liveBytes{0};
std::atomic<int64_t> peakBytes{0};

void *allocate(size_t size) {
  void *p = std::malloc(size ? size : 1);
  if (!p)
    throw std::bad_alloc();
  int64_t now = liveBytes += static_cast<int64_t>(malloc_usable_size(p));
  int64_t peak = peakBytes.load(std::memory_order_relaxed);
  while (now > peak && !peakBytes.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
  return p;
}

void release(void *p) {
  if (!p)
    return;
  liveBytes -= static_cast<int64_t>(malloc_usable_size(p));
  std::free(p);
}
} // namespace

void *operator new(size_t size) { return allocate(size); }
void *operator new[](size_t size) { return allocate(size); }
void *operator new(size_t size, const std::nothrow_t &) noexcept {
  try {
    return allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void *operator new[](size_t size, const std::nothrow_t &) noexcept {
  try {
    return allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void *p) noexcept { release(p); }
void operator delete[](void *p) noexcept { release(p); }
void operator delete(void *p, size_t) noexcept { release(p); }
void operator delete[](void *p, size_t) noexcept { release(p); }

namespace {

/// Measures the heap peak of the runs of one benchmark: reset before each run, the largest
/// rise above the bytes live at its start is kept.
class HeapPeak {
public:
  void start() {
    base = liveBytes.load();
    peakBytes.store(base);
  }
  void stop() { worst = std::max(worst, peakBytes.load() - base); }
  void report(benchmark::State &state, size_t versions) const {
    state.counters["versions"] = static_cast<double>(versions);
    state.counters["peak_heap_mb"] = static_cast<double>(worst) / (1024.0 * 1024.0);
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    state.counters["max_rss_mb"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
    state.SetComplexityN(static_cast<int64_t>(versions));
  }

private:
  int64_t base = 0;
  int64_t worst = 0;
};

/// One size's inputs, built once and shared by every stage's benchmark of that size.
struct Fixture {
  std::vector<bench::GeneratedFile> files;
  size_t versions = 0;
  llvm::SourceMgr sourceMgr;
  std::unique_ptr<compiler::DiagnosticsEngine> diags;
  compiler::ASTContext ast;
  std::vector<const compiler::SourceFile *> parsed;
  std::optional<compiler::Project> project;
  std::unique_ptr<planner::VersionGraph> graph;
  std::optional<planner::Plan> upPlan;
};

planner::Locator noLocation() {
  return [](compiler::SourceRange) { return std::string(); };
}

Fixture &fixture(unsigned subsystems, unsigned versions) {
  static std::map<std::pair<unsigned, unsigned>, std::unique_ptr<Fixture>> cache;
  auto &slot = cache[{subsystems, versions}];
  if (slot)
    return *slot;
  cache.clear(); // one size at a time: the benchmarks run size by size (see main)
  auto &fresh = cache[{subsystems, versions}];
  fresh = std::make_unique<Fixture>();
  Fixture &f = *fresh;
  f.files = bench::generateFiles({subsystems, versions, 42});
  f.versions = size_t(subsystems) * versions;
  f.diags = std::make_unique<compiler::DiagnosticsEngine>(f.sourceMgr);
  for (const bench::GeneratedFile &file : f.files)
    f.sourceMgr.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(file.text, file.name),
                                   llvm::SMLoc());
  for (unsigned id = 1; id <= f.sourceMgr.getNumBuffers(); ++id)
    f.parsed.push_back(compiler::parseBuffer(f.ast, *f.diags, f.sourceMgr, id));
  f.project = compiler::analyze(f.parsed, *f.diags);
  if (!f.project || f.diags->hasErrors()) {
    f.diags->render(llvm::errs(), false);
    std::abort();
  }
  f.graph = std::make_unique<planner::VersionGraph>(*f.project);
  planner::PlanRequest up;
  llvm::Expected<planner::Plan> plan = planner::makePlan(*f.project, *f.graph, up, noLocation());
  if (!plan) {
    llvm::errs() << llvm::toString(plan.takeError()) << "\n";
    std::abort();
  }
  f.upPlan = std::move(*plan);
  return f;
}

unsigned subsystemsOf(benchmark::State &state) { return static_cast<unsigned>(state.range(0)); }
unsigned versionsOf(benchmark::State &state) { return static_cast<unsigned>(state.range(1)); }

void parse(benchmark::State &state) {
  Fixture &f = fixture(subsystemsOf(state), versionsOf(state));
  HeapPeak heap;
  for (auto _ : state) {
    heap.start();
    {
      compiler::ASTContext ast;
      compiler::DiagnosticsEngine diags(f.sourceMgr);
      for (unsigned id = 1; id <= f.sourceMgr.getNumBuffers(); ++id)
        benchmark::DoNotOptimize(compiler::parseBuffer(ast, diags, f.sourceMgr, id));
      heap.stop();
    }
  }
  heap.report(state, f.versions);
}

void compile(benchmark::State &state) {
  Fixture &f = fixture(subsystemsOf(state), versionsOf(state));
  HeapPeak heap;
  for (auto _ : state) {
    heap.start();
    {
      compiler::DiagnosticsEngine diags(f.sourceMgr);
      std::optional<compiler::Project> project = compiler::analyze(f.parsed, diags);
      benchmark::DoNotOptimize(project);
      heap.stop();
    }
  }
  heap.report(state, f.versions);
}

void graph(benchmark::State &state) {
  Fixture &f = fixture(subsystemsOf(state), versionsOf(state));
  HeapPeak heap;
  for (auto _ : state) {
    heap.start();
    {
      planner::VersionGraph g(*f.project);
      benchmark::DoNotOptimize(g.order().data());
      heap.stop();
    }
  }
  heap.report(state, f.versions);
}

void planWith(benchmark::State &state, planner::Phase phase) {
  Fixture &f = fixture(subsystemsOf(state), versionsOf(state));
  planner::PlanRequest request;
  request.phase = phase;
  if (phase == planner::Phase::Finish)
    for (compiler::VersionRef n : f.graph->order())
      request.start.executed.push_back({n, /*finished=*/false});
  HeapPeak heap;
  for (auto _ : state) {
    heap.start();
    {
      llvm::Expected<planner::Plan> plan =
          planner::makePlan(*f.project, *f.graph, request, noLocation());
      if (!plan) {
        state.SkipWithError(llvm::toString(plan.takeError()).c_str());
        break;
      }
      benchmark::DoNotOptimize(plan->steps.data());
      heap.stop();
    }
  }
  heap.report(state, f.versions);
}

void planUp(benchmark::State &state) { planWith(state, planner::Phase::Up); }
void planFinish(benchmark::State &state) { planWith(state, planner::Phase::Finish); }
void planBootstrap(benchmark::State &state) { planWith(state, planner::Phase::Bootstrap); }

void renderSql(benchmark::State &state) {
  Fixture &f = fixture(subsystemsOf(state), versionsOf(state));
  HeapPeak heap;
  for (auto _ : state) {
    heap.start();
    {
      std::string text = planner::renderSql(*f.upPlan);
      benchmark::DoNotOptimize(text.data());
      heap.stop();
    }
  }
  heap.report(state, f.versions);
}

void renderJson(benchmark::State &state) {
  Fixture &f = fixture(subsystemsOf(state), versionsOf(state));
  HeapPeak heap;
  for (auto _ : state) {
    heap.start();
    {
      std::string text = planner::renderJson(*f.upPlan);
      benchmark::DoNotOptimize(text.data());
      heap.stop();
    }
  }
  heap.report(state, f.versions);
}

} // namespace

int main(int argc, char **argv) {
  // Registered size by size, so that each size's fixture is built once and then dropped.
  const std::pair<int64_t, int64_t> sizes[] = {{10, 10}, {20, 50}, {100, 50}, {200, 50},
                                               {400, 50}};
  const std::pair<const char *, void (*)(benchmark::State &)> stages[] = {
      {"parse", parse},          {"compile", compile},       {"graph", graph},
      {"plan_up", planUp},       {"plan_finish", planFinish}, {"plan_boot", planBootstrap},
      {"render_sql", renderSql}, {"render_json", renderJson}};
  for (auto [subsystems, versions] : sizes)
    for (auto [name, fn] : stages)
      // Wall time: parsing, checksums and the planner's findings use every core, and CPU
      // time would count only the benchmark's own thread.
      benchmark::RegisterBenchmark(name, fn)
          ->Args({subsystems, versions})
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
