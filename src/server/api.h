/* The HTTP API's handlers: a matched route (and its body) in, a status and
 * JSON body out. The admin check, body reading and writing are http.c's. */
#ifndef SRV_API_H
#define SRV_API_H

#include <stddef.h>

#include "server/route.h"
#include "server/server.h"

typedef struct srv_api_request {
    srv_route route;
    const char *param; /* the route's {user} or {store}, NUL-terminated */
    const char *body;  /* NULL for routes without a body */
    size_t body_len;
} srv_api_request;

typedef struct srv_api_response {
    int status;
    char *body;        /* JSON text (or ctype's), cJSON_free it */
    const char *ctype; /* its Content-Type (static); NULL: application/json */
    const char *hname; /* an extra header, or NULL */
    char hvalue[64];
} srv_api_response;

/* Answers one request. */
void srv_api_handle(srv_server *s, const srv_api_request *req, srv_api_response *resp);

/* {"error":message} (cJSON_free it). */
char *srv_api_error_body(const char *message);

#endif
