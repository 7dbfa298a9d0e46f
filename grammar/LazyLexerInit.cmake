# Run on the lexer ANTLR generates (grammar/CMakeLists.txt): its ATN, which carries the
# Unicode tables, is deserialised on first use instead of at program start. strata lexes
# with its own lexer (compiler/Lexer.cpp) and needs the generated one only for files with
# non-ASCII names, yet every strata process paid for it at startup: 38 M instructions, a
# sixth of a warm `strata status`. A function-local static is initialised once, thread-safely.
file(READ "${GEN_DIR}/StrataLexer.cpp" text)
set(definition "StrataLexer::Initializer StrataLexer::_init;")
set(constructor "StrataLexer::StrataLexer(CharStream *input) : Lexer(input) {\n")
foreach(expected IN ITEMS "${definition}" "${constructor}")
  string(FIND "${text}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "LazyLexerInit.cmake: \"${expected}\" not found in the generated "
                        "StrataLexer.cpp; the ANTLR tool's output changed")
  endif()
endforeach()
string(REPLACE "${definition}" "" text "${text}")
string(REPLACE "${constructor}"
       "${constructor}  static Initializer once; // first use (grammar/LazyLexerInit.cmake)\n  (void)once;\n"
       text "${text}")
file(WRITE "${GEN_DIR}/StrataLexer.cpp" "${text}")
