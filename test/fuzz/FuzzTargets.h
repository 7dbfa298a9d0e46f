// The fuzz targets as plain functions: libFuzzer calls them through LLVMFuzzerTestOneInput
// (built with STRATA_LIBFUZZER, see CMakeLists.txt), and fuzz_regression_tests replays every
// seed and every input a fuzzer ever found through them in the normal build.
#pragma once

#include <cstddef>
#include <cstdint>

namespace strata::fuzz {

/// One .strata file: parse, compile, plan bootstrap/up/finish, render, re-read the plan file.
int fuzzFrontEnd(const uint8_t *data, size_t size);
/// One plan file: readJson, and when it reads, render and re-read it.
int fuzzPlanJson(const uint8_t *data, size_t size);

} // namespace strata::fuzz
