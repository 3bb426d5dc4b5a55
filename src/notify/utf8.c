/* See utf8.h. */
#include "notify/utf8.h"

#include <stdlib.h>
#include <string.h>

/* Bytes in the well-formed sequence at p (Unicode table 3-7: no overlong
 * form, no surrogate, nothing above U+10FFFF), or 1 for an invalid or
 * truncated one: that byte is then one character on its own. */
static size_t seq_len(const unsigned char *p)
{
    unsigned char b = p[0], lo = 0x80, hi = 0xBF;
    size_t n;
    if (b < 0x80)
        return 1;
    if (b >= 0xC2 && b <= 0xDF) {
        n = 2;
    } else if (b == 0xE0) {
        n = 3;
        lo = 0xA0; /* below: an overlong form */
    } else if (b == 0xED) {
        n = 3;
        hi = 0x9F; /* above: a surrogate */
    } else if (b >= 0xE1 && b <= 0xEF) {
        n = 3;
    } else if (b == 0xF0) {
        n = 4;
        lo = 0x90; /* below: an overlong form */
    } else if (b == 0xF4) {
        n = 4;
        hi = 0x8F; /* above: past U+10FFFF */
    } else if (b >= 0xF1 && b <= 0xF3) {
        n = 4;
    } else {
        return 1; /* a continuation byte, C0, C1 or F5..FF */
    }
    /* p[1] is there (at worst the NUL), and p[i] for as long as the bytes
     * before it were continuation bytes */
    if (p[1] < lo || p[1] > hi)
        return 1;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 1;
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
