# What `cmake --install` puts where (GNUInstallDirs): the strata executable, libstrata
# with its headers and CMake package (find_package(strata) -> strata::strata), the man
# page strata.1 and the bash completion, both generated at build time from the built
# executable's --help texts (cli/gen-docs.sh), so they never drift from it.
include(CMakePackageConfigHelpers)

set(_strata_docs ${PROJECT_BINARY_DIR}/docs-generated)
add_custom_command(
  OUTPUT ${_strata_docs}/strata.1 ${_strata_docs}/strata.bash
  COMMAND bash ${PROJECT_SOURCE_DIR}/cli/gen-docs.sh $<TARGET_FILE:strata> ${_strata_docs}
  DEPENDS strata ${PROJECT_SOURCE_DIR}/cli/gen-docs.sh
  COMMENT "Generating strata.1 and the bash completion from strata --help"
  VERBATIM)
add_custom_target(strata_docs ALL DEPENDS ${_strata_docs}/strata.1 ${_strata_docs}/strata.bash)

install(TARGETS strata RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS strata_lib EXPORT strataTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/strata/strata.h
              ${PROJECT_BINARY_DIR}/include/strata/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/strata)

set(_strata_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/strata)
install(EXPORT strataTargets NAMESPACE strata:: DESTINATION ${_strata_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/strataConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/strataConfig.cmake
                              INSTALL_DESTINATION ${_strata_cmake_dir})
# 0.x: a minor release may change the API, so only the same minor version matches.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/strataConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/strataConfig.cmake
              ${PROJECT_BINARY_DIR}/strataConfigVersion.cmake
        DESTINATION ${_strata_cmake_dir})

install(FILES ${_strata_docs}/strata.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${_strata_docs}/strata.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME strata)
