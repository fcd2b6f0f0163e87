# cmake -P script: install BUILD_DIR into WORK_DIR/prefix, then build and run the consumer
# in CONSUMER_DIR twice: with find_package(switchyard) and with pkg-config's flags.
cmake_minimum_required(VERSION 3.25)

foreach(var BUILD_DIR CONFIG WORK_DIR CONSUMER_DIR GENERATOR CXX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_test.cmake needs -D${var}=...")
  endif()
endforeach()

set(prefix "${WORK_DIR}/prefix")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# run(<what> <command>...): echoes the command, fails the test if it fails.
function(run what)
  message(STATUS "${what}: ${ARGN}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc})")
  endif()
endfunction()

set(config_arg "")
if(CONFIG)
  set(config_arg --config "${CONFIG}")
endif()
run("install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}" ${config_arg})

# 1. CMake package.
set(make_arg "")
if(MAKE_PROGRAM)
  set(make_arg "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
run("configure consumer" "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${WORK_DIR}/consumer"
  -G "${GENERATOR}" ${make_arg} "-DCMAKE_CXX_COMPILER=${CXX}" "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
  "-DCMAKE_EXE_LINKER_FLAGS=${CXX_FLAGS}" "-DCMAKE_PREFIX_PATH=${prefix}"
  -DCMAKE_BUILD_TYPE=Release)
run("build consumer" "${CMAKE_COMMAND}" --build "${WORK_DIR}/consumer")
run("run consumer" "${WORK_DIR}/consumer/consumer")

# 2. pkg-config: the flags it prints must be enough to compile, link and run the consumer.
file(GLOB_RECURSE pc_file "${prefix}/switchyard.pc")
if(NOT pc_file)
  message(FATAL_ERROR "switchyard.pc was not installed under ${prefix}")
endif()
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
execute_process(COMMAND pkg-config --cflags --libs switchyard
  OUTPUT_VARIABLE pc_flags OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
message(STATUS "pkg-config --cflags --libs switchyard: ${pc_flags}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config failed (${rc})")
endif()
foreach(expected "-lswitchyard" "-lfmt" "-I")
  if(NOT pc_flags MATCHES "(^| )${expected}")
    message(FATAL_ERROR "pkg-config flags lack ${expected}")
  endif()
endforeach()
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
separate_arguments(extra_flags UNIX_COMMAND "${CXX_FLAGS}")
run("compile with pkg-config flags" "${CXX}" -std=c++20 ${extra_flags}
  "${CONSUMER_DIR}/main.cpp" -o "${WORK_DIR}/consumer_pc" ${pc_flags})
get_filename_component(lib_dir "${pc_dir}" DIRECTORY)
run("run pkg-config consumer" "${CMAKE_COMMAND}" -E env "LD_LIBRARY_PATH=${lib_dir}"
  "${WORK_DIR}/consumer_pc")
