#include "compiler/Lexer.h"

#include "compiler/RecognizerCaches.h"

#include <StrataLexer.h>
#include <antlr4-runtime.h>

#include <llvm/ADT/StringMap.h>
#include <llvm/Support/Allocator.h>
#include <llvm/Support/Format.h>
#include <llvm/Support/raw_ostream.h>

#include <cassert>

namespace strata::compiler {

using antlr4::Token;
using grammar::StrataLexer;

namespace {

// How the grammar's lexer rules are matched by hand. ANTLR's rule is: the longest match
// wins; of rules matching the same length, the one listed first in the grammar. Each case
// below computes the longest match of every rule that can start with the character at hand
// and applies that rule; the comments give the ties that decide a case.
//
// Non-ASCII: IDENT is `[\p{L}_] [\p{L}\p{N}_$]*`, and whether a code point is a letter or
// a digit is in the Unicode tables ANTLR compiled into the generated lexer's ATN; any
// table of our own could disagree with them on some code point. So a file with a non-ASCII
// character where a token starts, or right after an identifier (where it could continue
// it), is lexed whole by the generated lexer: exact by construction, and rare (names are
// ASCII in practice; non-ASCII text inside strings and comments, the common case, stays
// on the fast path since those rules take any code point).

/// Marks a match that WS makes: skipped, no token.
constexpr size_t skipType = 0;

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isIdentStart(char c) { return isAsciiLetter(c) || c == '_'; }
bool isIdentPart(char c) { return isIdentStart(c) || isDigit(c) || c == '$'; }
bool isNonAscii(char c) { return static_cast<unsigned char>(c) >= 0x80; }
bool isWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; }
bool isOpChar(char c) {
  switch (c) {
  case '+':
  case '-':
  case '*':
  case '/':
  case '<':
  case '>':
  case '=':
  case '~':
  case '!':
  case '@':
  case '#':
  case '%':
  case '^':
  case '&':
  case '|':
  case '`':
  case '?':
    return true;
  default:
    return false;
  }
}
/// The [eEbBxXuU] before the quote of a SQL literal (e'…', b'…', x'…', u'…').
bool isStringPrefix(char c) {
  switch (c) {
  case 'e':
  case 'E':
  case 'b':
  case 'B':
  case 'x':
  case 'X':
  case 'u':
  case 'U':
    return true;
  default:
    return false;
  }
}

/// The keywords, from the generated lexer's vocabulary (every literal name that is a word),
/// so that a keyword added to the grammar needs nothing here.
struct Keywords {
  llvm::StringMap<size_t> types;
  size_t longest = 0;
};
const Keywords &keywords() {
  static const Keywords map = [] {
    Keywords result;
    antlr4::ANTLRInputStream empty("");
    StrataLexer lexer(&empty);
    const antlr4::dfa::Vocabulary &vocabulary = lexer.getVocabulary();
    for (size_t type = 1; type <= vocabulary.getMaxTokenType(); ++type) {
      std::string literalName = vocabulary.getLiteralName(type); // a temporary: keep it
      llvm::StringRef literal = literalName;
      if (literal.size() < 3 || !literal.startswith("'") || !literal.endswith("'"))
        continue;
      llvm::StringRef word = literal.drop_front().drop_back();
      if (!llvm::all_of(word, isAsciiLetter))
        continue;
      result.types[word] = type;
      result.longest = std::max(result.longest, word.size());
    }
    return result;
  }();
  return map;
}

/// A token's rule and where it ends (one past its last byte).
struct Match {
  size_t type = skipType;
  size_t channel = Token::DEFAULT_CHANNEL;
  const char *end = nullptr;
};

class Scanner {
public:
  explicit Scanner(llvm::StringRef text) : bufferEnd(text.data() + text.size()) {}

  /// Matches the token at \p p (before the end of the text). False when it needs the
  /// Unicode tables (see above).
  bool scan(const char *p, Match &match) const {
    char c = *p;
    match.channel = Token::DEFAULT_CHANNEL;
    auto single = [&](size_t type) {
      match.type = type;
      match.end = p + 1;
      return true;
    };
    switch (c) {
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case '\f': {
      const char *q = p + 1;
      while (q < bufferEnd && isWhitespace(*q))
        ++q;
      match.type = skipType;
      match.end = q;
      return true;
    }
    case '{':
      return single(StrataLexer::LBRACE);
    case '}':
      return single(StrataLexer::RBRACE);
    case '(':
      return single(StrataLexer::LPAREN);
    case ')':
      return single(StrataLexer::RPAREN);
    case '[':
      return single(StrataLexer::LBRACK);
    case ']':
      return single(StrataLexer::RBRACK);
    case ',':
      return single(StrataLexer::COMMA);
    case ';':
      return single(StrataLexer::SEMI);
    case ':':
      return single(StrataLexer::COLON);
    case '"':
      scanDoubleQuoted(p, match);
      return true;
    case '\'':
      scanSingleQuoted(p, match);
      return true;
    case '$':
      scanDollar(p, match);
      return true;
    case '.':
      // DOT, unless DECIMAL's `'.' [0-9]+ …` matches longer.
      if (p + 1 < bufferEnd && isDigit(p[1])) {
        match.type = StrataLexer::DECIMAL;
        match.end = exponent(digits(p + 1));
        return true;
      }
      return single(StrataLexer::DOT);
    default:
      break;
    }
    if (isDigit(c)) {
      scanNumber(p, match);
      return true;
    }
    if (isIdentStart(c))
      return scanWord(p, match);
    if (isOpChar(c)) {
      scanOperator(p, match);
      return true;
    }
    if (isNonAscii(c))
      return false;
    return single(StrataLexer::ERROR_CHAR); // an ASCII character no rule starts with
  }

private:
  const char *bufferEnd;

  const char *digits(const char *q) const {
    while (q < bufferEnd && isDigit(*q))
      ++q;
    return q;
  }

  /// Past `[eE] [+-]? [0-9]+` at \p q if it is there whole, else \p q.
  const char *exponent(const char *q) const {
    if (q == bufferEnd || (*q != 'e' && *q != 'E'))
      return q;
    const char *r = q + 1;
    if (r < bufferEnd && (*r == '+' || *r == '-'))
      ++r;
    if (r == bufferEnd || !isDigit(*r))
      return q;
    return digits(r);
  }

  /// Past the run of `c` characters starting at \p q.
  const char *run(const char *q, char c) const {
    while (q < bufferEnd && *q == c)
      ++q;
    return q;
  }

  /// Past the first \p delimiter (two or three characters) at or after \p q, or the end
  /// of the text.
  const char *through(const char *q, llvm::StringRef delimiter) const {
    size_t found = llvm::StringRef(q, bufferEnd - q).find(delimiter);
    return found == llvm::StringRef::npos ? bufferEnd : q + found + delimiter.size();
  }

  void scanNumber(const char *p, Match &match) const {
    // DECIMAL when a '.' or a whole exponent follows the digits, else INT (the same
    // length would go to DECIMAL, listed first, but INT is never as long).
    const char *q = digits(p);
    if (q < bufferEnd && *q == '.') {
      match.type = StrataLexer::DECIMAL;
      match.end = exponent(digits(q + 1));
      return;
    }
    const char *e = exponent(q);
    match.type = e == q ? size_t(StrataLexer::INT) : size_t(StrataLexer::DECIMAL);
    match.end = e;
  }

  bool scanWord(const char *p, Match &match) const {
    // e'…': SQ_STRING or UNTERMINATED_SQ_STRING, longer than the one-letter IDENT.
    if (isStringPrefix(*p) && p + 1 < bufferEnd && p[1] == '\'') {
      scanSingleQuoted(p + 1, match);
      return true;
    }
    const char *q = p + 1;
    while (q < bufferEnd && isIdentPart(*q))
      ++q;
    if (q < bufferEnd && isNonAscii(*q))
      return false; // a letter or digit would continue the name
    match.end = q;
    match.type = StrataLexer::IDENT;
    // A keyword matches exactly its letters: the same length as IDENT, and listed first.
    const Keywords &words = keywords();
    if (size_t(q - p) <= words.longest) {
      auto it = words.types.find(llvm::StringRef(p, q - p));
      if (it != words.types.end())
        match.type = it->second;
    }
    return true;
  }

  /// `"`: TRIPLE_STRING, STRING or UNTERMINATED_STRING.
  void scanDoubleQuoted(const char *p, Match &match) const {
    // STRING's body takes `""` pairs, so a run of quotes inside it is consumed whole when
    // its length is even; an odd run ends the string with its last quote. The body stops
    // at a line break or the end: then UNTERMINATED_STRING is the longest (STRING's last
    // possible close is inside a run it consumed). An odd run makes STRING one longer
    // than UNTERMINATED_STRING, which could not take the last quote.
    const char *q = p + 1;
    for (;;) {
      if (q == bufferEnd || *q == '\r' || *q == '\n') {
        match.type = StrataLexer::UNTERMINATED_STRING;
        break;
      }
      if (*q != '"') {
        ++q;
        continue;
      }
      const char *r = run(q, '"');
      if ((r - q) % 2 == 0) {
        q = r;
        continue;
      }
      q = r;
      match.type = StrataLexer::STRING;
      break;
    }
    match.end = q;
    // TRIPLE_STRING ends at the first `"""` after the opening one (non-greedy) or at the
    // end of the text; at equal length it wins, being listed first.
    if (bufferEnd - p >= 3 && p[1] == '"' && p[2] == '"') {
      const char *triple = through(p + 3, "\"\"\"");
      if (triple >= match.end) {
        match.type = StrataLexer::TRIPLE_STRING;
        match.end = triple;
      }
    }
  }

  /// `'` at \p quote (the token start, or after a [eEbBxXuU] prefix): SQ_STRING, or
  /// UNTERMINATED_SQ_STRING when the literal runs to the end of the text.
  void scanSingleQuoted(const char *quote, Match &match) const {
    // As for STRING: an even run of quotes is `''` pairs, an odd one closes the literal.
    // No line break ends it. Reaching the end, UNTERMINATED_SQ_STRING (`… EOF`) is longer
    // than any close SQ_STRING could have made before.
    const char *q = quote + 1;
    for (;;) {
      if (q == bufferEnd) {
        match.type = StrataLexer::UNTERMINATED_SQ_STRING;
        break;
      }
      if (*q != '\'') {
        ++q;
        continue;
      }
      const char *r = run(q, '\'');
      bool pairs = (r - q) % 2 == 0;
      q = r;
      if (pairs)
        continue;
      match.type = StrataLexer::SQ_STRING;
      break;
    }
    match.end = q;
  }

  /// `$`: DOLLAR_STRING (to the first `$$` after the opening one; unterminated, it does
  /// not match at all), PARAM, or ERROR_CHAR.
  void scanDollar(const char *p, Match &match) const {
    if (p + 1 < bufferEnd && p[1] == '$') {
      size_t found = llvm::StringRef(p + 2, bufferEnd - p - 2).find("$$");
      if (found != llvm::StringRef::npos) {
        match.type = StrataLexer::DOLLAR_STRING;
        match.end = p + 2 + found + 2;
        return;
      }
    }
    if (p + 1 < bufferEnd && isDigit(p[1])) {
      match.type = StrataLexer::PARAM;
      match.end = digits(p + 1);
      return;
    }
    match.type = StrataLexer::ERROR_CHAR;
    match.end = p + 1;
  }

  /// An operator character: OP, EQ, LINE_COMMENT or BLOCK_COMMENT.
  void scanOperator(const char *p, Match &match) const {
    const char *op = p + 1;
    while (op < bufferEnd && isOpChar(*op))
      ++op;
    char next = p + 1 < bufferEnd ? p[1] : '\0';
    // `//`, `--`: the comment runs to the line break, never shorter than the operator
    // characters (none is a line break), and wins ties, being listed first.
    if ((*p == '/' && next == '/') || (*p == '-' && next == '-')) {
      const char *q = p + 2;
      while (q < bufferEnd && *q != '\r' && *q != '\n')
        ++q;
      match.type = StrataLexer::LINE_COMMENT;
      match.channel = Token::HIDDEN_CHANNEL;
      match.end = q;
      return;
    }
    // `/*`: the comment, unless the operator characters run longer (`/**/+` is one OP).
    if (*p == '/' && next == '*') {
      const char *q = through(p + 2, "*/");
      if (q >= op) {
        match.type = StrataLexer::BLOCK_COMMENT;
        match.channel = Token::HIDDEN_CHANNEL;
        match.end = q;
        return;
      }
    }
    // A lone `=` is EQ, listed before OP.
    match.type = (*p == '=' && op == p + 1) ? size_t(StrataLexer::EQ) : size_t(StrataLexer::OP);
    match.end = op;
  }
};

class Lexer;

/// A token whose text is a slice of the buffer: no copy unless asked for (CommonToken
/// either stores a copy or re-encodes the code points of the ANTLR input stream). Tokens
/// are allocated in their lexer's arena (`new (lexer.arena()) BufferToken(...)`), not one
/// malloc each: deleting one (the token stream owns them by unique_ptr) runs its
/// destructor and frees nothing; the arena goes with the lexer, which outlives its tokens.
class BufferToken final : public antlr4::WritableToken {
public:
  static void *operator new(size_t size, llvm::BumpPtrAllocator &arena) {
    return arena.Allocate(size, alignof(BufferToken));
  }
  static void operator delete(void *, llvm::BumpPtrAllocator &) {}
  static void operator delete(void *) {}

  BufferToken(Lexer *source, size_t type, size_t channel, size_t start, size_t stop, size_t line,
              size_t column, llvm::StringRef text)
      : source(source), type(type), channel(channel), start(start), stop(stop), line(line),
        column(column), text(text) {}

  std::string getText() const override {
    if (replacedText)
      return *replacedText;
    if (type == Token::EOF)
      return "<EOF>"; // what CommonToken says for the EOF token
    return text.str();
  }
  size_t getType() const override { return type; }
  size_t getLine() const override { return line; }
  size_t getCharPositionInLine() const override { return column; }
  size_t getChannel() const override { return channel; }
  size_t getTokenIndex() const override { return index; }
  size_t getStartIndex() const override { return start; }
  size_t getStopIndex() const override { return stop; }
  antlr4::TokenSource *getTokenSource() const override;
  antlr4::CharStream *getInputStream() const override { return nullptr; }
  std::string toString() const override {
    std::string out;
    llvm::raw_string_ostream os(out);
    os << "[@" << static_cast<long>(index) << "," << start << ":" << static_cast<long>(stop) << "='"
       << getText() << "',<" << static_cast<long>(type) << ">"
       << (channel > 0 ? ",channel=" + std::to_string(channel) : "") << "," << line << ":" << column
       << "]";
    return os.str();
  }

  void setText(const std::string &newText) override {
    replacedText = std::make_unique<std::string>(newText);
  }
  void setType(size_t newType) override { type = newType; }
  void setLine(size_t newLine) override { line = newLine; }
  void setCharPositionInLine(size_t pos) override { column = pos; }
  void setChannel(size_t newChannel) override { channel = newChannel; }
  void setTokenIndex(size_t newIndex) override { index = newIndex; }

private:
  Lexer *source;
  size_t type;
  size_t channel;
  size_t start;
  size_t stop;
  size_t line;
  size_t column;
  size_t index = INVALID_INDEX;
  llvm::StringRef text;
  std::unique_ptr<std::string> replacedText;
};

/// The token source: the scanner, or the generated lexer for a file that needs its
/// Unicode tables.
class Lexer final : public antlr4::TokenSource {
public:
  explicit Lexer(llvm::StringRef text) : text(text), scanner(text), pos(text.data()) {
    if (lexerNeedsUnicodeTables(text)) {
      generatedInput = std::make_unique<antlr4::ANTLRInputStream>(text.data(), text.size());
      generated = std::make_unique<StrataLexer>(generatedInput.get());
      generated->removeErrorListeners(); // ERROR_CHAR catches everything else
      useThreadCaches<antlr4::atn::LexerATNSimulator>(*generated);
    }
  }

  std::unique_ptr<Token> nextToken() override {
    if (generated)
      return generated->nextToken();
    const char *end = text.data() + text.size();
    Match match;
    while (pos < end) {
      bool scanned = scanner.scan(pos, match);
      assert(scanned && "non-ASCII outside strings was checked for in the constructor");
      (void)scanned;
      size_t startIndex = index;
      size_t startLine = line;
      size_t startColumn = column;
      const char *start = pos;
      advance(match.end);
      if (match.type == skipType)
        continue;
      return std::unique_ptr<Token>(
          new (arena) BufferToken(this, match.type, match.channel, startIndex, index - 1, startLine,
                                  startColumn, llvm::StringRef(start, match.end - start)));
    }
    // As the generated lexer: the EOF token is at the end, stopping just before it.
    return std::unique_ptr<Token>(new (arena) BufferToken(this, Token::EOF, Token::DEFAULT_CHANNEL,
                                                          index, index - 1, line, column, {}));
  }

  size_t getLine() const override { return generated ? generated->getLine() : line; }
  size_t getCharPositionInLine() override {
    return generated ? generated->getCharPositionInLine() : column;
  }
  antlr4::CharStream *getInputStream() override { return generatedInput.get(); }
  std::string getSourceName() override { return antlr4::IntStream::UNKNOWN_SOURCE_NAME; }
  antlr4::TokenFactory<antlr4::CommonToken> *getTokenFactory() override {
    return antlr4::CommonTokenFactory::DEFAULT.get();
  }

private:
  llvm::StringRef text;
  Scanner scanner;
  const char *pos;
  size_t index = 0; ///< code points before pos
  size_t line = 1;
  size_t column = 0;
  std::unique_ptr<antlr4::ANTLRInputStream> generatedInput;
  std::unique_ptr<StrataLexer> generated;
  llvm::BumpPtrAllocator arena; ///< the tokens

  /// Moves to \p to, counting code points and lines as ANTLR does: only '\n' starts a
  /// line ('\r' is a column like any other character).
  void advance(const char *to) {
    for (; pos < to; ++pos) {
      char c = *pos;
      if (c == '\n') {
        ++line;
        column = 0;
        ++index;
      } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
        ++column;
        ++index;
      }
    }
  }
};

antlr4::TokenSource *BufferToken::getTokenSource() const { return source; }

LexedToken toLexed(const Token &token) {
  LexedToken lexed;
  lexed.type = token.getType();
  lexed.channel = token.getChannel();
  lexed.start = token.getStartIndex();
  lexed.stop = token.getStopIndex();
  lexed.line = token.getLine();
  lexed.column = token.getCharPositionInLine();
  lexed.text = token.getText();
  return lexed;
}

std::vector<LexedToken> lexAll(antlr4::TokenSource &source) {
  std::vector<LexedToken> tokens;
  for (;;) {
    std::unique_ptr<Token> token = source.nextToken();
    tokens.push_back(toLexed(*token));
    if (token->getType() == Token::EOF)
      return tokens;
  }
}

} // namespace

std::unique_ptr<antlr4::TokenSource> createLexer(llvm::StringRef text) {
  return std::make_unique<Lexer>(text);
}

bool lexerNeedsUnicodeTables(llvm::StringRef text) {
  if (llvm::none_of(text, isNonAscii))
    return false;
  Scanner scanner(text);
  Match match;
  for (const char *p = text.data(), *end = p + text.size(); p < end; p = match.end)
    if (!scanner.scan(p, match))
      return true;
  return false;
}

bool LexedToken::operator==(const LexedToken &other) const {
  return type == other.type && channel == other.channel && start == other.start &&
         stop == other.stop && line == other.line && column == other.column && text == other.text;
}

std::string LexedToken::describe() const {
  std::string name = type == Token::EOF ? "EOF" : std::to_string(type);
  {
    antlr4::ANTLRInputStream empty("");
    StrataLexer lexer(&empty);
    if (type != Token::EOF)
      name = lexer.getVocabulary().getSymbolicName(type);
  }
  std::string out;
  llvm::raw_string_ostream os(out);
  os << name << " " << line << ":" << column << " [" << static_cast<long>(start) << ".."
     << static_cast<long>(stop) << "] ch" << channel << " \"";
  os.write_escaped(text);
  os << "\"";
  return os.str();
}

std::vector<LexedToken> lexWithStrataLexer(llvm::StringRef text) {
  Lexer lexer(text);
  return lexAll(lexer);
}

std::vector<LexedToken> lexWithGeneratedLexer(llvm::StringRef text) {
  antlr4::ANTLRInputStream input(text.data(), text.size());
  StrataLexer lexer(&input);
  lexer.removeErrorListeners();
  return lexAll(lexer);
}

} // namespace strata::compiler
