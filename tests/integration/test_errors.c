/* Errors: a refused upgrade (401), an oversize inbound message (1009), bad
 * URLs and bad configs, and the API's own refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void a_401_goes_to_error_and_makes_no_further_attempts(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "reject_401", "unauthorised-user");
    it_fix_client(f);
    it_ev ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_ERROR, IT_QUICK, &ev);
    assert_int_equal(ev.old_state, LIFELINE_STATE_CONNECTING);
    IT_ASSERT(&f->rec, ev.error == LIFELINE_ERR_HTTP_STATUS, "error %s",
              lifeline_error_name(ev.error));
    assert_int_equal(ev.http_status, 401);
    assert_non_null(strstr(ev.reason, "401"));

    /* several backoff windows (max 400 ms + jitter): nothing more */
    IT_ASSERT(&f->rec, it_no_state_within(&f->rec, LIFELINE_STATE_CONNECTING, 1000),
              "a refused upgrade was retried");
    assert_int_equal(it_count_states(&f->rec, LIFELINE_STATE_CONNECTING), 1);
    assert_int_equal(it_count_events(&f->rec, IT_EV_RETRY), 0);
    if (f->target->kind == IT_PEER)
        assert_int_equal(it_proc_count_lines(f->proc, "\"request\""), 1);
    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_int_equal(s.state, LIFELINE_STATE_ERROR);
    assert_int_equal(s.last_error, LIFELINE_ERR_HTTP_STATUS);
    assert_int_equal(s.last_http_status, 401);
    assert_int_equal(s.retry_in_ms, 0);

    /* the app may try again: one fresh attempt, refused the same way */
    assert_int_equal(lifeline_client_reconnect_now(f->client), LIFELINE_OK);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTING, IT_QUICK, NULL);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_ERROR, IT_QUICK, &ev);
    assert_int_equal(ev.http_status, 401);
    if (f->target->kind == IT_PEER) {
        /* the peer's line about the second request may still be on its way
         * through the pipe when the 401 has reached the client */
        int64_t until = it_now_ms() + IT_QUICK;
        while (it_proc_count_lines(f->proc, "\"request\"") < 2 && it_now_ms() < until)
            it_proc_wait_line(f->proc, "\"request\"", 50);
        assert_int_equal(it_proc_count_lines(f->proc, "\"request\""), 2);
    }
    /* and start() from error is a fresh start as well */
    assert_int_equal(lifeline_client_start(f->client), LIFELINE_OK);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_ERROR, IT_QUICK, &ev);
    assert_int_equal(ev.http_status, 401);
}

static void a_refusal_s_body_is_shown_in_the_reason_bounded_and_redacted(void **state)
{
    it_fix *f = *state;
    f->proc = it_start_peer("reject_403_body", NULL);
    assert_non_null(f->proc);
    snprintf(f->url, sizeof(f->url), "ws://127.0.0.1:%d/ws?token=s3cr3t", it_proc_port(f->proc));
    it_config(&f->cfg, &f->rec, f->url);
    it_fix_client(f);
    it_ev ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_ERROR, IT_QUICK, &ev);
    assert_int_equal(ev.error, LIFELINE_ERR_HTTP_STATUS);
    assert_int_equal(ev.http_status, 403);
    it_log("reason: %s", ev.reason);
    /* the tags and the runs of white space out, the control byte shown as
     * '?', the URL's secret redacted, the 400 x's cut short */
    IT_ASSERT(&f->rec,
              strstr(ev.reason, "the server said \"403 Forbidden token expired? for till 7 "
                                "(token=***)") != NULL,
              "reason: %s", ev.reason);
    IT_ASSERT(&f->rec, strstr(ev.reason, "s3cr3t") == NULL, "the secret was shown");
    IT_ASSERT(&f->rec, strstr(ev.reason, "...\"") != NULL, "not cut: %s", ev.reason);
    IT_ASSERT(&f->rec, strlen(ev.reason) < 200, "reason of %zu bytes", strlen(ev.reason));
}

static void a_404_on_the_upgrade_is_permanent_too(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", NULL);
    snprintf(f->url, sizeof(f->url), "ws://127.0.0.1:%d/no-such-endpoint", it_proc_port(f->proc));
    it_fix_client(f);
    it_ev ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_ERROR, IT_QUICK, &ev);
    assert_int_equal(ev.error, LIFELINE_ERR_HTTP_STATUS);
    assert_int_equal(ev.http_status, 404);
    IT_ASSERT(&f->rec, it_no_state_within(&f->rec, LIFELINE_STATE_CONNECTING, 600),
              "a 404 was retried");
}

static void an_oversize_inbound_message_closes_1009_and_is_reported(void **state)
{
    it_fix *f = *state;
    if (f->target->kind == IT_PEER) {
        const char *const extra[] = {"--oversize-bytes", "65536", NULL};
        f->proc = it_start_peer("oversize", extra);
        assert_non_null(f->proc);
        it_url(f->url, sizeof(f->url), f->target, f->proc, NULL);
        it_config(&f->cfg, &f->rec, f->url);
    } else {
        it_fix_start(f, "echo", "small");
    }
    f->cfg.max_message_bytes = 1024;
    f->cfg.max_attempts = 1; /* the peer does it again on each connection */
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);

    it_rec big_rec;
    lifeline_client *big = NULL;
    if (f->target->kind == IT_SERVER) {
        /* another client of the store broadcasts what the first cannot take */
        char url[256];
        it_rec_init(&big_rec, "broadcaster");
        it_url(url, sizeof(url), f->target, f->proc, "big");
        lifeline_config cfg;
        it_config(&cfg, &big_rec, url);
        assert_int_equal(lifeline_client_new(&cfg, &big), LIFELINE_OK);
        assert_int_equal(lifeline_client_start(big), LIFELINE_OK);
        IT_EXPECT_STATE(&big_rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
        char *msg = malloc(5000);
        int n = snprintf(msg, 5000, "{\"type\":\"broadcast\",\"data\":\"");
        memset(msg + n, 'B', 4096);
        snprintf(msg + n + 4096, 5000 - (size_t)n - 4096, "\"}");
        assert_int_equal(lifeline_client_send_text(big, msg), LIFELINE_OK);
        free(msg);
    }

    it_ev ev;
    int lost = it_wait_state_in(&f->rec,
                                IT_STATE_BIT(LIFELINE_STATE_DISCONNECTED) |
                                    IT_STATE_BIT(LIFELINE_STATE_SERVER_DOWN),
                                IT_QUICK, &ev);
    if (big) {
        assert_int_equal(lifeline_client_free(big), LIFELINE_OK);
        it_rec_destroy(&big_rec);
    }
    IT_ASSERT(&f->rec, lost, "the oversize message did not end the connection");
    IT_ASSERT(&f->rec, ev.error == LIFELINE_ERR_MESSAGE_TOO_BIG, "lost with %s",
              lifeline_error_name(ev.error));
    /* nothing of it reached the app (the server may have sent presence
     * messages, which did) */
    pthread_mutex_lock(&f->rec.mu);
    uint64_t delivered = f->rec.messages;
    int partial = 0;
    for (size_t i = 0; i < f->rec.n_msg; i++)
        if (strstr(f->rec.msg[i].data, "BBBB") || strstr(f->rec.msg[i].data, "xxxx"))
            partial++;
    pthread_mutex_unlock(&f->rec.mu);
    assert_int_equal(partial, 0);
    if (f->target->kind == IT_PEER)
        assert_int_equal(delivered, 0);
    if (f->target->kind == IT_PEER)
        IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"code\":1009", IT_QUICK),
                  "the peer did not see a close with 1009");
    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_int_equal(s.last_error, LIFELINE_ERR_MESSAGE_TOO_BIG);
    assert_int_equal(s.messages_received, delivered);
}

static void bad_urls_are_refused_by_client_new(void **state)
{
    it_fix *f = *state;
    static const char *const bad[] = {
        "", "http://127.0.0.1/ws", "https://127.0.0.1/ws", "ws://", "wss://", "ws:///path",
        "ws://:8080/ws", "ftp://127.0.0.1/", "127.0.0.1:8080", "ws//127.0.0.1/",
        "ws://127.0.0.1:99999/ws", "ws://127.0.0.1:0/ws", "ws://127.0.0.1:port/ws",
        "ws://host name/ws", "ws://127.0.0.1/ws\r\nX-Injected: 1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        it_config(&f->cfg, &f->rec, bad[i]);
        lifeline_client *c = (lifeline_client *)(uintptr_t)0x1; /* must be reset to NULL */
        int err = lifeline_client_new(&f->cfg, &c);
        if (err != LIFELINE_ERR_CONFIG_URL)
            it_log("url \"%s\": %s", bad[i], lifeline_error_name(err));
        assert_int_equal(err, LIFELINE_ERR_CONFIG_URL);
        assert_null(c);
    }
    it_config(&f->cfg, &f->rec, NULL);
    lifeline_client *c = NULL;
    assert_int_equal(lifeline_client_new(&f->cfg, &c), LIFELINE_ERR_CONFIG_URL);
    assert_null(c);
    /* and the good ones are taken (not started: nothing is contacted) */
    static const char *const good[] = {
        "ws://127.0.0.1:9/ws", "WS://127.0.0.1:9", "wss://kiosk.invalid/ws?store=1&user=2",
        "ws://[::1]:9/ws", "ws://localhost",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        it_config(&f->cfg, &f->rec, good[i]);
        int err = lifeline_client_new(&f->cfg, &c);
        if (err)
            it_log("url \"%s\": %s", good[i], lifeline_error_name(err));
        assert_int_equal(err, LIFELINE_OK);
        assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
    }
}

typedef struct bad_config {
    const char *what;
    void (*spoil)(lifeline_config *cfg);
    int error;
} bad_config;

static void neg_jitter(lifeline_config *c) { c->jitter_ms = -1; }
static void neg_stable(lifeline_config *c) { c->stable_after_ms = -5; }
static void zero_base(lifeline_config *c) { c->base_delay_ms = 0; }
static void max_below_base(lifeline_config *c) { c->max_delay_ms = 50; }
static void zero_attempts(lifeline_config *c) { c->max_attempts = 0; }
static void bad_jitter_mode(lifeline_config *c) { c->jitter_mode = 7; }
static void zero_down_ping(lifeline_config *c) { c->down_ping_interval_ms = 0; }
static void ftp_health(lifeline_config *c) { c->health_url = "ftp://127.0.0.1/health"; }
static void zero_connect_timeout(lifeline_config *c) { c->connect_timeout_ms = 0; }
static void zero_ping(lifeline_config *c) { c->ping_interval_ms = 0; }
static void timeout_not_below_interval(lifeline_config *c) { c->ping_timeout_ms = 300; }
static void rtt_inverted(lifeline_config *c) { c->rtt_good_ms = 1000; }
static void header_no_colon(lifeline_config *c)
{
    static const char *const h[] = {"X-Ok: 1", "NoColonHere"};
    c->headers = h;
    c->header_count = 2;
}
static void header_crlf(lifeline_config *c)
{
    static const char *const h[] = {"X-Evil: 1\r\nX-Injected: 2"};
    c->headers = h;
    c->header_count = 1;
}
static void header_null(lifeline_config *c)
{
    c->headers = NULL;
    c->header_count = 1;
}
static void proxy_no_port(lifeline_config *c) { c->http_proxy = "proxy.invalid"; }
static void zero_max_message(lifeline_config *c) { c->max_message_bytes = 0; }
static void zero_queue(lifeline_config *c) { c->queue_max_messages = 0; }
static void bad_queue_policy(lifeline_config *c) { c->queue_policy = 3; }
static void missing_ca(lifeline_config *c) { c->ca_file = "/nonexistent/lifeline-ca.pem"; }
static void bad_struct_size(lifeline_config *c) { c->struct_size = 8; }

static void bad_config_fields_give_their_errors(void **state)
{
    it_fix *f = *state;
    static const bad_config table[] = {
        {"negative jitter", neg_jitter, LIFELINE_ERR_CONFIG_NEGATIVE},
        {"negative stable_after", neg_stable, LIFELINE_ERR_CONFIG_NEGATIVE},
        {"zero base delay", zero_base, LIFELINE_ERR_CONFIG_BASE_DELAY},
        {"max below base", max_below_base, LIFELINE_ERR_CONFIG_MAX_DELAY},
        {"zero attempts", zero_attempts, LIFELINE_ERR_CONFIG_MAX_ATTEMPTS},
        {"jitter mode 7", bad_jitter_mode, LIFELINE_ERR_CONFIG_JITTER_MODE},
        {"zero down ping", zero_down_ping, LIFELINE_ERR_CONFIG_DOWN_PING_INTERVAL},
        {"ftp health url", ftp_health, LIFELINE_ERR_CONFIG_HEALTH_URL},
        {"zero connect timeout", zero_connect_timeout, LIFELINE_ERR_CONFIG_CONNECT_TIMEOUT},
        {"zero ping interval", zero_ping, LIFELINE_ERR_CONFIG_PING_INTERVAL},
        {"ping timeout = interval", timeout_not_below_interval, LIFELINE_ERR_CONFIG_PING_TIMEOUT},
        {"rtt good >= poor", rtt_inverted, LIFELINE_ERR_CONFIG_RTT_THRESHOLDS},
        {"header without colon", header_no_colon, LIFELINE_ERR_CONFIG_HEADER},
        {"header with CRLF", header_crlf, LIFELINE_ERR_CONFIG_HEADER},
        {"header count without headers", header_null, LIFELINE_ERR_CONFIG_HEADER},
        {"proxy without port", proxy_no_port, LIFELINE_ERR_CONFIG_PROXY},
        {"zero max message", zero_max_message, LIFELINE_ERR_CONFIG_LIMITS},
        {"zero queue", zero_queue, LIFELINE_ERR_CONFIG_LIMITS},
        {"queue policy 3", bad_queue_policy, LIFELINE_ERR_CONFIG_QUEUE},
        {"unreadable ca_file", missing_ca, LIFELINE_ERR_CONFIG_CA_FILE},
        {"struct_size", bad_struct_size, LIFELINE_ERR_CONFIG_STRUCT_SIZE},
    };
    int wrong = 0;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        it_config(&f->cfg, &f->rec, "ws://127.0.0.1:9/ws");
        table[i].spoil(&f->cfg);
        lifeline_client *c = (lifeline_client *)(uintptr_t)0x1; /* reset to NULL */
        int err = lifeline_client_new(&f->cfg, &c);
        if (err != table[i].error || c != NULL) {
            it_log("%s: %s (want %s), out %s", table[i].what, lifeline_error_name(err),
                   lifeline_error_name(table[i].error), c ? "set" : "NULL");
            wrong++;
            if (!err)
                lifeline_client_free(c);
        }
    }
    assert_int_equal(wrong, 0);
    /* no callback ever fired for a refused config */
    assert_int_equal(it_event_count(&f->rec), 0);

    lifeline_client *c = NULL;
    assert_int_equal(lifeline_client_new(NULL, &c), LIFELINE_ERR_INVALID_ARGUMENT);
    it_config(&f->cfg, &f->rec, "ws://127.0.0.1:9/ws");
    assert_int_equal(lifeline_client_new(&f->cfg, NULL), LIFELINE_ERR_INVALID_ARGUMENT);
}

static void the_api_refuses_what_the_state_does_not_allow(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "api-user");
    assert_int_equal(lifeline_client_new(&f->cfg, &f->client), LIFELINE_OK);
    lifeline_client *c = f->client;
    assert_int_equal(lifeline_client_state(c), LIFELINE_STATE_IDLE);
    assert_int_equal(lifeline_client_reconnect_now(c), LIFELINE_ERR_STATE);
    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(c, &s), LIFELINE_OK);
    assert_int_equal(s.state, LIFELINE_STATE_IDLE);
    assert_int_equal(lifeline_client_stats(c, NULL), LIFELINE_ERR_INVALID_ARGUMENT);
    assert_int_equal(lifeline_client_stats(NULL, &s), LIFELINE_ERR_INVALID_ARGUMENT);
    assert_int_equal(lifeline_client_send(c, NULL, 3, 0), LIFELINE_ERR_INVALID_ARGUMENT);
    assert_int_equal(lifeline_client_send_text(c, NULL), LIFELINE_ERR_INVALID_ARGUMENT);
    assert_int_equal(lifeline_client_send_text(NULL, "x"), LIFELINE_ERR_INVALID_ARGUMENT);
    assert_int_equal(lifeline_client_start(NULL), LIFELINE_ERR_INVALID_ARGUMENT);
    assert_int_equal(lifeline_client_stop(NULL, 0), LIFELINE_ERR_INVALID_ARGUMENT);
    assert_int_equal(lifeline_client_free(NULL), LIFELINE_OK);
    assert_int_equal(lifeline_loop_new(NULL), LIFELINE_ERR_INVALID_ARGUMENT);
    assert_int_equal(lifeline_loop_free(NULL), LIFELINE_OK);

    assert_int_equal(lifeline_client_start(c), LIFELINE_OK);
    assert_int_equal(lifeline_client_start(c), LIFELINE_ERR_STATE);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    assert_int_equal(lifeline_client_start(c), LIFELINE_ERR_STATE);

    /* stop, then start again from closed */
    assert_int_equal(lifeline_client_stop(c, 1000), LIFELINE_OK);
    assert_int_equal(lifeline_client_state(c), LIFELINE_STATE_CLOSED);
    assert_int_equal(lifeline_client_reconnect_now(c), LIFELINE_ERR_STATE);
    assert_int_equal(lifeline_client_send_text(c, "closed"), LIFELINE_ERR_STOPPED);
    assert_int_equal(lifeline_client_start(c), LIFELINE_OK);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    assert_int_equal(lifeline_client_send_text(c, "restarted"), LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_message(&f->rec, "restarted", IT_QUICK), "no echo");

    /* stop from idle: straight to closed (its own recorder: its own thread) */
    it_rec idle_rec;
    it_rec_init(&idle_rec, "idle");
    lifeline_config cfg;
    it_config(&cfg, &idle_rec, f->url);
    lifeline_client *idle = NULL;
    assert_int_equal(lifeline_client_new(&cfg, &idle), LIFELINE_OK);
    assert_int_equal(lifeline_client_stop(idle, 0), LIFELINE_OK);
    assert_int_equal(lifeline_client_state(idle), LIFELINE_STATE_CLOSED);
    assert_int_equal(lifeline_client_free(idle), LIFELINE_OK);
    assert_int_equal(it_count_states(&idle_rec, LIFELINE_STATE_CLOSED), 1);
    assert_int_equal(idle_rec.cb_wrong_thread, 0);
    it_rec_destroy(&idle_rec);
}

static void an_unresolvable_host_is_a_dns_error_and_is_retried(void **state)
{
    it_fix *f = *state;
    /* .invalid never resolves (RFC 6761) */
    it_config(&f->cfg, &f->rec, "ws://lifeline-test.invalid:9/ws");
    f->cfg.connect_timeout_ms = 3000;
    it_fix_client(f);
    it_ev ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, it_scaled(8000), &ev);
    IT_ASSERT(&f->rec, ev.error == LIFELINE_ERR_DNS, "failed with %s",
              lifeline_error_name(ev.error));
    it_ev retry;
    IT_ASSERT(&f->rec, it_wait_event(&f->rec, IT_EV_RETRY, IT_QUICK, &retry), "no retry");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        IT_BOTH(a_401_goes_to_error_and_makes_no_further_attempts),
        IT_SERVER(a_404_on_the_upgrade_is_permanent_too),
        IT_TEST(a_refusal_s_body_is_shown_in_the_reason_bounded_and_redacted),
        IT_TEST(bad_urls_are_refused_by_client_new),
        IT_TEST(bad_config_fields_give_their_errors),
        IT_PEER(the_api_refuses_what_the_state_does_not_allow),
        IT_TEST(an_unresolvable_host_is_a_dns_error_and_is_retried),
        /* last: a crash here would hide the tests after it */
        IT_BOTH(an_oversize_inbound_message_closes_1009_and_is_reported),
    };
    return IT_RUN(tests);
}
