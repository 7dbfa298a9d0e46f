// Folding, diffing, canonical printing and checksums (the Schema model issue): each test
// compiles small in-memory projects and compares states, Ops or checksums.
#include "compiler/Compilation.h"
#include "compiler/Diff.h"
#include "compiler/Fold.h"
#include "compiler/Printer.h"

#include <gtest/gtest.h>

#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>

using namespace strata::compiler;

namespace {
/// Compiles \p text; fails the test with the rendered diagnostics on error.
struct Compiled {
  Compilation compilation;
  const Project *project = nullptr;
  std::string diagnostics;

  explicit Compiled(llvm::StringRef text, llvm::StringRef name = "test.strata") {
    compilation.addSource(name, text);
    project = compilation.run();
    llvm::raw_string_ostream os(diagnostics);
    compilation.diagnostics().render(os, false);
  }
  const Version &version(llvm::StringRef subsystem, llvm::StringRef text) const {
    unsigned s = *project->findSubsystem(subsystem);
    return project->subsystems[s].versions[*project->subsystems[s].findVersion(text)];
  }
};

std::string opsText(const std::vector<Op> &ops) {
  std::string out;
  for (const Op &op : ops)
    out += canonicalOp(op) + "\n";
  return out;
}

const char *base = R"(
subsystem core {
  version "1.0.0" {
    table services {
      id uuid primary key
      name text
      retries bigint default 5
    }
    table routes {
      id uuid primary key
      service_id uuid references services(id) on delete cascade
      paths text[]
    }
  }
)";
} // namespace

TEST(Fold, AlterAndRestatedTableGiveTheSameOps) {
  // Each pair: an alter-table form and the equivalent restated table.
  struct Case {
    const char *name;
    const char *alter;
    const char *restated;
  };
  const Case cases[] = {
      {"add column", "alter table services { add column host text }",
       "table services { id uuid primary key\n name text\n retries bigint default 5\n host text }"},
      {"drop column", "alter table services { drop column retries }",
       "table services { id uuid primary key\n name text }"},
      {"retype", "alter table services { alter column retries type integer }",
       "table services { id uuid primary key\n name text\n retries integer default 5 }"},
      {"rename via was", "alter table services { rename column retries to max_retries }",
       "table services { id uuid primary key\n name text\n max_retries bigint default 5 was "
       "\"retries\" }"},
      {"set not null", "alter table services { alter column name set not null }",
       "table services { id uuid primary key\n name text not null\n retries bigint default 5 }"},
      {"drop default", "alter table services { alter column retries drop default }",
       "table services { id uuid primary key\n name text\n retries bigint }"},
      {"set default", "alter table services { alter column retries set default 7 }",
       "table services { id uuid primary key\n name text\n retries bigint default 7 }"},
      {"add unique", "alter table services { add unique (name) }",
       "table services { id uuid primary key\n name text unique\n retries bigint default 5 }"},
      {"add index", "alter table services { add index services_name_idx (name) }",
       "table services { id uuid primary key\n name text\n retries bigint default 5\n index "
       "services_name_idx (name) }"},
  };
  for (const Case &c : cases) {
    std::string alterSrc = std::string(base) + "  version \"1.1.0\" { " + c.alter + " }\n}\n";
    std::string restSrc = std::string(base) + "  version \"1.1.0\" { " + c.restated + " }\n}\n";
    Compiled alter(alterSrc), restated(restSrc);
    ASSERT_TRUE(alter.project) << c.name << "\n" << alter.diagnostics;
    ASSERT_TRUE(restated.project) << c.name << "\n" << restated.diagnostics;
    EXPECT_EQ(opsText(alter.version("core", "1.1.0").ops),
              opsText(restated.version("core", "1.1.0").ops))
        << c.name;
    EXPECT_TRUE(alter.version("core", "1.1.0").state == restated.version("core", "1.1.0").state)
        << c.name;
    EXPECT_EQ(alter.version("core", "1.1.0").checksum, restated.version("core", "1.1.0").checksum)
        << c.name;
  }
}

TEST(Fold, RestatedDropPlusAddWarnsAboutRenames) {
  std::string src = std::string(base) +
                    "  version \"1.1.0\" { table services { id uuid primary key\n name text\n "
                    "max_retries bigint } }\n}\n";
  Compiled c(src);
  ASSERT_TRUE(c.project) << c.diagnostics;
  EXPECT_NE(c.diagnostics.find("if it was renamed, write 'was \"retries\"'"), std::string::npos)
      << c.diagnostics;
  const std::vector<Op> &ops = c.version("core", "1.1.0").ops;
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].kind, OpKind::DropColumn);
  EXPECT_EQ(ops[1].kind, OpKind::AddColumn);
}

TEST(Fold, MergeOfBranchesTouchingDifferentTablesIsTheUnion) {
  std::string src = std::string(base) + R"(
  version "1.1.0" { alter table services { add column host text } }
  version "1.0.1" after "1.0.0" { alter table routes { add column hosts text[] } }
  version "1.2.0" after "1.1.0", "1.0.1" { }
}
)";
  Compiled c(src);
  ASSERT_TRUE(c.project) << c.diagnostics;
  const Schema &merged = c.version("core", "1.2.0").state;
  EXPECT_TRUE(merged.findTable("services")->findColumn("host"));
  EXPECT_TRUE(merged.findTable("routes")->findColumn("hosts"));
}

TEST(Fold, MergeOfBranchesChangingTheSameColumnIsAnError) {
  std::string src = std::string(base) + R"(
  version "1.1.0" { alter table services { alter column retries type integer } }
  version "1.0.1" after "1.0.0" { alter table services { alter column retries set default 3 } }
  version "1.2.0" after "1.1.0", "1.0.1" { }
}
)";
  Compiled c(src);
  EXPECT_FALSE(c.project);
  EXPECT_NE(c.diagnostics.find("test.strata:18:11: error: branches merged into version "
                               "\"1.2.0\" change column \"retries\" of table \"services\""),
            std::string::npos)
      << c.diagnostics;
  // One note at each branch's change.
  EXPECT_NE(c.diagnostics.find("test.strata:16:"), std::string::npos) << c.diagnostics;
  EXPECT_NE(c.diagnostics.find("test.strata:17:"), std::string::npos) << c.diagnostics;
}

TEST(Fold, ChecksumIgnoresFormattingButNotMeaning) {
  const char *original = R"(subsystem s { version "1.0.0" {
    table t { id int primary key  n text default ('a') check (n <> 'b') } } })";
  const char *reformatted = R"(
// a comment
subsystem s {
  version "1.0.0" {
    /* another */
    table t {
      id   int    primary key
      n    text   default (  'a'  )   check (n   <>  'b')
    }
  }
}
)";
  Compiled a(original), b(reformatted);
  ASSERT_TRUE(a.project && b.project) << a.diagnostics << b.diagnostics;
  EXPECT_EQ(a.version("s", "1.0.0").checksum, b.version("s", "1.0.0").checksum);
  const char *changes[] = {
      R"(subsystem s { version "1.0.0" { table t { id int primary key  n text default ('b') check (n <> 'b') } } })",
      R"(subsystem s { version "1.0.0" { table t { id bigint primary key  n text default ('a') check (n <> 'b') } } })",
      R"(subsystem s { version "1.0.0" { table t { id int primary key  n text default ('a') check (n <> 'c') } } })",
      R"(subsystem s { version "1.0.0" { table t { id int primary key  n text not null default ('a') check (n <> 'b') } } })",
  };
  for (const char *changed : changes) {
    Compiled c(changed);
    ASSERT_TRUE(c.project) << c.diagnostics;
    EXPECT_NE(a.version("s", "1.0.0").checksum, c.version("s", "1.0.0").checksum) << changed;
  }
}

TEST(Fold, UnnamedObjectsGetPostgresNames) {
  Compiled c(R"(subsystem s { version "1.0.0" {
    table accounts {
      id bigint primary key
      email text unique
      org bigint
      score int check (score >= 0)
      lo int
      hi int
      check (lo < hi)
      unique (org, email)
      index (lower(email))
      index (org)
    }
    table members { account_id bigint references accounts }
  } })");
  ASSERT_TRUE(c.project) << c.diagnostics;
  const Table *t = c.version("s", "1.0.0").state.findTable("accounts");
  for (const char *name : {"accounts_pkey", "accounts_email_key", "accounts_score_check",
                           "accounts_check", "accounts_org_email_key"})
    EXPECT_TRUE(t->findConstraint(name)) << name;
  EXPECT_TRUE(t->findIndex("accounts_lower_idx"));
  EXPECT_TRUE(t->findIndex("accounts_org_idx"));
  const Table *m = c.version("s", "1.0.0").state.findTable("members");
  EXPECT_TRUE(m->findConstraint("members_account_id_fkey"));
}

TEST(Fold, LongNamesAreTruncatedLikePostgres) {
  std::string table(60, 't');
  std::string src = "subsystem s { version \"1.0.0\" { table " + table +
                    " { id int primary key  some_column int unique } } }";
  Compiled c(src);
  ASSERT_TRUE(c.project) << c.diagnostics;
  const Table *t = c.version("s", "1.0.0").state.findTable(table);
  // makeObjectName: "key" and both parts fit 63 bytes, the longer part shortened first.
  EXPECT_TRUE(t->findConstraint(std::string(47, 't') + "_some_column_key"));
  EXPECT_TRUE(t->findConstraint(std::string(58, 't') + "_pkey"));
}

TEST(Printer, ShowCompilesBackToTheSameStateForEveryExampleVersion) {
  // Each folder under examples/ is one project (its files together).
  std::error_code ec;
  unsigned checked = 0;
  for (llvm::sys::fs::directory_iterator dir(STRATA_SOURCE_DIR "/examples", ec), end;
       dir != end && !ec; dir.increment(ec)) {
    if (!llvm::sys::fs::is_directory(dir->path()))
      continue;
    Compilation compilation;
    ASSERT_FALSE(compilation.addDirectory(dir->path()));
    const Project *project = compilation.run();
    std::string diags;
    llvm::raw_string_ostream ds(diags);
    compilation.diagnostics().render(ds, false);
    ASSERT_TRUE(project) << dir->path() << "\n" << ds.str();
    const Project &p = *project;
    for (unsigned s = 0; s < p.subsystems.size(); ++s)
      for (unsigned v = 0; v < p.subsystems[s].versions.size(); ++v) {
        std::string text;
        llvm::raw_string_ostream os(text);
        printVersionState(os, p, {s, v});
        Compiled again(os.str(), "shown.strata");
        ASSERT_TRUE(again.project) << p.describe({s, v}) << "\n"
                                   << again.diagnostics << "\n"
                                   << text;
        const Subsystem &sub = again.project->subsystems[*again.project->findSubsystem(
            p.subsystems[s].name)];
        EXPECT_TRUE(sub.versions.back().state == p.at({s, v}).state)
            << p.describe({s, v}) << "\n"
            << text;
        ++checked;
      }
  }
  EXPECT_GT(checked, 0u);
}

TEST(Diff, SchemaDiffOfAStateWithItselfIsEmpty) {
  Compiled c(std::string(base) + "}\n");
  ASSERT_TRUE(c.project) << c.diagnostics;
  const Schema &s = c.version("core", "1.0.0").state;
  EXPECT_TRUE(diffSchema(s, s).empty());
  std::vector<Op> fromEmpty = diffSchema(Schema(), s);
  ASSERT_EQ(fromEmpty.size(), 2u);
  EXPECT_EQ(fromEmpty[0].kind, OpKind::CreateTable);
}

TEST(Fold, RenamedColumnIsRenamedInChecksAndIndexExpressions) {
  // PostgreSQL stores these as trees: after a rename they print with the new name, and a
  // bootstrap of the new version must not name the old column.
  Compiled c(R"(
subsystem core {
  version "1.0.0" {
    table services {
      id   uuid primary key
      name text
      host text
      constraint services_name_check check (name <> '' and length(services.name) < 64)
      index services_lower_name_idx (lower(name))
      index services_host_idx (host) where (name is not null)
    }
  }
  version "1.1.0" {
    alter table services rename column name to title
  }
}
)");
  ASSERT_TRUE(c.project) << c.diagnostics;
  const Table *t = c.version("core", "1.1.0").state.findTable("services");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->findConstraint("services_name_check")->check,
            "title <> '' and length(services.title) < 64");
  EXPECT_EQ(t->findIndex("services_lower_name_idx")->elems[0].expr, "lower(title)");
  EXPECT_EQ(t->findIndex("services_host_idx")->where, "title is not null");
}

TEST(Fold, DroppedColumnTakesItsExpressionAndPartialIndexesWithIt) {
  Compiled c(R"(
subsystem core {
  version "1.0.0" {
    table services {
      id   uuid primary key
      name text
      host text
      index services_lower_name_idx (lower(name))
      index services_host_idx (host) where (name is not null)
      index services_host_only_idx (host)
    }
  }
  version "1.1.0" {
    alter table services drop column name
  }
  version "1.2.0" {
    alter table services {
      add column name text
      add index services_lower_name_idx (lower(name))
    }
  }
}
)");
  ASSERT_TRUE(c.project) << c.diagnostics;
  const Table *t = c.version("core", "1.1.0").state.findTable("services");
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->findIndex("services_lower_name_idx"));
  EXPECT_FALSE(t->findIndex("services_host_idx"));
  EXPECT_TRUE(t->findIndex("services_host_only_idx"));
}

TEST(Fold, SortOrderIsNotAnOperatorClass) {
  Compiled c(R"(
subsystem core {
  version "1.0.0" {
    table routes {
      id       uuid primary key
      priority integer
      name     text
      index routes_idx (priority desc nulls last, name text_pattern_ops asc, (lower(name)) desc)
    }
  }
}
)");
  ASSERT_TRUE(c.project) << c.diagnostics;
  const Index *i = c.version("core", "1.0.0").state.findTable("routes")->findIndex("routes_idx");
  ASSERT_TRUE(i);
  ASSERT_EQ(i->elems.size(), 3u);
  EXPECT_EQ(i->elems[0].opclass, "");
  EXPECT_EQ(i->elems[0].order, SortOrder::Desc);
  EXPECT_EQ(i->elems[0].nulls, NullsOrder::Last);
  EXPECT_EQ(i->elems[1].opclass, "text_pattern_ops");
  EXPECT_EQ(i->elems[1].order, SortOrder::Asc);
  EXPECT_EQ(i->elems[2].opclass, "");
  EXPECT_EQ(i->elems[2].order, SortOrder::Desc);
}
