// Plan rendering and the plan file: JSON round trip and strict reading (including 1000
// mutated files), what each rendering must and must not contain, the schema kept in sync
// with renderJson, and golden files of one representative plan under
// test/golden/plan/format/ (rewritten with STRATA_UPDATE_GOLDEN=1).
#include "planner/PlanFormat.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/JSON.h>
#include <llvm/Support/MemoryBuffer.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <random>
#include <set>

using namespace strata::planner;
using Json = nlohmann::ordered_json;

namespace {

NodeId node(std::string subsystem, std::string version, std::string checksum) {
  return {std::move(subsystem), std::move(version), std::move(checksum)};
}

Step step(std::string subsystem, std::string version, std::string reason, std::string sql,
          LockMode lock, std::vector<std::string> tables, std::string location) {
  Step s;
  s.subsystem = std::move(subsystem);
  s.version = std::move(version);
  s.reason = std::move(reason);
  s.sql = std::move(sql);
  s.lock = lock;
  s.lockTables = std::move(tables);
  s.location = std::move(location);
  return s;
}

/// Every flag, a backfill, a non-transactional step, a multi-statement step, two nodes,
/// errors and warnings with and without a location.
Plan representativePlan() {
  Plan p;
  p.phase = Phase::Up;
  p.from = {node("core", "1.0.0", "3f2a9c"), node("billing", "0.1.0", "77e1d0")};
  p.to = {node("core", "1.1.0", "9b0c4e"), node("billing", "0.2.0", "c41f08")};
  p.applies = p.to;

  p.steps.push_back(step("core", "1.1.0", "create table \"audit_log\"",
                         "CREATE TABLE \"audit_log\" (\"id\" bigint NOT NULL, \"at\" timestamptz "
                         "NOT NULL, CONSTRAINT \"audit_log_pkey\" PRIMARY KEY (\"id\"))",
                         LockMode::AccessExclusive, {"audit_log"}, "core.strata:12:3"));
  p.steps.push_back(step("core", "1.1.0",
                         "add column \"email\" to \"users\" (nullable first; NOT NULL comes after "
                         "the backfill)",
                         "ALTER TABLE \"users\" ADD COLUMN \"email\" text",
                         LockMode::AccessExclusive, {"users"}, "core.strata:20:5"));

  Step backfill = step("core", "1.1.0", "backfill \"users\" in batches",
                       "UPDATE \"users\" SET \"email\" = (lower(\"name\")) WHERE (\"id\") IN "
                       "(SELECT \"id\" FROM \"users\" WHERE (\"email\" IS NULL) ORDER BY \"id\" "
                       "LIMIT $1)",
                       LockMode::RowExclusive, {"users"}, "core.strata:20:5");
  backfill.scans = true;
  backfill.isBackfill = true;
  backfill.backfill = {
      "users", {"id"}, "\"email\" = (lower(\"name\"))", "(\"email\" IS NULL)", 500};
  p.steps.push_back(backfill);

  Step index = step("core", "1.1.0", "create index \"users_email_idx\" without blocking writes",
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"users_email_idx\" ON \"users\" "
                    "USING btree (\"email\")",
                    LockMode::ShareUpdateExclusive, {"users"}, "core.strata:22:5");
  index.transactional = false;
  index.scans = true;
  p.steps.push_back(index);

  Step retype = step("core", "1.1.0",
                     "change the type of \"users\".\"score\" in place (marked unsafe: small table)",
                     "ALTER TABLE \"users\" ALTER COLUMN \"score\" TYPE numeric USING "
                     "(\"score\"::numeric)",
                     LockMode::AccessExclusive, {"users"}, "core.strata:25:5");
  retype.scans = true;
  retype.rewrites = true;
  retype.unsafe = true;
  retype.lints = {"S104"};
  p.steps.push_back(retype);

  p.steps.push_back(step("billing", "0.2.0", "keep \"invoices\".\"total\" in sync for old nodes",
                         "CREATE OR REPLACE FUNCTION \"invoices_total_sync\"() RETURNS trigger "
                         "LANGUAGE plpgsql AS $strata$\nBEGIN\n  NEW.\"total\" := "
                         "NEW.\"amount\";\n  RETURN NEW;\nEND\n$strata$;\nDROP TRIGGER IF EXISTS "
                         "\"invoices_total_sync\" ON \"invoices\";\nCREATE TRIGGER "
                         "\"invoices_total_sync\" BEFORE INSERT OR UPDATE ON \"invoices\" FOR "
                         "EACH ROW EXECUTE FUNCTION \"invoices_total_sync\"()",
                         LockMode::ShareRowExclusive, {"invoices", "payments"},
                         "billing.strata:8:3"));

  Step drop = step("billing", "0.2.0", "drop column \"legacy_ref\" of \"invoices\"",
                   "ALTER TABLE \"invoices\" DROP COLUMN \"legacy_ref\"", LockMode::AccessExclusive,
                   {"invoices"}, "billing.strata:11:3");
  drop.destroys = true;
  drop.unsafe = true;
  p.steps.push_back(drop);

  p.findings.push_back({"S104", false,
                        "changing the type of \"users\".\"score\" rewrites the table under an "
                        "ACCESS EXCLUSIVE lock",
                        "core.strata:25:5"});
  p.findings.push_back({"C201", true,
                        "old nodes write \"invoices\".\"legacy_ref\", which this version drops; "
                        "drop it in a version after the old nodes are gone",
                        "billing.strata:11:3"});
  p.findings.push_back({"S190", false, "the plan holds ACCESS EXCLUSIVE on 2 tables", ""});
  return p;
}

std::string errorText(llvm::Expected<Plan> result) {
  if (result)
    return "(no error)";
  return llvm::toString(result.takeError());
}

std::string renderedWith(const std::function<void(Json &)> &mutate) {
  Json j = Json::parse(renderJson(representativePlan()));
  mutate(j);
  return j.dump(2);
}

} // namespace

// --- JSON round trip and strict reading -------------------------------------------------

TEST(PlanFormat, JsonRoundTrip) {
  Plan p = representativePlan();
  llvm::Expected<Plan> back = readJson(renderJson(p));
  ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(*back, p);
}

TEST(PlanFormat, JsonRoundTripOfEveryPhaseAndLockMode) {
  for (Phase phase : {Phase::Up, Phase::Finish, Phase::Bootstrap})
    for (LockMode lock :
         {LockMode::None, LockMode::AccessShare, LockMode::RowShare, LockMode::RowExclusive,
          LockMode::ShareUpdateExclusive, LockMode::Share, LockMode::ShareRowExclusive,
          LockMode::Exclusive, LockMode::AccessExclusive}) {
      Plan p;
      p.phase = phase;
      Step s = step("s", "1", "r", "SELECT 1", lock, {}, "");
      s.phase = phase;
      p.steps.push_back(s);
      llvm::Expected<Plan> back = readJson(renderJson(p));
      ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
      EXPECT_EQ(*back, p) << phaseName(phase) << " " << lockModeName(lock);
    }
}

TEST(PlanFormat, JsonRoundTripOfEdgeCases) {
  Plan empty;
  llvm::Expected<Plan> back = readJson(renderJson(empty));
  ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(*back, empty);

  // A keyless backfill runs as one UPDATE: not batched, but its fields are kept.
  Plan keyless;
  Step s = step("core", "2", "backfill \"t\"", "UPDATE \"t\" SET \"a\" = 1 WHERE true",
                LockMode::RowExclusive, {"t"}, "x.strata:1:1");
  s.backfill = {"t", {}, "\"a\" = 1", "true", 0};
  s.lints = {"S110"};
  keyless.steps.push_back(s);
  // Quotes, backslashes, control characters and non-ASCII survive.
  keyless.findings.push_back({"S110", false, "tab\there \"q\" \\ é ✓ \x01", "a b.strata:1:2"});
  back = readJson(renderJson(keyless));
  ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(*back, keyless);
}

TEST(PlanFormat, JsonHeaderAndShape) {
  Json j = Json::parse(renderJson(representativePlan()));
  EXPECT_EQ(j["format"], "strata-plan");
  EXPECT_EQ(j["formatVersion"], 1);
  EXPECT_EQ(j.begin().key(), "format");
  EXPECT_EQ(j["steps"][0]["lock"], "ACCESS EXCLUSIVE");
  EXPECT_EQ(j["steps"][0]["phase"], "up");
  EXPECT_TRUE(j["steps"][0]["backfill"].is_null());
  EXPECT_EQ(j["steps"][2]["backfill"]["batchSize"], 500);
  std::string text = renderJson(representativePlan());
  EXPECT_EQ(text.substr(0, 4), "{\n  ");
  EXPECT_EQ(text.back(), '\n');

  Plan noLock;
  noLock.steps.push_back(step("s", "1", "r", "SELECT 1", LockMode::None, {}, ""));
  EXPECT_TRUE(Json::parse(renderJson(noLock))["steps"][0]["lock"].is_null());
}

struct Rejection {
  const char *name;
  std::function<std::string()> input;
  std::string message;
};

TEST(PlanFormat, ReadJsonRejectsWithOneLineNamingTheField) {
  std::string valid = renderJson(representativePlan());
  std::vector<Rejection> cases = {
      {"empty", [] { return std::string(); }, "plan file: not valid JSON: "},
      {"truncated", [&] { return valid.substr(0, valid.size() / 2); },
       "plan file: not valid JSON: "},
      {"trailing", [&] { return valid + "x"; }, "plan file: not valid JSON: "},
      {"array", [] { return std::string("[]"); },
       "plan file: expected a JSON object, got an array"},
      {"deeply nested", [] { return std::string(100000, '[') + std::string(100000, ']'); },
       "plan file: expected a JSON object, got an array"},
      {"number overflow", [] { return std::string("{\"formatVersion\": 1e400}"); },
       "plan file: not valid JSON: "},
      {"invalid UTF-8", [] { return std::string("{\"format\": \"\xff\"}"); },
       "plan file: not valid JSON: "},
      {"no format", [] { return std::string("{}"); },
       "plan file: missing field \"format\": not a strata plan file"},
      {"other format", [] { return renderedWith([](Json &j) { j["format"] = "atlas-plan"; }); },
       "plan file: format: expected \"strata-plan\", got \"atlas-plan\""},
      {"version 2", [] { return renderedWith([](Json &j) { j["formatVersion"] = 2; }); },
       "plan file: formatVersion: unsupported version 2: this strata reads version 1"},
      {"version string", [] { return renderedWith([](Json &j) { j["formatVersion"] = "1"; }); },
       "plan file: formatVersion: expected an integer, got a string"},
      {"version missing", [] { return renderedWith([](Json &j) { j.erase("formatVersion"); }); },
       "plan file: missing field \"formatVersion\""},
      {"unknown phase", [] { return renderedWith([](Json &j) { j["phase"] = "down"; }); },
       "plan file: phase: unknown phase \"down\""},
      {"unknown lock",
       [] { return renderedWith([](Json &j) { j["steps"][3]["lock"] = "SHARED"; }); },
       "plan file: steps[3].lock: unknown lock mode \"SHARED\""},
      {"empty lock", [] { return renderedWith([](Json &j) { j["steps"][3]["lock"] = ""; }); },
       "plan file: steps[3].lock: unknown lock mode \"\""},
      {"lock number", [] { return renderedWith([](Json &j) { j["steps"][0]["lock"] = 8; }); },
       "plan file: steps[0].lock: expected a lock mode or null, got a number"},
      {"step phase", [] { return renderedWith([](Json &j) { j["steps"][1]["phase"] = "Up"; }); },
       "plan file: steps[1].phase: unknown phase \"Up\""},
      {"bool as string",
       [] { return renderedWith([](Json &j) { j["steps"][1]["scans"] = "yes"; }); },
       "plan file: steps[1].scans: expected a boolean, got a string"},
      {"missing field", [] { return renderedWith([](Json &j) { j["steps"][0].erase("reason"); }); },
       "plan file: steps[0]: missing field \"reason\""},
      {"unknown field", [] { return renderedWith([](Json &j) { j["steps"][2]["retries"] = 3; }); },
       "plan file: steps[2]: unknown field \"retries\""},
      {"unknown top-level field", [] { return renderedWith([](Json &j) { j["extra"] = true; }); },
       "plan file: unknown field \"extra\""},
      {"finding error as number",
       [] { return renderedWith([](Json &j) { j["findings"][1]["error"] = 1; }); },
       "plan file: findings[1].error: expected a boolean, got a number"},
      {"null checksum",
       [] { return renderedWith([](Json &j) { j["from"][0]["checksum"] = nullptr; }); },
       "plan file: from[0].checksum: expected a string, got null"},
      {"steps not array", [] { return renderedWith([](Json &j) { j["steps"] = "x"; }); },
       "plan file: steps: expected an array, got a string"},
      {"step not object", [] { return renderedWith([](Json &j) { j["steps"][4] = 4; }); },
       "plan file: steps[4]: expected an object, got a number"},
      {"negative batch",
       [] { return renderedWith([](Json &j) { j["steps"][2]["backfill"]["batchSize"] = -1; }); },
       "plan file: steps[2].backfill.batchSize: expected 0 (the default) or a positive size, "
       "got -1"},
      {"fractional batch",
       [] { return renderedWith([](Json &j) { j["steps"][2]["backfill"]["batchSize"] = 1.5; }); },
       "plan file: steps[2].backfill.batchSize: expected an integer, got a number"},
      {"huge batch",
       [] {
         return renderedWith([](Json &j) { j["steps"][2]["backfill"]["batchSize"] = UINT64_MAX; });
       },
       "plan file: steps[2].backfill.batchSize: integer out of range: 18446744073709551615"},
      {"key column number",
       [] { return renderedWith([](Json &j) { j["steps"][2]["backfill"]["keyColumns"][0] = 1; }); },
       "plan file: steps[2].backfill.keyColumns[0]: expected a string, got a number"},
      {"backfill string",
       [] { return renderedWith([](Json &j) { j["steps"][2]["backfill"] = "users"; }); },
       "plan file: steps[2].backfill: expected an object, got a string"},
  };
  for (const Rejection &c : cases) {
    std::string message = errorText(readJson(c.input()));
    if (llvm::StringRef(c.message).endswith(": "))
      EXPECT_TRUE(llvm::StringRef(message).startswith(c.message)) << c.name << ": " << message;
    else
      EXPECT_EQ(message, c.message) << c.name;
    EXPECT_EQ(message.find('\n'), std::string::npos) << c.name << ": " << message;
    EXPECT_TRUE(llvm::json::isUTF8(message)) << c.name << ": " << message;
  }
}

TEST(PlanFormat, ReadJsonQuotesHostileValuesOnOneLine) {
  std::string message = errorText(readJson(renderedWith(
      [](Json &j) { j["steps"][0]["lock"] = "EXCLUSIVE\n\x1b[31m" + std::string(200, 'x'); })));
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(message.find('\x1b'), std::string::npos) << message;
  EXPECT_LT(message.size(), 150u) << message;
}

namespace {

/// A random value of any JSON type, biased towards the values the reader tests for.
Json randomValue(std::mt19937 &rng) {
  switch (rng() % 12) {
  case 0:
    return nullptr;
  case 1:
    return rng() % 2 == 0;
  case 2:
    return static_cast<int64_t>(rng() % 5) - 2;
  case 3:
    return 1.5;
  case 4:
    return "";
  case 5:
    return "SHARED";
  case 6:
    return "up";
  case 7:
    return "ACCESS EXCLUSIVE";
  case 8:
    return Json::array();
  case 9:
    return Json::object();
  case 10:
    return UINT64_MAX;
  default:
    return Json::array({1, "x"});
  }
}

/// Walks from the root to a random descendant and changes, removes or adds something there.
void mutateStructure(Json &root, std::mt19937 &rng) {
  Json *at = &root;
  while ((at->is_object() || at->is_array()) && !at->empty() && rng() % 4 != 0) {
    size_t i = rng() % at->size();
    auto it = at->begin();
    std::advance(it, i);
    at = &*it;
  }
  if (at->is_object() && !at->empty() && rng() % 2 == 0) {
    auto it = at->begin();
    std::advance(it, rng() % at->size());
    at->erase(it.key());
    return;
  }
  if (at->is_object() && rng() % 2 == 0) {
    (*at)["mutant"] = randomValue(rng);
    return;
  }
  if (at->is_array() && rng() % 2 == 0) {
    at->push_back(randomValue(rng));
    return;
  }
  *at = randomValue(rng);
}

void mutateBytes(std::string &text, std::mt19937 &rng) {
  if (text.empty()) {
    text = "{";
    return;
  }
  size_t pos = rng() % text.size();
  switch (rng() % 5) {
  case 0:
    text[pos] = static_cast<char>(rng() % 256);
    return;
  case 1:
    text.erase(pos, 1 + rng() % 16);
    return;
  case 2:
    text.insert(pos, 1, "{}[]\",:0-e.tfn\\"[rng() % 15]);
    return;
  case 3:
    text.insert(pos, text.substr(rng() % text.size(), 1 + rng() % 32));
    return;
  default:
    text.resize(pos);
    return;
  }
}

} // namespace

TEST(PlanFormat, ReadJsonSurvivesMutatedFiles) {
  std::mt19937 rng(20240601);
  const std::string valid = renderJson(representativePlan());
  const Json validJson = Json::parse(valid);
  int accepted = 0;
  for (int i = 0; i < 1000; ++i) {
    std::string input;
    if (i % 2 == 0) {
      input = valid;
      for (unsigned n = 1 + rng() % 3; n; --n)
        mutateBytes(input, rng);
    } else {
      Json j = validJson;
      for (unsigned n = 1 + rng() % 3; n; --n)
        mutateStructure(j, rng);
      input = j.dump(2);
    }
    llvm::Expected<Plan> result = readJson(input);
    if (!result) {
      std::string message = llvm::toString(result.takeError());
      EXPECT_TRUE(llvm::StringRef(message).startswith("plan file: ")) << i << ": " << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << i << ": " << message;
      EXPECT_TRUE(llvm::json::isUTF8(message)) << i << ": " << message;
      continue;
    }
    ++accepted;
    // Whatever reads must render, and read back as itself.
    (void)renderText(*result, {true});
    (void)renderSql(*result);
    (void)renderMarkdown(*result);
    llvm::Expected<Plan> again = readJson(renderJson(*result));
    ASSERT_TRUE(bool(again)) << i << ": " << llvm::toString(again.takeError());
    EXPECT_EQ(*again, *result) << i;
  }
  // Most mutations must be caught, and some (whitespace, string content) are harmless.
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, 500);
}

// --- schema -----------------------------------------------------------------------------

namespace {

Json loadSchema() {
  auto buffer = llvm::MemoryBuffer::getFile(STRATA_SOURCE_DIR "/schemas/plan.schema.json");
  if (!buffer)
    return nullptr;
  return Json::parse((*buffer)->getBuffer().str(), nullptr, false);
}

/// The definition a `{"$ref": "#/$defs/x"}` points at, or \p schema itself.
const Json &resolve(const Json &root, const Json &schema) {
  if (!schema.is_object() || !schema.contains("$ref"))
    return schema;
  std::string ref = schema["$ref"].get<std::string>();
  return root.at(Json::json_pointer(ref.substr(1)));
}

std::vector<std::string> keysOf(const Json &object) {
  std::vector<std::string> out;
  for (auto it = object.begin(); it != object.end(); ++it)
    out.push_back(it.key());
  return out;
}

/// The schema's properties and required list both name exactly the keys renderJson writes.
void expectSameKeys(const Json &definition, const Json &emitted, const std::string &what) {
  ASSERT_TRUE(definition.is_object()) << what;
  ASSERT_TRUE(definition.contains("properties")) << what;
  std::vector<std::string> keys = keysOf(emitted);
  std::vector<std::string> properties = keysOf(definition["properties"]);
  EXPECT_EQ(std::set<std::string>(properties.begin(), properties.end()),
            std::set<std::string>(keys.begin(), keys.end()))
      << what;
  ASSERT_TRUE(definition.contains("required")) << what;
  EXPECT_EQ(definition["required"].get<std::vector<std::string>>(), keys)
      << what << ": required lists the keys in the order renderJson writes them";
  EXPECT_EQ(definition.value("additionalProperties", true), false) << what;
}

} // namespace

TEST(PlanFormat, SchemaMatchesRenderJson) {
  Json schema = loadSchema();
  ASSERT_TRUE(schema.is_object()) << "schemas/plan.schema.json missing or not JSON";
  EXPECT_EQ(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
  Json emitted = Json::parse(renderJson(representativePlan()));
  expectSameKeys(schema, emitted, "plan");

  const Json &props = schema["properties"];
  const Json &stepSchema = resolve(schema, props["steps"]["items"]);
  expectSameKeys(stepSchema, emitted["steps"][2], "step");
  for (const char *list : {"from", "to", "applies"})
    expectSameKeys(resolve(schema, props[list]["items"]), emitted[list][0], list);
  expectSameKeys(resolve(schema, props["findings"]["items"]), emitted["findings"][0], "finding");

  const Json *backfill = nullptr;
  for (const Json &alternative : stepSchema["properties"]["backfill"]["anyOf"])
    if (resolve(schema, alternative).value("type", "") == "object")
      backfill = &resolve(schema, alternative);
  ASSERT_TRUE(backfill) << "step.backfill allows no object";
  expectSameKeys(*backfill, emitted["steps"][2]["backfill"], "backfill");

  EXPECT_EQ(props["format"]["const"], "strata-plan");
  EXPECT_EQ(props["formatVersion"]["const"], planFormatVersion);

  std::vector<Json> phases;
  for (Phase p : {Phase::Up, Phase::Finish, Phase::Bootstrap})
    phases.push_back(phaseName(p));
  EXPECT_EQ(resolve(schema, props["phase"])["enum"].get<std::vector<Json>>(), phases);
  EXPECT_EQ(resolve(schema, stepSchema["properties"]["phase"])["enum"].get<std::vector<Json>>(),
            phases);

  std::vector<Json> locks = {nullptr};
  for (LockMode m : {LockMode::AccessShare, LockMode::RowShare, LockMode::RowExclusive,
                     LockMode::ShareUpdateExclusive, LockMode::Share, LockMode::ShareRowExclusive,
                     LockMode::Exclusive, LockMode::AccessExclusive, LockMode::Unknown})
    locks.push_back(lockModeName(m));
  EXPECT_EQ(resolve(schema, stepSchema["properties"]["lock"])["enum"].get<std::vector<Json>>(),
            locks);
}

// --- SQL --------------------------------------------------------------------------------

namespace {

/// The text of each `-- step N:` section of a SQL rendering.
std::vector<std::string> sqlSections(const std::string &sql) {
  std::vector<std::string> out;
  size_t at = sql.find("\n-- step ");
  while (at != std::string::npos) {
    size_t next = sql.find("\n-- step ", at + 1);
    out.push_back(sql.substr(at + 1, next == std::string::npos ? std::string::npos : next - at));
    at = next;
  }
  return out;
}

std::vector<std::string> codeLines(const std::string &section) {
  std::vector<std::string> out;
  llvm::SmallVector<llvm::StringRef, 32> lines;
  llvm::StringRef(section).split(lines, '\n', -1, false);
  for (llvm::StringRef line : lines)
    if (!line.startswith("--"))
      out.push_back(line.str());
  return out;
}

} // namespace

TEST(PlanFormat, SqlWrapsTransactionalStepsOnly) {
  Plan p = representativePlan();
  std::string sql = renderSql(p);
  std::vector<std::string> sections = sqlSections(sql);
  ASSERT_EQ(sections.size(), p.steps.size());
  for (size_t i = 0; i < sections.size(); ++i) {
    const std::string &s = sections[i];
    SCOPED_TRACE(s);
    EXPECT_TRUE(llvm::StringRef(s).startswith(fmt::format("-- step {}: ", i + 1)));
    std::vector<std::string> lines = codeLines(s);
    ASSERT_FALSE(lines.empty());
    if (p.steps[i].transactional) {
      EXPECT_EQ(lines.front(), "BEGIN;");
      EXPECT_EQ(lines[1], "SET LOCAL lock_timeout = '1s';");
      EXPECT_EQ(lines.back(), "COMMIT;");
      EXPECT_EQ(s.find("-- non-transactional"), std::string::npos);
    } else {
      EXPECT_EQ(s.find("BEGIN;"), std::string::npos);
      EXPECT_EQ(s.find("COMMIT;"), std::string::npos);
      EXPECT_NE(s.find("-- non-transactional: runs outside a transaction block\n"),
                std::string::npos);
    }
    // Every statement is terminated: the last code line before COMMIT (or the end) ends
    // with `;`.
    size_t last = p.steps[i].transactional ? lines.size() - 2 : lines.size() - 1;
    EXPECT_TRUE(llvm::StringRef(lines[last]).endswith(";")) << lines[last];
    EXPECT_FALSE(llvm::StringRef(lines[last]).endswith(";;")) << lines[last];
  }
  EXPECT_TRUE(llvm::StringRef(sql).startswith("-- strata plan: up\n"));
  EXPECT_NE(sql.find("do not edit"), std::string::npos);
}

TEST(PlanFormat, SqlRunsABackfillAsOneStatement) {
  Plan p = representativePlan();
  std::vector<std::string> sections = sqlSections(renderSql(p));
  const std::string &backfill = sections[2];
  std::vector<std::string> lines = codeLines(backfill);
  ASSERT_EQ(lines.size(), 4u) << backfill;
  EXPECT_EQ(lines[2],
            "UPDATE \"users\" SET \"email\" = (lower(\"name\")) WHERE (\"email\" IS NULL);");
  // The batch template is shown, as a comment: $1 has no value in psql.
  EXPECT_NE(backfill.find("--   UPDATE \"users\" SET"), std::string::npos);
  for (const std::string &line : lines)
    EXPECT_EQ(line.find("$1"), std::string::npos) << line;
  EXPECT_NE(backfill.find("batches of 500 rows keyed on \"id\""), std::string::npos);
}

TEST(PlanFormat, SqlCommentsCannotSmuggleStatements) {
  Plan p;
  p.steps.push_back(step("core", "1", "innocent\nDROP TABLE \"users\"; --", "SELECT 1",
                         LockMode::None, {}, "x.strata:1:1\rDROP TABLE \"orders\";"));
  Step backfill = step("core", "1", "fill", "UPDATE \"t\" SET a = 1\rDROP TABLE \"t\";",
                       LockMode::RowExclusive, {"t"}, "");
  backfill.isBackfill = true;
  backfill.backfill = {"t", {"id"}, "a = 1", "true", 0};
  p.steps.push_back(backfill);
  p.findings.push_back({"S101", false, "warn\nDROP TABLE \"x\";", ""});
  std::string sql = renderSql(p);
  // PostgreSQL ends a `--` comment at \n or \r.
  for (char &c : sql)
    if (c == '\r')
      c = '\n';
  llvm::SmallVector<llvm::StringRef, 32> lines;
  llvm::StringRef(sql).split(lines, '\n');
  for (llvm::StringRef line : lines)
    EXPECT_FALSE(line.startswith("DROP")) << sql;
}

TEST(PlanFormat, SqlOfAPlanWithErrorsStopsPsql) {
  Plan p = representativePlan();
  std::string sql = renderSql(p);
  size_t quit = sql.find("\n\\quit\n");
  ASSERT_NE(quit, std::string::npos);
  EXPECT_LT(quit, sql.find("\n-- step 1:"));

  p.findings.erase(p.findings.begin() + 1); // the error
  EXPECT_EQ(renderSql(p).find("\\quit"), std::string::npos);
}

// --- text -------------------------------------------------------------------------------

TEST(PlanFormat, TextColourOnlyWhenAsked) {
  Plan p = representativePlan();
  std::string plain = renderText(p, {false});
  std::string coloured = renderText(p, {true});
  EXPECT_EQ(plain.find('\x1b'), std::string::npos);
  EXPECT_NE(coloured.find('\x1b'), std::string::npos);
  EXPECT_NE(coloured.find("\x1b[1;31m[DESTROYS DATA]\x1b[0m"), std::string::npos);
  EXPECT_NE(coloured.find("\x1b[1;31m[UNSAFE]\x1b[0m"), std::string::npos);
  EXPECT_NE(coloured.find("\x1b[31merror[C201]:\x1b[0m"), std::string::npos);
  EXPECT_NE(coloured.find("\x1b[33mwarning[S104]:\x1b[0m"), std::string::npos);
}

TEST(PlanFormat, TextShowsEveryFlagLocationAndSummary) {
  std::string text = renderText(representativePlan(), {false});
  for (const char *tag : {"[non-transactional]", "[scans]", "[rewrites]", "[DESTROYS DATA]",
                          "[backfill]", "[UNSAFE]", "[S104]"})
    EXPECT_NE(text.find(tag), std::string::npos) << tag;
  EXPECT_TRUE(llvm::StringRef(text).startswith(
      "plan up: core@1.0.0, billing@0.1.0 → core@1.1.0, billing@0.2.0\n"));
  EXPECT_NE(text.find("\ncore@1.1.0\n  1. create table \"audit_log\"\n"), std::string::npos);
  EXPECT_NE(text.find("\nbilling@0.2.0\n  6. "), std::string::npos);
  EXPECT_NE(text.find("    lock: ACCESS EXCLUSIVE on \"audit_log\" (brief)\n"), std::string::npos);
  EXPECT_NE(text.find("    lock: SHARE ROW EXCLUSIVE on \"invoices\", \"payments\" (brief)\n"),
            std::string::npos);
  EXPECT_NE(text.find("    at core.strata:12:3\n      CREATE TABLE"), std::string::npos);
  EXPECT_NE(text.find("error[C201]: old nodes write"), std::string::npos);
  EXPECT_NE(text.find("warning[S104]: changing"), std::string::npos);
  EXPECT_TRUE(llvm::StringRef(text).endswith(
      "\n7 steps, 1 non-transactional, 1 destructive; 1 error, 2 warnings\n"))
      << text;
}

TEST(PlanFormat, TextNeverPassesControlCharactersThrough) {
  Plan p;
  p.steps.push_back(
      step("core", "1", "evil \x1b]0;title\x07", "SELECT '\x1b[2J'", LockMode::None, {}, ""));
  std::string text = renderText(p, {false});
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_EQ(text.find('\x07'), std::string::npos) << text;
  EXPECT_NE(text.find("evil ^[]0;title^G"), std::string::npos) << text;
}

// --- Markdown ---------------------------------------------------------------------------

TEST(PlanFormat, MarkdownHasTablesSectionsAndSql) {
  std::string md = renderMarkdown(representativePlan());
  EXPECT_NE(md.find("| # | node | phase | lock | tables | flags | reason |\n|---|"),
            std::string::npos);
  EXPECT_NE(md.find("### Destructive steps\n\n- **7.** billing@0.2.0: drop column"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("### Findings\n"), std::string::npos);
  EXPECT_NE(md.find("**error C201** `billing.strata:11:3`"), std::string::npos) << md;
  EXPECT_NE(md.find("| locks held | ACCESS EXCLUSIVE on \"audit_log\", \"users\", "
                    "\"invoices\"<br>SHARE ROW EXCLUSIVE"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("<details><summary>1. core@1.1.0: create table &quot;audit_log&quot;"
                    "</summary>\n\n```sql\nCREATE TABLE"),
            std::string::npos)
      << md;
  EXPECT_EQ(md.find("### Destructive steps"), md.rfind("### Destructive steps"));
}

TEST(PlanFormat, MarkdownSurvivesPipesAndBackticks) {
  Plan p;
  p.steps.push_back(step("core", "1", "a | b `c`", "SELECT '```'", LockMode::None, {}, ""));
  std::string md = renderMarkdown(p);
  EXPECT_NE(md.find("| a \\| b \\`c\\` |"), std::string::npos) << md;
  EXPECT_NE(md.find("````sql\nSELECT '```'\n````"), std::string::npos) << md;
}

// --- empty plans and determinism --------------------------------------------------------

TEST(PlanFormat, EmptyPlanSaysNothingToDo) {
  for (Phase phase : {Phase::Up, Phase::Finish, Phase::Bootstrap}) {
    Plan p;
    p.phase = phase;
    std::string line = nothingToDo(p);
    EXPECT_TRUE(llvm::StringRef(line).startswith("nothing to do: "));
    EXPECT_NE(renderText(p, {false}).find("\n" + line + "\n"), std::string::npos);
    EXPECT_NE(renderSql(p).find("\n-- " + line + "\n"), std::string::npos);
    EXPECT_NE(renderMarkdown(p).find("\n" + line + "\n"), std::string::npos);
  }
  EXPECT_EQ(renderText(Plan{}, {false}),
            "plan up: (empty database) → (nothing)\nnothing to do: the database is up to date\n");
  EXPECT_EQ(nothingToDo(Plan{}), "nothing to do: the database is up to date");
}

TEST(PlanFormat, AnUpWithoutStepsButNewVersionsIsNotUpToDate) {
  // Versions whose up is empty and whose finish drops something: 'apply up' records them
  // and finish waits for that; "up to date" would tell the reader there is nothing to run.
  Plan p;
  p.phase = Phase::Up;
  p.from = {node("core", "1.0.0", "a")};
  p.to = {node("core", "1.1.0", "b")};
  p.applies = {node("core", "1.1.0", "b")};
  std::string line = nothingToDo(p);
  EXPECT_EQ(line, "no step in up: core@1.1.0 changes nothing until finish; 'strata apply up' "
                  "records it, then 'strata apply finish' runs the rest");
  EXPECT_NE(renderText(p, {false}).find("\n" + line + "\n"), std::string::npos);
  EXPECT_NE(renderSql(p).find("\n-- " + line + "\n"), std::string::npos);
  EXPECT_NE(renderMarkdown(p).find("\n" + line + "\n"), std::string::npos);
  EXPECT_EQ(renderText(p, {false}).find("up to date"), std::string::npos);
  // A plan that errors block cannot be applied: the line says so instead.
  Finding error;
  error.code = "C204";
  error.error = true;
  p.findings.push_back(error);
  EXPECT_EQ(nothingToDo(p), "no step in up for core@1.1.0, and the errors below block the plan");
}

TEST(PlanFormat, HeaderShortensALongHistoryAndJsonKeepsIt) {
  // A database 100 versions into core: the header names its first and last, not all 100.
  Plan p;
  for (int v = 0; v < 100; ++v)
    p.from.push_back(node("core", "1." + std::to_string(v) + ".0", "c" + std::to_string(v)));
  p.from.push_back(node("plugin", "1.0.0", "a"));
  p.from.push_back(node("plugin", "1.1.0", "b"));
  p.to = {node("core", "1.100.0", "d")};
  std::string text = renderText(p, {false});
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "plan up: core@1.0.0 … core@1.99.0 (100 versions), plugin@1.0.0, plugin@1.1.0 → "
            "core@1.100.0");
  EXPECT_NE(renderSql(p).find("core@1.0.0 … core@1.99.0 (100 versions)"), std::string::npos);
  EXPECT_NE(renderMarkdown(p).find("core@1.0.0 … core@1.99.0 (100 versions)"), std::string::npos);
  llvm::Expected<Plan> back = readJson(renderJson(p));
  ASSERT_TRUE(static_cast<bool>(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(back->from.size(), 102u);
}

TEST(PlanFormat, RenderingsAreDeterministic) {
  Plan a = representativePlan(), b = representativePlan();
  EXPECT_EQ(renderText(a, {true}), renderText(b, {true}));
  EXPECT_EQ(renderSql(a), renderSql(b));
  EXPECT_EQ(renderMarkdown(a), renderMarkdown(b));
  EXPECT_EQ(renderJson(a), renderJson(b));
}

// --- golden files -----------------------------------------------------------------------

namespace {
struct GoldenCase {
  const char *file;
  std::function<std::string(const Plan &)> render;
};

void PrintTo(const GoldenCase &c, std::ostream *os) { *os << c.file; }

class GoldenFormat : public testing::TestWithParam<GoldenCase> {};
} // namespace

TEST_P(GoldenFormat, MatchesExpected) {
  std::string actual = GetParam().render(representativePlan());
  std::string path = std::string(STRATA_SOURCE_DIR "/test/golden/plan/format/") + GetParam().file;
  if (std::getenv("STRATA_UPDATE_GOLDEN")) {
    std::ofstream(path, std::ios::binary) << actual;
    GTEST_SKIP() << "rewrote " << path;
  }
  auto expected = llvm::MemoryBuffer::getFile(path);
  ASSERT_TRUE(bool(expected)) << "missing " << path << " (run with STRATA_UPDATE_GOLDEN=1)";
  EXPECT_EQ((*expected)->getBuffer().str(), actual);
}

INSTANTIATE_TEST_SUITE_P(
    Representative, GoldenFormat,
    testing::Values(GoldenCase{"plan.txt", [](const Plan &p) { return renderText(p, {false}); }},
                    GoldenCase{"plan.sql", renderSql}, GoldenCase{"plan.md", renderMarkdown},
                    GoldenCase{"plan.json", renderJson}),
    [](const testing::TestParamInfo<GoldenCase> &info) {
      std::string name = info.param.file;
      for (char &c : name)
        if (!isalnum(static_cast<unsigned char>(c)))
          c = '_';
      return name;
    });

// A plan file written by this version keeps reading as the same plan.
TEST(PlanFormat, GoldenJsonReadsBack) {
  auto buffer = llvm::MemoryBuffer::getFile(STRATA_SOURCE_DIR "/test/golden/plan/format/plan.json");
  ASSERT_TRUE(bool(buffer));
  llvm::Expected<Plan> plan = readJson((*buffer)->getBuffer());
  ASSERT_TRUE(bool(plan)) << llvm::toString(plan.takeError());
  EXPECT_EQ(*plan, representativePlan());
}
