// Drift: how a live catalog differs from the declared state of the versions a database
// is at (`strata diff`, the warning of `strata status`, the check of `strata apply
// baseline`), as typed changes with the SQL that removes each.
//
// Declared expressions are written as the DSL author wrote them (`default 'x'`), live ones
// as PostgreSQL deparses them (`'x'::text`). Rather than guess PostgreSQL's rules, the
// declared state is created for real in a scratch schema, inside a transaction that is
// rolled back, and read back with the same Inspector: both sides are then PostgreSQL's own
// text and compare exactly. (This needs the CREATE privilege on the database; nothing is
// left behind, and the scratch objects are invisible to other sessions.)
//
// Only the tables and enum types that the versions declare are compared. Everything else
// in the schema (tables and types no subsystem declares, other schemas) is listed as
// unmanaged and never changed; strata's own state tables (strata_*) are left out.
// `sql` blocks are opaque to the model and not compared.
#pragma once

#include "compiler/Project.h"
#include "planner/VersionGraph.h"
#include "runtime/Connection.h"
#include "runtime/Inspector.h"
#include "runtime/Interruption.h"

#include <llvm/Support/Error.h>

#include <set>
#include <string>
#include <vector>

namespace strata::runtime {

enum class ChangeKind {
  MissingTable,
  MissingColumn,
  ExtraColumn,
  ChangedType,
  ChangedDefault,
  ChangedNullability,
  ChangedGeneration,
  MissingConstraint,
  ExtraConstraint,
  ChangedConstraint,
  NotValidConstraint,
  MissingIndex,
  ExtraIndex,
  ChangedIndex,
  InvalidIndex,
  MissingType,
  MissingTypeValue,
  ChangedTypeValues,
};

/// A stable snake_case name ("extra_index"), for output and JSON.
const char *changeKindName(ChangeKind kind);

/// One difference between the declared state and the live catalog.
struct Change {
  ChangeKind kind = ChangeKind::MissingTable;
  std::string table;    ///< the table, or the enum type for the *_type* kinds
  std::string object;   ///< the column, constraint, index or label; empty for a table or type
  std::string declared; ///< what the versions declare, as DSL; empty: nothing
  std::string live;     ///< what the database has, as DSL; empty: nothing
  /// The statements that make the database match the declaration again; empty when
  /// strata cannot say (then `note` says what to do).
  std::vector<std::string> sql;
  std::string note;
};

/// One line: `extra_index on table "routes": index routes_x_idx (name)`.
std::string describeChange(const Change &change);

/// An object in the inspected database that no declared version owns.
struct UnmanagedObject {
  std::string kind; ///< "schema", "table" or "type"
  std::string name;
};

struct DriftReport {
  std::vector<compiler::VersionRef> against; ///< the versions compared with
  std::vector<Change> changes;               ///< in a deterministic order
  std::vector<UnmanagedObject> unmanaged;
  /// Catalog features the model cannot represent (Inspection::unsupported) and other
  /// caveats, one line each.
  std::vector<std::string> notes;

  bool drifted() const { return !changes.empty(); }
  /// The tables (and types) that have at least one change.
  std::set<std::string> driftedTables() const;
  /// Every change's statements, in the order that removes the drift: invalid indexes
  /// dropped, then drops, column changes and adds as the diff engine orders them, then
  /// validations. (A change's own list is in the order that reads best.)
  std::vector<std::string> script;
  const std::vector<std::string> &sql() const { return script; }
};

/// The latest node per subsystem among \p nodes (a node that another one of the same
/// subsystem was built on is left out), in graph order. One pass over the graph
/// (runtime/StatusFacts.h headsAmong).
std::vector<compiler::VersionRef> headsOf(const planner::VersionGraph &graph,
                                          llvm::ArrayRef<compiler::VersionRef> nodes);

/// The versions a database is at: the heads of its recorded nodes (pending finish
/// included; versions the project does not declare are ignored, as apply ignores them).
/// Empty when strata does not manage the database. \p pending, when given, receives the
/// recorded nodes whose finish has not run.
llvm::Expected<std::vector<compiler::VersionRef>>
recordedVersions(Connection &conn, const compiler::Project &project,
                 const planner::VersionGraph &graph,
                 std::vector<compiler::VersionRef> *pending = nullptr);

/// The union of the states of \p versions (each subsystem's own tables and enum types;
/// `sql` blocks left out).
compiler::Schema declaredState(const compiler::Project &project,
                               llvm::ArrayRef<compiler::VersionRef> versions);

/// \p declared as PostgreSQL stores it: created in a scratch schema inside a transaction
/// that is rolled back, and read back by the Inspector. Precondition: \p conn is not in a
/// transaction. \p schema is the schema the declared objects live in (its objects stay
/// visible while the scratch objects are created).
llvm::Expected<compiler::Schema> storedForm(Connection &conn, const compiler::Schema &declared,
                                            llvm::StringRef schema);

/// The changes that turn \p live into \p declared (already in stored form) and the live
/// objects \p declared does not own. Pure: no database. A column that a trigger's
/// function names (Inspection::triggers) is reported but no statement drops it: dropped
/// alone, it would make every write to the table fail in the trigger.
DriftReport compareSchemas(const compiler::Schema &declared, const Inspection &live);

/// Leaves out of \p report every change, statement and unmanaged table that concerns an
/// object the started steps of \p interrupted created, changed or dropped
/// (Interruption::objects): strata's work in progress, which the resumed apply needs as
/// it is, not drift. Adds a note per interruption that says so and how to resume.
void leaveOutInFlight(DriftReport &report, llvm::ArrayRef<Interruption> interrupted);

/// \p declared (the state of \p versions, already in stored form) compared with the live
/// catalog of \p schema, read now, with the other schemas of the database listed as
/// unmanaged. What `strata status` runs with a stored form from its cache
/// (runtime/StatusCache.h): the live side is never cached.
llvm::Expected<DriftReport> compareWithLive(Connection &conn, const compiler::Schema &declared,
                                            llvm::ArrayRef<compiler::VersionRef> versions,
                                            llvm::StringRef schema = "public");

/// Everything above: the declared state of \p versions in stored form, compared with the
/// live catalog of \p schema (compareWithLive).
llvm::Expected<DriftReport> checkDrift(Connection &conn, const compiler::Project &project,
                                       llvm::ArrayRef<compiler::VersionRef> versions,
                                       llvm::StringRef schema = "public");

} // namespace strata::runtime
