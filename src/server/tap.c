/* The bytes each WebSocket client sends, seen before libwebsockets parses
 * them.
 *
 * libwebsockets 4.1 parses frames itself and offers no hook on their
 * headers. It reads a client frame's mask bit and never checks it
 * (lws_ws_rx_sm in lib/roles/ws/ops-ws.c sets this_frame_masked and
 * unmasks, or not; the check came in v5.0.0), so an unmasked frame was
 * taken as if masked; and it answers pings itself, dropping every ping
 * that arrives while its pong for an earlier one waits to be written
 * ("DROP PING since one pending", same function; Autobahn 2.10, 2.11).
 *
 * So the server stands between libwebsockets and the socket. It defines
 * recv() and SSL_read(), the two functions libwebsockets reads a
 * connection with (lws_ssl_capable_read_no_ssl in lib/core-net/output.c,
 * lws_ssl_capable_read in lib/tls/openssl/openssl-ssl.c), called through
 * the dynamic linker, which finds the executable's definitions first; the
 * real ones are reached with dlsym(RTLD_NEXT). For the socket of an
 * established WebSocket connection, read on the service thread, the bytes
 * go through srv_rxscan (rxscan.c) in place: whole pings are taken out and
 * answered by the server, each one (conn.c), and an unmasked frame fails
 * the connection with 1002 before libwebsockets sees more than its first
 * byte. Every other read passes straight through: other threads (the
 * alerts' libcurl), HTTP requests, handshakes, and a connection once
 * libwebsockets is closing it (it reads and drops what still comes).
 *
 * The trade-offs: the two functions are replaced for the whole process,
 * each call paying a thread-local test; a client that sent frames before
 * the 101 answer (RFC 6455 4.1 forbids it) has them read along with its
 * handshake, out of sight, so the server cannot know where its frames
 * begin: its connection is not watched (a handshake read that does not end
 * with the blank line after the headers says so). Only the service thread
 * touches the state here, so it is thread-local: the process's other
 * threads see none. */
#undef _FORTIFY_SOURCE /* recv() is defined here, not wrapped inline */

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "server/rxscan.h"
#include "server/server.h"

typedef struct srv_tap_entry {
    srv_conn *c;
    int fd;
    SSL *ssl;          /* TLS: watched in SSL_read; NULL: in recv */
    bool unwatched;    /* frames came with the handshake: passed as they are */
    srv_rxscan scan;
} srv_tap_entry;

/* The service thread's connections by socket; NULL on every other thread. */
typedef struct tap_table {
    srv_server *s;
    srv_tap_entry **byfd;
    size_t cap;
    size_t count;      /* entries: the table goes with the last one */
} tap_table;

static _Thread_local tap_table *table;

/* The end of the last bytes read from a socket not watched (yet), by this
 * thread: whether the handshake that makes it a WebSocket connection ended
 * its read. */
static _Thread_local struct {
    int fd;
    char tail[4];
} last_read = {-1, {0}};

typedef ssize_t (*recv_fn)(int, void *, size_t, int);
typedef int (*ssl_read_fn)(SSL *, void *, int);

static recv_fn real_recv(void)
{
    static recv_fn fn;
    if (!fn)
        fn = (recv_fn)dlsym(RTLD_NEXT, "recv");
    return fn;
}

static ssl_read_fn real_ssl_read(void)
{
    static ssl_read_fn fn;
    if (!fn)
        fn = (ssl_read_fn)dlsym(RTLD_NEXT, "SSL_read");
    return fn;
}

static srv_tap_entry *watched(int fd)
{
    return table && fd >= 0 && (size_t)fd < table->cap ? table->byfd[fd] : NULL;
}

static void note(int fd, const void *buf, ssize_t n)
{
    if (n <= 0)
        return;
    if (fd != last_read.fd) {
        last_read.fd = fd;
        memset(last_read.tail, 0, sizeof(last_read.tail));
    }
    size_t k = (size_t)n < sizeof(last_read.tail) ? (size_t)n : sizeof(last_read.tail);
    memmove(last_read.tail, last_read.tail + k, sizeof(last_read.tail) - k);
    memcpy(last_read.tail + sizeof(last_read.tail) - k, (const char *)buf + n - k, k);
}

/* Nothing more is read until libwebsockets begins the close: a broken
 * stream. Once it has, everything passes: it reads and drops. */
static bool stalled(const srv_tap_entry *e)
{
    return e->scan.broken && !e->c->lws_closing;
}

static bool raw(const srv_tap_entry *e)
{
    return e->unwatched || e->c->lws_closing;
}

/* Scans the n bytes just read into buf, in place; returns how many are
 * left for libwebsockets. */
static size_t filter(srv_tap_entry *e, unsigned char *buf, size_t n)
{
    size_t at = 0, kept = 0;
    while (at < n) {
        size_t used, made;
        srv_rxscan_event ev = srv_rxscan_run(&e->scan, buf + at, n - at, buf + kept, &used, &made);
        at += used;
        kept += made;
        if (ev == SRV_RXSCAN_PING) {
            srv_conn_pong(e->c, e->scan.ping, e->scan.ping_len);
        } else if (ev != SRV_RXSCAN_MORE) {
            srv_conn_fail_soon(table->s, e->c,
                               ev == SRV_RXSCAN_UNMASKED ? "unmasked frame"
                                                       : "control frame too long");
            break;
        }
    }
    return kept;
}

/* A read through an open delay gate: the gate's one step is taken, so
 * the tick shuts it before the loop's next pass reads again (hold.c). */
static void gate_read(const srv_tap_entry *e)
{
    if (e->c->gate.state == SRV_GATE_OPEN)
        srv_server_kick(table->s);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    srv_tap_entry *e = watched(fd);
    if (!e || e->ssl || flags) {
        ssize_t n = real_recv()(fd, buf, len, flags);
        if (!e && !flags)
            note(fd, buf, n);
        return n;
    }
    if (stalled(e)) {
        errno = EAGAIN;
        return -1;
    }
    ssize_t n = real_recv()(fd, buf, len, flags);
    if (n > 0)
        gate_read(e);
    if (n <= 0 || raw(e))
        return n;
    size_t kept = filter(e, buf, (size_t)n);
    if (!kept) { /* only pings, or a broken frame first */
        errno = EAGAIN;
        return -1;
    }
    return (ssize_t)kept;
}

int SSL_read(SSL *ssl, void *buf, int num)
{
    int fd = SSL_get_fd(ssl);
    srv_tap_entry *e = watched(fd);
    if (!e || e->ssl != ssl) {
        int n = real_ssl_read()(ssl, buf, num);
        if (!e)
            note(fd, buf, n);
        return n;
    }
    int n;
    if (stalled(e)) { /* read and drop: OpenSSL then says why it stopped */
        while ((n = real_ssl_read()(ssl, buf, num)) > 0)
            ;
        return n;
    }
    n = real_ssl_read()(ssl, buf, num);
    if (n > 0)
        gate_read(e);
    if (n <= 0 || raw(e))
        return n;
    size_t kept = filter(e, buf, (size_t)n);
    /* libwebsockets looks for bytes OpenSSL holds decrypted only after a
     * read that filled its buffer (lws_ssl_capable_read): fill it again */
    while (n == num && kept < (size_t)num && !e->scan.broken && SSL_pending(ssl) > 0) {
        n = real_ssl_read()(ssl, (unsigned char *)buf + kept, num - (int)kept);
        if (n <= 0)
            break;
        kept += filter(e, (unsigned char *)buf + kept, (size_t)n);
        n = num; /* the buffer was full before the pings came out */
    }
    while (!kept) { /* only pings, or a broken frame first: read on */
        n = real_ssl_read()(ssl, buf, num);
        if (n <= 0)
            return n;
        kept = e->scan.broken ? 0 : filter(e, buf, (size_t)n);
    }
    return (int)kept;
}

void srv_tap_watch(srv_server *s, srv_conn *c)
{
    int fd = lws_get_socket_fd(c->wsi);
    if (fd < 0 || c->tap)
        return;
    if (!table && !(table = calloc(1, sizeof(*table))))
        return;
    table->s = s;
    if ((size_t)fd >= table->cap) {
        size_t cap = table->cap ? table->cap : 64;
        while (cap <= (size_t)fd)
            cap *= 2;
        srv_tap_entry **p = realloc(table->byfd, cap * sizeof(*p));
        if (!p)
            return;
        memset(p + table->cap, 0, (cap - table->cap) * sizeof(*p));
        table->byfd = p;
        table->cap = cap;
    }
    srv_tap_entry *e = table->byfd[fd];
    if (e) { /* left by a connection that never said it closed */
        e->c->tap = NULL;
    } else {
        if (!(e = malloc(sizeof(*e))))
            return;
        table->count++;
    }
    e->c = c;
    e->fd = fd;
    e->ssl = lws_get_ssl(c->wsi);
    e->unwatched = last_read.fd != fd || memcmp(last_read.tail, "\r\n\r\n", 4);
    srv_rxscan_init(&e->scan);
    table->byfd[fd] = e;
    c->tap = e;
    last_read.fd = -1;
}

void srv_tap_forget(srv_conn *c)
{
    srv_tap_entry *e = c->tap;
    if (!e || !table)
        return;
    c->tap = NULL;
    table->byfd[e->fd] = NULL;
    free(e);
    if (--table->count)
        return;
    free(table->byfd);
    free(table);
    table = NULL;
}
