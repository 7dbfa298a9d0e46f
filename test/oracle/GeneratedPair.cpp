#include "test/oracle/GeneratedPair.h"

namespace strata::oracle {

std::string versionName(size_t n) { return "1." + std::to_string(n) + ".0"; }

namespace {

std::string columnLine(const GenColumn &c) {
  std::string out = "      " + c.name + " " + c.type;
  if (c.notNull)
    out += " not null";
  if (!c.defaultExpr.empty())
    out += " default " + c.defaultExpr;
  if (c.unique)
    out += " unique";
  if (!c.check.empty())
    out += " check (" + c.check + ")";
  if (!c.references.empty()) {
    out += " references " + c.references + "(id)";
    if (!c.onDelete.empty())
      out += " on delete " + c.onDelete;
  }
  return out + "\n";
}

std::string startBody(const GeneratedPair &p) {
  std::string out;
  for (const GenEnum &e : p.enums) {
    out += "    enum " + e.name + " {";
    for (size_t i = 0; i < e.labels.size(); ++i)
      out += (i ? ", '" : " '") + e.labels[i] + "'";
    out += " }\n";
  }
  for (const GenTable &t : p.tables) {
    out += "    table " + t.name + " {\n      id bigint primary key\n";
    for (const GenColumn &c : t.columns)
      out += columnLine(c);
    for (const std::string &e : t.elements)
      out += "      " + e + "\n";
    out += "    }\n";
  }
  return out;
}

} // namespace

std::string GeneratedPair::startDsl() const {
  return "subsystem app {\n  version \"1.0.0\" {\n" + startBody(*this) + "  }\n}\n";
}

std::string GeneratedPair::dsl() const {
  std::string out = "subsystem app {\n  version \"1.0.0\" {\n" + startBody(*this) + "  }\n";
  for (size_t v = 0; v < versions.size(); ++v) {
    out += "  version \"" + versionName(v + 1) + "\" {\n";
    for (const GenChange &c : versions[v]) {
      out += "    ";
      if (c.unsafe)
        out += "unsafe \"oracle\" ";
      out += c.text + "\n";
    }
    out += "  }\n";
  }
  return out + "}\n";
}

std::string GeneratedPair::toNode() const { return "app@" + versionName(versions.size()); }

std::set<compiler::OpKind> GeneratedPair::drawnKinds() const {
  std::set<compiler::OpKind> out;
  for (const std::vector<GenChange> &v : versions)
    for (const GenChange &c : v)
      out.insert(c.kind);
  return out;
}

GeneratedPair GeneratedPair::allUnsafe() const {
  GeneratedPair out = *this;
  for (std::vector<GenChange> &v : out.versions)
    for (GenChange &c : v)
      c.unsafe = true;
  return out;
}

size_t GeneratedPair::changeCount() const {
  size_t n = 0;
  for (const std::vector<GenChange> &v : versions)
    n += v.size();
  return n;
}

} // namespace strata::oracle
