/* See utf8.h. */
#include "notify/utf8.h"

#include <stdlib.h>
#include <string.h>

/* Bytes in the sequence that starts with lead byte b (1 for invalid). */
static size_t seq_len(const unsigned char *p)
{
    unsigned char b = p[0];
    size_t n = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3
             : (b & 0xF8) == 0xF0 ? 4 : 1;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 1; /* truncated or invalid: one byte, one character */
    return n;
}

size_t ll_utf8_chars(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p += seq_len(p))
        n++;
    return n;
}

char *ll_utf8_cut(const char *s, size_t max)
{
    if (!s)
        s = "";
    if (ll_utf8_chars(s) <= max)
        return strdup(s);
    const unsigned char *p = (const unsigned char *)s;
    for (size_t n = 0; n + 1 < max; n++) /* keep max - 1, then the ellipsis */
        p += seq_len(p);
    size_t keep = (size_t)(p - (const unsigned char *)s);
    char *out = malloc(keep + 4);
    if (!out)
        return NULL;
    memcpy(out, s, keep);
    memcpy(out + keep, "\xE2\x80\xA6", 4); /* U+2026 and the NUL */
    return out;
}
