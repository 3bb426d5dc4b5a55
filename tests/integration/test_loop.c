/* Several clients on one shared lifeline_loop, and what may be called from
 * inside a callback: stop is safe; lifeline_client_free() and
 * lifeline_loop_free() complete after the callback returns, and no
 * callback follows; nothing deadlocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#define CLIENTS 5

typedef struct many {
    it_rec rec[CLIENTS];
    lifeline_client *c[CLIENTS];
    char url[CLIENTS][256];
} many;

static void free_many(many *m, int n)
{
    for (int i = 0; i < n; i++) {
        if (m->c[i])
            assert_int_equal(lifeline_client_free(m->c[i]), LIFELINE_OK);
        m->c[i] = NULL;
    }
}

static void several_clients_share_one_loop_and_each_echoes(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "unused");
    assert_int_equal(lifeline_loop_new(&f->loop), LIFELINE_OK);
    many m;
    memset(&m, 0, sizeof(m));
    char name[CLIENTS][16];
    for (int i = 0; i < CLIENTS; i++) {
        snprintf(name[i], sizeof(name[i]), "client%d", i);
        it_rec_init(&m.rec[i], name[i]);
        it_url(m.url[i], sizeof(m.url[i]), f->target, f->proc, name[i]);
        lifeline_config cfg;
        it_config(&cfg, &m.rec[i], m.url[i]);
        cfg.loop = f->loop;
        assert_int_equal(lifeline_client_new(&cfg, &m.c[i]), LIFELINE_OK);
        assert_int_equal(lifeline_client_start(m.c[i]), LIFELINE_OK);
    }
    /* the loop is in use: it cannot go */
    assert_int_equal(lifeline_loop_free(f->loop), LIFELINE_ERR_STATE);
    for (int i = 0; i < CLIENTS; i++)
        IT_EXPECT_STATE(&m.rec[i], LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    char msg[64];
    for (int round = 0; round < 20; round++)
        for (int i = 0; i < CLIENTS; i++) {
            snprintf(msg, sizeof(msg), "from %d round %d", i, round);
            assert_int_equal(lifeline_client_send_text(m.c[i], msg), LIFELINE_OK);
        }
    for (int i = 0; i < CLIENTS; i++) {
        snprintf(msg, sizeof(msg), "from %d round 19", i);
        IT_ASSERT(&m.rec[i], it_wait_message(&m.rec[i], msg, IT_QUICK), "client %d: no echo", i);
        /* each got its own echoes only */
        pthread_mutex_lock(&m.rec[i].mu);
        int foreign = 0;
        char mine[32];
        snprintf(mine, sizeof(mine), "from %d ", i);
        for (size_t k = 0; k < m.rec[i].n_msg; k++)
            if (strncmp(m.rec[i].msg[k].data, "from ", 5) == 0 &&
                strncmp(m.rec[i].msg[k].data, mine, strlen(mine)) != 0)
                foreign++;
        pthread_mutex_unlock(&m.rec[i].mu);
        assert_int_equal(foreign, 0);
        IT_ASSERT(&m.rec[i], it_wait_event(&m.rec[i], IT_EV_PONG, IT_QUICK, NULL), "no pong");
    }
    /* every callback of every client ran on the one loop thread */
    for (int i = 1; i < CLIENTS; i++)
        assert_true(pthread_equal(m.rec[i].cb_thread, m.rec[0].cb_thread));
    int wrong = 0;
    for (int i = 0; i < CLIENTS; i++)
        wrong += m.rec[i].cb_wrong_thread + m.rec[i].cb_overlaps;
    free_many(&m, CLIENTS);
    for (int i = 0; i < CLIENTS; i++)
        it_rec_destroy(&m.rec[i]);
    assert_int_equal(wrong, 0);
    assert_int_equal(lifeline_loop_free(f->loop), LIFELINE_OK);
    f->loop = NULL;
}

static void one_server_going_down_leaves_the_other_clients_of_the_loop_alone(void **state)
{
    it_fix *f = *state;
    f->proc = it_start_peer("echo", NULL);
    f->proc2 = it_start_peer("echo", NULL);
    assert_non_null(f->proc);
    assert_non_null(f->proc2);
    assert_int_equal(lifeline_loop_new(&f->loop), LIFELINE_OK);
    many m;
    memset(&m, 0, sizeof(m));
    for (int i = 0; i < 2; i++) {
        it_rec_init(&m.rec[i], i ? "stays" : "loses");
        it_url(m.url[i], sizeof(m.url[i]), &it_peer_target, i ? f->proc2 : f->proc, NULL);
        lifeline_config cfg;
        it_config(&cfg, &m.rec[i], m.url[i]);
        cfg.loop = f->loop;
        assert_int_equal(lifeline_client_new(&cfg, &m.c[i]), LIFELINE_OK);
        assert_int_equal(lifeline_client_start(m.c[i]), LIFELINE_OK);
        IT_EXPECT_STATE(&m.rec[i], LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    }
    it_proc_kill(f->proc, SIGKILL);
    IT_EXPECT_STATE(&m.rec[0], LIFELINE_STATE_SERVER_DOWN, it_scaled(5000), NULL);
    /* meanwhile the other one kept its connection, its pongs and echoes */
    assert_int_equal(it_count_states(&m.rec[1], LIFELINE_STATE_DISCONNECTED), 0);
    assert_int_equal(lifeline_client_send_text(m.c[1], "unaffected"), LIFELINE_OK);
    IT_ASSERT(&m.rec[1], it_wait_message(&m.rec[1], "unaffected", IT_QUICK), "no echo");
    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(m.c[1], &s), LIFELINE_OK);
    assert_int_equal(s.state, LIFELINE_STATE_CONNECTED);
    assert_int_equal(s.ping_timeouts, 0);
    assert_true(s.pongs >= 2);
    free_many(&m, 2);
    for (int i = 0; i < 2; i++)
        it_rec_destroy(&m.rec[i]);
    assert_int_equal(lifeline_loop_free(f->loop), LIFELINE_OK);
    f->loop = NULL;
}

/* The threads of this process now (a loop's thread ends when it is freed). */
static int thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* Wait (a failure limit) until at most n threads are left. */
static int threads_back_to(int n, int timeout_ms)
{
    int64_t until = it_now_ms() + timeout_ms;
    while (thread_count() > n) {
        if (it_now_ms() > until)
            return 0;
        nanosleep(&(struct timespec){.tv_nsec = 5 * 1000000}, NULL);
    }
    return 1;
}

/* What the callback got back from the calls it made. */
typedef struct inside {
    lifeline_loop *loop;
    lifeline_client *other;  /* a client to free from this one's callback */
    int done;
    int free_rc, stop_rc, loop_free_rc, state_rc, send_rc;
    int stop_again_rc;
    size_t events_at_free;
    uint64_t messages_at_free;
} inside;

static void signal_done(it_rec *rec, inside *in)
{
    pthread_mutex_lock(&rec->mu);
    in->done = 1;
    pthread_cond_broadcast(&rec->cv);
    pthread_mutex_unlock(&rec->mu);
}

static void stop_from_on_message(it_rec *rec, lifeline_client *c, const void *data, size_t len,
                                 int bin)
{
    (void)bin;
    inside *in = rec->hook_data;
    if (len != 4 || memcmp(data, "stop", 4) != 0)
        return;
    in->stop_rc = lifeline_client_stop(c, 1000);
    in->stop_again_rc = lifeline_client_stop(c, 1000);
    in->state_rc = lifeline_client_state(c);
    in->send_rc = lifeline_client_send_text(c, "after stop");
    /* the loop's client is not freed: the loop cannot go */
    in->loop_free_rc = in->loop ? lifeline_loop_free(in->loop) : LIFELINE_ERR_STATE;
    signal_done(rec, in);
}

static int callback_returned(it_rec *rec, void *arg)
{
    (void)arg;
    return ((inside *)rec->hook_data)->done;
}

static void check_stop_inside_a_callback(it_fix *f, int shared)
{
    it_fix_start(f, "echo", shared ? "inside-shared" : "inside-own");
    inside in;
    memset(&in, 0, sizeof(in));
    if (shared) {
        assert_int_equal(lifeline_loop_new(&f->loop), LIFELINE_OK);
        f->cfg.loop = f->loop;
        in.loop = f->loop;
    }
    f->rec.hook_data = &in;
    f->rec.on_message_hook = stop_from_on_message;
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    assert_int_equal(lifeline_client_send_text(f->client, "stop"), LIFELINE_OK);

    int returned = it_wait_until(&f->rec, callback_returned, NULL, it_scaled(5000));
    if (!returned) {
        f->client = NULL; /* stuck inside the loop: freeing would hang too */
        f->loop = NULL;
        IT_FAIL(&f->rec, "the callback never returned: deadlock inside lifeline");
    }
    assert_int_equal(in.stop_rc, LIFELINE_OK);
    assert_int_equal(in.stop_again_rc, LIFELINE_OK);
    assert_int_equal(in.loop_free_rc, LIFELINE_ERR_STATE);
    assert_int_equal(in.send_rc, LIFELINE_ERR_STOPPED);
    /* the close completes after the callback */
    it_ev ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CLOSED, IT_QUICK, &ev);
    assert_int_equal(ev.error, LIFELINE_ERR_STOPPED);
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"code\":1000", IT_QUICK),
              "the peer did not see a close with 1000");
    /* and from outside, free works */
    int64_t t = it_now_ms();
    assert_int_equal(lifeline_client_free(f->client), LIFELINE_OK);
    f->client = NULL;
    IT_ASSERT(&f->rec, it_now_ms() - t < 1000, "free of a closed client took %lld ms",
              (long long)(it_now_ms() - t));
}

static void stop_inside_a_callback_is_safe(void **state)
{
    check_stop_inside_a_callback(*state, 0);
}

static void stop_inside_a_callback_on_a_shared_loop_is_safe_and_the_loop_stays(void **state)
{
    check_stop_inside_a_callback(*state, 1);
}

static void note_free(it_rec *rec, inside *in, lifeline_client *c)
{
    in->events_at_free = it_event_count(rec);
    pthread_mutex_lock(&rec->mu);
    in->messages_at_free = rec->messages;
    pthread_mutex_unlock(&rec->mu);
    in->free_rc = lifeline_client_free(c);
}

static void free_from_on_message(it_rec *rec, lifeline_client *c, const void *data, size_t len,
                                 int bin)
{
    (void)bin;
    inside *in = rec->hook_data;
    if (len != 4 || memcmp(data, "free", 4) != 0)
        return;
    note_free(rec, in, c);
    /* the free completes after this callback: the client is still there,
     * and quiet (these would have been callbacks) */
    in->send_rc = lifeline_client_send_text(c, "after free");
    signal_done(rec, in);
}

/* After the free asked for from a callback: nothing more reached the app. */
static void assert_quiet_since_free(it_fix *f, const inside *in)
{
    it_observe(&f->rec, it_scaled(300));
    assert_int_equal(it_event_count(&f->rec), in->events_at_free);
    pthread_mutex_lock(&f->rec.mu);
    uint64_t messages = f->rec.messages;
    pthread_mutex_unlock(&f->rec.mu);
    assert_int_equal(messages, in->messages_at_free + 0);
}

static void free_from_on_message_frees_the_client_after_the_callback(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "free-own");
    int threads = thread_count();
    inside in;
    memset(&in, 0, sizeof(in));
    f->rec.hook_data = &in;
    f->rec.on_message_hook = free_from_on_message;
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    assert_int_equal(lifeline_client_send_text(f->client, "queued behind"), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(f->client, "free"), LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_until(&f->rec, callback_returned, NULL, it_scaled(5000)),
              "the callback never returned");
    f->client = NULL; /* freed by its loop */
    assert_int_equal(in.free_rc, LIFELINE_OK);
    /* its own loop's thread ends with it */
    IT_ASSERT(&f->rec, threads_back_to(threads, it_scaled(5000)),
              "the client's loop thread did not end (%d threads, %d before)", thread_count(),
              threads);
    /* the server still got a close frame 1000 */
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"code\":1000", IT_QUICK),
              "the peer did not see a close with 1000");
    assert_quiet_since_free(f, &in);
}

typedef struct pair {
    inside in;
    it_rec other_rec;
} pair;

static void free_all_from_on_state(it_rec *rec, lifeline_client *c, const lifeline_state_info *info)
{
    inside *in = rec->hook_data;
    if (info->new_state != LIFELINE_STATE_CONNECTED || in->done)
        return;
    /* another client of the loop first, then this one, then the loop */
    in->send_rc = lifeline_client_free(in->other);
    note_free(rec, in, c);
    in->loop_free_rc = lifeline_loop_free(in->loop);
    signal_done(rec, in);
}

static void free_from_on_state_then_loop_free_in_the_same_callback(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "free-shared");
    int threads = thread_count();
    assert_int_equal(lifeline_loop_new(&f->loop), LIFELINE_OK);
    pair p;
    memset(&p, 0, sizeof(p));
    p.in.loop = f->loop;
    /* the other client connects first, so that it is there to be freed */
    it_rec_init(&p.other_rec, "other");
    char url[256];
    it_url(url, sizeof(url), f->target, f->proc, "other");
    lifeline_config cfg;
    it_config(&cfg, &p.other_rec, url);
    cfg.loop = f->loop;
    assert_int_equal(lifeline_client_new(&cfg, &p.in.other), LIFELINE_OK);
    assert_int_equal(lifeline_client_start(p.in.other), LIFELINE_OK);
    IT_EXPECT_STATE(&p.other_rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    size_t other_events = 0;

    f->cfg.loop = f->loop;
    f->rec.hook_data = &p.in;
    f->rec.on_state_hook = free_all_from_on_state;
    it_fix_client(f);
    IT_ASSERT(&f->rec, it_wait_until(&f->rec, callback_returned, NULL, it_scaled(5000)),
              "the callback never returned");
    other_events = it_event_count(&p.other_rec);
    f->client = NULL; /* freed by the loop, and the loop by itself */
    f->loop = NULL;
    assert_int_equal(p.in.send_rc, LIFELINE_OK); /* the other client's free */
    assert_int_equal(p.in.free_rc, LIFELINE_OK);
    assert_int_equal(p.in.loop_free_rc, LIFELINE_OK);
    IT_ASSERT(&f->rec, threads_back_to(threads, it_scaled(5000)),
              "the loop's thread did not end (%d threads, %d before)", thread_count(), threads);
    assert_quiet_since_free(f, &p.in);
    assert_int_equal(it_event_count(&p.other_rec), other_events);
    it_rec_destroy(&p.other_rec);
}

/* Restart from inside the closed callback: start() is allowed there. */
static void restart_from_closed(it_rec *rec, lifeline_client *c, const lifeline_state_info *info)
{
    int *restarts = rec->hook_data;
    if (info->new_state == LIFELINE_STATE_CLOSED && *restarts == 0) {
        *restarts = 1;
        *restarts = lifeline_client_start(c) == LIFELINE_OK ? 2 : 3;
    }
}

static void start_from_inside_the_closed_callback_connects_again(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", NULL);
    int restarts = 0;
    f->rec.hook_data = &restarts;
    f->rec.on_state_hook = restart_from_closed;
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    /* stop from outside: it returns once closed; the callback starts again */
    assert_int_equal(lifeline_client_stop(f->client, 1000), LIFELINE_OK);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CLOSED, IT_QUICK, NULL);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    assert_int_equal(restarts, 2);
    assert_int_equal(lifeline_client_send_text(f->client, "again"), LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_message(&f->rec, "again", IT_QUICK), "no echo");
}

static void free_while_retrying_returns_promptly(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", NULL);
    f->cfg.base_delay_ms = 30000;
    f->cfg.max_delay_ms = 30000;
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    it_proc_kill(f->proc, SIGKILL);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, IT_QUICK, NULL);
    int64_t t = it_now_ms();
    assert_int_equal(lifeline_client_free(f->client), LIFELINE_OK);
    f->client = NULL;
    IT_ASSERT(&f->rec, it_now_ms() - t < 500, "free while waiting to retry took %lld ms",
              (long long)(it_now_ms() - t));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        IT_BOTH(several_clients_share_one_loop_and_each_echoes),
        IT_TEST(one_server_going_down_leaves_the_other_clients_of_the_loop_alone),
        IT_PEER(stop_inside_a_callback_is_safe),
        IT_PEER(stop_inside_a_callback_on_a_shared_loop_is_safe_and_the_loop_stays),
        IT_PEER(free_from_on_message_frees_the_client_after_the_callback),
        IT_PEER(free_from_on_state_then_loop_free_in_the_same_callback),
        IT_PEER(start_from_inside_the_closed_callback_connects_again),
        IT_PEER(free_while_retrying_returns_promptly),
    };
    return IT_RUN(tests);
}
