# Applied to every target in the project; third-party headers come in as SYSTEM includes.
add_compile_options(-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
                    -Woverloaded-virtual -Wformat=2 -Wimplicit-fallthrough)
if(SIXGATE_WERROR)
  add_compile_options(-Werror)
endif()
# GCC 12 reports -Wrestrict for `"literal" + std::string` at -O2 (GCC bug 105329, fixed in 13): a false
# positive inside libstdc++, not in our code.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  add_compile_options(-Wno-restrict)
endif()
