// The hand-written lexer against the one ANTLR generates from the grammar: every input is
// lexed by both, and the token sequences (type, channel, start, stop, line, column, text)
// must be identical. Inputs: every .strata file of the repository (examples, golden
// cases, fuzz regressions), generated projects, hand-written edge cases of every rule, and
// a few thousand random strings over the characters the rules care about.
#include "compiler/Lexer.h"

#include "bench/ProjectGenerator.h"

#include <gtest/gtest.h>

#include <llvm/ADT/Twine.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/raw_ostream.h>

#include <random>

using namespace strata::compiler;

namespace {

/// Empty when both lexers agree; else the first difference, for the failure message.
std::string difference(llvm::StringRef text) {
  std::vector<LexedToken> expected = lexWithGeneratedLexer(text);
  std::vector<LexedToken> actual = lexWithStrataLexer(text);
  for (size_t i = 0; i < std::max(expected.size(), actual.size()); ++i) {
    std::string want = i < expected.size() ? expected[i].describe() : "(none)";
    std::string got = i < actual.size() ? actual[i].describe() : "(none)";
    if (want != got || (i < expected.size() && i < actual.size() && expected[i] != actual[i]))
      return "token " + std::to_string(i) + ": generated lexer " + want + ", strata lexer " + got;
  }
  return "";
}

std::string escaped(llvm::StringRef text) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os.write_escaped(text);
  return os.str();
}

#define EXPECT_SAME_TOKENS(text)                                                                   \
  do {                                                                                             \
    std::string input_ = (text);                                                                   \
    EXPECT_EQ(difference(input_), "") << "input: \"" << escaped(input_) << "\"";                   \
  } while (false)

std::vector<std::string> strataFiles() {
  std::vector<std::string> paths;
  for (const char *dir : {"examples", "test/golden", "test/fuzz/regressions"}) {
    std::error_code ec;
    std::string root = (llvm::Twine(STRATA_SOURCE_DIR) + "/" + dir).str();
    for (llvm::sys::fs::recursive_directory_iterator it(root, ec), end; it != end && !ec;
         it.increment(ec))
      if (llvm::sys::path::extension(it->path()) == ".strata")
        paths.push_back(it->path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

TEST(LexerTest, RepositoryFiles) {
  std::vector<std::string> paths = strataFiles();
  ASSERT_GT(paths.size(), 50u) << "the .strata files of examples/ and test/golden/";
  for (const std::string &path : paths) {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    ASSERT_TRUE(bool(buffer)) << path;
    llvm::StringRef text = (*buffer)->getBuffer();
    EXPECT_EQ(difference(text), "") << path;
  }
}

TEST(LexerTest, GeneratedProjects) {
  for (uint32_t seed : {1u, 42u}) {
    strata::bench::GeneratorOptions options;
    options.subsystems = 4;
    options.versionsPerSubsystem = 40;
    options.seed = seed;
    for (const strata::bench::GeneratedFile &file : strata::bench::generateFiles(options)) {
      EXPECT_FALSE(lexerNeedsUnicodeTables(file.text)) << file.name;
      EXPECT_EQ(difference(file.text), "") << file.name << " (seed " << seed << ")";
    }
  }
}

TEST(LexerTest, KeywordsAndIdentifiers) {
  const char *words[] = {"not",     "default", "null",      "primary", "table",      "tables",
                         "tabl",    "Table",   "timestamp", "time",    "times",      "with",
                         "without", "to",      "toe",       "as",      "asc",        "desc",
                         "nulls",   "no",      "key",       "keys",    "references", "references_",
                         "_",       "_x",      "x$",        "a$b",     "a1",         "set$"};
  for (const char *word : words) {
    EXPECT_SAME_TOKENS(word);
    EXPECT_SAME_TOKENS(std::string("x") + word);
    EXPECT_SAME_TOKENS(std::string(word) + "x");
    EXPECT_SAME_TOKENS(std::string(word) + "_");
    EXPECT_SAME_TOKENS(std::string(word) + "1");
    EXPECT_SAME_TOKENS(std::string(word) + "(");
    EXPECT_SAME_TOKENS(std::string(word) + "'a'");
    EXPECT_SAME_TOKENS(std::string(word) + " " + word);
  }
  EXPECT_SAME_TOKENS("subsystem core { version \"1.0\" { table t { id integer primary key } } }");
}

TEST(LexerTest, Strings) {
  const char *cases[] = {
      "\"\"",
      "\"a\"",
      "\"a",
      "\"",
      "\"\"\"",
      "\"\"\"\"",
      "\"\"\"\"\"",
      "\"\"\"\"\"\"",
      "\"\"\"a\"\"\"",
      "\"\"\"a\"\"\"\"",
      "\"\"\"a\"\"\"\"\"",
      "\"\"\"a\nb\"\"\" x",
      "\"\"\"unterminated\nblock",
      "\"a\"\"b\"",
      "\"a\"\"\"",
      "\"a\"\"",
      "\"a\nb\"",
      "\"a\r\nb\"",
      "\"a\rb\"",
      "\"\"\"x\"\"\"\"y\"",
      "\"x\"\"\"\"\"y",
      "x\"\"\"y",
      "'a'",
      "'a",
      "'",
      "''",
      "'''",
      "''''",
      "'a''b'",
      "'a'''",
      "'ab''",
      "'a\nb'",
      "e'x'",
      "E'",
      "e'",
      "b'01'",
      "X'ff'",
      "u'",
      "U&'x'",
      "e'a''b'c",
      "ee'x'",
      "e 'x'",
      "f'x'",
      "'unterminated\n\n",
      "\"'\"",
      "'\"'",
      "$$",
      "$$$",
      "$$$$",
      "$$a$$",
      "$$a$",
      "$$a$$b$$",
      "$$\n$$",
      "$1",
      "$12x",
      "$",
      "$a",
      "$$1",
      "a$$b$$",
      "$ 1",
  };
  for (const char *text : cases) {
    EXPECT_SAME_TOKENS(text);
    EXPECT_SAME_TOKENS(std::string(text) + "\n");
    EXPECT_SAME_TOKENS(std::string("x ") + text + " y");
  }
}

TEST(LexerTest, Numbers) {
  const char *cases[] = {"1",     "12",   "1.",    "1.5",   ".5",   ".5e3",  "1e",    "1e+",
                         "1e-",   "1e5",  "1E+5",  "1e-5x", "1.e5", "1.5e",  "1.5e+", "1..2",
                         "1.2.3", ".",    "..",    ".e5",   "0x1F", "1_000", "1a",    "1$",
                         "-1",    "+1.5", "1e5e5", "01",    "1 .5", "a.b",   "a.5"};
  for (const char *text : cases) {
    EXPECT_SAME_TOKENS(text);
    EXPECT_SAME_TOKENS(std::string(text) + " ");
  }
}

TEST(LexerTest, CommentsAndOperators) {
  const char *cases[] = {
      "//",  "// x\ny",  "////",        "//\r\nx", "--",   "-- x\ny", "---",
      "-",   "/",        "/*",          "/* x",    "/**/", "/**/+",   "/* a */+",
      "/*/", "/*/ x */", "/* /* */ */", "/*\n*/x", "=",    "==",      "=>",
      "<>=", "|/",       "<--x",        "+//x",    "*/",   "a/*b*/c", "a--b\nc",
      "!=",  "@>",       "||",          "`",       "?",    "~*",      "#",
      "%",   "^",        "&",           "=/*x*/",  "//\r", "--\r\n",
  };
  for (const char *text : cases) {
    EXPECT_SAME_TOKENS(text);
    EXPECT_SAME_TOKENS(std::string(text) + "\n");
    EXPECT_SAME_TOKENS(std::string("x ") + text + " y");
  }
}

TEST(LexerTest, WhitespaceAndErrors) {
  const char *cases[] = {
      "",         " ",  "\n",   "\r",         "\r\n",  "a\r\nb\r\nc", "a\rb", "\ta\tb",      "\f a",
      "a\n\n\nb", "\\", "a\\b", "{}()[],.;:", "a\v b", "\x01",        "\x7f", "\"a\" \\ 'b", "}{",
  };
  for (const char *text : cases)
    EXPECT_SAME_TOKENS(text);
}

TEST(LexerTest, NonAscii) {
  // Inside strings and comments: the hand-written lexer, counting code points.
  const char *inStrings[] = {
      "\"café\" x", "'naïve' x", "-- ünïcode\nx", "/* 日本 */ x",  "\"\"\"ß\n€\"\"\" x",
      "$$π$$ x",    "e'ø' x",    "\"😀\" x",       "x -- 😀\n\"ü\"",
  };
  for (const char *text : inStrings) {
    EXPECT_FALSE(lexerNeedsUnicodeTables(text)) << text;
    EXPECT_SAME_TOKENS(text);
  }
  // A name, or a character no rule takes, outside them: the generated lexer's tables.
  const char *outside[] = {
      "café", "x café",   "naïve_1", "日本",    "a€b",
      "€",    "x\u00a0y", "x 😀 y",   "a١",      "_é",
      "1é",   "é1",       "e'x'é",   "\"ü\" é", "\xef\xbb\xbftable t",
  };
  for (const char *text : outside) {
    EXPECT_TRUE(lexerNeedsUnicodeTables(text)) << text;
    EXPECT_SAME_TOKENS(text);
  }
}

/// Random strings over the characters the rules distinguish, with a fixed seed.
TEST(LexerTest, RandomStrings) {
  static const char *const pieces[] = {
      "a",  "e",  "E",  "x",  "b",  "u",     "_",   "$",   "1",    "0",  "9", ".",      "e5",
      "+",  "-",  "*",  "/",  "=",  "<",     ">",   "|",   "!",    "\"", "'", "\"\"\"", "$$",
      "//", "--", "/*", "*/", " ",  "\t",    "\n",  "\r",  "\r\n", "\f", "{", "}",      "(",
      ")",  ",",  ";",  ":",  "\\", "table", "not", "key", "ü",    "€",
  };
  std::mt19937 random(20261126);
  std::uniform_int_distribution<size_t> piece(0, std::size(pieces) - 1);
  std::uniform_int_distribution<size_t> length(1, 24);
  for (int i = 0; i < 4000; ++i) {
    std::string text;
    for (size_t n = length(random); n > 0; --n)
      text += pieces[piece(random)];
    EXPECT_SAME_TOKENS(text);
    if (HasFailure())
      return; // one random failure says enough
  }
}

/// Real files cut off at random points (every unterminated construct at the end of the
/// text) and with random ranges deleted (a string's or comment's end gone, the rest of
/// the file read inside it), with a fixed seed.
TEST(LexerTest, MutatedRepositoryFiles) {
  std::vector<std::string> paths = strataFiles();
  ASSERT_FALSE(paths.empty());
  std::mt19937 random(7);
  for (size_t f = 0; f < paths.size(); f += 7) {
    auto buffer = llvm::MemoryBuffer::getFile(paths[f]);
    ASSERT_TRUE(bool(buffer)) << paths[f];
    std::string text = (*buffer)->getBuffer().str();
    if (text.empty())
      continue;
    std::uniform_int_distribution<size_t> at(0, text.size() - 1);
    for (int i = 0; i < 20; ++i) {
      std::string cut = text.substr(0, at(random));
      // Cutting may split a UTF-8 sequence: the parser rejects such a file before lexing.
      while (!cut.empty() && (static_cast<unsigned char>(cut.back()) & 0xC0) == 0x80)
        cut.pop_back();
      if (!cut.empty() && static_cast<unsigned char>(cut.back()) >= 0xC0)
        cut.pop_back();
      EXPECT_EQ(difference(cut), "") << paths[f] << " cut at " << cut.size();
      size_t from = at(random);
      size_t length = std::min<size_t>(std::uniform_int_distribution<size_t>(1, 40)(random),
                                       text.size() - from);
      std::string deleted = text.substr(0, from) + text.substr(from + length);
      if (llvm::any_of(deleted, [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
        continue; // a deleted range may split a UTF-8 sequence too
      EXPECT_EQ(difference(deleted), "") << paths[f] << " without " << from << "+" << length;
    }
    if (HasFailure())
      return;
  }
}

TEST(LexerTest, DescribeNamesTheToken) {
  std::vector<LexedToken> tokens = lexWithStrataLexer("table x");
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[0].describe(), "TABLE 1:0 [0..4] ch0 \"table\"");
  EXPECT_EQ(tokens[1].describe(), "IDENT 1:6 [6..6] ch0 \"x\"");
  EXPECT_EQ(tokens[2].describe(), "EOF 1:7 [7..6] ch0 \"<EOF>\"");
}

} // namespace
