/* The HTTP API's handlers: a matched route (and its body) in, a status and
 * JSON body out. The admin check, body reading and writing are http.c's. */
#ifndef SRV_API_H
#define SRV_API_H

#include <stddef.h>

#include "server/route.h"
#include "server/server.h"

struct srv_api_response;

/* A deferred answer, ready: resp (its body is the callee's to free) for
 * the request that was given ctx. Called once, on the service thread. */
typedef void srv_api_later_fn(struct srv_api_response *resp, void *ctx);

/* An answer that comes later (below). */
typedef struct srv_api_later srv_api_later;

typedef struct srv_api_request {
    srv_route route;
    const char *param; /* the route's {user} or {store}, NUL-terminated */
    const char *body;  /* NULL for routes without a body */
    const char *if_none_match; /* the page's routes: the header's value, or NULL */
    size_t body_len;
    srv_api_later_fn *later; /* non-NULL: the caller takes an answer that comes later */
    void *later_ctx;         /* later's ctx */
} srv_api_request;

typedef struct srv_api_response {
    int status;        /* 0 with deferred set: no answer yet */
    char *body;        /* JSON text (or ctype's), cJSON_free it */
    const char *ctype; /* its Content-Type (static); NULL: application/json */
    const char *hname; /* an extra header, or NULL */
    char hvalue[64];
    srv_api_later *deferred; /* non-NULL: the answer comes through req->later */
    /* a file of the status page (page.h), body NULL: */
    const unsigned char *sbody; /* its bytes (static, not freed); NULL for a 304 */
    size_t slen;
    const char *headers; /* static header lines, each ending in CRLF, instead of
                          * "Cache-Control: no-store" */
    const char *etag;    /* static, or NULL */
} srv_api_response;

/* Answers one request: at once, or, when req->later is set and the answer
 * waits for Redis (GET /api/v1/users/{user} with --redis), later: resp is
 * then empty but for resp->deferred, and req->later is called once with
 * the answer, unless the caller first ends the wait with
 * srv_api_later_cancel or srv_api_later_give_up. The caller bounds the
 * wait. The service thread only. */
void srv_api_handle(srv_server *s, const srv_api_request *req, srv_api_response *resp);

/* Ends the wait for l without an answer (the client went away): later is
 * not called; l is freed. Not from inside later. The service thread. */
void srv_api_later_cancel(srv_api_later *l);

/* Ends the wait for l with the answer that needs nothing more (from this
 * instance's own data, saying so), into *resp: later is not called; l is
 * freed. The service thread. */
void srv_api_later_give_up(srv_api_later *l, struct srv_api_response *resp);

/* {"error":message} (cJSON_free it). */
char *srv_api_error_body(const char *message);

#endif
