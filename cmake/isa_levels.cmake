# Instruction-set levels of the kernel modules, best last. Each is an x86-64 micro-architecture
# level: on GCC 12 these beat -march=native, whose znver3 tuning and erratic AVX-512 codegen
# on Sapphire Rapids measured slower (BUILD_NOTES).
set(EMBER_ALL_LEVELS generic avx2 avx512)
set(EMBER_ISA_FLAGS_generic "")
set(EMBER_ISA_FLAGS_avx2 -march=x86-64-v3)     # AVX2, FMA, BMI1/2, F16C
set(EMBER_ISA_FLAGS_avx512 -march=x86-64-v4)   # + AVX-512 F/BW/CD/DQ/VL

include(CheckCXXCompilerFlag)
include(CheckCXXSourceRuns)

# True when the compiler accepts the level's flags and the build machine runs its code.
function(_ember_host_runs level result)
  set(flags ${EMBER_ISA_FLAGS_${level}})
  if(level STREQUAL "avx2")
    set(test "__builtin_cpu_supports(\"x86-64-v3\")")
  else()
    set(test "__builtin_cpu_supports(\"x86-64-v4\")")
  endif()
  string(JOIN " " CMAKE_REQUIRED_FLAGS ${flags})
  check_cxx_source_runs("int main() { __builtin_cpu_init(); return ${test} ? 0 : 1; }"
                        EMBER_HOST_RUNS_${level})
  set(${result} ${EMBER_HOST_RUNS_${level}} PARENT_SCOPE)
endfunction()

function(ember_choose_isa_levels out)
  if(NOT CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
    set(${out} generic PARENT_SCOPE)  # the levels are x86-64 ones; elsewhere the compiler default
    return()
  endif()
  if(EMBER_ISA_LEVELS)
    set(levels ${EMBER_ISA_LEVELS})
    foreach(level IN LISTS levels)
      if(NOT level IN_LIST EMBER_ALL_LEVELS)
        message(FATAL_ERROR "EMBER_ISA_LEVELS: unknown level '${level}' (known: ${EMBER_ALL_LEVELS})")
      endif()
    endforeach()
  elseif(EMBER_PORTABLE)
    set(levels ${EMBER_ALL_LEVELS})
  else()  # a source build: every level the build machine itself can run
    set(levels generic)
    foreach(level avx2 avx512)
      _ember_host_runs(${level} runs)
      if(runs)
        list(APPEND levels ${level})
      endif()
    endforeach()
  endif()
  foreach(level IN LISTS levels)
    if(EMBER_ISA_FLAGS_${level})
      string(JOIN " " flags ${EMBER_ISA_FLAGS_${level}})
      check_cxx_compiler_flag("${flags}" EMBER_COMPILER_HAS_${level})
      if(NOT EMBER_COMPILER_HAS_${level})
        message(FATAL_ERROR "ember: the compiler does not accept ${flags} (level ${level})")
      endif()
    endif()
  endforeach()
  set(${out} ${levels} PARENT_SCOPE)
endfunction()
