/* The server's own timers, on its libev loop (loop.c). Each runs its
 * callback once, after the delay it was last started with; starting it
 * again moves it. They run at libev's highest priority: in a pass of the
 * loop, before the socket events gathered with them, as lws 4.1's own loop
 * ran its timers before each poll (conn.c's reaper and hold.c's gates count
 * on that order).
 *
 * Not libwebsockets' timers (lws_sul): with an event library, lws 4.1 arms
 * its loop timer only after its own socket and timer callbacks, so one
 * scheduled elsewhere (between two passes, from one of these) would wait
 * for the next socket event. The service thread only. */
#ifndef SRV_TIMER_H
#define SRV_TIMER_H

#include <stdint.h>

#include <ev.h>

struct srv_server;

typedef struct srv_timer {
    ev_timer w;                         /* first: the callback finds the rest */
    struct ev_loop *loop;
    struct srv_server *server;
    void (*cb)(struct srv_server *s);
} srv_timer;

/* Prepare t on loop, to call cb(server) (nothing runs yet). */
void srv_timer_init(srv_timer *t, struct ev_loop *loop, struct srv_server *server,
                    void (*cb)(struct srv_server *s));

/* Run t's callback once, us microseconds from now (0: in the next pass),
 * whether or not it was already due. */
void srv_timer_start(srv_timer *t, int64_t us);

/* t will not run (until started again). Safe on a timer never started. */
void srv_timer_stop(srv_timer *t);

#endif
