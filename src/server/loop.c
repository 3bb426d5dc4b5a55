/* The server's life: the event loop (libuv) and the libwebsockets context
 * on it, the one protocol callback that dispatches to ws.c, http.c and
 * hold.c, the periodic tick (pings, fault expiry, the monitor, database
 * flushes), and shutdown on a signal.
 *
 * The loop is libev's on epoll, owned here and given to libwebsockets as a
 * foreign loop (LWS_SERVER_OPTION_LIBEV; Debian's libwebsockets-evlib-ev
 * plugin). lws 4.1's own loop poll()s every descriptor at each wake-up:
 * with thousands of connections that was most of the server's CPU
 * (README, "Benchmarks"). The loop runs one iteration at a time, so that
 * each pass ends with srv_v1_service().
 *
 * Not libuv: Debian builds libwebsockets 4.1.6 with _DEBUG, and with
 * libuv lws_service_fd_tsi() then closes a connection a second time as a
 * test ("close_and_handled uv repeat test", lib/core-net/service.c): the
 * second close finds the close frame waiting to be sent and drops the
 * connection without it, so every close the server starts (1001 at
 * shutdown, 1002, 1008) would reach the peer as 1006. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "server/clock.h"
#include "server/cluster_users.h"
#include "server/drain.h"
#include "server/listener.h"
#include "server/sdnotify.h"
#include "server/server.h"

/* A peer has this long to answer our close frame before it is dropped. */
#define SRV_CLOSE_GRACE_MS 1000
/* Shutdown waits at most this long for connections to close. */
#define SRV_SHUTDOWN_WAIT_MS 3000
#define SRV_FLUSH_EVERY_MS 1000
_Static_assert(SRV_FLUSH_EVERY_MS == SRV_STATUS_SAMPLE_MS, "the chart's samples come with the flush");

/* After the first SIGINT or SIGTERM the server has this long to stop, and
 * a drain (SIGTERM) --drain-window-ms more. Past it its loop is stuck (a
 * callback that never returns, a log nobody reads): a watchdog thread logs
 * forced_exit and ends the process with status 1. A normal stop takes at
 * most about 6 s: 3 s for the closes, 3 s for the last alert; a drain
 * adds its window and SRV_CLOSE_GRACE_MS. */
#define SRV_STOP_GRACE_MS 10000

/* Signal handlers can reach nothing else: what was asked, the context to
 * wake, and the watchdog's pipe ('t' for a drain's signal, 's' for a stop's,
 * 'd' when the server is done). The first SIGTERM asks for a drain; SIGINT,
 * or any signal after the first, for a stop at once. */
static volatile sig_atomic_t drain_asked;
static volatile sig_atomic_t stop_asked;
static struct lws_context *volatile signal_ctx;
static int watchdog_fds[2] = {-1, -1};
static int64_t drain_window_ms; /* the watchdog's extra grace for a drain */
/* libwebsockets' log hook has no user pointer. */
static const srv_log *lws_log_target;

static void on_signal(int sig)
{
    bool drain = sig == SIGTERM && !drain_asked && !stop_asked;
    if (drain)
        drain_asked = 1;
    else
        stop_asked = 1;
    int saved = errno;
    if (watchdog_fds[1] >= 0 && write(watchdog_fds[1], drain ? "t" : "s", 1) < 0) {
        /* full: the watchdog is awake already */
    }
    errno = saved;
    if (signal_ctx)
        lws_cancel_service(signal_ctx);
}

static void lws_log_line(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    if (lws_log_target)
        srv_log_msg(lws_log_target, level == LLL_ERR ? SRV_LOG_WARN : SRV_LOG_DEBUG, "lws", "%.*s",
                    (int)n, line);
}

/* Writes the forced_exit line if stderr takes it within a second (it may be
 * what is stuck), then ends the process. */
static _Noreturn void forced_exit(const srv_log *log, int64_t after_ms)
{
    char *line = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&line, &len);
    if (mem) {
        srv_log l;
        srv_log_init(&l, mem, log->json, SRV_LOG_DEBUG);
        srv_log_msg(&l, SRV_LOG_ERROR, "forced_exit",
                    "still running %lld ms after the signal: exiting with status 1",
                    (long long)after_ms);
        fclose(mem);
        struct pollfd p = {.fd = STDERR_FILENO, .events = POLLOUT};
        if (line && poll(&p, 1, 1000) == 1 && (p.revents & POLLOUT) &&
            write(STDERR_FILENO, line, len) < 0) {
            /* nothing more to try */
        }
    }
    _exit(1);
}

/* Reads one byte from the watchdog pipe within timeout_ms (-1: no limit);
 * returns it, or 0 on timeout. */
static char watchdog_read(int timeout_ms)
{
    struct pollfd p = {.fd = watchdog_fds[0], .events = POLLIN};
    char c = 0;
    int n = poll(&p, 1, timeout_ms);
    if (n > 0 && read(watchdog_fds[0], &c, 1) != 1)
        c = 0;
    return c; /* 0 after an interrupted poll too: only a signal's byte starts the grace */
}

/* The watchdog thread: waits for the first signal, then for the server to
 * be done, at most SRV_STOP_GRACE_MS (plus the window for a drain; a later
 * signal, a stop at once, brings the end forward to SRV_STOP_GRACE_MS from
 * then). */
static void *watchdog(void *log)
{
    char c;
    while ((c = watchdog_read(-1)) != 's' && c != 't')
        if (c == 'd')
            return NULL;
    int64_t first = srv_clock_mono_ms();
    int64_t deadline = first + SRV_STOP_GRACE_MS + (c == 't' ? drain_window_ms : 0);
    for (int64_t left; (left = deadline - srv_clock_mono_ms()) > 0;) {
        c = watchdog_read(left > INT32_MAX ? INT32_MAX : (int)left);
        if (c == 'd')
            return NULL;
        int64_t quick = srv_clock_mono_ms() + SRV_STOP_GRACE_MS;
        if ((c == 's' || c == 't') && quick < deadline)
            deadline = quick;
    }
    forced_exit(log, srv_clock_mono_ms() - first);
}

/* Starts the watchdog with the stop signals blocked in its thread, so that
 * they interrupt the loop's thread. Returns 0 or -1. */
static int watchdog_start(pthread_t *t, const srv_log *log)
{
    if (pipe2(watchdog_fds, O_CLOEXEC | O_NONBLOCK))
        return -1;
    /* the reading end blocks in poll() only */
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    int rc = pthread_create(t, NULL, watchdog, (void *)log);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        close(watchdog_fds[0]);
        close(watchdog_fds[1]);
        watchdog_fds[0] = watchdog_fds[1] = -1;
        return -1;
    }
    return 0;
}

static void watchdog_stop(pthread_t t)
{
    while (write(watchdog_fds[1], "d", 1) < 0 && (errno == EINTR || errno == EAGAIN)) {
        /* full of signals' bytes: the watchdog is draining them */
    }
    pthread_join(t, NULL);
    int w = watchdog_fds[1];
    watchdog_fds[1] = -1; /* before the close: a late signal writes nowhere */
    close(w);
    close(watchdog_fds[0]);
    watchdog_fds[0] = -1;
}

srv_server *srv_server_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

const char *srv_peer_of(struct lws *wsi, char out[SRV_PEER_LEN])
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getpeername(lws_get_socket_fd(wsi), (struct sockaddr *)&ss, &len))
        len = 0;
    return srv_peer_format(len ? (const struct sockaddr *)&ss : NULL, len, out);
}

static int dispatch(srv_server *s, struct lws *wsi, enum lws_callback_reasons reason, void *user,
                    void *in, size_t len);

/* libwebsockets' callback: the connection being served is noted for the
 * time of the call (conn.c writes to the others at once, not to it). */
static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    srv_server *s = srv_server_of(wsi);
    struct lws *outer = s->serving;
    s->serving = wsi;
    int rc = dispatch(s, wsi, reason, user, in, len);
    s->serving = outer;
    return rc;
}

static int dispatch(srv_server *s, struct lws *wsi, enum lws_callback_reasons reason, void *user,
                    void *in, size_t len)
{
    srv_session *pss = user;
    switch (reason) {
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        srv_http_accepted(wsi);
        srv_hold_accepted(s, wsi);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        srv_http_forget(wsi);
        srv_hold_forget(s, wsi);
        if (pss) {
            srv_ws_callback(s, wsi, LWS_CALLBACK_CLOSED, pss, NULL, 0);
            srv_http_release(pss);
        }
        return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        srv_http_request_ended(wsi); /* a refused upgrade leaves the connection open */
        return srv_ws_callback(s, wsi, reason, pss, in, len);
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_RECEIVE_PONG:
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
    case LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLOSED:
        return srv_ws_callback(s, wsi, reason, pss, in, len);
    case LWS_CALLBACK_HTTP:
    case LWS_CALLBACK_HTTP_BODY:
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_TIMER: /* only http.c sets wsi timers */
    case LWS_CALLBACK_HTTP_WRITEABLE: /* a deferred answer is ready */
        return srv_http_callback(s, wsi, reason, pss, in, len);
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

/* The subprotocols: libwebsockets 4.1 binds an upgrade to the first name
 * of the client's Sec-WebSocket-Protocol it finds here, and selects it in
 * its 101; without the header, to the first entry (plain WebSocket); with
 * only names it lacks, it drops the connection without an answer
 * (lws_process_ws_upgrade, roles/ws/server-ws.c). One callback serves
 * both: ws.c tells lifeline.v1 connections by their protocol's name. */
static const struct lws_protocols protocols[] = {
    {"lifeline", callback, sizeof(srv_session), 4096, 0, NULL, 0},
    {LL_WIRE_SUBPROTOCOL, callback, sizeof(srv_session), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* No libwebsockets validity pings: the server runs its own schedule. */
static const lws_retry_bo_t no_validity = {0};

/* How long shutdown waits for the alerts still being delivered. */
#define SRV_ALERTS_WAIT_MS 3000

static void emit(srv_server *s, srv_event_kind kind, int64_t duration_ms)
{
    srv_event ev = {
        .kind = kind,
        .at_ms = srv_clock_wall_ms(),
        .duration_ms = duration_ms,
        .port = s->port,
        .active = s->reg.stats.active,
    };
    srv_events_emit(&s->events, &ev);
}

void srv_server_check_monitor(srv_server *s)
{
    srv_monitor_result r =
        srv_monitor_update(&s->monitor, srv_clock_mono_ms(), s->reg.stats.active);
    if (r.change == SRV_MONITOR_NO_CLIENTS)
        emit(s, SRV_EVENT_NO_CLIENTS, r.duration_ms);
    else if (r.change == SRV_MONITOR_CLIENTS_BACK)
        emit(s, SRV_EVENT_CLIENTS_BACK, r.duration_ms);
}

static void flush(srv_server *s)
{
    /* lifeline.v1's marks first: the registry's batch is a transaction of its own */
    srv_v1_commit(s);
    /* with --redis, the same figures to Redis first (the flush forgets
     * which users changed); Redis down: they wait for the next activity */
    if (s->cluster)
        srv_cluster_users_share(s->cluster, &s->reg, s->opt.max_users);
    if (srv_registry_flush(&s->reg, s->db) < 0)
        srv_log_msg(&s->log, SRV_LOG_ERROR, "db_error", "%s", srv_db_error(s->db));
    /* at most once a minute, and what is left at shutdown */
    uint64_t n = srv_registry_take_evicted(&s->reg, srv_clock_mono_ms(), s->destroying);
    cJSON *f = n ? cJSON_CreateObject() : NULL;
    if (f) {
        cJSON_AddNumberToObject(f, "evicted", (double)n);
        cJSON_AddNumberToObject(f, "max_users", (double)s->opt.max_users);
        srv_log_emit(&s->log, SRV_LOG_WARN, "users_evicted", f);
    }
}

static void heartbeats(srv_server *s, int64_t now)
{
    for (srv_conn *c = s->reg.conns; c; c = c->next) {
        if (c->close_code) {
            if (now - c->closing_ms >= SRV_CLOSE_GRACE_MS)
                srv_conn_kill(c);
            continue;
        }
        if (c->blackholed)
            continue;
        switch (srv_ping_poll(&c->ping, now, s->opt.ping_interval_ms, s->opt.ping_timeout_ms)) {
        case SRV_PING_SEND:
            c->ping_due = 1;
            lws_callback_on_writable(c->wsi);
            break;
        case SRV_PING_TIMEOUT:
            srv_log_msg(&s->log, SRV_LOG_INFO, "ping_timeout", "closing %s/%s",
                        c->store ? c->store->name : "-", c->user ? c->user->name : "-");
            srv_conn_close(s, c, LWS_CLOSE_STATUS_GOINGAWAY, "ping timeout",
                           SRV_CLOSE_PING_TIMEOUT);
            break;
        case SRV_PING_IDLE:
            break;
        }
    }
}

/* The tick, on its timer, which runs before the socket events of its pass
 * (timer.h). The hold rules count on that: a connection parked in the
 * accept callback has its input switched off before the next pass reads
 * it, and a delay gate opened by a tick lets one pass read before the next
 * tick, 1 us later, shuts it (hold.c). */
static void tick(srv_server *s)
{
    int64_t now = srv_clock_mono_ms();
    srv_fault_mode ended;
    if (srv_fault_expire(&s->fault, now, &ended)) {
        srv_log_msg(&s->log, SRV_LOG_INFO, "fault_ended", "%s ran out", srv_fault_mode_name(ended));
        srv_hold_transition(s, ended, SRV_FAULT_NONE);
    }
    int64_t hold_us = srv_hold_tick(s, now);
    heartbeats(s, now);
    srv_server_check_monitor(s);
    if (now >= s->next_flush_mono) {
        /* the status page's chart: one sample a second (SRV_STATUS_SAMPLE_MS) */
        srv_status_sample_add(&s->status, srv_clock_wall_ms(), s->reg.stats.active);
        srv_v1_sweep(s);
        flush(s);
        if (s->cluster)
            srv_cluster_tick(s->cluster, srv_clock_wall_ms());
        s->next_flush_mono = now + SRV_FLUSH_EVERY_MS;
    }
    srv_timer_start(&s->tick, hold_us ? hold_us : s->tick_ms * 1000);
}

void srv_server_rx_resumed(struct lws_context *ctx)
{
    if (ctx)
        lws_cancel_service(ctx);
}

void srv_server_kick(srv_server *s)
{
    if (s->ctx)
        srv_timer_start(&s->tick, 1);
}

void srv_server_lws_timer_set(struct lws_context *ctx)
{
    if (ctx)
        lws_cancel_service(ctx);
}

/* Soft limit up to the hard one; returns the limit to give lws. */
static unsigned int raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max == RLIM_INFINITY ? (rlim_t)1 << 20 : rl.rlim_max;
        struct rlimit nrl = {want, rl.rlim_max};
        if (!setrlimit(RLIMIT_NOFILE, &nrl))
            rl.rlim_cur = want;
    }
    rlim_t n = rl.rlim_cur;
    if (n == RLIM_INFINITY || n > ((rlim_t)1 << 20))
        n = (rlim_t)1 << 20;
    return (unsigned int)n;
}

static bool is_any(const char *host)
{
    return !strcmp(host, "0.0.0.0") || !strcmp(host, "::") || !strcmp(host, "*");
}

/* lws takes an address or an interface name: a host name such as
 * "localhost" is resolved here, IPv4 first. Returns 0, or getaddrinfo's
 * error (EAI_*), or EAI_FAIL when no address could be written. */
static int resolve_host(const char *host, char *out, size_t outlen)
{
    unsigned char bin[sizeof(struct in6_addr)];
    if (is_any(host) || inet_pton(AF_INET, host, bin) == 1 ||
        inet_pton(AF_INET6, host, bin) == 1) {
        snprintf(out, outlen, "%s", host);
        return 0;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc || !res)
        return rc ? rc : EAI_FAIL;
    const struct addrinfo *pick = res;
    for (const struct addrinfo *a = res; a; a = a->ai_next)
        if (a->ai_family == AF_INET) {
            pick = a;
            break;
        }
    const void *sa = pick->ai_addr, *addr;
    if (pick->ai_family == AF_INET)
        addr = &((const struct sockaddr_in *)sa)->sin_addr;
    else
        addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    const char *ok = inet_ntop(pick->ai_family, addr, out, (socklen_t)outlen);
    freeaddrinfo(res);
    return ok ? 0 : EAI_FAIL;
}

/* Why libwebsockets could not listen. lws 4.1 binds inside
 * lws_create_context and reports errno only as a number in its own log
 * line, so once it has failed the bind is tried again here, as lws does it
 * (the address it was given, SO_REUSEADDR, IPv6 only for an IPv6 address or
 * "::"): an error then is the reason, as strerror() words it ("Address
 * already in use"). Returns that text, or NULL when the bind works now:
 * lws failed for another reason (a TLS file, say), which its lines tell. */
static const char *bind_error(const char *host, int port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    socklen_t len;
    if (strchr(host, ':')) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (!is_any(host) && inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
            return NULL;
        len = sizeof(*a6);
    } else {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        if (is_any(host))
            a4->sin_addr.s_addr = htonl(INADDR_ANY);
        else if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
            return NULL;
        len = sizeof(*a4);
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return strerror(errno);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    int rc = bind(fd, (struct sockaddr *)&ss, len), err = errno;
    close(fd);
    return rc ? strerror(err) : NULL;
}

/* Creates the context on loop, and its listening socket. Returns 0, or -1
 * with the reason in why. */
static int create_context(srv_server *s, struct ev_loop *loop, char *why, size_t whylen)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    static char host[INET6_ADDRSTRLEN + 1];
    int gai = resolve_host(s->opt.host, host, sizeof(host));
    if (gai) {
        snprintf(why, whylen, "cannot resolve the host name: %s", gai_strerror(gai));
        return -1;
    }
    info.port = s->opt.port;
    info.iface = is_any(host) ? NULL : host;
    info.protocols = protocols;
    info.user = s;
    info.vhost_name = "lifeline";
    /* no LWS_SERVER_OPTION_VALIDATE_UTF8: lws 4.1 runs pong payloads through
     * the text validator after a text frame; ws.c validates whole messages */
    info.options = LWS_SERVER_OPTION_LIBEV;
    void *foreign_loops[1] = {loop};
    info.foreign_loops = foreign_loops;
    if (!strchr(host, ':'))
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6; /* an IPv4 address or 0.0.0.0 */
    info.fd_limit_per_thread = raise_nofile();
    info.count_threads = 1;
    info.retry_and_idle_policy = &no_validity;
    info.timeout_secs = 10;
    info.keepalive_timeout = 5;
    info.alpn = "http/1.1";
    if (s->opt.tls_cert) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = s->opt.tls_cert;
        info.ssl_private_key_filepath = s->opt.tls_key;
        s->tls = true;
    }
    s->ctx = lws_create_context(&info);
    if (s->ctx) {
        s->vhost = lws_get_vhost_by_name(s->ctx, "lifeline");
        s->port = s->vhost ? lws_get_vhost_listen_port(s->vhost) : -1;
        if (s->port > 0)
            return 0;
    }
    const char *err = bind_error(host, s->opt.port);
    snprintf(why, whylen, "%s",
             err ? err
                 : "libwebsockets could not start (see its lines above; its libev event loop "
                   "is the package libwebsockets-evlib-ev)");
    return -1;
}

/* One pass of the loop: wait for what is due (I/O, a timer, a wake-up),
 * handle it, then the end of pass work. */
static void run_once(srv_server *s, struct ev_loop *loop)
{
    ev_run(loop, EVRUN_ONCE);
    srv_v1_service(s); /* one commit for the acks this pass made due */
    srv_shared_flush(s->shared); /* the pass's mirrors to Redis */
}

/* Destroys the context (with libev, at once: its watchers are stopped
 * and the connections closed within the call), then the loop. */
static void destroy_context(srv_server *s, struct ev_loop *loop)
{
    struct lws_context *ctx = s->ctx;
    s->ctx = NULL;
    if (ctx)
        lws_context_destroy(ctx);
    srv_timer_stop(&s->tick);
    srv_timer_stop(&s->reap);
    srv_timer_stop(&s->ack_timer);
    ev_loop_destroy(loop);
    s->loop = NULL;
}

/* The presence records of an instance last this long after its last
 * refresh (once a second): two ping intervals, and 3 s at least. */
static int64_t presence_ttl_ms(const srv_opts *o)
{
    int64_t t = 2 * o->ping_interval_ms;
    return t < 3000 ? 3000 : t;
}

/* --redis: joins the cluster as --instance, or as host name:port. Returns
 * 0, or -1 (logged). */
static int join_cluster(srv_server *s)
{
    srv_redis_addr addr;
    char why[200], id[SRV_CLUSTER_ID_MAX + 1];
    if (srv_redis_url_parse(s->opt.redis_url, &addr, why, sizeof(why))) { /* checked already */
        srv_log_msg(&s->log, SRV_LOG_ERROR, "redis", "--redis: %s", why);
        return -1;
    }
    if (s->opt.instance) {
        snprintf(id, sizeof(id), "%s", s->opt.instance);
    } else {
        char host[64] = "lifeline";
        gethostname(host, sizeof(host) - 1);
        host[sizeof(host) - 1] = 0;
        snprintf(id, sizeof(id), "%.50s:%d", host, s->port);
        for (char *p = id; *p; p++) /* a host name holds nothing else, but */
            if (!srv_cluster_id_valid((char[]){*p, 0}))
                *p = '_';
    }
    if (!srv_cluster_start(s, &addr, id, presence_ttl_ms(&s->opt)) ||
        !(s->shared = srv_shared_new(&addr, id, &s->log, srv_v1_shared_status, s))) {
        srv_log_msg(&s->log, SRV_LOG_ERROR, "redis", "out of memory");
        return -1;
    }
    s->dlv.on_push = srv_v1_shared_pushed;
    s->dlv.on_push_ctx = s;
    return 0;
}

/* Ends any fault mode: a stop or a drain serves every connection plainly. */
static void end_fault(srv_server *s)
{
    srv_fault_mode from = s->fault.mode;
    memset(&s->fault, 0, sizeof(s->fault));
    srv_hold_transition(s, from, SRV_FAULT_NONE);
}

/* Tells systemd (a unit of Type=notify, dist/systemd) how the server is;
 * without $NOTIFY_SOCKET, nothing. */
static void notify(srv_server *s, const char *state)
{
    if (srv_sd_notify(getenv("NOTIFY_SOCKET"), state) < 0)
        srv_log_msg(&s->log, SRV_LOG_WARN, "sd_notify", "cannot notify systemd: %s",
                    strerror(errno));
}

static void drain_wake(srv_server *s)
{
    (void)s; /* it ends a pass of the loop: drain() looks at the time */
}

/* SIGTERM: stops taking connections (the listening socket is closed; the
 * upgrades already under way get 503), closes the WebSocket connections
 * with 1012 spread over --drain-window-ms (drain.h), and returns once they
 * and the HTTP requests still being read are done; at the latest
 * SRV_CLOSE_GRACE_MS after the window, or at a second signal. */
static void drain(srv_server *s, struct ev_loop *loop)
{
    int64_t start = srv_clock_mono_ms(), window = s->opt.drain_window_ms;
    s->stopping = true;
    s->draining = true;
    if (srv_listener_close(&s->listener, s->ctx))
        srv_log_msg(&s->log, SRV_LOG_WARN, "drain",
                    "cannot close the listening socket: new connections are answered 503");
    end_fault(s);
    uint64_t n = 0, closed = 0;
    for (srv_conn *c = s->reg.conns; c; c = c->next)
        n += !c->close_code;
    cJSON *f = cJSON_CreateObject();
    if (f) {
        cJSON_AddNumberToObject(f, "connections", (double)n);
        cJSON_AddNumberToObject(f, "window_ms", (double)window);
    }
    srv_log_emit(&s->log, SRV_LOG_INFO, "drain_started", f);
    /* the extension: the watchdog's bound, so that systemd's TimeoutStopSec
     * never cuts a drain short; the unit's is above it already */
    char state[160];
    snprintf(state, sizeof(state),
             "STOPPING=1\nSTATUS=draining %llu connections over %lld ms\n"
             "EXTEND_TIMEOUT_USEC=%lld",
             (unsigned long long)n, (long long)window,
             (long long)(window + SRV_STOP_GRACE_MS) * 1000);
    notify(s, state);

    srv_drain d;
    srv_drain_start(&d, start, window, n);
    srv_timer wake;
    srv_timer_init(&wake, loop, s, drain_wake);
    int64_t now, deadline = start + window + SRV_CLOSE_GRACE_MS;
    for (;;) {
        now = srv_clock_mono_ms();
        uint64_t due = srv_drain_take(&d, now);
        for (srv_conn *c = s->reg.conns; c && due; c = c->next)
            if (!c->close_code) {
                srv_conn_close(s, c, SRV_DRAIN_CLOSE_CODE, SRV_DRAIN_CLOSE_REASON,
                               SRV_CLOSE_SHUTDOWN);
                due--;
                closed++;
            }
        if ((!s->reg.conns && !s->http_pending) || stop_asked || now >= deadline)
            break;
        int64_t next = srv_drain_next(&d);
        srv_timer_start(&wake, ((next < deadline ? next : deadline) - now) * 1000);
        run_once(s, loop);
    }
    srv_timer_stop(&wake);
    uint64_t left = 0;
    for (srv_conn *c = s->reg.conns; c; c = c->next)
        left++;
    f = cJSON_CreateObject();
    if (f) {
        cJSON_AddNumberToObject(f, "connections", (double)n);
        cJSON_AddNumberToObject(f, "closed", (double)closed);
        cJSON_AddNumberToObject(f, "remaining", (double)left);
        cJSON_AddNumberToObject(f, "duration_ms", (double)(now - start));
        cJSON_AddStringToObject(f, "ended", !left && !s->http_pending ? "done"
                                            : stop_asked             ? "signal"
                                                                     : "window");
    }
    srv_log_emit(&s->log, left ? SRV_LOG_WARN : SRV_LOG_INFO, "drain_ended", f);
}

static void shutdown_connections(srv_server *s, struct ev_loop *loop)
{
    s->stopping = true;
    end_fault(s);
    for (srv_conn *c = s->reg.conns; c; c = c->next)
        srv_conn_close(s, c, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down",
                       SRV_CLOSE_SHUTDOWN);
    int64_t deadline = srv_clock_mono_ms() + SRV_SHUTDOWN_WAIT_MS;
    while (s->reg.conns && srv_clock_mono_ms() < deadline)
        run_once(s, loop);
}

/* The event hook that keeps the start and the monitor's changes for the
 * status page (user_data: the srv_status). */
static void status_hook(const srv_event *ev, void *user_data)
{
    if (ev->kind != SRV_EVENT_STOPPING)
        srv_status_event_add(user_data, srv_event_name(ev->kind), ev->at_ms, ev->duration_ms);
}

static int64_t tick_period(const srv_opts *o)
{
    int64_t t = (o->ping_interval_ms < o->ping_timeout_ms ? o->ping_interval_ms
                                                          : o->ping_timeout_ms) / 4;
    return t < 5 ? 5 : t > 250 ? 250 : t;
}

int srv_server_run(const srv_opts *opt)
{
    static srv_server server; /* large, and signal handling needs one anyway */
    srv_server *s = &server;
    memset(s, 0, sizeof(*s));
    s->opt = *opt;
    srv_log_init(&s->log, stderr, opt->json_logs, opt->log_level);
    srv_events_add(&s->events, srv_event_log_hook, &s->log);
    srv_alerts_init(&s->alerts, &opt->alerts, &s->log, opt->host);
    srv_events_add(&s->events, srv_alerts_hook, &s->alerts);
    srv_status_init(&s->status);
    srv_events_add(&s->events, status_hook, &s->status);
    /* a parent (a JVM, Foundation's Process) may start us with these
     * blocked: the handlers below would never run */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &stop_signals, NULL);
    srv_registry_init(&s->reg);
    s->reg.max_users = opt->max_users;
    srv_dlv_cfg dcfg = {
        .replay_ms = opt->replay_ms,
        .replay_max = (uint64_t)opt->replay_max,
        .replay_max_bytes = (uint64_t)opt->replay_max_bytes,
        .ack_every = (uint64_t)opt->ack_every,
        .ack_delay_ms = opt->ack_delay_ms,
        .max_sessions = (uint64_t)opt->max_sessions,
    };
    srv_dlv_init(&s->dlv, &dcfg);
    s->tick_ms = tick_period(opt);
    s->started_mono = srv_clock_mono_ms();
    srv_monitor_init(&s->monitor, opt->down_after_ms, s->started_mono);

    lws_log_target = &s->log;
    /* libwebsockets' errors are warnings here; its warnings, debug lines */
    lws_set_log_level(opt->log_level == SRV_LOG_DEBUG ? LLL_ERR | LLL_WARN : LLL_ERR,
                      lws_log_line);
    signal(SIGPIPE, SIG_IGN);

    char err[512];
    if (srv_db_open(opt->db_path, &s->db, err, sizeof(err))) {
        srv_log_msg(&s->log, SRV_LOG_ERROR, "db_error", "%s", err);
        srv_alerts_free(&s->alerts, 0);
        return 1;
    }
    struct ev_loop *loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOSIGMASK);
    s->loop = loop;
    srv_timer_init(&s->tick, loop, s, tick);
    srv_timer_init(&s->reap, loop, s, srv_conn_reap);
    srv_timer_init(&s->ack_timer, loop, s, srv_v1_service);
    if (!loop) {
        srv_log_msg(&s->log, SRV_LOG_ERROR, "loop", "cannot start the event loop (epoll): %s",
                    strerror(errno));
        srv_db_close(s->db);
        srv_alerts_free(&s->alerts, 0);
        return 1;
    }
    if (create_context(s, loop, err, sizeof(err))) {
        srv_log_msg(&s->log, SRV_LOG_ERROR, "listen_failed", "cannot listen on %s port %d: %s",
                    opt->host, opt->port, err);
        destroy_context(s, loop);
        srv_db_close(s->db);
        srv_alerts_free(&s->alerts, 0);
        return 1;
    }
    signal_ctx = s->ctx;
    srv_listener_guard(&s->listener, srv_listener_find(s->port), &s->log);
    drain_window_ms = opt->drain_window_ms;
    pthread_t dog;
    bool dog_on = !watchdog_start(&dog, &s->log);
    if (!dog_on)
        srv_log_msg(&s->log, SRV_LOG_WARN, "watchdog", "cannot start: a stuck stop is not ended");
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (opt->redis_url && join_cluster(s)) {
        destroy_context(s, loop);
        srv_listener_unguard(&s->listener);
        srv_db_close(s->db);
        srv_alerts_free(&s->alerts, 0);
        if (dog_on)
            watchdog_stop(dog);
        return 1;
    }
    printf("{\"event\":\"listening\",\"port\":%d}\n", s->port);
    fflush(stdout);
    char state[64];
    snprintf(state, sizeof(state), "READY=1\nSTATUS=listening on port %d", s->port);
    notify(s, state);
    emit(s, SRV_EVENT_STARTING, 0);
    s->next_flush_mono = s->started_mono + SRV_FLUSH_EVERY_MS;
    srv_server_kick(s);

    while (!drain_asked && !stop_asked)
        run_once(s, loop);

    emit(s, SRV_EVENT_STOPPING, 0);
    if (!stop_asked)
        drain(s, loop);
    else
        notify(s, "STOPPING=1");
    shutdown_connections(s, loop); /* 1001 to any the drain left open */
    if (s->cluster) /* the last figures, while Redis is there (the stop waits for them) */
        srv_cluster_users_share(s->cluster, &s->reg, s->opt.max_users);
    srv_cluster_stop(s->cluster);
    s->destroying = true;
    signal_ctx = NULL;
    destroy_context(s, loop);
    srv_listener_unguard(&s->listener);
    flush(s);
    srv_db_close(s->db);
    srv_registry_free(&s->reg);
    srv_dlv_free(&s->dlv);
    srv_shared_free(s->shared);
    s->shared = NULL;
    while (s->parked) {
        srv_parked *p = s->parked;
        s->parked = p->next;
        free(p);
    }
    free(s->pfds);
    srv_alerts_free(&s->alerts, SRV_ALERTS_WAIT_MS); /* the "stopping" alert */
    cJSON *f = cJSON_CreateObject();
    if (f) {
        cJSON_AddNumberToObject(f, "uptime_ms", (double)(srv_clock_mono_ms() - s->started_mono));
        cJSON_AddNumberToObject(f, "total_connections", (double)s->reg.stats.total);
    }
    srv_log_emit(&s->log, SRV_LOG_INFO, "server_stopped", f);
    lws_log_target = NULL;
    if (dog_on)
        watchdog_stop(dog);
    return 0;
}
