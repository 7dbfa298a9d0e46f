#include "test/support/Catalog.h"

#include "runtime/Inspector.h"

#include <llvm/ADT/SmallVector.h>
#include <llvm/ADT/StringExtras.h>

#include <algorithm>
#include <regex>
#include <set>
#include <vector>

namespace strata::test {

/// The catalog as text: the Schema model, then what the model has no place for but a
/// finished upgrade must not leave behind.
std::string catalogOf(runtime::Connection &conn) {
  llvm::Expected<runtime::Inspection> inspection = runtime::inspect(conn, {});
  if (!inspection)
    return "inspect failed: " + llvm::toString(inspection.takeError());
  std::string out = runtime::describeSchema(inspection->schema);
  for (const runtime::InvalidIndex &i : inspection->invalidIndexes)
    out += "INVALID index " + i.index.name + " on " + i.table + "\n";
  for (const runtime::ConstraintRef &c : inspection->notValidConstraints)
    out += "NOT VALID constraint " + c.name + " on " + c.table + "\n";
  for (const std::string &u : inspection->unsupported)
    out += "unsupported: " + u + "\n";
  // strata's own objects start with "strata_"; helpers of a plan never do.
  const char *extras[][2] = {
      {"views", "SELECT relname FROM pg_class WHERE relkind IN ('v', 'm') AND relnamespace = "
                "'public'::regnamespace"},
      {"sequences", "SELECT relname FROM pg_class WHERE relkind = 'S' AND relnamespace = "
                    "'public'::regnamespace"},
      {"functions", "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace"},
      {"triggers", "SELECT tgrelid::regclass || '.' || tgname FROM pg_trigger WHERE NOT "
                   "tgisinternal"},
  };
  for (const auto &[what, query] : extras) {
    std::string sql = std::string("SELECT coalesce(string_agg(x, ', ' ORDER BY x), '') FROM (") +
                      query + ") AS q(x) WHERE x NOT LIKE 'strata\\_%'";
    llvm::Expected<runtime::Result> r = conn.exec(sql);
    out += std::string(what) + ": " +
           (r ? r->get(0, 0).str() : "failed: " + llvm::toString(r.takeError())) + "\n";
  }
  return out;
}

/// \p description (describeSchema) without column positions, sorted again.
std::string withoutColumnOrder(const std::string &description) {
  static const std::regex position(R"(^(table \S+ column )[0-9]+ )");
  llvm::SmallVector<llvm::StringRef, 64> lines;
  llvm::StringRef(description).split(lines, '\n', -1, /*KeepEmpty=*/false);
  std::vector<std::string> out;
  for (llvm::StringRef line : lines)
    out.push_back(std::regex_replace(line.str(), position, "$1"));
  std::sort(out.begin(), out.end());
  return llvm::join(out, "\n") + "\n";
}

/// The column lines of two descriptions that differ, "-" for \p a and "+" for \p b.
std::string columnOrderDiff(const std::string &a, const std::string &b) {
  auto columns = [](const std::string &d) {
    llvm::SmallVector<llvm::StringRef, 64> lines;
    llvm::StringRef(d).split(lines, '\n', -1, /*KeepEmpty=*/false);
    std::set<std::string> out;
    for (llvm::StringRef line : lines)
      if (line.contains(" column "))
        out.insert(line.str());
    return out;
  };
  std::set<std::string> ca = columns(a), cb = columns(b);
  std::string out;
  for (const std::string &line : ca)
    if (!cb.count(line))
      out += "  - " + line + "\n";
  for (const std::string &line : cb)
    if (!ca.count(line))
      out += "  + " + line + "\n";
  return out;
}

} // namespace strata::test
