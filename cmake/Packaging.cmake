# CPack: `cpack -G DEB` (or `cmake --build build --target package`) builds a Debian
# package of everything cmake/Install.cmake installs, under /usr. Its Depends come from
# dpkg-shlibdeps over the ELF files (libpq5, libantlr4-runtime4.9, libstdc++6, ...), and
# a shlibs file plus ldconfig triggers are generated for libstrata.so.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME strata)
set(CPACK_PACKAGE_VENDOR "strata")
set(CPACK_PACKAGE_CONTACT "strata maintainers <strata@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "declarative migration compiler and planner for PostgreSQL")
set(CPACK_PACKAGE_DESCRIPTION
    "strata compiles declared schema versions into safe expand (up) and contract (finish)
plans and applies them with libpq. The package holds the strata command, its man page
and bash completion, and libstrata (the node-start check for applications) with its
headers and CMake package.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
include(CPack)
