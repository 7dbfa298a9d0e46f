// The sync trigger of a table while old and new nodes run: its sections, as values.
//
// Every change of a plan that carries old nodes' writes over to what new nodes read (a
// rename, a type change through a shadow column, a fill) is a section of one BEFORE
// trigger per table, in a fixed order: first the two names of each renamed column are
// made to agree (the one the writer set wins), then the fills in plan order, then the
// conversions into shadow columns, which read the column once it is filled. Fix: each
// change had a trigger of its own and PostgreSQL fires those in name order, so in a chain
// of changes to one column (renamed twice, renamed then filled, a type change and a fill)
// a hop ran before the one it depends on, and old nodes' values were lost or replaced.
//
// The planner keeps these while it rewrites a plan's Ops; sql::syncFunction renders them.
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace strata::planner {

/// A renamed column: old nodes write oldColumn, new nodes newColumn.
struct RenameSync {
  unsigned id = 0;
  std::string oldColumn, newColumn;
  /// What each column holds when an insert leaves it out ("" none): while neither is
  /// volatile, an insert that leaves one column at its default wrote the other one.
  std::string oldDefault, newDefault;
  bool comparable = true;
};

/// A fill: column takes expr when a write leaves it null; so does alsoColumn, the old name
/// of a renamed column, from it.
struct FillSync {
  unsigned id = 0;
  std::string column, expr, alsoColumn;
  /// (name in expr, column now): columns renamed in place since expr was written.
  std::vector<std::pair<std::string, std::string>> aliases;
};

/// A type change: the shadow column `to` holds conv of `from`.
struct ConvertSync {
  unsigned id = 0;
  std::string from, to, conv;
};

/// One table's trigger: its function's name, whether up created it yet, its sections.
struct TableSync {
  std::string function;
  bool created = false;
  std::vector<RenameSync> renames;
  std::vector<FillSync> fills;
  std::vector<ConvertSync> converts;

  /// Whether a section is left once those in \p gone are removed.
  bool hasSectionsBesides(const std::set<unsigned> &gone) const {
    auto left = [&](const auto &sections) {
      for (const auto &s : sections)
        if (!gone.count(s.id))
          return true;
      return false;
    };
    return left(renames) || left(fills) || left(converts);
  }
};

} // namespace strata::planner
