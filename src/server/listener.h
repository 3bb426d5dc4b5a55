/* The server's listening socket, closed by SIGTERM's drain (loop.c) while
 * every connection stays. libwebsockets 4.1 has lws_context_deprecate()
 * for that, but it writes to the listener's wsi after freeing it (vhost.c:
 * only its libuv plugin frees later), so on the libev loop it crashes; the
 * part that matters is done here without the bug. The service thread
 * only. */
#ifndef SRV_LISTENER_H
#define SRV_LISTENER_H

struct lws_context;

/* The listening socket: the one socket of this process that accepts
 * connections on port (lws 4.1 has no public getter for the listener's
 * wsi). Call it once the context listens. Returns its descriptor, or -1. */
int srv_listener_find(int port);

/* Closes the listening socket fd of ctx through libwebsockets
 * (lws_close_free_wsi() on its wsi, as lws_context_deprecate() does): new
 * connections are then refused by the system. Returns 0, or -1 when fd is
 * not ctx's. */
int srv_listener_close(struct lws_context *ctx, int fd);

#endif
