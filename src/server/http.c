/* The HTTP side of the one protocol: routing, the admin check, request
 * bodies, and writing JSON responses. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#ifdef __linux__
#include <linux/sockios.h>
#include <linux/tcp.h>
#endif

#include <ev.h>

#include "server/api.h"
#include "server/clock.h"
#include "server/content_length.h"
#include "server/server.h"

typedef struct srv_http_req {
    srv_server *server;     /* counts it in http_pending */
    srv_route route;
    char param[SRV_NAME_MAX * 2 + 1];
    unsigned char *body;
    size_t len, cap;
    bool too_big;
    /* an answer that comes later (api.h): see wait_for() */
    struct lws *wsi;
    srv_api_later *later;    /* waited for */
    ev_timer wait;           /* the wait's bound: a libev timer (timer.h tells why not lws's) */
    srv_api_response answer; /* come, to be written when the socket is writable */
    bool answered;
} srv_http_req;

/* The longest an answer waits for what it needs (Redis's figure, for a
 * user): then it is given from this instance's data. */
#define SRV_ANSWER_WAIT_MS 1000

/* A request must be whole, headers and body, this long after its
 * connection was accepted or, on a keep-alive connection, after the
 * previous request ended; else it is answered 408 and the connection
 * closed. libwebsockets' own timeout restarts with every piece of a body,
 * so a body sent a byte at a time would never end. */
#define SRV_REQUEST_DEADLINE_MS 10000

/* What the server keeps about a connection from one request to the next
 * (libwebsockets frees the session space at every transaction's end): the
 * wsi's opaque user data, from accept to WSI_DESTROY. */
typedef struct srv_http_conn {
    int64_t start_ms;   /* accepted, or the previous request ended: see SRV_REQUEST_DEADLINE_MS */
    uint64_t read_mark; /* bytes read from the socket when the previous request ended */
    bool ended;         /* a request has ended on this connection */
    bool mark_ok;       /* read_mark is known */
} srv_http_conn;

static const char *status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 426: return "Upgrade Required";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

/* Writes resp (its status, Content-Type, body and headers) on wsi; close
 * adds "Connection: close". A 304 has no body and no Content-Length. */
static int respond_resp(struct lws *wsi, const srv_api_response *resp, bool close)
{
    const char *body = resp->sbody ? (const char *)resp->sbody : resp->body;
    size_t blen = resp->sbody ? resp->slen : resp->body ? strlen(resp->body) : 0;
    enum { HEAD_MAX = 1024 };
    size_t cap = LWS_PRE + HEAD_MAX + blen;
    unsigned char *buf = malloc(cap);
    if (!buf)
        return -1;
    char *head = (char *)buf + LWS_PRE;
    char clen[48] = "";
    if (resp->status != 304)
        snprintf(clen, sizeof(clen), "Content-Length: %zu\r\n", blen);
    const char *hname = resp->hname;
    int n = snprintf(head, HEAD_MAX,
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: %s\r\n"
                     "%s"
                     "%s"
                     "%s%s%s"
                     "%s%s%s%s"
                     "%s"
                     "\r\n",
                     resp->status, status_text(resp->status),
                     resp->ctype ? resp->ctype : "application/json", clen,
                     resp->headers ? resp->headers : "Cache-Control: no-store\r\n",
                     resp->etag ? "ETag: " : "", resp->etag ? resp->etag : "",
                     resp->etag ? "\r\n" : "",
                     hname ? hname : "", hname ? ": " : "", hname ? resp->hvalue : "",
                     hname ? "\r\n" : "", close ? "Connection: close\r\n" : "");
    if (n < 0 || n >= HEAD_MAX) {
        free(buf);
        return -1;
    }
    memcpy(head + n, body ? body : "", blen);
    size_t total = (size_t)n + blen;
    int w = lws_write(wsi, (unsigned char *)head, total, LWS_WRITE_HTTP);
    free(buf);
    return w < 0 || (size_t)w != total ? -1 : 0;
}

int srv_http_respond(struct lws *wsi, int status, const char *body, const char *hname,
                     const char *hvalue, bool close)
{
    srv_api_response resp = {.status = status, .body = (char *)body, .hname = hname};
    if (hname && snprintf(resp.hvalue, sizeof(resp.hvalue), "%s", hvalue) >=
                     (int)sizeof(resp.hvalue))
        return -1;
    return respond_resp(wsi, &resp, close);
}

static const char *method_name(int m);

void srv_http_log(srv_server *s, struct lws *wsi, srv_log_level level, const char *event,
                  int status, const char *error)
{
    if (!srv_log_enabled(&s->log, level))
        return;
    char *uri = NULL;
    int ulen = 0;
    int m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
    char path[SRV_LOG_PATH_LEN], peer[SRV_PEER_LEN];
    cJSON *f = cJSON_CreateObject();
    if (f) {
        cJSON_AddStringToObject(f, "method", m < 0 ? "?" : method_name(m));
        cJSON_AddStringToObject(f, "path", m < 0 || !uri ? "?" :
                                srv_log_path(uri, (size_t)(ulen > 0 ? ulen : 0), path));
        cJSON_AddNumberToObject(f, "status", status);
        cJSON_AddStringToObject(f, "peer", srv_peer_of(wsi, peer));
        if (error)
            cJSON_AddStringToObject(f, "error", error);
    }
    srv_log_emit(&s->log, level, event, f);
}

void srv_http_release(srv_session *pss)
{
    if (!pss || !pss->req)
        return;
    pss->req->server->http_pending--;
    ev_timer_stop(pss->req->server->loop, &pss->req->wait); /* zeroed or inactive: nothing */
    srv_api_later_cancel(pss->req->later);
    cJSON_free(pss->req->answer.body);
    free(pss->req->body);
    free(pss->req);
    pss->req = NULL;
}

/* How many bytes this process has read from a TCP socket, from the
 * kernel's counts: bytes received (TCP_INFO, Linux 4.1 on) less those still
 * queued (SIOCINQ). Returns false when that cannot be known. */
static bool socket_bytes_read(int fd, uint64_t *out)
{
#ifdef __linux__
    for (int tries = 0; tries < 4; tries++) {
        struct tcp_info a, b;
        socklen_t la = sizeof(a), lb = sizeof(b);
        int queued = 0;
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &a, &la) || ioctl(fd, SIOCINQ, &queued) ||
            getsockopt(fd, IPPROTO_TCP, TCP_INFO, &b, &lb))
            return false;
        if (la < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(a.tcpi_bytes_received))
            return false;
        if (a.tcpi_bytes_received != b.tcpi_bytes_received || a.tcpi_state != b.tcpi_state)
            continue; /* bytes arrived between the calls */
        /* the peer's FIN counts one in bytes received and none in SIOCINQ
         * (states CLOSE_WAIT, LAST_ACK, CLOSING, TIME_WAIT) */
        unsigned st = a.tcpi_state;
        uint64_t fin = st == 8 || st == 9 || st == 11 || st == 6;
        *out = a.tcpi_bytes_received - (uint64_t)queued - fin;
        return true;
    }
#else
    (void)fd;
    (void)out;
#endif
    return false;
}

void srv_http_accepted(struct lws *wsi)
{
    srv_http_conn *hc = calloc(1, sizeof(*hc));
    if (hc)
        hc->start_ms = srv_clock_mono_ms();
    lws_set_opaque_user_data(wsi, hc);
}

void srv_http_forget(struct lws *wsi)
{
    free(lws_get_opaque_user_data(wsi));
    lws_set_opaque_user_data(wsi, NULL);
}

void srv_http_request_ended(struct lws *wsi)
{
    srv_http_conn *hc = lws_get_opaque_user_data(wsi);
    if (!hc)
        return;
    hc->ended = true;
    hc->start_ms = srv_clock_mono_ms();
    hc->mark_ok = socket_bytes_read(lws_get_socket_fd(wsi), &hc->read_mark);
}

/* The Content-Length as libwebsockets copies it for itself
 * (lws_http_action), into buf: NULL when there is none, or when it is
 * longer than SRV_LWS_CLEN_MAX and libwebsockets ignores it. */
static const char *lws_content_length(struct lws *wsi, char (*buf)[SRV_LWS_CLEN_MAX + 2])
{
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
        lws_hdr_copy(wsi, *buf, (int)sizeof(*buf) - 1, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
        return *buf;
    return NULL;
}

/* Does libwebsockets read a body after LWS_CALLBACK_HTTP? */
static bool has_body(struct lws *wsi, int method)
{
    char buf[SRV_LWS_CLEN_MAX + 2];
    bool body_method =
        method == LWSHUMETH_POST || method == LWSHUMETH_PUT || method == LWSHUMETH_PATCH;
    return srv_lws_reads_body(lws_content_length(wsi, &buf), body_method);
}

/* libwebsockets 4.1 cannot take a request with a body whose bytes were
 * already in its buffer when the previous request on the connection ended
 * (HTTP pipelining): after LWS_CALLBACK_HTTP, lws_http_action() drains the
 * connection's buffer list through the body parser, starting again at this
 * request's own headers, and once the answer has ended the transaction
 * lws_read_h1() takes nothing more from it and the loop never ends (100 %
 * CPU, no one else served, signals unseen). Such a request must be refused
 * from LWS_CALLBACK_HTTP, before that loop. Its bytes came from the buffer
 * list exactly when nothing was read from the socket since the previous
 * request ended: libwebsockets reads its socket only once the list is
 * empty. Unknown counts (not Linux) count as pipelined after a first
 * request. */
static bool pipelined(struct lws *wsi, const srv_http_conn *hc)
{
    if (!hc)
        return true;
    if (!hc->ended)
        return false; /* the first request is always read from the socket */
    uint64_t now;
    if (!hc->mark_ok || !socket_bytes_read(lws_get_socket_fd(wsi), &now))
        return true;
    return now == hc->read_mark;
}

/* Sends resp and ends the transaction; returns the callback's result. */
static int finish(struct lws *wsi, srv_session *pss, srv_api_response *resp)
{
    srv_http_log(srv_server_of(wsi), wsi, SRV_LOG_DEBUG, "http_request", resp->status, NULL);
    int rc = respond_resp(wsi, resp, false);
    cJSON_free(resp->body);
    srv_http_release(pss);
    srv_http_request_ended(wsi);
    if (rc)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* The answer to req is resp (taken): kept, the connection's input on
 * again, and written from LWS_CALLBACK_HTTP_WRITEABLE, where the
 * transaction can end (this runs outside libwebsockets' callbacks). */
static void keep_answer(srv_http_req *req, srv_api_response *resp)
{
    ev_timer_stop(req->server->loop, &req->wait);
    req->later = NULL;
    req->answer = *resp;
    req->answered = true;
    lws_rx_flow_control(req->wsi, 1);
    lws_callback_on_writable(req->wsi);
}

/* srv_api_later_fn: the answer has come (from Redis's callback). */
static void answer_later(srv_api_response *resp, void *ctx)
{
    keep_answer(ctx, resp);
}

/* SRV_ANSWER_WAIT_MS passed: the answer from this instance's data. */
static void wait_over(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    srv_http_req *req = (srv_http_req *)((char *)w - offsetof(srv_http_req, wait));
    srv_api_response resp;
    srv_api_later_give_up(req->later, &resp);
    keep_answer(req, &resp);
}

/* The request's answer comes later: the request is held (pss->req), its
 * connection's input switched off, and the wait bounded by
 * SRV_ANSWER_WAIT_MS. Input off: while a request is served, libwebsockets
 * 4.1 reads nothing from its connection, so that the client's next bytes,
 * or its close, would wake the loop again and again; they are read once
 * the answer is out (a close while waiting is seen then). Input is on
 * again before the answer is written: libwebsockets 4.1 does not call
 * WRITEABLE for an HTTP connection whose input is off. Returns the
 * callback's result. */
static int wait_for(struct lws *wsi, srv_http_req *req, srv_api_later *l)
{
    req->wsi = wsi;
    req->later = l;
    lws_rx_flow_control(wsi, 0);
    ev_timer_init(&req->wait, wait_over, SRV_ANSWER_WAIT_MS / 1000.0, 0);
    ev_timer_start(req->server->loop, &req->wait);
    return 0;
}

/* LWS_CALLBACK_HTTP_WRITEABLE: writes the answer kept for the request, if
 * any, and ends the transaction; returns the callback's result. */
static int write_kept(struct lws *wsi, srv_session *pss)
{
    srv_http_req *req = pss ? pss->req : NULL;
    if (!req || !req->answered)
        return 0; /* nothing yet */
    srv_api_response resp = req->answer;
    req->answer.body = NULL;
    req->answered = false;
    return finish(wsi, pss, &resp);
}

static int fail(struct lws *wsi, srv_session *pss, int status, const char *why)
{
    srv_api_response resp = {.status = status, .body = srv_api_error_body(why)};
    return finish(wsi, pss, &resp);
}

/* Answers from LWS_CALLBACK_HTTP a request whose body is still unread: with
 * "Connection: close", and the connection is closed. Keeping it would have
 * libwebsockets discard the body first (up to 100 MB for a POST without a
 * Content-Length), and a pipelined request would then meet the loop above. */
static int refuse(struct lws *wsi, srv_session *pss, srv_api_response *resp)
{
    srv_http_log(srv_server_of(wsi), wsi, SRV_LOG_DEBUG, "http_request", resp->status, NULL);
    respond_resp(wsi, resp, true);
    cJSON_free(resp->body);
    srv_http_release(pss);
    return -1; /* lws_http_action() returns before reading the body */
}

static int refuse_why(struct lws *wsi, srv_session *pss, int status, const char *why)
{
    srv_api_response resp = {.status = status, .body = srv_api_error_body(why)};
    return refuse(wsi, pss, &resp);
}

static const char *method_name(int m)
{
    static const char *const names[] = {
        [LWSHUMETH_GET] = "GET",         [LWSHUMETH_POST] = "POST",
        [LWSHUMETH_OPTIONS] = "OPTIONS", [LWSHUMETH_PUT] = "PUT",
        [LWSHUMETH_PATCH] = "PATCH",     [LWSHUMETH_DELETE] = "DELETE",
        [LWSHUMETH_CONNECT] = "CONNECT", [LWSHUMETH_HEAD] = "HEAD",
    };
    if (m < 0 || (size_t)m >= sizeof(names) / sizeof(names[0]) || !names[m])
        return "?";
    return names[m];
}

static bool peer_is_loopback(struct lws *wsi)
{
    char addr[64];
    lws_get_peer_simple(wsi, addr, sizeof(addr));
    return srv_addr_is_loopback(addr);
}

/* The admin rule for this request: 0, or the status to refuse with. The
 * Authorization header is read whole, whatever its length (libwebsockets
 * caps every header at 4 KiB): a long wrong token is 403, like a short one. */
static int admin_status(srv_server *s, struct lws *wsi)
{
    bool loopback = s->opt.admin_token ? false : peer_is_loopback(wsi);
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    char *auth = n > 0 ? malloc((size_t)n + 1) : NULL;
    const char *hdr = NULL;
    if (auth && lws_hdr_copy(wsi, auth, n + 1, WSI_TOKEN_HTTP_AUTHORIZATION) >= 0)
        hdr = auth;
    int st = n > 0 && !hdr ? 500 : srv_admin_check(s->opt.admin_token, hdr, loopback);
    free(auth);
    return st;
}

static int on_request(srv_server *s, struct lws *wsi, srv_session *pss, const char *in, size_t len)
{
    char *uri = NULL;
    int ulen = 0;
    int m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
    const char *method = method_name(m);
    if (has_body(wsi, m) && pipelined(wsi, lws_get_opaque_user_data(wsi)))
        return refuse_why(wsi, pss, 503,
                          "a request with a body must not be pipelined: send it again");
    /* an answer given before a body is read closes the connection */
    bool unread = m == LWSHUMETH_POST || m == LWSHUMETH_PUT || m == LWSHUMETH_PATCH ||
                  has_body(wsi, m);
    int (*early)(struct lws *, srv_session *, int, const char *) = unread ? refuse_why : fail;
    char path[1024];
    if (len >= sizeof(path))
        return early(wsi, pss, 404, "not found");
    memcpy(path, in, len);
    path[len] = '\0';

    srv_route route = srv_route_match(method, path);
    if (route.admin) {
        int st = admin_status(s, wsi);
        if (st == 401) {
            srv_api_response resp = {.status = 401,
                                     .body = srv_api_error_body("admin token required"),
                                     .hname = "WWW-Authenticate"};
            _Static_assert(sizeof(SRV_CHALLENGE_ADMIN) <= sizeof(resp.hvalue), "room");
            memcpy(resp.hvalue, SRV_CHALLENGE_ADMIN, sizeof(SRV_CHALLENGE_ADMIN));
            return unread ? refuse(wsi, pss, &resp) : finish(wsi, pss, &resp);
        }
        if (st)
            return early(wsi, pss, st, st == 403 ? "forbidden" : "out of memory");
    }
    srv_http_release(pss);
    srv_http_req *req = calloc(1, sizeof(*req));
    if (!req)
        return -1;
    pss->req = req;
    req->server = s;
    s->http_pending++;
    req->route = route;
    if (route.param) {
        size_t n = route.param_len;
        if (n > sizeof(req->param) - 1)
            n = sizeof(req->param) - 1; /* too long for a name: 404 */
        memcpy(req->param, route.param, n);
    }
    req->route.param = NULL; /* pointed into this callback's path */
    if (!route.has_body) {
        /* an answer refused before a body is read cannot wait */
        srv_api_request ar = {.route = req->route, .param = req->param,
                              .later = unread ? NULL : answer_later, .later_ctx = req};
        char inm[256];
        if (route.id == SRV_ROUTE_PAGE &&
            lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH) > 0 &&
            lws_hdr_copy(wsi, inm, (int)sizeof(inm), WSI_TOKEN_HTTP_IF_NONE_MATCH) > 0)
            ar.if_none_match = inm; /* a longer one is no match: the file is sent */
        srv_api_response resp;
        srv_api_handle(s, &ar, &resp);
        if (resp.deferred)
            return wait_for(wsi, req, resp.deferred);
        return unread ? refuse(wsi, pss, &resp) : finish(wsi, pss, &resp);
    }
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
        return early(wsi, pss, 411, "a Content-Length is required");
    /* the length libwebsockets reads the body by, or none: see content_length.h */
    char buf[SRV_LWS_CLEN_MAX + 2];
    const char *clen = lws_content_length(wsi, &buf);
    int64_t cl;
    if (!clen || !srv_content_length(clen, strlen(clen), &cl))
        return early(wsi, pss, 400, "bad Content-Length");
    if (cl > s->opt.max_message_bytes)
        return early(wsi, pss, 413, "body too large");
    if (cl) {
        const srv_http_conn *hc = lws_get_opaque_user_data(wsi);
        int64_t left = hc ? hc->start_ms + SRV_REQUEST_DEADLINE_MS - srv_clock_mono_ms()
                          : SRV_REQUEST_DEADLINE_MS;
        if (left <= 0)
            return early(wsi, pss, 408, "the request took too long");
        lws_set_timer_usecs(wsi, (lws_usec_t)left * LWS_US_PER_MS); /* LWS_CALLBACK_TIMER */
    }
    return 0; /* the body follows: LWS_CALLBACK_HTTP_BODY, then _COMPLETION */
}

static int on_body(srv_server *s, srv_session *pss, const void *in, size_t len)
{
    srv_http_req *req = pss->req;
    if (!req || req->too_big || !len)
        return 0;
    if (req->len + len > (size_t)s->opt.max_message_bytes) {
        req->too_big = true;
        return 0;
    }
    if (req->len + len > req->cap) {
        size_t cap = req->cap ? req->cap : 1024;
        while (cap < req->len + len)
            cap *= 2;
        unsigned char *p = realloc(req->body, cap);
        if (!p)
            return -1;
        req->body = p;
        req->cap = cap;
    }
    memcpy(req->body + req->len, in, len);
    req->len += len;
    return 0;
}

static int on_body_done(srv_server *s, struct lws *wsi, srv_session *pss)
{
    srv_http_req *req = pss->req;
    lws_set_timer_usecs(wsi, LWS_SET_TIMER_USEC_CANCEL);
    if (!req)
        return -1;
    if (req->too_big)
        return fail(wsi, pss, 413, "body too large");
    srv_api_request ar = {.route = req->route, .param = req->param,
                         .body = req->body ? (const char *)req->body : "", .body_len = req->len};
    srv_api_response resp;
    srv_api_handle(s, &ar, &resp);
    return finish(wsi, pss, &resp);
}

int srv_http_callback(srv_server *s, struct lws *wsi, enum lws_callback_reasons reason,
                      srv_session *pss, void *in, size_t len)
{
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return pss ? on_request(s, wsi, pss, in, len) : -1;
    case LWS_CALLBACK_HTTP_BODY:
        return pss ? on_body(s, pss, in, len) : -1;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return pss ? on_body_done(s, wsi, pss) : -1;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return write_kept(wsi, pss);
    case LWS_CALLBACK_TIMER:
        /* SRV_REQUEST_DEADLINE_MS passed with the body still coming */
        if (!pss || !pss->req)
            return 0;
        return refuse_why(wsi, pss, 408, "the request took too long");
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        srv_http_release(pss);
        return 0;
    default:
        return 0;
    }
}
