/* lifeline on the application's event loop (issue 14, point 1): built
 * twice, with IT_LOOP_GLIB (a GMainContext iterated here, through
 * <lifeline/glib.h>) and with IT_LOOP_UV (a uv_loop_t run here, through
 * <lifeline/uv.h>). The test's own thread runs the loop: clients connect,
 * lose the server (SIGKILL), judge it down, recover when it is back, read
 * the server's 1001 when it stops (SIGINT), and stop with 1000; every
 * callback runs on this thread, and lifeline starts no thread (counted in
 * /proc/self/task).
 *
 * The test waits by running the loop, one iteration at a time, until what
 * it waits for has been recorded (a 20 ms tick of the loop's own bounds
 * each iteration, so that a deadline can fail the test): no sleep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(IT_LOOP_GLIB)
#include <lifeline/glib.h>
#define LOOP_NAME "glib"
#elif defined(IT_LOOP_UV)
#include <lifeline/uv.h>
#define LOOP_NAME "libuv"
#else
#error "build with IT_LOOP_GLIB or IT_LOOP_UV"
#endif

#include "harness.h"

#define CLIENTS 3
#define TICK_MS 20

/* ---- the application's loop --------------------------------------------- */

typedef struct app_loop {
#if defined(IT_LOOP_GLIB)
    GMainContext *ctx;
    GSource *tick;
#else
    uv_loop_t uv;
    uv_timer_t tick;
#endif
} app_loop;

#if defined(IT_LOOP_GLIB)
static gboolean on_tick(gpointer data)
{
    (void)data;
    return G_SOURCE_CONTINUE;
}
#else
static void on_tick(uv_timer_t *t)
{
    (void)t;
}
#endif

/* A loop of the test's own, not the default one, to show nothing relies
 * on it (GLib), and a tick that bounds each iteration. */
static void app_loop_init(app_loop *a)
{
#if defined(IT_LOOP_GLIB)
    a->ctx = g_main_context_new();
    a->tick = g_timeout_source_new(TICK_MS);
    g_source_set_callback(a->tick, on_tick, NULL, NULL);
    g_source_attach(a->tick, a->ctx);
#else
    assert_int_equal(uv_loop_init(&a->uv), 0);
    uv_timer_init(&a->uv, &a->tick);
    uv_timer_start(&a->tick, on_tick, TICK_MS, TICK_MS);
#endif
}

static int app_loop_new_lifeline(app_loop *a, lifeline_loop **out)
{
#if defined(IT_LOOP_GLIB)
    return lifeline_loop_new_glib(a->ctx, out);
#else
    return lifeline_loop_new_uv(&a->uv, out);
#endif
}

/* One iteration: whatever is ready, or the tick. */
static void app_loop_iterate(app_loop *a)
{
#if defined(IT_LOOP_GLIB)
    g_main_context_iteration(a->ctx, TRUE);
#else
    uv_run(&a->uv, UV_RUN_ONCE);
#endif
}

/* The transport's loop of this thread (src/transport/loop.h): NULL once a
 * freed foreign loop has begun its end, which the application cannot see
 * otherwise (on GLib the end completes in that same call). */
struct lifeline_loop *ll_loop_current(void);

static int lifeline_loop_gone(void *arg)
{
    (void)arg;
    return ll_loop_current() == NULL;
}

static int run_until(app_loop *a, int (*pred)(void *arg), void *arg, int timeout_ms);

/* Run the loop until everything on it is done (the lifeline loop freed
 * included), then close it: nothing of lifeline's may be left on it. */
static void app_loop_finish(app_loop *a)
{
    assert_true(run_until(a, lifeline_loop_gone, NULL, it_scaled(10000)));
#if defined(IT_LOOP_GLIB)
    g_source_destroy(a->tick);
    g_source_unref(a->tick);
    while (g_main_context_iteration(a->ctx, FALSE))
        ;
    g_main_context_unref(a->ctx);
#else
    uv_timer_stop(&a->tick);
    uv_close((uv_handle_t *)&a->tick, NULL);
    int64_t deadline = it_now_ms() + it_scaled(5000);
    while (uv_run(&a->uv, UV_RUN_ONCE) && it_now_ms() < deadline)
        ;
    assert_int_equal(uv_loop_close(&a->uv), 0); /* no handle left */
#endif
}

/* ---- waiting by running the loop ------------------------------------------ */

typedef int (*pred_fn)(void *arg);

static int run_until(app_loop *a, pred_fn pred, void *arg, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    while (!pred(arg)) {
        if (it_now_ms() > deadline)
            return 0;
        app_loop_iterate(a);
    }
    return 1;
}

typedef struct state_wait {
    it_rec *rec;
    int state;
    it_ev *out;
} state_wait;

static int state_reached(void *arg)
{
    state_wait *w = arg;
    return it_wait_state(w->rec, w->state, 0, w->out); /* no wait: a look */
}

static void run_until_state(app_loop *a, it_rec *rec, int state, int timeout_ms, it_ev *out)
{
    state_wait w = {rec, state, out};
    IT_ASSERT(rec, run_until(a, state_reached, &w, timeout_ms), "%s: state %s not reached in %d ms",
              rec->name, lifeline_state_name(state), timeout_ms);
}

typedef struct message_wait {
    it_rec *rec;
    const char *text;
} message_wait;

static int message_came(void *arg)
{
    message_wait *w = arg;
    return it_wait_message(w->rec, w->text, 0);
}

typedef struct line_wait {
    it_proc *proc;
    const char *needle;
    size_t count;
} line_wait;

static int lines_printed(void *arg)
{
    line_wait *w = arg;
    return it_proc_count_lines(w->proc, w->needle) >= w->count;
}

/* ---- threads ------------------------------------------------------------------ */

/* The threads of this process now. */
static int count_threads(void)
{
    int n = it_count_entries("/proc/self/task");
    assert_true(n > 0);
    return n;
}

/* ---- the test ------------------------------------------------------------------- */

typedef struct fleet {
    it_rec rec[CLIENTS];
    lifeline_client *c[CLIENTS];
    char url[CLIENTS][256];
    char name[CLIENTS][24];
} fleet;

static void each_state(app_loop *a, fleet *m, int state, int timeout_ms)
{
    for (int i = 0; i < CLIENTS; i++)
        run_until_state(a, &m->rec[i], state, timeout_ms, NULL);
}

/* Each retry came when on_retry said, within a margin: the core's
 * deadlines are honoured on the application's loop. */
static void check_retry_timing(it_rec *rec)
{
    size_t n = it_event_count(rec);
    for (size_t i = 0; i < n; i++) {
        it_ev r, e;
        it_event_at(rec, i, &r);
        if (r.kind != IT_EV_RETRY || r.probe)
            continue;
        for (size_t k = i + 1; k < n; k++) {
            it_event_at(rec, k, &e);
            if (e.kind == IT_EV_STATE && e.new_state == LIFELINE_STATE_CONNECTING) {
                int64_t late = e.at - r.at - r.delay_ms;
                IT_ASSERT(rec, late >= -5 && late <= it_scaled(150),
                          "%s: retry %d due in %lld ms came %lld ms late", rec->name,
                          r.retry_attempt, (long long)r.delay_ms, (long long)late);
                break;
            }
        }
    }
}

static void clients_connect_lose_the_server_go_down_and_recover_on_the_loop_thread(void **state)
{
    it_fix *f = *state;
    it_require_server();
    f->proc = it_start_server(NULL);
    assert_non_null(f->proc);
    app_loop a;
    app_loop_init(&a);
    /* the harness reads the server's output on a thread of its own (one
     * per live process): counted now, with the server running */
    int threads = count_threads();

    lifeline_loop *loop = NULL;
    assert_int_equal(app_loop_new_lifeline(&a, &loop), LIFELINE_OK);
    /* one lifeline loop per thread */
    lifeline_loop *second = NULL;
    assert_int_equal(app_loop_new_lifeline(&a, &second), LIFELINE_ERR_STATE);
    assert_null(second);

    fleet m;
    memset(&m, 0, sizeof(m));
    for (int i = 0; i < CLIENTS; i++) {
        snprintf(m.name[i], sizeof(m.name[i]), LOOP_NAME "-till%d", i);
        it_rec_init(&m.rec[i], m.name[i]);
        it_url(m.url[i], sizeof(m.url[i]), &it_server_target, f->proc, m.name[i]);
        lifeline_config cfg;
        it_config(&cfg, &m.rec[i], m.url[i]);
        cfg.loop = loop;
        /* a stopping lifeline-server stops answering pings a second
         * before its 1001: losses are seen by the socket here */
        cfg.ping_interval_ms = 10000;
        cfg.ping_timeout_ms = 5000;
        assert_int_equal(lifeline_client_new(&cfg, &m.c[i]), LIFELINE_OK);
        assert_int_equal(lifeline_client_start(m.c[i]), LIFELINE_OK);
    }
    /* nothing happens until the loop runs: no thread of lifeline's */
    assert_int_equal(it_count_states(&m.rec[0], LIFELINE_STATE_CONNECTING), 0);
    assert_int_equal(count_threads(), threads);

    each_state(&a, &m, LIFELINE_STATE_CONNECTED, IT_QUICK);
    assert_int_equal(count_threads(), threads);
    for (int i = 0; i < CLIENTS; i++) {
        char text[64];
        snprintf(text, sizeof(text), "hello from %s", m.name[i]);
        assert_int_equal(lifeline_client_send_text(m.c[i], text), LIFELINE_OK);
        message_wait w = {&m.rec[i], text};
        IT_ASSERT(&m.rec[i], run_until(&a, message_came, &w, IT_QUICK), "no echo");
    }

    /* the server is lost: disconnected, retries, judged down */
    assert_true(it_proc_kill(f->proc, SIGKILL));
    each_state(&a, &m, LIFELINE_STATE_DISCONNECTED, IT_QUICK);
    each_state(&a, &m, LIFELINE_STATE_SERVER_DOWN, it_scaled(8000));
    assert_int_equal(count_threads(), threads - 1); /* the harness's reader is gone */

    /* back: recovered, each on its probe or attempt */
    assert_true(it_proc_restart(f->proc));
    each_state(&a, &m, LIFELINE_STATE_CONNECTED, it_scaled(8000));
    assert_int_equal(count_threads(), threads);
    for (int i = 0; i < CLIENTS; i++)
        check_retry_timing(&m.rec[i]);

    /* the server stops (SIGINT): its close frame, 1001, is read */
    assert_true(it_proc_kill(f->proc, SIGINT));
    for (int i = 0; i < CLIENTS; i++) {
        it_ev ev;
        run_until_state(&a, &m.rec[i], LIFELINE_STATE_DISCONNECTED, IT_QUICK, &ev);
        IT_ASSERT(&m.rec[i], ev.error == LIFELINE_ERR_CLOSED_BY_PEER,
                  "%s: the server's close frame was not read: %s (%s)", m.name[i],
                  lifeline_error_name(ev.error), ev.reason);
    }
    assert_true(it_proc_restart(f->proc));
    each_state(&a, &m, LIFELINE_STATE_CONNECTED, it_scaled(8000));

    /* stop from the loop's thread, outside any callback: returns at once,
     * the close (1000, answered) completes as the loop runs */
    for (int i = 0; i < CLIENTS; i++)
        assert_int_equal(lifeline_client_stop(m.c[i], 2000), LIFELINE_OK);
    each_state(&a, &m, LIFELINE_STATE_CLOSED, IT_QUICK);
    for (int i = 0; i < CLIENTS; i++) {
        lifeline_stats s;
        assert_int_equal(lifeline_client_stats(m.c[i], &s), LIFELINE_OK);
        IT_ASSERT(&m.rec[i], s.last_close_answered == 1, "%s: close not answered", m.name[i]);
    }

    /* every callback of every client ran here, one at a time */
    for (int i = 0; i < CLIENTS; i++) {
        assert_true(m.rec[i].cb_thread_known);
        assert_true(pthread_equal(m.rec[i].cb_thread, pthread_self()));
        assert_int_equal(m.rec[i].cb_wrong_thread, 0);
        assert_int_equal(m.rec[i].cb_overlaps, 0);
    }

    /* free on the loop's thread: at once, completed by the loop */
    for (int i = 0; i < CLIENTS; i++)
        assert_int_equal(lifeline_client_free(m.c[i]), LIFELINE_OK);
    assert_int_equal(lifeline_loop_free(loop), LIFELINE_OK);
    app_loop_finish(&a);
    assert_int_equal(count_threads(), threads);
    for (int i = 0; i < CLIENTS; i++)
        it_rec_destroy(&m.rec[i]);
}

/* ---- another thread --------------------------------------------------------------- */

typedef struct other {
    lifeline_client *c;
    lifeline_loop *loop;
    int loop_free_rc;
    int sent_rc, free_rc;
    int done;
    pthread_mutex_t mu;
} other;

static void *other_main(void *arg)
{
    other *o = arg;
    o->loop_free_rc = lifeline_loop_free(o->loop); /* not its thread */
    o->sent_rc = lifeline_client_send_text(o->c, "from another thread");
    /* blocks until the loop, run by the test's thread, has let go */
    o->free_rc = lifeline_client_free(o->c);
    pthread_mutex_lock(&o->mu);
    o->done = 1;
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

static int other_done(void *arg)
{
    other *o = arg;
    pthread_mutex_lock(&o->mu);
    int d = o->done;
    pthread_mutex_unlock(&o->mu);
    return d;
}

static void calls_from_another_thread_wait_for_the_loop(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", LOOP_NAME "-other");
    app_loop a;
    app_loop_init(&a);
    lifeline_loop *loop = NULL;
    assert_int_equal(app_loop_new_lifeline(&a, &loop), LIFELINE_OK);
    f->cfg.loop = loop;
    lifeline_client *c = NULL;
    assert_int_equal(lifeline_client_new(&f->cfg, &c), LIFELINE_OK);
    assert_int_equal(lifeline_client_start(c), LIFELINE_OK);
    run_until_state(&a, &f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);

    other o = {.c = c, .loop = loop};
    pthread_mutex_init(&o.mu, NULL);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_main, &o), 0);
    IT_ASSERT(&f->rec, run_until(&a, other_done, &o, it_scaled(10000)),
              "the other thread's free did not return");
    pthread_join(t, NULL);
    pthread_mutex_destroy(&o.mu);
    assert_int_equal(o.loop_free_rc, LIFELINE_ERR_STATE);
    assert_int_equal(o.sent_rc, LIFELINE_OK);
    assert_int_equal(o.free_rc, LIFELINE_OK);
    /* the message was written before the close (else on_dropped), and
     * closed was the last event */
    assert_int_equal(it_count_events(&f->rec, IT_EV_DROPPED), 0);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CLOSED, 0, NULL);
    assert_int_equal(lifeline_loop_free(loop), LIFELINE_OK);
    app_loop_finish(&a);
}

/* lifeline_loop_free() from a callback of the loop's last client, freed
 * from that callback too: both complete after it, from the loop. */
static void free_hook(it_rec *rec, lifeline_client *c, const lifeline_state_info *info)
{
    if (info->new_state != LIFELINE_STATE_CONNECTED)
        return;
    lifeline_loop **loop = rec->hook_data;
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
    assert_int_equal(lifeline_loop_free(*loop), LIFELINE_OK);
    *loop = NULL;
}

static void client_and_loop_freed_from_a_callback(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", LOOP_NAME "-cb");
    app_loop a;
    app_loop_init(&a);
    lifeline_loop *loop = NULL;
    assert_int_equal(app_loop_new_lifeline(&a, &loop), LIFELINE_OK);
    f->cfg.loop = loop;
    f->rec.on_state_hook = free_hook;
    f->rec.hook_data = &loop;
    lifeline_client *c = NULL;
    assert_int_equal(lifeline_client_new(&f->cfg, &c), LIFELINE_OK);
    assert_int_equal(lifeline_client_start(c), LIFELINE_OK);
    run_until_state(&a, &f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    assert_null(loop);
    app_loop_finish(&a); /* returns (libuv) once the loop is gone */
    /* the free was quiet: connected was the last event */
    assert_int_equal(it_count_states(&f->rec, LIFELINE_STATE_CLOSED), 0);
    /* and a new loop can be made on this thread now */
    app_loop_init(&a);
    assert_int_equal(app_loop_new_lifeline(&a, &loop), LIFELINE_OK);
    assert_int_equal(lifeline_loop_free(loop), LIFELINE_OK);
    app_loop_finish(&a);
}

/* The close the client starts reaches the server as 1000, and its answer
 * is awaited: peer.py (raw_listen) reports the close frame it read. */
static void stop_on_the_loop_thread_closes_with_1000(void **state)
{
    it_fix *f = *state;
    f->proc = it_start_peer("raw_listen", NULL);
    assert_non_null(f->proc);
    snprintf(f->url, sizeof(f->url), "ws://127.0.0.1:%d/ws", it_proc_port(f->proc));
    it_config(&f->cfg, &f->rec, f->url);
    app_loop a;
    app_loop_init(&a);
    lifeline_loop *loop = NULL;
    assert_int_equal(app_loop_new_lifeline(&a, &loop), LIFELINE_OK);
    f->cfg.loop = loop;
    lifeline_client *c = NULL;
    assert_int_equal(lifeline_client_new(&f->cfg, &c), LIFELINE_OK);
    assert_int_equal(lifeline_client_start(c), LIFELINE_OK);
    run_until_state(&a, &f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    assert_int_equal(lifeline_client_send_text(c, "last order"), LIFELINE_OK);
    assert_int_equal(lifeline_client_stop(c, 2000), LIFELINE_OK);
    run_until_state(&a, &f->rec, LIFELINE_STATE_CLOSED, IT_QUICK, NULL);
    line_wait lw = {f->proc, "\"close_received\"", 1};
    IT_ASSERT(&f->rec, run_until(&a, lines_printed, &lw, IT_QUICK), "no close frame reached the peer");
    assert_true(it_proc_count_lines(f->proc, "\"text\":\"last order\"") == 1);
    assert_int_equal(it_proc_count_lines(f->proc, "\"code\":1000"), 1);
    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(c, &s), LIFELINE_OK);
    assert_int_equal(s.last_close_answered, 1);
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
    assert_int_equal(lifeline_loop_free(loop), LIFELINE_OK);
    app_loop_finish(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        IT_TEST(clients_connect_lose_the_server_go_down_and_recover_on_the_loop_thread),
        IT_SERVER(calls_from_another_thread_wait_for_the_loop),
        IT_SERVER(client_and_loop_freed_from_a_callback),
        IT_TEST(stop_on_the_loop_thread_closes_with_1000),
    };
    return IT_RUN(tests);
}
