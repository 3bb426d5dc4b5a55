/* Route table, admin check and loopback test; see route.h. */
#include "server/route.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

typedef struct pattern {
    const char *prefix; /* up to the parameter, or the whole path */
    const char *suffix; /* after the parameter; NULL: no parameter */
    const char *method;
    srv_route_id id;
    bool admin, has_body;
} pattern;

static const pattern patterns[] = {
    {"/api/v1/websockets/health", NULL, "GET", SRV_ROUTE_HEALTH, false, false},
    {"/api/v1/websockets/stats", NULL, "GET", SRV_ROUTE_STATS, false, false},
    {"/api/v1/users/", "", "GET", SRV_ROUTE_USER, false, false},
    {"/api/v1/stores/", "/broadcast", "POST", SRV_ROUTE_STORE_BROADCAST, true, true},
    {"/api/v1/admin/fault", NULL, "POST", SRV_ROUTE_FAULT_SET, true, true},
    {"/api/v1/admin/fault", NULL, "GET", SRV_ROUTE_FAULT_GET, true, false},
    {"/ws", NULL, "GET", SRV_ROUTE_WS_PLAIN, false, false},
    {"/metrics", NULL, "GET", SRV_ROUTE_METRICS, true, false},
    {"/api/v1/websockets/history", NULL, "GET", SRV_ROUTE_HISTORY, false, false},
    {"/api/v1/admin/status", NULL, "GET", SRV_ROUTE_ADMIN_STATUS, true, false},
    /* the status page: public; what it shows of the admin routes is theirs */
    {"/", NULL, "GET", SRV_ROUTE_PAGE, false, false},
    {"/status", NULL, "GET", SRV_ROUTE_PAGE, false, false},
    {"/status/", "", "GET", SRV_ROUTE_PAGE, false, false},
};

/* Does path match p? Sets the parameter span: everything between the
 * prefix and the suffix, '/' included. libwebsockets has already turned
 * %2F into '/', so a raw '/' and an encoded one cannot be told apart; with
 * one parameter per route there is no need to. */
static bool matches(const pattern *p, const char *path, const char **param, size_t *plen)
{
    size_t n = strlen(p->prefix);
    if (strncmp(path, p->prefix, n))
        return false;
    if (!p->suffix)
        return path[n] == '\0';
    const char *start = path + n;
    size_t rest = strlen(start), slen = strlen(p->suffix);
    if (rest <= slen || strcmp(start + rest - slen, p->suffix))
        return false;
    *param = start;
    *plen = rest - slen;
    return true;
}

srv_route srv_route_match(const char *method, const char *path)
{
    srv_route r = {0};
    bool get = false, post = false;
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        const pattern *p = &patterns[i];
        const char *param = NULL;
        size_t plen = 0;
        if (!matches(p, path, &param, &plen))
            continue;
        if (!strcmp(method, p->method)) {
            r.id = p->id;
            r.admin = p->admin;
            r.has_body = p->has_body;
            r.param = param;
            r.param_len = plen;
            return r;
        }
        get |= !strcmp(p->method, "GET");
        post |= !strcmp(p->method, "POST");
    }
    if (get || post) {
        r.id = SRV_ROUTE_BAD_METHOD;
        r.allow = get && post ? "GET, POST" : get ? "GET" : "POST";
    }
    return r;
}

/* Compares without an early exit on the first difference. */
static bool same_secret(const char *a, const char *b, size_t blen)
{
    size_t alen = strlen(a);
    unsigned char diff = (unsigned char)(alen != blen);
    for (size_t i = 0; i < blen; i++)
        diff |= (unsigned char)(a[i % (alen ? alen : 1)] ^ b[i]);
    return diff == 0 && alen == blen;
}

int srv_admin_check(const char *configured_token, const char *authorization, bool loopback)
{
    if (!configured_token)
        return loopback ? 0 : 403;
    static const char bearer[] = "Bearer ";
    if (!authorization || strncasecmp(authorization, bearer, sizeof(bearer) - 1))
        return 401;
    const char *tok = authorization + sizeof(bearer) - 1;
    while (*tok == ' ')
        tok++;
    size_t len = strlen(tok);
    while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
        len--;
    if (!len)
        return 401;
    return same_secret(configured_token, tok, len) ? 0 : 403;
}

bool srv_addr_is_loopback(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (!addr)
        return false;
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, addr, &a6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&a6))
            return true;
        return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
    }
    return false;
}
