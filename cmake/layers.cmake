# The build keeps the layering of docs/architecture.md: each layer's sources compile
# as their own object library, against an include tree that holds only that layer and
# the layers below it. A file that includes a higher layer does not build
# ("switchyard/trace/graph.h: No such file or directory").
#
#   sy_add_layers(<library> <sources>...)
#
# sorts <sources> (SWITCHYARD_SOURCES and the generated ones) into layers by their
# folder (switchyard/<layer>/...), adds the object library sy_<layer> for each, and
# makes <library> of their objects. The object libraries compile with <library>'s own
# options, include directories and link dependencies, so settings made on <library>
# (and source file properties) apply to them as before. The library's users (tests,
# Python, benchmarks) see the whole tree through its interface include directories.
#
# The tree of layer L is <build>/layers/L/{src,gen}/switchyard/<M>: links to the source
# folder of M and to its generated headers (SY_GEN_DIR), for L and each M before it.
set(SY_LAYERS core tensor dispatch parallel ops autograd decompositions trace transforms aot)

function(sy_add_layers library)
  set(sources_root ${CMAKE_SOURCE_DIR}/switchyard/)
  set(generated_root ${SY_GEN_DIR}/switchyard/)
  foreach(source ${ARGN})
    string(REPLACE "${sources_root}" "" rel "${source}")
    string(REPLACE "${generated_root}" "" rel "${rel}")
    string(REGEX REPLACE "^switchyard/" "" rel "${rel}")
    string(REGEX MATCH "^[a-z_]+/" layer "${rel}")
    string(REPLACE "/" "" layer "${layer}")
    if(NOT layer IN_LIST SY_LAYERS)
      message(FATAL_ERROR "sy_add_layers: ${source} is in no layer of SY_LAYERS (${SY_LAYERS})")
    endif()
    list(APPEND sy_layer_sources_${layer} ${source})
  endforeach()

  # Sites recorded with __FILE__ in headers name them as before: relative to the
  # source tree, not through the links (whose paths ccache's base_dir makes relative
  # to the build folder, hence both forms below).
  file(RELATIVE_PATH generated_shown ${CMAKE_SOURCE_DIR} ${SY_GEN_DIR})
  if(generated_shown MATCHES "^\\.\\.")
    set(generated_shown ${SY_GEN_DIR})
  endif()

  set(below)
  foreach(layer ${SY_LAYERS})
    list(APPEND below ${layer})
    if(NOT sy_layer_sources_${layer})
      continue()
    endif()
    set(tree ${CMAKE_BINARY_DIR}/layers/${layer})
    file(REMOVE_RECURSE ${tree})
    file(MAKE_DIRECTORY ${tree}/src/switchyard ${tree}/gen/switchyard)
    foreach(m ${below})
      if(EXISTS ${sources_root}${m})
        file(CREATE_LINK ${sources_root}${m} ${tree}/src/switchyard/${m} SYMBOLIC)
      endif()
      file(MAKE_DIRECTORY ${generated_root}${m})
      file(CREATE_LINK ${generated_root}${m} ${tree}/gen/switchyard/${m} SYMBOLIC)
    endforeach()

    file(RELATIVE_PATH tree_from_build ${CMAKE_BINARY_DIR} ${tree})

    add_library(sy_${layer} OBJECT ${sy_layer_sources_${layer}})
    target_include_directories(sy_${layer} PRIVATE ${tree}/src ${tree}/gen)
    target_include_directories(sy_${layer} SYSTEM PRIVATE
      $<TARGET_PROPERTY:${library},INCLUDE_DIRECTORIES>)
    target_compile_options(sy_${layer} PRIVATE
      $<TARGET_PROPERTY:${library},COMPILE_OPTIONS>
      -ffile-prefix-map=${tree}/src/= -ffile-prefix-map=${tree_from_build}/src/=
      -ffile-prefix-map=${tree}/gen/=${generated_shown}/
      -ffile-prefix-map=${tree_from_build}/gen/=${generated_shown}/)
    target_compile_definitions(sy_${layer} PRIVATE
      $<TARGET_PROPERTY:${library},COMPILE_DEFINITIONS>)
    target_link_libraries(sy_${layer} PRIVATE $<TARGET_PROPERTY:${library},LINK_LIBRARIES>)
    # The generated headers exist before any layer compiles.
    add_dependencies(sy_${layer} switchyard_op_table)
    target_sources(${library} PRIVATE $<TARGET_OBJECTS:sy_${layer}>)
  endforeach()
endfunction()
