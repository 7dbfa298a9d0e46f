#include "bench/ProjectGenerator.h"

#include <fmt/format.h>

#include <random>
#include <vector>

namespace strata::bench {

namespace {
struct TableInfo {
  std::string name;
  std::vector<std::string> columns;
  unsigned indexes = 0;
};
} // namespace

std::string generateProject(const GeneratorOptions &options) {
  std::mt19937 rng(options.seed);
  auto pick = [&](unsigned n) { return static_cast<unsigned>(rng() % n); };
  std::string out;
  std::vector<std::string> coreTables;
  for (unsigned s = 0; s < options.subsystems; ++s) {
    std::string sub = s == 0 ? "core" : fmt::format("plugin_{}", s);
    out += fmt::format("subsystem {} {{\n", sub);
    if (s > 0)
      out += fmt::format("  requires core >= \"1.{}.0\"\n", options.versionsPerSubsystem - 1);
    std::vector<TableInfo> tables;
    for (unsigned v = 0; v < options.versionsPerSubsystem; ++v) {
      out += fmt::format("  version \"1.{}.0\" {{\n", v);
      unsigned kind = v == 0 || tables.empty() ? 0 : pick(10);
      if (kind <= 1) {
        TableInfo t{fmt::format("{}_t{}", sub, tables.size()), {"id", "name", "created_at"}, 0};
        out += fmt::format("    table {} {{\n      id bigint primary key\n      name text not "
                           "null\n      created_at timestamptz not null default (now())\n",
                           t.name);
        if (s > 0 && !coreTables.empty()) {
          out += fmt::format("      core_ref bigint references {}(id) on delete cascade\n",
                             coreTables[pick(static_cast<unsigned>(coreTables.size()))]);
          t.columns.push_back("core_ref");
        }
        out += "    }\n";
        if (s == 0)
          coreTables.push_back(t.name);
        tables.push_back(std::move(t));
      } else {
        TableInfo &t = tables[pick(static_cast<unsigned>(tables.size()))];
        switch (kind) {
        case 2:
        case 3: {
          std::string col = fmt::format("c{}_{}", v, t.columns.size());
          out += fmt::format("    alter table {} {{ add column {} integer default 0 }}\n", t.name,
                             col);
          t.columns.push_back(col);
          break;
        }
        case 4:
        case 5:
          out += fmt::format("    alter table {} {{ add index {}_i{} ({}) }}\n", t.name, t.name,
                             t.indexes++, t.columns[pick(static_cast<unsigned>(t.columns.size()))]);
          break;
        case 6: {
          std::string col = fmt::format("note{}", v);
          out += fmt::format("    alter table {} {{\n      add column {} text fill ('n/a')\n    }}\n"
                             "    alter table {} {{ alter column {} set not null fill ('n/a') }}\n",
                             t.name, col, t.name, col);
          t.columns.push_back(col);
          break;
        }
        case 7: {
          // Only columns added by later versions are renamed: the generated backfills and
          // foreign keys use the first ones.
          if (t.columns.size() <= 4)
            break;
          std::string &col = t.columns[4 + pick(static_cast<unsigned>(t.columns.size() - 4))];
          std::string renamed = fmt::format("{}_r{}", col, v);
          out += fmt::format("    alter table {} {{ rename column {} to {} }}\n", t.name, col,
                             renamed);
          col = renamed;
          break;
        }
        case 8:
          out += fmt::format("    backfill {} set name = (upper(name)) where (name is null)\n",
                             t.name);
          break;
        default:
          out += fmt::format("    alter table {} {{ add check ({} is not null) }}\n", t.name, "id");
          break;
        }
      }
      out += "  }\n";
    }
    out += "}\n";
  }
  return out;
}

} // namespace strata::bench
