/* The HTTP API's handlers: a matched route (and its body) in, a status and
 * JSON body out. The admin check, body reading and writing are http.c's. */
#ifndef LL_SERVER_API_H
#define LL_SERVER_API_H

#include <stddef.h>

#include "server/route.h"
#include "server/server.h"

typedef struct ll_api_request {
    ll_route route;
    const char *param; /* the route's {user} or {store}, NUL-terminated */
    const char *body;  /* NULL for routes without a body */
    size_t body_len;
} ll_api_request;

typedef struct ll_api_response {
    int status;
    char *body;        /* JSON text, cJSON_free it */
    const char *hname; /* an extra header, or NULL */
    char hvalue[64];
} ll_api_response;

/* Answers one request. */
void ll_api_handle(ll_server *s, const ll_api_request *req, ll_api_response *resp);

/* {"error":message} (cJSON_free it). */
char *ll_api_error_body(const char *message);

#endif
