# Installs the library so that other projects find it with either
#   find_package(switchyard)  ->  target switchyard::switchyard
#   pkg-config switchyard
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SWITCHYARD_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/switchyard")
set(SWITCHYARD_PKGCONFIG_DIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

# Consumers compile the public headers, so they need C++20 too.
target_compile_features(switchyard PUBLIC cxx_std_20)

install(TARGETS switchyard EXPORT switchyardTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# Every header, in its layer's folder: public headers include each other by those paths.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/switchyard/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/switchyard
  FILES_MATCHING PATTERN "*.h"
  PATTERN "python" EXCLUDE)  # the bindings' private header needs Python.h
# The headers generated from the op table (functions.h, tensor_methods.h, ...).
install(DIRECTORY ${SY_GEN_DIR}/switchyard/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/switchyard
  FILES_MATCHING PATTERN "*.h")

install(EXPORT switchyardTargets
  NAMESPACE switchyard::
  DESTINATION ${SWITCHYARD_CMAKE_DIR})

configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/switchyardConfig.cmake.in
  ${PROJECT_BINARY_DIR}/switchyardConfig.cmake
  INSTALL_DESTINATION ${SWITCHYARD_CMAKE_DIR})
# Before 1.0 a minor version may break the API.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/switchyardConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/switchyardConfig.cmake
  ${PROJECT_BINARY_DIR}/switchyardConfigVersion.cmake
  DESTINATION ${SWITCHYARD_CMAKE_DIR})

# The .pc file finds the prefix from its own location (pkg-config's ${pcfiledir}).
file(RELATIVE_PATH SWITCHYARD_PC_TO_PREFIX
  "/prefix/${SWITCHYARD_PKGCONFIG_DIR}" "/prefix")
string(REGEX REPLACE "/$" "" SWITCHYARD_PC_TO_PREFIX "${SWITCHYARD_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/switchyard.pc.in
  ${PROJECT_BINARY_DIR}/switchyard.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/switchyard.pc DESTINATION ${SWITCHYARD_PKGCONFIG_DIR})
