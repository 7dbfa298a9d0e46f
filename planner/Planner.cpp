#include "planner/Planner.h"

#include "compiler/Fold.h"
#include "compiler/Naming.h"
#include "compiler/Parallel.h"
#include "compiler/SqlExpr.h"
#include "planner/Sql.h"

#include <llvm/ADT/STLExtras.h>
#include <llvm/ADT/StringExtras.h>
#include <llvm/ADT/StringSet.h>
#include <llvm/Support/xxhash.h>

#include <fmt/format.h>

#include <map>
#include <optional>
#include <set>

namespace strata::planner {

using namespace compiler;

namespace {

/// The advice of C203 (and C204's below). Waiting for a later version does not help: each
/// version is planned against the nodes of the one before, which still write the column.
constexpr const char *constraintAdvice =
    "put it on a new column that old nodes do not write and backfill that, or mark it "
    "'unsafe \"why\"' if every release already obeys it";

/// \p alter, a change in place of \p column's type, and for a serial column the change of
/// its sequence's type with it (sql::serialSequenceType).
std::string withSequenceType(std::string alter, llvm::StringRef table, const Column &column) {
  std::string sequence = sql::serialSequenceType(table, column);
  return sequence.empty() ? alter : alter + ";\n" + sequence;
}

llvm::Error failure(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Where \p op is written, without the `unsafe "reason"` marker that an action of an
/// `alter table` block starts with: steps and findings point at the change itself, and
/// check adds a note at the marker.
SourceRange changeRange(const Op &op) {
  SourceRange r = op.range;
  if (op.unsafe && r.Start.isValid() && op.unsafeRange.End.isValid() &&
      r.Start.getPointer() == op.unsafeRange.Start.getPointer() &&
      op.unsafeRange.End.getPointer() < r.End.getPointer()) {
    const char *p = op.unsafeRange.End.getPointer();
    while (p < r.End.getPointer() && llvm::isSpace(*p))
      ++p;
    r.Start = llvm::SMLoc::getFromPointer(p);
  }
  return r;
}

/// Whether \p expr is a plain literal, optionally in parentheses: a number, a string
/// without quotes inside, true, false or null. Saves parsing the commonest defaults and
/// fills (`0`, `'n/a'`), which `check` does for every version.
bool isPlainLiteral(llvm::StringRef expr) {
  expr = expr.trim();
  while (expr.size() >= 2 && expr.front() == '(' && expr.back() == ')' &&
         !expr.drop_front().drop_back().contains_insensitive("("))
    expr = expr.drop_front().drop_back().trim();
  if (expr.empty())
    return false;
  if (expr.equals_insensitive("true") || expr.equals_insensitive("false") ||
      expr.equals_insensitive("null"))
    return true;
  if (expr.size() >= 2 && expr.front() == '\'' && expr.back() == '\'')
    return !expr.drop_front().drop_back().contains('\'');
  llvm::StringRef digits = expr.front() == '-' ? expr.drop_front() : expr;
  return !digits.empty() &&
         llvm::all_of(digits, [](char c) { return llvm::isDigit(c) || c == '.'; });
}

/// Functions whose result changes from row to row: a default calling one rewrites the
/// table on ADD COLUMN. Anything not known to be immutable or stable counts as volatile,
/// which errs on the side of the batched rewrite.
bool isVolatileExpr(llvm::StringRef expr) {
  static const char *stable[] = {"now",
                                 "current_timestamp",
                                 "current_date",
                                 "current_time",
                                 "localtimestamp",
                                 "localtime",
                                 "lower",
                                 "upper",
                                 "coalesce",
                                 "length",
                                 "abs",
                                 "concat",
                                 "to_char",
                                 "date_trunc",
                                 "md5"};
  if (isPlainLiteral(expr))
    return false;
  SqlExprInfo info = checkSqlExpression(expr);
  if (!info.ok)
    return true;
  if (info.firstFunction.empty())
    return llvm::StringRef(expr).contains_insensitive("nextval");
  // Only the outermost function is known; any other call makes us careful.
  return !llvm::is_contained(stable, info.firstFunction) ||
         llvm::StringRef(expr).contains_insensitive("random") ||
         llvm::StringRef(expr).contains_insensitive("uuid") ||
         llvm::StringRef(expr).contains_insensitive("clock_timestamp") ||
         llvm::StringRef(expr).contains_insensitive("nextval");
}

/// Whether a raw `sql` block may run in a transaction block: not with what PostgreSQL
/// refuses there (CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, VACUUM).
bool canRunInTransaction(llvm::StringRef text) {
  return !(text.contains_insensitive("concurrently") || text.contains_insensitive("vacuum"));
}

/// A raw `sql` block's text as a step's SQL: trimmed, and ended by a newline when its last
/// line may end in a `--` comment. Fix: the `;` that the executor and the SQL rendering put
/// after a step was commented out by such a line, and the next statement (the step's
/// record, COMMIT) became part of the block's last one: a syntax error at apply time.
std::string rawStepSql(llvm::StringRef text) {
  llvm::StringRef trimmed = text.trim();
  size_t lastLine = trimmed.rfind('\n');
  bool comment = trimmed.substr(lastLine == llvm::StringRef::npos ? 0 : lastLine).contains("--");
  return trimmed.str() + (comment ? "\n" : "");
}

/// The lock of a raw `sql` step, from its statements' parse trees: the strongest any of
/// them takes, on every table one of them locks. Unknown when a statement is one strata
/// does not classify (a DO block, say).
static_assert(static_cast<int>(LockMode::AccessShare) == 1 &&
                  static_cast<int>(LockMode::AccessExclusive) == 8,
              "LockMode follows PostgreSQL's lock levels");
void setRawLocks(Step &s) {
  std::vector<SqlStatementLock> locks = sqlScriptLocks(s.sql);
  s.lock = locks.empty() ? LockMode::Unknown : LockMode::None;
  for (const SqlStatementLock &l : locks) {
    LockMode mode = l.level < 0 ? LockMode::Unknown : static_cast<LockMode>(l.level);
    s.lock = std::max(s.lock, mode);
    if (l.level != 0)
      for (const std::string &t : l.tables)
        if (!llvm::is_contained(s.lockTables, t))
          s.lockTables.push_back(t);
  }
}

/// Whether two expressions are the same text, up to spaces and enclosing parentheses
/// (`'http'` and `('http')`).
bool sameExpression(llvm::StringRef a, llvm::StringRef b) {
  auto bare = [](llvm::StringRef e) {
    e = e.trim();
    while (e.size() >= 2 && e.front() == '(' && e.back() == ')') {
      // Only when the outer parentheses enclose everything: not "(a) + (b)".
      int depth = 0;
      bool encloses = true;
      for (size_t i = 0; i + 1 < e.size(); ++i) {
        depth += e[i] == '(' ? 1 : e[i] == ')' ? -1 : 0;
        if (depth == 0) {
          encloses = false;
          break;
        }
      }
      if (!encloses)
        break;
      e = e.drop_front().drop_back().trim();
    }
    return e;
  };
  return bare(a) == bare(b);
}

/// Type changes that keep every value an old node reads or writes valid, and in place
/// need no rewrite (binary coercible): done directly in `up`.
bool isBinaryCoercibleWidening(const DataType &from, const DataType &to) {
  if (from.arrayDims != to.arrayDims || from.isEnum || to.isEnum)
    return false;
  if (from.name == "character varying" && to.name == "text")
    return true;
  if (from.name == "character varying" && to.name == "character varying")
    return to.mods.empty() || (!from.mods.empty() && to.mods[0] >= from.mods[0]);
  if (from.name == "numeric" && to.name == "numeric")
    return to.mods.empty() || (from.mods.size() == 2 && to.mods.size() == 2 &&
                               to.mods[1] == from.mods[1] && to.mods[0] >= from.mods[0]);
  return false;
}

/// Whether \p expr is \p column itself or a cast of it (`n::bigint`, `CAST(n AS bigint)`,
/// `("n")::bigint`): a `using` that changes only the type, not the values.
bool isCastOf(llvm::StringRef expr, llvm::StringRef column) {
  std::string bare;
  for (char ch : expr)
    if (!llvm::isSpace(ch) && ch != '(' && ch != ')')
      bare += ch;
  std::string lower = llvm::StringRef(bare).lower();
  for (const std::string &name : {column.str(), "\"" + column.str() + "\""}) {
    llvm::StringRef rest(bare);
    auto typeName = [](llvm::StringRef t) {
      return !t.empty() && llvm::all_of(t, [](char ch) {
        return llvm::isAlnum(ch) || ch == '_' || ch == '"' || ch == '[' || ch == ']' || ch == '.' ||
               ch == ',';
      });
    };
    if (rest.consume_front(name) && (rest.empty() || (rest.consume_front("::") && typeName(rest))))
      return true;
    llvm::StringRef cast(lower);
    if (cast.consume_front("cast") && cast.consume_front(llvm::StringRef(name).lower()) &&
        cast.consume_front("as") && typeName(cast))
      return true;
  }
  return false;
}

/// Type changes where every value of the old type is a value of the new one: safe with a
/// shadow column kept in sync while both versions run.
bool isWidening(const DataType &from, const DataType &to) {
  if (isBinaryCoercibleWidening(from, to))
    return true;
  if (from.arrayDims != to.arrayDims || from.isEnum || to.isEnum)
    return false;
  static const char *integers[] = {"smallint", "integer", "bigint", "numeric"};
  auto rank = [](llvm::StringRef name) -> int {
    for (int i = 0; i < 4; ++i)
      if (name == integers[i])
        return i;
    return -1;
  };
  if (rank(from.name) >= 0 && rank(to.name) > rank(from.name) && to.mods.empty())
    return true;
  if (from.name == "real" && to.name == "double precision")
    return true;
  if ((from.name == "character varying" || from.name == "character") && to.name == "text")
    return true;
  return false;
}

/// A name for a helper object (trigger function, check, shadow column): PostgreSQL's own
/// makeObjectName("table", "column", kind) when it fits, else shortened with a hash of the
/// full name so that it stays unique within 63 bytes.
std::string helperName(llvm::StringRef kind, llvm::StringRef table, llvm::StringRef column) {
  std::string full =
      column.empty() ? (table + "_" + kind).str() : (table + "_" + column + "_" + kind).str();
  if (full.size() <= 63)
    return full;
  // Always 8 digits, so that equally long inputs give equally long names.
  std::string hash = fmt::format("{:08x}", llvm::xxHash64(full) & 0xffffffffu);
  return makeObjectName(table, column, (kind + "_" + hash).str());
}

/// \p name with a suffix, for a helper that stands in for one object: the shadow column
/// of a type change (column names are per table: no table prefix needed), or an index or
/// constraint built under a temporary name. Shortened with a hash like helperName.
std::string suffixedName(llvm::StringRef kind, llvm::StringRef name) {
  std::string full = (name + "_" + kind).str();
  if (full.size() <= 63)
    return full;
  std::string suffix = fmt::format("_{}_{:08x}", kind.str(), llvm::xxHash64(full) & 0xffffffffu);
  // Cut on a UTF-8 character boundary.
  size_t keep = 63 - suffix.size();
  while (keep > 0 && (static_cast<unsigned char>(name[keep]) & 0xc0) == 0x80)
    --keep;
  return name.take_front(keep).str() + suffix;
}

class Rewriter {
public:
  /// \p base, the schema old nodes use, must outlive the rewriter.
  Rewriter(const Project &project, const Locator &locate, const Schema &base)
      : project(project), locate(locate), start(base), cur(&base) {}

  /// Rewrites one node's Ops; \p runUp false for a pending node whose `up` already ran
  /// (its finish steps are still needed).
  void node(VersionRef ref) {
    current = ref;
    const Version &version = project.at(ref);
    for (const Op &op : version.ops) {
      ++opIndex;
      rewrite(op);
      advance(op, &op == &version.ops.back() && !advancePastLast);
    }
  }

  /// Tells the rewriter every node it will see, in order, before the first: finish runs
  /// after all of up, so a finish step must name a table as it is called once every
  /// rename of this plan ran (see finishTable).
  ///
  /// It also finds the column renames that up makes in place (of a column no running node
  /// uses: one new in this plan, or the new name of a column renamed earlier in it, or one
  /// marked unsafe), so that a finish step names such a column as finish finds it (see
  /// finishColumn). The test is the one renameColumn makes.
  void planAhead(llvm::ArrayRef<VersionRef> nodes) {
    size_t index = 0;
    std::set<std::string> tablesAhead;
    std::set<std::pair<std::string, std::string>> columnsAhead;
    for (VersionRef ref : nodes)
      for (const Op &op : project.at(ref).ops) {
        ++index;
        switch (op.kind) {
        case OpKind::CreateTable:
          tablesAhead.insert(op.tableDef.name);
          break;
        case OpKind::RenameTable: {
          renames.push_back({index, op.table, op.newName});
          if (tablesAhead.erase(op.table))
            tablesAhead.insert(op.newName);
          std::set<std::pair<std::string, std::string>> moved;
          for (const auto &[t, c] : columnsAhead)
            moved.insert({t == op.table ? op.newName : t, c});
          columnsAhead = std::move(moved);
          break;
        }
        case OpKind::AddColumn:
          columnsAhead.insert({op.table, op.column.name});
          break;
        case OpKind::RenameColumn: {
          bool isNew = tablesAhead.count(op.table) || columnsAhead.erase({op.table, op.name});
          if (isNew || op.unsafe)
            columnRenames.push_back({index, op.table, op.name, op.newName});
          if (!tablesAhead.count(op.table) && (isNew || !op.unsafe))
            columnsAhead.insert({op.table, op.newName});
          break;
        }
        default:
          break;
        }
      }
  }

  /// false: the state is not needed after the last Op of a node (check's one-node
  /// rewrites), which saves applying it.
  bool advancePastLast = true;

  std::vector<Step> up, finish;
  std::vector<Finding> findings;
  std::vector<const Op *> findingOps; ///< the Op of each finding
  /// Up steps of each node, by position in up (for splitting per node).
  std::vector<std::pair<VersionRef, size_t>> upStart, finishStart;

  void beginNode(VersionRef ref) {
    upStart.push_back({ref, up.size()});
    finishStart.push_back({ref, finish.size()});
  }

private:
  /// Applies \p op to the state, unless \p skip.
  void advance(const Op &op, bool skip) {
    if (skip)
      return;
    if (!owned) {
      owned.emplace(*cur);
      cur = &*owned;
    }
    applyOp(*owned, op);
  }

  // --- step construction --------------------------------------------------------------

  Step step(const Op &op, std::string sql, std::string reason) {
    Step s;
    s.subsystem = project.subsystems[current.subsystem].name;
    s.version = project.at(current).text;
    s.sql = std::move(sql);
    s.reason = std::move(reason);
    s.location = locate(changeRange(op));
    s.unsafe = op.unsafe;
    return s;
  }

  void addUp(Step s) {
    s.phase = Phase::Up;
    up.push_back(std::move(s));
  }
  void addFinish(Step s) {
    s.phase = Phase::Finish;
    for (std::string &t : s.lockTables)
      t = finishTable(t);
    finish.push_back(std::move(s));
  }

  /// What \p table, as the current Op names it, is called when finish runs: renamed by
  /// every later rename of this plan (up renames tables in place, and keeps a view with
  /// the old name only until finish).
  std::string finishTable(std::string table) const {
    for (const Rename &r : renames)
      if (r.opIndex > opIndex && r.from == table)
        table = r.to;
    return table;
  }
  /// What \p table is called at the \p index-th Op of the plan, as the current Op names it.
  std::string tableAt(std::string table, size_t index) const {
    for (const Rename &r : renames)
      if (r.opIndex > opIndex && r.opIndex < index && r.from == table)
        table = r.to;
    return table;
  }
  /// What \p column of \p table, as the current Op names them, is called when finish runs:
  /// renamed by the later in-place renames of this plan.
  std::string finishColumn(const std::string &table, std::string column) const {
    for (const ColumnRename &r : columnRenames)
      if (r.opIndex > opIndex && r.from == column && tableAt(table, r.opIndex) == r.table)
        column = r.to;
    return column;
  }
  /// finishTable, quoted for SQL.
  std::string finishIdent(const std::string &table) const { return sql::ident(finishTable(table)); }

  Step ddl(const Op &op, std::string sql, std::string reason, LockMode lock,
           std::vector<std::string> tables) {
    Step s = step(op, std::move(sql), std::move(reason));
    s.lock = lock;
    s.lockTables = std::move(tables);
    return s;
  }

  /// A compatibility finding at \p op: an error that says what to do about \p problem
  /// (\p advice), or, when the author wrote `unsafe`, a warning that gives their reason.
  void incompatible(const Op &op, const std::string &code, const std::string &problem,
                    const std::string &advice) {
    std::string message = op.unsafe
                              ? problem + "; marked unsafe" +
                                    (op.unsafeReason.empty() ? "" : ": \"" + op.unsafeReason + "\"")
                              : problem + "; " + advice;
    finding(op, code, !op.unsafe, std::move(message));
  }

  void lint(const Op &op, Step &s, const std::string &code, const std::string &message) {
    s.lints.push_back(code);
    finding(op, code, false, message);
  }

  void finding(const Op &op, const std::string &code, bool error, std::string message) {
    Finding f;
    f.code = code;
    f.error = error;
    f.message = std::move(message);
    f.location = locate(changeRange(op));
    findings.push_back(std::move(f));
    findingOps.push_back(&op);
  }

  // --- facts about the state -------------------------------------------------------------

  bool tableIsNew(llvm::StringRef table) const { return newTables.count(table.str()) != 0; }
  bool columnIsNew(llvm::StringRef table, llvm::StringRef column) const {
    return tableIsNew(table) || newColumns.count({table.str(), column.str()}) != 0;
  }
  const Table &table(llvm::StringRef name) const {
    const Table *t = cur->findTable(name);
    assert(t && "op on a table missing from the state");
    return *t;
  }
  /// Columns of the table that an index or constraint uses.
  bool columnIsIndexed(const Table &t, llvm::StringRef column) const {
    for (const Constraint &c : t.constraints)
      if (llvm::is_contained(c.columns, column))
        return true;
    for (const Index &i : t.indexes)
      for (const IndexColumn &e : i.elems)
        if (e.column == column)
          return true;
    for (const auto &[_, other] : cur->tables())
      for (const Constraint &c : other->constraints)
        if (c.kind == ConstraintKind::ForeignKey && c.refTable == t.name &&
            llvm::is_contained(c.refColumns, column))
          return true;
    return false;
  }
  /// The first constraint or index of \p t, or foreign key of another table, that uses
  /// \p column, as a finding names it (`index "t_c_idx"`); empty when none does.
  std::string whatUsesColumn(const Table &t, llvm::StringRef column) const {
    for (const Constraint &c : t.constraints)
      if (llvm::is_contained(c.columns, column))
        return fmt::format("{} \"{}\"", constraintKindName(c.kind), c.name);
    for (const Index &i : t.indexes)
      for (const IndexColumn &e : i.elems)
        if (e.column == column)
          return fmt::format("index \"{}\"", i.name);
    for (const auto &[_, other] : cur->tables())
      for (const Constraint &c : other->constraints)
        if (c.kind == ConstraintKind::ForeignKey && c.refTable == t.name &&
            llvm::is_contained(c.refColumns, column))
          return fmt::format("foreign key \"{}\" of \"{}\"", c.name, other->name);
    return {};
  }
  std::vector<std::string> primaryKey(const Table &t) const {
    if (const Constraint *pk = t.primaryKey())
      return pk->columns;
    return {};
  }

  // --- shared pieces -------------------------------------------------------------------

  /// A batched backfill step: `UPDATE t SET <set> WHERE <where>`, in batches on the key.
  void backfillStep(const Op &op, const std::string &tableName, const std::string &set,
                    const std::string &where, int64_t batchSize, const std::string &reason) {
    const Table &t = table(tableName);
    std::vector<std::string> key = primaryKey(t);
    Step s = step(op, "", reason);
    s.lock = LockMode::RowExclusive;
    s.lockTables = {tableName};
    s.scans = true;
    s.isBackfill = true;
    s.transactional = true;
    s.backfill.table = tableName;
    s.backfill.keyColumns = key;
    s.backfill.set = set;
    s.backfill.where = where;
    s.backfill.batchSize = batchSize;
    if (key.empty()) {
      // Without a key there is no resumable cursor: one UPDATE, flagged.
      s.isBackfill = false;
      s.sql = fmt::format("UPDATE {} SET {} WHERE {}", sql::ident(tableName), set, where);
      lint(op, s, "S110",
           fmt::format("table \"{}\" has no primary key: its backfill runs as one UPDATE",
                       tableName));
    } else {
      s.sql = sql::backfillBatch(tableName, key, set, where);
    }
    addUp(std::move(s));
  }

  // --- the sync trigger of a table (planner/SyncTrigger.h) ---------------------------
  //
  // The sections name the columns as the database holds them; a column new in this plan
  // that a later version renames is renamed in place, and the sections follow it. Each
  // finish step that removes what a section serves replaces the function, in its own
  // transaction, with the sections left (the last one drops the trigger): finishSyncs()
  // writes that SQL once the whole plan is known.

  TableSync &syncOf(const std::string &tableName) {
    TableSync &ts = syncs[tableName];
    if (ts.function.empty())
      ts.function = helperName("strata_sync", tableName, "");
    return ts;
  }

  /// The up step that brings \p tableName's trigger up to date with its sections: the
  /// function replaced, the trigger created the first time; \p before and \p after run in
  /// the same transaction (an in-place rename the sections follow, a default).
  void syncStep(const Op &op, const std::string &tableName, const std::string &reason,
                const std::string &before = "", const std::string &after = "",
                LockMode lock = LockMode::None) {
    TableSync &ts = syncOf(tableName);
    std::string sqlText = before.empty() ? "" : before + ";\n";
    sqlText += sql::syncFunction(ts, {});
    if (!ts.created) {
      sqlText += ";\n" + sql::createSyncTrigger(ts.function, tableName);
      lock = std::max(lock, LockMode::ShareRowExclusive);
      ts.created = true;
    }
    if (!after.empty())
      sqlText += ";\n" + after;
    addUp(ddl(op, sqlText, reason, lock,
              lock == LockMode::None ? std::vector<std::string>{} : std::vector{tableName}));
  }

  /// A placeholder for the finish SQL that takes sections \p ids out of \p tableName's
  /// trigger; finishSyncs() replaces it.
  std::string syncRemoval(const std::string &tableName, std::vector<unsigned> ids) {
    std::string token = fmt::format("\x1fstrata-sync-{}\x1f", removals.size());
    removals[token] = {tableName, std::move(ids)};
    return token;
  }

  /// A fill section for \p column, with the up step that installs it and the finish step
  /// that removes it once old nodes are gone.
  void fillSection(const Op &op, const std::string &tableName, const std::string &column,
                   const std::string &expr) {
    TableSync &ts = syncOf(tableName);
    FillSync f;
    f.id = ++nextSection;
    f.column = column;
    f.expr = expr;
    // A renamed column's fill goes to the name new nodes read, and on to the old name.
    for (const RenameSync &r : ts.renames)
      if (r.newColumn == column)
        f.alsoColumn = r.oldColumn;
    ts.fills.push_back(f);
    syncStep(op, tableName, fmt::format("fill \"{}\" on rows that old nodes write", column));
    addFinish(ddl(op, syncRemoval(tableName, {f.id}),
                  "old nodes are gone: the trigger no longer fills their rows",
                  LockMode::AccessExclusive, {tableName}));
  }

  /// Follows an in-place rename of \p from to \p to in \p tableName's sections.
  void renameInSections(const std::string &tableName, const std::string &from,
                        const std::string &to) {
    auto it = syncs.find(tableName);
    if (it == syncs.end())
      return;
    for (RenameSync &r : it->second.renames)
      if (r.newColumn == from)
        r.newColumn = to;
    for (FillSync &f : it->second.fills) {
      if (f.column == from)
        f.column = to;
      if (f.alsoColumn == from)
        f.alsoColumn = to;
      bool aliased = false;
      for (auto &[name, column] : f.aliases)
        if (column == from) {
          column = to;
          aliased = true;
        }
      if (!aliased && llvm::is_contained(checkSqlExpression(f.expr).columns, from))
        f.aliases.push_back({from, to});
    }
  }

  bool hasSections(const std::string &tableName) const {
    auto it = syncs.find(tableName);
    return it != syncs.end() && it->second.created;
  }

public:
  /// Writes the finish SQL of every sync removal, in finish order: the function with the
  /// sections still needed, or the trigger and function dropped once none is.
  void finishSyncs() {
    std::map<std::string, std::set<unsigned>> gone;
    for (Step &s : finish) {
      for (size_t at = s.sql.find("\x1fstrata-sync-"); at != std::string::npos;
           at = s.sql.find("\x1fstrata-sync-")) {
        size_t end = s.sql.find('\x1f', at + 1);
        assert(end != std::string::npos && "unterminated sync placeholder");
        std::string token = s.sql.substr(at, end + 1 - at);
        const Removal &r = removals.at(token);
        std::set<unsigned> &done = gone[r.table];
        done.insert(r.ids.begin(), r.ids.end());
        const TableSync &ts = syncs.at(r.table);
        std::string replacement = ts.hasSectionsBesides(done)
                                      ? sql::syncFunction(ts, done)
                                      : sql::dropSyncTrigger(ts.function, r.table);
        s.sql.replace(at, token.size(), replacement);
      }
    }
  }

private:
  /// NOT NULL without a long lock: CHECK NOT VALID and VALIDATE once the backfill has run
  /// (both in up), SET NOT NULL (instant thanks to the valid check) and drop the check in
  /// finish.
  ///
  /// The check waits for the backfill (flushValidations): a NOT VALID check still applies
  /// to every UPDATE, so added earlier it would make any update of a row not yet filled
  /// fail, old nodes' updates included.
  ///
  /// \p finishName is what the column is called when its finish step runs, when that is
  /// not what finishColumn says: a shadow column that the swap of its type change renamed.
  /// \p keyColumn is the column as versions name it, when the check is on another one (a
  /// shadow): a later `drop not null` of it removes the check.
  void notNullSteps(const Op &op, const std::string &tableName, const std::string &column,
                    const std::string &finishName = "", const std::string &keyColumn = "") {
    std::string check = helperName("strata_nn", tableName, column);
    pendingValidations.push_back(
        ddl(op,
            fmt::format("ALTER TABLE {} ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID",
                        sql::ident(tableName), sql::ident(check), sql::ident(column)),
            fmt::format("\"{}\".\"{}\" must not be null: a NOT VALID check, no scan under the "
                        "lock",
                        tableName, column),
            LockMode::AccessExclusive, {tableName}));
    Step validate = ddl(op,
                        fmt::format("ALTER TABLE {} VALIDATE CONSTRAINT {}", sql::ident(tableName),
                                    sql::ident(check)),
                        "validate existing rows without blocking reads or writes",
                        LockMode::ShareUpdateExclusive, {tableName});
    validate.scans = true;
    pendingValidations.push_back(std::move(validate));
    std::string logical = !keyColumn.empty() ? keyColumn : finishName.empty() ? column : finishName;
    addFinish(ddl(
        op,
        fmt::format("ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n"
                    "ALTER TABLE {t} DROP CONSTRAINT {k}",
                    fmt::arg("t", finishIdent(tableName)),
                    fmt::arg("c", sql::ident(finishName.empty() ? finishColumn(tableName, column)
                                                                : finishName)),
                    fmt::arg("k", sql::ident(check))),
        "SET NOT NULL uses the validated check instead of scanning", LockMode::AccessExclusive,
        {tableName}));
    notNullChecks[{tableName, logical}].push_back({check, finish.back().sql});
  }

  /// C212: a constraint the new version drops binds new nodes until finish drops it.
  void droppedKey(const std::string &tableName, llvm::StringRef kind, const std::string &name,
                  std::vector<std::string> columns) {
    llvm::sort(columns);
    keysDroppedInFinish[tableName].push_back(
        {kind.str(), name,
         fmt::format("{}@{}", project.subsystems[current.subsystem].name, project.at(current).text),
         std::move(columns)});
  }

  /// PostgreSQL binds a new foreign key to a unique index of the referenced columns that
  /// exists when it is added, the oldest when there are several. In up, a key this plan
  /// drops in finish is still there: the foreign key would depend on it and finish could not
  /// drop it ("cannot drop constraint ... because other objects depend on it"). Refused,
  /// with no waiver: the upgrade cannot complete. In two plans it can.
  void foreignKeyOnDroppedKey(const Op &op, const Constraint &fk) {
    assert(fk.kind == ConstraintKind::ForeignKey && "not a foreign key");
    auto dropped = keysDroppedInFinish.find(fk.refTable);
    if (dropped == keysDroppedInFinish.end())
      return;
    std::vector<std::string> columns = fk.refColumns;
    if (columns.empty())
      if (const Table *ref = cur->findTable(fk.refTable))
        columns = primaryKey(*ref);
    std::vector<std::string> shown = fk.refColumns.empty() ? columns : fk.refColumns;
    llvm::sort(columns);
    for (const DroppedKey &key : dropped->second)
      if (key.columns == columns)
        return finding(
            op, "C207", true,
            fmt::format("foreign key \"{}\" references \"{}\" ({}), whose {} \"{}\" this plan "
                        "drops in finish: PostgreSQL would bind the new key to it, and finish "
                        "could not drop it; split the upgrade: run up and finish to {} first, "
                        "then upgrade on",
                        fk.name, fk.refTable, fmt::join(shown, ", "), key.kind, key.name,
                        key.node));
  }

  void keptUntilFinish(const Op &op, llvm::StringRef kind, llvm::StringRef name) {
    finding(op, "C212", false,
            fmt::format("{} \"{}\" of \"{}\" stays until finish, for old nodes: until then new "
                        "nodes' writes must still satisfy it",
                        kind.str(), name.str(), op.table));
  }

  static const char *constraintKindName(ConstraintKind kind) {
    switch (kind) {
    case ConstraintKind::Check:
      return "check";
    case ConstraintKind::ForeignKey:
      return "foreign key";
    case ConstraintKind::Unique:
      return "unique constraint";
    case ConstraintKind::PrimaryKey:
      return "primary key";
    }
    llvm_unreachable("unknown constraint kind");
  }

  /// \p sqlText, an in-place change of a column's type in up, between a drop and a
  /// re-creation of the views that keep a table renamed in this plan available under its
  /// old names: PostgreSQL refuses to change the type of a column a view uses. In one
  /// transaction, so old nodes never miss the view; they read the new type through it (a
  /// change in place in up is one that keeps their values valid).
  std::string withViewsRecreated(const std::string &tableName, const std::string &sqlText) const {
    auto views = renameViews.find(tableName);
    if (views == renameViews.end())
      return sqlText;
    std::string out;
    for (const std::string &v : views->second)
      out += "DROP VIEW " + sql::ident(v) + ";\n";
    out += sqlText;
    for (const std::string &v : views->second)
      out += fmt::format(";\nCREATE VIEW {} AS SELECT * FROM {}", sql::ident(v),
                         sql::ident(tableName));
    return out;
  }

  /// A table that a foreign key of \p t references, other than \p t itself ("" if none).
  static std::string referencedTable(const Table &t) {
    for (const Constraint &c : t.constraints)
      if (c.kind == ConstraintKind::ForeignKey && c.refTable != t.name)
        return c.refTable;
    return "";
  }

  /// Adds a finish step that removes a foreign key to \p refTable (its drop, or the drop of
  /// its table). When this plan's finish already drops \p refTable (another subsystem's,
  /// whose node runs first: plugin@2 drops its foreign key to a core table that core@2
  /// drops), the step goes just before that DROP TABLE, in its node, since PostgreSQL
  /// refuses to drop a table a foreign key references.
  void addFinishBeforeDropOf(const std::string &refTable, Step s) {
    auto dropped = refTable.empty() ? tableDropsInFinish.end()
                                    : tableDropsInFinish.find(finishTable(refTable));
    auto at = dropped == tableDropsInFinish.end()
                  ? finish.end()
                  : llvm::find_if(finish, [&](const Step &f) { return f.sql == dropped->second; });
    if (at == finish.end())
      return addFinish(std::move(s));
    s.phase = Phase::Finish;
    for (std::string &t : s.lockTables)
      t = finishTable(t);
    s.reason += fmt::format(" (in {}@{}, before its DROP TABLE {}, which PostgreSQL refuses while "
                            "a foreign key references the table)",
                            at->subsystem, at->version, sql::ident(dropped->first));
    s.subsystem = at->subsystem;
    s.version = at->version;
    finish.insert(at, std::move(s));
  }

  void flushValidations() {
    for (Step &s : pendingValidations)
      addUp(std::move(s));
    pendingValidations.clear();
  }

  // --- the rewrite rules --------------------------------------------------------------------

  void rewrite(const Op &op) {
    switch (op.kind) {
    case OpKind::CreateTable:
      return createTable(op);
    case OpKind::DropTable: {
      // A table new in this plan holds no data and no node uses it yet: dropped at once.
      if (tableIsNew(op.table))
        return addUp(ddl(op, "DROP TABLE " + sql::ident(op.table),
                         "table new in this plan: no node uses it yet", LockMode::AccessExclusive,
                         {op.table}));
      Step s = ddl(op, "DROP TABLE " + finishIdent(op.table), "old nodes may still use it",
                   LockMode::AccessExclusive, {op.table});
      s.destroys = true;
      lint(op, s, "S102", fmt::format("dropping table \"{}\" destroys its data", op.table));
      std::string refTable = referencedTable(table(op.table));
      tableDropsInFinish[finishTable(op.table)] = s.sql;
      return addFinishBeforeDropOf(refTable, std::move(s));
    }
    case OpKind::RenameTable:
      return renameTable(op);
    case OpKind::AddColumn:
      return addColumn(op);
    case OpKind::DropColumn:
      return dropColumn(op);
    case OpKind::RenameColumn:
      return renameColumn(op);
    case OpKind::AlterColumnType:
      return alterType(op);
    case OpKind::SetNotNull:
      return setNotNull(op);
    case OpKind::DropNotNull:
      // New nodes' inserts must not fail, so it cannot wait for finish; old nodes read the
      // nulls new nodes write.
      if (!tableIsNew(op.table) && !columnIsNew(op.table, op.name))
        finding(op, "C211", false,
                fmt::format("from up on, new nodes may write null into \"{}\".\"{}\", which "
                            "old nodes read as not null",
                            op.table, op.name));
      // NOT NULL that an earlier version of this plan sets is a check until finish: it
      // goes now, and finish no longer sets NOT NULL.
      if (auto pendingNN = notNullChecks.find({op.table, op.name});
          pendingNN != notNullChecks.end()) {
        std::string drops;
        for (const NotNullCheck &nn : pendingNN->second) {
          auto at = llvm::find_if(finish, [&](const Step &f) { return f.sql == nn.finishSql; });
          if (at != finish.end())
            finish.erase(at);
          drops += fmt::format("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {};\n",
                               sql::ident(op.table), sql::ident(nn.check));
        }
        notNullChecks.erase(pendingNN);
        return addUp(ddl(op,
                         drops + fmt::format("ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL",
                                             sql::ident(op.table), sql::ident(op.name)),
                         "new nodes may leave it null: the check that stood for NOT NULL goes",
                         LockMode::AccessExclusive, {op.table}));
      }
      return addUp(ddl(op,
                       fmt::format("ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL",
                                   sql::ident(op.table), sql::ident(op.name)),
                       "new nodes may leave it null", LockMode::AccessExclusive, {op.table}));
    case OpKind::SetDefault: {
      // A default this plan dropped earlier waits for finish: finish must not drop the
      // one set now.
      if (auto dropped = defaultDropsInFinish.find({op.table, op.name});
          dropped != defaultDropsInFinish.end()) {
        auto at = llvm::find_if(finish, [&](const Step &f) { return f.sql == dropped->second; });
        if (at != finish.end())
          finish.erase(at);
        defaultDropsInFinish.erase(dropped);
      }
      std::string set =
          fmt::format("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT ({})", sql::ident(op.table),
                      sql::ident(op.name), op.column.defaultExpr);
      // A type change's shadow takes the column's place in finish: the swap then sets
      // the default the column has by then.
      if (auto pending = shadows.find({finishTable(op.table), op.name}); pending != shadows.end()) {
        auto swap =
            llvm::find_if(finish, [&](const Step &f) { return f.sql == pending->second.swap; });
        if (swap != finish.end()) {
          swap->sql =
              pending->second.swapBase +
              fmt::format(";\nALTER TABLE {} ALTER COLUMN {} SET DEFAULT ({})",
                          finishIdent(op.table), sql::ident(op.name), op.column.defaultExpr);
          pending->second.swap = swap->sql;
        }
      }
      // The new name of a renamed column. While both run, both names take the new default,
      // as a column that is not renamed does from up on: the trigger tells which name an
      // insert set by comparing each with it.
      auto sync = syncs.find(op.table);
      RenameSync *renamed = nullptr;
      if (sync != syncs.end())
        for (RenameSync &r : sync->second.renames)
          if (r.newColumn == op.name)
            renamed = &r;
      if (renamed) {
        // A volatile default that was to move to the new name in finish: the one set now
        // is set on both names in up, and finish must not put the old one back.
        if (auto moved = defaultMovesInFinish.find({op.table, op.name});
            moved != defaultMovesInFinish.end()) {
          auto at = llvm::find_if(finish, [&](const Step &f) { return f.sql == moved->second; });
          if (at != finish.end())
            finish.erase(at);
          defaultMovesInFinish.erase(moved);
        }
        set +=
            fmt::format(";\nALTER TABLE {} ALTER COLUMN {} SET DEFAULT ({})", sql::ident(op.table),
                        sql::ident(renamed->oldColumn), op.column.defaultExpr);
        if (isVolatileExpr(op.column.defaultExpr)) {
          renamed->comparable = false;
          renamed->oldDefault.clear();
          renamed->newDefault.clear();
        } else {
          renamed->oldDefault = renamed->newDefault = op.column.defaultExpr;
        }
        return syncStep(op, op.table,
                        "a default applies to new rows only: no rewrite; both names take it "
                        "while both run",
                        set, "", LockMode::AccessExclusive);
      }
      return addUp(ddl(op, set, "a default applies to new rows only: no rewrite",
                       LockMode::AccessExclusive, {op.table}));
    }
    case OpKind::DropDefault:
      if (tableIsNew(op.table))
        return addUp(ddl(op,
                         fmt::format("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT",
                                     sql::ident(op.table), sql::ident(op.name)),
                         "table new in this plan", LockMode::AccessExclusive, {op.table}));
      // Old nodes may insert rows that rely on it (a NOT NULL column with a default they
      // leave out): it stays until finish, and new nodes' inserts get it meanwhile.
      finding(op, "C216", false,
              fmt::format("until finish, \"{}\".\"{}\" keeps its default for old nodes: new "
                          "nodes' inserts that leave it out get the default too, not null",
                          op.table, op.name));
      addFinish(ddl(op,
                    fmt::format("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT",
                                finishIdent(op.table), sql::ident(op.name)),
                    "old nodes may insert rows that rely on the default", LockMode::AccessExclusive,
                    {op.table}));
      defaultDropsInFinish[{op.table, op.name}] = finish.back().sql;
      return;
    case OpKind::AddIndex:
      return addIndex(op, op.index);
    case OpKind::DropIndex: {
      if (tableIsNew(op.table))
        return addUp(ddl(op, "DROP INDEX " + sql::ident(op.name), "table new in this plan",
                         LockMode::AccessExclusive, {op.table}));
      relationsDroppedInFinish.insert(op.name);
      if (const Index *index = table(op.table).findIndex(op.name); index && index->unique) {
        keptUntilFinish(op, "unique index", op.name);
        std::vector<std::string> columns;
        for (const IndexColumn &e : index->elems)
          columns.push_back(e.column);
        if (index->where.empty() && !llvm::is_contained(columns, std::string()))
          droppedKey(op.table, "unique index", op.name, columns);
      }
      Step s = ddl(op, "DROP INDEX CONCURRENTLY IF EXISTS " + sql::ident(op.name),
                   "old nodes' queries may use it; concurrently, so writes go on",
                   LockMode::ShareUpdateExclusive, {op.table});
      s.transactional = false;
      return addFinish(std::move(s));
    }
    case OpKind::RenameIndex:
      return addUp(ddl(
          op,
          fmt::format("ALTER INDEX {} RENAME TO {}", sql::ident(op.name), sql::ident(op.newName)),
          "index names are invisible to applications", LockMode::ShareUpdateExclusive, {op.table}));
    case OpKind::AddConstraint:
      return addConstraint(op);
    case OpKind::DropConstraint: {
      if (tableIsNew(op.table))
        return addUp(ddl(op,
                         fmt::format("ALTER TABLE {} DROP CONSTRAINT {}", sql::ident(op.table),
                                     sql::ident(op.name)),
                         "table new in this plan", LockMode::AccessExclusive, {op.table}));
      // Until finish the constraint, its name and its index's name stay: old nodes may rely
      // on it (an upsert's ON CONFLICT needs its unique key, a cascade its foreign key, their
      // reads the rows a check lets in). New nodes' writes must still satisfy it until then.
      constraintsDroppedInFinish.insert({op.table, op.name});
      if (const Constraint *c = table(op.table).findConstraint(op.name)) {
        keptUntilFinish(op, constraintKindName(c->kind), op.name);
        if (c->kind == ConstraintKind::PrimaryKey || c->kind == ConstraintKind::Unique) {
          relationsDroppedInFinish.insert(op.name);
          droppedKey(op.table, constraintKindName(c->kind), op.name, c->columns);
        }
        if (c->kind == ConstraintKind::PrimaryKey)
          primaryKeyDroppedInFinish.insert(op.table);
      }
      const Constraint *dropped = table(op.table).findConstraint(op.name);
      return addFinishBeforeDropOf(
          dropped && dropped->kind == ConstraintKind::ForeignKey ? dropped->refTable : "",
          ddl(op,
              fmt::format("ALTER TABLE {} DROP CONSTRAINT {}", finishIdent(op.table),
                          sql::ident(op.name)),
              "dropped once old nodes, which may rely on it, are gone", LockMode::AccessExclusive,
              {op.table}));
    }
    case OpKind::RenameConstraint:
      return addUp(ddl(
          op,
          fmt::format("ALTER TABLE {} RENAME CONSTRAINT {} TO {}", sql::ident(op.table),
                      sql::ident(op.name), sql::ident(op.newName)),
          "constraint names are invisible to applications", LockMode::AccessExclusive, {op.table}));
    case OpKind::CreateEnum:
      return addUp(ddl(op, sql::createEnum(op.enumDef), "a new type", LockMode::None, {}));
    case OpKind::AddEnumValue: {
      std::string sqlText = fmt::format("ALTER TYPE {} ADD VALUE IF NOT EXISTS {}",
                                        sql::ident(op.table), sql::literal(op.label));
      if (op.position == EnumPosition::Before)
        sqlText += " BEFORE " + sql::literal(op.neighbour);
      if (op.position == EnumPosition::After)
        sqlText += " AFTER " + sql::literal(op.neighbour);
      return addUp(ddl(op, sqlText, "old nodes never write the new label", LockMode::None, {}));
    }
    case OpKind::DropEnum: {
      Step s = ddl(op, "DROP TYPE " + sql::ident(op.table), "old nodes may still use it",
                   LockMode::None, {});
      s.destroys = true;
      return addFinish(std::move(s));
    }
    case OpKind::Backfill: {
      std::string set;
      for (const BackfillAssignment &a : op.assignments)
        set += (set.empty() ? "" : ", ") + sql::ident(a.column) + " = (" + a.value + ")";
      flushValidations();
      return backfillStep(op, op.table, set, op.where.empty() ? "true" : "(" + op.where + ")",
                          op.batchSize, fmt::format("backfill \"{}\" in batches", op.table));
    }
    case OpKind::RawSql:
      return rawSql(op);
    }
    llvm_unreachable("unknown op kind");
  }

  void createTable(const Op &op) {
    const Table &t = op.tableDef;
    if (refuseHeldTable(op, t.name))
      return;
    newTables.insert(t.name);
    // Everything inline: nobody uses a new table yet, so no lock hurts anyone, and inline
    // foreign keys cost the same as NOT VALID + VALIDATE on an empty table.
    std::vector<const Constraint *> constraints;
    std::vector<std::string> locked{t.name};
    for (const Constraint &c : t.constraints) {
      constraints.push_back(&c);
      if (c.kind == ConstraintKind::ForeignKey)
        foreignKeyOnDroppedKey(op, c);
      if (c.kind == ConstraintKind::ForeignKey && c.refTable != t.name &&
          !llvm::is_contained(locked, c.refTable))
        locked.push_back(c.refTable);
    }
    Step s =
        ddl(op, sql::createTable(t, constraints), fmt::format("new table \"{}\"", t.name),
            locked.size() > 1 ? LockMode::ShareRowExclusive : LockMode::AccessExclusive, locked);
    addUp(std::move(s));
    for (const Index &i : t.indexes) {
      Step index =
          ddl(op, sql::createIndex(t.name, i, false),
              fmt::format("index \"{}\" on the new table: a plain build is instant", i.name),
              LockMode::Share, {t.name});
      // At the index's own line, where the table block declares one.
      if (std::string at = locate(i.range); !at.empty())
        index.location = std::move(at);
      addUp(std::move(index));
    }
  }

  /// Moves what the rewriter knows of table \p from to its new name \p to.
  void moveTable(const std::string &from, const std::string &to) {
    for (auto *set : {&newColumns, &fedByOldNodes, &filled, &heldColumns}) {
      std::set<std::pair<std::string, std::string>> moved;
      for (const auto &[t, c] : *set)
        moved.insert({t == from ? to : t, c});
      *set = std::move(moved);
    }
    auto sync = syncs.find(from);
    if (sync != syncs.end()) {
      TableSync ts = std::move(sync->second);
      syncs.erase(sync);
      syncs[to] = std::move(ts);
      for (auto &[_, r] : removals)
        if (r.table == from)
          r.table = to;
    }
  }

  /// C214 for a table: \p name is held until finish by a view that keeps a renamed table's
  /// old name for old nodes, or by a table this plan drops in finish.
  bool refuseHeldTable(const Op &op, const std::string &name) {
    bool view = llvm::any_of(
        renameViews, [&](const auto &entry) { return llvm::is_contained(entry.second, name); });
    if (!view && !tableDropsInFinish.count(name))
      return false;
    finding(op, "C214", true,
            fmt::format("\"{}\" stays until finish, for old nodes ({}), so up cannot create "
                        "another table with its name; reuse the name in a version after finish "
                        "ran, or choose another name",
                        name, view ? "a view of the renamed table" : "the table it drops"));
    return true;
  }

  void renameTable(const Op &op) {
    if (refuseHeldTable(op, op.newName))
      return;
    moveTable(op.table, op.newName);
    if (tableIsNew(op.table)) {
      newTables.insert(op.newName);
      return addUp(ddl(
          op,
          fmt::format("ALTER TABLE {} RENAME TO {}", sql::ident(op.table), sql::ident(op.newName)),
          "table new in this plan: no node uses the old name", LockMode::AccessExclusive,
          {op.table}));
    }
    // The table takes its new name; a view with the old name keeps old nodes working (a
    // simple view is updatable, so their writes go through). Finish drops the view.
    std::vector<std::string> views = std::move(renameViews[op.table]);
    renameViews.erase(op.table);
    views.push_back(op.table);
    renameViews[op.newName] = std::move(views);
    addUp(ddl(op,
              fmt::format("ALTER TABLE {old} RENAME TO {new};\n"
                          "CREATE VIEW {old} AS SELECT * FROM {new}",
                          fmt::arg("old", sql::ident(op.table)),
                          fmt::arg("new", sql::ident(op.newName))),
              fmt::format("rename \"{}\" to \"{}\"; a view keeps the old name for old nodes",
                          op.table, op.newName),
              LockMode::AccessExclusive, {op.table}));
    // DROP VIEW locks the view only, not the table behind it.
    Step drop = ddl(op, "DROP VIEW IF EXISTS " + sql::ident(op.table),
                    "old nodes are gone: drop the view with the old name",
                    LockMode::AccessExclusive, {op.table});
    drop.phase = Phase::Finish;
    // The view depends on every column of the table: finish steps of earlier changes in
    // this plan (a dropped column, a swapped type) would fail while it exists. It goes
    // first, then, in the node of the first of them: old nodes are gone once finish runs.
    std::string renamed = finishTable(op.newName);
    auto first = llvm::find_if(
        finish, [&](const Step &s) { return llvm::is_contained(s.lockTables, renamed); });
    if (first == finish.end())
      return finish.push_back(std::move(drop));
    drop.subsystem = first->subsystem;
    drop.version = first->version;
    drop.reason = fmt::format("old nodes are gone: drop the view with the old name first, since "
                              "it depends on columns that the next steps change (renamed in {})",
                              project.at(current).text);
    finish.insert(first, std::move(drop));
  }

  void addColumn(const Op &op) {
    const Column &c = op.column;
    if (refuseHeldName(op, c.name))
      return;
    newColumns.insert({op.table, c.name});
    if (tableIsNew(op.table)) {
      return addUp(ddl(op,
                       fmt::format("ALTER TABLE {} ADD COLUMN {}", sql::ident(op.table),
                                   sql::columnDefinition(c)),
                       "column of a table new in this plan", LockMode::AccessExclusive,
                       {op.table}));
    }
    bool volatileDefault = !c.defaultExpr.empty() && isVolatileExpr(c.defaultExpr);
    bool identity = c.generation != ColumnGeneration::None;
    bool needsNotNull = c.notNull && !identity;
    if (needsNotNull && !op.fill.empty())
      refuseNullableFill(op, op.fill);
    // Old nodes insert without this column: they get the default, else the fill; a NOT NULL
    // column with neither would make their inserts fail.
    if (needsNotNull && c.defaultExpr.empty() && op.fill.empty())
      incompatible(op, "C201",
                   fmt::format("old nodes insert rows into \"{}\" without column \"{}\", which "
                               "is not null and has no default",
                               op.table, c.name),
                   "add 'fill (...)' to say what to store, or a default");
    if (identity) {
      Step s = ddl(op,
                   fmt::format("ALTER TABLE {} ADD COLUMN {}", sql::ident(op.table),
                               sql::columnDefinition(c)),
                   "an identity or serial column fills every existing row",
                   LockMode::AccessExclusive, {op.table});
      s.rewrites = true;
      lint(op, s, "S104",
           fmt::format("adding identity or serial column \"{}\" rewrites \"{}\" under an ACCESS "
                       "EXCLUSIVE lock",
                       c.name, op.table));
      return addUp(std::move(s));
    }
    if (!op.fill.empty()) {
      filled.insert({op.table, c.name});
      // A fill computed from other columns carries values that old nodes wrote.
      if (!isPlainLiteral(op.fill) && !checkSqlExpression(op.fill).columns.empty())
        fedByOldNodes.insert({op.table, c.name});
    }
    // A fill that differs from a non-volatile default: added with the default, existing
    // rows would get the default (PostgreSQL stores it for them) and the fill never. So the
    // default waits until the column exists, as a volatile one does, and the backfill
    // stores the fill.
    bool fillOverDefault =
        !op.fill.empty() && !c.defaultExpr.empty() && !sameExpression(op.fill, c.defaultExpr);
    bool deferDefault = volatileDefault || fillOverDefault;
    bool plain = !deferDefault && (!needsNotNull || !c.defaultExpr.empty()) &&
                 (op.fill.empty() || !c.defaultExpr.empty());
    if (plain) {
      return addUp(ddl(op,
                       fmt::format("ALTER TABLE {} ADD COLUMN {}", sql::ident(op.table),
                                   sql::columnDefinition(c)),
                       c.defaultExpr.empty()
                           ? "nullable column: catalog-only change"
                           : "non-volatile default: stored in the catalog, no rewrite",
                       LockMode::AccessExclusive, {op.table}));
    }
    // Nullable, no volatile default: instant. Then default for new rows, fill for old
    // nodes' writes, batched backfill, NOT NULL through a validated check.
    addUp(ddl(op,
              fmt::format("ALTER TABLE {} ADD COLUMN {}", sql::ident(op.table),
                          sql::columnDefinition(c, /*withNotNull=*/false,
                                                /*withDefault=*/!deferDefault)),
              volatileDefault ? "added without its volatile default, which would rewrite the table"
              : fillOverDefault
                  ? "added without its default, so that existing rows get the fill instead"
              : needsNotNull ? "added nullable first; NOT NULL comes after the backfill"
                             : "nullable column: catalog-only change; the fill comes next",
              LockMode::AccessExclusive, {op.table}));
    if (deferDefault)
      addUp(ddl(op,
                fmt::format("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT ({})", sql::ident(op.table),
                            sql::ident(c.name), c.defaultExpr),
                "the default now applies to new rows", LockMode::AccessExclusive, {op.table}));
    std::string value = !op.fill.empty() ? op.fill : c.defaultExpr;
    if (!op.fill.empty())
      fillSection(op, op.table, c.name, value);
    if (needsNotNull)
      notNullSteps(op, op.table, c.name);
    if (!value.empty())
      backfillStep(op, op.table, fmt::format("{} = ({})", sql::ident(c.name), value),
                   fmt::format("{} IS NULL", sql::ident(c.name)), 0,
                   fmt::format("fill \"{}\".\"{}\" on existing rows", op.table, c.name));
    flushValidations();
  }

  void dropColumn(const Op &op) {
    const Table &t = table(op.table);
    const Column *c = t.findColumn(op.name);
    assert(c && "drop of a missing column");
    if (tableIsNew(op.table))
      return addUp(ddl(
          op,
          fmt::format("ALTER TABLE {} DROP COLUMN {}", sql::ident(op.table), sql::ident(op.name)),
          "table new in this plan: no node uses it yet", LockMode::AccessExclusive, {op.table}));
    heldColumns.insert({op.table, op.name});
    // What uses the column goes with it in finish; until then new nodes, which leave it
    // null, must satisfy it: a check on it and another column, a key over both. (Null
    // passes a check or foreign key on the column alone, and never collides in a key.)
    for (const Constraint &k : t.constraints)
      if (llvm::is_contained(k.columns, op.name) && k.columns.size() > 1)
        keptUntilFinish(op, constraintKindName(k.kind), k.name);
    for (const Index &i : t.indexes)
      if (i.unique && i.elems.size() > 1 && llvm::any_of(i.elems, [&](const IndexColumn &e) {
            return e.column == op.name ||
                   (!e.expr.empty() &&
                    llvm::is_contained(checkSqlExpression(e.expr).columns, op.name));
          }))
        keptUntilFinish(op, "unique index", i.name);
    // New nodes no longer write the column: if old nodes' schema requires it, relax that
    // now or the new nodes' inserts fail.
    if (c->notNull && c->defaultExpr.empty() && c->generation == ColumnGeneration::None)
      addUp(ddl(op,
                fmt::format("ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL", sql::ident(op.table),
                            sql::ident(op.name)),
                "new nodes insert rows without this column", LockMode::AccessExclusive,
                {op.table}));
    Step s = ddl(
        op,
        fmt::format("ALTER TABLE {} DROP COLUMN {}", finishIdent(op.table), sql::ident(op.name)),
        "old nodes may still read or write it", LockMode::AccessExclusive, {op.table});
    s.destroys = true;
    lint(op, s, "S101",
         fmt::format("dropping column \"{}\" of \"{}\" destroys data", op.name, op.table));
    // Its foreign keys go with it.
    std::string refTable;
    for (const Constraint &fk : t.constraints)
      if (fk.kind == ConstraintKind::ForeignKey && fk.refTable != op.table &&
          llvm::is_contained(fk.columns, op.name))
        refTable = fk.refTable;
    addFinishBeforeDropOf(refTable, std::move(s));
  }

  void renameColumn(const Op &op) {
    const Table &t = table(op.table);
    const Column *c = t.findColumn(op.name);
    assert(c && "rename of a missing column");
    if (refuseHeldName(op, op.newName))
      return;
    // No running node uses a column new in this plan (added by it, or the new name of a
    // column it renames): renamed in place, with the sync trigger's sections. A second
    // rename of a column in one plan is one hop for the nodes: from the oldest name to the
    // newest, which is what the trigger then keeps in sync.
    if (!tableIsNew(op.table) && columnIsNew(op.table, op.name)) {
      std::string rename =
          fmt::format("ALTER TABLE {} RENAME COLUMN {} TO {}", sql::ident(op.table),
                      sql::ident(op.name), sql::ident(op.newName));
      moveColumn(op.table, op.name, op.newName);
      renameInSections(op.table, op.name, op.newName);
      std::string what = fmt::format("\"{}\" renamed to \"{}\"", op.name, op.newName);
      if (hasSections(op.table))
        return syncStep(op, op.table,
                        what + ": a column new in this plan, renamed in place; the sync "
                               "trigger follows it",
                        rename, "", LockMode::AccessExclusive);
      return addUp(ddl(op, rename, what + ": a column new in this plan, which no node uses yet",
                       LockMode::AccessExclusive, {op.table}));
    }
    if (tableIsNew(op.table) || op.unsafe) {
      if (!tableIsNew(op.table))
        incompatible(op, "C205",
                     fmt::format("renaming \"{}\".\"{}\" in place breaks old nodes that use it",
                                 op.table, op.name),
                     "");
      return addUp(ddl(op,
                       fmt::format("ALTER TABLE {} RENAME COLUMN {} TO {}", sql::ident(op.table),
                                   sql::ident(op.name), sql::ident(op.newName)),
                       "rename in place", LockMode::AccessExclusive, {op.table}));
    }
    if (columnIsIndexed(t, op.name)) {
      incompatible(op, "C206",
                   fmt::format("column \"{}\".\"{}\" is used by an index or constraint; strata "
                               "cannot yet keep both names in sync for it",
                               op.table, op.name),
                   "mark the rename 'unsafe' to rename it in place");
      return;
    }
    Column renamed = *c;
    renamed.name = op.newName;
    shadowColumn(op, *c, renamed, fmt::format("\"{}\" renamed to \"{}\"", op.name, op.newName));
    newColumns.insert({op.table, op.newName});
    // Old nodes' writes reach the new name through the trigger: a constraint or unique
    // index on it binds them (C203).
    fedByOldNodes.insert({op.table, op.newName});
    heldColumns.insert({op.table, op.name});
  }

  /// The expand/contract of a rename: a new column kept in sync with the old one by the
  /// table's trigger while both versions run (old nodes write the old name, new nodes the
  /// new one), backfilled in batches; the old column goes in finish.
  void shadowColumn(const Op &op, const Column &from, const Column &to, const std::string &what) {
    std::string tbl = sql::ident(op.table);
    std::string oldC = sql::ident(from.name), newC = sql::ident(to.name);
    addUp(ddl(op,
              fmt::format("ALTER TABLE {} ADD COLUMN {}", tbl,
                          sql::columnDefinition(to, /*withNotNull=*/false, /*withDefault=*/false)),
              what + ": the new column, nullable and without default until the trigger exists",
              LockMode::AccessExclusive, {op.table}));
    TableSync &ts = syncOf(op.table);
    RenameSync r;
    r.id = ++nextSection;
    r.oldColumn = from.name;
    r.newColumn = to.name;
    r.oldDefault = from.defaultExpr;
    // With a default that is the same on every evaluation in a transaction, the new
    // column takes it too, and the trigger tells which name an insert set by comparing
    // each with its default: an explicit NULL stays NULL. A volatile one cannot be
    // compared: the new column is then left null by inserts that omit it, and the
    // trigger copies the old one's value into it, explicit NULLs included (C213).
    r.comparable = from.defaultExpr.empty() || !isVolatileExpr(from.defaultExpr);
    if (r.comparable)
      r.newDefault = to.defaultExpr;
    else
      finding(op, "C213", false,
              fmt::format("until finish, an insert by a new node that sets \"{}\".\"{}\" to "
                          "null explicitly stores the volatile default of \"{}\" instead",
                          op.table, to.name, from.name));
    // Fills of the old name go to the new one first, and on to the old one.
    for (FillSync &f : ts.fills)
      if (f.column == from.name) {
        f.column = to.name;
        f.alsoColumn = from.name;
      }
    ts.renames.push_back(r);
    std::string setDefault = r.newDefault.empty()
                                 ? ""
                                 : fmt::format("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT ({})",
                                               tbl, newC, r.newDefault);
    syncStep(op, op.table, what + ": keep both columns in sync while old and new nodes run", "",
             setDefault, setDefault.empty() ? LockMode::None : LockMode::AccessExclusive);
    // Finish: a volatile default moves first, while the trigger still fills the old column
    // from the new one; then NOT NULL; then the trigger's section and the old column go
    // together, so that no insert by a new node meets an old column that is NOT NULL and
    // no longer filled, or a trigger whose column is gone.
    if (!to.defaultExpr.empty() && !r.comparable)
      addFinish(ddl(
          op,
          fmt::format("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT ({})", finishIdent(op.table),
                      sql::ident(finishColumn(op.table, to.name)), to.defaultExpr),
          what + ": the default moves to the new column", LockMode::AccessExclusive, {op.table}));
    if (!to.defaultExpr.empty() && !r.comparable)
      defaultMovesInFinish[{op.table, to.name}] = finish.back().sql;
    if (from.notNull)
      notNullSteps(op, op.table, to.name);
    backfillStep(op, op.table, fmt::format("{} = {}", newC, oldC),
                 fmt::format("{} IS NULL AND {} IS NOT NULL", newC, oldC), 0,
                 what + ": copy existing rows in batches");
    flushValidations();
    Step drop = ddl(op,
                    fmt::format("{};\nALTER TABLE {} DROP COLUMN {}", syncRemoval(op.table, {r.id}),
                                finishIdent(op.table), oldC),
                    what + ": old nodes are gone, the old column and its sync go",
                    LockMode::AccessExclusive, {op.table});
    drop.destroys = true;
    addFinish(std::move(drop));
  }

  /// Moves what the rewriter knows of \p from, a column of \p tableName, to \p to.
  void moveColumn(const std::string &tableName, const std::string &from, const std::string &to) {
    for (auto *set : {&newColumns, &fedByOldNodes, &filled})
      if (set->erase({tableName, from}))
        set->insert({tableName, to});
    if (auto nn = notNullChecks.find({tableName, from}); nn != notNullChecks.end()) {
      std::vector<NotNullCheck> moved = nn->second;
      notNullChecks.erase(nn);
      notNullChecks[{tableName, to}] = moved;
    }
  }

  /// C214: \p name is still taken until finish by a column that old nodes use (the old
  /// name of a renamed column, a dropped column): up cannot add a column with it.
  bool refuseHeldName(const Op &op, const std::string &name) {
    if (!heldColumns.count({op.table, name}))
      return false;
    finding(op, "C214", true,
            fmt::format("column \"{}\" of \"{}\" stays until finish, for old nodes, so up cannot "
                        "add another one with its name; reuse the name in a version after "
                        "finish ran, or choose another name",
                        name, op.table));
    return true;
  }

  void alterType(const Op &op) {
    const Table &t = table(op.table);
    const Column *c = t.findColumn(op.name);
    assert(c && "type change of a missing column");
    std::string tbl = sql::ident(op.table), col = sql::ident(op.name);
    std::string usingClause = op.usingExpr.empty() ? "" : fmt::format(" USING ({})", op.usingExpr);
    std::string alter =
        withSequenceType(fmt::format("ALTER TABLE {} ALTER COLUMN {} TYPE {}{}", tbl, col,
                                     sql::columnType(op.column), usingClause),
                         tbl, op.column);
    if (columnIsNew(op.table, op.name))
      return addUp(ddl(op, withViewsRecreated(op.table, alter), "column new in this plan",
                       LockMode::AccessExclusive, {op.table}));
    // A column whose type an earlier version of this plan changes already has a shadow
    // column: the database still holds the oldest type, which old nodes use.
    auto pending = shadows.find({finishTable(op.table), op.name});
    if (pending == shadows.end() && isBinaryCoercibleWidening(c->type, op.column.type) &&
        op.usingExpr.empty())
      return addUp(ddl(op, withViewsRecreated(op.table, alter),
                       fmt::format("{} to {} is binary coercible: no rewrite, and old nodes' "
                                   "values still fit",
                                   c->type.str(), op.column.type.str()),
                       LockMode::AccessExclusive, {op.table}));
    bool indexed = columnIsIndexed(t, op.name);
    // A serial or identity column's values come from its sequence: a shadow column would
    // get a sequence of its own, starting over, and the old one would go with the old column.
    bool sequenced = c->generation != ColumnGeneration::None;
    if (!isWidening(c->type, op.column.type) || indexed || sequenced) {
      incompatible(op, "C204",
                   indexed ? fmt::format("changing the type of \"{}\".\"{}\", which {} uses, "
                                         "needs a rewrite in place",
                                         op.table, op.name, whatUsesColumn(t, op.name))
                   : sequenced
                       ? fmt::format("changing the type of \"{}\".\"{}\", whose values come "
                                     "from a sequence, needs a rewrite in place",
                                     op.table, op.name)
                       : fmt::format("old nodes read and write \"{}\".\"{}\" as {}, which "
                                     "{} values do not all fit",
                                     op.table, op.name, c->type.str(), op.column.type.str()),
                   "add a column of the new type for new nodes and backfill it, or mark it "
                   "'unsafe \"why\"' to change it in place");
      Step s =
          ddl(op,
              withSequenceType(fmt::format("ALTER TABLE {} ALTER COLUMN {} TYPE {}{}",
                                           finishIdent(op.table), col, sql::columnType(op.column),
                                           usingClause),
                               finishIdent(op.table), op.column),
              "type change in place (rewrites the table)", LockMode::AccessExclusive, {op.table});
      s.rewrites = true;
      lint(op, s, "S105",
           fmt::format("changing the type of \"{}\".\"{}\" rewrites the table under an ACCESS "
                       "EXCLUSIVE lock",
                       op.table, op.name));
      return addFinish(std::move(s));
    }
    // Old and new nodes both use the column under its one name until finish: a `using` that
    // does more than cast would give each of them other values (seconds for the one,
    // milliseconds for the other), and convert new nodes' writes a second time.
    if (!op.usingExpr.empty() && !isCastOf(op.usingExpr, op.name)) {
      incompatible(op, "C204",
                   fmt::format("old and new nodes both read and write \"{}\".\"{}\" until "
                               "finish, and 'using' changes its values, not only their type",
                               op.table, op.name),
                   "add a column with the new meaning and backfill it, or mark it unsafe");
      if (!op.unsafe)
        return;
    }
    // Widening: a shadow column of the new type, filled from the old one (by `using`, or a
    // cast) on every write and by a batched backfill, swapped in during finish.
    // A second change of the same column in this plan gets a second shadow, converted from
    // the column as the database holds it through both conversions (the first one's result
    // stands for the column in the second); the first shadow is then only dropped in
    // finish, its swap left to the last one.
    unsigned nth = ++shadowCount[{finishTable(op.table), op.name}];
    std::string suffix = nth == 1 ? "" : std::to_string(nth);
    Column shadow = op.column;
    shadow.name = suffixedName("strata_new" + suffix, op.name);
    shadow.notNull = false;
    shadow.defaultExpr.clear();
    std::string conv;
    if (pending == shadows.end())
      conv = op.usingExpr.empty() ? fmt::format("{}::{}", col, sql::columnType(op.column))
                                  : op.usingExpr;
    else if (op.usingExpr.empty())
      conv = fmt::format("({})::{}", pending->second.conv, sql::columnType(op.column));
    else
      conv = fmt::format("(SELECT ({}) FROM (SELECT ({}) AS {}) AS strata_prev)", op.usingExpr,
                         pending->second.conv, col);
    std::string newC = sql::ident(shadow.name);
    std::string what =
        fmt::format("\"{}\".\"{}\" becomes {}", op.table, op.name, op.column.type.str());
    addUp(ddl(op, fmt::format("ALTER TABLE {} ADD COLUMN {}", tbl, sql::columnDefinition(shadow)),
              what + ": a shadow column of the new type", LockMode::AccessExclusive, {op.table}));
    // The conversion names columns as the table does; the trigger evaluates it over the
    // row being written, after the fills.
    ConvertSync convert;
    convert.id = ++nextSection;
    convert.from = op.name;
    convert.to = shadow.name;
    convert.conv = conv;
    syncOf(op.table).converts.push_back(convert);
    syncStep(op, op.table, what + ": keep the shadow column in sync while old nodes write");
    // NOT NULL of the old column carries over through a validated check on the shadow
    // (SET NOT NULL in finish then needs no scan under the lock), set before the swap.
    if (c->notNull)
      notNullSteps(op, op.table, shadow.name, shadow.name, op.name);
    backfillStep(op, op.table, fmt::format("{} = ({})", newC, conv),
                 fmt::format("{} IS NULL AND {} IS NOT NULL", newC, col), 0,
                 what + ": convert existing rows in batches");
    flushValidations();
    finding(op, "C210", false,
            fmt::format("until finish, \"{}\".\"{}\" keeps its old type {}: new nodes must "
                        "only write values that fit it",
                        op.table, op.name, c->type.str()));
    // The trigger's section goes in the same transaction as the swap: removed any earlier,
    // a write by a new node to the old column in between would never reach the shadow.
    std::string swap = fmt::format(
        "{d};\nALTER TABLE {t} DROP COLUMN {o};\nALTER TABLE {t} RENAME COLUMN {n} TO {o}",
        fmt::arg("d", syncRemoval(op.table, {convert.id})), fmt::arg("t", finishIdent(op.table)),
        fmt::arg("o", col), fmt::arg("n", newC));
    std::string swapBase = swap;
    if (!c->defaultExpr.empty())
      swap += fmt::format(";\nALTER TABLE {} ALTER COLUMN {} SET DEFAULT ({})",
                          finishIdent(op.table), col, c->defaultExpr);
    if (pending != shadows.end()) {
      auto earlier =
          llvm::find_if(finish, [&](const Step &f) { return f.sql == pending->second.swap; });
      assert(earlier != finish.end() && "the earlier type change's swap is gone");
      earlier->sql = fmt::format("{};\nALTER TABLE {} DROP COLUMN {}",
                                 syncRemoval(op.table, {pending->second.section}),
                                 finishIdent(op.table), sql::ident(pending->second.column));
      earlier->reason = fmt::format("the shadow column \"{}\" and its sync go: a later type "
                                    "change of \"{}\" in this plan takes over",
                                    pending->second.column, op.name);
    }
    shadows[{finishTable(op.table), op.name}] = {shadow.name, conv, swap, swapBase, convert.id};
    Step s = ddl(op, swap, what + ": the sync goes and the shadow column takes the name",
                 LockMode::AccessExclusive, {op.table});
    s.destroys = true;
    addFinish(std::move(s));
  }

  void setNotNull(const Op &op) {
    if (columnIsNew(op.table, op.name) && tableIsNew(op.table))
      return addUp(ddl(op,
                       fmt::format("ALTER TABLE {} ALTER COLUMN {} SET NOT NULL",
                                   sql::ident(op.table), sql::ident(op.name)),
                       "table new in this plan", LockMode::AccessExclusive, {op.table}));
    if (op.fill.empty()) {
      incompatible(
          op, "C202",
          fmt::format("old nodes may still write null into \"{}\".\"{}\"", op.table, op.name),
          "add 'fill (...)' to say what to store instead");
    } else {
      refuseNullableFill(op, op.fill);
      fillSection(op, op.table, op.name, op.fill);
    }
    // A column whose type this plan changes is swapped for its shadow in finish, which
    // drops the column and every check on it: NOT NULL goes on the shadow, and is set once
    // it has the column's name.
    auto pending = shadows.find({finishTable(op.table), op.name});
    if (pending != shadows.end())
      notNullSteps(op, op.table, pending->second.column, op.name, op.name);
    else
      notNullSteps(op, op.table, op.name);
    if (!op.fill.empty())
      backfillStep(op, op.table, fmt::format("{} = ({})", sql::ident(op.name), op.fill),
                   fmt::format("{} IS NULL", sql::ident(op.name)), 0,
                   fmt::format("fill \"{}\".\"{}\" where it is null", op.table, op.name));
    flushValidations();
  }

  /// C215: a fill that is null where a nullable column it reads is null would leave the
  /// column null for old nodes' rows, and its NOT NULL check then fails them.
  void refuseNullableFill(const Op &op, const std::string &fill) {
    if (isPlainLiteral(fill)) {
      if (llvm::StringRef(fill).trim(" ()").equals_insensitive("null"))
        incompatible(op, "C215", fmt::format("the fill of \"{}\" is null", op.table),
                     "fill with a value that is not null");
      return;
    }
    SqlExprInfo info = checkSqlExpression(fill);
    // coalesce(x, ...) is a CoalesceExpr, not a function call, to PostgreSQL's parser.
    if (!info.ok || llvm::StringRef(info.firstFunction).equals_insensitive("coalesce") ||
        llvm::StringRef(fill).ltrim(" (").startswith_insensitive("coalesce"))
      return;
    const Table &t = table(op.table);
    for (const std::string &name : info.columns) {
      const Column *c = t.findColumn(name);
      if (!c || c->notNull)
        continue;
      incompatible(op, "C215",
                   fmt::format("the fill of \"{}\".\"{}\" reads \"{}\", which may be null: rows "
                               "where it is would be left null, against NOT NULL",
                               op.table, op.kind == OpKind::AddColumn ? op.column.name : op.name,
                               name),
                   fmt::format("say what to store then with coalesce(..., ...), or make \"{}\" "
                               "not null first",
                               name));
      return;
    }
  }

  void addIndex(const Op &op, const Index &index) {
    if (tableIsNew(op.table))
      return addUp(ddl(op, sql::createIndex(op.table, index, false),
                       "table new in this plan: a plain build", LockMode::Share, {op.table}));
    if (index.unique && !uniqueIsSafe(op, index) && !impliedByOldKey(op.table, index, false))
      incompatible(op, "C203",
                   fmt::format("old nodes can insert rows into \"{}\" that violate unique "
                               "index \"{}\"",
                               op.table, index.name),
                   constraintAdvice);
    Index build = index;
    build.name = nameForUp(index.name);
    Step s = ddl(op, sql::createIndex(op.table, build, true),
                 "built concurrently: reads and writes go on", LockMode::ShareUpdateExclusive,
                 {op.table});
    s.transactional = false;
    s.scans = true;
    addUp(std::move(s));
    if (build.name != index.name)
      addFinish(ddl(op,
                    fmt::format("ALTER INDEX {} RENAME TO {}", sql::ident(build.name),
                                sql::ident(index.name)),
                    fmt::format("the index built as \"{}\" takes its name, now free", build.name),
                    LockMode::ShareUpdateExclusive, {op.table}));
  }

  /// The name to create an index or constraint under in up: its own, or a temporary one
  /// while an object this plan drops only in finish still holds it (an index or key
  /// redefined under the same name). Finish renames it once the old one is gone.
  std::string nameForUp(const std::string &name, const std::string &table = "") const {
    if (relationsDroppedInFinish.count(name) || constraintsDroppedInFinish.count({table, name}))
      return suffixedName("strata_new", name);
    return name;
  }

  /// A unique index or constraint is safe for old nodes when they cannot write its
  /// columns: columns new in this plan with no default and no fill (old nodes leave them
  /// null, and nulls never collide).
  bool uniqueIsSafe(const Op &op, const Index &index) const {
    const Table &t = table(op.table);
    for (const IndexColumn &e : index.elems) {
      if (e.column.empty() || !writtenOnlyByNewNodes(op.table, e.column) ||
          filled.count({op.table, e.column}))
        return false;
      const Column *c = t.findColumn(e.column);
      if (!c || !c->defaultExpr.empty() || c->notNull)
        return false;
    }
    return true;
  }

  /// Old nodes cannot break a unique index or key whose columns include all the columns of
  /// a unique or primary key that they already obey: it stays until finish, as every drop
  /// does. A primary key also needs its columns NOT NULL for old nodes.
  bool impliedByOldKey(const std::string &tableName, const Index &index, bool primary) const {
    const Table *old = start.findTable(tableName);
    if (!old || tableIsNew(tableName))
      return false;
    std::vector<std::string> columns;
    for (const IndexColumn &e : index.elems)
      if (!e.column.empty())
        columns.push_back(e.column);
    if (primary && (columns.size() != index.elems.size() ||
                    llvm::any_of(columns, [&](const std::string &name) {
                      const Column *c = old->findColumn(name);
                      return !c || !c->notNull;
                    })))
      return false;
    auto covered = [&](const std::vector<std::string> &key) {
      return !key.empty() && llvm::all_of(key, [&](const std::string &k) {
        return llvm::is_contained(columns, k);
      });
    };
    for (const Constraint &c : old->constraints)
      if ((c.kind == ConstraintKind::PrimaryKey || c.kind == ConstraintKind::Unique) &&
          covered(c.columns))
        return true;
    for (const Index &i : old->indexes) {
      if (!i.unique || !i.where.empty())
        continue;
      std::vector<std::string> key;
      for (const IndexColumn &e : i.elems) {
        if (e.column.empty())
          break;
        key.push_back(e.column);
      }
      if (key.size() == i.elems.size() && covered(key))
        return true;
    }
    return false;
  }

  /// A column old nodes never write, directly or through a trigger: new in this plan, not
  /// the new name of a renamed column, not filled from other columns. Its values are null,
  /// the default or a fill that depends on nothing old nodes write.
  bool writtenOnlyByNewNodes(const std::string &tableName, const std::string &column) const {
    return columnIsNew(tableName, column) && !fedByOldNodes.count({tableName, column});
  }

  bool onlyNewColumns(const Op &op, const std::vector<std::string> &columns) const {
    for (const std::string &c : columns)
      if (!writtenOnlyByNewNodes(op.table, c))
        return false;
    return !columns.empty();
  }

  void addConstraint(const Op &op) {
    const Constraint &c = op.constraint;
    std::string tbl = sql::ident(op.table);
    if (c.kind == ConstraintKind::ForeignKey)
      foreignKeyOnDroppedKey(op, c);
    if (tableIsNew(op.table)) {
      // A foreign key also takes SHARE ROW EXCLUSIVE on the table it references, which
      // other nodes may be using: that is the lock to show (as for CREATE TABLE).
      if (c.kind == ConstraintKind::ForeignKey && c.refTable != op.table)
        return addUp(
            ddl(op, fmt::format("ALTER TABLE {} ADD {}", tbl, sql::constraintDefinition(c)),
                "table new in this plan", LockMode::ShareRowExclusive, {op.table, c.refTable}));
      return addUp(ddl(op, fmt::format("ALTER TABLE {} ADD {}", tbl, sql::constraintDefinition(c)),
                       "table new in this plan", LockMode::AccessExclusive, {op.table}));
    }
    switch (c.kind) {
    case ConstraintKind::Check:
    case ConstraintKind::ForeignKey: {
      // Old nodes never write columns new in this plan: their rows carry null (which
      // passes a check or foreign key), the default or a fill that does not depend on
      // what they write, all validated in up.
      if (!onlyNewColumns(op, c.columns))
        incompatible(op, "C203",
                     fmt::format("old nodes can write rows into \"{}\" that violate {} \"{}\"",
                                 op.table,
                                 c.kind == ConstraintKind::Check ? "check" : "foreign key", c.name),
                     constraintAdvice);
      std::vector<std::string> locked{op.table};
      if (c.kind == ConstraintKind::ForeignKey && c.refTable != op.table)
        locked.push_back(c.refTable);
      // A constraint redefined under the same name is added under a temporary one, and
      // renamed in finish once the old one is dropped.
      Constraint added = c;
      added.name = nameForUp(c.name, op.table);
      addUp(ddl(
          op, fmt::format("ALTER TABLE {} ADD {} NOT VALID", tbl, sql::constraintDefinition(added)),
          "NOT VALID: only new writes are checked, no scan under the lock",
          c.kind == ConstraintKind::ForeignKey ? LockMode::ShareRowExclusive
                                               : LockMode::AccessExclusive,
          locked));
      Step validate =
          ddl(op, fmt::format("ALTER TABLE {} VALIDATE CONSTRAINT {}", tbl, sql::ident(added.name)),
              "validate existing rows without blocking reads or writes",
              LockMode::ShareUpdateExclusive, {op.table});
      validate.scans = true;
      addUp(std::move(validate));
      if (added.name != c.name)
        addFinish(
            ddl(op,
                fmt::format("ALTER TABLE {} RENAME CONSTRAINT {} TO {}", finishIdent(op.table),
                            sql::ident(added.name), sql::ident(c.name)),
                fmt::format("the constraint added as \"{}\" takes its name, now free", added.name),
                LockMode::AccessExclusive, {op.table}));
      return;
    }
    case ConstraintKind::Unique:
    case ConstraintKind::PrimaryKey: {
      bool primary = c.kind == ConstraintKind::PrimaryKey;
      Index index;
      index.name = c.name;
      index.unique = true;
      for (const std::string &col : c.columns) {
        IndexColumn e;
        e.column = col;
        index.elems.push_back(e);
      }
      // A primary key's columns are NOT NULL, so only an older key can prove it.
      bool safe =
          (!primary && uniqueIsSafe(op, index)) || impliedByOldKey(op.table, index, primary);
      if (!safe)
        incompatible(op, "C203",
                     fmt::format("old nodes can insert rows into \"{}\" that violate {} \"{}\"",
                                 op.table, primary ? "primary key" : "unique", c.name),
                     constraintAdvice);
      // The index takes the constraint's name when attached (PostgreSQL renames it), so a
      // name still held until finish (a redefined key) only needs a temporary index name.
      index.name = nameForUp(c.name, op.table);
      Step build = ddl(op, sql::createIndex(op.table, index, true),
                       "the constraint's index, built concurrently first",
                       LockMode::ShareUpdateExclusive, {op.table});
      build.transactional = false;
      build.scans = true;
      addUp(std::move(build));
      auto attach = [&](const std::string &t) {
        return fmt::format("ALTER TABLE {} ADD CONSTRAINT {} {} USING INDEX {}", t,
                           sql::ident(c.name), primary ? "PRIMARY KEY" : "UNIQUE",
                           sql::ident(index.name));
      };
      // A table has one primary key, and the old one stays until finish: the new one is
      // attached then, after the old one is dropped. So is a key whose name is still taken.
      if ((primary && primaryKeyDroppedInFinish.count(op.table)) || index.name != c.name)
        return addFinish(ddl(op, attach(finishIdent(op.table)),
                             fmt::format("attach the prebuilt index as {} \"{}\": a catalog-only "
                                         "change",
                                         primary ? "the new primary key" : "unique", c.name),
                             LockMode::AccessExclusive, {op.table}));
      return addUp(ddl(op, attach(tbl), "attach the prebuilt index: a catalog-only change",
                       LockMode::AccessExclusive, {op.table}));
    }
    }
  }

  void rawSql(const Op &op) {
    std::string name = op.sql.name.empty() ? "sql block" : "sql \"" + op.sql.name + "\"";
    if (!op.sql.up.empty()) {
      Step s = step(op, rawStepSql(op.sql.up), name + ": up, as written");
      s.transactional = canRunInTransaction(op.sql.up);
      setRawLocks(s);
      addUp(std::move(s));
    }
    if (!op.sql.finish.empty()) {
      Step s = step(op, rawStepSql(op.sql.finish), name + ": finish, as written");
      s.transactional = canRunInTransaction(op.sql.finish);
      setRawLocks(s);
      addFinish(std::move(s));
    }
  }

  const Project &project;
  const Locator &locate;
  /// The schema old nodes use (the plan's starting point), and the one being rewritten.
  const Schema &start;
  /// The state the current Op applies to: the base until an Op changes it, then owned (so
  /// that a one-Op version, for check, copies nothing).
  const Schema *cur;
  std::optional<Schema> owned;
  VersionRef current;
  std::set<std::string> newTables;
  std::set<std::pair<std::string, std::string>> newColumns;
  /// New columns whose values still come from old nodes' writes: the new name of a
  /// renamed column (kept in sync with the old one), a column filled from other columns.
  std::set<std::pair<std::string, std::string>> fedByOldNodes;
  /// New columns with a fill, which old nodes' rows get (so they are not left null).
  std::set<std::pair<std::string, std::string>> filled;
  /// Names this plan drops only in finish, so still taken during up: relations (indexes,
  /// including those of unique and primary key constraints) and (table, constraint).
  std::set<std::string> relationsDroppedInFinish;
  std::set<std::pair<std::string, std::string>> constraintsDroppedInFinish;
  /// Tables whose primary key is dropped in finish: a new one can only be attached then.
  std::set<std::string> primaryKeyDroppedInFinish;
  /// Unique keys (primary keys, unique constraints, plain unique indexes) this plan drops in
  /// finish, by table: a foreign key added in up on the same columns may bind to one of them.
  struct DroppedKey {
    std::string kind, name, node;
    std::vector<std::string> columns; ///< sorted
  };
  std::map<std::string, std::vector<DroppedKey>> keysDroppedInFinish;
  std::vector<Step> pendingValidations;
  /// Views created in up that keep a table renamed in this plan available under its old
  /// names, by the table's current name.
  std::map<std::string, std::vector<std::string>> renameViews;
  /// The SQL of the DROP TABLE steps in finish, by the table's name then.
  std::map<std::string, std::string> tableDropsInFinish;
  /// Type changes through a shadow column, by (table as finish names it, column).
  struct Shadow {
    std::string column;   ///< the shadow column
    std::string conv;     ///< the conversion from the column, over the row
    std::string swap;     ///< the finish SQL that swaps it in
    std::string swapBase; ///< swap without the default it sets
    unsigned section;     ///< its conversion's section of the sync trigger
  };
  std::map<std::pair<std::string, std::string>, Shadow> shadows;
  std::map<std::pair<std::string, std::string>, unsigned> shadowCount;
  struct Rename {
    size_t opIndex;
    std::string from, to;
  };
  std::vector<Rename> renames; ///< table renames of the whole plan (planAhead)
  /// Column renames up makes in place, of the whole plan (planAhead); from/to are columns,
  /// of table.
  struct ColumnRename {
    size_t opIndex;
    std::string table, from, to;
  };
  std::vector<ColumnRename> columnRenames;
  /// The sync trigger of each table that has one, by the table's current name, and the
  /// removals of its sections that finish steps hold as placeholders (syncRemoval).
  std::map<std::string, TableSync> syncs;
  unsigned nextSection = 0;
  struct Removal {
    std::string table;
    std::vector<unsigned> ids;
  };
  std::map<std::string, Removal> removals;
  /// Columns that stay in the table until finish although no version has them any more
  /// (the old name of a renamed column, a dropped column), by (table, column): their names
  /// are taken during up.
  std::set<std::pair<std::string, std::string>> heldColumns;
  /// NOT NULL set by this plan through a check, by (table, column): the check, and the
  /// finish SQL that sets NOT NULL and drops it.
  struct NotNullCheck {
    std::string check, finishSql;
  };
  std::map<std::pair<std::string, std::string>, std::vector<NotNullCheck>> notNullChecks;
  /// The finish SQL of each `drop default` of this plan, and of each volatile default
  /// that moves to a renamed column's new name, by (table, column).
  std::map<std::pair<std::string, std::string>, std::string> defaultDropsInFinish,
      defaultMovesInFinish;
  size_t opIndex = 0; ///< 1-based position of the current Op in the plan
};

/// The schema a database has after the given nodes ran: their Ops replayed in order.
Schema replay(const Project &project, llvm::ArrayRef<VersionRef> nodes) {
  Schema s;
  for (VersionRef node : nodes)
    for (const Op &op : project.at(node).ops)
      applyOp(s, op);
  return s;
}

NodeId nodeId(const Project &project, VersionRef ref) {
  return {project.subsystems[ref.subsystem].name, project.at(ref).text, project.at(ref).checksum};
}

/// \p targets in requirement order, not node order: a subsystem's targets after those of
/// the subsystems it requires (acl@1.1.0 requires core >= 1.0.0, so in node order it may
/// precede the target core@1.0.1, whose tables its foreign keys reference). Node order
/// among the rest.
std::vector<VersionRef> requirementOrder(const VersionGraph &graph,
                                         llvm::ArrayRef<VersionRef> targets) {
  std::vector<VersionRef> rest(targets.begin(), targets.end());
  llvm::sort(rest,
             [&](VersionRef a, VersionRef b) { return graph.position(a) < graph.position(b); });
  // The other subsystems each target depends on, computed once per target (the search
  // below asks for them again on every round).
  std::map<VersionRef, std::set<unsigned>> needs;
  for (VersionRef t : rest) {
    std::set<unsigned> &subsystems = needs[t];
    // Named: set_bits() of a temporary would outlive it in the range-for.
    llvm::BitVector closure = graph.closureSet({t});
    for (unsigned i : closure.set_bits())
      if (graph.node(i).subsystem != t.subsystem)
        subsystems.insert(graph.node(i).subsystem);
  }
  std::vector<VersionRef> ordered;
  while (!rest.empty()) {
    auto ready = llvm::find_if(rest, [&](VersionRef t) {
      return llvm::none_of(needs[t], [&](unsigned s) {
        return llvm::any_of(rest, [&](VersionRef r) { return r.subsystem == s; });
      });
    });
    // Requirements between subsystems are acyclic (the front end refuses cycles).
    assert(ready != rest.end() && "cyclic requirements between subsystems");
    if (ready == rest.end())
      ready = rest.begin();
    ordered.push_back(*ready);
    rest.erase(ready);
  }
  return ordered;
}

/// Bootstrap: each target's state created directly, subsystems in requirement order.
void bootstrapSteps(const Project &project, const VersionGraph &graph,
                    llvm::ArrayRef<VersionRef> targets, const Locator &locate, Plan &plan) {
  std::vector<VersionRef> ordered = requirementOrder(graph, targets);
  auto stepFor = [&](VersionRef ref, std::string sqlText, std::string reason, SourceRange range) {
    Step s;
    s.subsystem = project.subsystems[ref.subsystem].name;
    s.version = project.at(ref).text;
    s.phase = Phase::Bootstrap;
    s.sql = std::move(sqlText);
    s.reason = std::move(reason);
    s.location = locate(range);
    return s;
  };
  for (VersionRef ref : ordered) {
    const Schema &state = project.at(ref).state;
    for (const auto &[name, type] : state.enums())
      plan.steps.push_back(
          stepFor(ref, sql::createEnum(type), "type \"" + name + "\"", type.range));
    // Tables first without foreign keys, which are added once every table exists.
    for (const auto &[name, table] : state.tables()) {
      std::vector<const Constraint *> inline_;
      for (const Constraint &c : table->constraints)
        if (c.kind != ConstraintKind::ForeignKey)
          inline_.push_back(&c);
      Step s =
          stepFor(ref, sql::createTable(*table, inline_), "table \"" + name + "\"", table->range);
      s.lock = LockMode::AccessExclusive;
      s.lockTables = {name};
      plan.steps.push_back(std::move(s));
      for (const Index &i : table->indexes) {
        Step is =
            stepFor(ref, sql::createIndex(name, i, false), "index \"" + i.name + "\"", i.range);
        is.lock = LockMode::Share;
        is.lockTables = {name};
        plan.steps.push_back(std::move(is));
      }
    }
    for (const auto &[name, table] : state.tables())
      for (const Constraint &c : table->constraints)
        if (c.kind == ConstraintKind::ForeignKey) {
          Step s = stepFor(
              ref,
              fmt::format("ALTER TABLE {} ADD {}", sql::ident(name), sql::constraintDefinition(c)),
              "foreign key \"" + c.name + "\"", c.range);
          s.lock = LockMode::ShareRowExclusive;
          s.lockTables = {name, c.refTable};
          plan.steps.push_back(std::move(s));
        }
    for (const SqlObject &o : state.sql()) {
      std::string name = o.name.empty() ? "sql block" : "sql \"" + o.name + "\"";
      // As in up and finish: a block that PostgreSQL refuses in a transaction runs outside.
      if (!o.up.empty()) {
        plan.steps.push_back(stepFor(ref, rawStepSql(o.up), name + ": up", o.range));
        plan.steps.back().transactional = canRunInTransaction(o.up);
        setRawLocks(plan.steps.back());
      }
      if (!o.finish.empty()) {
        plan.steps.push_back(stepFor(ref, rawStepSql(o.finish), name + ": finish", o.range));
        plan.steps.back().transactional = canRunInTransaction(o.finish);
        setRawLocks(plan.steps.back());
      }
    }
  }
}

} // namespace

llvm::Expected<std::vector<VersionRef>> parseNodeList(const Project &project,
                                                      llvm::StringRef spec) {
  std::vector<VersionRef> out;
  llvm::SmallVector<llvm::StringRef, 8> items;
  spec.split(items, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef item : items) {
    item = item.trim();
    auto [name, version] = item.split('@');
    if (name.empty() || version.empty())
      return failure(
          fmt::format("expected SUBSYSTEM@VERSION, such as core@1.0.0, not \"{}\"", item.str()));
    auto s = project.findSubsystem(name);
    if (!s)
      return failure(fmt::format("unknown subsystem \"{}\"", name.str()));
    auto v = project.subsystems[*s].findVersion(version);
    if (!v)
      return failure(
          fmt::format("subsystem \"{}\" has no version \"{}\"", name.str(), version.str()));
    VersionRef ref{*s, *v};
    if (llvm::any_of(out, [&](VersionRef r) { return r.subsystem == ref.subsystem; }))
      return failure(fmt::format("subsystem \"{}\" is named twice", name.str()));
    out.push_back(ref);
  }
  return out;
}

StartingPoint startingPointFrom(const VersionGraph &graph, llvm::ArrayRef<VersionRef> nodes) {
  StartingPoint start;
  for (VersionRef node : graph.closure(nodes))
    start.executed.push_back({node, true});
  return start;
}

llvm::Expected<std::vector<VersionRef>> resolveTargets(const Project &project,
                                                       const VersionGraph &graph,
                                                       llvm::ArrayRef<VersionRef> named) {
  std::vector<VersionRef> targets(named.begin(), named.end());
  // A target is a ceiling for its subsystem: the nodes the targets need must not go past
  // it. (Without this, `--to core@1.1.0` with a plugin whose latest version requires core
  // 1.2.0 planned core@1.2.0 too.) Returns the last node past a target, if any.
  //
  // Fix: each target's closure is computed once, as a bit set, and only the nodes of the
  // targets' own subsystems are looked at. Searching a fresh closure of the target for
  // every needed node made planning cubic: 10,000 versions took minutes.
  std::map<VersionRef, llvm::BitVector> closures;
  auto closureOf = [&](VersionRef t) -> const llvm::BitVector & {
    auto it = closures.find(t);
    if (it == closures.end())
      it = closures.emplace(t, graph.closureSet({t})).first;
    return it->second;
  };
  auto pastTarget = [&](const std::vector<VersionRef> &chosen) -> std::optional<VersionRef> {
    llvm::BitVector all(graph.size());
    for (VersionRef t : chosen)
      all |= closureOf(t);
    std::optional<VersionRef> past; // the last one in node order
    for (VersionRef t : chosen) {
      const llvm::BitVector &own = closureOf(t);
      for (unsigned v = 0; v < project.subsystems[t.subsystem].versions.size(); ++v) {
        VersionRef n{t.subsystem, v};
        unsigned i = graph.index(n);
        if (all.test(i) && !own.test(i) && (!past || graph.position(*past) < graph.position(n)))
          past = n;
      }
    }
    return past;
  };
  // A subsystem left out goes to its latest version, or else to the highest one whose
  // requirements stay within the targets chosen so far; with none, it waits (a plugin
  // that needs a newer core than the target is not planned).
  //
  // Candidates are tried incrementally. The targets chosen so far have no node past them,
  // so a candidate with closure C adds one exactly when C reaches a node of a chosen
  // target's subsystem outside that target's closure (`outside`, the union of those
  // nodes), or when the chosen targets reach a node of the candidate's own subsystem
  // outside C. (Unioning the closures of every chosen target for every candidate was
  // quadratic: a third of `makePlan` at 10,000 versions.) When the named targets have a
  // node past them already, no candidate can take it away: none is added, and the error
  // below names it.
  auto nodesOf = [&](unsigned s) {
    llvm::BitVector nodes(graph.size());
    unsigned first = graph.index({s, 0});
    nodes.set(first, first + static_cast<unsigned>(project.subsystems[s].versions.size()));
    return nodes;
  };
  bool consistent = !pastTarget(targets);
  llvm::BitVector reached(graph.size()), outside(graph.size());
  for (VersionRef t : targets) {
    reached |= closureOf(t);
    outside |= nodesOf(t.subsystem).reset(closureOf(t));
  }
  for (unsigned s = 0; consistent && s < project.subsystems.size(); ++s) {
    if (llvm::any_of(targets, [&](VersionRef r) { return r.subsystem == s; }))
      continue;
    const Subsystem &sub = project.subsystems[s];
    if (sub.versions.empty())
      continue;
    std::vector<unsigned> candidates(sub.versions.size());
    for (unsigned v = 0; v < candidates.size(); ++v)
      candidates[v] = v;
    unsigned latest = sub.latest(); // a scan of the subsystem: not once per comparison
    llvm::stable_sort(candidates, [&](unsigned a, unsigned b) {
      if ((a == latest) != (b == latest))
        return a == latest;
      return sub.versions[b].semver < sub.versions[a].semver;
    });
    llvm::BitVector own = nodesOf(s);
    for (unsigned v : candidates) {
      llvm::BitVector closure = graph.closureSet({VersionRef{s, v}});
      llvm::BitVector passed = own;
      passed &= reached;
      passed.reset(closure);
      if (closure.anyCommon(outside) || passed.any())
        continue;
      targets.push_back({s, v});
      reached |= closure;
      outside |= own.reset(closure);
      break;
    }
  }
  llvm::sort(targets,
             [&](VersionRef a, VersionRef b) { return graph.position(a) < graph.position(b); });
  if (std::optional<VersionRef> past = pastTarget(targets)) {
    VersionRef target =
        *llvm::find_if(targets, [&](VersionRef t) { return t.subsystem == past->subsystem; });
    return failure(fmt::format("the targets need {}, past the target {}: another target "
                               "requires it; name a lower version of that one, or a higher {}",
                               project.describe(*past), project.describe(target),
                               project.subsystems[target.subsystem].name));
  }
  return targets;
}

llvm::Expected<Plan> makePlan(const Project &project, const VersionGraph &graph,
                              const PlanRequest &request, const Locator &locate) {
  Plan plan;
  plan.phase = request.phase;
  llvm::Expected<std::vector<VersionRef>> resolved =
      resolveTargets(project, graph, request.targets);
  if (!resolved)
    return resolved.takeError();
  std::vector<VersionRef> targets = std::move(*resolved);
  if (request.phase == Phase::Bootstrap)
    targets = requirementOrder(graph, targets);
  for (VersionRef t : targets)
    plan.to.push_back(nodeId(project, t));
  std::vector<VersionRef> needed = graph.closure(targets);
  std::set<VersionRef> neededSet(needed.begin(), needed.end());

  if (request.phase == Phase::Bootstrap) {
    if (!request.start.executed.empty())
      return failure("the database is already bootstrapped; run 'strata apply up' instead");
    bootstrapSteps(project, graph, targets, locate, plan);
    // The runtime runs the steps target by target in the order of `to`, and the nodes
    // in the order of `applies`: each target's nodes come with it.
    plan.applies = {};
    std::set<VersionRef> listed;
    for (VersionRef t : targets)
      for (VersionRef n : graph.closure({t}))
        if (listed.insert(n).second)
          plan.applies.push_back(nodeId(project, n));
    return plan;
  }

  std::set<VersionRef> executed;
  for (const StartingPoint::Entry &e : request.start.executed)
    executed.insert(e.node);
  // By subsystem name, then in the order the versions are declared (parents first): as
  // strings, 1.10.0 sorted before 1.2.0.
  std::vector<VersionRef> fromOrder(executed.begin(), executed.end());
  llvm::sort(fromOrder, [&](VersionRef a, VersionRef b) {
    return std::forward_as_tuple(project.subsystems[a.subsystem].name, a.version) <
           std::forward_as_tuple(project.subsystems[b.subsystem].name, b.version);
  });
  for (VersionRef e : fromOrder)
    plan.from.push_back(nodeId(project, e));

  // Baselines: a subsystem with executed versions must have reached its baseline.
  for (unsigned s = 0; s < project.subsystems.size(); ++s) {
    const Subsystem &sub = project.subsystems[s];
    if (!sub.baseline)
      continue;
    bool any = llvm::any_of(executed, [&](VersionRef r) { return r.subsystem == s; });
    if (any && !executed.count({s, *sub.baseline})) {
      std::string newest;
      for (VersionRef r : executed)
        if (r.subsystem == s)
          newest = project.at(r).text;
      return failure(fmt::format("the database has {}@{}, older than the baseline {}@{}: upgrade "
                                 "to {} first",
                                 sub.name, newest, sub.name, sub.versions[*sub.baseline].text,
                                 sub.versions[*sub.baseline].text));
    }
  }
  // Divergence: executed nodes the targets do not contain.
  std::vector<std::string> divergent;
  for (VersionRef e : executed)
    if (!neededSet.count(e))
      divergent.push_back(project.describe(e));
  // Fix: a target older than what ran was reported as "on another branch". It is a
  // downgrade: an executed version that the target of its own subsystem is an ancestor of.
  // Named by the newest such version: the one with the most ancestors.
  std::optional<std::pair<VersionRef, VersionRef>> downgrade; // (executed, target)
  size_t ancestors = 0;
  for (VersionRef e : executed) {
    if (neededSet.count(e))
      continue;
    std::vector<VersionRef> closure = graph.closure({e});
    for (VersionRef t : targets)
      if (t.subsystem == e.subsystem && llvm::is_contained(closure, t) &&
          (!downgrade || closure.size() > ancestors)) {
        downgrade = {e, t};
        ancestors = closure.size();
      }
  }
  if (downgrade)
    return failure(fmt::format(
        "the database has {}, newer than the target {}: that is a downgrade, which strata does "
        "not do (there are no down migrations); target {} or a later version",
        project.describe(downgrade->first), project.describe(downgrade->second),
        project.describe(downgrade->first)));
  if (!divergent.empty()) {
    std::vector<std::string> targetNames;
    for (VersionRef t : targets)
      targetNames.push_back(project.describe(t));
    return failure(fmt::format("the database has {}, which the target {} does not contain: it "
                               "is on another branch; target a version that merges it",
                               fmt::join(divergent, ", "), fmt::join(targetNames, ", ")));
  }

  // Fix: sets by node index for the membership tests below. Searching the lists made a
  // plan quadratic in the number of versions (a database with 10,000 executed ones).
  std::vector<VersionRef> finished, pending, fresh;
  llvm::BitVector isFinished(graph.size()), isPending(graph.size()), isFresh(graph.size());
  std::vector<const StartingPoint::Entry *> entryOf(graph.size(), nullptr);
  for (const StartingPoint::Entry &e : request.start.executed)
    if (!entryOf[graph.index(e.node)])
      entryOf[graph.index(e.node)] = &e;
  for (VersionRef n : needed) {
    const StartingPoint::Entry *it = entryOf[graph.index(n)];
    if (!it) {
      fresh.push_back(n);
      isFresh.set(graph.index(n));
    } else if (it->finished) {
      finished.push_back(n);
      isFinished.set(graph.index(n));
    } else {
      pending.push_back(n);
      isPending.set(graph.index(n));
    }
  }
  // A node with no finish steps of its own is recorded finished as soon as its up ran,
  // even while an earlier node is still pending (Runner::up): 1.1.0 pending, 1.2.0 (a
  // table rename, whose view is dropped among 1.1.0's finish steps) finished. Such a node
  // ran after the pending one it depends on, in the same upgrade, so it is rewritten in
  // its place after it: its Ops shape their finish steps (table names, that view). A
  // finished node that depends on no pending node ran before them (a bootstrap, an
  // earlier upgrade): it is part of the base, whatever its place in the topological order
  // (which interleaves subsystems), or its tables would look new to this plan.
  std::vector<VersionRef> base, rewritten;
  // A node is after a pending one when it is pending or depends on one: in topological
  // order, from its direct dependencies (a node's closure holds itself).
  llvm::BitVector afterPending = isPending;
  for (VersionRef n : graph.order())
    for (VersionRef d : graph.dependencies(n))
      if (afterPending.test(graph.index(d)))
        afterPending.set(graph.index(n));
  for (VersionRef n : needed) { // in topological order
    unsigned i = graph.index(n);
    if (isFresh.test(i))
      continue;
    (isFinished.test(i) && !afterPending.test(i) ? base : rewritten).push_back(n);
  }
  // The steps of the nodes that run now, by name (steps carry names, not VersionRefs).
  std::set<std::pair<llvm::StringRef, llvm::StringRef>> freshNames, runNames;
  for (VersionRef n : fresh)
    freshNames.insert({project.subsystems[n.subsystem].name, project.at(n).text});
  runNames = freshNames;
  for (VersionRef n : pending)
    runNames.insert({project.subsystems[n.subsystem].name, project.at(n).text});
  auto runsNow = [&](const Step &s) {
    return runNames.count({llvm::StringRef(s.subsystem), llvm::StringRef(s.version)}) > 0;
  };
  Schema baseState = replay(project, base);
  Rewriter rewriter(project, locate, baseState);
  rewritten.insert(rewritten.end(), fresh.begin(), fresh.end());
  rewriter.planAhead(rewritten);
  for (VersionRef n : rewritten) {
    rewriter.beginNode(n);
    rewriter.node(n);
  }
  rewriter.finishSyncs();
  // Compatibility findings concern the whole upgrade and show in both phases; a lint
  // belongs to the plan that runs the step it was raised on (dropping a table is news
  // for `finish`, not for `up`).
  auto keepFindings = [&](std::vector<Finding> findings) {
    for (Finding &f : findings) {
      bool isLint = llvm::StringRef(f.code).startswith("S");
      if (isLint && llvm::none_of(plan.steps, [&](const Step &s) {
            return s.location == f.location && llvm::is_contained(s.lints, f.code);
          }))
        continue;
      plan.findings.push_back(std::move(f));
    }
  };
  if (request.phase == Phase::Up) {
    for (VersionRef n : fresh)
      plan.applies.push_back(nodeId(project, n));
    // Steps of pending nodes already ran.
    for (Step &s : rewriter.up)
      if (freshNames.count({llvm::StringRef(s.subsystem), llvm::StringRef(s.version)}))
        plan.steps.push_back(std::move(s));
    keepFindings(std::move(rewriter.findings));
    return plan;
  }
  for (VersionRef n : rewritten)
    if (!isFinished.test(graph.index(n)))
      plan.applies.push_back(nodeId(project, n));
  // A finished node's own finish steps ran already.
  for (Step &s : rewriter.finish)
    if (runsNow(s))
      plan.steps.push_back(std::move(s));
  keepFindings(std::move(rewriter.findings));
  return plan;
}

namespace {
/// The planner's findings on one version's Ops, each with its Op.
std::vector<std::pair<Finding, const Op *>> findingsOf(const Project &project, VersionRef ref) {
  const Subsystem &sub = project.subsystems[ref.subsystem];
  unsigned vi = ref.version;
  const Version &version = sub.versions[vi];
  // The state the version's Ops apply to: its parent's, shared table by table (copying
  // a Schema copies pointers); for a merge, its ancestors replayed, as a plan does.
  Schema merged;
  const Schema *start = &merged;
  if (version.parents.size() == 1) {
    start = &sub.versions[version.parents[0]].state;
  } else if (version.parents.size() > 1) {
    std::vector<bool> ancestor(vi, false);
    std::vector<unsigned> stack(version.parents.begin(), version.parents.end());
    while (!stack.empty()) {
      unsigned v = stack.back();
      stack.pop_back();
      if (ancestor[v])
        continue;
      ancestor[v] = true;
      stack.insert(stack.end(), sub.versions[v].parents.begin(), sub.versions[v].parents.end());
    }
    for (unsigned v = 0; v < vi; ++v) // declaration order: parents first
      if (ancestor[v])
        for (const Op &op : sub.versions[v].ops)
          applyOp(merged, op);
  }
  Locator nowhere = [](SourceRange) { return std::string(); };
  Rewriter rewriter(project, nowhere, *start);
  rewriter.advancePastLast = false;
  rewriter.planAhead({ref});
  rewriter.beginNode(ref);
  rewriter.node(ref);
  std::vector<std::pair<Finding, const Op *>> out;
  for (size_t i = 0; i < rewriter.findings.size(); ++i)
    out.emplace_back(std::move(rewriter.findings[i]), rewriter.findingOps[i]);
  return out;
}
} // namespace

void reportFindings(const Project &project, DiagnosticsEngine &diags) {
  // Each version is planned on its own, from its parent's state: independent work, done
  // on every core; the findings are then reported in declaration order.
  // The threads share the versions' states: their name indexes are brought up to date
  // first, so that the lookups the threads make only read them.
  std::vector<VersionRef> versions;
  for (unsigned si = 0; si < project.subsystems.size(); ++si)
    for (unsigned vi = 0; vi < project.subsystems[si].versions.size(); ++vi) {
      const Version &version = project.subsystems[si].versions[vi];
      version.state.refreshNames();
      if (!version.ops.empty())
        versions.push_back({si, vi});
    }
  std::vector<std::vector<std::pair<Finding, const Op *>>> found(versions.size());
  compiler::parallelFor(versions.size(), [&](size_t item, unsigned) {
    found[item] = findingsOf(project, versions[item]);
  });
  for (const std::vector<std::pair<Finding, const Op *>> &findings : found)
    for (const auto &[f, op] : findings) {
      std::optional<DiagID> id = diagIdForCode(f.code);
      assert(id && "a finding code missing from DiagnosticKinds.def");
      if (!id)
        continue;
      DiagnosticBuilder builder = diags.reportMessage(
          *id, f.error ? Severity::Error : Severity::Warning, changeRange(*op), f.message);
      if (op->unsafe && op->unsafeRange.Start.isValid())
        builder.note(DiagID::NoteMarkedUnsafe, op->unsafeRange);
    }
}

} // namespace strata::planner
