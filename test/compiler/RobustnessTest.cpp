// Bad input never crashes the front end: it always ends in diagnostics with a place in
// the file, never in an exception, an assertion or a hang. Truncated valid files, binary
// garbage, invalid UTF-8, huge and deeply nested inputs, unterminated tokens at the end
// of the file; and the exact line:column of independent errors in one file.
#include "compiler/Compilation.h"
#include "compiler/Parser.h"

#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/SourceMgr.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

using namespace strata::compiler;

namespace {

/// One diagnostic, flattened for assertions.
struct Seen {
  DiagID id;
  Severity severity;
  unsigned line = 0;
  unsigned column = 0;
  std::string message;
};

/// The outcome of compiling one in-memory file.
struct Outcome {
  bool compiled = false; ///< run() returned a project
  unsigned errors = 0;
  std::vector<Seen> diags;
  std::string rendered;

  bool has(DiagID id) const {
    return std::any_of(diags.begin(), diags.end(), [&](const Seen &s) { return s.id == id; });
  }
  const Seen *first(DiagID id) const {
    for (const Seen &s : diags)
      if (s.id == id)
        return &s;
    return nullptr;
  }
};

Outcome compile(llvm::StringRef text, llvm::StringRef name = "input.strata",
                const ParseLimits &limits = {}) {
  Compilation c;
  c.addSource(name, text);
  Outcome out;
  out.compiled = c.run(limits) != nullptr;
  DiagnosticsEngine &diags = c.diagnostics();
  out.errors = diags.errorCount();
  for (const Diagnostic &d : diags.diagnostics()) {
    Seen s{d.id, d.severity, 0, 0, d.message};
    if (d.range.Start.isValid()) {
      unsigned buffer = c.sources().FindBufferContainingLoc(d.range.Start);
      if (buffer) {
        auto [line, column] = c.sources().getLineAndColumn(d.range.Start, buffer);
        s.line = line;
        s.column = column;
      }
    }
    out.diags.push_back(std::move(s));
  }
  if (out.diags.size() < 200) {
    llvm::raw_string_ostream os(out.rendered);
    diags.render(os, /*color=*/false);
  }
  return out;
}

/// The contract for any input: a project exactly when there is no error, and every error
/// has a place in the file.
void expectConsistent(const Outcome &o, llvm::StringRef what) {
  EXPECT_EQ(o.compiled, o.errors == 0) << what.str() << "\n" << o.rendered;
  for (const Seen &s : o.diags) {
    if (s.severity == Severity::Error) {
      EXPECT_GT(s.line, 0u) << what.str() << ": error without a place: " << s.message;
    }
  }
}

/// Bad input: errors, each at a place in the file.
void expectRejected(const Outcome &o, llvm::StringRef what) {
  EXPECT_FALSE(o.compiled) << what.str();
  EXPECT_GT(o.errors, 0u) << what.str();
  EXPECT_FALSE(o.diags.empty()) << what.str();
  expectConsistent(o, what);
}

std::vector<std::string> validGoldenFiles() {
  std::vector<std::string> out;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(STRATA_SOURCE_DIR "/test/golden/valid", ec), end;
       it != end && !ec; it.increment(ec))
    if (llvm::sys::path::extension(it->path()) == ".strata")
      out.push_back(it->path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string readFile(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  EXPECT_TRUE(buffer) << path;
  return buffer ? (*buffer)->getBuffer().str() : std::string();
}

// --- truncation and garbage ------------------------------------------------------------

TEST(Robustness, EveryValidFileTruncatedAnywhere) {
  std::vector<std::string> files = validGoldenFiles();
  ASSERT_FALSE(files.empty());
  for (const std::string &path : files) {
    std::string text = readFile(path);
    ASSERT_TRUE(compile(text, path).compiled) << path << " must be valid to start with";
    unsigned rejected = 0, cuts = 0;
    for (size_t cut = 0; cut < text.size(); cut += 7) {
      Outcome o = compile(llvm::StringRef(text).take_front(cut), path);
      expectConsistent(o, path + " cut at " + std::to_string(cut));
      ++cuts;
      rejected += o.errors != 0;
    }
    // A cut leaves a complete file only at the start, between subsystems or in a comment.
    EXPECT_GT(rejected * 10, cuts * 7) << path << ": " << rejected << " of " << cuts;
  }
}

TEST(Robustness, BinaryGarbage) {
  for (unsigned seed : {1u, 2u, 3u, 42u, 2024u}) {
    std::mt19937 random(seed);
    for (bool withNul : {true, false}) {
      std::string bytes(1 + random() % 4096, '\0');
      for (char &b : bytes) {
        b = static_cast<char>(random() % 256);
        if (!withNul && b == '\0')
          b = '\x01';
      }
      if (withNul)
        bytes[bytes.size() / 2] = '\0';
      std::string what = "seed " + std::to_string(seed) + (withNul ? " with NUL" : "");
      Outcome o = compile(bytes);
      expectRejected(o, what);
      if (withNul) {
        EXPECT_TRUE(o.has(DiagID::ErrNulByte) || o.has(DiagID::ErrInvalidUtf8)) << what;
      }
    }
  }
}

TEST(Robustness, PrintableGarbageAndTokenSoup) {
  // Valid UTF-8, so these reach the lexer and the parser rather than the encoding check.
  const char *words[] = {"subsystem", "version", "\"1.0.0\"", "table", "alter", "drop",
                         "{",         "}",       "(",         ")",     "[",     "]",
                         ",",         "t",       "id",        "uuid",  "text",  "primary",
                         "key",       "not",     "null",      "default", "1",  "'x'",
                         "references", "after",  "requires",  ">=",    "unsafe", "sql",
                         "up",        "\"\"\"",  "fill",      "was",   "index", "enum",
                         "backfill",  "set",     "=",         "where", ";",     "."};
  for (unsigned seed = 1; seed <= 40; ++seed) {
    std::mt19937 random(seed);
    std::string soup;
    for (int i = 0; i < 300; ++i) {
      soup += words[random() % std::size(words)];
      soup += random() % 5 ? " " : "\n";
    }
    expectConsistent(compile(soup), "token soup " + std::to_string(seed));
    std::string printable(2000, ' ');
    for (char &c : printable)
      c = static_cast<char>(' ' + random() % 95);
    expectRejected(compile(printable), "printable " + std::to_string(seed));
  }
}

TEST(Robustness, InvalidUtf8IsReportedAtItsByte) {
  const std::string prefix = "subsystem core {\n  version \"1.0.0\" {\n    table t {\n      id ";
  const char *bad[] = {"\x80", "\xC0\xAF", "\xE2\x82", "\xED\xA0\x80", "\xFF", "\xF8\x88\x80"};
  for (const char *seq : bad) {
    // In a name, in a string and in a comment: the whole file is checked first.
    for (const char *around : {"%s uuid\n", "uuid default '%s'\n", "uuid // %s\n"}) {
      std::string line = around;
      std::string text = prefix + line.replace(line.find("%s"), 2, seq) + "    }\n  }\n}\n";
      Outcome o = compile(text);
      expectRejected(o, "invalid UTF-8");
      const Seen *s = o.first(DiagID::ErrInvalidUtf8);
      ASSERT_TRUE(s) << o.rendered;
      EXPECT_EQ(s->line, 4u);
      EXPECT_EQ(o.diags.size(), 1u) << o.rendered;
    }
  }
  // Valid multi-byte text in names, strings and comments is fine.
  Outcome ok = compile("subsystem café {\n  version \"1.0.0\" {\n    table größe {\n"
                       "      id uuid default ('ünïcödé') // ✓\n    }\n  }\n}\n");
  EXPECT_TRUE(ok.compiled) << ok.rendered;
}

TEST(Robustness, NulByteIsReportedAtItsPosition) {
  std::string text = "subsystem core {\n  version \"1.0.0\" {\n    table t {\n      id uuid";
  text += '\0';
  text += "\n    }\n  }\n}\n";
  Outcome o = compile(text);
  expectRejected(o, "NUL byte");
  const Seen *s = o.first(DiagID::ErrNulByte);
  ASSERT_TRUE(s) << o.rendered;
  EXPECT_EQ(s->line, 4u);
  EXPECT_EQ(s->column, 14u);
}

// --- size and depth --------------------------------------------------------------------

std::string manyTables(size_t bytes) {
  std::string out = "// generated: many tables in one version\nsubsystem big {\n"
                    "  version \"1.0.0\" {\n";
  for (size_t i = 0; out.size() < bytes; ++i) {
    std::string n = std::to_string(i);
    out += "    table t" + n + " {\n      id         bigint primary key\n"
           "      name       text not null unique\n"
           "      created_at timestamptz not null default (now())\n"
           "      index t" + n + "_name_idx (name)\n    }\n";
  }
  return out + "  }\n}\n";
}

TEST(Robustness, TenMegabytesOfValidTablesCompile) {
  // About 56000 tables. Takes some 8 s and 1 GB with a release build; it took minutes
  // while every unnamed index or constraint scanned all tables for a free name.
  std::string text = manyTables(10u << 20);
  ASSERT_GE(text.size(), 10u << 20);
  Outcome o = compile(text, "big.strata");
  EXPECT_TRUE(o.compiled) << o.rendered;
  EXPECT_EQ(o.errors, 0u);
  EXPECT_TRUE(o.diags.empty());
}

TEST(Robustness, TenMegabytesOfJunkStopAtTheErrorLimit) {
  std::string junk;
  junk.reserve(10u << 20);
  std::mt19937 random(7);
  const char *pieces[] = {"@#$ ", "table { ", ")) ", "version ", "\"1.0.0\" ", "'x' ", "} "};
  while (junk.size() < (10u << 20))
    junk += pieces[random() % std::size(pieces)];
  Outcome o = compile(junk, "junk.strata");
  expectRejected(o, "10 MB of junk");
  EXPECT_LE(o.diags.size(), 51u); // the error limit, then "too many errors"
}

TEST(Robustness, FileLargerThanTheLimitIsRefused) {
  ParseLimits limits;
  limits.maxFileBytes = 1000;
  Outcome o = compile(manyTables(2000), "big.strata", limits);
  expectRejected(o, "over the size limit");
  EXPECT_TRUE(o.has(DiagID::ErrFileTooLarge)) << o.rendered;
}

std::string withDefault(const std::string &expr) {
  return "subsystem core {\n  version \"1.0.0\" {\n    table t {\n      id bigint default " +
         expr + "\n    }\n  }\n}\n";
}

TEST(Robustness, HundredThousandNestedParentheses) {
  const size_t depth = 100000;
  Outcome o = compile(withDefault(std::string(depth, '(') + "1" + std::string(depth, ')')));
  expectRejected(o, "deep nesting");
  EXPECT_EQ(o.diags.size(), 1u) << "reported once";
  const Seen *s = o.first(DiagID::ErrNestingTooDeep);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->line, 4u);
  // The first '(' past the limit: "      id bigint default " is 24 columns.
  EXPECT_EQ(s->column, 24u + ParseLimits().maxNesting + 1);

  // Unbalanced, too: all opening, or all closing.
  expectRejected(compile(withDefault(std::string(depth, '('))), "only '('");
  expectRejected(compile(withDefault(std::string(depth, ')'))), "only ')'");
}

TEST(Robustness, NestingUpToTheLimitCompiles) {
  const size_t depth = ParseLimits().maxNesting;
  Outcome o = compile(withDefault(std::string(depth, '(') + "1" + std::string(depth, ')')));
  EXPECT_TRUE(o.compiled) << o.rendered;
}

// --- unterminated tokens at the end of the file ------------------------------------------

const std::string openVersion = "subsystem core {\n  version \"1.0.0\" {\n";

TEST(Robustness, UnterminatedStringAtEndOfFile) {
  Outcome o = compile(openVersion + "    table \"services");
  expectRejected(o, "unterminated string");
  const Seen *s = o.first(DiagID::ErrUnterminatedString);
  ASSERT_TRUE(s) << o.rendered;
  EXPECT_EQ(s->line, 3u);
  EXPECT_EQ(s->column, 11u);
  EXPECT_EQ(o.errors, 1u) << o.rendered;

  o = compile(openVersion + "    table t {\n      id text default 'abc");
  const Seen *sq = o.first(DiagID::ErrUnterminatedString);
  ASSERT_TRUE(sq) << o.rendered;
  EXPECT_EQ(sq->line, 4u);
  EXPECT_EQ(sq->column, 23u);
}

TEST(Robustness, UnterminatedTripleQuotedBlockAtEndOfFile) {
  Outcome o = compile(openVersion + "    sql up \"\"\"select 1;\n");
  expectRejected(o, "unterminated \"\"\"");
  const Seen *s = o.first(DiagID::ErrUnterminatedTriple);
  ASSERT_TRUE(s) << o.rendered;
  EXPECT_EQ(s->line, 3u);
  EXPECT_EQ(s->column, 12u);
  EXPECT_EQ(o.errors, 1u) << o.rendered;

  // Two or four quotes at the very end are not a closing """.
  expectRejected(compile(openVersion + "    sql up \"\"\"x\"\""), "\"\" at the end");
  expectRejected(compile(openVersion + "    sql up \"\"\""), "only the opening");
}

TEST(Robustness, UnterminatedCommentAtEndOfFile) {
  Outcome o = compile(openVersion + "  }\n} /* trailing");
  expectRejected(o, "unterminated comment");
  const Seen *s = o.first(DiagID::ErrUnterminatedComment);
  ASSERT_TRUE(s) << o.rendered;
  EXPECT_EQ(s->line, 4u);
  EXPECT_EQ(s->column, 3u);
  EXPECT_EQ(o.errors, 1u) << o.rendered;
  expectRejected(compile("/*"), "only /*");
  expectRejected(compile("/*/"), "/*/ is not a whole comment");
}

// --- inputs with nothing in them -------------------------------------------------------

TEST(Robustness, EmptyFileIsFine) {
  // A file with no subsystem is not an error: a project may keep one per file.
  for (const char *text : {"", "\n", "   \t\r\n\f"}) {
    Outcome o = compile(text);
    EXPECT_TRUE(o.compiled);
    EXPECT_TRUE(o.diags.empty()) << o.rendered;
  }
}

TEST(Robustness, FileOfOnlyCommentsIsFine) {
  Outcome o = compile("// a line comment\n-- another\n/* a block\n   comment */\n"
                      "/* /* not nested */ // still a comment\n");
  EXPECT_TRUE(o.compiled) << o.rendered;
  EXPECT_TRUE(o.diags.empty()) << o.rendered;
}

// --- positions ---------------------------------------------------------------------------

TEST(Robustness, ThreeIndependentErrorsAtTheirLineAndColumn) {
  Outcome o = compile("subsystem core {\n"                                        // 1
                      "  version \"1.0.0\" {\n"                                    // 2
                      "    table services {\n"                                     // 3
                      "      id   uuid primary key\n"                              // 4
                      "      host texxt\n"                                         // 5
                      "      port bigint check (port > 0 and and port < 65536)\n"  // 6
                      "    }\n"                                                    // 7
                      "    backfill services set host = (lower(hots))\n"           // 8
                      "  }\n"
                      "}\n");
  ASSERT_EQ(o.errors, 3u) << o.rendered;
  std::vector<Seen> errors;
  for (const Seen &s : o.diags)
    if (s.severity == Severity::Error)
      errors.push_back(s);
  std::sort(errors.begin(), errors.end(),
            [](const Seen &a, const Seen &b) { return a.line < b.line; });
  EXPECT_EQ(errors[0].id, DiagID::ErrUnknownType);
  EXPECT_EQ(errors[0].line, 5u);
  EXPECT_EQ(errors[0].column, 12u); // texxt
  EXPECT_EQ(errors[1].id, DiagID::ErrSqlSyntax);
  EXPECT_EQ(errors[1].line, 6u);
  EXPECT_EQ(errors[1].column, 39u); // the second "and", where PostgreSQL's parser stops
  EXPECT_EQ(errors[2].id, DiagID::ErrUnknownColumn);
  EXPECT_EQ(errors[2].line, 8u);
  EXPECT_EQ(errors[2].column, 41u); // hots
}

TEST(Robustness, PositionsCountBytesAfterMultiByteCharacters) {
  // Columns are bytes, as in Clang; a two-byte 'é' before the error moves it by two.
  Outcome o = compile("subsystem café {\n  version \"1.0.0\" {\n    table t {\n"
                      "      ré uuid ¤\n    }\n  }\n}\n");
  const Seen *s = o.first(DiagID::ErrUnexpectedChar);
  ASSERT_TRUE(s) << o.rendered;
  EXPECT_EQ(s->line, 4u);
  EXPECT_EQ(s->column, 16u);
}

} // namespace
