/* Inside the transport: the loop (struct lifeline_loop), shared by loop.c
 * (the thread, the members, the wake-up), vhost.c (the vhosts) and lines.c
 * (the log lines waiting for the loop). Not for the client layer, which
 * sees transport.h only. */
#ifndef LL_TRANSPORT_LOOP_H
#define LL_TRANSPORT_LOOP_H

#include <pthread.h>
#include <stddef.h>

#include <libwebsockets.h>

#include "transport/transport.h"

typedef struct ll_vhost ll_vhost;
typedef struct ll_line ll_line;

struct lifeline_loop {
    struct lws_context *ctx;
    pthread_t thread;
    int thread_started;

    pthread_mutex_t mu;          /* guards the fields up to vhosts */
    pthread_cond_t cv;
    int stopping;                /* ll_loop_free(): the thread ends */
    int freeing_itself;          /* ll_loop_free_later(): the thread ends
                                    once no member is left, and frees the
                                    loop */
    int ready;                   /* the thread has entered its service loop */
    size_t n_members, n_leaving;
    ll_conn *members;            /* every connection on the loop */
    ll_conn *dirty;              /* connections with work posted */

    /* loop thread only */
    ll_vhost *vhosts;
    int vhost_seq;
    ll_line *lines, *lines_tail; /* log lines waiting (lines.c) */
    size_t n_lines;
    size_t lines_dropped;        /* since the last delivery */
    struct lws *netwatch;        /* the rtnetlink watcher (netwatch.c), or
                                    NULL */
    size_t n_watching;           /* members watching the network (their
                                    net_watch also changes under mu, for
                                    the list netwatch.c takes) */
};

/* ---- loop.c ------------------------------------------------------------------ */

/* The loop whose service thread this is, or NULL. */
ll_loop *ll_loop_current(void);
/* The connection whose work runs on this loop thread now (libwebsockets'
 * log lines go to it), or NULL. */
ll_conn *ll_loop_current_conn(void);

/* ---- vhost.c ----------------------------------------------------------------- */

/* The client-only vhost every loop has from the start: wake-ups land on it. */
int ll_vhost_default(ll_loop *l);
void ll_vhosts_free(ll_loop *l);

/* ---- lines.c ----------------------------------------------------------------- */

/* libwebsockets' log lines, for the process (once): queued for the loop
 * of the thread that logs them (lines.c), dropped on other threads. */
void ll_lines_route_lws_logs(void);
/* Keep line for conn (NULL: for every member) until delivery. Loop thread. */
void ll_lines_add(ll_loop *l, ll_conn *conn, int level, const char *line);
/* Deliver every line kept, to events->log of its connection (or of every
 * member), and say how many were dropped. Loop thread, from the loop: not
 * inside a call down. */
void ll_lines_deliver(ll_loop *l);
/* Drop the lines kept for conn (it is let go of). */
void ll_lines_forget(ll_loop *l, ll_conn *conn);
void ll_lines_free(ll_loop *l);

#endif
