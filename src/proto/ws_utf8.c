/* See ws_utf8.h. The lead byte fixes how many continuation bytes follow
 * and the range of the first of them (table 3-7: E0 A0..BF rules out
 * overlongs, ED 80..9F surrogates, F0 90..BF overlongs, F4 80..8F what is
 * above U+10FFFF); every other continuation byte is 80..BF. */
#include "proto/ws_utf8.h"

#include <string.h>

void ll_utf8_stream_init(ll_utf8_stream *u)
{
    u->need = 0;
    u->lo = 0x80;
    u->hi = 0xBF;
    u->bad = 0;
}

size_t ll_utf8_stream_feed(ll_utf8_stream *u, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (u->bad)
        return 0;
    size_t i = 0;
    while (i < len) {
        if (u->need == 0) {
            /* ASCII eight bytes at a time: the common case of big texts */
            while (len - i >= 8) {
                uint64_t w;
                memcpy(&w, p + i, 8);
                if (w & 0x8080808080808080ULL)
                    break;
                i += 8;
            }
            if (i == len)
                break;
            uint8_t b = p[i];
            if (b < 0x80) {
                i++;
                continue;
            }
            if (b >= 0xC2 && b <= 0xDF) {
                u->need = 1;
            } else if (b >= 0xE0 && b <= 0xEF) {
                u->need = 2;
                if (b == 0xE0)
                    u->lo = 0xA0;
                else if (b == 0xED)
                    u->hi = 0x9F;
            } else if (b >= 0xF0 && b <= 0xF4) {
                u->need = 3;
                if (b == 0xF0)
                    u->lo = 0x90;
                else if (b == 0xF4)
                    u->hi = 0x8F;
            } else { /* 80..C1 (a stray continuation, overlong C0/C1), F5..FF */
                u->bad = 1;
                return i;
            }
            i++;
            continue;
        }
        uint8_t b = p[i];
        if (b < u->lo || b > u->hi) {
            u->bad = 1;
            return i;
        }
        u->need--;
        u->lo = 0x80;
        u->hi = 0xBF;
        i++;
    }
    return len;
}

int ll_utf8_stream_complete(const ll_utf8_stream *u)
{
    return !u->bad && u->need == 0;
}

int ll_utf8_stream_valid(const void *data, size_t len)
{
    ll_utf8_stream u;
    ll_utf8_stream_init(&u);
    return ll_utf8_stream_feed(&u, data, len) == len && ll_utf8_stream_complete(&u);
}
