/* The HTTP API's routes: method and path in, the route (with its path
 * parameter) or the reason there is none out. Pure. */
#ifndef LL_SERVER_ROUTE_H
#define LL_SERVER_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum ll_route_id {
    LL_ROUTE_NOT_FOUND = 0,  /* 404 */
    LL_ROUTE_BAD_METHOD,     /* 405; allow lists the methods */
    LL_ROUTE_HEALTH,         /* GET  /api/v1/websockets/health */
    LL_ROUTE_STATS,          /* GET  /api/v1/websockets/stats */
    LL_ROUTE_USER,           /* GET  /api/v1/users/{user} */
    LL_ROUTE_STORE_BROADCAST,/* POST /api/v1/stores/{store}/broadcast (admin) */
    LL_ROUTE_FAULT_SET,      /* POST /api/v1/admin/fault (admin) */
    LL_ROUTE_FAULT_GET,      /* GET  /api/v1/admin/fault (admin) */
    LL_ROUTE_WS_PLAIN        /* GET  /ws without an upgrade: 426 */
} ll_route_id;

typedef struct ll_route {
    ll_route_id id;
    bool admin;        /* needs the admin check */
    bool has_body;     /* reads a JSON request body */
    const char *allow; /* for LL_ROUTE_BAD_METHOD: "GET", "POST", "GET, POST" */
    const char *param; /* {user} or {store}: points into path */
    size_t param_len;
} ll_route;

/* Matches method ("GET", "POST", ...) and an absolute, percent-decoded
 * path without its query. A route's parameter ({user}, {store}) is all
 * that lies between the route's fixed parts, so it may contain '/':
 * "/api/v1/users/a/b" is user "a/b". */
ll_route ll_route_match(const char *method, const char *path);

/* The admin rule. With a configured token: no "Authorization: Bearer"
 * header gives 401, a wrong token 403. Without one: only loopback peers
 * pass, others get 403. Returns 0 when allowed, else the status. */
int ll_admin_check(const char *configured_token, const char *authorization, bool loopback);

/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104 in text form. */
bool ll_addr_is_loopback(const char *addr);

#endif
