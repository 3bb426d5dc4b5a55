/* Reliable delivery (lifeline.v1, issue 12) on real sockets: against the
 * Node reference server (examples/node-reference, written from
 * docs/protocol.md by another hand), against a server that does not speak
 * the protocol, and against peer.py's v1_fault mode, which breaks it each
 * way a server can; an outbox file across a restart of the client, and a
 * damaged one. The main exchange runs against lifeline-server too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* examples/node-reference/server.js under Debian's node (its node-ws is in
 * /usr/share/nodejs, which Debian's node searches). */
static it_proc *start_node_reference(void)
{
    const char *script = getenv("LIFELINE_NODE_REFERENCE");
    if (!script || access(script, R_OK) != 0) {
        it_log("LIFELINE_NODE_REFERENCE does not name server.js: %s",
               script ? script : "(unset)");
        return NULL;
    }
    const char *argv[] = {"/usr/bin/node", script, "--port", "0", NULL};
    it_proc *p = it_proc_spawn(argv);
    if (!p)
        it_log("the Node reference server did not start: are nodejs and node-ws installed?");
    return p;
}

static void reliable_config(it_fix *f, const char *url)
{
    snprintf(f->url, sizeof(f->url), "%s", url);
    it_config(&f->cfg, &f->rec, f->url);
    f->cfg.delivery = LIFELINE_DELIVERY_RELIABLE;
}

static void node_url(it_fix *f)
{
    char url[64];
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", it_proc_port(f->proc));
    reliable_config(f, url);
}

typedef struct upto {
    int kind;
    uint64_t id;
} upto;

/* An event of kind with id >= u->id (ACKED) has been recorded. */
static int reached(it_rec *rec, void *arg)
{
    const upto *u = arg;
    for (size_t i = 0; i < rec->n_ev; i++)
        if (rec->ev[i].kind == u->kind && rec->ev[i].id >= u->id)
            return 1;
    return 0;
}

static int acked_up_to(it_rec *rec, uint64_t id, int timeout_ms)
{
    upto u = {IT_EV_ACKED, id};
    return it_wait_until(rec, reached, &u, timeout_ms);
}

/* The messages received, in order, are exactly "<prefix><i>" for i in
 * [from, to]. */
static void assert_messages(it_rec *rec, const char *prefix, int from, int to)
{
    pthread_mutex_lock(&rec->mu);
    size_t n = rec->n_msg;
    int ok = n == (size_t)(to - from + 1);
    for (size_t i = 0; ok && i < n; i++) {
        char want[64];
        snprintf(want, sizeof(want), "%s%d", prefix, from + (int)i);
        ok = strcmp(rec->msg[i].data, want) == 0;
        if (!ok)
            it_log("message %zu is \"%s\", want \"%s\"", i, rec->msg[i].data, want);
    }
    pthread_mutex_unlock(&rec->mu);
    IT_ASSERT(rec, ok, "%zu messages, want %s%d..%d once each, in order", n, prefix, from, to);
}

/* The server of the test: the Node reference (no target), or
 * lifeline-server. */
static void start_v1_server(it_fix *f, const char *user)
{
    if (f->target && f->target->kind == IT_SERVER) {
        it_require_server();
        f->proc = it_start_server(NULL);
        assert_non_null(f->proc);
        char url[256];
        it_url(url, sizeof(url), f->target, f->proc, user);
        reliable_config(f, url);
        return;
    }
    f->proc = start_node_reference();
    assert_non_null(f->proc);
    node_url(f);
}

static void messages_are_acked_and_echoed_once_in_order(void **state)
{
    it_fix *f = *state;
    start_v1_server(f, "till-1");
    it_fix_client(f);
    enum { N = 200 };
    for (int i = 1; i <= N; i++) {
        char text[32];
        snprintf(text, sizeof(text), "order %d", i);
        uint64_t id = 0;
        assert_int_equal(lifeline_client_send_id(f->client, text, strlen(text), 0, &id),
                         LIFELINE_OK);
        assert_int_equal(id, (uint64_t)i); /* a new session numbers from 1 */
    }
    IT_ASSERT(&f->rec, acked_up_to(&f->rec, N, IT_QUICK), "not every message was acked");
    IT_ASSERT(&f->rec, it_wait_message_count(&f->rec, N, IT_QUICK), "echoes missing");
    assert_messages(&f->rec, "order ", 1, N);
    it_ev ev;
    IT_ASSERT(&f->rec, it_wait_event(&f->rec, IT_EV_RESUMED, IT_QUICK, &ev), "no resume");
    assert_int_equal(ev.recovered, 0); /* a new session */
    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_int_equal(s.outbox_messages, 0);
    assert_int_equal(s.last_acked_id, N);
    assert_int_equal(s.messages_sent, N);
    assert_int_equal(s.messages_received, N);
    assert_int_equal(s.duplicates_dropped, 0);
    /* best-effort's call goes through the outbox too */
    assert_int_equal(lifeline_client_send_text(f->client, "order 201"), LIFELINE_OK);
    IT_ASSERT(&f->rec, acked_up_to(&f->rec, N + 1, IT_QUICK), "send() was not acked");
}

static void a_server_that_does_not_select_lifeline_v1_is_a_permanent_error(void **state)
{
    it_fix *f = *state;
    f->proc = it_start_peer("no_subprotocol", NULL);
    assert_non_null(f->proc);
    char url[64];
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/ws", it_proc_port(f->proc));
    reliable_config(f, url);
    it_fix_client(f);
    it_ev ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_ERROR, IT_QUICK, &ev);
    IT_ASSERT(&f->rec, ev.error == LIFELINE_ERR_NOT_LIFELINE, "error %s",
              lifeline_error_name(ev.error));
    IT_ASSERT(&f->rec, strstr(ev.reason, "server does not speak lifeline.v1") != NULL,
              "reason: %s", ev.reason);
    IT_ASSERT(&f->rec, it_no_state_within(&f->rec, LIFELINE_STATE_CONNECTING, 600),
              "retried");
    assert_int_equal(it_count_states(&f->rec, LIFELINE_STATE_CONNECTED), 0);
    /* the offer was made */
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"event\": \"open\"", IT_QUICK) ||
                           it_proc_count_lines(f->proc, "\"open\"") > 0,
              "the peer saw no connection");
}

/* One way of breaking lifeline.v1: the client closes with 1002 and the
 * words, delivers the good message before it once, and reconnects. */
static void break_it(it_fix *f, const char *fault, const char *words, int delivered)
{
    const char *const extra[] = {"--v1-fault", fault, NULL};
    f->proc = it_start_peer("v1_fault", extra);
    assert_non_null(f->proc);
    char url[64];
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/ws", it_proc_port(f->proc));
    reliable_config(f, url);
    it_fix_client(f);
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"hello\"", IT_QUICK), "%s: no hello",
              fault);
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "1002", IT_QUICK),
              "%s: the client did not close with 1002", fault);
    IT_ASSERT(&f->rec, it_proc_count_lines(f->proc, words) == 1,
              "%s: the close's reason does not say \"%s\"", fault, words);
    it_ev ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, IT_QUICK, &ev);
    IT_ASSERT(&f->rec, ev.error == LIFELINE_ERR_PROTOCOL, "%s: error %s", fault,
              lifeline_error_name(ev.error));
    IT_ASSERT(&f->rec, strstr(ev.reason, words) != NULL, "%s: reason %s", fault, ev.reason);
    assert_int_equal(f->rec.messages, (uint64_t)delivered);
    if (delivered)
        assert_string_equal(f->rec.msg[0].data, "one");
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTING, IT_QUICK, NULL); /* transient */
}

static void a_gap_closes_1002(void **state)
{
    break_it(*state, "gap", "gap: expected 2, got 3", 1);
}

static void an_ack_for_a_message_never_sent_closes_1002(void **state)
{
    break_it(*state, "ack_unsent", "ack 99 for a message never sent (last 0)", 1);
}

static void garbage_closes_1002(void **state)
{
    break_it(*state, "garbage", "lifeline.v1: missing space", 1);
}

static void a_second_welcome_closes_1002(void **state)
{
    break_it(*state, "second_welcome", "lifeline.v1: a second welcome", 1);
}

static void a_hello_from_the_server_closes_1002(void **state)
{
    break_it(*state, "hello", "lifeline.v1: a hello from the server", 1);
}

static void data_before_the_welcome_closes_1002(void **state)
{
    break_it(*state, "data_first", "lifeline.v1: data before the welcome", 0);
}

/* The app sends while the server is away, and its process ends: the next
 * process with the same outbox file sends them first, in order, and the
 * session goes on with the next numbers. */
static void an_outbox_file_keeps_what_was_not_acked_across_a_restart(void **state)
{
    it_fix *f = *state;
    char path[512];
    snprintf(path, sizeof(path), "%s/outbox.db", it_fix_tmpdir(f));
    /* nobody listens on port 9 of loopback */
    reliable_config(f, "ws://127.0.0.1:9/");
    f->cfg.outbox_path = path;
    it_fix_client(f);
    for (int i = 1; i <= 5; i++) {
        char text[32];
        snprintf(text, sizeof(text), "sale %d", i);
        assert_int_equal(lifeline_client_send_text(f->client, text), LIFELINE_OK);
    }
    assert_int_equal(lifeline_client_free(f->client), LIFELINE_OK);
    f->client = NULL;
    assert_int_equal(it_count_events(&f->rec, IT_EV_DROPPED), 0); /* kept, not dropped */

    f->proc = start_node_reference();
    assert_non_null(f->proc);
    it_rec_destroy(&f->rec);
    it_rec_init(&f->rec, "after the restart");
    node_url(f);
    f->cfg.outbox_path = path;
    it_fix_client(f);
    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    IT_ASSERT(&f->rec, acked_up_to(&f->rec, 5, IT_QUICK), "the kept messages were not acked");
    uint64_t id = 0;
    assert_int_equal(lifeline_client_send_id(f->client, "sale 6", 6, 0, &id), LIFELINE_OK);
    assert_int_equal(id, 6);
    IT_ASSERT(&f->rec, acked_up_to(&f->rec, 6, IT_QUICK), "the new message was not acked");
    IT_ASSERT(&f->rec, it_wait_message_count(&f->rec, 6, IT_QUICK), "echoes missing");
    assert_messages(&f->rec, "sale ", 1, 6);
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_int_equal(s.outbox_messages, 0);
}

static void a_damaged_outbox_file_is_refused_with_words_naming_it(void **state)
{
    it_fix *f = *state;
    char path[512];
    snprintf(path, sizeof(path), "%s/outbox.db", it_fix_tmpdir(f));
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("this is not a database, it is a shopping list: milk, eggs, bread\n", fp);
    for (int i = 0; i < 200; i++)
        fputs("more groceries ", fp);
    fclose(fp);
    reliable_config(f, "ws://127.0.0.1:9/");
    f->cfg.outbox_path = path;
    lifeline_client *c = NULL;
    assert_int_equal(lifeline_client_new(&f->cfg, &c), LIFELINE_ERR_OUTBOX_CORRUPT);
    assert_null(c);
    char why[300];
    assert_int_equal(lifeline_outbox_check(path, why, sizeof(why)), LIFELINE_ERR_OUTBOX_CORRUPT);
    it_log("why: %s", why);
    IT_ASSERT(&f->rec, strstr(why, path) != NULL, "why does not name the file: %s", why);
    /* and a file that is not there is fine: it would be created */
    snprintf(path, sizeof(path), "%s/none.db", it_fix_tmpdir(f));
    assert_int_equal(lifeline_outbox_check(path, why, sizeof(why)), LIFELINE_OK);
    assert_int_equal(access(path, F_OK), -1);
}

/* An outbox in memory survives reconnections, not the client: a stop
 * reports what it holds as dropped, before closed. */
static void a_stop_reports_what_an_outbox_in_memory_holds(void **state)
{
    it_fix *f = *state;
    reliable_config(f, "ws://127.0.0.1:9/");
    it_fix_client(f);
    for (int i = 0; i < 3; i++)
        assert_int_equal(lifeline_client_send_text(f->client, "unsent"), LIFELINE_OK);
    assert_int_equal(lifeline_client_stop(f->client, 500), LIFELINE_OK);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CLOSED, IT_QUICK, NULL);
    assert_int_equal(it_count_events(&f->rec, IT_EV_DROPPED), 3);
    assert_int_equal(it_count_events(&f->rec, IT_EV_DROPPED_ID), 3);
    it_ev last;
    assert_true(it_event_at(&f->rec, it_event_count(&f->rec) - 1, &last));
    assert_int_equal(last.kind, IT_EV_STATE);
    assert_int_equal(last.new_state, LIFELINE_STATE_CLOSED);
    assert_int_equal(lifeline_client_send_id(f->client, "x", 1, 0, NULL), LIFELINE_ERR_STOPPED);
}

/* Drop-oldest: the oldest goes to on_dropped and on_dropped_id, the server
 * is not left waiting for it, and the rest arrive once each. */
static void a_message_dropped_as_the_oldest_is_reported_by_id_and_skipped(void **state)
{
    it_fix *f = *state;
    f->proc = start_node_reference();
    assert_non_null(f->proc);
    node_url(f);
    f->cfg.queue_policy = LIFELINE_QUEUE_DROP_OLDEST;
    f->cfg.queue_max_messages = 2;
    assert_int_equal(lifeline_client_new(&f->cfg, &f->client), LIFELINE_OK);
    for (int i = 1; i <= 3; i++) {
        char text[16];
        snprintf(text, sizeof(text), "m%d", i);
        uint64_t id = 0;
        assert_int_equal(lifeline_client_send_id(f->client, text, strlen(text), 0, &id),
                         LIFELINE_OK);
        assert_int_equal(id, (uint64_t)i);
    }
    assert_int_equal(lifeline_client_start(f->client), LIFELINE_OK);
    IT_ASSERT(&f->rec, acked_up_to(&f->rec, 3, IT_QUICK), "not acked up to 3");
    IT_ASSERT(&f->rec, it_wait_message_count(&f->rec, 2, IT_QUICK), "echoes missing");
    assert_messages(&f->rec, "m", 2, 3);
    it_ev ev;
    IT_ASSERT(&f->rec, it_wait_event(&f->rec, IT_EV_DROPPED_ID, IT_QUICK, &ev), "no id");
    assert_int_equal(ev.id, 1);
    assert_int_equal(ev.drop_reason, LIFELINE_ERR_QUEUE_FULL);
    assert_int_equal(it_count_events(&f->rec, IT_EV_DROPPED), 1);
    assert_int_equal(it_count_states(&f->rec, LIFELINE_STATE_DISCONNECTED), 0);
}

static void best_effort_clients_refuse_send_id(void **state)
{
    it_fix *f = *state;
    it_config(&f->cfg, &f->rec, "ws://127.0.0.1:9/");
    it_fix_client(f);
    uint64_t id = 7;
    assert_int_equal(lifeline_client_send_id(f->client, "x", 1, 0, &id), LIFELINE_ERR_STATE);
    assert_int_equal(id, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        {"messages_are_acked_and_echoed_once_in_order_by_the_node_reference",
         messages_are_acked_and_echoed_once_in_order, it_fix_setup, it_fix_teardown, NULL},
        {"messages_are_acked_and_echoed_once_in_order_by_lifeline_server",
         messages_are_acked_and_echoed_once_in_order, it_fix_setup, it_fix_teardown,
         (void *)&it_server_target},
        IT_TEST(a_server_that_does_not_select_lifeline_v1_is_a_permanent_error),
        IT_TEST(a_gap_closes_1002),
        IT_TEST(an_ack_for_a_message_never_sent_closes_1002),
        IT_TEST(garbage_closes_1002),
        IT_TEST(a_second_welcome_closes_1002),
        IT_TEST(a_hello_from_the_server_closes_1002),
        IT_TEST(data_before_the_welcome_closes_1002),
        IT_TEST(an_outbox_file_keeps_what_was_not_acked_across_a_restart),
        IT_TEST(a_damaged_outbox_file_is_refused_with_words_naming_it),
        IT_TEST(a_stop_reports_what_an_outbox_in_memory_holds),
        IT_TEST(a_message_dropped_as_the_oldest_is_reported_by_id_and_skipped),
        IT_TEST(best_effort_clients_refuse_send_id),
    };
    return IT_RUN(tests);
}
