/* Cutting text to a number of characters without breaking a UTF-8
 * sequence, the way Discord counts its limits. */
#ifndef LL_NOTIFY_UTF8_H
#define LL_NOTIFY_UTF8_H

#include <stddef.h>

/* Characters (code points) in s; each byte of an ill-formed sequence (an
 * overlong form, a surrogate, past U+10FFFF, cut short) counts one. */
size_t ll_utf8_chars(const char *s);

/* A heap copy of s with at most max characters: when it is cut, the last
 * character is an ellipsis (U+2026). Always valid UTF-8: each byte of an
 * ill-formed sequence becomes U+FFFD. NULL on OOM. max >= 1. */
char *ll_utf8_cut(const char *s, size_t max);

#endif
