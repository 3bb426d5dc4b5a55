/* Reconnection on real sockets: the backoff schedule, server_down and the
 * probes, recovery, accept-then-close, a handshake that never comes, and
 * reconnect-now. Timings from it_config(): base 100 ms, max 400 ms, jitter
 * 20 ms, 3 attempts, down ping 100 ms, connect timeout 1000 ms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lws_config.h>

#include "harness.h"

/* Timers never fire early; a little lateness is allowed (scaled). */
#define EARLY_MS 2
#define LATE_MS it_scaled(60)

/* The wait before attempt n with it_config(): min(100 * 2^(n-1), 400). */
static int64_t base_wait(int n)
{
    int64_t d = 100;
    for (int i = 1; i < n; i++)
        d *= 2;
    return d < 400 ? d : 400;
}

static void server_killed_retries_on_schedule_goes_down_and_recovers_by_probe(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "reconnect-user");
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);

    int64_t killed_at = it_now_ms();
    it_proc_kill(f->proc, SIGKILL);
    it_ev ev, retry, connecting;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, IT_QUICK, &ev);
    assert_int_equal(ev.old_state, LIFELINE_STATE_CONNECTED);
    /* killed: no close frame, the connection just ended */
    IT_ASSERT(&f->rec, ev.error == LIFELINE_ERR_CONNECTION_RESET,
              "lost connection reported as %s", lifeline_error_name(ev.error));

    for (int n = 1; n <= 3; n++) {
        IT_ASSERT(&f->rec, it_wait_event(&f->rec, IT_EV_RETRY, IT_QUICK, &retry),
                  "no retry %d", n);
        assert_int_equal(retry.retry_attempt, n);
        assert_int_equal(retry.probe, 0);
        IT_ASSERT(&f->rec, retry.delay_ms >= base_wait(n) && retry.delay_ms < base_wait(n) + 20,
                  "retry %d announced after %lld ms, outside [%lld, %lld)", n,
                  (long long)retry.delay_ms, (long long)base_wait(n),
                  (long long)base_wait(n) + 20);
        IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTING, IT_QUICK, &connecting);
        assert_int_equal(connecting.attempt, n);
        int64_t waited = connecting.at - retry.at;
        IT_ASSERT(&f->rec, waited >= retry.delay_ms - EARLY_MS && waited <= retry.delay_ms + LATE_MS,
                  "attempt %d started %lld ms after its retry of %lld ms", n,
                  (long long)waited, (long long)retry.delay_ms);
        int next = n < 3 ? LIFELINE_STATE_DISCONNECTED : LIFELINE_STATE_SERVER_DOWN;
        IT_EXPECT_STATE(&f->rec, next, IT_QUICK, &ev);
        assert_int_equal(ev.old_state, LIFELINE_STATE_CONNECTING);
        IT_ASSERT(&f->rec, ev.error == LIFELINE_ERR_CONNECTION_REFUSED,
                  "attempt %d failed with %s", n, lifeline_error_name(ev.error));
    }
    assert_int_equal(ev.attempt, 3);

    /* server_down: probes every down_ping_interval_ms, the state stays */
    size_t probes_seen = 0;
    int64_t prev_at = 0;
    while (probes_seen < 3) {
        IT_ASSERT(&f->rec, it_wait_event(&f->rec, IT_EV_RETRY, IT_QUICK, &retry), "no probe");
        assert_int_equal(retry.probe, 1);
        assert_int_equal(retry.delay_ms, 100);
        if (prev_at)
            IT_ASSERT(&f->rec, retry.at - prev_at >= 100 - EARLY_MS,
                      "probes %lld ms apart", (long long)(retry.at - prev_at));
        prev_at = retry.at;
        probes_seen++;
    }
    assert_int_equal(lifeline_client_state(f->client), LIFELINE_STATE_SERVER_DOWN);
    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_int_equal(s.state, LIFELINE_STATE_SERVER_DOWN);
    assert_int_equal(s.last_error, LIFELINE_ERR_CONNECTION_REFUSED);
    /* no state change while probing */
    size_t mark = it_cursor(&f->rec);
    for (size_t i = mark; i < it_event_count(&f->rec); i++) {
        it_ev e;
        it_event_at(&f->rec, i, &e);
        IT_ASSERT(&f->rec, e.kind != IT_EV_STATE, "a probe changed the state");
    }

    /* back on the same port: the next probe connects */
    int64_t back_at = it_now_ms();
    IT_ASSERT(&f->rec, it_proc_restart(f->proc), "could not restart on port %d",
              it_proc_port(f->proc));
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, it_scaled(3000), &ev);
    assert_int_equal(ev.old_state, LIFELINE_STATE_SERVER_DOWN);
    assert_int_equal(ev.error, LIFELINE_OK);
    IT_ASSERT(&f->rec, ev.at - back_at <= 100 + it_scaled(500),
              "recovered %lld ms after the server came back", (long long)(ev.at - back_at));

    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_int_equal(s.state, LIFELINE_STATE_CONNECTED);
    assert_int_equal(s.reconnections, 1);
    assert_int_equal(s.attempt, 0); /* reset by the successful probe */
    int64_t outage = ev.at - killed_at;
    IT_ASSERT(&f->rec, s.downtime_ms >= outage - 50 && s.downtime_ms <= outage + 50,
              "downtime %lld ms, outage seen %lld ms", (long long)s.downtime_ms,
              (long long)outage);

    assert_int_equal(lifeline_client_send_text(f->client, "after recovery"), LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_message(&f->rec, "after recovery", IT_QUICK), "no echo");
}

/* The connection attempts the client made, in order (CONNECTING states and
 * the probes in server_down). */
static size_t attempt_times(it_rec *rec, int64_t *at, size_t max)
{
    size_t n = 0, count = it_event_count(rec);
    for (size_t i = 0; i < count && n < max; i++) {
        it_ev e;
        it_event_at(rec, i, &e);
        if (e.kind == IT_EV_STATE && e.new_state == LIFELINE_STATE_CONNECTING)
            at[n++] = e.at;
        else if (e.kind == IT_EV_RETRY && e.probe)
            at[n++] = e.at + e.delay_ms; /* when it is due */
    }
    return n;
}

static void accept_then_close_walks_the_schedule_and_never_loops(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "accept_close", "accept-close-user");
    int64_t started = it_now_ms();
    it_fix_client(f);

    /* the first connection and 3 reconnections, then server_down */
    it_ev down;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_SERVER_DOWN, it_scaled(5000), &down);
    assert_int_equal(it_count_states(&f->rec, LIFELINE_STATE_CONNECTING), 4);
    int64_t to_down = down.at - started;
    IT_ASSERT(&f->rec, to_down >= 100 + 200 + 400 - 3 * EARLY_MS,
              "server_down after %lld ms: faster than the schedule", (long long)to_down);
    IT_ASSERT(&f->rec, down.error == LIFELINE_ERR_CLOSED_BY_PEER ||
                           down.error == LIFELINE_ERR_CONNECTION_RESET,
              "server_down with %s", lifeline_error_name(down.error));

    /* keep watching: no attempt ever follows another faster than the
     * shortest wait of the config (100 ms) */
    int64_t window = 1500;
    it_observe(&f->rec, (int)window);
    int64_t at[256];
    size_t n = attempt_times(&f->rec, at, 256);
    int64_t elapsed = it_now_ms() - started;
    it_log("%zu attempts in %lld ms", n, (long long)elapsed);
    for (size_t i = 1; i < n; i++)
        IT_ASSERT(&f->rec, at[i] - at[i - 1] >= 100 - EARLY_MS,
                  "attempts %zu and %zu only %lld ms apart", i - 1, i,
                  (long long)(at[i] - at[i - 1]));
    IT_ASSERT(&f->rec, (int64_t)n <= elapsed / 100 + 1, "%zu attempts in %lld ms", n,
              (long long)elapsed);
    if (f->target->kind == IT_PEER) {
        size_t requests = it_proc_count_lines(f->proc, "\"request\"");
        IT_ASSERT(&f->rec, (int64_t)requests <= elapsed / 100 + 1,
                  "the peer saw %zu upgrade requests in %lld ms", requests,
                  (long long)elapsed);
    }
}

/* A listening socket that never accepts: TCP connects (the kernel's
 * backlog), the WebSocket handshake never comes. */
static int blackhole(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        fail_msg("blackhole socket");
    *port = ntohs(sa.sin_port);
    return fd;
}

static void a_handshake_that_never_comes_times_out_after_connect_timeout(void **state)
{
    it_fix *f = *state;
    int port;
    int fd = blackhole(&port);
    snprintf(f->url, sizeof(f->url), "ws://127.0.0.1:%d/ws", port);
    it_config(&f->cfg, &f->rec, f->url);
    f->cfg.connect_timeout_ms = 500;
    it_fix_client(f);

    it_ev connecting, ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTING, IT_QUICK, &connecting);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, it_scaled(3000), &ev);
    close(fd);
    IT_ASSERT(&f->rec, ev.error == LIFELINE_ERR_CONNECT_TIMEOUT, "failed with %s",
              lifeline_error_name(ev.error));
    int64_t took = ev.at - connecting.at;
    IT_ASSERT(&f->rec, took >= 500 - EARLY_MS && took <= 500 + LATE_MS,
              "gave up after %lld ms, connect_timeout_ms is 500", (long long)took);
    /* and it is retried like any failure */
    it_ev retry;
    IT_ASSERT(&f->rec, it_wait_event(&f->rec, IT_EV_RETRY, IT_QUICK, &retry), "no retry");
    assert_int_equal(retry.retry_attempt, 1);
}

static void a_kiosk_that_boots_before_its_server_connects_when_it_comes(void **state)
{
    it_fix *f = *state;
    /* learn a free port from the target, then take it down */
    it_fix_start(f, "echo", "boot-user");
    it_proc_kill(f->proc, SIGKILL);
    it_fix_client(f);

    it_ev ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, IT_QUICK, &ev);
    assert_int_equal(ev.attempt, 0);
    assert_int_equal(ev.error, LIFELINE_ERR_CONNECTION_REFUSED);
    it_ev retry;
    IT_ASSERT(&f->rec, it_wait_event(&f->rec, IT_EV_RETRY, IT_QUICK, &retry), "no retry");
    assert_int_equal(retry.retry_attempt, 1);

    IT_ASSERT(&f->rec, it_proc_restart(f->proc), "could not start the server on its port");
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, it_scaled(5000), &ev);
    assert_int_equal(lifeline_client_send_text(f->client, "booted"), LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_message(&f->rec, "booted", IT_QUICK), "no echo");
}

static void reconnect_now_skips_the_wait_in_disconnected_and_server_down(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "now-user");
    /* waits long enough that only reconnect_now can explain a quick return */
    f->cfg.base_delay_ms = 20000;
    f->cfg.max_delay_ms = 20000;
    f->cfg.down_ping_interval_ms = 20000;
    f->cfg.max_attempts = 1;
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    /* nothing to skip while connected */
    assert_int_equal(lifeline_client_reconnect_now(f->client), LIFELINE_OK);

    it_proc_kill(f->proc, SIGKILL);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, IT_QUICK, NULL);
    assert_true(it_proc_restart(f->proc));
    int64_t asked = it_now_ms();
    assert_int_equal(lifeline_client_reconnect_now(f->client), LIFELINE_OK);
    it_ev ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, it_scaled(3000), &ev);
    IT_ASSERT(&f->rec, ev.at - asked < 2000, "reconnected %lld ms after reconnect_now",
              (long long)(ev.at - asked));

    /* server_down (max_attempts 1): reconnect_now probes at once. The
     * connection above was attempt 1, so it goes down at once unless it had
     * time to become stable; then reconnect_now spends attempt 1. */
    it_proc_kill(f->proc, SIGKILL);
    IT_ASSERT(&f->rec,
              it_wait_state_in(&f->rec,
                               IT_STATE_BIT(LIFELINE_STATE_DISCONNECTED) |
                                   IT_STATE_BIT(LIFELINE_STATE_SERVER_DOWN),
                               IT_QUICK, &ev),
              "the loss was not noticed");
    if (ev.new_state == LIFELINE_STATE_DISCONNECTED) {
        assert_int_equal(lifeline_client_reconnect_now(f->client), LIFELINE_OK);
        IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_SERVER_DOWN, IT_QUICK, NULL);
    }
    assert_true(it_proc_restart(f->proc));
    asked = it_now_ms();
    assert_int_equal(lifeline_client_reconnect_now(f->client), LIFELINE_OK);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, it_scaled(3000), &ev);
    assert_int_equal(ev.old_state, LIFELINE_STATE_SERVER_DOWN);
    IT_ASSERT(&f->rec, ev.at - asked < 2000, "recovered %lld ms after reconnect_now",
              (long long)(ev.at - asked));
}

/* A server that closes with 1012 ("service restart": lifeline-server's
 * drain on SIGTERM) or 1013 ("try again later") has the client reconnect
 * on its backoff schedule, as for any close by the server: the core never
 * sees the code (the transport reports a close by the server as
 * LIFELINE_ERR_CLOSED_BY_PEER, transient). libwebsockets before 4.2
 * replaces 1012-1015 with 1002 before lifeline sees them, and answers
 * that (client-parser-ws.c; fixed upstream in fb9abfdf0, "ws: accept newer
 * IANA close codes"): the reconnection is the same, the answer differs. */
static void a_close_with_1012_or_1013_is_retried_on_the_backoff_schedule(void **state)
{
    it_fix *f = *state;
    static const char *const payloads[] = {
        "03f4" "73657276696365207265737461727" "4", /* 1012 "service restart" */
        "03f5" "747279206167" "61696e206c61746572", /* 1013 "try again later" */
    };
    static const int codes[] = {1012, 1013};
    for (size_t i = 0; i < 2; i++) {
        it_log("close %d", codes[i]);
        const char *const extra[] = {"--close-payload", payloads[i], NULL};
        f->proc = it_start_peer("raw_bad_close", extra);
        assert_non_null(f->proc);
        snprintf(f->url, sizeof(f->url), "ws://127.0.0.1:%d/ws", it_proc_port(f->proc));
        it_config(&f->cfg, &f->rec, f->url);
        it_fix_client(f);
        IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
        it_ev lost, retry, again;
        IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, IT_QUICK, &lost);
        IT_ASSERT(&f->rec, lost.error == LIFELINE_ERR_CLOSED_BY_PEER, "close %d: lost with %s",
                  codes[i], lifeline_error_name(lost.error));
        IT_ASSERT(&f->rec, it_wait_event(&f->rec, IT_EV_RETRY, IT_QUICK, &retry),
                  "close %d: no retry", codes[i]);
        assert_int_equal(retry.retry_attempt, 1);
        IT_ASSERT(&f->rec, retry.delay_ms >= base_wait(1) && retry.delay_ms < base_wait(1) + 20,
                  "retry after %lld ms", (long long)retry.delay_ms);
        IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTING, IT_QUICK, &again);
        assert_int_equal(again.attempt, 1);
        IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
        assert_int_equal(it_count_states(&f->rec, LIFELINE_STATE_ERROR), 0);
        char answer[32];
        snprintf(answer, sizeof(answer), "\"code\":%d",
                 LWS_LIBRARY_VERSION_NUMBER >= 4002000 ? codes[i] : 1002);
        IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, answer, IT_QUICK),
                  "close %d: the client's answer was not %s", codes[i], answer);
        it_fix_next_client(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        IT_BOTH(server_killed_retries_on_schedule_goes_down_and_recovers_by_probe),
        IT_BOTH(accept_then_close_walks_the_schedule_and_never_loops),
        IT_TEST(a_handshake_that_never_comes_times_out_after_connect_timeout),
        IT_BOTH(a_kiosk_that_boots_before_its_server_connects_when_it_comes),
        IT_BOTH(reconnect_now_skips_the_wait_in_disconnected_and_server_down),
        IT_TEST(a_close_with_1012_or_1013_is_retried_on_the_backoff_schedule),
    };
    return IT_RUN(tests);
}
