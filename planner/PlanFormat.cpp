#include "planner/PlanFormat.h"

#include "planner/Sql.h"

#include <fmt/format.h>
#include <llvm/ADT/STLExtras.h>
#include <llvm/ADT/SmallVector.h>
#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/ConvertUTF.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>

namespace strata::planner {

namespace {

// --- shared pieces ----------------------------------------------------------------------

std::string nodeName(const std::string &subsystem, const std::string &version) {
  return subsystem + "@" + version;
}

std::string nodeList(const std::vector<NodeId> &nodes, llvm::StringRef ifEmpty) {
  if (nodes.empty())
    return ifEmpty.str();
  std::string out;
  for (size_t i = 0; i < nodes.size(); ++i)
    out += (i ? ", " : "") + nodeName(nodes[i].subsystem, nodes[i].version);
  return out;
}

/// The executed versions a plan starts from, for a header: a subsystem with more than two
/// is shown as its first and last, and how many (`core@1.0.0 … core@1.99.0 (100
/// versions)`); the JSON form lists them all. A database with a long history otherwise
/// made the header thousands of names long.
std::string fromList(const std::vector<NodeId> &nodes) {
  if (nodes.empty())
    return "(empty database)";
  std::string out;
  for (size_t i = 0; i < nodes.size();) {
    size_t end = i + 1;
    while (end < nodes.size() && nodes[end].subsystem == nodes[i].subsystem)
      ++end;
    out += out.empty() ? "" : ", ";
    if (end - i > 2)
      out += fmt::format("{} … {} ({} versions)", nodeName(nodes[i].subsystem, nodes[i].version),
                         nodeName(nodes[end - 1].subsystem, nodes[end - 1].version), end - i);
    else
      for (size_t j = i; j < end; ++j)
        out += (j > i ? ", " : "") + nodeName(nodes[j].subsystem, nodes[j].version);
    i = end;
  }
  return out;
}

std::string plural(size_t n, llvm::StringRef noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

struct Counts {
  size_t steps = 0, nonTransactional = 0, destructive = 0, errors = 0, warnings = 0;
};

Counts count(const Plan &plan) {
  Counts c;
  c.steps = plan.steps.size();
  for (const Step &s : plan.steps) {
    c.nonTransactional += !s.transactional;
    c.destructive += s.destroys;
  }
  for (const Finding &f : plan.findings)
    (f.error ? c.errors : c.warnings)++;
  return c;
}

/// How long a step holds its lock: what a reviewer weighs against the table's traffic.
const char *lockDuration(const Step &step) {
  if (step.isBackfill)
    return "per batch";
  if (step.rewrites)
    return "during the rewrite";
  if (step.scans)
    return "during the scan";
  return "brief";
}

/// `ACCESS EXCLUSIVE on "users", "orders" (brief)`, or `none`.
std::string lockSummary(const Step &step) {
  if (step.lock == LockMode::None)
    return "none";
  if (step.lock == LockMode::Unknown)
    return "unknown: raw SQL that strata cannot classify; read it and assume the worst" +
           (step.lockTables.empty() ? std::string()
                                    : " on " + sql::identList(step.lockTables));
  std::string out = lockModeName(step.lock);
  if (!step.lockTables.empty())
    out += " on " + sql::identList(step.lockTables);
  return out + " (" + lockDuration(step) + ")";
}

/// A flag shown next to a step; alarming ones are what a reviewer must not miss.
struct Flag {
  const char *text;
  bool alarming;
};

llvm::SmallVector<Flag, 6> flags(const Step &step) {
  llvm::SmallVector<Flag, 6> out;
  if (!step.transactional)
    out.push_back({"non-transactional", false});
  if (step.scans)
    out.push_back({"scans", false});
  if (step.rewrites)
    out.push_back({"rewrites", false});
  if (step.destroys)
    out.push_back({"DESTROYS DATA", true});
  if (step.isBackfill)
    out.push_back({"backfill", false});
  if (step.unsafe)
    out.push_back({"UNSAFE", true});
  return out;
}

std::string batchDescription(const Backfill &backfill) {
  std::string size = backfill.batchSize > 0 ? fmt::format("{} rows", backfill.batchSize)
                                            : std::string("the default size");
  std::string out = "batches of " + size;
  if (!backfill.keyColumns.empty())
    out += " keyed on " + sql::identList(backfill.keyColumns);
  return out;
}

/// The whole-table form of a backfill, for tools that cannot loop over batches.
std::string backfillAsOneStatement(const Backfill &backfill) {
  return fmt::format("UPDATE {} SET {} WHERE {}", sql::ident(backfill.table), backfill.set,
                     backfill.where.empty() ? std::string("true") : backfill.where);
}

/// Distinct lock modes, strongest first, each with its tables in order of first use.
std::vector<std::pair<LockMode, std::vector<std::string>>> locksHeld(const Plan &plan) {
  std::vector<std::pair<LockMode, std::vector<std::string>>> out;
  for (const Step &s : plan.steps) {
    if (s.lock == LockMode::None)
      continue;
    auto it = llvm::find_if(out, [&](const auto &e) { return e.first == s.lock; });
    if (it == out.end()) {
      out.push_back({s.lock, {}});
      it = std::prev(out.end());
    }
    for (const std::string &t : s.lockTables)
      if (!llvm::is_contained(it->second, t))
        it->second.push_back(t);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto &a, const auto &b) { return a.first > b.first; });
  return out;
}

bool sameGroup(const Step &a, const Step &b) {
  return a.subsystem == b.subsystem && a.version == b.version && a.phase == b.phase;
}

/// "core@1.2.0", with the phase when a step's differs from the plan's.
std::string groupName(const Plan &plan, const Step &step) {
  std::string out = nodeName(step.subsystem, step.version);
  if (step.phase != plan.phase)
    out += fmt::format(" ({})", phaseName(step.phase));
  return out;
}

std::string trimmedSql(const std::string &sql) { return llvm::StringRef(sql).rtrim().str(); }

// --- text -------------------------------------------------------------------------------

class Style {
public:
  explicit Style(bool color) : color(color) {}
  std::string bold(llvm::StringRef text) const { return wrap("1", text); }
  std::string red(llvm::StringRef text) const { return wrap("31", text); }
  std::string boldRed(llvm::StringRef text) const { return wrap("1;31", text); }
  std::string yellow(llvm::StringRef text) const { return wrap("33", text); }

private:
  std::string wrap(llvm::StringRef code, llvm::StringRef text) const {
    if (!color)
      return text.str();
    return "\x1b[" + code.str() + "m" + text.str() + "\x1b[0m";
  }
  bool color;
};

/// Control characters from a plan file shown in caret notation (`^[`), so a plan can never
/// send escape sequences to the terminal; newlines kept only where \p multiLine.
std::string visible(llvm::StringRef text, bool multiLine = false) {
  auto shown = [&](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u >= 0x20 && u != 0x7f) || c == '\t' || (multiLine && c == '\n');
  };
  // Almost every text has nothing to escape: copied whole, not a character at a time (a
  // 10,000-version plan passes megabytes through here).
  const char *first = std::find_if_not(text.begin(), text.end(), shown);
  std::string out(text.begin(), first);
  if (first == text.end())
    return out;
  out.reserve(text.size() + 8);
  for (char c : text.drop_front(first - text.begin())) {
    if (shown(c)) {
      out += c;
      continue;
    }
    auto u = static_cast<unsigned char>(c);
    out += '^';
    out += static_cast<char>(u == 0x7f ? '?' : u + 0x40);
  }
  return out;
}

std::string indentLines(llvm::StringRef text, llvm::StringRef indent) {
  llvm::SmallVector<llvm::StringRef, 16> lines;
  text.split(lines, '\n');
  std::string out;
  for (llvm::StringRef line : lines) {
    line = line.rtrim();
    out += line.empty() ? "" : indent.str() + line.str();
    out += "\n";
  }
  return out;
}

void renderTextStep(std::string &out, const Step &step, size_t number, const Style &style) {
  out += fmt::format("  {}. {}\n", number,
                     step.reason.empty() ? std::string("(no reason given)") : visible(step.reason));
  std::string lock = "    lock: " + visible(lockSummary(step));
  for (const Flag &f : flags(step)) {
    std::string tag = fmt::format("[{}]", f.text);
    lock += " " + (f.alarming ? style.boldRed(tag) : tag);
  }
  for (const std::string &code : step.lints)
    lock += " " + style.yellow(fmt::format("[{}]", visible(code)));
  out += lock + "\n";
  if (step.isBackfill)
    out += fmt::format("    backfill: {} in {}\n", visible(sql::ident(step.backfill.table)),
                       visible(batchDescription(step.backfill)));
  if (!step.location.empty())
    out += "    at " + visible(step.location) + "\n";
  std::string sqlText = trimmedSql(step.sql);
  if (!sqlText.empty())
    out += indentLines(visible(sqlText, /*multiLine=*/true), "      ");
}

std::string findingLabel(const Finding &finding) {
  return fmt::format("{}[{}]:", finding.error ? "error" : "warning", finding.code);
}

void renderTextFindings(std::string &out, const Plan &plan, const Style &style) {
  for (const Finding &f : plan.findings) {
    std::string label = visible(findingLabel(f));
    out += (f.error ? style.red(label) : style.yellow(label)) + " " + visible(f.message) + "\n";
    if (!f.location.empty())
      out += "  at " + visible(f.location) + "\n";
  }
}

std::string summaryLine(const Counts &c, const Style &style) {
  std::string destructive = fmt::format("{} destructive", c.destructive);
  std::string errors = plural(c.errors, "error");
  std::string warnings = plural(c.warnings, "warning");
  return fmt::format("{}, {} non-transactional, {}; {}, {}", plural(c.steps, "step"),
                     c.nonTransactional, c.destructive ? style.boldRed(destructive) : destructive,
                     c.errors ? style.red(errors) : errors,
                     c.warnings ? style.yellow(warnings) : warnings);
}

// --- SQL --------------------------------------------------------------------------------

/// Text for a `--` comment: a newline in it would turn the rest into executable SQL.
std::string commentText(llvm::StringRef text) {
  std::string out = text.str();
  std::replace(out.begin(), out.end(), '\n', ' ');
  std::replace(out.begin(), out.end(), '\r', ' ');
  return out;
}

/// \p sql ended by exactly one `;` (a step's last statement carries none).
std::string terminated(const std::string &sql) {
  std::string out = trimmedSql(sql);
  if (!llvm::StringRef(out).endswith(";"))
    out += ";";
  return out;
}

void renderSqlStep(std::string &out, const Plan &plan, const Step &step, size_t number) {
  out += renderSqlStepComment(plan, step, number);

  std::string body;
  if (step.isBackfill) {
    out += fmt::format("-- backfill: strata apply runs this in {}, one transaction per batch,\n"
                       "-- resuming where it stopped after a failure:\n",
                       commentText(batchDescription(step.backfill)));
    // PostgreSQL ends a comment at \r too: each becomes a line of its own comment.
    std::string batch = trimmedSql(step.sql);
    std::replace(batch.begin(), batch.end(), '\r', '\n');
    out += indentLines(batch, "--   ");
    out += "-- psql cannot loop, so this script updates every row still to fill in one\n"
           "-- statement, holding their row locks until it commits:\n";
    body = terminated(backfillAsOneStatement(step.backfill));
  } else {
    body = trimmedSql(step.sql).empty() ? "-- (no SQL)" : terminated(step.sql);
  }

  if (!step.transactional) {
    out += "-- non-transactional: runs outside a transaction block\n" + body + "\n";
    return;
  }
  out += "BEGIN;\nSET LOCAL lock_timeout = '1s';\n" + body + "\nCOMMIT;\n";
}

// --- Markdown ---------------------------------------------------------------------------

/// An underscore between two alphanumerics never starts emphasis in GitHub's Markdown, so
/// `audit_log` can stay readable in the source of the comment.
bool intraword(llvm::StringRef text, size_t i) {
  auto alnum = [&](size_t j) { return j < text.size() && llvm::isAlnum(text[j]); };
  return i > 0 && alnum(i - 1) && alnum(i + 1);
}

/// Inline Markdown text: punctuation that could start emphasis, code, links, HTML or break
/// a table cell is backslash-escaped; newlines become spaces.
std::string md(llvm::StringRef text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n' || c == '\r') {
      out += ' ';
      continue;
    }
    if (llvm::StringRef("\\`*{}[]<>|~&#!").contains(c) || (c == '_' && !intraword(text, i)))
      out += '\\';
    out += c;
  }
  return out;
}

std::string html(llvm::StringRef text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\n':
    case '\r':
      out += ' ';
      break;
    default:
      out += c;
    }
  }
  return out;
}

size_t longestRun(llvm::StringRef text, char c) {
  size_t longest = 0, run = 0;
  for (char x : text) {
    run = x == c ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return longest;
}

/// A code span that survives backticks inside \p text.
std::string code(llvm::StringRef text) {
  std::string oneLine = commentText(text);
  std::string ticks(longestRun(oneLine, '`') + 1, '`');
  bool pad = !oneLine.empty() && (oneLine.front() == '`' || oneLine.back() == '`');
  return ticks + (pad ? " " : "") + oneLine + (pad ? " " : "") + ticks;
}

std::string mdFlags(const Step &step) {
  std::string out;
  for (const Flag &f : flags(step)) {
    out += out.empty() ? "" : ", ";
    out += f.alarming ? fmt::format("**{}**", f.text) : std::string(f.text);
  }
  for (const std::string &lint : step.lints)
    out += (out.empty() ? "" : ", ") + md(lint);
  return out;
}

std::string mdTables(const std::vector<std::string> &tables) {
  std::string out;
  for (const std::string &t : tables)
    out += (out.empty() ? "" : ", ") + md(sql::ident(t));
  return out;
}

std::string mdStepTitle(const Plan &plan, const Step &step) {
  return md(groupName(plan, step)) + ": " + md(step.reason);
}

std::string markdownSummary(const Plan &plan, const Counts &counts) {
  std::string locks;
  for (const auto &[mode, tables] : locksHeld(plan)) {
    locks += locks.empty() ? "" : "<br>";
    locks += lockModeName(mode);
    if (!tables.empty())
      locks += " on " + mdTables(tables);
  }
  return fmt::format("| | |\n|---|---|\n| steps | {} |\n| non-transactional | {} |\n"
                     "| destructive | {} |\n| locks held | {} |\n| findings | {}, {} |\n\n",
                     counts.steps, counts.nonTransactional, counts.destructive,
                     locks.empty() ? "none" : locks, plural(counts.errors, "error"),
                     plural(counts.warnings, "warning"));
}

// --- JSON -------------------------------------------------------------------------------

using Json = nlohmann::ordered_json;

Json toJson(const NodeId &node) {
  Json j = Json::object();
  j["subsystem"] = node.subsystem;
  j["version"] = node.version;
  j["checksum"] = node.checksum;
  return j;
}

Json toJson(const std::vector<NodeId> &nodes) {
  Json j = Json::array();
  for (const NodeId &n : nodes)
    j.push_back(toJson(n));
  return j;
}

Json toJson(const Backfill &backfill) {
  if (backfill == Backfill{})
    return nullptr;
  Json j = Json::object();
  j["table"] = backfill.table;
  j["keyColumns"] = backfill.keyColumns;
  j["set"] = backfill.set;
  j["where"] = backfill.where;
  j["batchSize"] = backfill.batchSize;
  return j;
}

Json lockJson(LockMode mode) {
  if (mode == LockMode::None)
    return nullptr;
  return lockModeName(mode);
}

Json toJson(const Step &step) {
  Json j = Json::object();
  j["subsystem"] = step.subsystem;
  j["version"] = step.version;
  j["phase"] = phaseName(step.phase);
  j["sql"] = step.sql;
  j["transactional"] = step.transactional;
  j["lock"] = lockJson(step.lock);
  j["lockTables"] = step.lockTables;
  j["scans"] = step.scans;
  j["rewrites"] = step.rewrites;
  j["destroys"] = step.destroys;
  j["isBackfill"] = step.isBackfill;
  j["backfill"] = toJson(step.backfill);
  j["unsafe"] = step.unsafe;
  j["reason"] = step.reason;
  j["location"] = step.location;
  j["lints"] = step.lints;
  return j;
}

Json toJson(const Finding &finding) {
  Json j = Json::object();
  j["code"] = finding.code;
  j["error"] = finding.error;
  j["message"] = finding.message;
  j["location"] = finding.location;
  return j;
}

std::string dump(const Json &j, int indent) {
  return j.dump(indent, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

/// A value from the input quoted for an error message: JSON-escaped, so one line, and cut
/// short so a huge value cannot flood the terminal.
std::string shown(const Json &value) {
  std::string text = dump(value, -1);
  if (text.size() > 64)
    text = text.substr(0, 60) + "...";
  return text;
}

std::string describe(const Json &value) {
  switch (value.type()) {
  case Json::value_t::null:
    return "null";
  case Json::value_t::boolean:
    return "a boolean";
  case Json::value_t::number_integer:
  case Json::value_t::number_unsigned:
  case Json::value_t::number_float:
    return "a number";
  case Json::value_t::string:
    return "a string";
  case Json::value_t::array:
    return "an array";
  case Json::value_t::object:
    return "an object";
  case Json::value_t::binary:
    return "binary data";
  case Json::value_t::discarded:
    return "nothing";
  }
  return "an unknown value";
}

/// The strict reader: every field present, of its type, and nothing else. The first
/// problem wins; its path (`steps[3].lock`) says where.
class Reader {
public:
  std::string error;

  bool fail(const std::string &path, const std::string &message) {
    if (error.empty())
      error = "plan file: " + (path.empty() ? message : path + ": " + message);
    return false;
  }

  static std::string member(const std::string &path, llvm::StringRef key) {
    return path.empty() ? key.str() : path + "." + key.str();
  }
  static std::string element(const std::string &path, size_t index) {
    return fmt::format("{}[{}]", path, index);
  }

  /// \p value is an object with exactly the fields \p keys.
  bool object(const Json &value, const std::string &path,
              std::initializer_list<llvm::StringRef> keys) {
    if (!value.is_object())
      return fail(path, "expected an object, got " + describe(value));
    for (llvm::StringRef key : keys)
      if (!value.contains(key.str()))
        return fail(path, fmt::format("missing field \"{}\"", key.str()));
    for (auto it = value.begin(); it != value.end(); ++it)
      if (!llvm::is_contained(keys, llvm::StringRef(it.key())))
        return fail(path, "unknown field " + shown(it.key()));
    return true;
  }

  bool string(const Json &value, const std::string &path, std::string &out) {
    if (!value.is_string())
      return fail(path, "expected a string, got " + describe(value));
    out = value.get<std::string>();
    return true;
  }

  bool boolean(const Json &value, const std::string &path, bool &out) {
    if (!value.is_boolean())
      return fail(path, "expected a boolean, got " + describe(value));
    out = value.get<bool>();
    return true;
  }

  bool integer(const Json &value, const std::string &path, int64_t &out) {
    if (!value.is_number_integer())
      return fail(path, "expected an integer, got " + describe(value));
    if (value.is_number_unsigned()) {
      auto u = value.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return fail(path, "integer out of range: " + shown(value));
      out = static_cast<int64_t>(u);
      return true;
    }
    out = value.get<int64_t>();
    return true;
  }

  template <class T, class ReadOne>
  bool list(const Json &value, const std::string &path, std::vector<T> &out, ReadOne readOne) {
    if (!value.is_array())
      return fail(path, "expected an array, got " + describe(value));
    out.clear();
    out.resize(value.size());
    for (size_t i = 0; i < value.size(); ++i)
      if (!readOne(value[i], element(path, i), out[i]))
        return false;
    return true;
  }

  bool strings(const Json &value, const std::string &path, std::vector<std::string> &out) {
    return list(value, path, out, [&](const Json &v, const std::string &p, std::string &s) {
      return string(v, p, s);
    });
  }

  bool phase(const Json &value, const std::string &path, Phase &out) {
    std::string text;
    if (!string(value, path, text))
      return false;
    std::optional<Phase> p = parsePhase(text);
    if (!p)
      return fail(path, "unknown phase " + shown(value));
    out = *p;
    return true;
  }

  bool lock(const Json &value, const std::string &path, LockMode &out) {
    if (value.is_null()) {
      out = LockMode::None;
      return true;
    }
    if (!value.is_string())
      return fail(path, "expected a lock mode or null, got " + describe(value));
    // "" is lockModeName(None), but the file spells None as null: one spelling each.
    std::optional<LockMode> m = parseLockMode(value.get<std::string>());
    if (!m || *m == LockMode::None)
      return fail(path, "unknown lock mode " + shown(value));
    out = *m;
    return true;
  }

  bool node(const Json &value, const std::string &path, NodeId &out) {
    return object(value, path, {"subsystem", "version", "checksum"}) &&
           string(value["subsystem"], member(path, "subsystem"), out.subsystem) &&
           string(value["version"], member(path, "version"), out.version) &&
           string(value["checksum"], member(path, "checksum"), out.checksum);
  }

  bool nodes(const Json &value, const std::string &path, std::vector<NodeId> &out) {
    return list(value, path, out,
                [&](const Json &v, const std::string &p, NodeId &n) { return node(v, p, n); });
  }

  bool backfill(const Json &value, const std::string &path, Backfill &out) {
    if (value.is_null()) {
      out = Backfill{};
      return true;
    }
    if (!object(value, path, {"table", "keyColumns", "set", "where", "batchSize"}) ||
        !string(value["table"], member(path, "table"), out.table) ||
        !strings(value["keyColumns"], member(path, "keyColumns"), out.keyColumns) ||
        !string(value["set"], member(path, "set"), out.set) ||
        !string(value["where"], member(path, "where"), out.where) ||
        !integer(value["batchSize"], member(path, "batchSize"), out.batchSize))
      return false;
    if (out.batchSize < 0)
      return fail(member(path, "batchSize"), "expected 0 (the default) or a positive size, got " +
                                                 std::to_string(out.batchSize));
    return true;
  }

  bool step(const Json &value, const std::string &path, Step &out) {
    auto at = [&](llvm::StringRef key) { return member(path, key); };
    return object(value, path,
                  {"subsystem", "version", "phase", "sql", "transactional", "lock", "lockTables",
                   "scans", "rewrites", "destroys", "isBackfill", "backfill", "unsafe", "reason",
                   "location", "lints"}) &&
           string(value["subsystem"], at("subsystem"), out.subsystem) &&
           string(value["version"], at("version"), out.version) &&
           phase(value["phase"], at("phase"), out.phase) &&
           string(value["sql"], at("sql"), out.sql) &&
           boolean(value["transactional"], at("transactional"), out.transactional) &&
           lock(value["lock"], at("lock"), out.lock) &&
           strings(value["lockTables"], at("lockTables"), out.lockTables) &&
           boolean(value["scans"], at("scans"), out.scans) &&
           boolean(value["rewrites"], at("rewrites"), out.rewrites) &&
           boolean(value["destroys"], at("destroys"), out.destroys) &&
           boolean(value["isBackfill"], at("isBackfill"), out.isBackfill) &&
           backfill(value["backfill"], at("backfill"), out.backfill) &&
           boolean(value["unsafe"], at("unsafe"), out.unsafe) &&
           string(value["reason"], at("reason"), out.reason) &&
           string(value["location"], at("location"), out.location) &&
           strings(value["lints"], at("lints"), out.lints);
  }

  bool finding(const Json &value, const std::string &path, Finding &out) {
    return object(value, path, {"code", "error", "message", "location"}) &&
           string(value["code"], member(path, "code"), out.code) &&
           boolean(value["error"], member(path, "error"), out.error) &&
           string(value["message"], member(path, "message"), out.message) &&
           string(value["location"], member(path, "location"), out.location);
  }

  /// Format and version first, so a file of another kind or a newer strata gets that
  /// message rather than one about the first field it does not know.
  bool header(const Json &root) {
    if (!root.is_object())
      return fail("", "expected a JSON object, got " + describe(root));
    if (!root.contains("format"))
      return fail("", "missing field \"format\": not a strata plan file");
    const Json &format = root["format"];
    if (!format.is_string() || format.get<std::string>() != "strata-plan")
      return fail("format", "expected \"strata-plan\", got " + shown(format));
    if (!root.contains("formatVersion"))
      return fail("", "missing field \"formatVersion\"");
    int64_t version = 0;
    if (!integer(root["formatVersion"], "formatVersion", version))
      return false;
    if (version != planFormatVersion)
      return fail("formatVersion",
                  fmt::format("unsupported version {}: this strata reads version {}", version,
                              planFormatVersion));
    return true;
  }

  bool plan(const Json &root, Plan &out) {
    return header(root) &&
           object(root, "",
                  {"format", "formatVersion", "phase", "from", "to", "applies", "steps",
                   "findings"}) &&
           phase(root["phase"], "phase", out.phase) && nodes(root["from"], "from", out.from) &&
           nodes(root["to"], "to", out.to) && nodes(root["applies"], "applies", out.applies) &&
           list(root["steps"], "steps", out.steps,
                [&](const Json &v, const std::string &p, Step &s) { return step(v, p, s); }) &&
           list(root["findings"], "findings", out.findings,
                [&](const Json &v, const std::string &p, Finding &f) { return finding(v, p, f); });
  }
};

/// \p text with every byte that does not start a valid UTF-8 sequence replaced by U+FFFD.
/// (Not llvm::json::fixUTF8: llvm/Support/JSON.h does not compile with clang 14 and
/// libstdc++ 12 in C++20, which the clang fuzz build uses.)
std::string fixUTF8(llvm::StringRef text) {
  std::string out;
  auto p = reinterpret_cast<const llvm::UTF8 *>(text.begin());
  auto end = reinterpret_cast<const llvm::UTF8 *>(text.end());
  while (p < end) {
    unsigned n = llvm::getNumBytesForUTF8(*p);
    if (n <= static_cast<size_t>(end - p) && llvm::isLegalUTF8Sequence(p, p + n)) {
      out.append(reinterpret_cast<const char *>(p), n);
      p += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++p;
    }
  }
  return out;
}

/// nlohmann's message without its "[json.exception.parse_error.101] " prefix. Its "last
/// read" excerpt escapes control characters but passes invalid UTF-8 through: fixed here.
std::string parseMessage(const std::exception &e) {
  llvm::StringRef what = e.what();
  if (what.startswith("[json.exception."))
    what = what.split("] ").second;
  return fixUTF8(what);
}

llvm::Error planFileError(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

} // namespace

std::string nothingToDo(const Plan &plan) {
  switch (plan.phase) {
  case Phase::Up:
    // New versions whose up is empty still run: `apply up` records them, and their
    // finish (drops, say) waits for it. "Up to date" would send the reader away.
    if (!plan.applies.empty() && plan.hasErrors())
      return fmt::format("no step in up for {}, and the errors below block the plan",
                         nodeList(plan.applies, ""));
    if (!plan.applies.empty())
      return fmt::format("no step in up: {} {} nothing until finish; 'strata apply up' "
                         "records {}, then 'strata apply finish' runs the rest",
                         nodeList(plan.applies, ""),
                         plan.applies.size() == 1 ? "changes" : "change",
                         plan.applies.size() == 1 ? "it" : "them");
    return "nothing to do: the database is up to date";
  case Phase::Finish:
    return "nothing to do: no node is waiting for finish";
  case Phase::Bootstrap:
    return "nothing to do: the target versions declare no objects";
  }
  llvm_unreachable("unknown phase");
}

std::string renderText(const Plan &plan, const TextOptions &options) {
  Style style(options.color);
  std::string out = style.bold(fmt::format("plan {}: {} → {}", phaseName(plan.phase),
                                           visible(fromList(plan.from)),
                                           visible(nodeList(plan.to, "(nothing)")))) +
                    "\n";
  if (plan.steps.empty())
    out += nothingToDo(plan) + "\n";
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const Step &step = plan.steps[i];
    if (i == 0 || !sameGroup(plan.steps[i - 1], step))
      out += "\n" + style.bold(visible(groupName(plan, step))) + "\n";
    renderTextStep(out, step, i + 1, style);
  }
  if (!plan.findings.empty()) {
    out += "\n";
    renderTextFindings(out, plan, style);
  }
  if (plan.steps.empty() && plan.findings.empty())
    return out;
  return out + "\n" + summaryLine(count(plan), style) + "\n";
}

std::string renderSqlStepComment(const Plan &plan, const Step &step, size_t number) {
  std::string out = fmt::format("\n-- step {}: {}: {}", number, commentText(groupName(plan, step)),
                                commentText(step.reason));
  if (!step.location.empty())
    out += " (" + commentText(step.location) + ")";
  out += "\n-- lock: " + commentText(lockSummary(step));
  for (const Flag &f : flags(step))
    out += fmt::format(" [{}]", f.text);
  return out + "\n";
}

std::string renderSql(const Plan &plan) {
  std::string out = renderSqlHeader(plan);
  for (size_t i = 0; i < plan.steps.size(); ++i)
    renderSqlStep(out, plan, plan.steps[i], i + 1);
  return out;
}

std::string renderSqlHeader(const Plan &plan) {
  Counts counts = count(plan);
  std::string out = fmt::format("-- strata plan: {}\n"
                                "-- from:    {}\n"
                                "-- to:      {}\n"
                                "-- applies: {}\n",
                                phaseName(plan.phase), commentText(fromList(plan.from)),
                                commentText(nodeList(plan.to, "(nothing)")),
                                commentText(nodeList(plan.applies, "(nothing)")));
  out += "-- generated by strata: do not edit; change the .strata files and plan again\n"
         "-- run with: psql -v ON_ERROR_STOP=1 -f <this file>\n"
         "-- (not with --single-transaction: each step commits on its own, some cannot run in a\n"
         "-- transaction block)\n"
         "-- " +
         summaryLine(counts, Style(false)) + "\n";
  for (const Finding &f : plan.findings) {
    out += "-- " + commentText(findingLabel(f)) + " " + commentText(f.message);
    if (!f.location.empty())
      out += " (" + commentText(f.location) + ")";
    out += "\n";
  }
  if (counts.errors) {
    // Errors block the plan: `apply` refuses it, and the script must not be a way around.
    // The DO block fails the script under ON_ERROR_STOP (exit status 3); \\quit stops it
    // without.
    out += "DO $strata$ BEGIN RAISE EXCEPTION 'strata: this plan has errors and must not be "
           "run'; END $strata$;\n\\quit\n";
  }
  if (plan.steps.empty())
    out += "\n-- " + nothingToDo(plan) + "\n";
  return out;
}

std::string renderMarkdown(const Plan &plan) {
  Counts counts = count(plan);
  std::string out =
      fmt::format("## strata plan: {}\n\n**from** {} → **to** {}\n\n", phaseName(plan.phase),
                  md(fromList(plan.from)), md(nodeList(plan.to, "(nothing)")));
  if (counts.errors)
    out += fmt::format("> **{} block{} this plan.**\n\n", plural(counts.errors, "error"),
                       counts.errors == 1 ? "s" : "");
  if (plan.steps.empty())
    out += nothingToDo(plan) + "\n\n";
  else
    out += markdownSummary(plan, counts);

  if (!plan.steps.empty()) {
    out += "| # | node | phase | lock | tables | flags | reason |\n"
           "|---|---|---|---|---|---|---|\n";
    for (size_t i = 0; i < plan.steps.size(); ++i) {
      const Step &s = plan.steps[i];
      out += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", i + 1,
                         md(nodeName(s.subsystem, s.version)), phaseName(s.phase),
                         s.lock == LockMode::None ? "none" : lockModeName(s.lock),
                         mdTables(s.lockTables), mdFlags(s), md(s.reason));
    }
    out += "\n";
  }

  if (counts.destructive) {
    out += "### Destructive steps\n\n";
    for (size_t i = 0; i < plan.steps.size(); ++i) {
      const Step &s = plan.steps[i];
      if (!s.destroys)
        continue;
      out += fmt::format("- **{}.** {}", i + 1, mdStepTitle(plan, s));
      if (!s.location.empty())
        out += " (" + code(s.location) + ")";
      out += "\n";
    }
    out += "\n";
  }

  if (!plan.findings.empty()) {
    out += "### Findings\n\n";
    for (const Finding &f : plan.findings) {
      out += fmt::format("- **{} {}**", f.error ? "error" : "warning", md(f.code));
      if (!f.location.empty())
        out += " " + code(f.location);
      out += ": " + md(f.message) + "\n";
    }
    out += "\n";
  }

  if (!plan.steps.empty()) {
    out += "### SQL\n\n";
    for (size_t i = 0; i < plan.steps.size(); ++i) {
      const Step &s = plan.steps[i];
      std::string sqlText = trimmedSql(s.sql);
      if (s.isBackfill)
        sqlText = fmt::format("-- one batch ($1: its size); strata apply runs {} until no row "
                              "is left\n{}",
                              commentText(batchDescription(s.backfill)), sqlText);
      std::string fence(std::max<size_t>(3, longestRun(sqlText, '`') + 1), '`');
      out +=
          fmt::format("<details><summary>{}. {}: {}</summary>\n\n{}sql\n{}\n{}\n\n</details>\n\n",
                      i + 1, html(groupName(plan, s)), html(s.reason), fence, sqlText, fence);
    }
  }
  // One final newline, however the last section ended.
  return llvm::StringRef(out).rtrim("\n").str() + "\n";
}

std::string renderJson(const Plan &plan) {
  Json j = Json::object();
  j["format"] = "strata-plan";
  j["formatVersion"] = planFormatVersion;
  j["phase"] = phaseName(plan.phase);
  j["from"] = toJson(plan.from);
  j["to"] = toJson(plan.to);
  j["applies"] = toJson(plan.applies);
  Json steps = Json::array();
  for (const Step &s : plan.steps)
    steps.push_back(toJson(s));
  j["steps"] = std::move(steps);
  Json findings = Json::array();
  for (const Finding &f : plan.findings)
    findings.push_back(toJson(f));
  j["findings"] = std::move(findings);
  return dump(j, 2) + "\n";
}

llvm::Expected<Plan> readJson(llvm::StringRef text) {
  // No exception may leave: parse without them, and catch what a bug could still throw.
  try {
    Json root = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded()) {
      // Parse again only to learn where and why: the message is worth the second pass.
      try {
        Json again = Json::parse(text.begin(), text.end());
      } catch (const Json::exception &e) {
        return planFileError("plan file: not valid JSON: " + parseMessage(e));
      }
      return planFileError("plan file: not valid JSON");
    }
    Reader reader;
    Plan plan;
    if (!reader.plan(root, plan))
      return planFileError(reader.error);
    return plan;
  } catch (const Json::exception &e) {
    return planFileError("plan file: " + parseMessage(e));
  }
}

} // namespace strata::planner
