// parallelFor: every item exactly once, on threads numbered below parallelThreads().
#include "compiler/Parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace strata::compiler {
namespace {

TEST(ParallelFor, CallsEveryItemOnceOnNumberedThreads) {
  for (size_t items : {0u, 1u, 2u, 7u, 1000u}) {
    std::vector<std::atomic<int>> calls(items);
    std::atomic<bool> threadInRange{true};
    unsigned threads = parallelThreads(items);
    parallelFor(items, [&](size_t item, unsigned thread) {
      calls[item]++;
      if (thread >= threads)
        threadInRange = false;
    });
    for (size_t i = 0; i < items; ++i)
      EXPECT_EQ(calls[i].load(), 1) << "item " << i << " of " << items;
    EXPECT_TRUE(threadInRange) << items << " items";
    EXPECT_GE(threads, 1u);
    EXPECT_LE(threads, std::max<size_t>(items, 1));
  }
}

} // namespace
} // namespace strata::compiler
