/* Several clients on one shared lifeline_loop, and what may be called from
 * inside a callback: stop is safe, free returns LIFELINE_ERR_IN_CALLBACK,
 * and neither deadlocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

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

/* What the callback got back from the calls it made. */
typedef struct inside {
    lifeline_loop *loop;
    int done;
    int free_rc, stop_rc, loop_free_rc, state_rc, send_rc;
    int stop_again_rc;
} inside;

static void stop_and_free_from_on_message(it_rec *rec, lifeline_client *c, const void *data,
                                          size_t len, int bin)
{
    (void)bin;
    inside *in = rec->hook_data;
    if (len != 4 || memcmp(data, "stop", 4) != 0)
        return;
    in->free_rc = lifeline_client_free(c);
    in->stop_rc = lifeline_client_stop(c, 1000);
    in->stop_again_rc = lifeline_client_stop(c, 1000);
    in->state_rc = lifeline_client_state(c);
    in->send_rc = lifeline_client_send_text(c, "after stop");
    in->loop_free_rc = in->loop ? lifeline_loop_free(in->loop) : LIFELINE_ERR_IN_CALLBACK;
    pthread_mutex_lock(&rec->mu);
    in->done = 1;
    pthread_cond_broadcast(&rec->cv);
    pthread_mutex_unlock(&rec->mu);
}

static int callback_returned(it_rec *rec, void *arg)
{
    (void)arg;
    return ((inside *)rec->hook_data)->done;
}

static void check_stop_and_free_inside_a_callback(it_fix *f, int shared)
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
    f->rec.on_message_hook = stop_and_free_from_on_message;
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    assert_int_equal(lifeline_client_send_text(f->client, "stop"), LIFELINE_OK);

    int returned = it_wait_until(&f->rec, callback_returned, NULL, it_scaled(5000));
    if (!returned) {
        f->client = NULL; /* stuck inside the loop: freeing would hang too */
        f->loop = NULL;
        IT_FAIL(&f->rec, "the callback never returned: deadlock inside lifeline");
    }
    assert_int_equal(in.free_rc, LIFELINE_ERR_IN_CALLBACK);
    assert_int_equal(in.stop_rc, LIFELINE_OK);
    assert_int_equal(in.stop_again_rc, LIFELINE_OK);
    assert_int_equal(in.loop_free_rc, LIFELINE_ERR_IN_CALLBACK);
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

static void stop_inside_a_callback_is_safe_and_free_is_refused(void **state)
{
    check_stop_and_free_inside_a_callback(*state, 0);
}

static void stop_inside_a_callback_on_a_shared_loop_is_safe_and_frees_are_refused(void **state)
{
    check_stop_and_free_inside_a_callback(*state, 1);
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
        IT_PEER(stop_inside_a_callback_is_safe_and_free_is_refused),
        IT_PEER(stop_inside_a_callback_on_a_shared_loop_is_safe_and_frees_are_refused),
        IT_PEER(start_from_inside_the_closed_callback_connects_again),
        IT_PEER(free_while_retrying_returns_promptly),
    };
    return IT_RUN(tests);
}
