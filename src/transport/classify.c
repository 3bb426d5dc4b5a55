/* See classify.h. The reason texts are those of libwebsockets 4.1's
 * CLIENT_CONNECTION_ERROR ("getaddrinfo ... failed", "HS: ...", ...). */
#include "transport/classify.h"

#include <string.h>
#include <strings.h>

int64_t ll_parse_retry_after(const char *v)
{
    if (!v)
        return 0;
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v < '0' || *v > '9')
        return 0;
    /* past a day the digits are still read, so that what follows them is
     * checked as for any other value */
    int64_t s = 0;
    for (; *v >= '0' && *v <= '9'; v++)
        if (s <= 86400)
            s = s * 10 + (*v - '0');
    while (*v == ' ' || *v == '\t')
        v++;
    return *v ? 0 : (s > 86400 ? 86400 : s) * 1000;
}

void ll_classify_http(int status, const char *retry_after, ll_event *ev)
{
    ev->error = LIFELINE_ERR_HTTP_STATUS;
    ev->http_status = status;
    ev->permanent = (status >= 300 && status < 400) ||
                    (status >= 400 && status < 500 && status != 408 && status != 425 &&
                     status != 429);
    ev->retry_after_ms = (status == 429 || status == 503) ? ll_parse_retry_after(retry_after) : 0;
}

int ll_parse_http_status(const char *s, size_t len)
{
    if (!s || len < 3 || (len > 3 && s[3] != ' '))
        return 0;
    if (s[0] < '1' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9')
        return 0;
    return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

static int has(const char *s, const char *needle)
{
    size_t n = strlen(needle);
    for (; *s; s++)
        if (strncasecmp(s, needle, n) == 0)
            return 1;
    return 0;
}

void ll_classify_connect_error(const char *reason, ll_event *ev)
{
    const char *r = reason ? reason : "";
    ev->permanent = 0;
    ev->http_status = 0;
    if (has(r, "unauthorized")) {
        ll_classify_http(401, NULL, ev);
    } else if (has(r, "getaddrinfo") || has(r, "resolv") || has(r, "dns")) {
        ev->error = LIFELINE_ERR_DNS;
    } else if (has(r, "cert") || has(r, "x509") || has(r, "verify")) {
        ev->error = LIFELINE_ERR_TLS;
        ev->permanent = 1; /* a refused certificate does not fix itself */
    } else if (has(r, "ssl") || has(r, "tls")) {
        ev->error = LIFELINE_ERR_TLS;
    } else if (has(r, "timed out") || has(r, "timeout")) {
        ev->error = LIFELINE_ERR_CONNECT_TIMEOUT;
    } else if (has(r, "refused") || has(r, "unable to connect") || has(r, "connect failed") ||
               has(r, "conn fail")) {
        ev->error = LIFELINE_ERR_CONNECTION_REFUSED;
    } else if (has(r, "HS:")) {
        ev->error = LIFELINE_ERR_PROTOCOL;
    } else {
        ev->error = LIFELINE_ERR_CONNECTION_RESET;
    }
}
