// The formatter (`strata fmt`): the layout rules on small inputs, and on every example and
// golden input that parses: formatting is idempotent, keeps every token and comment, and
// keeps the meaning (the checksum of every version is unchanged).
#include "compiler/Compilation.h"
#include "compiler/Formatter.h"

#include <gtest/gtest.h>

#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/SourceMgr.h>

#include <map>

using namespace strata::compiler;

namespace {

struct Formatted {
  std::optional<std::string> text;
  std::string diags;
};

Formatted format(llvm::StringRef text, llvm::StringRef name = "input.strata") {
  llvm::SourceMgr sources;
  unsigned id = sources.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, name),
                                           llvm::SMLoc());
  DiagnosticsEngine diags(sources);
  Formatted out;
  out.text = formatBuffer(diags, sources, id);
  llvm::raw_string_ostream os(out.diags);
  diags.render(os, false);
  return out;
}

/// Formats \p input, checks that formatting the result changes nothing, and returns it.
std::string formatted(llvm::StringRef input) {
  Formatted once = format(input);
  EXPECT_TRUE(once.text) << once.diags;
  if (!once.text)
    return "";
  Formatted twice = format(*once.text);
  EXPECT_EQ(twice.text.value_or("<no output>"), *once.text) << "not idempotent";
  return *once.text;
}

} // namespace

TEST(Formatter, OneItemPerLineAndAlignedColumns) {
  EXPECT_EQ(formatted("subsystem a { version \"1.0.0\" { table t { id int primary key  name text "
                "not null default ('x') } } }"),
            "subsystem a {\n"
            "  version \"1.0.0\" {\n"
            "    table t {\n"
            "      id   int  primary key\n"
            "      name text not null default ('x')\n"
            "    }\n"
            "  }\n"
            "}\n");
}

TEST(Formatter, TypesAreAlignedOnlyWhereOptionsFollow) {
  EXPECT_EQ(formatted("subsystem a {\n"
                "  version \"1.0.0\" {\n"
                "    table t {\n"
                "      entity_id uuid primary key\n"
                "      entity_name text\n"
                "      tags text[]\n"
                "      created_at timestamptz default (now())\n"
                "      n int not null\n"
                "      index t_tags_idx using gin (tags)\n"
                "      z int\n"
                "    }\n"
                "  }\n"
                "}\n"),
            "subsystem a {\n"
            "  version \"1.0.0\" {\n"
            "    table t {\n"
            "      entity_id   uuid        primary key\n"
            "      entity_name text\n"
            "      tags        text[]\n"
            "      created_at  timestamptz default (now())\n"
            "      n           int         not null\n"
            "      index t_tags_idx using gin (tags)\n"
            "      z int\n"
            "    }\n"
            "  }\n"
            "}\n");
}

TEST(Formatter, KeepsEveryCommentWhereItBelongs) {
  const char *input = "// head\n"
                      "\n"
                      "\n"
                      "/* block\n"
                      "   comment */\n"
                      "subsystem a {   // on the brace\n"
                      "  baseline \"1.0.0\"\n"
                      "\n"
                      "\n"
                      "  version \"1.0.0\" {\n"
                      "    table t {\n"
                      "      id uuid primary key // the key\n"
                      "      n text -- a name\n"
                      "          // on its own line\n"
                      "      x /* inline */ int\n"
                      "      y int default (1 -- inside an expression\n"
                      "      )\n"
                      "    }\n"
                      "  }\n"
                      "        // before the close\n"
                      "} // tail";
  std::string out = formatted(input);
  EXPECT_EQ(out, "// head\n"
                 "\n"
                 "/* block\n"
                 "   comment */\n"
                 "subsystem a { // on the brace\n"
                 "  baseline \"1.0.0\"\n"
                 "\n"
                 "  version \"1.0.0\" {\n"
                 "    table t {\n"
                 "      id uuid primary key // the key\n"
                 "      n  text             -- a name\n"
                 "      // on its own line\n"
                 "      x /* inline */ int\n"
                 "      y int default (1 -- inside an expression\n"
                 "      )\n"
                 "    }\n"
                 "  }\n"
                 "  // before the close\n"
                 "} // tail\n");
  EXPECT_EQ(comments(out), comments(input));
  EXPECT_EQ(comments(out).size(), 10u);
}

TEST(Formatter, KeepsTheAuthorsLineBreaksAsContinuations) {
  EXPECT_EQ(formatted("subsystem a {\n"
                "version \"1.1.0\" {\n"
                "backfill t set n = ('x'),   m = 1\n"
                "        where (n is null)   batch 10\n"
                "  unsafe \"why\"\n"
                "     alter table t drop column n\n"
                "  sql up \"\"\"\n"
                "  select 1;\n"
                "\"\"\" finish \"\"\"select 2;\"\"\"\n"
                "}}\n"),
            "subsystem a {\n"
            "  version \"1.1.0\" {\n"
            "    backfill t set n = ('x'), m = 1\n"
            "      where (n is null) batch 10\n"
            "    unsafe \"why\"\n"
            "    alter table t drop column n\n"
            "    sql up \"\"\"\n"
            "  select 1;\n"
            "\"\"\" finish \"\"\"select 2;\"\"\"\n"
            "  }\n"
            "}\n");
}

TEST(Formatter, EnumsStayOnOneLineOrGetOneLabelPerLine) {
  EXPECT_EQ(formatted("subsystem a { version \"1.0.0\" { enum e {a,b,} enum f {\n"
                " 'x',\n"
                "   'y' } enum g { } } }"),
            "subsystem a {\n"
            "  version \"1.0.0\" {\n"
            "    enum e { a, b, }\n"
            "    enum f {\n"
            "      'x',\n"
            "      'y'\n"
            "    }\n"
            "    enum g {}\n"
            "  }\n"
            "}\n");
}

TEST(Formatter, SpacingAroundParenthesesAndCommas) {
  EXPECT_EQ(formatted("subsystem a { requires core>=\"1.0.0\",acl version \"1.0.0\"after \"0.9.0\" { "
                "table t { v varchar ( 20 ) [ ] references u ( id ) on delete cascade\n"
                " w numeric(10,2) default -1 index i ( lower (v) , w desc ) "
                "foreign key(w) references u(id) } alter table t add column z int } }"),
            "subsystem a {\n"
            "  requires core >= \"1.0.0\", acl\n"
            "  version \"1.0.0\" after \"0.9.0\" {\n"
            "    table t {\n"
            "      v varchar(20)[]  references u(id) on delete cascade\n"
            "      w numeric(10, 2) default -1\n"
            "      index i (lower (v), w desc)\n"
            "      foreign key (w) references u(id)\n"
            "    }\n"
            "    alter table t add column z int\n"
            "  }\n"
            "}\n");
}

TEST(Formatter, AlterBlocksAlignTheirAddedColumns) {
  EXPECT_EQ(formatted("subsystem a { version \"1.0.0\" { alter table t {\n"
                "  add column snis text[]\n"
                "  add column destinations jsonb[] not null fill ('{}')\n"
                "  drop column x } } }\n"),
            "subsystem a {\n"
            "  version \"1.0.0\" {\n"
            "    alter table t {\n"
            "      add column snis         text[]\n"
            "      add column destinations jsonb[] not null fill ('{}')\n"
            "      drop column x\n"
            "    }\n"
            "  }\n"
            "}\n");
}

TEST(Formatter, RefusesWhatDoesNotParseWithTheUsualDiagnostics) {
  Formatted out = format("subsystem a {\n  version \"1.0.0\" {\n    table t {\n      id int ,\n"
                         "    }\n  }\n}\n");
  EXPECT_FALSE(out.text);
  EXPECT_NE(out.diags.find("input.strata:4:14: error:"), std::string::npos) << out.diags;

  Formatted unterminated = format("subsystem a { /* never closed");
  EXPECT_FALSE(unterminated.text);
  EXPECT_NE(unterminated.diags.find("unterminated /* comment"), std::string::npos);
}

TEST(Formatter, FormatsWhatParsesEvenWithLaterErrors) {
  // A type that does not exist is the analyzer's business, not the formatter's.
  Formatted out = format("subsystem a{version \"1.0.0\"{table t{id texxt}}}");
  ASSERT_TRUE(out.text) << out.diags;
  EXPECT_EQ(*out.text, "subsystem a {\n  version \"1.0.0\" {\n    table t {\n      id texxt\n"
                       "    }\n  }\n}\n");
  EXPECT_EQ(out.diags, "");
}

TEST(Formatter, EmptyAndCommentOnlyFiles) {
  EXPECT_EQ(formatted(""), "");
  EXPECT_EQ(formatted("  // just a comment  \n\n\n/* and another */"),
            "// just a comment\n\n/* and another */\n");
}

// --- every example and golden input ------------------------------------------------------

namespace {

/// A project: files compiled together (an example directory, or one golden input).
struct Corpus {
  std::string name;
  std::vector<std::string> files;
};

std::vector<Corpus> corpora() {
  std::map<std::string, std::vector<std::string>> byDir;
  std::vector<Corpus> out;
  std::error_code ec;
  for (llvm::sys::fs::recursive_directory_iterator it(STRATA_SOURCE_DIR "/examples", ec), end;
       it != end && !ec; it.increment(ec))
    if (llvm::sys::path::extension(it->path()) == ".strata")
      byDir[llvm::sys::path::parent_path(it->path()).str()].push_back(it->path());
  for (auto &[dir, files] : byDir) {
    std::sort(files.begin(), files.end());
    out.push_back({dir, files});
  }
  std::vector<std::string> golden;
  for (llvm::sys::fs::recursive_directory_iterator it(STRATA_SOURCE_DIR "/test/golden", ec), end;
       it != end && !ec; it.increment(ec))
    if (llvm::sys::path::extension(it->path()) == ".strata")
      golden.push_back(it->path());
  std::sort(golden.begin(), golden.end());
  for (const std::string &file : golden)
    out.push_back({file, {file}});
  return out;
}

/// Checksum of every version, or nothing when the sources do not compile.
std::optional<std::map<std::string, std::string>>
checksums(const std::vector<std::pair<std::string, std::string>> &sources) {
  Compilation compilation;
  for (const auto &[name, text] : sources)
    compilation.addSource(name, text);
  const Project *project = compilation.run();
  if (!project)
    return std::nullopt;
  std::map<std::string, std::string> out;
  for (unsigned s = 0; s < project->subsystems.size(); ++s)
    for (unsigned v = 0; v < project->subsystems[s].versions.size(); ++v)
      out[project->describe({s, v})] = project->at({s, v}).checksum;
  return out;
}

std::string readFile(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  EXPECT_TRUE(bool(buffer)) << path;
  return buffer ? (*buffer)->getBuffer().str() : "";
}

/// \p text with the whitespace between tokens replaced by \p separator (a newline after a
/// line comment): the same tokens, laid out differently.
std::string relaid(llvm::StringRef text, const char *separator) {
  std::string out;
  for (const std::string &lexeme : lexemes(text)) {
    out += lexeme;
    bool lineComment = llvm::StringRef(lexeme).startswith("//") ||
                       llvm::StringRef(lexeme).startswith("--");
    out += lineComment ? "\n" : separator;
  }
  return out;
}

bool isExampleOrValid(llvm::StringRef name) {
  return !name.contains("/test/golden/diag/");
}

} // namespace

TEST(FormatterCorpus, IdempotentAndKeepsEveryTokenCommentAndChecksum) {
  unsigned formattedFiles = 0, comparedProjects = 0, refused = 0;
  for (const Corpus &corpus : corpora()) {
    SCOPED_TRACE(corpus.name);
    std::vector<std::pair<std::string, std::string>> before, after;
    bool allFormatted = true;
    for (const std::string &file : corpus.files) {
      std::string text = readFile(file);
      before.push_back({file, text});
      Formatted once = format(text, file);
      if (!once.text) {
        // Only inputs written to show a syntax error may fail.
        EXPECT_FALSE(isExampleOrValid(file)) << once.diags;
        ++refused;
        allFormatted = false;
        continue;
      }
      ++formattedFiles;
      Formatted twice = format(*once.text, file);
      ASSERT_TRUE(twice.text) << twice.diags << *once.text;
      EXPECT_EQ(*twice.text, *once.text) << file << ": not idempotent";
      EXPECT_EQ(lexemes(*once.text), lexemes(text)) << file << ": tokens changed";
      EXPECT_EQ(comments(*once.text), comments(text)) << file << ": comments changed";
      after.push_back({file, *once.text});

      // The same tokens on as few lines as possible, or one per line, format as well.
      for (const char *separator : {" ", "\n"}) {
        std::string variant = relaid(text, separator);
        Formatted fromVariant = format(variant, file);
        ASSERT_TRUE(fromVariant.text) << fromVariant.diags << variant;
        EXPECT_EQ(format(*fromVariant.text, file).text, fromVariant.text) << file << " relaid";
        EXPECT_EQ(lexemes(*fromVariant.text), lexemes(text)) << file << " relaid";
        if (auto variantSums = checksums({{file, variant}})) {
          EXPECT_EQ(checksums({{file, *fromVariant.text}}), variantSums) << file << " relaid";
        }
      }
    }
    if (!allFormatted)
      continue;
    std::optional<std::map<std::string, std::string>> original = checksums(before);
    std::optional<std::map<std::string, std::string>> formatted = checksums(after);
    EXPECT_EQ(original.has_value(), formatted.has_value());
    if (original && formatted) {
      EXPECT_EQ(*formatted, *original);
      EXPECT_FALSE(original->empty());
      ++comparedProjects;
    }
  }
  // The corpus is really there: examples, valid inputs, and most diag inputs parse.
  EXPECT_GT(formattedFiles, 100u);
  EXPECT_GT(comparedProjects, 50u);
  EXPECT_LT(refused, formattedFiles);
  std::cout << formattedFiles << " files formatted, " << refused << " refused (syntax errors), "
            << comparedProjects << " projects with equal checksums\n";
}
