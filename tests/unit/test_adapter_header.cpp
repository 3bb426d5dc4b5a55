// The adapter headers compile as C++ (extern "C", casts C++ wants).
#include "test_adapter_header.c"
