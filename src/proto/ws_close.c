/* See ws_close.h. */
#include "proto/ws_close.h"

#include <stdint.h>

#include "proto/ws_utf8.h"

int ll_ws_close_code_valid(int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

int ll_ws_close_check(const void *payload, size_t len, int *code)
{
    const uint8_t *p = payload;
    int c = len >= 2 ? p[0] << 8 | p[1] : len == 0 ? 1005 : 0;
    if (code)
        *code = c;
    if (len == 0)
        return 0;
    if (len == 1 || len > 125 || !ll_ws_close_code_valid(c))
        return 1002;
    return ll_utf8_stream_valid(p + 2, len - 2) ? 0 : 1007;
}
