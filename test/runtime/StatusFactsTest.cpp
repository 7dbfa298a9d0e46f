// StatusFacts and the status cache's files, without a database: headsOf against the
// quadratic definition it replaced (on the gateway example and generated projects, with
// random sets of recorded nodes), statusOf's lists, and the serialisations and files of
// the cache (round trips, corrupt and foreign files ignored, keys that change with a byte).
#include "bench/ProjectGenerator.h"
#include "compiler/Compilation.h"
#include "planner/VersionGraph.h"
#include "runtime/Drift.h"
#include "runtime/StatusCache.h"
#include "runtime/StatusFacts.h"

#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/SourceMgr.h>

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <random>

namespace strata {
namespace {

using compiler::VersionRef;

/// The definition headsOf had (a closure per pair of nodes): the reference it must match.
std::vector<VersionRef> bruteForceHeads(const planner::VersionGraph &graph,
                                        llvm::ArrayRef<VersionRef> nodes) {
  std::vector<VersionRef> heads;
  for (VersionRef n : graph.order()) {
    if (!llvm::is_contained(nodes, n))
      continue;
    bool dominated = llvm::any_of(nodes, [&](VersionRef other) {
      return !(other == n) && other.subsystem == n.subsystem &&
             llvm::is_contained(graph.closure({other}), n);
    });
    if (!dominated)
      heads.push_back(n);
  }
  return heads;
}

struct Compiled {
  std::unique_ptr<compiler::Compilation> compilation = std::make_unique<compiler::Compilation>();
  const compiler::Project *project = nullptr;
};

Compiled compileText(const std::string &text) {
  Compiled c;
  c.compilation->addSource("generated.strata", text);
  c.project = c.compilation->run();
  return c;
}

Compiled compileGateway() {
  Compiled c;
  EXPECT_FALSE(c.compilation->addPath(std::string(STRATA_SOURCE_DIR) + "/examples/gateway"));
  c.project = c.compilation->run();
  return c;
}

std::string names(const compiler::Project &project, llvm::ArrayRef<VersionRef> refs) {
  std::string out;
  for (VersionRef r : refs)
    out += project.describe(r) + " ";
  return out;
}

void expectHeadsMatch(const compiler::Project &project, unsigned seed) {
  planner::VersionGraph graph(project);
  runtime::StatusFacts facts = runtime::StatusFacts::of(project, graph);
  std::mt19937 random(seed);
  std::vector<VersionRef> all = graph.order();
  for (int round = 0; round < 60; ++round) {
    // From a few nodes to nearly all of them, so that both heads and dominated nodes of
    // every subsystem occur.
    std::bernoulli_distribution pick(0.05 + 0.9 * round / 60.0);
    std::vector<VersionRef> nodes;
    for (VersionRef n : all)
      if (pick(random))
        nodes.push_back(n);
    std::shuffle(nodes.begin(), nodes.end(), random);
    std::vector<VersionRef> expected = bruteForceHeads(graph, nodes);
    EXPECT_EQ(names(project, runtime::headsOf(graph, nodes)), names(project, expected))
        << "round " << round;
    EXPECT_EQ(names(project, runtime::headsOf(facts, nodes)), names(project, expected))
        << "round " << round;
  }
}

TEST(HeadsOfTest, MatchesTheQuadraticDefinitionOnTheGatewayExample) {
  Compiled c = compileGateway();
  ASSERT_TRUE(c.project);
  expectHeadsMatch(*c.project, 1);
}

TEST(HeadsOfTest, MatchesTheQuadraticDefinitionOnGeneratedProjects) {
  for (uint32_t seed : {1u, 7u, 42u}) {
    bench::GeneratorOptions options;
    options.subsystems = 9; // plugin 4 and 8 also require the plugin before them
    options.versionsPerSubsystem = 12;
    options.seed = seed;
    Compiled c = compileText(bench::generateProject(options));
    ASSERT_TRUE(c.project) << "seed " << seed;
    SCOPED_TRACE(seed);
    expectHeadsMatch(*c.project, seed);
  }
}

TEST(HeadsOfTest, EveryNodeOfALinearHistoryHasOneHead) {
  Compiled c = compileGateway();
  ASSERT_TRUE(c.project);
  planner::VersionGraph graph(*c.project);
  std::vector<VersionRef> heads = runtime::headsOf(graph, graph.order());
  // One head per subsystem: every subsystem's latest version.
  ASSERT_EQ(heads.size(), c.project->subsystems.size());
  for (VersionRef h : heads)
    EXPECT_EQ(h.version, c.project->subsystems[h.subsystem].latest()) << c.project->describe(h);
}

// --- statusOf ------------------------------------------------------------------------------

TEST(StatusOfTest, ListsExecutedPendingNewChangedAndUnknown) {
  Compiled c = compileGateway();
  ASSERT_TRUE(c.project);
  planner::VersionGraph graph(*c.project);
  runtime::StatusFacts facts = runtime::StatusFacts::of(*c.project, graph);
  std::optional<unsigned> coreIndex = facts.findSubsystem("core");
  ASSERT_TRUE(coreIndex);
  const runtime::StatusFacts::Subsystem &core = facts.subsystems[*coreIndex];
  ASSERT_GE(core.versions.size(), 4u); // 0.14.1, 1.0.0, 1.1.0, 1.0.1, 1.2.0
  std::vector<runtime::NodeRecord> records;
  records.push_back({core.name, core.versions[0].text, core.versions[0].checksum, true});
  records.push_back({core.name, core.versions[1].text, "not-the-checksum", true});
  records.push_back({core.name, core.versions[2].text, core.versions[2].checksum, false});
  records.push_back({core.name, "99.0.0", "x", true});
  runtime::DatabaseStatus status = runtime::statusOf(facts, true, records, {});
  EXPECT_FALSE(status.needsBootstrap);
  const runtime::SubsystemStatus &s = status.subsystems[*coreIndex];
  EXPECT_EQ(s.name, core.name);
  EXPECT_EQ(s.executed, (std::vector<std::string>{core.versions[0].text, core.versions[1].text}));
  EXPECT_EQ(s.pending, std::vector<std::string>{core.versions[2].text});
  EXPECT_EQ(s.changed, std::vector<std::string>{core.versions[1].text});
  EXPECT_EQ(s.unknown, std::vector<std::string>{"99.0.0"});
  ASSERT_FALSE(s.fresh.empty());
  EXPECT_EQ(s.fresh.back(), core.versions[core.latest].text);
  // A changed version comes before the pending finish: apply refuses both up and finish
  // until it is restored. The new version to suggest follows core's highest, 1.2.0.
  EXPECT_EQ(status.code(), runtime::StatusChanged);
  EXPECT_EQ(s.nextVersion, "1.2.1");
  records[1].checksum = core.versions[1].checksum;
  EXPECT_EQ(runtime::statusOf(facts, true, records, {}).code(), runtime::StatusPendingFinish);
  // No records: bootstrap, and nothing is listed as new.
  runtime::DatabaseStatus empty = runtime::statusOf(facts, true, {}, {});
  EXPECT_TRUE(empty.needsBootstrap);
  EXPECT_TRUE(empty.subsystems[*coreIndex].fresh.empty());
}

// --- serialisation -----------------------------------------------------------------------

TEST(CacheSerialisationTest, FactsRoundTripExactly) {
  Compiled c = compileGateway();
  ASSERT_TRUE(c.project);
  planner::VersionGraph graph(*c.project);
  runtime::StatusFacts facts = runtime::StatusFacts::of(*c.project, graph);
  std::string text = runtime::encodeFacts(facts);
  std::optional<runtime::StatusFacts> back = runtime::decodeFacts(text);
  ASSERT_TRUE(back);
  EXPECT_TRUE(*back == facts);
  EXPECT_EQ(runtime::encodeFacts(*back), text);
  // Cut short, with bytes after it, garbage, or pointing at versions that do not exist.
  EXPECT_FALSE(runtime::decodeFacts(llvm::StringRef(text).drop_back(3)));
  EXPECT_FALSE(runtime::decodeFacts(text + "1,"));
  EXPECT_FALSE(runtime::decodeFacts("garbage"));
  EXPECT_FALSE(runtime::decodeFacts(""));
  // One subsystem "a" with version "1.0.0" depending on version 5 of subsystem 0.
  EXPECT_TRUE(runtime::decodeFacts("1,1:a0,1,5:1.0.01:x0,1,0,0,")) << "the well-formed one";
  EXPECT_FALSE(runtime::decodeFacts("1,1:a0,1,5:1.0.01:x1,0,5,1,0,0,"));
}

TEST(CacheSerialisationTest, SchemasRoundTripExactly) {
  Compiled c = compileGateway();
  ASSERT_TRUE(c.project);
  int checked = 0;
  for (const compiler::Subsystem &s : c.project->subsystems)
    for (const compiler::Version &v : s.versions) {
      SCOPED_TRACE(s.name + "@" + v.text);
      std::string text = runtime::encodeSchema(v.state);
      std::optional<compiler::Schema> back = runtime::decodeSchema(text);
      ASSERT_TRUE(back);
      EXPECT_TRUE(*back == v.state);
      EXPECT_EQ(runtime::describeSchema(*back), runtime::describeSchema(v.state));
      EXPECT_EQ(runtime::encodeSchema(*back), text); // isEnum and owners included
      EXPECT_FALSE(runtime::decodeSchema(llvm::StringRef(text).drop_back(1)));
      ++checked;
    }
  EXPECT_GT(checked, 10);
  // A table "t" with a text column "c" whose generation is 3 (serial), then 9: out of range.
  EXPECT_TRUE(runtime::decodeSchema("1,1:t0:1,1:c0:4:text0,0,0,0,0:3,0,0,0,0,"));
  EXPECT_FALSE(runtime::decodeSchema("1,1:t0:1,1:c0:4:text0,0,0,0,0:9,0,0,0,0,"))
      << "a generation out of range is refused";
  EXPECT_FALSE(runtime::decodeSchema("1,1:t0:1,1:c0:4:text0,0,0,0,0:3,0,0,0,0,0,"));
  EXPECT_FALSE(runtime::decodeSchema("[1,2]"));
}

class CacheFilesTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("strata-cache-test", dir));
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }
  llvm::SmallString<128> dir;
};

TEST_F(CacheFilesTest, WrittenFilesAreReadBackAndDamagedOnesIgnored) {
  Compiled c = compileGateway();
  ASSERT_TRUE(c.project);
  planner::VersionGraph graph(*c.project);
  runtime::StatusFacts facts = runtime::StatusFacts::of(*c.project, graph);
  llvm::SmallString<128> sub(dir);
  llvm::sys::path::append(sub, "nested", "strata");
  runtime::StatusCache cache{std::string(sub)};
  std::string key(64, 'a');
  EXPECT_FALSE(cache.loadFacts(key));
  cache.saveFacts(key, facts); // creates the directories
  std::optional<runtime::StatusFacts> back = cache.loadFacts(key);
  ASSERT_TRUE(back);
  EXPECT_TRUE(*back == facts);
  EXPECT_FALSE(cache.loadFacts(std::string(64, 'b')));

  // A file renamed to another key, one cut short, one of garbage: all ignored.
  std::string other = std::string(64, 'c');
  ASSERT_FALSE(llvm::sys::fs::copy_file(cache.fileFor("facts", key), cache.fileFor("facts", other)));
  EXPECT_FALSE(cache.loadFacts(other));
  std::string text = (*llvm::MemoryBuffer::getFile(cache.fileFor("facts", key)))->getBuffer().str();
  std::ofstream(cache.fileFor("facts", key), std::ios::trunc) << text.substr(0, text.size() / 2);
  EXPECT_FALSE(cache.loadFacts(key));
  std::ofstream(cache.fileFor("facts", key), std::ios::trunc) << "\x01\x02 garbage";
  EXPECT_FALSE(cache.loadFacts(key));
  // Saved again over it.
  cache.saveFacts(key, facts);
  EXPECT_TRUE(cache.loadFacts(key));

  // Declared states, the same way.
  const compiler::Schema &state = c.project->at({0, c.project->subsystems[0].latest()}).state;
  cache.saveDeclared(key, state);
  std::optional<compiler::Schema> schema = cache.loadDeclared(key);
  ASSERT_TRUE(schema);
  EXPECT_TRUE(*schema == state);
  EXPECT_FALSE(cache.loadFacts(std::string(64, 'd')));
}

TEST_F(CacheFilesTest, AWriteThatCannotHappenIsIgnored) {
  // The cache directory is a file: nothing can be written below it.
  std::string file = std::string(dir) + "/not-a-directory";
  std::ofstream(file) << "x";
  runtime::StatusCache cache(file + "/strata");
  runtime::StatusFacts facts;
  facts.subsystems.push_back({"a", {{"1.0.0", "x", {}}}, 0});
  facts.order.push_back({0, 0});
  cache.saveFacts("k", facts);
  EXPECT_FALSE(cache.loadFacts("k"));
}

TEST(SourcesKeyTest, ChangesWithABytePathOrVersion) {
  auto key = [](const std::string &name, const std::string &text, const char *version) {
    llvm::SourceMgr sources;
    sources.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, name), llvm::SMLoc());
    return runtime::sourcesKey(sources, version);
  };
  std::string base = key("a.strata", "subsystem a {}", "0.1.0");
  EXPECT_EQ(base.size(), 64u);
  EXPECT_EQ(key("a.strata", "subsystem a {}", "0.1.0"), base);
  EXPECT_NE(key("a.strata", "subsystem a { }", "0.1.0"), base);
  EXPECT_NE(key("b.strata", "subsystem a {}", "0.1.0"), base);
  EXPECT_NE(key("a.strata", "subsystem a {}", "0.2.0"), base);
  // Length-prefixed parts: moving a byte from the name into the text changes the key.
  EXPECT_NE(key("a.strata", "subsystem a {}", "0.1.0"), key("a.strat", "asubsystem a {}", "0.1.0"));
}

TEST(CacheDirectoryTest, FollowsTheEnvironment) {
  const char *saved[] = {std::getenv("STRATA_CACHE_DIR"), std::getenv("XDG_CACHE_HOME"),
                         std::getenv("HOME")};
  std::string keep[3];
  for (int i = 0; i < 3; ++i)
    keep[i] = saved[i] ? saved[i] : "";
  setenv("STRATA_CACHE_DIR", "/x/cache", 1);
  EXPECT_EQ(runtime::defaultCacheDirectory(), "/x/cache");
  unsetenv("STRATA_CACHE_DIR");
  setenv("XDG_CACHE_HOME", "/x/xdg", 1);
  EXPECT_EQ(runtime::defaultCacheDirectory(), "/x/xdg/strata");
  unsetenv("XDG_CACHE_HOME");
  setenv("HOME", "/x/home", 1);
  EXPECT_EQ(runtime::defaultCacheDirectory(), "/x/home/.cache/strata");
  unsetenv("HOME");
  EXPECT_FALSE(runtime::defaultCacheDirectory());
  setenv("STRATA_NO_CACHE", "1", 1);
  EXPECT_TRUE(runtime::cacheDisabledByEnvironment());
  setenv("STRATA_NO_CACHE", "0", 1);
  EXPECT_FALSE(runtime::cacheDisabledByEnvironment());
  unsetenv("STRATA_NO_CACHE");
  const char *names[] = {"STRATA_CACHE_DIR", "XDG_CACHE_HOME", "HOME"};
  for (int i = 0; i < 3; ++i)
    if (saved[i])
      setenv(names[i], keep[i].c_str(), 1);
}

} // namespace
} // namespace strata
