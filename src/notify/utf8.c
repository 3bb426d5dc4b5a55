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
    size_t chars = ll_utf8_chars(s);
    size_t keep = chars <= max ? chars : max - 1; /* then the ellipsis */
    /* an invalid byte becomes U+FFFD (3 bytes): JSON must be valid UTF-8 */
    char *out = malloc(4 * keep + 4); /* up to 4 bytes each, an ellipsis, NUL */
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    for (size_t n = 0; n < keep; n++) {
        size_t len = seq_len(p);
        if (len == 1 && *p >= 0x80) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
        } else {
            memcpy(out + o, p, len);
            o += len;
        }
        p += len;
    }
    if (chars > max) {
        memcpy(out + o, "\xE2\x80\xA6", 3); /* U+2026 */
        o += 3;
    }
    out[o] = 0;
    return out;
}
