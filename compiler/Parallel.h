// Independent iterations spread over the machine's cores.
//
// Used where a stage's items do not depend on each other: files when parsing, versions
// when checksumming and when looking for the planner's findings. Each caller keeps its
// output deterministic by writing item i's result to slot i and reading the slots in
// order afterwards.
#pragma once

#include <llvm/Support/Threading.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace strata::compiler {

/// The threads parallelFor uses for \p items items: one per core the process may run on,
/// and no more than there are items.
inline unsigned parallelThreads(size_t items) {
  unsigned cores = llvm::hardware_concurrency().compute_thread_count();
  return static_cast<unsigned>(std::max<size_t>(1, std::min<size_t>(items, cores)));
}

/// Calls \p body(item, thread) for every item in [0, items), on parallelThreads(items)
/// threads numbered from 0 (the caller's own). Items are handed out in order, one at a
/// time; \p body must be safe to run concurrently for different items, and must not throw.
template <typename Body> void parallelFor(size_t items, Body &&body) {
  unsigned threads = parallelThreads(items);
  std::atomic<size_t> next{0};
  auto work = [&](unsigned thread) {
    for (size_t item = next++; item < items; item = next++)
      body(item, thread);
  };
  std::vector<std::thread> workers;
  for (unsigned t = 1; t < threads; ++t)
    workers.emplace_back(work, t);
  work(0);
  for (std::thread &worker : workers)
    worker.join();
}

} // namespace strata::compiler
