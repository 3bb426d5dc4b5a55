/* The client layer on its own: the public API, the queue, the commands and
 * the callbacks, against a fake transport (fake_transport.c) in place of
 * libwebsockets. The test plays the transport: it reads the calls down the
 * client made, and makes the calls up (events, messages, writes, timers)
 * on the fake loop's thread. The clock is virtual. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/client_impl.h"
#include "fake_transport.h"
#include "lifeline/lifeline.h"

/* ---- what the callbacks saw, one line each ----------------------------------- */

typedef struct seen {
    pthread_mutex_t mu;
    char lines[64][160];
    int n;
    lifeline_client *free_on_state;  /* free it from on_state (connected) */
    int free_rc;
} seen;

static seen S;

static void see(const char *fmt, ...)
{
    pthread_mutex_lock(&S.mu);
    if (S.n < 64) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(S.lines[S.n++], sizeof(S.lines[0]), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&S.mu);
}

/* 1 when some line seen starts with prefix. */
static int saw(const char *prefix)
{
    pthread_mutex_lock(&S.mu);
    int found = 0;
    for (int i = 0; i < S.n && !found; i++)
        found = strncmp(S.lines[i], prefix, strlen(prefix)) == 0;
    pthread_mutex_unlock(&S.mu);
    return found;
}

static const char *line(int i)
{
    return i < S.n ? S.lines[i] : "";
}

static void on_state(lifeline_client *c, const lifeline_state_info *info, void *ud)
{
    (void)ud;
    see("state %s->%s %s: %s", lifeline_state_name(info->old_state),
        lifeline_state_name(info->new_state), lifeline_error_name(info->error), info->reason);
    if (S.free_on_state == c && info->new_state == LIFELINE_STATE_CONNECTED)
        S.free_rc = lifeline_client_free(c);
}

static void on_message(lifeline_client *c, const void *data, size_t len, int bin, void *ud)
{
    (void)c;
    (void)bin;
    (void)ud;
    see("message %.*s", (int)len, (const char *)data);
}

static void on_dropped(lifeline_client *c, const void *data, size_t len, int bin, int reason,
                       void *ud)
{
    (void)c;
    (void)bin;
    (void)ud;
    see("dropped %.*s %s", (int)len, (const char *)data, lifeline_error_name(reason));
}

static void on_log(lifeline_client *c, int level, const char *text, void *ud)
{
    (void)c;
    (void)level;
    (void)ud;
    see("log %s", text);
}

static void on_pong(lifeline_client *c, int64_t rtt, int quality, void *ud)
{
    (void)c;
    (void)ud;
    see("pong %lld %s", (long long)rtt, lifeline_quality_name(quality));
}

static int setup(void **state)
{
    (void)state;
    memset(&S, 0, sizeof(S));
    pthread_mutex_init(&S.mu, NULL);
    fake_set_now(1000);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pthread_mutex_destroy(&S.mu);
    assert_int_equal(fake_conns_alive(), 0);
    assert_int_equal(fake_loops_alive(), 0);
    return 0;
}

static lifeline_client *new_client(int policy, size_t max_messages, const char *url)
{
    lifeline_config cfg;
    lifeline_config_init(&cfg);
    cfg.url = url ? url : "ws://example.invalid/ws";
    cfg.queue_policy = policy;
    cfg.queue_max_messages = max_messages;
    cfg.on_state = on_state;
    cfg.on_message = on_message;
    cfg.on_dropped = on_dropped;
    cfg.on_pong = on_pong;
    cfg.on_log = on_log;
    cfg.log_level = LIFELINE_LOG_WARN;
    lifeline_client *c = NULL;
    assert_int_equal(lifeline_client_new(&cfg, &c), LIFELINE_OK);
    return c;
}

static void stats(lifeline_client *c, lifeline_stats *s)
{
    assert_int_equal(lifeline_client_stats(c, s), LIFELINE_OK);
}

/* On the loop thread: the attempt the client asked for opened. */
static void open_it(ll_conn *conn, void *arg)
{
    (void)arg;
    fake_event(conn, (ll_event){.type = LL_EV_OPENED, .conn_id = fake_last_id(conn)}, NULL);
}

typedef struct writes {
    int ok, n;
    char out[256];
} writes;

static void write_all(ll_conn *conn, void *arg)
{
    writes *w = arg;
    w->n = fake_write_all(conn, w->ok, w->out, sizeof(w->out));
}

static void start_and_open(lifeline_client *c, ll_conn *conn)
{
    assert_int_equal(lifeline_client_start(c), LIFELINE_OK);
    fake_settle(conn);
    assert_non_null(strstr(fake_calls(conn), "connect 1\n"));
    fake_on_loop(conn, open_it, NULL);
    fake_settle(conn);
}

/* ---- the tests ----------------------------------------------------------------- */

static void sending_while_offline_queues_and_writes_nothing(void **state)
{
    (void)state;
    lifeline_client *c = new_client(LIFELINE_QUEUE_REJECT_NEW, 10, NULL);
    ll_conn *conn = fake_conn_last();
    assert_int_equal(lifeline_client_send_text(c, "a"), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(c, "b"), LIFELINE_OK);
    fake_settle(conn);
    lifeline_stats s;
    stats(c, &s);
    assert_int_equal(s.queued_messages, 2);
    assert_int_equal(s.queued_bytes, 2);
    assert_null(strstr(fake_calls(conn), "want_write"));
    assert_null(strstr(fake_calls(conn), "connect"));
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
}

static void the_open_event_flushes_the_queue_in_order(void **state)
{
    (void)state;
    lifeline_client *c = new_client(LIFELINE_QUEUE_REJECT_NEW, 10, NULL);
    ll_conn *conn = fake_conn_last();
    assert_int_equal(lifeline_client_send_text(c, "a"), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(c, "b"), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(c, "c"), LIFELINE_OK);
    start_and_open(c, conn);
    assert_true(saw("state connecting->connected OK: connected"));
    /* the writes are asked for, and the first ping (the transport writes it
     * before the queue) */
    assert_non_null(strstr(fake_calls(conn), "want_write\nping 1\n"));
    writes w = {.ok = 1};
    fake_on_loop(conn, write_all, &w);
    assert_int_equal(w.n, 3);
    assert_string_equal(w.out, "a|b|c");
    lifeline_stats s;
    stats(c, &s);
    assert_int_equal(s.messages_sent, 3);
    assert_int_equal(s.queued_messages, 0);
    /* connected: a send asks for a write at once */
    fake_clear_calls(conn);
    assert_int_equal(lifeline_client_send_text(c, "d"), LIFELINE_OK);
    fake_settle(conn);
    assert_non_null(strstr(fake_calls(conn), "want_write"));
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
}

static void a_message_that_was_not_written_goes_again_first(void **state)
{
    (void)state;
    lifeline_client *c = new_client(LIFELINE_QUEUE_REJECT_NEW, 10, NULL);
    ll_conn *conn = fake_conn_last();
    start_and_open(c, conn);
    assert_int_equal(lifeline_client_send_text(c, "x"), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(c, "y"), LIFELINE_OK);
    writes w = {.ok = 0};
    fake_on_loop(conn, write_all, &w);
    assert_string_equal(w.out, "x");
    lifeline_stats s;
    stats(c, &s);
    assert_int_equal(s.queued_messages, 2);
    assert_int_equal(s.messages_sent, 0);
    w.ok = 1;
    fake_on_loop(conn, write_all, &w);
    assert_string_equal(w.out, "x|y");
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
}

static void drop_oldest_reports_what_it_dropped(void **state)
{
    (void)state;
    lifeline_client *c = new_client(LIFELINE_QUEUE_DROP_OLDEST, 2, NULL);
    ll_conn *conn = fake_conn_last();
    assert_int_equal(lifeline_client_send_text(c, "a"), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(c, "b"), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(c, "c"), LIFELINE_OK);
    fake_settle(conn);
    assert_int_equal(S.n, 1);
    assert_string_equal(line(0), "dropped a QUEUE_FULL");
    lifeline_stats s;
    stats(c, &s);
    assert_int_equal(s.queued_messages, 2);
    assert_int_equal(s.messages_dropped, 1);
    start_and_open(c, conn);
    writes w = {.ok = 1};
    fake_on_loop(conn, write_all, &w);
    assert_string_equal(w.out, "b|c");
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
}

static void welcome_it(ll_conn *conn, void *arg)
{
    fake_message(conn, arg);
}

/* Reliable delivery (lifeline.v1): the hello goes first; messages dropped
 * as the oldest before they were written leave a hole in the numbers the
 * writer reads from the outbox, and it writes a skip there, then the
 * rest: the server never sees a gap. */
static void a_reliable_writer_skips_what_was_dropped_unwritten(void **state)
{
    (void)state;
    lifeline_config cfg;
    lifeline_config_init(&cfg);
    cfg.url = "ws://example.invalid/ws";
    cfg.delivery = LIFELINE_DELIVERY_RELIABLE;
    cfg.queue_policy = LIFELINE_QUEUE_DROP_OLDEST;
    cfg.queue_max_messages = 3;
    cfg.on_state = on_state;
    cfg.on_dropped = on_dropped;
    lifeline_client *c = NULL;
    assert_int_equal(lifeline_client_new(&cfg, &c), LIFELINE_OK);
    ll_conn *conn = fake_conn_last();
    start_and_open(c, conn);
    writes w = {.ok = 1};
    fake_on_loop(conn, write_all, &w);
    assert_int_equal(w.n, 1);
    assert_memory_equal(w.out, "h ", 2);
    assert_non_null(strstr(w.out, " 0000000000000000 0 1")); /* new: held 1 */
    fake_on_loop(conn, welcome_it, "w 0000000000000007 0 n 1 0");
    fake_settle(conn);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(lifeline_client_send_text(c, i == 1 ? "a" : i == 2 ? "b" : "c"),
                         LIFELINE_OK);
    fake_settle(conn);
    /* nothing written yet: two more push out a and b unwritten */
    assert_int_equal(lifeline_client_send_text(c, "d"), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(c, "e"), LIFELINE_OK);
    fake_settle(conn);
    fake_on_loop(conn, write_all, &w);
    assert_string_equal(w.out, "s2|3 c|4 d|5 e");
    assert_true(saw("dropped a QUEUE_FULL"));
    assert_true(saw("dropped b QUEUE_FULL"));
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
}

static void reject_new_and_queue_off_refuse_instead_of_dropping(void **state)
{
    (void)state;
    lifeline_client *c = new_client(LIFELINE_QUEUE_REJECT_NEW, 1, NULL);
    assert_int_equal(lifeline_client_send_text(c, "a"), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(c, "b"), LIFELINE_ERR_QUEUE_FULL);
    lifeline_client *off = new_client(LIFELINE_QUEUE_OFF, 10, NULL);
    assert_int_equal(lifeline_client_send_text(off, "a"), LIFELINE_ERR_NOT_CONNECTED);
    fake_settle(fake_conn_last());
    assert_false(saw("dropped"));
    assert_int_equal(lifeline_client_free(off), LIFELINE_OK);
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
}

static void stop_reports_the_queue_as_stopped_then_closed(void **state)
{
    (void)state;
    lifeline_client *c = new_client(LIFELINE_QUEUE_REJECT_NEW, 10, NULL);
    ll_conn *conn = fake_conn_last();
    assert_int_equal(lifeline_client_start(c), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(c, "p"), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(c, "q"), LIFELINE_OK);
    fake_settle(conn);
    S.n = 0;
    /* from another thread than the loop's: it returns once closed */
    assert_int_equal(lifeline_client_stop(c, 100), LIFELINE_OK);
    assert_int_equal(lifeline_client_state(c), LIFELINE_STATE_CLOSED);
    assert_int_equal(S.n, 3);
    assert_string_equal(line(0), "dropped p STOPPED");
    assert_string_equal(line(1), "dropped q STOPPED");
    assert_string_equal(line(2), "state connecting->closed STOPPED: stopped by the application");
    assert_non_null(strstr(fake_calls(conn), "close 1 1000\n"));
    assert_int_equal(lifeline_client_send_text(c, "late"), LIFELINE_ERR_STOPPED);
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
    assert_int_equal(S.n, 3); /* nothing after closed */
}

static void fire_timer(ll_conn *conn, void *arg)
{
    (void)arg;
    fake_timer(conn);
}

static void the_timer_brings_the_core_its_deadline(void **state)
{
    (void)state;
    lifeline_client *c = new_client(LIFELINE_QUEUE_REJECT_NEW, 10, NULL);
    ll_conn *conn = fake_conn_last();
    assert_int_equal(lifeline_client_start(c), LIFELINE_OK);
    fake_settle(conn);
    /* the connect timeout (10 s by default) is the transport's timer */
    assert_non_null(strstr(fake_calls(conn), "connect 1\ntimer 11000\n"));
    fake_set_now(11000);
    fake_on_loop(conn, fire_timer, NULL);
    assert_true(saw("state connecting->disconnected CONNECT_TIMEOUT"));
    assert_non_null(strstr(fake_calls(conn), "close 1 1001\n"));
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
}

typedef struct failure {
    const char *detail, *log;
} failure;

static void fail_it(ll_conn *conn, void *arg)
{
    failure *f = arg;
    fake_log(conn, LIFELINE_LOG_WARN, f->log);
    fake_event(conn,
               (ll_event){.type = LL_EV_CONNECT_FAILED, .conn_id = fake_last_id(conn),
                          .error = LIFELINE_ERR_PROTOCOL},
               f->detail);
}

static void the_transports_words_reach_the_app_redacted(void **state)
{
    (void)state;
    lifeline_client *c = new_client(LIFELINE_QUEUE_REJECT_NEW, 10,
                                    "ws://example.invalid/ws?token=s3cr3t-t0ken");
    ll_conn *conn = fake_conn_last();
    assert_int_equal(lifeline_client_start(c), LIFELINE_OK);
    fake_settle(conn);
    failure f = {.detail = "the server echoed s3cr3t-t0ken", .log = "saw s3cr3t-t0ken"};
    fake_on_loop(conn, fail_it, &f);
    assert_true(saw("log saw ***"));
    assert_true(saw("state connecting->disconnected PROTOCOL: the server broke the WebSocket "
                    "protocol: the server echoed ***"));
    for (int i = 0; i < S.n; i++)
        assert_null(strstr(line(i), "s3cr3t"));
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
}

static void refuse_it(ll_conn *conn, void *arg)
{
    (void)arg;
    fake_event(conn,
               (ll_event){.type = LL_EV_CONNECT_FAILED, .conn_id = fake_last_id(conn),
                          .error = LIFELINE_ERR_CONNECTION_REFUSED},
               NULL);
}

static lifeline_state_info last_info;
static char last_url[128];

static void on_state_url(lifeline_client *c, const lifeline_state_info *info, void *ud)
{
    (void)c;
    (void)ud;
    see("state %s url %d %s", lifeline_state_name(info->new_state), info->url_index, info->url);
    last_info = *info;
    snprintf(last_url, sizeof(last_url), "%s", info->url);
}

static void the_transport_connects_to_the_server_the_core_chose_and_the_app_hears_which(
    void **state)
{
    (void)state;
    const char *fallbacks[] = {"ws://b.invalid/ws?token=s3cr3t", "wss://c.invalid/ws"};
    lifeline_config cfg;
    lifeline_config_init(&cfg);
    cfg.url = "ws://a.invalid/ws";
    cfg.fallback_urls = fallbacks;
    cfg.fallback_url_count = 2;
    cfg.base_delay_ms = 100;
    cfg.max_delay_ms = 100;
    cfg.jitter_ms = 0;
    cfg.on_state = on_state_url;
    lifeline_client *c = NULL;
    assert_int_equal(lifeline_client_new(&cfg, &c), LIFELINE_OK);
    ll_conn *conn = fake_conn_last();
    assert_int_equal(lifeline_client_start(c), LIFELINE_OK);
    fake_settle(conn);
    assert_true(saw("state connecting url 0 ws://a.invalid/ws"));
    fake_on_loop(conn, refuse_it, NULL); /* a refuses: b after the pass wait */
    fake_settle(conn);
    assert_true(saw("state disconnected url 0 ws://a.invalid/ws"));
    fake_set_now(1100);
    fake_on_loop(conn, fire_timer, NULL);
    fake_settle(conn);
    assert_non_null(strstr(fake_calls(conn), "connect 2 url 1\n"));
    assert_true(saw("state connecting url 1 ws://b.invalid/ws?token=***"));
    fake_on_loop(conn, refuse_it, NULL); /* b refuses: c at once */
    fake_settle(conn);
    fake_on_loop(conn, fire_timer, NULL);
    fake_settle(conn);
    assert_non_null(strstr(fake_calls(conn), "connect 3 url 2\n"));
    fake_on_loop(conn, open_it, NULL);
    fake_settle(conn);
    assert_int_equal(last_info.new_state, LIFELINE_STATE_CONNECTED);
    assert_int_equal(last_info.url_index, 2);
    assert_string_equal(last_url, "wss://c.invalid/ws");
    lifeline_stats s;
    stats(c, &s);
    assert_int_equal(s.url_index, 2);
    for (int i = 0; i < S.n; i++)
        assert_null(strstr(line(i), "s3cr3t"));
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
}

static void hello(ll_conn *conn, void *arg)
{
    (void)arg;
    fake_message(conn, "hello");
    fake_event(conn, (ll_event){.type = LL_EV_PONG, .conn_id = fake_last_id(conn), .seq = 1},
               NULL);
}

static void messages_and_pongs_reach_their_callbacks(void **state)
{
    (void)state;
    lifeline_client *c = new_client(LIFELINE_QUEUE_REJECT_NEW, 10, NULL);
    ll_conn *conn = fake_conn_last();
    start_and_open(c, conn);
    fake_set_now(1042);
    fake_on_loop(conn, hello, NULL);
    assert_true(saw("message hello"));
    assert_true(saw("pong 42 excellent"));
    lifeline_stats s;
    stats(c, &s);
    assert_int_equal(s.messages_received, 1);
    assert_int_equal(s.rtt_last_ms, 42);
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
}

/* Wait (a failure limit) until every fake loop has been freed. */
static int loops_gone(void)
{
    for (int i = 0; i < 500 && fake_loops_alive() > 0; i++)
        nanosleep(&(struct timespec){.tv_nsec = 2 * 1000000}, NULL);
    return fake_loops_alive() == 0;
}

static void free_from_a_callback_frees_after_it_and_nothing_follows(void **state)
{
    (void)state;
    lifeline_client *c = new_client(LIFELINE_QUEUE_REJECT_NEW, 10, NULL);
    ll_conn *conn = fake_conn_last();
    S.free_on_state = c;
    S.free_rc = -1;
    assert_int_equal(lifeline_client_start(c), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(c, "queued"), LIFELINE_OK);
    fake_settle(conn);
    /* the connection opens: on_state (connected) frees the client; after
     * it, the loop closes it (quiet: no on_dropped, no closed), frees it,
     * and its own loop frees itself */
    fake_on_loop(conn, open_it, NULL);
    assert_true(loops_gone());
    assert_int_equal(S.free_rc, LIFELINE_OK);
    assert_int_equal(fake_conns_alive(), 0);
    assert_string_equal(line(S.n - 1), "state connecting->connected OK: connected");
    assert_false(saw("dropped"));
    assert_false(saw("state connected->closed"));
}

static void free_from_another_thread_reports_the_queue_first(void **state)
{
    (void)state;
    lifeline_client *c = new_client(LIFELINE_QUEUE_REJECT_NEW, 10, NULL);
    assert_int_equal(lifeline_client_start(c), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(c, "queued"), LIFELINE_OK);
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
    assert_true(saw("dropped queued STOPPED"));
    assert_string_equal(line(S.n - 1), "state connecting->closed STOPPED: stopped by the application");
}

/* A job that holds the loop thread until the test lets it go. */
typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int entered, open;
    ll_conn *conn;
} gate;

static void hold_the_loop(ll_conn *conn, void *arg)
{
    (void)conn;
    gate *g = arg;
    pthread_mutex_lock(&g->mu);
    g->entered = 1;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void *hold_from_a_thread(void *arg)
{
    gate *g = arg;
    fake_on_loop(g->conn, hold_the_loop, g);
    return NULL;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void stop_says_timeout_when_the_loop_is_held_up(void **state)
{
    (void)state;
    lifeline_client *c = new_client(LIFELINE_QUEUE_REJECT_NEW, 10, NULL);
    ll_conn *conn = fake_conn_last();
    assert_int_equal(lifeline_client_start(c), LIFELINE_OK);
    fake_settle(conn);
    gate g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .conn = conn};
    pthread_t holder;
    assert_int_equal(pthread_create(&holder, NULL, hold_from_a_thread, &g), 0);
    pthread_mutex_lock(&g.mu);
    while (!g.entered)
        pthread_cond_wait(&g.cv, &g.mu);
    pthread_mutex_unlock(&g.mu);
    /* the loop is busy: the close waits for it, stop does not (0 ms for
     * the handshake, then the 5 s the loop is given to get there) */
    int64_t t0 = mono_ms();
    assert_int_equal(lifeline_client_stop(c, 0), LIFELINE_ERR_TIMEOUT);
    int64_t took = mono_ms() - t0;
    assert_true(took >= 5000 && took < 6500);
    assert_false(saw("state connecting->closed"));
    pthread_mutex_lock(&g.mu);
    g.open = 1;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    pthread_join(holder, NULL);
    /* the loop gets to it: the close completes */
    fake_settle(conn);
    assert_true(saw("state connecting->closed"));
    assert_int_equal(lifeline_client_stop(c, 0), LIFELINE_OK);
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
}

static void free_is_bounded_and_hands_the_client_to_a_held_up_loop(void **state)
{
    (void)state;
    lifeline_client *c = new_client(LIFELINE_QUEUE_REJECT_NEW, 10, NULL);
    ll_conn *conn = fake_conn_last();
    assert_int_equal(lifeline_client_start(c), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(c, "queued"), LIFELINE_OK);
    fake_settle(conn);
    gate g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .conn = conn};
    pthread_t holder;
    assert_int_equal(pthread_create(&holder, NULL, hold_from_a_thread, &g), 0);
    pthread_mutex_lock(&g.mu);
    while (!g.entered)
        pthread_cond_wait(&g.cv, &g.mu);
    pthread_mutex_unlock(&g.mu);
    /* 2 s for the close and 5 s for the loop, which never comes */
    int64_t t0 = mono_ms();
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
    int64_t took = mono_ms() - t0;
    assert_true(took >= 7000 && took < 8500);
    int before = S.n;
    pthread_mutex_lock(&g.mu);
    g.open = 1;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    pthread_join(holder, NULL);
    /* the loop gets there: it frees the client, and its own loop, quietly */
    assert_true(loops_gone());
    assert_int_equal(fake_conns_alive(), 0);
    assert_int_equal(S.n, before);
}

static void lines_kept_for_the_loop_are_counted_when_dropped(void **state)
{
    (void)state;
    lifeline_client *c = new_client(LIFELINE_QUEUE_REJECT_NEW, 10, NULL);
    ll_conn *conn = fake_conn_last();
    /* as the notifier's worker thread does, while the loop is busy */
    gate g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .conn = conn};
    pthread_t holder;
    assert_int_equal(pthread_create(&holder, NULL, hold_from_a_thread, &g), 0);
    pthread_mutex_lock(&g.mu);
    while (!g.entered)
        pthread_cond_wait(&g.cv, &g.mu);
    pthread_mutex_unlock(&g.mu);
    char text[32];
    for (int i = 0; i < LL_PENDING_LOG_LINES + 4; i++) {
        snprintf(text, sizeof(text), "worker line %d", i);
        ll_client_log_later(c, LIFELINE_LOG_WARN, text);
    }
    pthread_mutex_lock(&g.mu);
    g.open = 1;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    pthread_join(holder, NULL);
    fake_settle(conn);
    assert_true(saw("log worker line 15"));
    assert_false(saw("log worker line 16"));
    assert_true(saw("log 4 log lines dropped (more than 16 waiting)"));
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
}

static void network_changed_on_loop(ll_conn *conn, void *arg)
{
    (void)arg;
    fake_event(conn, (ll_event){.type = LL_EV_NETWORK_CHANGED}, NULL);
}

/* config.watch_network (on by default) makes the client watch through its
 * transport; the transport's report, and lifeline_client_network_changed(),
 * end the wait: the pending attempt now, keeping its number. */
static void a_network_change_ends_the_wait_from_the_watcher_or_the_app(void **state)
{
    (void)state;
    lifeline_client *c = new_client(LIFELINE_QUEUE_REJECT_NEW, 10, NULL);
    ll_conn *conn = fake_conn_last();
    fake_settle(conn);
    assert_true(fake_watching(conn));
    assert_int_equal(lifeline_client_network_changed(c), LIFELINE_OK); /* idle: nothing */
    assert_int_equal(lifeline_client_start(c), LIFELINE_OK);
    fake_settle(conn);
    fake_on_loop(conn, refuse_it, NULL);
    fake_settle(conn);
    assert_int_equal(lifeline_client_state(c), LIFELINE_STATE_DISCONNECTED);
    fake_clear_calls(conn);

    fake_on_loop(conn, network_changed_on_loop, NULL); /* the watcher's report */
    fake_settle(conn);
    assert_true(saw("state disconnected->connecting OK"));
    assert_non_null(strstr(fake_calls(conn), "connect 2\n"));
    lifeline_stats s;
    stats(c, &s);
    assert_int_equal(s.attempt, 1);

    fake_on_loop(conn, refuse_it, NULL); /* attempt 1 refused: attempt 2 waits */
    fake_settle(conn);
    fake_clear_calls(conn);
    fake_set_now(ll_now_ms() + LL_NETWORK_WINDOW_MS);
    assert_int_equal(lifeline_client_network_changed(c), LIFELINE_OK); /* the app's */
    fake_settle(conn);
    assert_non_null(strstr(fake_calls(conn), "connect 3\n"));
    stats(c, &s);
    assert_int_equal(s.attempt, 2);
    assert_int_equal(lifeline_client_network_changed(NULL), LIFELINE_ERR_INVALID_ARGUMENT);
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
}

static void watch_network_0_does_not_watch(void **state)
{
    (void)state;
    lifeline_config cfg;
    lifeline_config_init(&cfg);
    assert_int_equal(cfg.watch_network, 1);
    cfg.url = "ws://example.invalid/ws";
    cfg.watch_network = 0;
    lifeline_client *c = NULL;
    assert_int_equal(lifeline_client_new(&cfg, &c), LIFELINE_OK);
    ll_conn *conn = fake_conn_last();
    fake_settle(conn);
    assert_false(fake_watching(conn));
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(sending_while_offline_queues_and_writes_nothing),
        T(the_open_event_flushes_the_queue_in_order),
        T(a_message_that_was_not_written_goes_again_first),
        T(drop_oldest_reports_what_it_dropped),
        T(a_reliable_writer_skips_what_was_dropped_unwritten),
        T(reject_new_and_queue_off_refuse_instead_of_dropping),
        T(stop_reports_the_queue_as_stopped_then_closed),
        T(the_timer_brings_the_core_its_deadline),
        T(the_transports_words_reach_the_app_redacted),
        T(the_transport_connects_to_the_server_the_core_chose_and_the_app_hears_which),
        T(messages_and_pongs_reach_their_callbacks),
        T(free_from_a_callback_frees_after_it_and_nothing_follows),
        T(free_from_another_thread_reports_the_queue_first),
        T(stop_says_timeout_when_the_loop_is_held_up),
        T(free_is_bounded_and_hands_the_client_to_a_held_up_loop),
        T(lines_kept_for_the_loop_are_counted_when_dropped),
        T(a_network_change_ends_the_wait_from_the_watcher_or_the_app),
        T(watch_network_0_does_not_watch),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
