# hybrid_add_model(<target>
#                  SPEC <file.json> | PRESET <name>
#                  [SET <key=value>...] [STATEFUL] [TARGET cpu|cuda]
#                  [MODEL_NAME <name>] [OPTIONS <hybrid-compile options>...])
#
# Compiles a model with hybrid-compile at build time (again whenever the
# spec or the compiler changes) into a static library target <target> whose
# generated header <MODEL_NAME>.h (default: <target>.h) declares
# <MODEL_NAME>_model. Linking <target> brings the header's directory, the
# Hybrid runtime and the OpenMP runtime:
#
#   hybrid_add_model(jamba PRESET jamba SET embed_dim=256 STATEFUL)
#   target_link_libraries(app PRIVATE jamba)
#
#   #include "jamba.h"
#   hybrid_model_create_from_file(&jamba_model, "w.safetensors", &m);
#
# Part of the Hybrid project's CMake package (HybridConfig.cmake).
include_guard(GLOBAL)

function(hybrid_add_model target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "STATEFUL"
    "SPEC;PRESET;TARGET;MODEL_NAME" "SET;OPTIONS")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "hybrid_add_model(${target}): unknown arguments "
      "'${ARG_UNPARSED_ARGUMENTS}' (SPEC, PRESET, SET, STATEFUL, TARGET, "
      "MODEL_NAME, OPTIONS)")
  endif()
  if(NOT ARG_SPEC AND NOT ARG_PRESET)
    message(FATAL_ERROR "hybrid_add_model(${target}): give SPEC <file> or "
      "PRESET <name>")
  endif()
  if(NOT ARG_TARGET)
    set(ARG_TARGET cpu)
  endif()
  if(ARG_TARGET STREQUAL "cuda")
    message(FATAL_ERROR "hybrid_add_model(${target}): TARGET cuda is not "
      "available in Hybrid ${Hybrid_VERSION}: hybrid-compile generates CPU "
      "code only (the GPU target is not built yet)")
  elseif(NOT ARG_TARGET STREQUAL "cpu")
    message(FATAL_ERROR "hybrid_add_model(${target}): TARGET must be cpu "
      "or cuda, got '${ARG_TARGET}'")
  endif()
  if(NOT ARG_MODEL_NAME)
    set(ARG_MODEL_NAME ${target})
  endif()
  if(NOT ARG_MODEL_NAME MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "hybrid_add_model(${target}): MODEL_NAME "
      "'${ARG_MODEL_NAME}' is not a C identifier (name the model with "
      "MODEL_NAME)")
  endif()

  set(args)
  set(depends)
  if(ARG_SPEC)
    get_filename_component(spec "${ARG_SPEC}" ABSOLUTE
      BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(NOT EXISTS "${spec}")
      message(FATAL_ERROR "hybrid_add_model(${target}): SPEC '${spec}' "
        "does not exist")
    endif()
    list(APPEND args "${spec}")
    list(APPEND depends "${spec}")
  endif()
  if(ARG_PRESET)
    list(APPEND args "--preset=${ARG_PRESET}")
  endif()
  foreach(kv IN LISTS ARG_SET)
    list(APPEND args --set "${kv}")
  endforeach()
  if(ARG_STATEFUL)
    list(APPEND args --stateful)
  endif()
  list(APPEND args --model-name=${ARG_MODEL_NAME} ${ARG_OPTIONS})

  set(dir "${CMAKE_CURRENT_BINARY_DIR}/hybrid_models/${target}")
  set(object "${dir}/${ARG_MODEL_NAME}${CMAKE_C_OUTPUT_EXTENSION}")
  if(NOT CMAKE_C_OUTPUT_EXTENSION)
    set(object "${dir}/${ARG_MODEL_NAME}.o")
  endif()
  set(header "${dir}/${ARG_MODEL_NAME}.h")
  add_custom_command(
    OUTPUT "${object}" "${header}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${dir}"
    COMMAND Hybrid::hybrid-compile ${args} --target=cpu --emit=obj
            -o "${object}"
    COMMAND Hybrid::hybrid-compile ${args} --emit=header -o "${header}"
    DEPENDS ${depends} "${HYBRID_COMPILE_EXECUTABLE}"
    COMMENT "Compiling Hybrid model ${ARG_MODEL_NAME} (${target})"
    VERBATIM)
  set_source_files_properties("${object}" PROPERTIES
    EXTERNAL_OBJECT TRUE GENERATED TRUE)
  add_library(${target} STATIC "${object}" "${header}")
  set_target_properties(${target} PROPERTIES LINKER_LANGUAGE C)
  target_include_directories(${target} INTERFACE "${dir}")
  target_link_libraries(${target} INTERFACE Hybrid::runtime Hybrid::omp)
endfunction()
