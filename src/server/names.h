/* The rule for user and store names, shared by the query parser, the auth
 * tokens and the HTTP routes. */
#ifndef LL_SERVER_NAMES_H
#define LL_SERVER_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* Longest user or store name, in bytes. */
#define LL_NAME_MAX 128

/* A name is 1..LL_NAME_MAX bytes of valid UTF-8 with no control characters
 * (below 0x20, or 0x7f). */
bool ll_name_valid(const char *s, size_t len);

/* True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
bool ll_utf8_valid(const unsigned char *s, size_t len);

#endif
