/* How alerts are delivered, against the fake Discord: 429 honoured (from
 * the body, the header, the webhook's bucket), 5xx and unanswered requests
 * retried a bounded number of times with backoff, other 4xx given up at
 * once, 404 ending the channel for good, a hanging or refusing webhook
 * changing nothing in the client's own schedule, a bounded queue, and the
 * webhook's token kept out of every text the app sees.
 *
 * Notifier policy under test (src/notify): 429 waits retry_after (body, or
 * the Retry-After header; seconds, fractional), at most 5 rate limits and
 * 60 s; 5xx and network errors: 3 retries after 1 s, 2 s, 4 s; connect
 * timeout 5 s, 10 s per attempt; 16 alerts queued. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"

#define URL_PASSWORD "pw-Hunter2-kiosk"
#define URL_QUERY_TOKEN "qtok-7f3a9c1e5b2d8f4a"

/* Timers and waits never end early; a little lateness is allowed. */
#define EARLY_MS 2

static char hook[512];

/* The peer up (echo), the fake up with fake_extra, a client connected with
 * its webhook at the fake as id/token. */
static void connected_with_hook(it_fix *f, const char *const *fake_extra, const char *token)
{
    it_fix_start(f, "echo", "delivery-user");
    f->proc2 = al_fake_start(fake_extra);
    al_webhook_url(hook, sizeof(hook), f->proc2, AL_HOOK_ID, token);
    f->cfg.discord_webhook_url = hook;
    al_attach(f);
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
}

static al_note wait_note(it_fix *f, size_t i, int timeout_ms)
{
    AL_ASSERT(f, al_wait_notes(f, i + 1, timeout_ms), "no on_notify result %zu within %d ms", i,
              timeout_ms);
    return al_note_at(f, i);
}

static void expect(it_fix *f, const al_note *n, const char *kind, int ok, int http_status,
                   int attempts, const char *detail)
{
    AL_ASSERT(f, strcmp(n->kind, kind) == 0 && n->ok == ok && n->http_status == http_status &&
                     (attempts < 0 || n->attempts == attempts) &&
                     (!detail || strstr(n->detail, detail)),
              "on_notify %s ok %d HTTP %d, %d attempts, \"%s\"; expected %s ok %d HTTP %d, "
              "%d attempts, \"%s\"",
              n->kind, n->ok, n->http_status, n->attempts, n->detail, kind, ok, http_status,
              attempts, detail ? detail : "*");
}

/* The gap between the arrivals of deliveries i and i + 1 is at least
 * min_ms and at most min_ms + slack_ms. */
static void expect_gap(it_fix *f, const cJSON *reqs, int i, double min_ms, double slack_ms)
{
    double gap = al_req_arrival(reqs, i + 1) - al_req_arrival(reqs, i);
    it_log("deliveries %d and %d: %.1f ms apart (expected %.0f + up to %.0f)", i, i + 1, gap,
           min_ms, slack_ms);
    AL_ASSERT(f, gap >= min_ms - EARLY_MS, "deliveries %d and %d only %.1f ms apart, not %.0f", i,
              i + 1, gap, min_ms);
    AL_ASSERT(f, gap <= min_ms + slack_ms, "deliveries %d and %d %.1f ms apart, not %.0f", i,
              i + 1, gap, min_ms);
}

static void expect_statuses(it_fix *f, const cJSON *reqs, const int *want, int n)
{
    AL_ASSERT(f, cJSON_GetArraySize(reqs) == n, "%d deliveries, expected %d",
              cJSON_GetArraySize(reqs), n);
    for (int i = 0; i < n; i++)
        AL_ASSERT(f, al_req_status(reqs, i) == want[i], "delivery %d answered %d (%s), not %d", i,
                  al_req_status(reqs, i), al_req_outcome(reqs, i), want[i]);
}

/* ---- 429 ------------------------------------------------------------------ */

static void rate_limited_once(it_fix *f, const char *where)
{
    connected_with_hook(f, NULL, AL_HOOK_TOKEN);
    char mode[160];
    snprintf(mode, sizeof(mode),
             "{\"mode\":\"ratelimit\",\"retry_after\":1.5,\"count\":1,\"where\":\"%s\"}", where);
    al_fake_control(f->proc2, mode);
    assert_int_equal(lifeline_client_alert(f->client, "Rate limited", "once"), LIFELINE_OK);
    al_note n = wait_note(f, 0, 1500 + IT_QUICK);
    expect(f, &n, "custom", 1, 204, 2, "delivered");
    cJSON *reqs = al_fake_requests(f->proc2);
    const int want[] = {429, 204};
    expect_statuses(f, reqs, want, 2);
    /* 1.5 s, not 1 s or 2 s: the fraction counts */
    expect_gap(f, reqs, 0, 1500, it_scaled(400));
    assert_int_equal(lifeline_client_state(f->client), LIFELINE_STATE_CONNECTED);
}

static void a_429_waits_the_retry_after_of_the_body(void **state)
{
    rate_limited_once(*state, "body");
}

static void a_429_waits_the_retry_after_header(void **state)
{
    rate_limited_once(*state, "header");
}

static void a_429_with_both_waits_the_body_value(void **state)
{
    rate_limited_once(*state, "both");
}

static void a_burst_of_alerts_respects_the_webhook_bucket(void **state)
{
    it_fix *f = *state;
    /* the fake's bucket is Discord's webhook default: 5 per 2 s */
    connected_with_hook(f, NULL, AL_HOOK_TOKEN);
    for (int i = 0; i < 7; i++)
        assert_int_equal(lifeline_client_alert(f->client, "Burst", "one of seven"), LIFELINE_OK);
    AL_ASSERT(f, al_wait_notes(f, 7, it_scaled(10000)), "%zu of 7 results", al_note_count(f));
    for (size_t i = 0; i < 7; i++) {
        al_note n = al_note_at(f, i);
        expect(f, &n, "custom", 1, 204, i == 5 ? 2 : 1, "delivered");
    }
    cJSON *reqs = al_fake_requests(f->proc2);
    const int want[] = {204, 204, 204, 204, 204, 429, 204, 204};
    expect_statuses(f, reqs, want, 8);
    /* the retry comes once the window of the first five is over */
    double since_first = al_req_arrival(reqs, 6) - al_req_arrival(reqs, 0);
    AL_ASSERT(f, since_first >= 2000 - EARLY_MS, "retried %.1f ms after the window opened",
              since_first);
    AL_ASSERT(f, since_first <= 2000 + it_scaled(500), "retried %.1f ms after the window opened",
              since_first);
}

static void five_rate_limits_in_a_row_are_given_up_on_the_sixth(void **state)
{
    it_fix *f = *state;
    connected_with_hook(f, NULL, AL_HOOK_TOKEN);
    al_fake_control(f->proc2,
                    "{\"mode\":\"ratelimit\",\"retry_after\":0.1,\"count\":10,\"where\":\"body\"}");
    assert_int_equal(lifeline_client_alert(f->client, "Rate limited", "six times"), LIFELINE_OK);
    al_note n = wait_note(f, 0, IT_QUICK);
    expect(f, &n, "custom", 0, 429, 6, NULL);
    cJSON *reqs = al_fake_requests(f->proc2);
    const int want[] = {429, 429, 429, 429, 429, 429};
    expect_statuses(f, reqs, want, 6);
    for (int i = 0; i < 5; i++)
        expect_gap(f, reqs, i, 100, it_scaled(300));
    it_observe(&f->rec, 500);
    assert_int_equal(al_fake_count(f->proc2), 6);
}

static void a_retry_after_over_60_s_is_given_up_at_once(void **state)
{
    it_fix *f = *state;
    connected_with_hook(f, NULL, AL_HOOK_TOKEN);
    al_fake_control(f->proc2,
                    "{\"mode\":\"ratelimit\",\"retry_after\":61,\"count\":1,\"where\":\"both\"}");
    assert_int_equal(lifeline_client_alert(f->client, "Rate limited", "for a minute"), LIFELINE_OK);
    al_note n = wait_note(f, 0, IT_QUICK);
    expect(f, &n, "custom", 0, 429, 1, NULL);
    it_observe(&f->rec, 300);
    assert_int_equal(al_fake_count(f->proc2), 1);
}

/* ---- 5xx, unanswered, other 4xx --------------------------------------------------- */

static void server_errors_are_retried_three_times_then_given_up(void **state)
{
    it_fix *f = *state;
    connected_with_hook(f, NULL, AL_HOOK_TOKEN);
    al_fake_control(f->proc2, "{\"mode\":\"status\",\"status\":500,\"count\":10}");
    size_t pongs_before = it_count_events(&f->rec, IT_EV_PONG);
    assert_int_equal(lifeline_client_alert(f->client, "Server errors", "retried"), LIFELINE_OK);
    al_note n = wait_note(f, 0, 7000 + IT_QUICK);
    expect(f, &n, "custom", 0, 500, 4, "refused");
    cJSON *reqs = al_fake_requests(f->proc2);
    const int want[] = {500, 500, 500, 500};
    expect_statuses(f, reqs, want, 4);
    expect_gap(f, reqs, 0, 1000, it_scaled(400));
    expect_gap(f, reqs, 1, 2000, it_scaled(400));
    expect_gap(f, reqs, 2, 4000, it_scaled(400));
    /* given up: no fifth attempt */
    it_observe(&f->rec, 1000);
    assert_int_equal(al_fake_count(f->proc2), 4);
    assert_int_equal(al_note_count(f), 1);
    /* meanwhile the connection kept its heartbeat */
    assert_int_equal(it_count_states(&f->rec, LIFELINE_STATE_DISCONNECTED), 0);
    size_t pongs = it_count_events(&f->rec, IT_EV_PONG) - pongs_before;
    AL_ASSERT(f, pongs >= 15, "only %zu pongs in 8 s of retries", pongs);
}

static void an_unanswered_request_is_retried_then_delivered(void **state)
{
    it_fix *f = *state;
    connected_with_hook(f, NULL, AL_HOOK_TOKEN);
    al_fake_control(f->proc2, "{\"mode\":\"close\",\"count\":2}");
    assert_int_equal(lifeline_client_alert(f->client, "Closed", "twice"), LIFELINE_OK);
    al_note n = wait_note(f, 0, 3000 + IT_QUICK);
    expect(f, &n, "custom", 1, 204, 3, "delivered");
    cJSON *reqs = al_fake_requests(f->proc2);
    const int want[] = {0, 0, 204};
    expect_statuses(f, reqs, want, 3);
    AL_ASSERT(f, strcmp(al_req_outcome(reqs, 0), "closed") == 0, "first %s",
              al_req_outcome(reqs, 0));
    expect_gap(f, reqs, 0, 1000, it_scaled(400));
    expect_gap(f, reqs, 1, 2000, it_scaled(400));
}

/* An attempt is bounded by the 10 s total timeout; then it counts as a
 * network error: retried after 1 s. */
static void a_hanging_attempt_times_out_after_10_s_and_is_retried(void **state)
{
    it_fix *f = *state;
    connected_with_hook(f, NULL, AL_HOOK_TOKEN);
    al_fake_control(f->proc2, "{\"mode\":\"hang\",\"count\":1}");
    assert_int_equal(lifeline_client_alert(f->client, "Slow", "webhook"), LIFELINE_OK);
    al_note n = wait_note(f, 0, 11000 + IT_QUICK);
    expect(f, &n, "custom", 1, 204, 2, "delivered");
    cJSON *reqs = al_fake_requests(f->proc2);
    AL_ASSERT(f, cJSON_GetArraySize(reqs) == 2, "%d deliveries", cJSON_GetArraySize(reqs));
    AL_ASSERT(f, strcmp(al_req_outcome(reqs, 0), "hanging") == 0, "first %s",
              al_req_outcome(reqs, 0));
    assert_int_equal(al_req_status(reqs, 1), 204);
    expect_gap(f, reqs, 0, 10000 + 1000, it_scaled(500));
    assert_int_equal(it_count_states(&f->rec, LIFELINE_STATE_DISCONNECTED), 0);
}

static void a_403_is_given_up_at_once(void **state)
{
    it_fix *f = *state;
    connected_with_hook(f, NULL, AL_HOOK_TOKEN);
    al_fake_control(f->proc2, "{\"mode\":\"status\",\"status\":403,\"count\":5}");
    assert_int_equal(lifeline_client_alert(f->client, "Forbidden", "not retried"), LIFELINE_OK);
    al_note n = wait_note(f, 0, IT_QUICK);
    expect(f, &n, "custom", 0, 403, 1, "refused");
    /* a retry would come after 1 s */
    it_observe(&f->rec, 1300);
    assert_int_equal(al_fake_count(f->proc2), 1);
    /* the channel stays usable */
    assert_int_equal(lifeline_client_alert(f->client, "Again", "later"), LIFELINE_OK);
    n = wait_note(f, 1, IT_QUICK);
    expect(f, &n, "custom", 0, 403, 1, "refused");
}

/* ---- 404: the webhook was deleted ---------------------------------------------- */

static void an_unknown_webhook_ends_the_channel(void **state)
{
    it_fix *f = *state;
    /* a token the fake does not know: Discord's answer for a deleted webhook */
    connected_with_hook(f, NULL, "deleted-webhook-token-0123456789");
    assert_int_equal(lifeline_client_alert(f->client, "First", "to a deleted webhook"),
                     LIFELINE_OK);
    al_note n = wait_note(f, 0, IT_QUICK);
    expect(f, &n, "custom", 0, 404, 1, "gone");
    cJSON *reqs = al_fake_requests(f->proc2);
    AL_ASSERT(f, strstr(al_req_answer(reqs, 0), "10015") != NULL, "the fake answered %s",
              al_req_answer(reqs, 0));

    /* never used again: refused at once, without a callback */
    assert_int_equal(lifeline_client_alert(f->client, "Second", "refused"),
                     LIFELINE_ERR_NOTIFY_GONE);

    /* an outage: the down alert is not posted, and says why */
    it_proc_kill(f->proc, SIGKILL);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_SERVER_DOWN, IT_QUICK, NULL);
    n = wait_note(f, 1, IT_QUICK);
    AL_ASSERT(f, strcmp(n.kind, "down") == 0 && !n.ok && n.attempts == 0,
              "down alert: %s ok %d, %d attempts", n.kind, n.ok, n.attempts);
    AL_ASSERT(f, strstr(n.detail, "404") || strstr(n.detail, "gone"), "detail %s", n.detail);
    IT_ASSERT(&f->rec, it_proc_restart(f->proc), "could not restart the peer");
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, it_scaled(3000), NULL);
    /* no recovered alert follows a down alert that was never sent */
    it_observe(&f->rec, 500);
    AL_ASSERT(f, al_note_count(f) == 2, "%zu results", al_note_count(f));
    AL_ASSERT(f, al_fake_count(f->proc2) == 1, "%zu deliveries after the 404",
              al_fake_count(f->proc2));
    /* the log says it once, as an error */
    size_t errors = al_count_lines(f, LIFELINE_LOG_ERROR, "404");
    AL_ASSERT(f, errors == 1, "%zu error lines about the 404", errors);
    assert_int_equal(al_contract_breaks(f), 0);
}

/* ---- a webhook that hangs or refuses changes nothing in the client ---------------- */

typedef struct step {
    int kind; /* IT_EV_STATE or IT_EV_RETRY */
    int state, attempt, error, probe;
    int64_t delay, at; /* at: ms after the kill */
} step;

typedef struct run {
    step steps[64];
    size_t n;
    int64_t free_ms;
    size_t deliveries;       /* the fake's, before the client was freed */
    char outcome[16];        /* of the first delivery */
    char failed[160];        /* empty when every wait succeeded */
} run;

/* Connect to a fresh peer, kill it, and record the client's steps until the
 * fifth probe of server_down; then free the client (timed). No assertion
 * here: everything is cleaned up first, the caller checks. */
static void schedule_run(const char *hook_url, it_proc *fake, run *out)
{
    memset(out, 0, sizeof(*out));
    it_rec rec;
    it_rec_init(&rec, hook_url ? "with a webhook" : "without alerts");
    lifeline_client *c = NULL;
    it_proc *peer = it_start_peer("echo", NULL);
    if (!peer) {
        snprintf(out->failed, sizeof(out->failed), "no peer");
        goto done;
    }
    char url[128];
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/ws", it_proc_port(peer));
    lifeline_config cfg;
    it_config(&cfg, &rec, url);
    cfg.random_seed = 20240501; /* the same jitter in every run */
    cfg.discord_webhook_url = hook_url;
    if (lifeline_client_new(&cfg, &c) != LIFELINE_OK || lifeline_client_start(c) != LIFELINE_OK) {
        snprintf(out->failed, sizeof(out->failed), "client_new or start failed");
        goto done;
    }
    if (!it_wait_state(&rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL)) {
        snprintf(out->failed, sizeof(out->failed), "never connected");
        goto done;
    }
    size_t from = it_event_count(&rec);
    int64_t killed = it_now_ms();
    it_proc_kill(peer, SIGKILL);
    if (!it_wait_state(&rec, LIFELINE_STATE_SERVER_DOWN, IT_QUICK, NULL)) {
        snprintf(out->failed, sizeof(out->failed), "never server_down");
        goto done;
    }
    for (int i = 0; i < 5; i++) {
        it_ev ev;
        if (!it_wait_event(&rec, IT_EV_RETRY, IT_QUICK, &ev) || !ev.probe) {
            snprintf(out->failed, sizeof(out->failed), "probe %d missing", i);
            goto done;
        }
    }
    size_t upto = it_cursor(&rec);
    for (size_t i = from; i < upto && out->n < 64; i++) {
        it_ev e;
        it_event_at(&rec, i, &e);
        if (e.kind != IT_EV_STATE && e.kind != IT_EV_RETRY)
            continue;
        out->steps[out->n++] = (step){e.kind, e.new_state, e.kind == IT_EV_STATE ? e.attempt
                                                                                 : e.retry_attempt,
                                      e.error, e.probe, e.delay_ms, e.at - killed};
    }
    if (fake) {
        cJSON *reqs = al_fake_requests(fake);
        out->deliveries = (size_t)cJSON_GetArraySize(reqs);
        snprintf(out->outcome, sizeof(out->outcome), "%s",
                 out->deliveries ? al_req_outcome(reqs, 0) : "");
    }
done:
    if (c) {
        int64_t t0 = it_now_ms();
        lifeline_client_free(c);
        out->free_ms = it_now_ms() - t0;
    }
    it_proc_free(peer);
    it_rec_destroy(&rec);
}

static void describe_step(const step *s, char *buf, size_t n)
{
    if (s->kind == IT_EV_STATE)
        snprintf(buf, n, "+%5lld ms state %s attempt %d %s", (long long)s->at,
                 lifeline_state_name(s->state), s->attempt, lifeline_error_name(s->error));
    else
        snprintf(buf, n, "+%5lld ms %s %d in %lld ms", (long long)s->at,
                 s->probe ? "probe" : "retry", s->attempt, (long long)s->delay);
}

static void print_runs(const run *a, const run *b)
{
    size_t n = a->n > b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++) {
        char da[128] = "", db[128] = "";
        if (i < a->n)
            describe_step(&a->steps[i], da, sizeof(da));
        if (i < b->n)
            describe_step(&b->steps[i], db, sizeof(db));
        fprintf(stderr, "#   %-52s | %s\n", da, db);
    }
}

static void same_schedule(const run *a, const run *b)
{
    if (a->failed[0] || b->failed[0])
        fail_msg("a run failed: \"%s\" / \"%s\"", a->failed, b->failed);
    int same = a->n == b->n && a->n >= 10;
    int64_t margin = it_scaled(60), worst = 0;
    for (size_t i = 0; same && i < a->n; i++) {
        const step *x = &a->steps[i], *y = &b->steps[i];
        same = x->kind == y->kind && x->state == y->state && x->attempt == y->attempt &&
               x->error == y->error && x->probe == y->probe && x->delay == y->delay;
        int64_t d = x->at > y->at ? x->at - y->at : y->at - x->at;
        if (d > worst)
            worst = d;
    }
    it_log("schedules: %zu and %zu steps, worst timing difference %lld ms", a->n, b->n,
           (long long)worst);
    if (!same || worst > margin) {
        print_runs(a, b);
        fail_msg("the schedule with the webhook differs from the one without (worst %lld ms)",
                 (long long)worst);
    }
}

static void a_hanging_webhook_changes_nothing_in_the_reconnect_schedule(void **state)
{
    it_fix *f = *state;
    static run without, with;
    schedule_run(NULL, NULL, &without);
    f->proc2 = al_fake_start(NULL);
    al_fake_control(f->proc2, "{\"mode\":\"hang\"}");
    al_webhook_url(hook, sizeof(hook), f->proc2, AL_HOOK_ID, AL_HOOK_TOKEN);
    schedule_run(hook, f->proc2, &with);
    same_schedule(&without, &with);
    /* the down alert was posted and hung the whole time */
    assert_int_equal(with.deliveries, 1);
    assert_string_equal(with.outcome, "hanging");
    it_log("free: %lld ms without alerts, %lld ms with the webhook hanging",
           (long long)without.free_ms, (long long)with.free_ms);
    if (with.free_ms >= 3000)
        fail_msg("lifeline_client_free took %lld ms with a hanging webhook",
                 (long long)with.free_ms);
}

static void a_refusing_webhook_changes_nothing_in_the_reconnect_schedule(void **state)
{
    (void)state;
    static run without, with;
    schedule_run(NULL, NULL, &without);
    char refused[256];
    snprintf(refused, sizeof(refused), "http://127.0.0.1:%d/api/webhooks/%s/%s", al_closed_port(),
             AL_HOOK_ID, AL_HOOK_TOKEN);
    schedule_run(refused, NULL, &with);
    same_schedule(&without, &with);
    it_log("free: %lld ms without alerts, %lld ms with the webhook refusing",
           (long long)without.free_ms, (long long)with.free_ms);
    if (with.free_ms >= 3000)
        fail_msg("lifeline_client_free took %lld ms with a refusing webhook",
                 (long long)with.free_ms);
}

/* ---- the queue --------------------------------------------------------------------- */

static int pongs_reached(it_rec *rec, void *arg)
{
    return rec->pongs >= *(uint64_t *)arg;
}

static void the_alert_queue_is_bounded_while_the_webhook_hangs(void **state)
{
    it_fix *f = *state;
    connected_with_hook(f, NULL, AL_HOOK_TOKEN);
    al_fake_control(f->proc2, "{\"mode\":\"hang\"}");
    assert_int_equal(lifeline_client_alert(f->client, "Hangs", "in flight"), LIFELINE_OK);
    AL_ASSERT(f, al_fake_wait_count(f->proc2, 1, IT_QUICK), "the alert never reached the fake");
    /* one in flight, 16 waiting, then full */
    for (int i = 0; i < 16; i++)
        AL_ASSERT(f, lifeline_client_alert(f->client, "Queued", "waits") == LIFELINE_OK,
                  "alert %d of 16 refused", i + 1);
    assert_int_equal(lifeline_client_alert(f->client, "Overflow", "refused"),
                     LIFELINE_ERR_QUEUE_FULL);
    /* the connection lives on: pongs keep coming */
    uint64_t pongs = it_count_events(&f->rec, IT_EV_PONG) + 3;
    AL_ASSERT(f, it_wait_until(&f->rec, pongs_reached, &pongs, IT_QUICK), "pongs stopped");
    assert_int_equal(al_note_count(f), 0);
    assert_int_equal(al_fake_count(f->proc2), 1);
    /* bounded free, with 16 alerts waiting behind a hanging one */
    int64_t t0 = it_now_ms();
    assert_int_equal(lifeline_client_free(f->client), LIFELINE_OK);
    f->client = NULL;
    int64_t took = it_now_ms() - t0;
    it_log("free with a hanging webhook and 16 queued: %lld ms", (long long)took);
    AL_ASSERT(f, took < 3000, "lifeline_client_free took %lld ms", (long long)took);
}

/* ---- the token ----------------------------------------------------------------------- */

typedef struct leak_check {
    const char *secrets[4];
    int leaks;
    size_t texts;
} leak_check;

static void look_for_leak(const char *where, const char *text, void *arg)
{
    leak_check *lc = arg;
    lc->texts++;
    for (int i = 0; i < 4 && lc->secrets[i]; i++)
        if (strstr(text, lc->secrets[i])) {
            it_log("LEAK in %s: %s", where, text);
            lc->leaks++;
        }
}

/* Every text the app has seen so far: log lines, on_notify strings, state
 * reasons. Returns the number of texts searched. */
static size_t expect_no_leak(it_fix *f)
{
    leak_check lc = {{AL_TOKEN_PREFIX, URL_PASSWORD, URL_QUERY_TOKEN, NULL}, 0, 0};
    al_each_text(f, look_for_leak, &lc);
    size_t n = it_event_count(&f->rec);
    for (size_t i = 0; i < n; i++) {
        it_ev e;
        it_event_at(&f->rec, i, &e);
        if (e.kind == IT_EV_STATE)
            look_for_leak("state reason", e.reason, &lc);
    }
    AL_ASSERT(f, lc.leaks == 0, "%d texts hold a secret", lc.leaks);
    return lc.texts;
}

static void the_webhook_token_appears_in_no_log_result_or_reason(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "token-user");
    snprintf(f->url, sizeof(f->url), "ws://kiosk:" URL_PASSWORD "@127.0.0.1:%d/ws?token=" URL_QUERY_TOKEN,
             it_proc_port(f->proc));
    f->cfg.url = f->url;
    f->proc2 = al_fake_start(NULL);
    al_webhook_url(hook, sizeof(hook), f->proc2, AL_HOOK_ID, AL_HOOK_TOKEN);
    f->cfg.discord_webhook_url = hook;
    static const char *const labels[] = {"Store: 12"};
    f->cfg.alert_labels = labels;
    f->cfg.alert_label_count = 1;
    f->cfg.alert_min_interval_ms = 0; /* two outages, two down alerts */
    al_attach(f); /* LIFELINE_LOG_DEBUG: every line */
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);

    /* every path the notifier logs: rate limited, server error, no answer */
    al_fake_control(f->proc2, "{\"mode\":\"ratelimit\",\"retry_after\":0.2,\"where\":\"both\"}");
    assert_int_equal(lifeline_client_alert(f->client, "t", "rate limited"), LIFELINE_OK);
    al_note n = wait_note(f, 0, IT_QUICK);
    expect(f, &n, "custom", 1, 204, 2, NULL);
    al_fake_control(f->proc2, "{\"mode\":\"status\",\"status\":502}");
    assert_int_equal(lifeline_client_alert(f->client, "t", "server error"), LIFELINE_OK);
    n = wait_note(f, 1, 1000 + IT_QUICK);
    expect(f, &n, "custom", 1, 204, 2, NULL);
    /* libcurl resends once by itself when a reused connection is closed
     * unanswered, so this one may take one attempt or two */
    al_fake_control(f->proc2, "{\"mode\":\"close\",\"count\":1}");
    assert_int_equal(lifeline_client_alert(f->client, "t", "no answer"), LIFELINE_OK);
    n = wait_note(f, 2, 1000 + IT_QUICK);
    expect(f, &n, "custom", 1, 204, -1, NULL);
    assert_int_equal(al_fake_count(f->proc2), 6); /* 429+204, 502+204, closed+204 */

    /* an outage and its two alerts */
    it_proc_kill(f->proc, SIGKILL);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_SERVER_DOWN, IT_QUICK, NULL);
    n = wait_note(f, 3, IT_QUICK);
    expect(f, &n, "down", 1, 204, 1, NULL);
    IT_ASSERT(&f->rec, it_proc_restart(f->proc), "could not restart the peer");
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, it_scaled(3000), NULL);
    n = wait_note(f, 4, IT_QUICK);
    expect(f, &n, "recovered", 1, 204, 1, NULL);

    /* the webhook deleted: the 404 line and the refusals after it */
    al_fake_control(f->proc2, "{\"mode\":\"status\",\"status\":404}");
    assert_int_equal(lifeline_client_alert(f->client, "t", "deleted"), LIFELINE_OK);
    n = wait_note(f, 5, IT_QUICK);
    expect(f, &n, "custom", 0, 404, 1, "gone");
    it_proc_kill(f->proc, SIGKILL);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_SERVER_DOWN, IT_QUICK, NULL);
    n = wait_note(f, 6, IT_QUICK);
    AL_ASSERT(f, strcmp(n.kind, "down") == 0 && !n.ok, "down alert after the 404: %s ok %d",
              n.kind, n.ok);

    /* the lines name the webhook by its id */
    AL_ASSERT(f, al_count_lines(f, LIFELINE_LOG_DEBUG, AL_HOOK_ID) >= 4,
              "the notifier's lines do not name the webhook");
    AL_ASSERT(f, al_count_lines(f, LIFELINE_LOG_DEBUG, "connecting to") >= 1,
              "no DEBUG line: is the log level honoured?");
    size_t texts = expect_no_leak(f);
    it_log("%zu texts searched with the webhook at the fake", texts);

    /* then a webhook that refuses connections: the "unreachable" lines */
    assert_int_equal(lifeline_client_free(f->client), LIFELINE_OK);
    f->client = NULL;
    it_rec_destroy(&f->rec);
    it_rec_init(&f->rec, "second client");
    IT_ASSERT(&f->rec, it_proc_restart(f->proc), "could not restart the peer");
    it_config(&f->cfg, &f->rec, f->url);
    snprintf(hook, sizeof(hook), "http://127.0.0.1:%d/api/webhooks/%s/%s", al_closed_port(),
             AL_HOOK_ID, AL_HOOK_TOKEN);
    f->cfg.discord_webhook_url = hook;
    al_attach(f);
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    assert_int_equal(lifeline_client_alert(f->client, "t", "unreachable"), LIFELINE_OK);
    AL_ASSERT(f, al_wait_line(f, "unreachable", IT_QUICK), "no line about the unreachable webhook");
    texts = expect_no_leak(f);
    it_log("%zu texts searched with the webhook unreachable", texts);
}

/* A log line has a size limit. A secret that the limit cuts in two must not
 * show either: what is left of it is still a secret. Here the query token
 * of a long server URL straddles the end of the "connecting to" line. */
static char long_url[2048];

static void a_secret_cut_by_the_log_line_limit_never_shows(void **state)
{
    it_fix *f = *state;
    int n = snprintf(long_url, sizeof(long_url), "ws://127.0.0.1:%d/", al_closed_port());
    /* "connecting to " + the URL: the token starts 10 bytes before 1023 */
    int path = 1013 - 14 - n - 7;
    memset(long_url + n, 'p', (size_t)path);
    snprintf(long_url + n + path, sizeof(long_url) - (size_t)(n + path),
             "?token=" URL_QUERY_TOKEN);
    it_config(&f->cfg, &f->rec, long_url);
    al_attach(f);
    it_fix_client(f);
    AL_ASSERT(f, al_wait_line(f, "connecting to", IT_QUICK), "no \"connecting to\" line");
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, IT_QUICK, NULL);
    /* any 8 characters of the token */
    leak_check lc = {{"qtok-7f3", NULL}, 0, 0};
    al_each_text(f, look_for_leak, &lc);
    AL_ASSERT(f, lc.leaks == 0, "%d log lines show part of the query token", lc.leaks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        AL_PEER(a_429_waits_the_retry_after_of_the_body),
        AL_PEER(a_429_waits_the_retry_after_header),
        AL_PEER(a_429_with_both_waits_the_body_value),
        AL_PEER(a_burst_of_alerts_respects_the_webhook_bucket),
        AL_PEER(five_rate_limits_in_a_row_are_given_up_on_the_sixth),
        AL_PEER(a_retry_after_over_60_s_is_given_up_at_once),
        AL_PEER(server_errors_are_retried_three_times_then_given_up),
        AL_PEER(an_unanswered_request_is_retried_then_delivered),
        AL_PEER(a_hanging_attempt_times_out_after_10_s_and_is_retried),
        AL_PEER(a_403_is_given_up_at_once),
        AL_PEER(an_unknown_webhook_ends_the_channel),
        AL_TEST(a_hanging_webhook_changes_nothing_in_the_reconnect_schedule),
        AL_TEST(a_refusing_webhook_changes_nothing_in_the_reconnect_schedule),
        AL_PEER(the_alert_queue_is_bounded_while_the_webhook_hangs),
        AL_PEER(the_webhook_token_appears_in_no_log_result_or_reason),
        AL_TEST(a_secret_cut_by_the_log_line_limit_never_shows),
    };
    return IT_RUN(tests);
}
