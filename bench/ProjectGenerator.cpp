#include "bench/ProjectGenerator.h"

#include <fmt/format.h>

#include <optional>
#include <random>
#include <vector>

namespace strata::bench {

namespace {
struct TableInfo {
  std::string name;
  std::vector<std::string> columns;
  unsigned indexes = 0;
  unsigned createdAt = 0;  ///< the version (index) that created it
  bool referenced = false; ///< another subsystem may hold a foreign key to it: never renamed
};

struct SubsystemInfo {
  std::string name;
  std::vector<TableInfo> tables;
};

/// The tables of \p sub that exist at version index \p version (created at or before it).
std::vector<const TableInfo *> tablesAt(const SubsystemInfo &sub, unsigned version) {
  std::vector<const TableInfo *> out;
  for (const TableInfo &t : sub.tables)
    if (t.createdAt <= version)
      out.push_back(&t);
  return out;
}
} // namespace

std::vector<GeneratedFile> generateFiles(const GeneratorOptions &options) {
  std::mt19937 rng(options.seed);
  auto pick = [&](unsigned n) { return static_cast<unsigned>(rng() % n); };
  const unsigned versions = options.versionsPerSubsystem;
  std::vector<GeneratedFile> files;
  std::vector<SubsystemInfo> subs;
  for (unsigned s = 0; s < options.subsystems; ++s) {
    SubsystemInfo info;
    info.name = s == 0 ? "core" : fmt::format("plugin_{}", s);
    std::string out = fmt::format("subsystem {} {{\n", info.name);
    // Every fourth plugin builds on the plugin before it (as acl builds on key_auth): it
    // requires it from its first version and references its first table.
    std::optional<unsigned> peer;
    if (s >= 2 && s % 4 == 0) {
      peer = s - 1;
      out += fmt::format("  requires {} >= \"1.0.0\"\n", subs[*peer].name);
    }
    unsigned coreRequired = 0;
    for (unsigned v = 0; v < versions; ++v) {
      // A plugin's versions follow core's releases: every fifth version needs a newer core
      // (1.0.0, then 1.5.0, 1.10.0, ...), so the DAG interleaves the subsystems as a
      // product's release history does.
      std::string header = fmt::format("  version \"1.{}.0\"", v);
      if (s > 0) {
        unsigned want = v / 5 * 5;
        if (v == 0 || want != coreRequired) {
          coreRequired = want;
          header += fmt::format(" requires core >= \"1.{}.0\"", coreRequired);
        }
      }
      out += header + " {\n";
      unsigned kind = v == 0 || info.tables.empty() ? 0 : pick(12);
      if (options.smallChanges && kind > 1)
        kind = 2;
      if (kind <= 1) {
        TableInfo t{fmt::format("{}_t{}", info.name, info.tables.size()),
                    {"id", "name", "created_at"},
                    0,
                    v,
                    s == 0 || info.tables.empty()};
        out += fmt::format("    table {} {{\n      id bigint primary key\n      name text not "
                           "null\n      created_at timestamptz not null default (now())\n",
                           t.name);
        if (s > 0) {
          std::vector<const TableInfo *> core = tablesAt(subs[0], coreRequired);
          if (!core.empty()) {
            out += fmt::format("      core_ref bigint references {}(id) on delete cascade\n",
                               core[pick(static_cast<unsigned>(core.size()))]->name);
            t.columns.push_back("core_ref");
          }
        }
        if (peer && info.tables.empty()) {
          out += fmt::format("      peer_ref bigint references {}(id) on delete set null\n",
                             subs[*peer].tables[0].name);
          t.columns.push_back("peer_ref");
        }
        out += "    }\n";
        info.tables.push_back(std::move(t));
      } else {
        TableInfo &t = info.tables[pick(static_cast<unsigned>(info.tables.size()))];
        // Only columns added by later versions are renamed (the generated backfills and
        // foreign keys use the first ones), and only tables no other subsystem references.
        size_t fixed = 3;
        while (fixed < t.columns.size() &&
               (t.columns[fixed] == "core_ref" || t.columns[fixed] == "peer_ref"))
          ++fixed;
        if ((kind == 7 && t.columns.size() <= fixed) || (kind == 9 && t.referenced) || kind == 11)
          kind = 2; // a column is added instead
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
          // Only the first columns, which are never renamed: renaming an indexed column
          // is refused by the compatibility proof (C206) unless marked unsafe.
          out += fmt::format("    alter table {} {{ add index {}_i{} ({}) }}\n", t.name, t.name,
                             t.indexes++,
                             t.columns[pick(static_cast<unsigned>(std::min<size_t>(fixed, t.columns.size())))]);
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
          std::string &col =
              t.columns[fixed + pick(static_cast<unsigned>(t.columns.size() - fixed))];
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
        case 9: {
          std::string renamed = fmt::format("{}_v{}", t.name.substr(0, t.name.find("_v")), v);
          out += fmt::format("    rename table {} to {}\n", t.name, renamed);
          t.name = renamed;
          break;
        }
        default:
          // The proof cannot know that old nodes never write a null key (C203): the author
          // says so, as a real one would.
          out += fmt::format("    alter table {} {{\n      unsafe \"id is the primary key\"\n"
                             "      add check ({} is not null)\n    }}\n",
                             t.name, "id");
          break;
        }
      }
      out += "  }\n";
    }
    out += "}\n";
    files.push_back({info.name + ".strata", std::move(out)});
    subs.push_back(std::move(info));
  }
  return files;
}

std::string generateProject(const GeneratorOptions &options) {
  std::string out;
  for (const GeneratedFile &file : generateFiles(options))
    out += file.text;
  return out;
}

} // namespace strata::bench
