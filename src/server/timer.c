/* The server's timers over libev's (timer.h). */
#include "server/timer.h"

static void fire(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    srv_timer *t = (srv_timer *)w;
    t->cb(t->server);
}

void srv_timer_init(srv_timer *t, struct ev_loop *loop, struct srv_server *server,
                    void (*cb)(struct srv_server *s))
{
    ev_timer_init(&t->w, fire, 0., 0.);
    ev_set_priority(&t->w, EV_MAXPRI);
    t->loop = loop;
    t->server = server;
    t->cb = cb;
}

void srv_timer_start(srv_timer *t, int64_t us)
{
    ev_timer_stop(t->loop, &t->w);
    /* libev's "now" is the pass's start: a delay counts from the call */
    ev_now_update(t->loop);
    ev_timer_set(&t->w, us > 0 ? (double)us / 1e6 : 0., 0.);
    ev_timer_start(t->loop, &t->w);
}

void srv_timer_stop(srv_timer *t)
{
    if (t->loop)
        ev_timer_stop(t->loop, &t->w);
}
