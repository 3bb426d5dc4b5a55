/* See content_length.h. */
#include "server/content_length.h"

#include <stdlib.h>

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

bool srv_content_length(const char *value, size_t len, int64_t *out)
{
    if (len > SRV_LWS_CLEN_MAX)
        return false;
    size_t i = 0, end = len;
    while (i < end && is_ows(value[i]))
        i++;
    while (end > i && is_ows(value[end - 1]))
        end--;
    if (i == end)
        return false;
    int64_t n = 0;
    for (; i < end; i++) {
        if (value[i] < '0' || value[i] > '9')
            return false;
        int d = value[i] - '0';
        n = n > (INT64_MAX - d) / 10 ? INT64_MAX : n * 10 + d;
    }
    *out = n;
    return true;
}

bool srv_lws_reads_body(const char *value, bool body_method)
{
    if (!value)
        return body_method;
    /* atoll() as libwebsockets calls it; strtoll() is what glibc's atoll()
     * is, with its overflow defined (LLONG_MIN, LLONG_MAX: both not 0) */
    return strtoll(value, NULL, 10) != 0;
}
