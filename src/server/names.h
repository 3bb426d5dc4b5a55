/* The rule for user and store names, shared by the query parser, the auth
 * tokens and the HTTP routes. */
#ifndef SRV_NAMES_H
#define SRV_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* Longest user or store name, in bytes. */
#define SRV_NAME_MAX 128

/* A name is 1..SRV_NAME_MAX bytes of valid UTF-8 with no control characters:
 * C0 (below 0x20, NUL included), DEL (0x7f) and C1 (U+0080..U+009F). len
 * is the whole decoded length: a strlen taken after decoding stops at a NUL
 * and would pass the name cut short ("victim\0x" as "victim"), so a caller
 * that cannot know the decoded length refuses input with a NUL first (as
 * token.c does for its claims). */
bool srv_name_valid(const char *s, size_t len);

/* True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
bool srv_utf8_valid(const unsigned char *s, size_t len);

#endif
