/* The HTTP API's routes: method and path in, the route (with its path
 * parameter) or the reason there is none out. Pure. */
#ifndef SRV_ROUTE_H
#define SRV_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum srv_route_id {
    SRV_ROUTE_NOT_FOUND = 0,  /* 404 */
    SRV_ROUTE_BAD_METHOD,     /* 405; allow lists the methods */
    SRV_ROUTE_HEALTH,         /* GET  /api/v1/websockets/health */
    SRV_ROUTE_STATS,          /* GET  /api/v1/websockets/stats */
    SRV_ROUTE_USER,           /* GET  /api/v1/users/{user} */
    SRV_ROUTE_STORE_BROADCAST,/* POST /api/v1/stores/{store}/broadcast (admin) */
    SRV_ROUTE_FAULT_SET,      /* POST /api/v1/admin/fault (admin) */
    SRV_ROUTE_FAULT_GET,      /* GET  /api/v1/admin/fault (admin) */
    SRV_ROUTE_WS_PLAIN,       /* GET  /ws without an upgrade: 426 */
    SRV_ROUTE_METRICS,        /* GET  /metrics (admin): Prometheus text */
    SRV_ROUTE_PAGE,           /* GET  /, /status, /status/{file}: the status page (page.h) */
    SRV_ROUTE_HISTORY,        /* GET  /api/v1/websockets/history */
    SRV_ROUTE_ADMIN_STATUS    /* GET  /api/v1/admin/status (admin) */
} srv_route_id;

typedef struct srv_route {
    srv_route_id id;
    bool admin;        /* needs the admin check */
    bool has_body;     /* reads a JSON request body */
    const char *allow; /* for SRV_ROUTE_BAD_METHOD: "GET", "POST", "GET, POST" */
    const char *param; /* {user}, {store} or {file}: points into path; NULL: none */
    size_t param_len;
} srv_route;

/* Matches method ("GET", "POST", ...) and an absolute, percent-decoded
 * path without its query. A route's parameter ({user}, {store}) is all
 * that lies between the route's fixed parts, so it may contain '/':
 * "/api/v1/users/a/b" is user "a/b". */
srv_route srv_route_match(const char *method, const char *path);

/* The admin rule. With a configured token: no "Authorization: Bearer"
 * header gives 401, a wrong token 403. Without one: only loopback peers
 * pass, others get 403. Returns 0 when allowed, else the status. */
int srv_admin_check(const char *configured_token, const char *authorization, bool loopback);

/* The WWW-Authenticate challenge of the admin rule's 401: a realm of its
 * own, since its token is not a /ws token (RFC 6750: no error code when
 * the request has no bearer token). */
#define SRV_CHALLENGE_ADMIN "Bearer realm=\"lifeline-admin\""

/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104 in text form. */
bool srv_addr_is_loopback(const char *addr);

#endif
