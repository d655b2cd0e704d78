# Writes OUT, a C file defining rl__sim_dbc_text (the bytes of IN, then a
# NUL) and rl__sim_dbc_len (their count without the NUL). Run by
# sim/CMakeLists.txt with cmake -DIN=... -DOUT=... -P embed.cmake.
if(NOT DEFINED IN OR NOT DEFINED OUT)
  message(FATAL_ERROR "embed.cmake: IN and OUT must be set")
endif()
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR n "${hex_len} / 2")
# ASCII only: a byte >= 0x80 would not fit a char everywhere.
string(REGEX MATCHALL "[0-9a-f][0-9a-f]" bytes "${hex}")
foreach(b IN LISTS bytes)
  if(b MATCHES "^[89a-f]")
    message(FATAL_ERROR "embed.cmake: ${IN} is not ASCII (byte 0x${b})")
  endif()
endforeach()
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n    " body "${body}")
get_filename_component(name "${IN}" NAME)
file(WRITE "${OUT}.tmp"
  "/* Generated from sim/data/${name} by sim/embed.cmake: do not edit. */\n"
  "#include \"sim_internal.h\"\n\n"
  "const char rl__sim_dbc_text[] = {\n    ${body}0x00};\n"
  "const size_t rl__sim_dbc_len = ${n};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
