#include "compiler/Parser.h"

#include "compiler/ASTContext.h"
#include "compiler/Lexer.h"
#include "compiler/RecognizerCaches.h"
#include "compiler/Types.h"

#include <StrataLexer.h>
#include <StrataParser.h>
#include <antlr4-runtime.h>

#include <llvm/ADT/SmallString.h>
#include <llvm/ADT/SmallVector.h>
#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/ConvertUTF.h>
#include <llvm/Support/SourceMgr.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <mutex>

namespace strata::compiler {

using grammar::StrataLexer;
using grammar::StrataParser;
using antlr4::Token;
using antlr4::tree::TerminalNode;

namespace {

/// PostgreSQL's NAMEDATALEN - 1: longer names are truncated silently by the server, which
/// strata refuses to let happen.
constexpr size_t maxIdentifierBytes = 63;

/// ANTLR indexes characters (code points); diagnostics need byte offsets into the buffer.
class OffsetMap {
public:
  explicit OffsetMap(llvm::StringRef text) {
    ascii = llvm::all_of(text, [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    if (ascii)
      return;
    offsets.reserve(text.size() + 1);
    for (size_t i = 0; i < text.size(); ++i)
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80)
        offsets.push_back(static_cast<uint32_t>(i));
    offsets.push_back(static_cast<uint32_t>(text.size()));
  }
  size_t byteOffset(size_t charIndex) const {
    if (ascii)
      return charIndex;
    return charIndex < offsets.size() ? offsets[charIndex] : offsets.back();
  }

private:
  bool ascii = true;
  std::vector<uint32_t> offsets;
};

/// Thrown from the error listener to stop parsing once the error limit is reached; caught
/// in parseBuffer.
struct StopParsing {};

/// Token descriptions for syntax errors: what a user would call the thing.
std::string describeTokenType(size_t type, const antlr4::dfa::Vocabulary &vocabulary) {
  switch (type) {
  case Token::EOF:
    return "end of file";
  case StrataLexer::IDENT:
    return "a name";
  case StrataLexer::STRING:
    return "a quoted string";
  case StrataLexer::SQ_STRING:
    return "a string literal";
  case StrataLexer::TRIPLE_STRING:
    return "a \"\"\" block";
  case StrataLexer::INT:
  case StrataLexer::DECIMAL:
    return "a number";
  case StrataLexer::OP:
    return "an operator";
  default:
    break;
  }
  std::string literal = vocabulary.getLiteralName(type);
  if (!literal.empty())
    return literal;
  return vocabulary.getDisplayName(type);
}

std::string describeToken(Token *token, const antlr4::dfa::Vocabulary &vocabulary) {
  if (!token || token->getType() == Token::EOF)
    return "end of file";
  std::string text = token->getText();
  if (text.size() > 40)
    text = text.substr(0, 37) + "...";
  switch (token->getType()) {
  case StrataLexer::IDENT:
  case StrataLexer::STRING:
  case StrataLexer::SQ_STRING:
  case StrataLexer::TRIPLE_STRING:
  case StrataLexer::INT:
  case StrataLexer::DECIMAL:
    return describeTokenType(token->getType(), vocabulary) + " " + text;
  default:
    return "'" + text + "'";
  }
}

/// What the parser wanted, by rule, when the token set itself is too long to list.
const char *describeRule(size_t rule) {
  switch (rule) {
  case StrataParser::RuleFile:
    return "'subsystem'";
  case StrataParser::RuleSubsystemDecl:
  case StrataParser::RuleSubsystemItem:
    return "'version', 'baseline', 'requires' or '}'";
  case StrataParser::RuleVersionDecl:
  case StrataParser::RuleStatement:
  case StrataParser::RuleStatementBody:
    return "a statement ('table', 'alter table', 'drop table', 'rename table', 'enum', "
           "'backfill', 'sql') or '}'";
  case StrataParser::RuleTableElement:
  case StrataParser::RuleColumnDef:
  case StrataParser::RuleColumnOption:
  case StrataParser::RuleColumnConstraint:
    return "a column option, or a column, constraint or index definition";
  case StrataParser::RuleTableConstraint:
  case StrataParser::RuleTableConstraintBody:
    return "'primary key', 'unique', 'check' or 'foreign key'";
  case StrataParser::RuleAlterAction:
  case StrataParser::RuleAlterActionBody:
    return "an alter table action ('add', 'drop', 'rename', 'alter column') or '}'";
  case StrataParser::RuleAlterColumnChange:
    return "'type', 'set not null', 'drop not null', 'set default' or 'drop default'";
  case StrataParser::RuleTypeName:
  case StrataParser::RuleBaseType:
    return "a type name";
  case StrataParser::RuleExpr:
    return "an SQL expression in parentheses, or a literal";
  case StrataParser::RuleIdent:
  case StrataParser::RuleSoftKeyword:
    return "a name";
  case StrataParser::RuleIndexDef:
  case StrataParser::RuleIndexElem:
  case StrataParser::RuleIndexExpr:
    return "an index column or expression";
  default:
    return nullptr;
  }
}

bool isReservedKeyword(size_t type) {
  switch (type) {
  case StrataLexer::NOT:
  case StrataLexer::DEFAULT:
  case StrataLexer::NULL_KW:
  case StrataLexer::PRIMARY:
  case StrataLexer::UNIQUE:
  case StrataLexer::CHECK:
  case StrataLexer::REFERENCES:
  case StrataLexer::FOREIGN:
  case StrataLexer::CONSTRAINT:
  case StrataLexer::INDEX:
  case StrataLexer::ON:
  case StrataLexer::WHERE:
  case StrataLexer::TRUE_KW:
  case StrataLexer::FALSE_KW:
    return true;
  default:
    return false;
  }
}

/// The previous token on the default channel, or null.
Token *previousToken(antlr4::BufferedTokenStream &stream, Token *token) {
  for (size_t i = token->getTokenIndex(); i-- > 0;) {
    Token *t = stream.get(i);
    if (t->getChannel() == Token::DEFAULT_CHANNEL)
      return t;
  }
  return nullptr;
}

/// The next token on the default channel (EOF at the end).
Token *nextToken(antlr4::BufferedTokenStream &stream, Token *token) {
  for (size_t i = token->getTokenIndex() + 1; i < stream.size(); ++i) {
    Token *t = stream.get(i);
    if (t->getChannel() == Token::DEFAULT_CHANNEL || t->getType() == Token::EOF)
      return t;
  }
  return nullptr;
}

bool startsTypeName(Token *token) {
  switch (token->getType()) {
  case StrataLexer::DOUBLE:
  case StrataLexer::CHARACTER:
  case StrataLexer::BIT:
  case StrataLexer::TIMESTAMP:
  case StrataLexer::TIME:
    return true;
  case StrataLexer::IDENT:
    return lookupBuiltinType(llvm::StringRef(token->getText()).lower()).has_value();
  default:
    return false;
  }
}

/// A reserved word that starts a line and is followed by a type name was meant as a
/// column name (`check text`, `index integer`): the parser takes it for a column option
/// or an index and fails a token or two later. Looks back from \p offending for it.
Token *reservedWordAsColumnName(antlr4::BufferedTokenStream &stream, Token *offending) {
  Token *t = offending;
  for (int looked = 0; t && looked < 3; ++looked, t = previousToken(stream, t)) {
    if (!isReservedKeyword(t->getType()))
      continue;
    Token *before = previousToken(stream, t);
    Token *after = nextToken(stream, t);
    if ((!before || before->getLine() < t->getLine()) && after && startsTypeName(after))
      return t;
  }
  return nullptr;
}

bool isLiteral(size_t type) {
  switch (type) {
  case StrataLexer::INT:
  case StrataLexer::DECIMAL:
  case StrataLexer::SQ_STRING:
  case StrataLexer::TRUE_KW:
  case StrataLexer::FALSE_KW:
  case StrataLexer::NULL_KW:
    return true;
  default:
    return false;
  }
}

/// `default 1 + 2`, `default true and false`: an expression written without parentheses
/// ends after its first literal, and the rest fails to parse as the next column. Returns
/// that literal when \p token follows it on its line.
Token *bareLiteralBefore(antlr4::BufferedTokenStream &stream, Token *token) {
  Token *literal = previousToken(stream, token);
  if (!literal || literal->getLine() != token->getLine() || !isLiteral(literal->getType()))
    return nullptr;
  Token *before = previousToken(stream, literal);
  if (before && before->getType() == StrataLexer::OP) // a signed number
    before = previousToken(stream, before);
  if (!before)
    return nullptr;
  switch (before->getType()) {
  case StrataLexer::DEFAULT:
  case StrataLexer::FILL:
  case StrataLexer::CHECK:
  case StrataLexer::USING:
  case StrataLexer::WHERE:
  case StrataLexer::EQ:
    return literal;
  default:
    return nullptr;
  }
}

class SourceText {
public:
  SourceText(llvm::StringRef buffer) : buffer(buffer), map(buffer) {}

  llvm::SMLoc loc(size_t charIndex) const {
    return llvm::SMLoc::getFromPointer(buffer.data() + map.byteOffset(charIndex));
  }
  SourceRange range(Token *start, Token *stop) const {
    assert(start && "range of a missing token");
    if (!stop || stop->getStopIndex() + 1 < start->getStartIndex())
      stop = start;
    return SourceRange(loc(start->getStartIndex()), loc(stop->getStopIndex() + 1));
  }
  SourceRange range(Token *token) const { return range(token, token); }
  SourceRange range(TerminalNode *node) const { return range(node->getSymbol()); }
  SourceRange range(antlr4::ParserRuleContext *ctx) const {
    return range(ctx->getStart(), ctx->getStop());
  }
  unsigned lineOf(llvm::SMLoc loc) const {
    return 1 + static_cast<unsigned>(
                   llvm::StringRef(buffer.data(), loc.getPointer() - buffer.data()).count('\n'));
  }
  static llvm::StringRef text(SourceRange range) {
    return llvm::StringRef(range.Start.getPointer(),
                           range.End.getPointer() - range.Start.getPointer());
  }

private:
  llvm::StringRef buffer;
  OffsetMap map;
};

class ErrorListener : public antlr4::BaseErrorListener {
public:
  ErrorListener(DiagnosticsEngine &diags, const SourceText &source)
      : diags(diags), source(source) {}

  void syntaxError(antlr4::Recognizer *recognizer, Token *offending, size_t, size_t,
                   const std::string &msg, std::exception_ptr) override {
    auto *parser = dynamic_cast<antlr4::Parser *>(recognizer);
    listedTokens = false;
    std::string message = parser ? explain(*parser, offending) : msg;
    StrataParser::ExprArgsContext *open = parser ? enclosingParens(parser->getContext()) : nullptr;
    bool unclosed = open && offending && offending->getType() != StrataLexer::RPAREN;
    if (unclosed)
      message = "expected ')', found " + describeToken(offending, parser->getVocabulary());
    auto *stream = parser ? dynamic_cast<antlr4::BufferedTokenStream *>(parser->getTokenStream())
                          : nullptr;
    // A column option taken for the name of a new column (`fill now()` read as a column
    // "fill" of type "now"): say what the option needed, at what was found instead.
    Token *option = stream ? misreadColumnOption(*stream, parser->getContext(), offending) : nullptr;
    Token *afterOption = option ? nextToken(*stream, option) : nullptr;
    if (afterOption) {
      offending = afterOption;
      message = std::string("expected ") +
                (option->getType() == StrataLexer::WAS
                     ? "a quoted column name"
                     : "an SQL expression in parentheses, or a literal") +
                ", found " + describeToken(offending, parser->getVocabulary());
    }
    // A missing token belongs after the previous one; an unexpected one is shown itself.
    bool missing = unclosed || listedTokens || (offending && offending->getType() == Token::EOF);
    SourceRange where = offending ? place(parser, offending, missing) : SourceRange();
    // Like Go's parser: one syntax error per line, and none right after another. Those are
    // almost always the parser recovering from the first.
    if (where.Start.isValid()) {
      unsigned line = source.lineOf(where.Start);
      if (line == lastErrorLine || followsLastError(parser, offending))
        return;
      lastErrorLine = line;
      lastErrorToken = offending;
    }
    auto builder = diags.report(DiagID::ErrSyntax, where, message);
    if (unclosed)
      builder.note(DiagID::NoteToMatchThis, source.range(open->getStart()), "(");
    Token *literal = nullptr;
    if (offending && stream && !unclosed) {
      literal = bareLiteralBefore(*stream, offending);
      if (auto *column = enclosingColumnDef(parser->getContext()); column && !literal)
        literal = bareLiteralBefore(*stream, column->getStart());
    }
    if (literal) {
      builder.note(DiagID::NoteParenthesize, source.range(literal));
    } else {
      Token *keyword = nullptr;
      if (offending && isReservedKeyword(offending->getType()) && parser &&
          parser->getExpectedTokens().contains(size_t(StrataLexer::IDENT)))
        keyword = offending;
      if (!keyword && offending && stream)
        keyword = reservedWordAsColumnName(*stream, offending);
      if (keyword)
        builder.note(DiagID::NoteQuoteKeyword, source.range(keyword), keyword->getText());
    }
    if (diags.limitReached())
      throw StopParsing();
  }

private:
  static StrataParser::ColumnDefContext *enclosingColumnDef(antlr4::ParserRuleContext *ctx) {
    for (; ctx; ctx = dynamic_cast<antlr4::ParserRuleContext *>(ctx->parent))
      if (auto *column = dynamic_cast<StrataParser::ColumnDefContext *>(ctx))
        return column;
    return nullptr;
  }

  /// The `fill` or `was` in the middle of a line that the parser could not take as a
  /// column option: \p offending itself, or the name of the column definition the error
  /// is in.
  static Token *misreadColumnOption(antlr4::BufferedTokenStream &stream,
                                    antlr4::ParserRuleContext *ctx, Token *offending) {
    StrataParser::ColumnDefContext *column = enclosingColumnDef(ctx);
    Token *name = column ? column->getStart() : offending;
    if (!name || (name->getType() != StrataLexer::FILL && name->getType() != StrataLexer::WAS))
      return nullptr;
    Token *before = previousToken(stream, name);
    if (!before || before->getLine() != name->getLine())
      return nullptr;
    return name;
  }

  /// The parenthesised expression being parsed, if the error is inside one.
  static StrataParser::ExprArgsContext *enclosingParens(antlr4::ParserRuleContext *ctx) {
    for (; ctx; ctx = dynamic_cast<antlr4::ParserRuleContext *>(ctx->parent))
      if (auto *args = dynamic_cast<StrataParser::ExprArgsContext *>(ctx))
        return args;
    return nullptr;
  }

  std::string explain(antlr4::Parser &parser, Token *offending) {
    antlr4::misc::IntervalSet expected;
    try {
      expected = parser.getExpectedTokens();
    } catch (...) {
      // getExpectedTokens can fail in odd recovery states; the rule still tells the story.
    }
    std::string found = describeToken(offending, parser.getVocabulary());
    std::vector<size_t> types;
    for (ssize_t t : expected.toList())
      types.push_back(static_cast<size_t>(t));
    // The grammar's ident alternatives list every soft keyword; say "a name" once.
    if (expected.contains(size_t(StrataLexer::IDENT)))
      types.erase(std::remove_if(types.begin(), types.end(),
                                 [](size_t t) {
                                   return t != StrataLexer::IDENT && t != StrataLexer::STRING &&
                                          t >= StrataLexer::SUBSYSTEM && t <= StrataLexer::AS;
                                 }),
                  types.end());
    if (expected.contains(size_t(StrataLexer::IDENT)) && expected.contains(size_t(StrataLexer::STRING)))
      types.erase(std::remove(types.begin(), types.end(), size_t(StrataLexer::STRING)),
                  types.end());
    if (!types.empty() && types.size() <= 4) {
      // "expected ')' or ','": a token is missing, unless a name would have done.
      listedTokens = !expected.contains(size_t(StrataLexer::IDENT));
      std::string list;
      for (size_t i = 0; i < types.size(); ++i) {
        if (i)
          list += i + 1 == types.size() ? " or " : ", ";
        list += describeTokenType(types[i], parser.getVocabulary());
      }
      return "expected " + list + ", found " + found;
    }
    antlr4::ParserRuleContext *context = parser.getContext();
    if (dynamic_cast<StrataParser::TableStmtContext *>(context))
      return "expected a column, constraint or index definition, or '}', found " + found;
    if (dynamic_cast<StrataParser::AlterTableStmtContext *>(context))
      return "expected an alter table action ('add', 'drop', 'rename', 'alter column') or "
             "'}', found " + found;
    if (const char *rule = describeRule(context->getRuleIndex()))
      return std::string("expected ") + rule + ", found " + found;
    return "unexpected " + found;
  }

  /// Clang puts "expected X" right after the previous token when a token is \p missing and
  /// the offending one is on a later line: that is where the missing piece belongs. An
  /// unexpected token is shown where it is.
  SourceRange place(antlr4::Parser *parser, Token *offending, bool missing) {
    if (!parser || !missing)
      return source.range(offending);
    auto *stream = dynamic_cast<antlr4::BufferedTokenStream *>(parser->getTokenStream());
    if (!stream || offending->getTokenIndex() == 0)
      return source.range(offending);
    Token *previous = previousToken(*stream, offending);
    if (!previous || previous->getLine() == offending->getLine())
      return source.range(offending);
    llvm::SMLoc after = source.loc(previous->getStopIndex() + 1);
    return SourceRange(after, after);
  }

  /// Is \p offending one of the two tokens after the last error's?
  bool followsLastError(antlr4::Parser *parser, Token *offending) {
    auto *stream = parser ? dynamic_cast<antlr4::BufferedTokenStream *>(parser->getTokenStream())
                          : nullptr;
    if (!stream || !lastErrorToken || !offending)
      return false;
    Token *t = offending;
    for (int steps = 0; t && steps < 2; ++steps) {
      t = previousToken(*stream, t);
      if (t == lastErrorToken)
        return true;
    }
    return false;
  }

  DiagnosticsEngine &diags;
  const SourceText &source;
  Token *lastErrorToken = nullptr;
  bool listedTokens = false; ///< set by explain(): the message lists the tokens expected
  unsigned lastErrorLine = 0;
};

/// ANTLR's recovery skips tokens until one that may follow the failed rule. Inside a block
/// that is often the block's own '}', so the enclosing rule ends a block early and every
/// later '}' becomes an error of its own. Skipping whole {...} groups, and resynchronising
/// inside a block's element loop instead of leaving the block, keeps one mistake to one
/// message.
class BlockRecovery : public antlr4::DefaultErrorStrategy {
public:
  void sync(antlr4::Parser *parser) override {
    if (inErrorRecoveryMode(parser))
      return;
    antlr4::atn::ATNState *state = parser->getInterpreter<antlr4::atn::ATNSimulator>()
                                       ->atn.states[parser->getState()];
    size_t type = state->getStateType();
    bool blockStart = type == antlr4::atn::ATNState::BLOCK_START ||
                      type == antlr4::atn::ATNState::STAR_BLOCK_START ||
                      type == antlr4::atn::ATNState::PLUS_BLOCK_START;
    if (type != antlr4::atn::ATNState::STAR_LOOP_ENTRY && !blockStart)
      return DefaultErrorStrategy::sync(parser);
    antlr4::misc::IntervalSet next = parser->getATN().nextTokens(state);
    size_t la = parser->getTokenStream()->LA(1);
    if (next.contains(Token::EPSILON) || next.contains(la))
      return;
    if (singleTokenDeletion(parser))
      return;
    // The default throws here, which abandons the rule (and its block). Before an
    // optional part, the token match that follows can still insert a missing '{' or ')';
    // a loop reports and skips to its next element instead.
    if (blockStart)
      return;
    reportUnwantedToken(parser);
    consumeUntil(parser, parser->getExpectedTokens().Or(getErrorRecoverySet(parser)));
  }

  /// A '}' or the end of the file can never be inside parentheses: each enclosing ')' is
  /// missing, and is inserted rather than making the braces that follow part of an error.
  Token *recoverInline(antlr4::Parser *parser) override {
    size_t la = parser->getInputStream()->LA(1);
    if ((la == StrataLexer::RBRACE || la == Token::EOF) &&
        parser->getExpectedTokens().contains(size_t(StrataLexer::RPAREN))) {
      reportMissingToken(parser); // once: later calls are in error recovery mode
      return getMissingSymbol(parser);
    }
    return DefaultErrorStrategy::recoverInline(parser);
  }

protected:
  void consumeUntil(antlr4::Parser *parser, const antlr4::misc::IntervalSet &set) override {
    size_t depth = 0;
    for (size_t type = parser->getInputStream()->LA(1); type != Token::EOF;
         type = parser->getInputStream()->LA(1)) {
      if (depth == 0 && set.contains(type))
        return;
      if (type == StrataLexer::LBRACE)
        ++depth;
      else if (type == StrataLexer::RBRACE && depth > 0)
        --depth;
      parser->consume();
    }
  }
};

/// Walks a complete (error-free) parse tree and builds the arena AST.
class Builder {
public:
  Builder(ASTContext &ctx, DiagnosticsEngine &diags, const SourceText &source)
      : ctx(ctx), diags(diags), source(source) {}

  llvm::ArrayRef<const SubsystemDecl *> file(StrataParser::FileContext *c) {
    llvm::SmallVector<const SubsystemDecl *, 4> out;
    for (auto *s : c->subsystemDecl())
      out.push_back(subsystem(s));
    return ctx.copy(llvm::ArrayRef<const SubsystemDecl *>(out));
  }

private:
  // --- names, strings, expressions ----------------------------------------------------

  Name name(StrataParser::IdentContext *c) {
    assert(c && "missing identifier in a complete tree");
    return name(source.range(c), c->quoted != nullptr);
  }

  Name name(SourceRange r, bool quoted) {
    llvm::StringRef raw = SourceText::text(r);
    Name out;
    out.range = r;
    if (quoted) {
      out.quoted = true;
      out.text = unquote(raw, '"');
      if (out.text.empty())
        diags.report(DiagID::ErrEmptyQuotedIdent, r);
    } else {
      std::string lower = raw.lower();
      if (lower != raw) {
        out.text = ctx.save(lower);
        diags.report(DiagID::WarnUppercaseIdent, r, raw.str(), lower);
      } else {
        out.text = raw;
      }
    }
    if (out.text.size() > maxIdentifierBytes)
      diags.report(DiagID::ErrIdentTooLong, r, out.text.str(), out.text.size());
    return out;
  }

  /// Strips the surrounding quotes and undoubles inner ones.
  llvm::StringRef unquote(llvm::StringRef raw, char quote) {
    assert(raw.size() >= 2 && "quoted token without quotes");
    llvm::StringRef inner = raw.drop_front().drop_back();
    char doubled[3] = {quote, quote, 0};
    if (!inner.contains(doubled))
      return inner;
    std::string out;
    for (size_t i = 0; i < inner.size(); ++i) {
      out += inner[i];
      if (inner[i] == quote && i + 1 < inner.size() && inner[i + 1] == quote)
        ++i;
    }
    return ctx.save(out);
  }

  llvm::StringRef versionString(TerminalNode *node) { return versionString(node->getSymbol()); }
  llvm::StringRef versionString(Token *token) {
    return unquote(SourceText::text(source.range(token)), '"');
  }

  llvm::SmallVector<Name, 4> names(StrataParser::IdentListContext *c) {
    llvm::SmallVector<Name, 4> out;
    for (auto *id : c->ident())
      out.push_back(name(id));
    return out;
  }

  const Expr *sqlExpr(StrataParser::ExprArgsContext *args) {
    SourceRange whole = source.range(args);
    SourceRange lparen = source.range(args->LPAREN());
    SourceRange rparen = source.range(args->RPAREN());
    llvm::StringRef inner(lparen.End.getPointer(),
                          rparen.Start.getPointer() - lparen.End.getPointer());
    return ctx.create<Expr>(Expr{ExprKind::Sql, inner.trim(), whole});
  }

  const Expr *expr(StrataParser::ExprContext *c) {
    SourceRange r = source.range(c);
    llvm::StringRef text = SourceText::text(r);
    if (auto *paren = dynamic_cast<StrataParser::ParenExprContext *>(c))
      return sqlExpr(paren->exprArgs());
    if (auto *number = dynamic_cast<StrataParser::NumberExprContext *>(c)) {
      if (number->OP() && number->OP()->getText() != "-" && number->OP()->getText() != "+")
        diags.report(DiagID::ErrUnexpectedOperator, source.range(number->OP()), "-",
                     number->OP()->getText());
      return ctx.create<Expr>(Expr{ExprKind::Number, text, r});
    }
    if (dynamic_cast<StrataParser::StringExprContext *>(c))
      return ctx.create<Expr>(Expr{ExprKind::String, text, r});
    if (dynamic_cast<StrataParser::DqStringExprContext *>(c)) {
      diags.report(DiagID::ErrStringInExpr, r, unquote(text, '"').str());
      return ctx.create<Expr>(Expr{ExprKind::String, text, r});
    }
    auto *keyword = dynamic_cast<StrataParser::KeywordExprContext *>(c);
    assert(keyword && "unhandled expression alternative");
    if (keyword->NULL_KW())
      return ctx.create<Expr>(Expr{ExprKind::Null, text, r});
    return ctx.create<Expr>(Expr{ExprKind::Boolean, text, r});
  }

  UnsafeMarker unsafe(StrataParser::UnsafeMarkerContext *c) {
    UnsafeMarker out;
    if (!c)
      return out;
    out.present = true;
    out.range = source.range(c);
    if (c->STRING())
      out.reason = versionString(c->STRING());
    return out;
  }

  // --- types --------------------------------------------------------------------------

  TypeRef type(StrataParser::TypeNameContext *c) {
    TypeRef out;
    out.range = source.range(c);
    llvm::SmallVector<int64_t, 2> mods;
    auto readMods = [&](StrataParser::TypeModsContext *m) {
      if (!m)
        return;
      if (!mods.empty())
        diags.report(DiagID::ErrBadTypeMods, source.range(m), out.name.str(),
                     "takes its modifiers only once");
      for (auto *i : m->INT()) {
        int64_t value = 0;
        std::string digits = i->getText(); // owned: getText returns a temporary
        if (llvm::StringRef(digits).getAsInteger(10, value) || value > INT32_MAX)
          diags.report(DiagID::ErrBadTypeMods, source.range(i), out.name.str(),
                       "modifier is out of range");
        mods.push_back(value);
      }
    };
    StrataParser::BaseTypeContext *base = c->baseType();
    if (dynamic_cast<StrataParser::DoublePrecisionTypeContext *>(base)) {
      out.name = "double precision";
    } else if (dynamic_cast<StrataParser::CharVaryingTypeContext *>(base)) {
      out.name = "character varying";
    } else if (dynamic_cast<StrataParser::BitVaryingTypeContext *>(base)) {
      out.name = "bit varying";
    } else if (auto *zoned = dynamic_cast<StrataParser::ZonedTypeContext *>(base)) {
      bool with = zoned->WITH() != nullptr;
      out.name = zoned->TIMESTAMP() ? (with ? "timestamp with time zone"
                                            : "timestamp without time zone")
                                    : (with ? "time with time zone" : "time without time zone");
      readMods(zoned->typeMods());
    } else {
      auto *named = dynamic_cast<StrataParser::NamedTypeContext *>(base);
      assert(named && "unhandled type alternative");
      auto parts = named->ident();
      if (parts.size() == 2) {
        out.schema = name(parts[0]).text;
        out.name = name(parts[1]).text;
      } else {
        out.name = name(parts[0]).text;
      }
    }
    readMods(c->mods);
    out.mods = ctx.copy(llvm::ArrayRef<int64_t>(mods));
    out.arrayDims = static_cast<unsigned>(c->bounds.size());
    return out;
  }

  // --- constraints, columns, indexes ----------------------------------------------------

  static RefAction refAction(StrataParser::RefActionContext *c) {
    if (c->CASCADE())
      return RefAction::Cascade;
    if (c->RESTRICT())
      return RefAction::Restrict;
    if (c->NULL_KW())
      return RefAction::SetNull;
    if (c->DEFAULT())
      return RefAction::SetDefault;
    return RefAction::NoAction;
  }

  void fkActions(ConstraintDef &out, const std::vector<StrataParser::FkActionContext *> &actions) {
    for (auto *a : actions) {
      if (a->event->getType() == StrataLexer::DELETE)
        out.onDelete = refAction(a->refAction());
      else
        out.onUpdate = refAction(a->refAction());
    }
  }

  const ConstraintDef *columnConstraint(StrataParser::ConstraintOptionContext *c,
                                        const Name &column) {
    auto *def = ctx.create<ConstraintDef>();
    def->range = source.range(c);
    if (c->ident())
      def->name = name(c->ident());
    def->columns = ctx.copy(llvm::ArrayRef<Name>(column));
    StrataParser::ColumnConstraintContext *body = c->columnConstraint();
    if (dynamic_cast<StrataParser::PkColumnConstraintContext *>(body)) {
      def->kind = ConstraintKind::PrimaryKey;
    } else if (dynamic_cast<StrataParser::UniqueColumnConstraintContext *>(body)) {
      def->kind = ConstraintKind::Unique;
    } else if (auto *check = dynamic_cast<StrataParser::CheckColumnConstraintContext *>(body)) {
      def->kind = ConstraintKind::Check;
      def->check = expr(check->expr());
    } else {
      auto *fk = dynamic_cast<StrataParser::FkColumnConstraintContext *>(body);
      assert(fk && "unhandled column constraint");
      def->kind = ConstraintKind::ForeignKey;
      auto ids = fk->ident();
      def->refTable = name(ids[0]);
      if (ids.size() > 1)
        def->refColumns = ctx.copy(llvm::ArrayRef<Name>(name(ids[1])));
      fkActions(*def, fk->fkAction());
    }
    return def;
  }

  const ConstraintDef *tableConstraint(StrataParser::TableConstraintContext *c) {
    auto *def = ctx.create<ConstraintDef>();
    def->range = source.range(c);
    if (c->ident())
      def->name = name(c->ident());
    StrataParser::TableConstraintBodyContext *body = c->tableConstraintBody();
    if (auto *pk = dynamic_cast<StrataParser::PkTableConstraintContext *>(body)) {
      def->kind = ConstraintKind::PrimaryKey;
      def->columns = ctx.copy(llvm::ArrayRef<Name>(names(pk->identList())));
    } else if (auto *unique = dynamic_cast<StrataParser::UniqueTableConstraintContext *>(body)) {
      def->kind = ConstraintKind::Unique;
      def->columns = ctx.copy(llvm::ArrayRef<Name>(names(unique->identList())));
    } else if (auto *check = dynamic_cast<StrataParser::CheckTableConstraintContext *>(body)) {
      def->kind = ConstraintKind::Check;
      def->check = expr(check->expr());
    } else {
      auto *fk = dynamic_cast<StrataParser::FkTableConstraintContext *>(body);
      assert(fk && "unhandled table constraint");
      def->kind = ConstraintKind::ForeignKey;
      auto lists = fk->identList();
      def->columns = ctx.copy(llvm::ArrayRef<Name>(names(lists[0])));
      def->refTable = name(fk->ident());
      if (lists.size() > 1)
        def->refColumns = ctx.copy(llvm::ArrayRef<Name>(names(lists[1])));
      fkActions(*def, fk->fkAction());
    }
    return def;
  }

  void reportDuplicateOption(SourceRange r, llvm::StringRef option, const Name &column) {
    diags.report(DiagID::ErrDuplicateOption, r, option.str(), column.text.str());
  }

  const ColumnDef *column(StrataParser::ColumnDefContext *c) {
    auto *def = ctx.create<ColumnDef>();
    def->range = source.range(c);
    def->name = name(c->ident());
    def->type = type(c->typeName());
    llvm::SmallVector<const ConstraintDef *, 2> constraints;
    for (auto *option : c->columnOptions) {
      SourceRange r = source.range(option);
      if (dynamic_cast<StrataParser::NotNullOptionContext *>(option)) {
        if (def->explicitNull)
          diags.report(DiagID::ErrConflictingNullability, r, def->name.text.str());
        def->notNull = true;
        def->nullRange = r;
      } else if (dynamic_cast<StrataParser::NullOptionContext *>(option)) {
        if (def->notNull)
          diags.report(DiagID::ErrConflictingNullability, r, def->name.text.str());
        def->explicitNull = true;
        def->nullRange = r;
      } else if (auto *d = dynamic_cast<StrataParser::DefaultOptionContext *>(option)) {
        if (def->defaultExpr)
          reportDuplicateOption(r, "default", def->name);
        def->defaultExpr = expr(d->expr());
      } else if (auto *f = dynamic_cast<StrataParser::FillOptionContext *>(option)) {
        if (def->fill)
          reportDuplicateOption(r, "fill", def->name);
        def->fill = expr(f->expr());
      } else if (auto *w = dynamic_cast<StrataParser::WasOptionContext *>(option)) {
        if (def->was)
          reportDuplicateOption(r, "was", def->name);
        // `was` names a column: the string is an identifier, taken as written.
        def->was.text = versionString(w->STRING());
        def->was.range = r;
        def->was.quoted = true;
      } else if (auto *id = dynamic_cast<StrataParser::IdentityOptionContext *>(option)) {
        if (def->identity != Identity::None)
          reportDuplicateOption(r, "generated as identity", def->name);
        def->identity = id->ALWAYS() ? Identity::Always : Identity::ByDefault;
      } else {
        auto *con = dynamic_cast<StrataParser::ConstraintOptionContext *>(option);
        assert(con && "unhandled column option");
        constraints.push_back(columnConstraint(con, def->name));
      }
    }
    def->constraints = ctx.copy(llvm::ArrayRef<const ConstraintDef *>(constraints));
    return def;
  }

  const IndexDef *index(StrataParser::IndexDefContext *c) {
    auto *def = ctx.create<IndexDef>();
    def->range = source.range(c);
    def->unique = c->UNIQUE() != nullptr;
    auto ids = c->ident();
    // ident(0) is the name unless absent; the method follows USING.
    size_t next = 0;
    if (!ids.empty() && (!c->USING() || ids.size() == 2))
      def->name = name(ids[next++]);
    if (c->USING())
      def->method = name(ids[next]);
    llvm::SmallVector<IndexElem, 4> elems;
    for (auto *e : c->indexElem()) {
      IndexElem elem;
      elem.range = source.range(e);
      StrataParser::IndexExprContext *ie = e->indexExpr();
      if (auto *col = dynamic_cast<StrataParser::ColumnIndexExprContext *>(ie)) {
        elem.column = name(col->ident());
      } else if (auto *paren = dynamic_cast<StrataParser::ParenIndexExprContext *>(ie)) {
        elem.expr = sqlExpr(paren->exprArgs());
      } else {
        auto *func = dynamic_cast<StrataParser::FuncIndexExprContext *>(ie);
        assert(func && "unhandled index expression");
        SourceRange r = source.range(func);
        elem.expr = ctx.create<Expr>(Expr{ExprKind::Sql, SourceText::text(r), r});
      }
      if (auto *opclass = e->opclass())
        elem.opclass = name(source.range(opclass), opclass->STRING() != nullptr);
      if (e->order)
        elem.order = e->order->getType() == StrataLexer::ASC ? SortOrder::Asc : SortOrder::Desc;
      if (e->nulls)
        elem.nulls = e->nulls->getType() == StrataLexer::FIRST ? NullsOrder::First
                                                                : NullsOrder::Last;
      elems.push_back(elem);
    }
    def->elems = ctx.copy(llvm::ArrayRef<IndexElem>(elems));
    if (c->expr())
      def->where = expr(c->expr());
    return def;
  }

  // --- statements ---------------------------------------------------------------------

  const Stmt *table(StrataParser::TableStmtContext *c, SourceRange r) {
    auto *stmt = ctx.create<TableStmt>(r);
    stmt->name = name(c->ident());
    llvm::SmallVector<const ColumnDef *, 8> columns;
    llvm::SmallVector<const ConstraintDef *, 4> constraints;
    llvm::SmallVector<const IndexDef *, 4> indexes;
    for (auto *element : c->tableElement()) {
      if (element->columnDef())
        columns.push_back(column(element->columnDef()));
      else if (element->tableConstraint())
        constraints.push_back(tableConstraint(element->tableConstraint()));
      else
        indexes.push_back(index(element->indexDef()));
    }
    stmt->columns = ctx.copy(llvm::ArrayRef<const ColumnDef *>(columns));
    stmt->constraints = ctx.copy(llvm::ArrayRef<const ConstraintDef *>(constraints));
    stmt->indexes = ctx.copy(llvm::ArrayRef<const IndexDef *>(indexes));
    return stmt;
  }

  const AlterAction *alterAction(StrataParser::AlterActionContext *c) {
    auto *action = ctx.create<AlterAction>();
    action->range = source.range(c);
    action->unsafe = unsafe(c->unsafe);
    StrataParser::AlterActionBodyContext *body = c->alterActionBody();
    if (auto *a = dynamic_cast<StrataParser::AddColumnActionContext *>(body)) {
      action->kind = AlterKind::AddColumn;
      action->column = column(a->columnDef());
      action->name = action->column->name;
    } else if (auto *a = dynamic_cast<StrataParser::DropColumnActionContext *>(body)) {
      action->kind = AlterKind::DropColumn;
      action->name = name(a->ident());
    } else if (auto *a = dynamic_cast<StrataParser::RenameColumnActionContext *>(body)) {
      action->kind = AlterKind::RenameColumn;
      action->name = name(a->ident(0));
      action->newName = name(a->ident(1));
    } else if (auto *a = dynamic_cast<StrataParser::AlterColumnActionContext *>(body)) {
      action->kind = AlterKind::AlterColumn;
      action->name = name(a->ident());
      alterColumn(*action, a);
    } else if (auto *a = dynamic_cast<StrataParser::AddIndexActionContext *>(body)) {
      action->kind = AlterKind::AddIndex;
      action->index = index(a->indexDef());
      action->name = action->index->name;
    } else if (auto *a = dynamic_cast<StrataParser::DropIndexActionContext *>(body)) {
      action->kind = AlterKind::DropIndex;
      action->name = name(a->ident());
    } else if (auto *a = dynamic_cast<StrataParser::RenameIndexActionContext *>(body)) {
      action->kind = AlterKind::RenameIndex;
      action->name = name(a->ident(0));
      action->newName = name(a->ident(1));
    } else if (auto *a = dynamic_cast<StrataParser::AddConstraintActionContext *>(body)) {
      action->kind = AlterKind::AddConstraint;
      action->constraint = tableConstraint(a->tableConstraint());
      action->name = action->constraint->name;
    } else if (auto *a = dynamic_cast<StrataParser::DropConstraintActionContext *>(body)) {
      action->kind = AlterKind::DropConstraint;
      action->name = name(a->ident());
    } else if (dynamic_cast<StrataParser::DropPrimaryKeyActionContext *>(body)) {
      action->kind = AlterKind::DropPrimaryKey;
    } else if (auto *a = dynamic_cast<StrataParser::RenameConstraintActionContext *>(body)) {
      action->kind = AlterKind::RenameConstraint;
      action->name = name(a->ident(0));
      action->newName = name(a->ident(1));
    } else {
      auto *rt = dynamic_cast<StrataParser::RenameTableActionContext *>(body);
      assert(rt && "unhandled alter action");
      action->kind = AlterKind::RenameTable;
      action->newName = name(rt->ident());
    }
    return action;
  }

  void alterColumn(AlterAction &action, StrataParser::AlterColumnActionContext *c) {
    StrataParser::AlterColumnChangeContext *change = c->alterColumnChange();
    if (auto *t = dynamic_cast<StrataParser::SetTypeChangeContext *>(change)) {
      action.change = ColumnChange::SetType;
      action.type = type(t->typeName());
    } else if (dynamic_cast<StrataParser::SetNotNullChangeContext *>(change)) {
      action.change = ColumnChange::SetNotNull;
    } else if (dynamic_cast<StrataParser::DropNotNullChangeContext *>(change)) {
      action.change = ColumnChange::DropNotNull;
    } else if (auto *d = dynamic_cast<StrataParser::SetDefaultChangeContext *>(change)) {
      action.change = ColumnChange::SetDefault;
      action.defaultExpr = expr(d->expr());
    } else {
      assert(dynamic_cast<StrataParser::DropDefaultChangeContext *>(change) &&
             "unhandled column change");
      action.change = ColumnChange::DropDefault;
    }
    for (auto *tail : c->alterColumnTail()) {
      SourceRange r = source.range(tail);
      if (auto *u = dynamic_cast<StrataParser::UsingTailContext *>(tail)) {
        if (action.usingExpr)
          reportDuplicateOption(r, "using", action.name);
        action.usingExpr = expr(u->expr());
      } else {
        auto *f = dynamic_cast<StrataParser::FillTailContext *>(tail);
        if (action.fill)
          reportDuplicateOption(r, "fill", action.name);
        action.fill = expr(f->expr());
      }
    }
  }

  const Stmt *statement(StrataParser::StatementContext *c) {
    SourceRange r = source.range(c);
    const Stmt *out = statementBody(c->statementBody(), r);
    const_cast<Stmt *>(out)->unsafe = unsafe(c->unsafe);
    return out;
  }

  EnumLabel enumLabel(StrataParser::EnumLabelContext *c) {
    SourceRange r = source.range(c);
    llvm::StringRef raw = SourceText::text(r);
    // Labels are case-sensitive strings in PostgreSQL: a bare word is taken as written.
    if (c->SQ_STRING())
      return {unquote(raw, '\''), r};
    if (c->ident()->quoted)
      return {unquote(raw, '"'), r};
    return {raw, r};
  }

  const Stmt *statementBody(StrataParser::StatementBodyContext *c, SourceRange r) {
    if (auto *t = dynamic_cast<StrataParser::TableStmtContext *>(c))
      return table(t, r);
    if (auto *a = dynamic_cast<StrataParser::AlterTableStmtContext *>(c)) {
      auto *stmt = ctx.create<AlterTableStmt>(r);
      stmt->table = name(a->ident());
      llvm::SmallVector<const AlterAction *, 4> actions;
      for (auto *action : a->actions)
        actions.push_back(alterAction(action));
      stmt->actions = ctx.copy(llvm::ArrayRef<const AlterAction *>(actions));
      return stmt;
    }
    if (auto *a = dynamic_cast<StrataParser::AlterTableOneStmtContext *>(c)) {
      auto *stmt = ctx.create<AlterTableStmt>(r);
      stmt->table = name(a->ident());
      stmt->actions = ctx.copy(llvm::ArrayRef<const AlterAction *>(alterAction(a->alterAction())));
      return stmt;
    }
    if (auto *d = dynamic_cast<StrataParser::DropTableStmtContext *>(c)) {
      auto *stmt = ctx.create<DropTableStmt>(r);
      stmt->table = name(d->ident());
      return stmt;
    }
    if (auto *rn = dynamic_cast<StrataParser::RenameTableStmtContext *>(c)) {
      auto *stmt = ctx.create<RenameTableStmt>(r);
      stmt->table = name(rn->ident(0));
      stmt->newName = name(rn->ident(1));
      return stmt;
    }
    if (auto *e = dynamic_cast<StrataParser::EnumStmtContext *>(c)) {
      auto *stmt = ctx.create<EnumStmt>(r);
      stmt->name = name(e->ident());
      llvm::SmallVector<EnumLabel, 8> labels;
      for (auto *label : e->enumLabel())
        labels.push_back(enumLabel(label));
      stmt->labels = ctx.copy(llvm::ArrayRef<EnumLabel>(labels));
      return stmt;
    }
    if (auto *e = dynamic_cast<StrataParser::AlterEnumStmtContext *>(c)) {
      auto *stmt = ctx.create<AlterEnumStmt>(r);
      stmt->name = name(e->ident());
      stmt->label = enumLabel(e->enumLabel(0));
      if (e->pos) {
        stmt->position =
            e->pos->getType() == StrataLexer::BEFORE ? EnumPosition::Before : EnumPosition::After;
        stmt->neighbour = enumLabel(e->enumLabel(1));
      }
      return stmt;
    }
    if (auto *d = dynamic_cast<StrataParser::DropEnumStmtContext *>(c)) {
      auto *stmt = ctx.create<DropEnumStmt>(r);
      stmt->name = name(d->ident());
      return stmt;
    }
    if (auto *b = dynamic_cast<StrataParser::BackfillStmtContext *>(c)) {
      auto *stmt = ctx.create<BackfillStmt>(r);
      stmt->table = name(b->ident());
      llvm::SmallVector<Assignment, 2> assignments;
      for (auto *a : b->assignment()) {
        if (a->op->getText() != "=")
          diags.report(DiagID::ErrUnexpectedOperator, source.range(a->op), "=", a->op->getText());
        assignments.push_back({name(a->ident()), expr(a->expr()), source.range(a)});
      }
      stmt->assignments = ctx.copy(llvm::ArrayRef<Assignment>(assignments));
      if (b->expr())
        stmt->where = expr(b->expr());
      if (b->INT()) {
        int64_t size = 0;
        if (llvm::StringRef(b->INT()->getText()).getAsInteger(10, size) || size <= 0 ||
            size > 10'000'000)
          diags.report(DiagID::ErrBadLiteral, source.range(b->INT()),
                       "batch size must be between 1 and 10000000");
        stmt->batchSize = size;
      }
      return stmt;
    }
    auto *s = dynamic_cast<StrataParser::SqlStmtContext *>(c);
    assert(s && "unhandled statement");
    auto *stmt = ctx.create<SqlStmt>(r);
    if (s->ident())
      stmt->name = name(s->ident());
    auto triple = [&](TerminalNode *node) {
      SqlText out;
      if (!node)
        return out;
      SourceRange whole = source.range(node);
      out.present = true;
      out.range = SourceRange(llvm::SMLoc::getFromPointer(whole.Start.getPointer() + 3),
                              llvm::SMLoc::getFromPointer(whole.End.getPointer() - 3));
      out.text = SourceText::text(out.range);
      return out;
    };
    // UP and FINISH each take one block, in that order; the grammar makes both optional.
    auto blocks = s->TRIPLE_STRING();
    size_t next = 0;
    if (s->UP())
      stmt->up = triple(blocks[next++]);
    if (s->FINISH())
      stmt->finish = triple(blocks[next]);
    if (!stmt->up.present && !stmt->finish.present)
      diags.report(DiagID::ErrEmptySqlBlock, r);
    return stmt;
  }

  // --- versions and subsystems ----------------------------------------------------------

  llvm::ArrayRef<const Requirement *> requirements(StrataParser::RequiresClauseContext *c) {
    llvm::SmallVector<const Requirement *, 2> out;
    if (!c)
      return {};
    for (auto *req : c->requirement()) {
      auto *r = ctx.create<Requirement>();
      r->range = source.range(req);
      r->subsystem = name(req->ident());
      llvm::SmallVector<VersionBound, 2> bounds;
      for (auto *b : req->versionBound()) {
        VersionBound bound;
        bound.range = source.range(b);
        bound.versionRange = source.range(b->STRING());
        bound.version = versionString(b->STRING());
        std::string op = b->op->getText(); // owned: getText returns a temporary
        if (op == ">=")
          bound.op = VersionOp::Ge;
        else if (op == ">")
          bound.op = VersionOp::Gt;
        else if (op == "<=")
          bound.op = VersionOp::Le;
        else if (op == "<")
          bound.op = VersionOp::Lt;
        else if (op == "=" || op == "==")
          bound.op = VersionOp::Eq;
        else {
          diags.report(DiagID::ErrBadVersionOp, source.range(b->op), op);
          bound.op = VersionOp::Ge;
        }
        bounds.push_back(bound);
      }
      r->bounds = ctx.copy(llvm::ArrayRef<VersionBound>(bounds));
      out.push_back(r);
    }
    return ctx.copy(llvm::ArrayRef<const Requirement *>(out));
  }

  const VersionDecl *version(StrataParser::VersionDeclContext *c) {
    auto *decl = ctx.create<VersionDecl>();
    decl->range = source.range(c);
    const std::vector<Token *> &strings = c->versions;
    decl->version = versionString(strings[0]);
    decl->versionRange = source.range(strings[0]);
    decl->explicitParents = c->after != nullptr;
    llvm::SmallVector<ParentRef, 2> parents;
    for (size_t i = 1; i < strings.size(); ++i)
      parents.push_back({versionString(strings[i]), source.range(strings[i])});
    decl->parents = ctx.copy(llvm::ArrayRef<ParentRef>(parents));
    decl->requirements = requirements(c->requirements);
    llvm::SmallVector<const Stmt *, 8> stmts;
    for (auto *s : c->statements)
      stmts.push_back(statement(s));
    decl->stmts = ctx.copy(llvm::ArrayRef<const Stmt *>(stmts));
    return decl;
  }

  const SubsystemDecl *subsystem(StrataParser::SubsystemDeclContext *c) {
    auto *decl = ctx.create<SubsystemDecl>();
    decl->range = source.range(c);
    decl->name = name(c->name);
    llvm::SmallVector<const Requirement *, 2> reqs;
    llvm::SmallVector<const VersionDecl *, 8> versions;
    for (auto *item : c->subsystemItem()) {
      if (auto *b = dynamic_cast<StrataParser::BaselineItemContext *>(item)) {
        if (!decl->baseline.empty())
          diags.report(DiagID::ErrDuplicateBaseline, source.range(b), decl->name.text.str())
              .note(DiagID::NotePreviousDefinition, decl->baselineRange);
        decl->baseline = versionString(b->STRING());
        decl->baselineRange = source.range(b->STRING());
      } else if (auto *r = dynamic_cast<StrataParser::RequiresItemContext *>(item)) {
        for (const Requirement *req : requirements(r->requiresClause()))
          reqs.push_back(req);
      } else {
        auto *v = dynamic_cast<StrataParser::VersionItemContext *>(item);
        assert(v && "unhandled subsystem item");
        versions.push_back(version(v->versionDecl()));
      }
    }
    decl->requirements = ctx.copy(llvm::ArrayRef<const Requirement *>(reqs));
    decl->versions = ctx.copy(llvm::ArrayRef<const VersionDecl *>(versions));
    return decl;
  }

  ASTContext &ctx;
  DiagnosticsEngine &diags;
  const SourceText &source;
};

/// Lexical problems, found on the whole token stream before parsing so that one bad
/// character or unterminated string does not turn into a cascade of syntax errors.
/// Returns false when the file cannot be parsed.
/// A CommonTokenStream with room for a file's tokens from the start (growing its vector
/// one doubling at a time was 3 % of `strata check`). Estimated at one token per 4 bytes:
/// generated projects have one per 7.4 bytes, and the vector is 2 bytes per source byte.
class TokenStream : public antlr4::CommonTokenStream {
public:
  TokenStream(antlr4::TokenSource *source, size_t textBytes) : CommonTokenStream(source) {
    _tokens.reserve(textBytes / 4 + 16);
  }
};

bool checkTokens(antlr4::CommonTokenStream &tokens, DiagnosticsEngine &diags,
                 const SourceText &source, const ParseLimits &limits) {
  bool ok = true;
  llvm::SmallVector<Token *, 16> parens;
  bool nestingReported = false;
  for (Token *t : tokens.getTokens()) {
    switch (t->getType()) {
    case StrataLexer::ERROR_CHAR: {
      std::string text = t->getText();
      std::string shown;
      if (text.size() == 1 && llvm::isPrint(text[0]))
        shown = "'" + text + "'";
      else
        shown = fmt::format("U+{:04X}", static_cast<unsigned>(antlrcpp::utf8_to_utf32(
                                             text.data(), text.data() + text.size())[0]));
      diags.report(DiagID::ErrUnexpectedChar, source.range(t), shown);
      ok = false;
      break;
    }
    case StrataLexer::UNTERMINATED_STRING:
    case StrataLexer::UNTERMINATED_SQ_STRING:
      diags.report(DiagID::ErrUnterminatedString, source.range(t));
      ok = false;
      break;
    case StrataLexer::TRIPLE_STRING: {
      llvm::StringRef text = SourceText::text(source.range(t));
      if (text.size() < 6 || !text.endswith("\"\"\"")) {
        SourceRange start = source.range(t);
        diags.report(DiagID::ErrUnterminatedTriple,
                     SourceRange(start.Start, llvm::SMLoc::getFromPointer(
                                                  start.Start.getPointer() + 3)));
        ok = false;
      }
      break;
    }
    case StrataLexer::BLOCK_COMMENT: {
      llvm::StringRef text = SourceText::text(source.range(t));
      if (text.size() < 4 || !text.endswith("*/")) {
        SourceRange start = source.range(t);
        diags.report(DiagID::ErrUnterminatedComment,
                     SourceRange(start.Start, llvm::SMLoc::getFromPointer(
                                                  start.Start.getPointer() + 2)));
        ok = false;
      }
      break;
    }
    case StrataLexer::LPAREN:
      parens.push_back(t);
      if (parens.size() > limits.maxNesting && !nestingReported) {
        diags.report(DiagID::ErrNestingTooDeep, source.range(t), limits.maxNesting);
        nestingReported = true;
        ok = false;
      }
      break;
    case StrataLexer::RPAREN:
      if (parens.empty()) {
        diags.report(DiagID::ErrUnmatchedParen, source.range(t), ")");
        ok = false;
      } else {
        parens.pop_back();
      }
      break;
    default:
      break;
    }
    if (diags.limitReached())
      return false;
  }
  // An unclosed '(' is reported by the parser, which knows what should have come.
  return ok;
}

/// Index of the first byte that is not valid UTF-8, or npos.
size_t firstInvalidUtf8(llvm::StringRef text) {
  const auto *begin = reinterpret_cast<const llvm::UTF8 *>(text.begin());
  const auto *end = reinterpret_cast<const llvm::UTF8 *>(text.end());
  // ASCII is valid UTF-8: the (slower) check starts at the first other byte, if any.
  const llvm::UTF8 *pos = std::find_if(begin, end, [](llvm::UTF8 c) { return c >= 0x80; });
  while (pos < end) {
    const llvm::UTF8 *next = pos;
    if (llvm::isLegalUTF8String(&next, end))
      return llvm::StringRef::npos;
    // isLegalUTF8String stops at the first bad sequence and leaves `next` there.
    return static_cast<size_t>(next - begin);
  }
  return llvm::StringRef::npos;
}

} // namespace

void prepareParallelParsing() {
  // ATN::nextTokens(state) fills a per-state cache on first use (error recovery asks for
  // it), guarded by double-checked locking on a plain bool: filled here, once, before
  // any thread can ask, it is only ever read.
  static std::once_flag once;
  std::call_once(once, [] {
    antlr4::ANTLRInputStream empty("");
    StrataLexer lexer(&empty);
    antlr4::CommonTokenStream tokens(&lexer);
    StrataParser parser(&tokens);
    const antlr4::atn::ATN &atn = parser.getATN();
    for (antlr4::atn::ATNState *state : atn.states)
      if (state)
        atn.nextTokens(state);
  });
}

const SourceFile *parseBuffer(ASTContext &context, DiagnosticsEngine &diags,
                              const llvm::SourceMgr &sourceMgr, unsigned bufferId,
                              const ParseLimits &limits) {
  const llvm::MemoryBuffer *buffer = sourceMgr.getMemoryBuffer(bufferId);
  llvm::StringRef text = buffer->getBuffer();
  auto *file = context.create<SourceFile>();
  file->path = context.save(buffer->getBufferIdentifier());
  file->bufferId = bufferId;
  auto at = [&](size_t offset) {
    llvm::SMLoc loc = llvm::SMLoc::getFromPointer(text.data() + offset);
    return SourceRange(loc, loc);
  };

  if (text.size() > limits.maxFileBytes) {
    diags.report(DiagID::ErrFileTooLarge, at(0), text.size(), limits.maxFileBytes);
    return file;
  }
  if (size_t nul = text.find('\0'); nul != llvm::StringRef::npos) {
    diags.report(DiagID::ErrNulByte, at(nul));
    return file;
  }
  if (size_t bad = firstInvalidUtf8(text); bad != llvm::StringRef::npos) {
    diags.report(DiagID::ErrInvalidUtf8, at(bad));
    return file;
  }

  SourceText source(text);
  unsigned errorsBefore = diags.errorCount();
  try {
    // The hand-written lexer: the generated one's tokens, without its ATN simulation.
    std::unique_ptr<antlr4::TokenSource> lexer = createLexer(text);
    TokenStream tokens(lexer.get(), text.size());
    tokens.fill();
    if (!checkTokens(tokens, diags, source, limits))
      return file;

    StrataParser parser(&tokens);
    useThreadCaches<ThreadParserATNSimulator>(parser);
    // Two-stage parse: the fast SLL mode almost always succeeds; only on failure is the
    // input re-parsed in full LL mode with error reporting and recovery.
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
        antlr4::atn::PredictionMode::SLL);
    parser.removeErrorListeners();
    parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
    StrataParser::FileContext *tree = nullptr;
    try {
      tree = parser.file();
    } catch (antlr4::ParseCancellationException &) {
      tokens.seek(0);
      parser.reset();
      parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
          antlr4::atn::PredictionMode::LL);
      parser.setErrorHandler(std::make_shared<BlockRecovery>());
      ErrorListener listener(diags, source);
      parser.addErrorListener(&listener);
      try {
        tree = parser.file();
      } catch (StopParsing &) {
        return file;
      }
      parser.removeErrorListeners();
    }
    if (diags.errorCount() != errorsBefore)
      return file; // a tree built by error recovery is not worth lowering
    Builder builder(context, diags, source);
    file->subsystems = builder.file(tree);
  } catch (StopParsing &) {
  } catch (std::exception &e) {
    // No exception leaves the compiler: an ANTLR failure is a diagnostic like any other.
    diags.report(DiagID::ErrSyntax, at(0), std::string("internal parser error: ") + e.what());
  }
  return file;
}

} // namespace strata::compiler
