/* Log lines waiting for control to return to the loop: the transport's
 * own (ll_conn_log()) and libwebsockets' (its log hook). None is handed up
 * where it is made: libwebsockets' hook runs inside libwebsockets, and the
 * transport's lines are often made inside a call down (transport.h, "THE
 * RULE"). They are delivered, in order, before the next call up and when
 * lws_service() returns (on an application's loop, from a zero-delay
 * timer: foreign.c). Loop thread only: no lock, so a line logged while
 * lines are delivered is simply kept for the next delivery.
 *
 * Bounded: past LL_LINES_MAX waiting lines, lines are counted and dropped,
 * and the next delivery says how many ("N log lines dropped"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/conn.h"

/* The most lines waiting for a delivery. */
#define LL_LINES_MAX 256
/* libwebsockets' lines are cut to this many bytes (they end in '\n'). */
#define LL_LWS_LINE_MAX 480

struct ll_line {
    ll_line *next;
    ll_conn *conn;               /* NULL: for every member of the loop */
    int level;
    char text[];
};

static pthread_once_t lws_log_once = PTHREAD_ONCE_INIT;

void ll_lines_add(ll_loop *l, ll_conn *conn, int level, const char *text)
{
    if (conn && conn->abandoned)
        return;
    size_t n = strlen(text);
    ll_line *ln = l->n_lines < LL_LINES_MAX ? malloc(sizeof(*ln) + n + 1) : NULL;
    if (!ln) {
        l->lines_dropped++;
        return;
    }
    ln->next = NULL;
    ln->conn = conn;
    ln->level = level;
    memcpy(ln->text, text, n + 1);
    if (l->lines_tail)
        l->lines_tail->next = ln;
    else
        l->lines = ln;
    l->lines_tail = ln;
    l->n_lines++;
    if (l->foreign)
        ll_foreign_lines_soon(l);
}

/* The connections a line for every member goes to, as they are now (a
 * member is freed by another thread only after this thread has abandoned
 * it, so the ones not abandoned stay valid while the lines go out). */
static ll_conn **snapshot_members(ll_loop *l, size_t *n)
{
    pthread_mutex_lock(&l->mu);
    ll_conn **list = l->n_members ? malloc(l->n_members * sizeof(*list)) : NULL;
    *n = 0;
    for (ll_conn *c = l->members; list && c; c = c->next_member)
        list[(*n)++] = c;
    pthread_mutex_unlock(&l->mu);
    return list;
}

static void hand_up(ll_conn *c, int level, const char *text)
{
    if (c->abandoned || level > c->opts.log_level)
        return;
    ll_conn *prev = ll_loop_enter(c);
    c->up->log(c->owner, level, text);
    ll_loop_exit(prev);
}

static void hand_to_every_member(ll_loop *l, int level, const char *text)
{
    size_t n;
    ll_conn **list = snapshot_members(l, &n);
    for (size_t i = 0; i < n; i++)
        hand_up(list[i], level, text);
    free(list);
}

void ll_lines_deliver(ll_loop *l)
{
    if (!l->lines && !l->lines_dropped)
        return;
    /* taken apart first: a line logged meanwhile waits for the next time */
    ll_line *ln = l->lines;
    size_t dropped = l->lines_dropped;
    l->lines = l->lines_tail = NULL;
    l->n_lines = 0;
    l->lines_dropped = 0;
    while (ln) {
        ll_line *next = ln->next;
        if (ln->conn)
            hand_up(ln->conn, ln->level, ln->text);
        else
            hand_to_every_member(l, ln->level, ln->text);
        free(ln);
        ln = next;
    }
    if (dropped) {
        char text[64];
        snprintf(text, sizeof(text), "%zu log lines dropped (more than %d waiting)", dropped,
                 LL_LINES_MAX);
        hand_to_every_member(l, LIFELINE_LOG_WARN, text);
    }
}

void ll_lines_forget(ll_loop *l, ll_conn *conn)
{
    ll_line **p = &l->lines;
    l->lines_tail = NULL;
    while (*p) {
        if ((*p)->conn == conn) {
            ll_line *gone = *p;
            *p = gone->next;
            free(gone);
            l->n_lines--;
        } else {
            l->lines_tail = *p;
            p = &(*p)->next;
        }
    }
}

void ll_lines_free(ll_loop *l)
{
    while (l->lines) {
        ll_line *next = l->lines->next;
        free(l->lines);
        l->lines = next;
    }
    l->lines_tail = NULL;
    l->n_lines = 0;
}

/* ---- libwebsockets' log hook -------------------------------------------------- */

static int lws_level_to_ours(int level)
{
    if (level & LLL_ERR)
        return LIFELINE_LOG_ERROR;
    if (level & LLL_WARN)
        return LIFELINE_LOG_WARN;
    return LIFELINE_LOG_DEBUG;
}

/* Called inside libwebsockets, on whatever thread logs: kept for the loop
 * of this thread (and the connection whose work runs now, if any). */
static void lws_log_emit(int level, const char *line)
{
    ll_loop *l = ll_loop_current();
    if (!l)
        return; /* not a lifeline loop thread: dropped, never printed */
    char buf[LL_LWS_LINE_MAX + 8];
    size_t n = strcspn(line, "\n");
    snprintf(buf, sizeof(buf), "lws: %.*s", (int)(n < LL_LWS_LINE_MAX ? n : LL_LWS_LINE_MAX),
             line);
    ll_conn *c = ll_loop_current_conn();
    int ours = lws_level_to_ours(level);
    if (c && ours > c->opts.log_level)
        return;
    ll_lines_add(l, c, ours, buf);
}

static void install_lws_log_hook(void)
{
    /* libwebsockets prints to stderr by default: this replaces that, once
     * for the process, with the routing above. */
    lws_set_log_level(LLL_ERR | LLL_WARN | LLL_NOTICE, lws_log_emit);
}

void ll_lines_route_lws_logs(void)
{
    pthread_once(&lws_log_once, install_lws_log_hook);
}
