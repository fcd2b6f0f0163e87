# Checks the layering of cmake/layers.cmake: a file compiled as part of a layer finds the
# headers of its layer and of those below it, and does not find those of higher layers
# (generated headers included). Run by ctest as `cmake -D... -P upward_include_test.cmake`
# with CXX (the compiler), BUILD_DIR and WORK_DIR.
set(cases
  # layer     header                                        must build
  "tensor     switchyard/core/error.h                       YES"
  "tensor     switchyard/tensor/tensor.h                    YES"
  "tensor     switchyard/dispatch/dispatcher.h              NO"
  "tensor     switchyard/ops/generated/functions.h          NO"
  "dispatch   switchyard/tensor/tensor.h                    YES"
  "dispatch   switchyard/ops/ops.h                          NO"
  "ops        switchyard/ops/generated/functions.h          YES"
  "ops        switchyard/trace/tracer.h                     NO"
  "core       switchyard/tensor/scalar_type.h               NO"
)
file(MAKE_DIRECTORY ${WORK_DIR})
set(failures "")
foreach(case ${cases})
  string(REGEX MATCHALL "[^ ]+" parts "${case}")
  list(GET parts 0 layer)
  list(GET parts 1 header)
  list(GET parts 2 expected)
  set(probe ${WORK_DIR}/probe_${layer}.cpp)
  file(WRITE ${probe} "#include \"${header}\"\n")
  # The include roots sy_add_layers gives the layer's sources.
  set(flags -I${BUILD_DIR}/layers/${layer}/src -I${BUILD_DIR}/layers/${layer}/gen)
  execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only ${flags} ${probe}
    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(rc EQUAL 0)
    set(built YES)
  elseif(err MATCHES "No such file or directory")
    set(built NO)
  else()
    set(built "NO, but not for a missing header")
  endif()
  if(NOT built STREQUAL expected)
    string(APPEND failures "\n  layer ${layer} including ${header}: built=${built}, expected ${expected}\n${err}")
  endif()
endforeach()
if(failures)
  message(FATAL_ERROR "the layering is not enforced:${failures}")
endif()
