# The shared library's C interface is exactly switchyard/aot/c_api.h: every
# function the header declares is exported, and no other unmangled (C) symbol
# is. C++ symbols (mangled, _Z...) are the C++ API, exported by SY_API.
#   cmake -DLIBRARY=<libswitchyard.so> -DHEADER=<c_api.h> -DNM=<nm> -P exported_symbols_test.cmake
execute_process(COMMAND ${NM} -D --defined-only ${LIBRARY}
                OUTPUT_VARIABLE nm_out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm failed on ${LIBRARY}")
endif()
string(REPLACE "\n" ";" lines "${nm_out}")
set(exported "")
foreach(line IN LISTS lines)
  if(line MATCHES "^[0-9a-fA-F]+ [A-Za-z] (.+)$")
    set(sym "${CMAKE_MATCH_1}")
    # Linker-made markers, not part of any interface.
    if(NOT sym MATCHES "^_Z" AND NOT sym MATCHES "^(_init|_fini|__bss_start|_edata|_end)$")
      list(APPEND exported "${sym}")
    endif()
  endif()
endforeach()

file(READ ${HEADER} header)
string(REGEX MATCHALL "SY_C_API[^;(]* (sy_[a-z_]+)\\(" decls "${header}")
set(declared "")
foreach(d IN LISTS decls)
  string(REGEX REPLACE ".* (sy_[a-z_]+)\\($" "\\1" name "${d}")
  list(APPEND declared "${name}")
endforeach()
list(SORT exported)
list(SORT declared)
if(NOT declared)
  message(FATAL_ERROR "no SY_C_API function found in ${HEADER}")
endif()
if(NOT exported STREQUAL declared)
  message(FATAL_ERROR "C symbols exported by ${LIBRARY}:\n  ${exported}\n"
                      "functions declared in ${HEADER}:\n  ${declared}")
endif()
message(STATUS "C symbols match c_api.h: ${exported}")
