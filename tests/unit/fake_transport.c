/* See fake_transport.h. */
#include "fake_transport.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lifeline_loop {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ll_conn *members;
    int n_members, n_leaving, stopping, freeing_itself;
    void (*job)(ll_conn *, void *); /* the test's, one at a time */
    ll_conn *job_conn;
    void *job_arg;
    int job_done;
};

struct ll_conn {
    ll_loop *loop;
    const ll_transport_events *up;
    void *owner;
    ll_conn *next;
    int posted, leaving, abandoned;
    _Atomic int watching;
    uint32_t last_id;
    char calls[8192];
};

static _Atomic int64_t now_ms;
static _Atomic int conns_alive, loops_alive;
static ll_conn *_Atomic last_conn;

void fake_set_now(int64_t ms) { now_ms = ms; }
int64_t ll_now_ms(void) { return now_ms; }
int ll_transport_deflate_supported(void) { return 0; }
ll_conn *fake_conn_last(void) { return last_conn; }
int fake_conns_alive(void) { return conns_alive; }
int fake_loops_alive(void) { return loops_alive; }
const char *fake_calls(ll_conn *c) { return c->calls; }
void fake_clear_calls(ll_conn *c) { c->calls[0] = 0; }
uint32_t fake_last_id(ll_conn *c) { return c->last_id; }

static void record(ll_conn *c, const char *fmt, ...)
{
    size_t n = strlen(c->calls);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->calls + n, sizeof(c->calls) - n, fmt, ap);
    va_end(ap);
    n = strlen(c->calls);
    snprintf(c->calls + n, sizeof(c->calls) - n, "\n");
}

/* ---- the loop: a thread that runs posted work and the test's jobs ---------- */

/* A posted member to wake, taken off under the lock; NULL when none. */
static ll_conn *take_posted(ll_loop *l)
{
    for (ll_conn *c = l->members; c; c = c->next)
        if (c->posted && !c->abandoned) {
            c->posted = 0;
            return c;
        }
    return NULL;
}

static void *loop_main(void *arg)
{
    ll_loop *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        ll_conn *c = take_posted(l);
        if (c) {
            pthread_mutex_unlock(&l->mu);
            c->up->wake(c->owner); /* c may free itself in there */
            pthread_mutex_lock(&l->mu);
        } else if (l->job && !l->job_done) {
            pthread_mutex_unlock(&l->mu);
            l->job(l->job_conn, l->job_arg);
            pthread_mutex_lock(&l->mu);
            l->job_done = 1;
            pthread_cond_broadcast(&l->cv);
        } else if ((l->stopping || (l->freeing_itself && l->n_members == 0)) && !l->job) {
            break; /* never while a test waits on a job: it holds l */
        } else {
            pthread_cond_wait(&l->cv, &l->mu);
        }
    }
    pthread_mutex_unlock(&l->mu);
    if (l->freeing_itself) {
        pthread_detach(pthread_self());
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
        free(l);
        loops_alive--;
    }
    return NULL;
}

int ll_loop_new(ll_loop **out)
{
    ll_loop *l = calloc(1, sizeof(*l));
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    loops_alive++;
    pthread_create(&l->thread, NULL, loop_main, l);
    *out = l;
    return LIFELINE_OK;
}

/* The client layer's tests run on the fake's own thread only. */
int ll_loop_new_foreign(const lifeline_loop_foreign *desc, ll_loop **out)
{
    (void)desc;
    *out = NULL;
    return LIFELINE_ERR_TRANSPORT;
}

int ll_loop_free(ll_loop *l)
{
    pthread_mutex_lock(&l->mu);
    int used = l->n_members > 0;
    l->stopping = !used;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    if (used)
        return LIFELINE_ERR_STATE;
    pthread_join(l->thread, NULL);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
    loops_alive--;
    return LIFELINE_OK;
}

int ll_loop_free_later(ll_loop *l)
{
    pthread_mutex_lock(&l->mu);
    int used = l->n_members > l->n_leaving;
    l->freeing_itself = !used;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return used ? LIFELINE_ERR_STATE : LIFELINE_OK;
}

int ll_loop_on_thread(const ll_loop *l)
{
    return l && pthread_equal(pthread_self(), l->thread);
}

static void run_job(ll_conn *c, void (*fn)(ll_conn *, void *), void *arg)
{
    ll_loop *l = c->loop;
    pthread_mutex_lock(&l->mu);
    l->job = fn;
    l->job_conn = c;
    l->job_arg = arg;
    l->job_done = 0;
    pthread_cond_broadcast(&l->cv);
    while (!l->job_done)
        pthread_cond_wait(&l->cv, &l->mu);
    l->job = NULL;
    pthread_cond_broadcast(&l->cv); /* a loop freeing itself may go now */
    pthread_mutex_unlock(&l->mu);
}

static void nothing(ll_conn *c, void *arg)
{
    (void)c;
    (void)arg;
}

void fake_settle(ll_conn *c)
{
    run_job(c, nothing, NULL); /* posted work runs before a job */
}

void fake_on_loop(ll_conn *c, void (*fn)(ll_conn *, void *), void *arg)
{
    run_job(c, fn, arg);
}

/* ---- connections ------------------------------------------------------------ */

int ll_conn_new(ll_loop *l, const ll_conn_opts *opts, const ll_transport_events *events,
                void *owner, ll_conn **out)
{
    (void)opts;
    ll_conn *c = calloc(1, sizeof(*c));
    c->loop = l;
    c->up = events;
    c->owner = owner;
    pthread_mutex_lock(&l->mu);
    c->next = l->members;
    l->members = c;
    l->n_members++;
    pthread_mutex_unlock(&l->mu);
    conns_alive++;
    last_conn = c;
    *out = c;
    return LIFELINE_OK;
}

void ll_conn_leave(ll_conn *c)
{
    pthread_mutex_lock(&c->loop->mu);
    c->loop->n_leaving += !c->leaving;
    c->leaving = 1;
    pthread_mutex_unlock(&c->loop->mu);
}

void ll_conn_free(ll_conn *c)
{
    if (!c)
        return;
    ll_loop *l = c->loop;
    pthread_mutex_lock(&l->mu);
    for (ll_conn **p = &l->members; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    l->n_members--;
    l->n_leaving -= c->leaving;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    if (last_conn == c)
        last_conn = NULL;
    free(c);
    conns_alive--;
}

void ll_conn_post(ll_conn *c)
{
    pthread_mutex_lock(&c->loop->mu);
    c->posted = 1;
    pthread_cond_broadcast(&c->loop->cv);
    pthread_mutex_unlock(&c->loop->mu);
}

void ll_conn_timer(ll_conn *c, int64_t at_ms)
{
    if (at_ms == LL_NO_DEADLINE)
        record(c, "timer none");
    else
        record(c, "timer %lld", (long long)at_ms);
}

void ll_conn_connect(ll_conn *c, uint32_t id, int url_index)
{
    c->last_id = id;
    if (url_index) /* url alone, or url of a list: "connect 1" as ever */
        record(c, "connect %u url %d", id, url_index);
    else
        record(c, "connect %u", id);
}

void ll_conn_probe(ll_conn *c, uint32_t id)
{
    c->last_id = id;
    record(c, "probe %u", id);
}

void ll_conn_close(ll_conn *c, uint32_t id, int code, int wait_ms)
{
    (void)wait_ms;
    record(c, "close %u %d", id, code);
}

void ll_conn_fail(ll_conn *c, uint32_t id, int code, int error, const char *text)
{
    record(c, "fail %u %d %s: %s", id, code, lifeline_error_name(error), text);
}

void ll_conn_want_write(ll_conn *c) { record(c, "want_write"); }
void ll_conn_ping(ll_conn *c, uint32_t seq) { record(c, "ping %u", seq); }
int ll_conn_busy(const ll_conn *c) { (void)c; return 0; }
int ll_conn_close_answered(const ll_conn *c) { (void)c; return 0; }

void ll_conn_abandon(ll_conn *c)
{
    record(c, "abandon");
    c->abandoned = 1;
    c->watching = 0;
}

/* Not a line of fake_calls(): fake_watching() says it. */
void ll_conn_watch_network(ll_conn *c, int on) { c->watching = on != 0; }
int fake_watching(ll_conn *c) { return c->watching; }

/* ---- calls up, made on the loop thread --------------------------------------- */

void fake_event(ll_conn *c, ll_event ev, const char *detail)
{
    ll_detail why = {.error = ev.error, .text = detail};
    c->up->event(c->owner, &ev, detail ? &why : NULL);
}

void fake_message(ll_conn *c, const char *text)
{
    c->up->message(c->owner, text, strlen(text), 0);
}

void fake_timer(ll_conn *c) { c->up->timer(c->owner); }
void fake_log(ll_conn *c, int level, const char *line) { c->up->log(c->owner, level, line); }

int fake_write_all(ll_conn *c, int ok, char *out, size_t size)
{
    int n = 0;
    ll_out m;
    out[0] = 0;
    while (c->up->next_out(c->owner, &m)) {
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%.*s", n ? "|" : "", (int)m.len,
                 (const char *)m.data);
        c->up->written(c->owner, ok);
        n++;
        if (!ok)
            break; /* it goes again, first: the connection failed */
    }
    return n;
}
