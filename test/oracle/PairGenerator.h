// PairGenerator: draws a random upgrade from a seed, deterministically (the same seed gives
// the same pair on every machine): a starting version of a few tables (columns of text,
// integer, bigint, numeric, varchar(n), timestamptz, boolean, enum and array types; NOT
// NULL, defaults, unique, checks, foreign keys, indexes) and one to three next versions
// drawn from every change the DSL can express (every compiler::OpKind), with `fill`,
// `using` and `was` where the change needs them and `unsafe` sometimes.
//
// The generator keeps a small model of the schema as it draws, so that most changes are
// valid against the state they apply to; the compiler is the judge (a pair that does not
// compile is counted by the oracle, not run). Changes that the model cannot know to be
// safe (a narrowing type change, a check on existing data, a fill that may be NULL) are
// drawn on purpose: the proof must refuse or warn about them, or the run shows it wrong.
//
// Test-only (test/oracle).
#pragma once

#include "test/oracle/GeneratedPair.h"

#include <llvm/ADT/ArrayRef.h>

namespace strata::oracle {

/// Every OpKind, in declaration order. Adding a kind to compiler::OpKind breaks the build
/// in PairGenerator.cpp (a switch without default maps each kind to its drawing) until
/// the generator draws it and it is listed here.
llvm::ArrayRef<compiler::OpKind> allOpKinds();

/// A name for how the generator draws \p kind (for messages and the coverage test).
const char *drawingOf(compiler::OpKind kind);

/// The pair of \p seed.
GeneratedPair generatePair(uint64_t seed);

} // namespace strata::oracle
