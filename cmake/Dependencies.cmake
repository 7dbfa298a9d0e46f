# Every third-party dependency, found once, exposed as a target.
# All come from Debian 12 packages (see scripts/install-deps.sh).

# ---- ANTLR4: Debian's tool 4.7.2 generates, Debian's C++ runtime 4.9 runs. ----
# /usr/bin/antlr4 is a wrapper with the right class path; `java -jar` on Debian's jar
# fails, so Debian's own antlr4_generate() helper is not used.
find_program(ANTLR4_EXECUTABLE NAMES antlr4 REQUIRED)
find_package(antlr4-runtime 4.9 REQUIRED CONFIG)
# clang (and clang-tidy/clangd) reject misc/InterpreterDataReader.h of the 4.9 runtime;
# the umbrella header without it is harmless for GCC and makes clang work.
file(READ ${ANTLR4_INCLUDE_DIR}/antlr4-runtime.h _strata_antlr_umbrella)
string(REPLACE "#include \"misc/InterpreterDataReader.h\"" "" _strata_antlr_umbrella
               "${_strata_antlr_umbrella}")
# Written only when it changes, so that a re-configure does not rebuild the parser.
file(WRITE ${CMAKE_BINARY_DIR}/antlr_shim/antlr4-runtime.h.new "${_strata_antlr_umbrella}")
configure_file(${CMAKE_BINARY_DIR}/antlr_shim/antlr4-runtime.h.new
               ${CMAKE_BINARY_DIR}/antlr_shim/antlr4-runtime.h COPYONLY)
add_library(strata_antlr INTERFACE)
target_include_directories(strata_antlr SYSTEM INTERFACE ${CMAKE_BINARY_DIR}/antlr_shim
                                                         ${ANTLR4_INCLUDE_DIR})
target_link_libraries(strata_antlr INTERFACE antlr4_shared)

# ---- LLVM ADT + Support. Only the include dir and definitions: llvm-config's
# cxxflags would turn off exceptions, which ANTLR needs. ----
find_package(LLVM 14 REQUIRED CONFIG HINTS /usr/lib/llvm-14/lib/cmake/llvm)
separate_arguments(_strata_llvm_defs NATIVE_COMMAND ${LLVM_DEFINITIONS})
add_library(strata_llvm INTERFACE)
target_include_directories(strata_llvm SYSTEM INTERFACE ${LLVM_INCLUDE_DIRS})
target_compile_definitions(strata_llvm INTERFACE ${_strata_llvm_defs})
target_link_libraries(strata_llvm INTERFACE LLVMSupport)

# ---- libpq (runtime only), Boost.Graph (planner only) ----
find_package(PostgreSQL REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS graph)

# ---- libpg_query: PostgreSQL's own parser, to check SQL expressions at compile time ----
find_path(PG_QUERY_INCLUDE_DIR pg_query.h REQUIRED)
find_library(PG_QUERY_LIBRARY NAMES pg_query REQUIRED)
add_library(strata_pg_query INTERFACE)
target_include_directories(strata_pg_query SYSTEM INTERFACE ${PG_QUERY_INCLUDE_DIR})
target_link_libraries(strata_pg_query INTERFACE ${PG_QUERY_LIBRARY})

# ---- small well-kept libraries ----
find_package(fmt REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 REQUIRED)
