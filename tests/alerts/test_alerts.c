/* The client's outage alerts, end to end: the server goes away, the client
 * judges it down and posts one Discord alert, the server comes back and it
 * posts one "recovered" alert; flapping is throttled by
 * alert_min_interval_ms; every payload stays within Discord's limits (the
 * fake refuses what Discord would refuse); lifeline_client_alert().
 *
 * Timings from it_config(): base 100 ms, max 400 ms, jitter 20 ms,
 * 3 attempts, ping 300/150 ms, down ping 100 ms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts.h"

/* Secrets in the server URL: the alert's Server field must show neither. */
#define URL_PASSWORD "pw-Hunter2-kiosk"
#define URL_QUERY_TOKEN "qtok-7f3a9c1e5b2d8f4a"

static char hook[512];
static const char *const two_labels[] = {"Store: 12", "Device: till-3"};

/* The server URL for f's target: for the websockets peer (which takes any
 * path) with userinfo and a query token that must never reach an alert. */
static void set_url(it_fix *f)
{
    if (f->target->kind == IT_PEER) {
        snprintf(f->url, sizeof(f->url),
                 "ws://kiosk:" URL_PASSWORD "@127.0.0.1:%d/ws/till-3?token=" URL_QUERY_TOKEN,
                 it_proc_port(f->proc));
        f->cfg.url = f->url;
    }
}

/* What the alert's Server field should say for f's URL. */
static void expected_server(it_fix *f, char *buf, size_t n)
{
    snprintf(buf, n, "ws://127.0.0.1:%d%s", it_proc_port(f->proc),
             f->target->kind == IT_PEER ? "/ws/till-3" : "/ws");
}

/* Target up (echo), the fake up, f->cfg with the webhook, the recorder. */
static void arm(it_fix *f, const char *user, const char *const *fake_extra)
{
    it_fix_start(f, "echo", user);
    set_url(f);
    f->proc2 = al_fake_start(fake_extra);
    al_webhook_url(hook, sizeof(hook), f->proc2, AL_HOOK_ID, AL_HOOK_TOKEN);
    f->cfg.discord_webhook_url = hook;
    f->cfg.alert_labels = two_labels;
    f->cfg.alert_label_count = 2;
    al_attach(f);
}

/* Take the server away and wait for server_down; the wall clock (s) at the
 * kill. */
static time_t take_server_away(it_fix *f)
{
    time_t t = time(NULL);
    it_proc_kill(f->proc, SIGKILL);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_SERVER_DOWN, IT_QUICK, NULL);
    return t;
}

static void bring_server_back(it_fix *f)
{
    IT_ASSERT(&f->rec, it_proc_restart(f->proc), "could not restart on port %d",
              it_proc_port(f->proc));
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, it_scaled(3000), NULL);
}

static void expect_note(it_fix *f, size_t i, const char *kind, int ok, int http_status,
                        int attempts)
{
    AL_ASSERT(f, al_wait_notes(f, i + 1, IT_QUICK), "no on_notify result %zu (%s)", i, kind);
    al_note n = al_note_at(f, i);
    AL_ASSERT(f, strcmp(n.channel, "discord") == 0, "result %zu: channel %s", i, n.channel);
    AL_ASSERT(f, strcmp(n.kind, kind) == 0, "result %zu: kind %s, expected %s", i, n.kind, kind);
    AL_ASSERT(f, n.ok == ok && n.http_status == http_status && n.attempts == attempts,
              "result %zu (%s): ok %d HTTP %d, %d attempts (%s); expected ok %d HTTP %d, %d "
              "attempts",
              i, n.kind, n.ok, n.http_status, n.attempts, n.detail, ok, http_status, attempts);
    if (ok)
        AL_ASSERT(f, strcmp(n.detail, "delivered") == 0, "detail %s", n.detail);
}

/* Delivery i was answered 204; its body, parsed. */
static cJSON *delivered_body(it_fix *f, const cJSON *reqs, int i)
{
    AL_ASSERT(f, al_req_status(reqs, i) == 204, "delivery %d answered %d: %s", i,
              al_req_status(reqs, i), al_req_answer(reqs, i));
    return al_req_body(reqs, i);
}

/* The names of the embed's fields, joined by '|'. */
static void field_names(const cJSON *embed, char *buf, size_t n)
{
    buf[0] = '\0';
    const cJSON *fld;
    cJSON_ArrayForEach(fld, cJSON_GetObjectItemCaseSensitive(embed, "fields"))
    {
        size_t len = strlen(buf);
        snprintf(buf + len, n - len, "%s%s", len ? "|" : "", al_str(fld, "name"));
    }
}

static int color_of(const cJSON *embed)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(embed, "color");
    return cJSON_IsNumber(c) ? c->valueint : -1;
}

/* No secret of the server URL or of the webhook in the raw body. */
static void expect_no_secret(it_fix *f, const cJSON *reqs, int i)
{
    const char *raw = al_str(cJSON_GetArrayItem(reqs, i), "body");
    AL_ASSERT(f, raw != NULL, "no body");
    AL_ASSERT(f, !strstr(raw, URL_PASSWORD) && !strstr(raw, URL_QUERY_TOKEN) &&
                     !strstr(raw, "kiosk:") && !strstr(raw, AL_TOKEN_PREFIX),
              "a secret in the alert body: %s", raw);
}

static void check_down_alert(it_fix *f, const cJSON *body, time_t killed)
{
    char want[128], names[512];
    const cJSON *e = al_embed(body);
    const char *title = al_str(e, "title");
    AL_ASSERT(f, strcmp(al_str(body, "username") ? al_str(body, "username") : "", "lifeline") == 0,
              "username %s", al_str(body, "username"));
    AL_ASSERT(f, title && strstr(title, "down") && strstr(title, "127.0.0.1"), "title %s", title);
    AL_ASSERT(f, color_of(e) == AL_RED, "color %d, not red", color_of(e));
    field_names(e, names, sizeof(names));
    AL_ASSERT(f, strcmp(names, "Server|Attempts|Last error|Outage began|Store|Device") == 0,
              "fields %s", names);
    expected_server(f, want, sizeof(want));
    AL_ASSERT(f, strcmp(al_field(e, "Server"), want) == 0, "Server %s, expected %s",
              al_field(e, "Server"), want);
    AL_ASSERT(f, strcmp(al_field(e, "Attempts"), "3") == 0, "Attempts %s",
              al_field(e, "Attempts"));
    AL_ASSERT(f, strcmp(al_field(e, "Last error"),
                        lifeline_strerror(LIFELINE_ERR_CONNECTION_REFUSED)) == 0,
              "Last error %s", al_field(e, "Last error"));
    struct tm tm = {0};
    const char *began = al_field(e, "Outage began");
    const char *end = strptime(began, "%Y-%m-%dT%H:%M:%S", &tm);
    AL_ASSERT(f, end && (*end == 'Z' || *end == '.' || *end == '+'), "Outage began %s", began);
    time_t t = timegm(&tm);
    AL_ASSERT(f, t >= killed - 2 && t <= killed + 2,
              "Outage began %s, %lld s from the kill", began, (long long)(t - killed));
    AL_ASSERT(f, strcmp(al_field(e, "Store"), "12") == 0, "Store %s", al_field(e, "Store"));
    AL_ASSERT(f, strcmp(al_field(e, "Device"), "till-3") == 0, "Device %s",
              al_field(e, "Device"));
    AL_ASSERT(f, al_str(e, "timestamp") != NULL, "no timestamp");
}

static void check_recovered_alert(it_fix *f, const cJSON *body, int64_t outage_ms)
{
    char want[128], names[512];
    const cJSON *e = al_embed(body);
    const char *title = al_str(e, "title");
    AL_ASSERT(f, title && strstr(title, "recovered") && strstr(title, "127.0.0.1"), "title %s",
              title);
    AL_ASSERT(f, color_of(e) == AL_GREEN, "color %d, not green", color_of(e));
    field_names(e, names, sizeof(names));
    AL_ASSERT(f, strcmp(names, "Downtime|Server|Store|Device") == 0, "fields %s", names);
    expected_server(f, want, sizeof(want));
    AL_ASSERT(f, strcmp(al_field(e, "Server"), want) == 0, "Server %s", al_field(e, "Server"));
    /* short outages read "S.mmms" */
    double s = -1;
    const char *down = al_field(e, "Downtime");
    AL_ASSERT(f, sscanf(down, "%lfs", &s) == 1 && down[strlen(down) - 1] == 's', "Downtime %s",
              down);
    AL_ASSERT(f, s * 1000 >= outage_ms - 300 && s * 1000 <= outage_ms + 300,
              "Downtime %s for an outage of %lld ms", down, (long long)outage_ms);
}

/* ---- one outage ------------------------------------------------------------ */

static void an_outage_sends_one_down_alert_and_one_recovered_alert(void **state)
{
    it_fix *f = *state;
    arm(f, "alerts-user", NULL);
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    assert_int_equal(al_fake_count(f->proc2), 0);

    int64_t lost_at = it_now_ms();
    time_t killed = take_server_away(f);
    expect_note(f, 0, "down", 1, 204, 1);

    /* probing goes on: no second alert for the same outage */
    for (int i = 0; i < 4; i++) {
        it_ev ev;
        IT_ASSERT(&f->rec, it_wait_event(&f->rec, IT_EV_RETRY, IT_QUICK, &ev) && ev.probe,
                  "no probe %d", i);
    }
    assert_int_equal(al_fake_count(f->proc2), 1);
    assert_int_equal(al_note_count(f), 1);

    bring_server_back(f);
    int64_t outage = it_now_ms() - lost_at;
    expect_note(f, 1, "recovered", 1, 204, 1);

    /* nothing more: watch a little while the client runs */
    it_observe(&f->rec, 500);
    cJSON *reqs = al_fake_requests(f->proc2);
    AL_ASSERT(f, cJSON_GetArraySize(reqs) == 2, "%d deliveries", cJSON_GetArraySize(reqs));
    assert_int_equal(al_note_count(f), 2);

    cJSON *down = delivered_body(f, reqs, 0);
    check_down_alert(f, down, killed);
    cJSON *up = delivered_body(f, reqs, 1);
    check_recovered_alert(f, up, outage);
    expect_no_secret(f, reqs, 0);
    expect_no_secret(f, reqs, 1);
    const cJSON *r0 = cJSON_GetArrayItem(reqs, 0);
    const char *path = al_str(r0, "path");
    AL_ASSERT(f, path && strcmp(path, "/api/webhooks/" AL_HOOK_ID "/" AL_HOOK_TOKEN) == 0,
              "posted to %s", path);
    const cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(r0, "headers");
    const char *ctype = al_str(hdrs, "content-type");
    AL_ASSERT(f, ctype && strncmp(ctype, "application/json", 16) == 0, "Content-Type %s", ctype);
    assert_int_equal(al_contract_breaks(f), 0);
}

/* ---- flapping ---------------------------------------------------------------- */

static void two_outages_within_the_minimum_interval_alert_once(void **state)
{
    it_fix *f = *state;
    arm(f, "flap-user", NULL);
    f->cfg.alert_min_interval_ms = 60000;
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);

    take_server_away(f);
    expect_note(f, 0, "down", 1, 204, 1);
    bring_server_back(f);
    expect_note(f, 1, "recovered", 1, 204, 1);

    take_server_away(f);
    AL_ASSERT(f, al_wait_line(f, "no alert this time", IT_QUICK),
              "the second outage was not reported as throttled in the log");
    bring_server_back(f);
    /* neither a down nor a recovered alert for the second outage */
    it_observe(&f->rec, 1000);
    AL_ASSERT(f, al_note_count(f) == 2, "%zu on_notify results", al_note_count(f));
    cJSON *reqs = al_fake_requests(f->proc2);
    AL_ASSERT(f, cJSON_GetArraySize(reqs) == 2, "%d deliveries", cJSON_GetArraySize(reqs));
    assert_int_equal(al_count_lines(f, LIFELINE_LOG_DEBUG, "no alert this time"), 1);
}

static void with_no_minimum_interval_every_outage_alerts(void **state)
{
    it_fix *f = *state;
    arm(f, "flap-user", NULL);
    f->cfg.alert_min_interval_ms = 0;
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    for (int round = 0; round < 2; round++) {
        take_server_away(f);
        expect_note(f, (size_t)round * 2, "down", 1, 204, 1);
        bring_server_back(f);
        expect_note(f, (size_t)round * 2 + 1, "recovered", 1, 204, 1);
    }
    it_observe(&f->rec, 500);
    cJSON *reqs = al_fake_requests(f->proc2);
    AL_ASSERT(f, cJSON_GetArraySize(reqs) == 4, "%d deliveries", cJSON_GetArraySize(reqs));
    const int colors[] = {AL_RED, AL_GREEN, AL_RED, AL_GREEN};
    for (int i = 0; i < 4; i++) {
        cJSON *b = delivered_body(f, reqs, i);
        AL_ASSERT(f, color_of(al_embed(b)) == colors[i], "delivery %d colour %d", i,
                  color_of(al_embed(b)));
    }
    assert_int_equal(al_note_count(f), 4);
}

/* ---- Discord's limits ------------------------------------------------------------ */

/* A text of n characters mixing 1-, 2-, 3- and 4-byte UTF-8 sequences. */
static void mixed_text(char *buf, size_t size, size_t n)
{
    static const char *const parts[] = {"a", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"};
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = parts[i % 4];
        size_t pl = strlen(p);
        if (len + pl + 1 > size)
            break;
        memcpy(buf + len, p, pl);
        len += pl;
    }
    buf[len] = '\0';
}

/* Within Discord's limits, as the fake also checks: f fails otherwise. */
static void check_limits(it_fix *f, const cJSON *body)
{
    const cJSON *e = al_embed(body);
    size_t total = al_chars(al_str(e, "title")) + al_chars(al_str(e, "description"));
    AL_ASSERT(f, al_chars(al_str(e, "title")) <= 256, "title of %zu characters",
              al_chars(al_str(e, "title")));
    AL_ASSERT(f, al_chars(al_str(e, "description")) <= 4096, "description of %zu characters",
              al_chars(al_str(e, "description")));
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(e, "fields");
    AL_ASSERT(f, cJSON_GetArraySize(fields) <= 25, "%d fields", cJSON_GetArraySize(fields));
    const cJSON *fld;
    cJSON_ArrayForEach(fld, fields)
    {
        size_t nn = al_chars(al_str(fld, "name")), vn = al_chars(al_str(fld, "value"));
        AL_ASSERT(f, nn >= 1 && nn <= 256 && vn >= 1 && vn <= 1024,
                  "a field of %zu / %zu characters", nn, vn);
        total += nn + vn;
    }
    const cJSON *footer = cJSON_GetObjectItemCaseSensitive(e, "footer");
    total += al_chars(al_str(footer, "text"));
    AL_ASSERT(f, total <= 6000, "%zu characters in the embed", total);
}

static char big_label[100000];
static char long_url[8192];

static void a_down_alert_with_a_huge_label_and_a_long_path_stays_within_limits(void **state)
{
    it_fix *f = *state;
    /* nothing listens: the first connection fails, then the retries */
    int port = al_closed_port();
    int n = snprintf(long_url, sizeof(long_url), "ws://127.0.0.1:%d/", port);
    memset(long_url + n, 'p', 3000);
    snprintf(long_url + n + 3000, sizeof(long_url) - (size_t)n - 3000,
             "/end?token=" URL_QUERY_TOKEN);
    strcpy(big_label, "Note: ");
    mixed_text(big_label + 6, sizeof(big_label) - 6, 20000);
    static const char *labels[3];
    labels[0] = big_label;
    labels[1] = "Store: 12";
    labels[2] = "Empty:";
    it_config(&f->cfg, &f->rec, long_url);
    f->proc2 = al_fake_start(NULL);
    al_webhook_url(hook, sizeof(hook), f->proc2, AL_HOOK_ID, AL_HOOK_TOKEN);
    f->cfg.discord_webhook_url = hook;
    f->cfg.alert_labels = labels;
    f->cfg.alert_label_count = 3;
    al_attach(f);
    it_fix_client(f);

    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_SERVER_DOWN, it_scaled(5000), NULL);
    AL_ASSERT(f, al_wait_notes(f, 1, IT_QUICK), "no on_notify result");
    cJSON *reqs = al_fake_requests(f->proc2);
    AL_ASSERT(f, cJSON_GetArraySize(reqs) == 1, "%d deliveries", cJSON_GetArraySize(reqs));
    cJSON *body = delivered_body(f, reqs, 0);
    expect_note(f, 0, "down", 1, 204, 1);
    check_limits(f, body);
    const cJSON *e = al_embed(body);
    char want[64];
    snprintf(want, sizeof(want), "ws://127.0.0.1:%d/ppp", port);
    const char *server = al_field(e, "Server");
    AL_ASSERT(f, server && strncmp(server, want, strlen(want)) == 0 && !strchr(server, '?'),
              "Server %.80s...", server ? server : "(none)");
    const char *note = al_field(e, "Note");
    AL_ASSERT(f, note && al_chars(note) <= 1024 && strncmp(note, "a\xC3\xA9", 3) == 0,
              "Note field of %zu characters", al_chars(note));
    AL_ASSERT(f, al_field(e, "Store") && strcmp(al_field(e, "Store"), "12") == 0, "Store %s",
              al_field(e, "Store"));
    /* Discord refuses an empty value: something is shown instead */
    AL_ASSERT(f, al_field(e, "Empty") && al_chars(al_field(e, "Empty")) >= 1, "Empty label");
    expect_no_secret(f, reqs, 0);
}

/* A path of non-ASCII characters long enough for the Server field to be
 * shortened: it must be shortened at a character boundary (Discord refuses
 * a body that is not UTF-8). The cut is placed inside a character on
 * purpose. */
static void a_long_non_ascii_path_is_shortened_at_a_character_boundary(void **state)
{
    it_fix *f = *state;
    int port = al_closed_port();
    int n = snprintf(long_url, sizeof(long_url), "ws://127.0.0.1:%d/ws/", port);
    /* odd bytes left after the prefix within 299 so that a byte cut would
     * split a two-byte character */
    if ((299 - n) % 2 == 0)
        long_url[n++] = 'x';
    for (int i = 0; i < 600; i++) {
        long_url[n++] = '\xC3';
        long_url[n++] = '\xA9';
    }
    long_url[n] = '\0';
    it_config(&f->cfg, &f->rec, long_url);
    f->proc2 = al_fake_start(NULL);
    al_webhook_url(hook, sizeof(hook), f->proc2, AL_HOOK_ID, AL_HOOK_TOKEN);
    f->cfg.discord_webhook_url = hook;
    al_attach(f);
    it_fix_client(f);

    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_SERVER_DOWN, it_scaled(5000), NULL);
    AL_ASSERT(f, al_wait_notes(f, 1, IT_QUICK), "no on_notify result");
    cJSON *reqs = al_fake_requests(f->proc2);
    AL_ASSERT(f, cJSON_GetArraySize(reqs) == 1, "%d deliveries", cJSON_GetArraySize(reqs));
    AL_ASSERT(f, al_req_status(reqs, 0) == 204, "Discord would refuse the down alert: %d %s",
              al_req_status(reqs, 0), al_req_answer(reqs, 0));
    cJSON *body = al_req_body(reqs, 0);
    check_limits(f, body);
    expect_note(f, 0, "down", 1, 204, 1);
}

static char long_text[64000];
static char long_title[8000];

static void a_custom_alert_of_10000_characters_is_cut_within_limits(void **state)
{
    it_fix *f = *state;
    arm(f, "custom-user", NULL);
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);

    mixed_text(long_text, sizeof(long_text), 10000);
    mixed_text(long_title, sizeof(long_title), 1000);
    assert_int_equal(al_chars(long_text), 10000);
    assert_int_equal(lifeline_client_alert(f->client, long_title, long_text), LIFELINE_OK);
    expect_note(f, 0, "custom", 1, 204, 1);
    cJSON *reqs = al_fake_requests(f->proc2);
    cJSON *body = delivered_body(f, reqs, 0);
    check_limits(f, body);
    const cJSON *e = al_embed(body);
    const char *desc = al_str(e, "description"), *title = al_str(e, "title");
    /* cut, not dropped: the start is kept and an ellipsis says it was cut */
    AL_ASSERT(f, desc && strncmp(desc, long_text, 100) == 0, "description does not start with the text");
    AL_ASSERT(f, title && strncmp(title, long_title, 100) == 0, "title does not start with the title");
    AL_ASSERT(f, strstr(desc, "\xE2\x80\xA6") && strstr(title, "\xE2\x80\xA6"),
              "no ellipsis where the text was cut");
}

/* Labels with long names (allowed by the config) still give an embed of at
 * most 6000 characters: the names count toward the total too. */
static char long_labels[30][400];

static void many_long_label_names_still_fit_in_6000_characters(void **state)
{
    it_fix *f = *state;
    arm(f, "labels-user", NULL);
    static const char *labels[30];
    for (int i = 0; i < 30; i++) {
        memset(long_labels[i], 'A' + i % 26, 300);
        snprintf(long_labels[i] + 300, sizeof(long_labels[i]) - 300, "%02d: value %d", i, i);
        labels[i] = long_labels[i];
    }
    f->cfg.alert_labels = labels;
    f->cfg.alert_label_count = 30;
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);

    assert_int_equal(lifeline_client_alert(f->client, "Till 3", "Many labels"), LIFELINE_OK);
    AL_ASSERT(f, al_wait_notes(f, 1, IT_QUICK), "no on_notify result");
    cJSON *reqs = al_fake_requests(f->proc2);
    AL_ASSERT(f, al_req_status(reqs, 0) == 204, "Discord would refuse the alert: %d %s",
              al_req_status(reqs, 0), al_req_answer(reqs, 0));
    cJSON *body = al_req_body(reqs, 0);
    check_limits(f, body);
    expect_note(f, 0, "custom", 1, 204, 1);
}

/* ---- lifeline_client_alert() --------------------------------------------------------- */

static void client_alert_without_a_webhook_is_alerts_off(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "no-hook-user");
    al_attach(f);
    /* the alert fields are checked by client_new */
    f->cfg.discord_webhook_url = "discord.com/api/webhooks/1/x";
    lifeline_client *c = NULL;
    assert_int_equal(lifeline_client_new(&f->cfg, &c), LIFELINE_ERR_CONFIG_WEBHOOK);
    f->cfg.discord_webhook_url = NULL;
    static const char *const bad_labels[] = {"no colon here"};
    f->cfg.alert_labels = bad_labels;
    f->cfg.alert_label_count = 1;
    assert_int_equal(lifeline_client_new(&f->cfg, &c), LIFELINE_ERR_CONFIG_LABEL);
    f->cfg.alert_labels = NULL;
    f->cfg.alert_label_count = 0;

    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    assert_int_equal(lifeline_client_alert(f->client, "title", "text"), LIFELINE_ERR_ALERTS_OFF);
    assert_int_equal(lifeline_client_alert(f->client, NULL, "text"),
                     LIFELINE_ERR_INVALID_ARGUMENT);
    assert_int_equal(lifeline_client_alert(NULL, "title", "text"), LIFELINE_ERR_INVALID_ARGUMENT);
    /* an error return means no callback */
    it_observe(&f->rec, 300);
    assert_int_equal(al_note_count(f), 0);
}

static void client_alert_delivers_the_title_and_text_in_the_embed(void **state)
{
    it_fix *f = *state;
    arm(f, "custom-user", NULL);
    f->cfg.alert_username = "Till 3 monitor";
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);

    const char *title = "Cash drawer open \xE2\x9C\x93";
    const char *text = "Open for 5 minutes\nduring shift 2 \xF0\x9F\x98\x80";
    assert_int_equal(lifeline_client_alert(f->client, title, NULL), LIFELINE_ERR_INVALID_ARGUMENT);
    assert_int_equal(lifeline_client_alert(f->client, title, text), LIFELINE_OK);
    expect_note(f, 0, "custom", 1, 204, 1);
    cJSON *reqs = al_fake_requests(f->proc2);
    AL_ASSERT(f, cJSON_GetArraySize(reqs) == 1, "%d deliveries", cJSON_GetArraySize(reqs));
    cJSON *body = delivered_body(f, reqs, 0);
    const cJSON *e = al_embed(body);
    AL_ASSERT(f, strcmp(al_str(e, "title"), title) == 0, "title %s", al_str(e, "title"));
    AL_ASSERT(f, strcmp(al_str(e, "description"), text) == 0, "description %s",
              al_str(e, "description"));
    AL_ASSERT(f, strcmp(al_str(body, "username"), "Till 3 monitor") == 0, "username %s",
              al_str(body, "username"));
    AL_ASSERT(f, color_of(e) == AL_BLUE, "color %d", color_of(e));
    char want[128];
    expected_server(f, want, sizeof(want));
    AL_ASSERT(f, strcmp(al_field(e, "Server"), want) == 0, "Server %s", al_field(e, "Server"));
    AL_ASSERT(f, strcmp(al_field(e, "Store"), "12") == 0, "Store %s", al_field(e, "Store"));
    expect_no_secret(f, reqs, 0);
    /* the connection never noticed */
    assert_int_equal(lifeline_client_state(f->client), LIFELINE_STATE_CONNECTED);
    assert_int_equal(it_count_states(&f->rec, LIFELINE_STATE_DISCONNECTED), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        AL_BOTH(an_outage_sends_one_down_alert_and_one_recovered_alert),
        AL_PEER(two_outages_within_the_minimum_interval_alert_once),
        AL_PEER(with_no_minimum_interval_every_outage_alerts),
        AL_TEST(a_down_alert_with_a_huge_label_and_a_long_path_stays_within_limits),
        AL_TEST(a_long_non_ascii_path_is_shortened_at_a_character_boundary),
        AL_PEER(a_custom_alert_of_10000_characters_is_cut_within_limits),
        AL_PEER(many_long_label_names_still_fit_in_6000_characters),
        AL_PEER(client_alert_without_a_webhook_is_alerts_off),
        AL_PEER(client_alert_delivers_the_title_and_text_in_the_embed),
    };
    return IT_RUN(tests);
}
