/* The server's listening socket: found at the start, guarded against
 * running out of descriptors, and closed by SIGTERM's drain (loop.c)
 * while every connection stays. libwebsockets 4.1 has
 * lws_context_deprecate() for that, but it writes to the listener's wsi
 * after freeing it (vhost.c: only its libuv plugin frees later), so on the
 * libev loop it crashes; the part that matters is done here without the
 * bug. The service thread only.
 *
 * Out of descriptors. With every descriptor in use (RLIMIT_NOFILE; ENFILE,
 * the system's table), a connection waiting on the listening socket cannot
 * be accepted: accept() fails with EMFILE, the connection stays, the
 * socket stays readable, and libwebsockets, called again at once by the
 * level-triggered loop, failed again and logged "accept: errno 24" each
 * time (rops_handle_POLLIN_listen, lib/roles/listen/ops-listen.c): one
 * core at 100 % and a line per try, for as long as it lasted. Its own
 * guard, which stops watching the listener when its descriptor table is
 * full, counts only the descriptors it serves, and with its libev plugin
 * it does not stop the watcher that accepts (w_accept, private to the
 * plugin), so there is no way to stop watching the socket for a while.
 *
 * So the server defines accept(), the function libwebsockets accepts with,
 * as tap.c defines recv(): the dynamic linker finds the executable's first
 * and the real one is reached with dlsym(RTLD_NEXT). For the guarded
 * socket, on the service thread, an accept that fails with EMFILE or
 * ENFILE gives up a spare descriptor held for this (/dev/null, opened at
 * the start), accepts and closes the connections waiting, and opens the
 * spare again (libuv's uv__emfile_trick, src/unix/stream.c): each of those
 * peers sees its connection closed at once instead of hanging, the socket
 * is no longer readable, and libwebsockets is told EAGAIN (nothing to
 * accept), so it logs nothing. Once a descriptor is free, accepts work
 * again. The count and the log lines follow nofd.h's rule.
 *
 * The limit of this: another thread (the alerts' libcurl) can take the
 * descriptor between the spare's close and its reopening. The spare is
 * then lost until a descriptor is free (it is taken back before the next
 * accept), and meanwhile a waiting connection cannot be closed: the loop
 * wakes for it until then, without log lines. */
#ifndef SRV_LISTENER_H
#define SRV_LISTENER_H

#include "server/log.h"
#include "server/nofd.h"

struct lws_context;

typedef struct srv_listener {
    int fd;            /* the listening socket; -1: none (or closed) */
    int spare;         /* /dev/null, given up to accept with; -1: none */
    srv_nofd nofd;     /* the out-of-descriptor episodes and their count */
    const srv_log *log;
} srv_listener;

/* The listening socket: the one socket of this process that accepts
 * connections on port (lws 4.1 has no public getter for the listener's
 * wsi). Call it once the context listens. Returns its descriptor, or -1. */
int srv_listener_find(int port);

/* Guards the listening socket fd (srv_listener_find's; -1: nothing to
 * guard) against running out of descriptors, logging to log: opens the
 * spare descriptor and makes accept() on this thread, the service thread,
 * handle EMFILE and ENFILE as described above. One listener per thread. */
void srv_listener_guard(srv_listener *l, int fd, const srv_log *log);

/* Closes the listening socket through libwebsockets (lws_close_free_wsi()
 * on its wsi, as lws_context_deprecate() does): new connections are then
 * refused by the system. The spare stays until srv_listener_unguard.
 * Returns 0, or -1 when l's socket is not ctx's. */
int srv_listener_close(srv_listener *l, struct lws_context *ctx);

/* Ends the guard: accept() passes straight through again, and the spare is
 * closed. */
void srv_listener_unguard(srv_listener *l);

#endif
