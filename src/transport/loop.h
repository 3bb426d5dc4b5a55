/* Inside the transport: the loop (struct lifeline_loop), shared by loop.c
 * (the thread, the members, the wake-up), vhost.c (the vhosts) and lines.c
 * (the log lines waiting for the loop). Not for the client layer, which
 * sees transport.h only. */
#ifndef LL_TRANSPORT_LOOP_H
#define LL_TRANSPORT_LOOP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

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

    /* on the application's event loop (foreign.c): no thread of ours */
    int foreign;                 /* the fields below are set */
    lifeline_loop_foreign fx;    /* its description (lifeline.h) */
    int end_asked;               /* mu: foreign.c's end is deferred */
    int ending;                  /* the context is being destroyed */
    int end_tries;               /* deferred calls waited for libuv */
    int lines_armed;             /* lines_sul is scheduled */
    lws_sorted_usec_list_t lines_sul; /* delivers the lines (lines.c) */

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

/* The context on l: options and, for foreign.c, the application's loop
 * (NULL: libwebsockets' own). LIFELINE_OK or LIFELINE_ERR_TRANSPORT. */
int ll_loop_context(ll_loop *l, uint64_t options, void *foreign_loop);
/* Free l: the context (if any is left), vhosts, lines, l itself. */
void ll_loop_destroy(ll_loop *l);
/* Run every posted connection's work (the wake-up). */
void ll_loop_drain(ll_loop *l);
/* Make this thread's loop l (NULL: none): the loop libwebsockets' log
 * lines go to, and the one ll_loop_on_thread() answers 1 for. */
void ll_loop_set_current(ll_loop *l);

/* ---- foreign.c ----------------------------------------------------------------- */

/* For ll_loop_free() / ll_loop_free_later() of a foreign loop: from
 * another thread LIFELINE_ERR_STATE; on the loop's thread the loop ends
 * once every member is gone (ll_foreign_check_end()). */
int ll_foreign_free(ll_loop *l);
/* On the loop's thread, from the loop: a loop whose free was asked and
 * whose last member has gone is destroyed from a deferred call. */
void ll_foreign_check_end(ll_loop *l);
/* A line is waiting (lines.c): deliver it from a zero-delay timer, as no
 * lws_service() of ours returns on an application's loop. */
void ll_foreign_lines_soon(ll_loop *l);

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
