// libFuzzer target: the plan file reader (planner/PlanFormat readJson, `apply --plan`).
//
// Any bytes must be either refused with an llvm::Error or read into a Plan; never a crash,
// a hang, an exception or a leak. A plan it accepts is rendered in all four formats, and its
// plan file must read back to an equal Plan (renderJson then readJson is the identity on
// what readJson accepts); a mismatch aborts.
#include "test/fuzz/FuzzTargets.h"

#include "planner/PlanFormat.h"

#include <cstdio>
#include <cstdlib>

using namespace strata;

int strata::fuzz::fuzzPlanJson(const uint8_t *data, size_t size) {
  llvm::Expected<planner::Plan> plan =
      planner::readJson(llvm::StringRef(reinterpret_cast<const char *>(data), size));
  if (!plan) {
    std::string message = llvm::toString(plan.takeError());
    if (message.empty() || message.find('\n') != std::string::npos) {
      std::fprintf(stderr, "FuzzPlanJson: not a one-line message: \"%s\"\n", message.c_str());
      std::abort();
    }
    return 0;
  }
  (void)planner::renderText(*plan, {true});
  (void)planner::renderSql(*plan);
  (void)planner::renderMarkdown(*plan);
  std::string json = planner::renderJson(*plan);
  llvm::Expected<planner::Plan> back = planner::readJson(json);
  if (!back) {
    std::fprintf(stderr, "FuzzPlanJson: readJson rejects what renderJson wrote: %s\n%s\n",
                 llvm::toString(back.takeError()).c_str(), json.c_str());
    std::abort();
  }
  if (!(*back == *plan)) {
    std::fprintf(stderr, "FuzzPlanJson: plan does not round-trip:\n%s\n%s\n", json.c_str(),
                 planner::renderJson(*back).c_str());
    std::abort();
  }
  return 0;
}

#ifdef STRATA_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return strata::fuzz::fuzzPlanJson(data, size);
}
#endif
