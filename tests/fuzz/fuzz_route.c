/* lifeline-server's HTTP routing (src/server/route.c). libwebsockets splits
 * the request line and percent-decodes the path; what reaches lifeline is
 * the method and the path, the Authorization header and the peer's address.
 * Input: "METHOD PATH\nAUTHORIZATION\nADDRESS".
 * Properties: a route's parameter is the non-empty span of the path
 * between its fixed parts ('/' included: libwebsockets has decoded %2F),
 * and method + path rebuild from the route; 405 names the methods;
 * the admin check agrees with a plain restatement of its rule. */
#include <arpa/inet.h>
#include <strings.h>

#include "fuzz.h"
#include "server/route.h"

static const char admin_token[] = "s3cret-admin-token";

static void check_route(const char *method, const char *path)
{
    srv_route r = srv_route_match(method, path);
    FUZZ_CHECK(r.id >= SRV_ROUTE_NOT_FOUND && r.id <= SRV_ROUTE_ADMIN_STATUS);
    FUZZ_CHECK((r.id == SRV_ROUTE_BAD_METHOD) == (r.allow != NULL));
    if (r.allow)
        FUZZ_CHECK(!strcmp(r.allow, "GET") || !strcmp(r.allow, "POST") ||
                   !strcmp(r.allow, "GET, POST"));
    /* the status page's files: /status/{file}; / and /status have none */
    bool page_file = r.id == SRV_ROUTE_PAGE && !strncmp(path, "/status/", 8);
    bool wants_param = r.id == SRV_ROUTE_USER || r.id == SRV_ROUTE_STORE_BROADCAST || page_file;
    FUZZ_CHECK(wants_param == (r.param != NULL));
    FUZZ_CHECK(r.admin == (r.id == SRV_ROUTE_STORE_BROADCAST || r.id == SRV_ROUTE_FAULT_SET ||
                           r.id == SRV_ROUTE_FAULT_GET || r.id == SRV_ROUTE_METRICS ||
                           r.id == SRV_ROUTE_ADMIN_STATUS));
    FUZZ_CHECK(r.has_body == (r.id == SRV_ROUTE_STORE_BROADCAST || r.id == SRV_ROUTE_FAULT_SET));

    const char *want_method = NULL, *before = NULL, *after = "";
    switch (r.id) {
    case SRV_ROUTE_HEALTH: want_method = "GET"; before = "/api/v1/websockets/health"; break;
    case SRV_ROUTE_STATS: want_method = "GET"; before = "/api/v1/websockets/stats"; break;
    case SRV_ROUTE_USER: want_method = "GET"; before = "/api/v1/users/"; break;
    case SRV_ROUTE_STORE_BROADCAST:
        want_method = "POST"; before = "/api/v1/stores/"; after = "/broadcast"; break;
    case SRV_ROUTE_FAULT_SET: want_method = "POST"; before = "/api/v1/admin/fault"; break;
    case SRV_ROUTE_FAULT_GET: want_method = "GET"; before = "/api/v1/admin/fault"; break;
    case SRV_ROUTE_WS_PLAIN: want_method = "GET"; before = "/ws"; break;
    case SRV_ROUTE_METRICS: want_method = "GET"; before = "/metrics"; break;
    case SRV_ROUTE_HISTORY: want_method = "GET"; before = "/api/v1/websockets/history"; break;
    case SRV_ROUTE_ADMIN_STATUS: want_method = "GET"; before = "/api/v1/admin/status"; break;
    case SRV_ROUTE_PAGE:
        want_method = "GET";
        before = page_file ? "/status/" : !strcmp(path, "/") ? "/" : "/status";
        break;
    default: break;
    }
    if (!want_method)
        return;
    FUZZ_CHECK(!strcmp(method, want_method));
    size_t blen = strlen(before), plen = strlen(path);
    FUZZ_CHECK(!strncmp(path, before, blen));
    if (!r.param) {
        FUZZ_CHECK(plen == blen);
        return;
    }
    FUZZ_CHECK(r.param == path + blen && r.param_len > 0);
    FUZZ_CHECK(!strcmp(r.param + r.param_len, after));
}

/* The rule as route.h states it, for a configured token. */
static int expected_admin(const char *auth)
{
    if (!auth || strncasecmp(auth, "Bearer ", 7))
        return 401;
    const char *tok = auth + 7;
    while (*tok == ' ')
        tok++;
    size_t len = strlen(tok);
    while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
        len--;
    if (!len)
        return 401;
    return len == strlen(admin_token) && !memcmp(tok, admin_token, len) ? 0 : 403;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = fuzz_input(data, size);
    char *line = fuzz_take(&in, '\n', NULL);
    char *auth = fuzz_take(&in, '\n', NULL);
    char *addr = fuzz_take(&in, '\n', NULL);

    char *sp = strchr(line, ' ');
    const char *path = "";
    if (sp) {
        *sp = '\0';
        path = sp + 1;
    }
    check_route(line, path);

    FUZZ_CHECK(srv_admin_check(admin_token, auth, false) == expected_admin(auth));
    FUZZ_CHECK(srv_admin_check(admin_token, auth, true) == expected_admin(auth));
    FUZZ_CHECK(srv_admin_check(NULL, auth, true) == 0);
    FUZZ_CHECK(srv_admin_check(NULL, auth, false) == 403);

    if (srv_addr_is_loopback(addr)) {
        unsigned char buf[sizeof(struct in6_addr)];
        FUZZ_CHECK(inet_pton(AF_INET, addr, buf) == 1 || inet_pton(AF_INET6, addr, buf) == 1);
    }
    FUZZ_CHECK(!srv_addr_is_loopback(NULL));

    free(line);
    free(auth);
    free(addr);
    return 0;
}
