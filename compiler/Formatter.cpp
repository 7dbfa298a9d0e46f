#include "compiler/Formatter.h"

#include "compiler/ASTContext.h"
#include "compiler/Diagnostics.h"

#include <StrataLexer.h>
#include <StrataParser.h>
#include <antlr4-runtime.h>

#include <llvm/ADT/STLExtras.h>
#include <llvm/ADT/SmallVector.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/SourceMgr.h>

namespace strata::compiler {

using antlr4::Token;
using antlr4::tree::ParseTree;
using antlr4::tree::TerminalNode;
using grammar::StrataLexer;
using grammar::StrataParser;

namespace {

/// Diagnostics after which there is no parse tree to format.
bool preventsParsing(DiagID id) {
  switch (id) {
  case DiagID::ErrSyntax:
  case DiagID::ErrUnexpectedChar:
  case DiagID::ErrUnterminatedString:
  case DiagID::ErrUnterminatedTriple:
  case DiagID::ErrUnterminatedComment:
  case DiagID::ErrInvalidUtf8:
  case DiagID::ErrNestingTooDeep:
  case DiagID::ErrNulByte:
  case DiagID::ErrFileTooLarge:
  case DiagID::ErrUnmatchedParen:
    return true;
  default:
    return false;
  }
}

bool isComment(Token *t) {
  return t->getType() == StrataLexer::LINE_COMMENT || t->getType() == StrataLexer::BLOCK_COMMENT;
}

/// A comment as the formatter writes it: a line comment loses its trailing blanks.
std::string commentText(Token *t) {
  std::string text = t->getText();
  if (t->getType() == StrataLexer::LINE_COMMENT)
    return llvm::StringRef(text).rtrim().str();
  return text;
}

/// Display width: code points, not bytes (names may be quoted Unicode).
size_t width(llvm::StringRef text) {
  return llvm::count_if(text, [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

unsigned endLine(Token *t) {
  std::string text = t->getText();
  return static_cast<unsigned>(t->getLine() + llvm::count(text, '\n'));
}

/// One output line before alignment.
struct Line {
  unsigned indent = 0;
  std::string text;
  std::string comment; ///< trailing comment(s), aligned with their neighbours'
  /// Offsets in text after a column's name and after its type (alignment cells).
  llvm::SmallVector<size_t, 2> cells;
  bool blankBefore = false;
  bool isComment = false;  ///< a comment on its own line
  bool alignable = false;  ///< a column definition that fits on this one line
  bool inlineComment = false;

  bool multiline() const {
    return llvm::StringRef(text).contains('\n') || llvm::StringRef(comment).contains('\n');
  }
};

/// How a token is placed relative to the previous one.
enum class Break {
  None, ///< on the same line, unless the author broke the line there (a continuation)
  Item, ///< starts a new item line at the current depth
  Close ///< a closing brace on its own line
};

class Layout {
public:
  Layout(antlr4::CommonTokenStream &tokens, antlr4::CharStream &input)
      : tokens(tokens), input(input) {}

  void visit(ParseTree *node) {
    if (isVerbatim(node))
      return chunk(static_cast<antlr4::ParserRuleContext *>(node));
    if (auto *terminal = dynamic_cast<TerminalNode *>(node))
      return this->terminal(terminal);
    auto *ctx = static_cast<antlr4::ParserRuleContext *>(node);
    bool item = startsItem(ctx);
    if (item)
      pendingBreak = Break::Item;
    for (ParseTree *child : ctx->children) {
      if (isBodyAfterUnsafe(ctx, child))
        softBreak = true;
      visit(child);
      if (marksCell(ctx, child) && open && !lines.empty())
        lines.back().cells.push_back(lines.back().text.size());
    }
    // Comments before the item have lines of their own; the item itself must fit on one.
    if (item && isColumnItem(ctx) && lines.size() == itemLine + 1) {
      Line &line = lines.back();
      line.alignable = line.cells.size() == 2 && !line.inlineComment && !line.multiline() &&
                       !line.isComment;
    }
  }

  /// The formatted text, once the whole tree has been visited.
  std::string finish() {
    flushComments(tokens.size(), 0);
    settlePending(/*newLine=*/true);
    alignColumns();
    alignComments();
    std::string out;
    for (size_t i = 0; i < lines.size(); ++i) {
      const Line &line = lines[i];
      if (line.blankBefore && i > 0 && !opensBlock(lines[i - 1]) && !closesBlock(line))
        out += "\n";
      out += std::string(line.indent, ' ') + line.text;
      if (!line.comment.empty())
        out += (line.text.empty() ? "" : " ") + line.comment;
      out += "\n";
    }
    return out;
  }

private:
  // --- what the tree says -------------------------------------------------------------

  static bool startsItem(antlr4::ParserRuleContext *ctx) {
    if (dynamic_cast<StrataParser::SubsystemDeclContext *>(ctx) ||
        dynamic_cast<StrataParser::SubsystemItemContext *>(ctx) ||
        dynamic_cast<StrataParser::StatementContext *>(ctx) ||
        dynamic_cast<StrataParser::TableElementContext *>(ctx))
      return true;
    if (dynamic_cast<StrataParser::AlterActionContext *>(ctx))
      return dynamic_cast<StrataParser::AlterTableStmtContext *>(ctx->parent) != nullptr;
    if (dynamic_cast<StrataParser::EnumLabelContext *>(ctx))
      if (auto *e = dynamic_cast<StrataParser::EnumStmtContext *>(ctx->parent))
        return !isInlineEnum(e);
    return false;
  }

  /// A table's column definition, or an alter block's `add column`: aligned in columns.
  static bool isColumnItem(antlr4::ParserRuleContext *ctx) {
    if (auto *element = dynamic_cast<StrataParser::TableElementContext *>(ctx))
      return element->columnDef() != nullptr;
    if (auto *action = dynamic_cast<StrataParser::AlterActionContext *>(ctx))
      return dynamic_cast<StrataParser::AddColumnActionContext *>(action->alterActionBody());
    return false;
  }

  /// After a column's name and after its type come the alignment cells.
  static bool marksCell(antlr4::ParserRuleContext *ctx, ParseTree *child) {
    return dynamic_cast<StrataParser::ColumnDefContext *>(ctx) &&
           (dynamic_cast<StrataParser::IdentContext *>(child) ||
            dynamic_cast<StrataParser::TypeNameContext *>(child));
  }

  static bool isBodyAfterUnsafe(antlr4::ParserRuleContext *ctx, ParseTree *child) {
    if (auto *s = dynamic_cast<StrataParser::StatementContext *>(ctx))
      return s->unsafeMarker() && child == s->statementBody();
    if (auto *a = dynamic_cast<StrataParser::AlterActionContext *>(ctx))
      return a->unsafeMarker() && child == a->alterActionBody();
    return false;
  }

  static bool isInlineEnum(StrataParser::EnumStmtContext *e) {
    return e->LBRACE()->getSymbol()->getLine() == e->RBRACE()->getSymbol()->getLine();
  }

  static bool isEmptyBlock(antlr4::ParserRuleContext *block) {
    TerminalNode *open = block->getToken(StrataLexer::LBRACE, 0);
    TerminalNode *close = block->getToken(StrataLexer::RBRACE, 0);
    return open && close &&
           close->getSymbol()->getTokenIndex() == open->getSymbol()->getTokenIndex() + 1;
  }

  /// `varchar(20)`, `references t(id)`: a parenthesis that belongs to the word before it.
  static bool attachedParen(TerminalNode *node) {
    auto *parent = dynamic_cast<antlr4::ParserRuleContext *>(node->parent);
    if (dynamic_cast<StrataParser::TypeModsContext *>(parent) ||
        dynamic_cast<StrataParser::FkColumnConstraintContext *>(parent))
      return true;
    if (auto *list = dynamic_cast<StrataParser::IdentListContext *>(parent))
      if (auto *fk = dynamic_cast<StrataParser::FkTableConstraintContext *>(list->parent))
        return fk->identList().size() == 2 && fk->identList(1) == list;
    return false;
  }

  // --- placing tokens -----------------------------------------------------------------

  void terminal(TerminalNode *node) {
    Token *t = node->getSymbol();
    size_t type = t->getType();
    if (type == Token::EOF)
      return;
    auto *parent = static_cast<antlr4::ParserRuleContext *>(node->parent);
    bool attach = false;
    bool space = true;
    Break br = Break::None;
    switch (type) {
    case StrataLexer::COMMA:
    case StrataLexer::RPAREN:
    case StrataLexer::RBRACK:
    case StrataLexer::LBRACK:
    case StrataLexer::DOT:
      attach = true;
      break;
    case StrataLexer::LPAREN:
      attach = attachedParen(node);
      break;
    case StrataLexer::LBRACE:
      attach = true; // `{` never starts a line
      break;
    case StrataLexer::RBRACE: {
      bool inlineEnum = false;
      if (auto *e = dynamic_cast<StrataParser::EnumStmtContext *>(parent))
        inlineEnum = isInlineEnum(e);
      if (isEmptyBlock(parent)) {
        attach = true;
        space = false;
      } else if (!inlineEnum) {
        br = Break::Close;
      }
      break;
    }
    default:
      break;
    }
    if (attach && type != StrataLexer::LBRACE)
      space = false;
    if (lastType == StrataLexer::LPAREN || lastType == StrataLexer::LBRACK ||
        lastType == StrataLexer::DOT)
      space = false;
    place(t, t, t->getText(), br, space, attach);
    if (type == StrataLexer::LBRACE)
      ++depth;
  }

  /// What the compiler keeps as source text, whitespace included (it is part of the
  /// version's checksum): a parenthesised SQL expression, an index expression such as
  /// `lower(name)`, a signed number such as `-1`.
  static bool isVerbatim(ParseTree *node) {
    return dynamic_cast<StrataParser::ExprArgsContext *>(node) ||
           dynamic_cast<StrataParser::FuncIndexExprContext *>(node) ||
           dynamic_cast<StrataParser::NumberExprContext *>(node);
  }

  /// A verbatim construct: copied as written, comments and line breaks included.
  void chunk(antlr4::ParserRuleContext *ctx) {
    Token *first = ctx->getStart();
    Token *last = ctx->getStop();
    std::string text =
        input.getText(antlr4::misc::Interval(first->getStartIndex(), last->getStopIndex()));
    bool space = lastType != StrataLexer::LPAREN;
    place(first, last, text, Break::None, space, /*attach=*/false);
  }

  void place(Token *first, Token *last, const std::string &text, Break br, bool space,
             bool attach) {
    if (pendingBreak == Break::Item) {
      br = Break::Item;
      pendingBreak = Break::None;
    }
    flushComments(first->getTokenIndex(), depth * 2);
    // Comments before a closing brace are indented as the block's items; the brace is not.
    if (first->getType() == StrataLexer::RBRACE)
      --depth;
    bool soft = softBreak;
    softBreak = false;
    bool sourceBreak = lastEmitted && first->getLine() > endLine(lastEmitted);
    bool newLine = br != Break::None || !open || pendingLineComment ||
                   (sourceBreak && !attach);
    if (newLine) {
      settlePending(/*newLine=*/true);
      Line line;
      if (br != Break::None) {
        line.indent = depth * 2;
        line.blankBefore =
            br == Break::Item && lastEmitted && first->getLine() > endLine(lastEmitted) + 1;
        if (br == Break::Item) {
          itemIndent = line.indent;
          itemLine = lines.size();
        }
      } else {
        line.indent = soft ? itemIndent : itemIndent + 2;
      }
      line.text = text;
      lines.push_back(std::move(line));
    } else {
      bool hadInline = settlePending(/*newLine=*/false);
      Line &line = lines.back();
      line.text += (space || hadInline ? " " : "") + text;
    }
    open = true;
    lastEmitted = last;
    lastType = last->getType();
    nextToken = last->getTokenIndex() + 1;
  }

  /// Takes the comments before token \p until: those on the line of what precedes them
  /// wait in `pending` (trailing, or inline if code follows on that line); the others get a
  /// line of their own at \p indent.
  void flushComments(size_t until, unsigned indent) {
    for (; nextToken < until && nextToken < tokens.size(); ++nextToken) {
      Token *t = tokens.get(nextToken);
      if (!isComment(t))
        continue;
      bool ownLine = !lastEmitted || t->getLine() > endLine(lastEmitted);
      if (!ownLine) {
        pending.push_back(commentText(t));
        pendingLineComment |= t->getType() == StrataLexer::LINE_COMMENT;
        lastEmitted = t;
        continue;
      }
      settlePending(/*newLine=*/true);
      Line line;
      line.indent = indent;
      line.text = commentText(t);
      line.isComment = true;
      line.blankBefore = lastEmitted && t->getLine() > endLine(lastEmitted) + 1;
      lines.push_back(std::move(line));
      // Code after a comment on its own line goes on the next line.
      open = false;
      lastEmitted = t;
    }
  }

  /// Puts the pending comments on the last line: trailing when the next token starts a
  /// new line, inline otherwise. Returns whether there were any.
  bool settlePending(bool newLine) {
    if (pending.empty())
      return false;
    std::string text;
    for (const std::string &c : pending)
      text += (text.empty() ? "" : " ") + c;
    pending.clear();
    pendingLineComment = false;
    if (lines.empty()) {
      Line line;
      line.text = text;
      line.isComment = true;
      lines.push_back(std::move(line));
      return true;
    }
    Line &line = lines.back();
    if (line.isComment) {
      line.text += " " + text;
    } else if (newLine) {
      line.comment += (line.comment.empty() ? "" : " ") + text;
    } else {
      line.text += " " + text;
      line.inlineComment = true;
    }
    return true;
  }

  // --- alignment ----------------------------------------------------------------------

  static bool opensBlock(const Line &line) {
    return !line.isComment && llvm::StringRef(line.text).endswith("{");
  }
  static bool closesBlock(const Line &line) {
    return !line.isComment && llvm::StringRef(line.text).startswith("}");
  }

  /// Consecutive one-line column definitions: names padded to the longest, and types
  /// padded to the longest of those followed by options (a type with nothing after it
  /// needs no padding and does not widen the others').
  void alignColumns() {
    for (size_t begin = 0; begin < lines.size();) {
      size_t end = begin;
      while (end < lines.size() && lines[end].alignable &&
             (end == begin ||
              (!lines[end].blankBefore && lines[end].indent == lines[begin].indent)))
        ++end;
      if (end == begin) {
        ++begin;
        continue;
      }
      size_t nameWidth = 0, typeWidth = 0;
      for (size_t i = begin; i < end; ++i) {
        nameWidth = std::max(nameWidth, width(cell(lines[i], 0)));
        if (!cell(lines[i], 2).empty())
          typeWidth = std::max(typeWidth, width(cell(lines[i], 1)));
      }
      for (size_t i = begin; i < end; ++i) {
        Line &line = lines[i];
        std::string name = cell(line, 0).str(), type = cell(line, 1).str(),
                    rest = cell(line, 2).str();
        name += std::string(nameWidth - width(name), ' ');
        if (!rest.empty())
          type += std::string(typeWidth - width(type), ' ');
        line.text = name + type + rest;
      }
      begin = end;
    }
  }

  /// Cell \p n of an alignable line: the name, " type", " options" (each may be empty).
  static llvm::StringRef cell(const Line &line, unsigned n) {
    llvm::StringRef text = line.text;
    size_t from = n == 0 ? 0 : line.cells[n - 1];
    size_t to = n == 2 ? text.size() : line.cells[n];
    return text.slice(from, to);
  }

  /// Trailing comments on consecutive lines of the same indentation start in one column.
  void alignComments() {
    auto alignable = [](const Line &line) {
      return !line.comment.empty() && !line.isComment && !line.multiline();
    };
    for (size_t begin = 0; begin < lines.size();) {
      size_t end = begin;
      while (end < lines.size() && alignable(lines[end]) &&
             (end == begin ||
              (!lines[end].blankBefore && lines[end].indent == lines[begin].indent)))
        ++end;
      if (end == begin) {
        ++begin;
        continue;
      }
      size_t column = 0;
      for (size_t i = begin; i < end; ++i)
        column = std::max(column, width(lines[i].text));
      for (size_t i = begin; i < end; ++i)
        lines[i].text += std::string(column - width(lines[i].text), ' ');
      begin = end;
    }
  }

  antlr4::CommonTokenStream &tokens;
  antlr4::CharStream &input;
  std::vector<Line> lines;
  unsigned depth = 0;
  unsigned itemIndent = 0;
  size_t itemLine = 0; ///< the line the last item started on
  Break pendingBreak = Break::None;
  bool softBreak = false;
  /// The last line takes more code (it is not a comment on its own line).
  bool open = false;
  Token *lastEmitted = nullptr; ///< the last token placed, comments included
  size_t lastType = 0;          ///< the type of the last code token placed
  size_t nextToken = 0;         ///< index of the first token not yet placed or skipped
  std::vector<std::string> pending;
  bool pendingLineComment = false;
};

/// The type and text of every token of \p text but whitespace.
std::vector<std::pair<size_t, std::string>> lexAll(llvm::StringRef text) {
  antlr4::ANTLRInputStream input(text.data(), text.size());
  StrataLexer lexer(&input);
  lexer.removeErrorListeners();
  antlr4::CommonTokenStream stream(&lexer);
  stream.fill();
  std::vector<std::pair<size_t, std::string>> out;
  for (Token *t : stream.getTokens())
    if (t->getType() != Token::EOF)
      out.emplace_back(t->getType(), commentText(t));
  return out;
}

} // namespace

std::optional<std::string> formatBuffer(DiagnosticsEngine &diags,
                                        const llvm::SourceMgr &sourceMgr, unsigned bufferId,
                                        const ParseLimits &limits) {
  // The parser proper reports what makes the file unreadable, with its usual messages.
  ASTContext scratch;
  size_t before = diags.diagnostics().size();
  parseBuffer(scratch, diags, sourceMgr, bufferId, limits);
  for (size_t i = before; i < diags.diagnostics().size(); ++i)
    if (preventsParsing(diags.diagnostics()[i].id))
      return std::nullopt;

  llvm::StringRef text = sourceMgr.getMemoryBuffer(bufferId)->getBuffer();
  try {
    antlr4::ANTLRInputStream input(text.data(), text.size());
    StrataLexer lexer(&input);
    lexer.removeErrorListeners();
    antlr4::CommonTokenStream tokens(&lexer);
    tokens.fill();
    StrataParser parser(&tokens);
    parser.removeErrorListeners();
    parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
    StrataParser::FileContext *tree = parser.file();
    Layout layout(tokens, input);
    layout.visit(tree);
    return layout.finish();
  } catch (std::exception &e) {
    // parseBuffer accepted the file, so this is a bug; still no exception leaves the layer.
    llvm::SMLoc at = llvm::SMLoc::getFromPointer(text.data());
    diags.report(DiagID::ErrSyntax, SourceRange(at, at),
                 std::string("internal formatter error: ") + e.what());
    return std::nullopt;
  }
}

std::vector<std::string> lexemes(llvm::StringRef text) {
  std::vector<std::string> out;
  for (auto &[type, lexeme] : lexAll(text))
    out.push_back(std::move(lexeme));
  return out;
}

std::vector<std::string> comments(llvm::StringRef text) {
  std::vector<std::string> out;
  for (auto &[type, lexeme] : lexAll(text))
    if (type == StrataLexer::LINE_COMMENT || type == StrataLexer::BLOCK_COMMENT)
      out.push_back(std::move(lexeme));
  return out;
}

} // namespace strata::compiler
