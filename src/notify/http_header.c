/* See http_header.h. */
#include "notify/http_header.h"

#include <string.h>

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

bool ll_http_header_value(const char *line, size_t len, const char *name, char *out,
                          size_t out_len)
{
    const unsigned char *s = (const unsigned char *)line;
    size_t k = strlen(name);
    if (len <= k || s[k] != ':')
        return false;
    for (size_t i = 0; i < k; i++)
        if (lower(s[i]) != lower((unsigned char)name[i]))
            return false;
    size_t a = k + 1, b = len;
    while (b > a && (s[b - 1] == '\r' || s[b - 1] == '\n'))
        b--;
    while (b > a && is_ows(s[b - 1]))
        b--;
    while (a < b && is_ows(s[a]))
        a++;
    for (size_t i = a; i < b; i++)
        if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
            return false;
    if (b - a >= out_len)
        return false;
    memcpy(out, s + a, b - a);
    out[b - a] = '\0';
    return true;
}
