/* Encodings for printing messages: base64 for binary, a UTF-8 check for
 * text that JSON can carry as a string. */
#ifndef LIFELINE_CLI_ENCODE_H
#define LIFELINE_CLI_ENCODE_H

#include <stddef.h>

/* Standard base64 (with padding) of data, NUL-terminated; the caller frees
 * it. NULL when out of memory. */
char *base64_encode(const void *data, size_t len);

/* 1 when data is well-formed UTF-8 without NUL bytes (so it can be printed
 * as a C and JSON string as it is), else 0. */
int is_printable_utf8(const void *data, size_t len);

#endif
