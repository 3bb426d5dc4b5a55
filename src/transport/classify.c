/* See classify.h. The texts are libwebsockets 4.1.6's, where it calls
 * lws_inform_client_conn_fail() (git grep -n 'lws_inform_client_conn_fail\|
 * cce = ' v4.1.6 -- lib, and lib/tls/openssl/openssl-client.c for the TLS
 * ones it passes through). */
#include "transport/classify.h"

#include <stdlib.h>
#include <string.h>

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

ll_failure ll_failure_http(int status, const char *retry_after)
{
    return (ll_failure){.kind = LL_FAIL_HTTP_STATUS, .http_status = status,
                        .retry_after_ms = ll_parse_retry_after(retry_after)};
}

int ll_parse_http_status(const char *s, size_t len)
{
    if (!s || len < 3 || (len > 3 && s[3] != ' '))
        return 0;
    if (s[0] < '1' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9')
        return 0;
    return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

/* THE table: the start of a libwebsockets 4.1.6 text, and what it means.
 * First match wins (the "HS: " rows after the particular ones). Texts not
 * here (proxy and socks faults, "Peer hung up", "read failed", "closed
 * before established", "first service failed", "connect unk n", ...) are
 * resets. */
static const struct {
    const char *prefix;
    ll_failure_kind kind;
    int http_status;
} lws_texts[] = {
    /* client-handshake.c: getaddrinfo gave no address, whatever the family */
    {"ipv6 lws_getaddrinfo46 failed", LL_FAIL_DNS, 0},
    /* client-handshake.c: every address refused or unreachable */
    {"Unable to connect", LL_FAIL_REFUSED, 0},
    /* openssl-client.c lws_tls_client_confirm_peer_cert() (a refusal is
     * also seen in OPENSSL_PERFORM_SERVER_CERT_VERIFICATION: ws.c) */
    {"server's cert didn't look good, X509_V_ERR = ", LL_FAIL_TLS_VERIFY, 0},
    /* openssl-client.c lws_tls_client_connect(); wsi-timeout.c;
     * client-http.c lws_client_create_tls() */
    {"connect SSL err ", LL_FAIL_TLS_OTHER, 0},
    {"Timed out waiting SSL", LL_FAIL_TLS_OTHER, 0},
    {"tls restriction limit", LL_FAIL_TLS_OTHER, 0},
    /* client-ws.c lws_client_ws_upgrade(): the 401 it names */
    {"HS: ws upgrade unauthorized", LL_FAIL_HTTP_STATUS, 401},
    /* client-http.c and client-ws.c: every other handshake fault */
    {"HS: ", LL_FAIL_PROTOCOL, 0},
};

ll_failure ll_failure_from_lws_text(const char *text)
{
    ll_failure f = {.kind = LL_FAIL_RESET};
    if (!text)
        return f;
    for (size_t i = 0; i < sizeof(lws_texts) / sizeof(lws_texts[0]); i++) {
        size_t n = strlen(lws_texts[i].prefix);
        if (strncmp(text, lws_texts[i].prefix, n) == 0) {
            f.kind = lws_texts[i].kind;
            f.http_status = lws_texts[i].http_status;
            return f;
        }
    }
    /* openssl-client.c lws_tls_client_connect(): SSL_ERROR_SYSCALL's errno */
    static const char syscall[] = "connect SYSCALL ";
    if (strncmp(text, syscall, sizeof(syscall) - 1) == 0) {
        const char *p = text + sizeof(syscall) - 1;
        char *end;
        long e = strtol(p, &end, 10);
        if (end != p && e > 0 && e < 100000)
            f.sys_errno = (int)e;
    }
    return f;
}

size_t ll_body_excerpt(const char *body, size_t len, char *out, size_t n)
{
    size_t k = 0;
    int in_tag = 0, space = 0, cut = 0;
    for (size_t i = 0; i < len && !cut; i++) {
        unsigned char ch = (unsigned char)body[i];
        if (in_tag) {
            in_tag = ch != '>';
            if (!in_tag)
                space = 1; /* "<p>a</p><p>b</p>": "a b" */
            continue;
        }
        if (ch == '<') {
            in_tag = 1;
            continue;
        }
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
            space = 1;
            continue;
        }
        if (space && k > 0) {
            if (k + 1 >= n)
                cut = 1;
            else
                out[k++] = ' ';
        }
        space = 0;
        if (cut || k + 1 >= n) {
            cut = 1;
            break;
        }
        out[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    if (cut && n >= 4) {
        k = k > n - 4 ? n - 4 : k;
        while (k > 0 && out[k - 1] == ' ')
            k--;
        memcpy(out + k, "...", 3);
        k += 3;
    }
    if (n)
        out[k] = 0;
    return k;
}
