# Runs tools/opgen over SWITCHYARD_OP_TABLES (docs/op-table.md). Sets
#   SY_GEN_DIR             the include root of the generated C++ (<build>/generated)
#   SY_OPGEN_CPP_OUTPUTS   the generated C++ files, sources of the switchyard library
#   SY_OPGEN_PY_OUTPUT     the generated _op_table.py, in the Python package's build folder
#   SY_OPGEN_PY_CPP_OUTPUT the unboxed Python entries, a source of the extension module
# and adds the target ops_doc, which rewrites the op tables in docs/ops.md.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
execute_process(COMMAND ${Python3_EXECUTABLE} -c "import yaml"
  RESULT_VARIABLE sy_no_yaml OUTPUT_QUIET ERROR_QUIET)
if(sy_no_yaml)
  message(FATAL_ERROR "The op table generator needs PyYAML for ${Python3_EXECUTABLE}: "
    "apt-get install python3-yaml (or pass -DPython3_EXECUTABLE=/usr/bin/python3)")
endif()

set(SY_GEN_DIR ${CMAKE_BINARY_DIR}/generated)
set(SY_OPGEN ${CMAKE_SOURCE_DIR}/tools/opgen/opgen.py)
file(GLOB SY_OPGEN_SCRIPTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tools/opgen/*.py)
set(SY_OPGEN_CPP_OUTPUTS
  ${SY_GEN_DIR}/switchyard/ops/generated/functions.h
  ${SY_GEN_DIR}/switchyard/ops/generated/functions.cpp
  ${SY_GEN_DIR}/switchyard/tensor/generated/tensor_methods.h
  ${SY_GEN_DIR}/switchyard/transforms/generated/batching_rules.h)
set(sy_tables)
# Autograd's kernels (one file a table, compiled into the library) and the
# decompositions' registrations: docs/autograd.md.
set(SY_OPGEN_AUTOGRAD_OUTPUTS
  ${SY_GEN_DIR}/switchyard/decompositions/generated/decompositions.cpp)
foreach(table ${SWITCHYARD_OP_TABLES})
  get_filename_component(family ${table} NAME_WE)
  list(APPEND SY_OPGEN_CPP_OUTPUTS ${SY_GEN_DIR}/switchyard/ops/generated/${family}_registrations.h)
  list(APPEND SY_OPGEN_AUTOGRAD_OUTPUTS
    ${SY_GEN_DIR}/switchyard/autograd/generated/${family}_autograd.cpp)
  list(APPEND sy_tables ${CMAKE_SOURCE_DIR}/${table})
endforeach()
list(APPEND SY_OPGEN_CPP_OUTPUTS ${SY_OPGEN_AUTOGRAD_OUTPUTS})
set(SY_OPGEN_TEST_OUTPUT ${SY_GEN_DIR}/tests/op_table_data.h ${SY_GEN_DIR}/tests/autograd_coverage.h)
set(SY_OPGEN_PY_OUTPUT ${CMAKE_BINARY_DIR}/python/switchyard/_op_table.py)
# The Python bindings' unboxed entries (a source of the extension module).
set(SY_OPGEN_PY_CPP_OUTPUT ${SY_GEN_DIR}/python/unboxed_calls.cpp)

add_custom_command(
  OUTPUT ${SY_OPGEN_CPP_OUTPUTS} ${SY_OPGEN_TEST_OUTPUT} ${SY_OPGEN_PY_OUTPUT}
         ${SY_OPGEN_PY_CPP_OUTPUT}
  COMMAND ${Python3_EXECUTABLE} ${SY_OPGEN} --source-dir ${CMAKE_SOURCE_DIR}
          --out ${SY_GEN_DIR} --python-out ${CMAKE_BINARY_DIR}/python/switchyard
          ${SWITCHYARD_OP_TABLES}
  DEPENDS ${sy_tables} ${SY_OPGEN_SCRIPTS}
  COMMENT "Generating the operator surface from the op table"
  VERBATIM)
add_custom_target(switchyard_op_table DEPENDS ${SY_OPGEN_CPP_OUTPUTS} ${SY_OPGEN_TEST_OUTPUT}
  ${SY_OPGEN_PY_OUTPUT} ${SY_OPGEN_PY_CPP_OUTPUT})

# docs/autograd.md's coverage table, likewise (test autograd_docs_current).
add_custom_target(autograd_doc
  COMMAND ${Python3_EXECUTABLE} ${SY_OPGEN} --source-dir ${CMAKE_SOURCE_DIR}
          --autograd-docs docs/autograd.md ${SWITCHYARD_OP_TABLES}
  DEPENDS ${sy_tables} ${SY_OPGEN_SCRIPTS}
  COMMENT "Rewriting the autograd coverage table in docs/autograd.md"
  VERBATIM)

# docs/ops.md is committed; this rewrites its op tables (the test op_table_docs_current
# fails while they differ from the table).
add_custom_target(ops_doc
  COMMAND ${Python3_EXECUTABLE} ${SY_OPGEN} --source-dir ${CMAKE_SOURCE_DIR}
          --docs docs/ops.md ${SWITCHYARD_OP_TABLES}
  DEPENDS ${sy_tables} ${SY_OPGEN_SCRIPTS}
  COMMENT "Rewriting the op tables in docs/ops.md"
  VERBATIM)
