// The catalog of a database as text, to compare two databases by what PostgreSQL says
// they contain (pg_catalog through runtime/Inspector), never by the SQL that made them.
//
// Test-only: used by the integration tests that compare an upgraded database with a
// bootstrapped one (test/planner/ApplyPlanTest.cpp, test/runtime/EquivalenceTest.cpp).
#pragma once

#include "runtime/Connection.h"

#include <string>

namespace strata::test {

/// The catalog as text: the Schema model (runtime::describeSchema), then what the model
/// has no place for but a finished upgrade must not leave behind: invalid indexes, NOT
/// VALID constraints, unsupported objects, and the views, sequences, functions and
/// triggers of the public schema (strata's own, "strata_*", left out).
std::string catalogOf(runtime::Connection &conn);

/// \p description (describeSchema) without column positions, sorted again: columns
/// compare as a set. (Expand/contract re-creates a renamed or retyped column, which
/// PostgreSQL puts last; a merge folds its branches in its own order.)
std::string withoutColumnOrder(const std::string &description);

/// The column lines of two descriptions that differ, "-" for \p a and "+" for \p b.
std::string columnOrderDiff(const std::string &a, const std::string &b);

} // namespace strata::test
