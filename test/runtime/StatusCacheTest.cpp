// The status cache end to end, with the real executable on a real PostgreSQL
// (STRATA_TEST_DB): a warm run prints exactly what a cold one and --no-cache print, and
// really reads the cache (a tampered entry shows); a changed source, a corrupt file, an
// unwritable directory, warnings; drift made after the cache was written is still
// reported, for every kind of DDL, since the cached drift result is only reused while the
// catalog fingerprint is unchanged (and it is reused then: a tampered result shows).
// STRATA_CACHE_DIR points every run at a directory of the test's own.
#include "TestDatabase.h"

#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>

#include "runtime/StatusCache.h"

#include <algorithm>
#include <gtest/gtest.h>

namespace strata {
namespace {

using test::ProjectDir;
using test::query;
using test::show;
using test::TestDatabase;
using Outcome = test::StrataProcess::Outcome;

constexpr const char *project = R"(
subsystem app {
  version "1.0.0" {
    enum mood { 'ok', 'sad' }
    table users {
      id    bigint primary key
      name  text not null
      score integer default 0
      feel  mood
      constraint users_score_check check (score >= 0)
      index users_name_idx (name)
    }
    table posts {
      id      bigint primary key
      user_id bigint references users(id) on delete cascade
    }
  }
}
)";

std::string withVersion(const std::string &body) {
  std::string text = project;
  text.erase(text.rfind('}'));
  return text + "  version \"1.1.0\" {\n" + body + "  }\n}\n";
}


class StatusCacheTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(db.ok());
    conn = db.connect();
    ASSERT_TRUE(conn);
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("strata-status-cache", cacheDir));
    if (const char *old = std::getenv("STRATA_CACHE_DIR"))
      savedDir = old;
    setenv("STRATA_CACHE_DIR", cacheDir.c_str(), 1);
    unsetenv("STRATA_NO_CACHE");
    Outcome o = run({"apply", "bootstrap"});
    ASSERT_EQ(o.exitCode, 0) << show(o);
  }
  void TearDown() override {
    llvm::sys::fs::remove_directories(cacheDir);
    if (savedDir)
      setenv("STRATA_CACHE_DIR", savedDir->c_str(), 1);
    else
      unsetenv("STRATA_CACHE_DIR");
    unsetenv("STRATA_NO_CACHE");
  }

  Outcome run(std::vector<std::string> args) {
    args.insert(args.end(), {"-s", dir.path(), "--db", db.connInfo()});
    return test::runStrata(args);
  }

  /// The cache's files whose names start with \p kind ("facts", "declared").
  std::vector<std::string> files(llvm::StringRef kind) const {
    std::vector<std::string> out;
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(cacheDir, ec), end; !ec && it != end;
         it.increment(ec))
      if (llvm::sys::path::filename(it->path()).startswith((kind + "-").str()))
        out.push_back(it->path());
    std::sort(out.begin(), out.end());
    return out;
  }

  /// The body of the cache file \p path (after its header line), and the header.
  static std::pair<std::string, std::string> entry(const std::string &path) {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    EXPECT_TRUE(buffer) << path;
    if (!buffer)
      return {};
    auto [header, body] = (*buffer)->getBuffer().split('\n');
    return {header.str(), body.str()};
  }

  /// The only drift entry: its fingerprint and its result.
  std::pair<std::string, std::optional<runtime::DriftReport>> storedDrift() const {
    std::vector<std::string> drift = files("drift");
    EXPECT_EQ(drift.size(), 1u);
    if (drift.size() != 1)
      return {};
    std::string text = entry(drift[0]).second;
    llvm::StringRef body = text;
    // The fingerprint is the body's first field, "<length>:<bytes>".
    auto [length, rest] = body.split(':');
    size_t n = 0;
    if (length.getAsInteger(10, n) || n > rest.size())
      return {};
    std::string fingerprint = rest.substr(0, n).str();
    return {fingerprint, runtime::decodeDrift(body, fingerprint)};
  }

  static void expectSame(const Outcome &a, const Outcome &b) {
    EXPECT_EQ(a.exitCode, b.exitCode) << show(a) << show(b);
    EXPECT_EQ(a.out, b.out) << show(a) << show(b);
    EXPECT_EQ(a.err, b.err) << show(a) << show(b);
  }

  TestDatabase db{"statuscache"};
  ProjectDir dir{project};
  std::optional<runtime::Connection> conn;
  llvm::SmallString<128> cacheDir;
  std::optional<std::string> savedDir;
};

TEST_F(StatusCacheTest, AWarmRunPrintsWhatAColdRunAndNoCachePrint) {
  Outcome cold = run({"status"});
  EXPECT_EQ(cold.exitCode, 0) << show(cold);
  EXPECT_NE(cold.out.find("database is up to date"), std::string::npos) << show(cold);
  EXPECT_EQ(files("facts").size(), 1u);
  EXPECT_EQ(files("declared").size(), 1u);
  EXPECT_EQ(files("drift").size(), 1u);
  expectSame(run({"status"}), cold);
  expectSame(run({"status", "--no-cache"}), cold);
  Outcome json = run({"status", "--format", "json"});
  EXPECT_EQ(json.exitCode, 0) << show(json);
  expectSame(run({"status", "--format", "json", "--no-cache"}), json);
  EXPECT_EQ(files("facts").size(), 1u); // one project, one entry
}

TEST_F(StatusCacheTest, DriftMadeAfterTheCacheWasWrittenIsReported) {
  Outcome cold = run({"status"});
  ASSERT_EQ(cold.exitCode, 0) << show(cold);
  EXPECT_EQ(cold.err, "") << show(cold);
  ASSERT_EQ(files("declared").size(), 1u);
  ASSERT_TRUE(query(*conn, "CREATE INDEX users_score_idx ON users (score); "
                           "ALTER TABLE users ALTER COLUMN score SET DEFAULT 1"));
  Outcome warm = run({"status"});
  EXPECT_EQ(warm.exitCode, 0) << show(warm);
  EXPECT_NE(warm.err.find("strata: warning: drift: extra_index on table \"users\" index "
                          "\"users_score_idx\""),
            std::string::npos)
      << show(warm);
  EXPECT_NE(warm.err.find("changed_default on table \"users\" column \"score\""), std::string::npos)
      << show(warm);
  expectSame(run({"status", "--no-cache"}), warm);
  EXPECT_EQ(files("declared").size(), 1u); // the declared side did not change
}

TEST_F(StatusCacheTest, EveryKindOfDdlAfterTheCacheWasWrittenIsReported) {
  // Cumulative: each statement adds (or, for the validation, removes) a line of drift. A
  // warm run must print what a run without the cache prints, and differ from the run
  // before the statement: the catalog fingerprint saw the change.
  // (Unmanaged objects are not printed by status: for them, the stored result says it.)
  const char *ddl[] = {
      "ALTER TABLE users ADD COLUMN extra text",
      "DROP INDEX users_name_idx",
      "ALTER TABLE users ALTER COLUMN score SET DEFAULT 7",
      "ALTER TABLE posts ALTER COLUMN user_id TYPE integer",
      "ALTER TABLE users DROP CONSTRAINT users_score_check, "
      "ADD CONSTRAINT users_score_check CHECK (score >= 0) NOT VALID",
      "ALTER TABLE users VALIDATE CONSTRAINT users_score_check",
      "ALTER TABLE users ADD CONSTRAINT users_name_check CHECK (name <> '')",
      "ALTER TYPE mood ADD VALUE 'glad'",
      "CREATE TABLE stray (id integer)",
      "ALTER TABLE users RENAME COLUMN name TO full_name",
      "CREATE SCHEMA elsewhere",
  };
  Outcome before = run({"status"});
  ASSERT_EQ(before.exitCode, 0) << show(before);
  EXPECT_EQ(before.err, "") << show(before);
  expectSame(run({"status"}), before); // warm, from the cached drift result
  std::string fingerprint = storedDrift().first;
  ASSERT_FALSE(fingerprint.empty());
  for (const char *statement : ddl) {
    SCOPED_TRACE(statement);
    ASSERT_TRUE(query(*conn, statement));
    Outcome warm = run({"status"});
    auto [now, report] = storedDrift();
    EXPECT_NE(now, fingerprint);
    fingerprint = now;
    ASSERT_TRUE(report);
    llvm::StringRef sql = statement;
    if (sql.startswith("CREATE TABLE") || sql.startswith("CREATE SCHEMA")) {
      std::string name = sql.rsplit(' ').second.str();
      if (sql.startswith("CREATE TABLE"))
        name = sql.split('(').first.rtrim().rsplit(' ').second.str();
      EXPECT_TRUE(std::any_of(report->unmanaged.begin(), report->unmanaged.end(),
                              [&](const runtime::UnmanagedObject &u) { return u.name == name; }))
          << name;
      EXPECT_EQ(warm.err, before.err) << show(warm);
    } else {
      EXPECT_NE(warm.err, before.err) << show(warm);
    }
    expectSame(run({"status", "--no-cache"}), warm);
    expectSame(run({"status"}), warm);
    EXPECT_EQ(storedDrift().first, fingerprint); // unchanged catalog, unchanged entry
    before = warm;
  }
}

TEST_F(StatusCacheTest, AnUnchangedCatalogReusesTheDriftResult) {
  Outcome cold = run({"status"});
  ASSERT_EQ(cold.exitCode, 0) << show(cold);
  std::vector<std::string> drift = files("drift");
  ASSERT_EQ(drift.size(), 1u);
  // A tampered result (strata never writes one) with the stored fingerprint shows: the
  // catalog was not read.
  std::string header = entry(drift[0]).first;
  auto [fingerprint, report] = storedDrift();
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->changes.empty());
  runtime::Change fake;
  fake.kind = runtime::ChangeKind::ExtraIndex;
  fake.table = "users";
  fake.object = "users_tampered_idx";
  fake.live = "index users_tampered_idx (name)";
  fake.sql = {"DROP INDEX users_tampered_idx"};
  report->changes.push_back(fake);
  report->script = fake.sql;
  std::ofstream(drift[0], std::ios::trunc) << header << "\n"
                                           << runtime::encodeDrift(fingerprint, *report);
  Outcome tampered = run({"status"});
  EXPECT_NE(tampered.err.find("users_tampered_idx"), std::string::npos) << show(tampered);
  expectSame(run({"status", "--no-cache"}), cold);
  // Any DDL on the schema changes the fingerprint: the catalog is read again.
  for (const char *statement : {"COMMENT ON TABLE posts IS 'x'", "ANALYZE users", "VACUUM posts"})
    ASSERT_TRUE(query(*conn, statement)) << statement;
  expectSame(run({"status"}), tampered); // comments and statistics are not fingerprinted
  ASSERT_TRUE(query(*conn, "CREATE INDEX users_score_idx ON users (score)"));
  Outcome real = run({"status"});
  EXPECT_EQ(real.err.find("users_tampered_idx"), std::string::npos) << show(real);
  EXPECT_NE(real.err.find("users_score_idx"), std::string::npos) << show(real);
  expectSame(run({"status", "--no-cache"}), real);
}

TEST_F(StatusCacheTest, AWarmRunReadsTheCacheAndNoCacheBypassesIt) {
  Outcome cold = run({"status"});
  ASSERT_EQ(cold.exitCode, 0) << show(cold);
  std::vector<std::string> facts = files("facts"), declared = files("declared");
  ASSERT_EQ(facts.size(), 1u);
  ASSERT_EQ(declared.size(), 1u);
  // Tampered entries (which strata never writes) show in a warm run: it used them.
  {
    auto [header, body] = entry(facts[0]);
    std::optional<runtime::StatusFacts> f = runtime::decodeFacts(body);
    ASSERT_TRUE(f);
    f->subsystems[0].versions[0].checksum = "tampered";
    std::ofstream(facts[0], std::ios::trunc) << header << "\n" << runtime::encodeFacts(*f);
  }
  {
    auto [header, body] = entry(declared[0]);
    std::optional<compiler::Schema> d = runtime::decodeSchema(body);
    ASSERT_TRUE(d);
    ASSERT_FALSE(d->findTable("users")->indexes.empty());
    d->mutableTable("users").indexes[0].name = "users_other_idx";
    std::ofstream(declared[0], std::ios::trunc) << header << "\n" << runtime::encodeSchema(*d);
  }
  // The drift result is not reused with another declared state: without it, the
  // (tampered) declared state is compared with the live catalog.
  for (const std::string &path : files("drift"))
    llvm::sys::fs::remove(path);
  Outcome warm = run({"status"});
  EXPECT_NE(warm.out.find("Changed since they ran (checksum differs):\napp: 1.0.0"),
            std::string::npos)
      << show(warm);
  EXPECT_NE(warm.err.find("missing_index on table \"users\" index \"users_other_idx\""),
            std::string::npos)
      << show(warm);
  // --no-cache and STRATA_NO_CACHE=1 neither read nor write it.
  expectSame(run({"status", "--no-cache"}), cold);
  setenv("STRATA_NO_CACHE", "1", 1);
  expectSame(run({"status"}), cold);
  unsetenv("STRATA_NO_CACHE");
  expectSame(run({"status"}), warm);
}

TEST_F(StatusCacheTest, AChangedSourceIsCompiledAgain) {
  ASSERT_EQ(run({"status"}).exitCode, 0);
  dir.write(withVersion("    alter table users {\n      add column nick text\n    }\n"));
  Outcome changed = run({"status"});
  EXPECT_EQ(changed.exitCode, 5) << show(changed);
  EXPECT_NE(changed.out.find("New:\napp: 1.1.0"), std::string::npos) << show(changed);
  EXPECT_EQ(files("facts").size(), 2u);
  expectSame(run({"status"}), changed);
  expectSame(run({"status", "--no-cache"}), changed);
  // Applied: the database is at 1.1.0, a declared state the cache has not seen yet.
  ASSERT_EQ(run({"apply", "up"}).exitCode, 0);
  Outcome up = run({"status"});
  EXPECT_EQ(up.exitCode, 0) << show(up);
  EXPECT_EQ(up.err, "") << show(up);
  // One entry per (sources, versions): the new sources at 1.0.0, then at 1.1.0.
  EXPECT_EQ(files("declared").size(), 3u);
  expectSame(run({"status"}), up);
}

TEST_F(StatusCacheTest, CorruptFilesAreIgnoredAndReplaced) {
  Outcome cold = run({"status"});
  ASSERT_EQ(cold.exitCode, 0) << show(cold);
  std::vector<std::string> all = files("facts");
  std::vector<std::string> declared = files("declared");
  std::vector<std::string> drift = files("drift");
  all.insert(all.end(), declared.begin(), declared.end());
  all.insert(all.end(), drift.begin(), drift.end());
  ASSERT_EQ(all.size(), 3u);
  for (const std::string &path : all)
    std::ofstream(path, std::ios::trunc) << "garbage\n1,2,3:abc";
  expectSame(run({"status"}), cold);
  for (const std::string &path : all) {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    ASSERT_TRUE(buffer);
    EXPECT_TRUE((*buffer)->getBuffer().startswith("strata-status-cache 2 ")) << path;
  }
  // Cut short: ignored too.
  for (const std::string &path : all) {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    ASSERT_TRUE(buffer);
    std::string text = (*buffer)->getBuffer().str();
    std::ofstream(path, std::ios::trunc) << text.substr(0, text.size() - 7);
  }
  expectSame(run({"status"}), cold);
}

TEST_F(StatusCacheTest, AnUnwritableCacheIsNotAnError) {
  Outcome cold = run({"status", "--no-cache"});
  std::string file = std::string(cacheDir) + "/a-file";
  std::ofstream(file) << "x";
  setenv("STRATA_CACHE_DIR", (file + "/below").c_str(), 1);
  expectSame(run({"status"}), cold);
  expectSame(run({"status"}), cold);
}

TEST_F(StatusCacheTest, WarningsAreShownOnEveryRunAndNeverCached) {
  // W002: unquoted identifier "Nick" is folded to lower case
  dir.write(withVersion("    alter table users {\n      add column Nick text\n    }\n"));
  Outcome first = run({"status"});
  EXPECT_EQ(first.exitCode, 5) << show(first);
  EXPECT_NE(first.err.find("warning"), std::string::npos) << show(first);
  EXPECT_NE(first.err.find("\"Nick\" is folded to lower case"), std::string::npos) << show(first);
  EXPECT_TRUE(files("facts").empty());
  expectSame(run({"status"}), first);
}

} // namespace
} // namespace strata
