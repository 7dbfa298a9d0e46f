// Each thread's own DFA cache for ANTLR's generated recognizers.
//
// A generated lexer or parser shares one static DFA cache among all its instances, and so
// among threads. The 4.9 runtime's locking of that cache is known to have races (fixed in
// later runtimes), so files parsed in parallel (Compilation::run) each use a cache of their
// thread's instead: the ATN is shared and read only, the DFA built from it is not.
#pragma once

#include <antlr4-runtime.h>

#include <vector>

namespace strata::compiler {

template <typename Recognizer> struct ThreadCaches {
  std::vector<antlr4::dfa::DFA> dfa;
  antlr4::atn::PredictionContextCache contexts;

  explicit ThreadCaches(const antlr4::atn::ATN &atn) {
    size_t decisions = atn.getNumberOfDecisions();
    dfa.reserve(decisions);
    for (size_t i = 0; i < decisions; ++i)
      dfa.emplace_back(atn.getDecisionState(i), i);
  }
};

/// A parser simulator over a thread's own DFA (see useThreadCaches). It reads DFA edges
/// without the runtime's edge lock: that lock is one for the whole process, a mutex taken
/// twice per prediction step, which parsing threads fought over; no other thread touches
/// this DFA. (The runtime's own lookup, disassembled: `edges.find(t)` under the lock.)
class ThreadParserATNSimulator final : public antlr4::atn::ParserATNSimulator {
public:
  using ParserATNSimulator::ParserATNSimulator;

protected:
  antlr4::dfa::DFAState *getExistingTargetState(antlr4::dfa::DFAState *previous,
                                                size_t t) override {
    auto edge = previous->edges.find(t);
    return edge == previous->edges.end() ? nullptr : edge->second;
  }
};

/// Replaces \p recognizer's simulator (a \p Simulator over its class's shared cache) with
/// one over this thread's cache for \p Recognizer.
template <typename Simulator, typename Recognizer> void useThreadCaches(Recognizer &recognizer) {
  thread_local ThreadCaches<Recognizer> caches(recognizer.getATN());
  // setInterpreter deletes the simulator it replaces.
  recognizer.setInterpreter(
      new Simulator(&recognizer, recognizer.getATN(), caches.dfa, caches.contexts));
}

} // namespace strata::compiler
