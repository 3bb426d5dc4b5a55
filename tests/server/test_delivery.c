/* lifeline.v1 on the server (delivery.c): every rule of docs/protocol.md's
 * "Rules" and "Resume", the ack batching, the replay buffer's bounds, the
 * session cap, and the hostile cases. Units are written as on the wire and
 * read with ll_wire_read, as the server reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/delivery.h"

#define SID "0123456789abcdef0123456789abcdef"
#define SID2 "fedcba9876543210fedcba9876543210"
#define EPOCH 0x1122334455667788ULL
#define HELLO0 "h " SID " 0000000000000000 0 1" /* a hello naming SID */

typedef struct fixture {
    srv_dlv d;
    srv_dlv_conn *c;
    ll_wire_unit u;
    char text[256];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    srv_dlv_cfg cfg;
    srv_dlv_cfg_init(&cfg);
    srv_dlv_init(&f->d, &cfg);
    f->c = srv_dlv_conn_new(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    srv_dlv_conn_release(&f->d, f->c, 0);
    srv_dlv_free(&f->d);
    free(f);
    return 0;
}

/* Reads text as a unit (a text message) and gives it to c at now. */
static srv_dlv_verdict rx(fixture *f, srv_dlv_conn *c, int64_t now, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->text, sizeof(f->text), fmt, ap);
    va_end(ap);
    ll_wire_read(f->text, strlen(f->text), 0, &f->u);
    return srv_dlv_receive(&f->d, c, &f->u, now);
}

/* Sends hello on c (as store s, user u) and returns the welcome text. */
static const char *hello_on(fixture *f, srv_dlv_conn *c, const char *sid, uint64_t epoch,
                            uint64_t received, uint64_t held, uint64_t stored,
                            srv_dlv_welcome *out)
{
    assert_int_equal(rx(f, c, 0, "h %s %016llx %llu %llu", sid, (unsigned long long)epoch,
                        (unsigned long long)received, (unsigned long long)held),
                     SRV_DLV_HELLO);
    srv_dlv_welcome w;
    assert_int_equal(srv_dlv_hello(&f->d, c, &f->u, "shop", "till", stored, 0, EPOCH, out ? out : &w),
                     0);
    srv_dlv_write wr;
    srv_dlv_next_write(&f->d, c, 0, &wr);
    assert_int_equal(wr.kind, SRV_DLV_WRITE_TEXT);
    static char welcome[LL_WIRE_CONTROL_MAX];
    memcpy(welcome, wr.text, wr.len + 1);
    return welcome;
}

static const char *hello(fixture *f, uint64_t epoch, uint64_t received, uint64_t held)
{
    return hello_on(f, f->c, SID, epoch, received, held, 0, NULL);
}

/* Writes the next unit and returns it as text ("" for none; data as
 * header and payload). */
static const char *next(fixture *f, srv_dlv_conn *c, int64_t now)
{
    static char out[512];
    srv_dlv_write w;
    srv_dlv_next_write(&f->d, c, now, &w);
    if (w.kind == SRV_DLV_WRITE_NONE)
        return "";
    if (w.kind == SRV_DLV_WRITE_TEXT)
        snprintf(out, sizeof(out), "%s", w.text);
    else
        snprintf(out, sizeof(out), "%.*s%.*s", (int)w.len, w.text, (int)w.msg->len,
                 (const char *)srv_msg_payload(w.msg));
    return out;
}

static void push(fixture *f, srv_dlv_conn *c, const char *text)
{
    srv_msg *m = srv_msg_new(text, strlen(text), false);
    assert_int_equal(srv_dlv_push_conn(&f->d, c, m, 0), 0);
    srv_msg_unref(m);
}

static void commit(fixture *f)
{
    srv_dlv_committed(&f->d, NULL, NULL);
}

/* Writes "hex=mark" into ctx (64 bytes). */
static int write_mark(const char *hex, uint64_t hwm, void *ctx)
{
    snprintf(ctx, 64, "%s=%llu", hex, (unsigned long long)hwm);
    return 0;
}

/* --- before the hello, and units out of place ----------------------------- */

static void data_before_hello_is_a_protocol_error(void **state)
{
    fixture *f = *state;
    assert_int_equal(rx(f, f->c, 0, "1 {}"), SRV_DLV_ERROR);
    assert_string_equal(f->c->reason, "lifeline.v1: data before hello");
    /* nothing after the error is taken, not even a hello */
    assert_int_equal(rx(f, f->c, 0, "h " SID " 0000000000000000 0 1"), SRV_DLV_ERROR);
    assert_int_equal(f->d.stats.protocol_errors, 1);
}

static void ack_before_hello_is_a_protocol_error(void **state)
{
    fixture *f = *state;
    assert_int_equal(rx(f, f->c, 0, "a1"), SRV_DLV_ERROR);
    assert_string_equal(f->c->reason, "lifeline.v1: ack before hello");
}

static void a_second_hello_is_a_protocol_error(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    assert_int_equal(rx(f, f->c, 0, "h " SID " 0000000000000000 0 1"), SRV_DLV_ERROR);
    assert_string_equal(f->c->reason, "lifeline.v1: second hello");
}

static void a_welcome_from_a_client_is_a_protocol_error(void **state)
{
    fixture *f = *state;
    assert_int_equal(rx(f, f->c, 0, "w 1122334455667788 0 n 1 0"), SRV_DLV_ERROR);
    assert_string_equal(f->c->reason, "lifeline.v1: welcome from a client");
}

static void a_unit_that_does_not_parse_is_named(void **state)
{
    fixture *f = *state;
    assert_int_equal(rx(f, f->c, 0, "x"), SRV_DLV_ERROR);
    assert_string_equal(f->c->reason, "lifeline.v1: not a lifeline.v1 unit");
    srv_dlv_conn *c2 = srv_dlv_conn_new(NULL);
    hello_on(f, c2, SID, 0, 0, 1, 0, NULL);
    /* a number past 2^64 - 1 */
    assert_int_equal(rx(f, c2, 0, "18446744073709551616 x"), SRV_DLV_ERROR);
    assert_string_equal(c2->reason, "lifeline.v1: number out of range");
    srv_dlv_conn_release(&f->d, c2, 0);
    srv_dlv_conn *c3 = srv_dlv_conn_new(NULL);
    hello_on(f, c3, SID2, 0, 0, 1, 0, NULL);
    assert_int_equal(rx(f, c3, 0, "a0"), SRV_DLV_ERROR);
    assert_string_equal(c3->reason, "lifeline.v1: number 0 where 1 or more is needed");
    srv_dlv_conn_release(&f->d, c3, 0);
}

/* --- sequence numbers, client to server ----------------------------------- */

static void a_new_session_is_welcomed_with_n_in_a_new_epoch(void **state)
{
    fixture *f = *state;
    srv_dlv_welcome w;
    assert_string_equal(hello_on(f, f->c, SID, 0, 0, 1, 0, &w), "w 1122334455667788 0 n 1 0");
    assert_false(w.resumed);
    assert_false(w.recovered);
    assert_int_equal(f->d.stats.sessions, 1);
    assert_int_equal(f->d.stats.resumes_not_recovered, 0); /* not a resume */
}

static void messages_in_order_are_delivered_once_and_duplicates_dropped(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    assert_int_equal(rx(f, f->c, 0, "1 one"), SRV_DLV_DELIVER);
    assert_int_equal(f->u.payload_len, 3);
    assert_int_equal(rx(f, f->c, 0, "2 two"), SRV_DLV_DELIVER);
    assert_int_equal(rx(f, f->c, 0, "1 one"), SRV_DLV_NOTHING);
    assert_int_equal(rx(f, f->c, 0, "2 two"), SRV_DLV_NOTHING);
    assert_int_equal(rx(f, f->c, 0, "3 "), SRV_DLV_DELIVER); /* an empty payload */
    assert_int_equal(f->d.stats.accepted, 3);
    assert_int_equal(f->d.stats.duplicates, 2);
}

static void a_gap_is_a_protocol_error_naming_both_numbers(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 43); /* the server acknowledged 42 before */
    assert_int_equal(rx(f, f->c, 0, "45 x"), SRV_DLV_ERROR);
    assert_string_equal(f->c->reason, "lifeline.v1: gap: expected 43, got 45");
    /* nothing after the error is delivered */
    assert_int_equal(rx(f, f->c, 0, "43 x"), SRV_DLV_ERROR);
}

static void a_huge_jump_is_a_gap(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    assert_int_equal(rx(f, f->c, 0, "18446744073709551615 x"), SRV_DLV_ERROR);
    assert_string_equal(f->c->reason, "lifeline.v1: gap: expected 1, got 18446744073709551615");
}

static void numbers_up_to_2_64_minus_1_work_and_nothing_wraps(void **state)
{
    fixture *f = *state;
    /* the client holds only its last possible number */
    assert_string_equal(hello(f, 0, 0, UINT64_MAX),
                        "w 1122334455667788 18446744073709551614 n 1 0");
    assert_int_equal(rx(f, f->c, 0, "18446744073709551615 last"), SRV_DLV_DELIVER);
    assert_int_equal(rx(f, f->c, 0, "18446744073709551615 last"), SRV_DLV_NOTHING);
    assert_int_equal(rx(f, f->c, 0, "1 old"), SRV_DLV_NOTHING);
    commit(f);
    assert_string_equal(next(f, f->c, 100), "a18446744073709551615");
}

/* --- skips ------------------------------------------------------------------ */

static void a_skip_takes_its_numbers_as_received_without_delivering_them(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    assert_int_equal(rx(f, f->c, 0, "1 one"), SRV_DLV_DELIVER);
    /* 2 to 5 were dropped by the client's outbox, unsent */
    assert_int_equal(rx(f, f->c, 0, "s5"), SRV_DLV_NOTHING);
    assert_int_equal(f->c->session->accepted, 5);
    assert_int_equal(f->d.stats.accepted, 1);
    assert_int_equal(f->d.stats.skipped, 4);
    /* data goes on after the skip with no gap; what it covered is a duplicate */
    assert_int_equal(rx(f, f->c, 0, "6 six"), SRV_DLV_DELIVER);
    assert_int_equal(rx(f, f->c, 0, "3 three"), SRV_DLV_NOTHING);
    assert_int_equal(f->d.stats.duplicates, 1);
    assert_int_equal(f->d.stats.accepted, 2);
}

static void a_skip_is_committed_and_acknowledged_as_usual(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    assert_int_equal(rx(f, f->c, 100, "s7"), SRV_DLV_NOTHING);
    char out[64] = "";
    assert_int_equal(srv_dlv_dirty_each(&f->d, write_mark, out), 0);
    assert_string_equal(out, SID "=7");
    /* owed like a message: ack_delay after it, and only once committed */
    assert_int_equal(srv_dlv_next_deadline(&f->d, 100), 120);
    assert_true(srv_dlv_commit_due(&f->d, 120));
    assert_string_equal(next(f, f->c, 120), "");
    commit(f);
    assert_int_equal(f->d.stats.acknowledged, 0); /* no message was handed on */
    assert_string_equal(next(f, f->c, 120), "a7");
    /* a resume is welcomed with the skipped numbers accepted */
    srv_dlv_conn_release(&f->d, f->c, 200);
    f->c = srv_dlv_conn_new(f);
    assert_string_equal(hello(f, EPOCH, 0, 1), "w 1122334455667788 7 r 1 0");
}

static void a_skip_at_or_below_what_was_received_says_nothing_new(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 11); /* 1 to 10 acknowledged by a server before */
    assert_int_equal(rx(f, f->c, 0, "11 m"), SRV_DLV_DELIVER);
    commit(f);
    assert_string_equal(next(f, f->c, 20), "a11");
    assert_int_equal(rx(f, f->c, 30, "s11"), SRV_DLV_NOTHING);
    assert_int_equal(rx(f, f->c, 30, "s4"), SRV_DLV_NOTHING);
    assert_int_equal(f->c->session->accepted, 11);
    assert_int_equal(f->d.stats.skipped, 0);
    assert_false(srv_dlv_dirty(&f->d));
    assert_int_equal(srv_dlv_next_deadline(&f->d, 30), -1); /* no ack owed for it */
    assert_string_equal(next(f, f->c, 100), "");
    assert_int_equal(rx(f, f->c, 100, "12 m"), SRV_DLV_DELIVER);
}

static void a_skip_before_hello_or_malformed_is_a_protocol_error(void **state)
{
    fixture *f = *state;
    assert_int_equal(rx(f, f->c, 0, "s3"), SRV_DLV_ERROR);
    assert_string_equal(f->c->reason, "lifeline.v1: skip before hello");
    srv_dlv_conn *c2 = srv_dlv_conn_new(NULL);
    hello_on(f, c2, SID, 0, 0, 1, 0, NULL);
    assert_int_equal(rx(f, c2, 0, "s0"), SRV_DLV_ERROR);
    assert_string_equal(c2->reason, "lifeline.v1: number 0 where 1 or more is needed");
    srv_dlv_conn_release(&f->d, c2, 0);
}

static void a_skip_to_2_64_minus_1_leaves_no_number(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    assert_int_equal(rx(f, f->c, 0, "s18446744073709551615"), SRV_DLV_NOTHING);
    assert_int_equal(rx(f, f->c, 0, "18446744073709551615 x"), SRV_DLV_NOTHING); /* a duplicate */
    commit(f);
    assert_string_equal(next(f, f->c, 100), "a18446744073709551615");
}

/* --- acknowledgements ------------------------------------------------------ */

static void acks_go_after_ack_every_messages_once_committed(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    for (int i = 1; i < 32; i++)
        assert_int_equal(rx(f, f->c, 0, "%d m", i), SRV_DLV_DELIVER);
    assert_false(srv_dlv_commit_due(&f->d, 0));
    assert_string_equal(next(f, f->c, 0), "");
    assert_int_equal(rx(f, f->c, 0, "32 m"), SRV_DLV_DELIVER);
    /* due, but not before the mark is committed */
    assert_true(srv_dlv_commit_due(&f->d, 0));
    assert_false(srv_dlv_has_write(&f->d, f->c, 0));
    assert_string_equal(next(f, f->c, 0), "");
    commit(f);
    assert_int_equal(f->d.stats.acknowledged, 32);
    assert_false(srv_dlv_commit_due(&f->d, 0));
    assert_true(srv_dlv_has_write(&f->d, f->c, 0));
    assert_string_equal(next(f, f->c, 0), "a32");
    assert_string_equal(next(f, f->c, 0), "");
    assert_int_equal(srv_dlv_next_deadline(&f->d, 0), -1);
}

static void acks_go_ack_delay_after_the_first_unacknowledged_message(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    assert_int_equal(rx(f, f->c, 100, "1 m"), SRV_DLV_DELIVER);
    assert_int_equal(rx(f, f->c, 110, "2 m"), SRV_DLV_DELIVER);
    assert_int_equal(srv_dlv_next_deadline(&f->d, 110), 120);
    assert_false(srv_dlv_commit_due(&f->d, 119));
    assert_true(srv_dlv_commit_due(&f->d, 120));
    assert_int_equal(srv_dlv_next_deadline(&f->d, 120), -1); /* due now: not a deadline */
    commit(f);
    assert_string_equal(next(f, f->c, 119), "");
    assert_string_equal(next(f, f->c, 120), "a2");
}

static void a_duplicate_is_acknowledged_again_by_the_same_rule(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    rx(f, f->c, 0, "1 m");
    commit(f);
    assert_string_equal(next(f, f->c, 20), "a1");
    assert_int_equal(rx(f, f->c, 30, "1 m"), SRV_DLV_NOTHING);
    assert_false(srv_dlv_commit_due(&f->d, 50)); /* nothing new to commit */
    assert_string_equal(next(f, f->c, 49), "");
    assert_string_equal(next(f, f->c, 50), "a1");
}

static void an_ack_covers_only_what_is_committed(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    rx(f, f->c, 0, "1 m");
    rx(f, f->c, 0, "2 m");
    commit(f);
    rx(f, f->c, 5, "3 m");
    /* due at 20 for 1 and 2; 3 is not committed: the ack says 2 */
    assert_string_equal(next(f, f->c, 20), "a2");
    assert_false(srv_dlv_commit_due(&f->d, 39)); /* 3 is owed from 20 on */
    assert_true(srv_dlv_commit_due(&f->d, 40));
    commit(f);
    assert_string_equal(next(f, f->c, 40), "a3");
}

static void an_ack_for_a_message_never_sent_is_a_protocol_error(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    for (int i = 0; i < 42; i++)
        push(f, f->c, "x");
    for (int i = 0; i < 42; i++)
        next(f, f->c, 0);
    push(f, f->c, "queued, not written");
    assert_int_equal(rx(f, f->c, 0, "a42"), SRV_DLV_NOTHING);
    assert_int_equal(rx(f, f->c, 0, "a10"), SRV_DLV_NOTHING); /* below: ignored */
    assert_int_equal(rx(f, f->c, 0, "a99"), SRV_DLV_ERROR);
    assert_string_equal(f->c->reason, "lifeline.v1: ack 99 for a message never sent (last 42)");
}

static void an_ack_at_2_64_minus_1_never_sent_is_a_protocol_error(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    assert_int_equal(rx(f, f->c, 0, "a18446744073709551615"), SRV_DLV_ERROR);
    assert_string_equal(f->c->reason,
                        "lifeline.v1: ack 18446744073709551615 for a message never sent (last 0)");
}

/* --- the server's stream --------------------------------------------------- */

static void the_stream_numbers_messages_from_1_and_acked_ones_are_dropped(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    push(f, f->c, "a");
    push(f, f->c, "b");
    assert_string_equal(next(f, f->c, 0), "1 a");
    assert_string_equal(next(f, f->c, 0), "2 b");
    assert_string_equal(next(f, f->c, 0), "");
    srv_dlv_session *s = f->c->session;
    assert_int_equal(s->ring_count, 2);
    rx(f, f->c, 0, "a1");
    assert_int_equal(s->ring_count, 1);
    rx(f, f->c, 0, "a2");
    assert_int_equal(s->ring_count, 0);
}

static void messages_before_the_hello_wait_for_it(void **state)
{
    fixture *f = *state;
    push(f, f->c, "early");
    assert_string_equal(next(f, f->c, 0), "");
    hello(f, 0, 0, 1); /* the welcome first */
    assert_string_equal(next(f, f->c, 0), "1 early");
}

/* --- resume ----------------------------------------------------------------- */

/* A session with messages 1..5 sent, the client gone. */
static void five_sent_then_gone(fixture *f)
{
    hello(f, 0, 0, 1);
    for (int i = 1; i <= 5; i++) {
        char t[8];
        snprintf(t, sizeof(t), "m%d", i);
        push(f, f->c, t);
        next(f, f->c, 0);
    }
    srv_dlv_conn_release(&f->d, f->c, 0);
    f->c = srv_dlv_conn_new(f);
}

static void a_resume_in_the_epoch_with_the_messages_held_is_recovered(void **state)
{
    fixture *f = *state;
    five_sent_then_gone(f);
    srv_dlv_welcome w;
    assert_string_equal(hello_on(f, f->c, SID, EPOCH, 3, 1, 0, &w), "w 1122334455667788 0 r 4 5");
    assert_true(w.resumed);
    assert_true(w.recovered);
    assert_int_equal(w.replayed, 2);
    assert_string_equal(next(f, f->c, 0), "4 m4");
    assert_string_equal(next(f, f->c, 0), "5 m5");
    push(f, f->c, "m6");
    assert_string_equal(next(f, f->c, 0), "6 m6");
    assert_int_equal(f->d.stats.replayed, 2);
    assert_int_equal(f->d.stats.resumes_recovered, 1);
}

static void a_resume_with_nothing_missed_is_recovered_with_first_past_last(void **state)
{
    fixture *f = *state;
    five_sent_then_gone(f);
    assert_string_equal(hello_on(f, f->c, SID, EPOCH, 5, 1, 0, NULL),
                        "w 1122334455667788 0 r 6 5");
    assert_string_equal(next(f, f->c, 0), "");
}

static void messages_sent_to_a_session_without_connection_are_replayed(void **state)
{
    fixture *f = *state;
    five_sent_then_gone(f);
    srv_msg *m = srv_msg_new("while away", 10, false);
    assert_int_equal(srv_dlv_push_idle(&f->d, "shop", NULL, m, 0), 1);
    assert_int_equal(srv_dlv_push_idle(&f->d, "other", NULL, m, 0), 0);
    /* nor to the one excepted (a broadcast's sender) */
    assert_int_equal(srv_dlv_push_idle(&f->d, "shop", srv_dlv_find(&f->d, &f->u.session), m, 0),
                     0);
    srv_msg_unref(m);
    assert_string_equal(hello_on(f, f->c, SID, EPOCH, 5, 1, 0, NULL),
                        "w 1122334455667788 0 r 6 6");
    assert_string_equal(next(f, f->c, 0), "6 while away");
}

static void another_epoch_is_not_recovered_and_goes_on_from_last(void **state)
{
    fixture *f = *state;
    five_sent_then_gone(f);
    srv_dlv_welcome w;
    assert_string_equal(hello_on(f, f->c, SID, 0x99, 3, 1, 0, &w), "w 1122334455667788 0 n 1 5");
    assert_true(w.resumed);
    assert_false(w.recovered);
    assert_string_equal(next(f, f->c, 0), "");
    push(f, f->c, "m6");
    assert_string_equal(next(f, f->c, 0), "6 m6");
    assert_int_equal(f->d.stats.resumes_not_recovered, 1);
    /* the client may acknowledge up to last, which it now has */
    assert_int_equal(rx(f, f->c, 0, "a5"), SRV_DLV_NOTHING);
}

static void received_above_the_last_sent_is_not_recovered(void **state)
{
    fixture *f = *state;
    five_sent_then_gone(f);
    assert_string_equal(hello_on(f, f->c, SID, EPOCH, 9, 1, 0, NULL), "w 1122334455667788 0 n 1 5");
}

static void a_resume_needing_a_dropped_message_is_not_recovered(void **state)
{
    fixture *f = *state;
    srv_dlv_cfg cfg;
    srv_dlv_cfg_init(&cfg);
    cfg.replay_max = 3;
    srv_dlv_conn_release(&f->d, f->c, 0);
    srv_dlv_free(&f->d);
    srv_dlv_init(&f->d, &cfg);
    f->c = srv_dlv_conn_new(f);
    five_sent_then_gone(f); /* holds 3, 4, 5 */
    assert_string_equal(hello_on(f, f->c, SID, EPOCH, 1, 1, 0, NULL), "w 1122334455667788 0 n 3 5");
    srv_dlv_conn_release(&f->d, f->c, 0);
    f->c = srv_dlv_conn_new(f);
    /* the client now has 5; nothing more to send */
    assert_string_equal(hello_on(f, f->c, SID, EPOCH, 5, 1, 0, NULL), "w 1122334455667788 0 r 6 5");
}

static void replay_ms_drops_old_messages(void **state)
{
    fixture *f = *state;
    five_sent_then_gone(f);
    srv_dlv_sweep(&f->d, 120000, NULL, NULL); /* exactly replay_ms old: kept */
    srv_dlv_session *s = srv_map_get(&f->d.sessions, SID);
    assert_int_equal(s->ring_count, 5);
    srv_dlv_sweep(&f->d, 120001, NULL, NULL);
    assert_int_equal(s->ring_count, 0);
    assert_string_equal(hello_on(f, f->c, SID, EPOCH, 3, 1, 0, NULL), "w 1122334455667788 0 n 6 5");
}

static void the_mark_rises_to_held_minus_1_and_never_falls(void **state)
{
    fixture *f = *state;
    /* unknown to memory, its mark in the database is 20 */
    assert_string_equal(hello_on(f, f->c, SID, 0, 0, 10, 20, NULL), "w 1122334455667788 20 n 1 0");
    assert_int_equal(rx(f, f->c, 0, "20 dup"), SRV_DLV_NOTHING);
    assert_int_equal(rx(f, f->c, 0, "21 new"), SRV_DLV_DELIVER);
    srv_dlv_conn_release(&f->d, f->c, 0);
    f->c = srv_dlv_conn_new(f);
    /* another server acknowledged up to 29: that counts */
    assert_string_equal(hello_on(f, f->c, SID, EPOCH, 0, 30, 0, NULL), "w 1122334455667788 29 r 1 0");
    assert_true(srv_dlv_dirty(&f->d));
    assert_int_equal(rx(f, f->c, 0, "30 x"), SRV_DLV_DELIVER);
}

static void the_welcome_says_only_the_committed_mark(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    rx(f, f->c, 0, "1 a");
    commit(f);
    rx(f, f->c, 0, "2 b"); /* accepted, not yet committed */
    srv_dlv_conn_release(&f->d, f->c, 0);
    f->c = srv_dlv_conn_new(f);
    assert_string_equal(hello_on(f, f->c, SID, EPOCH, 0, 2, 0, NULL), "w 1122334455667788 1 r 1 0");
    /* the client sends 2 again: a duplicate, acknowledged once committed */
    assert_int_equal(rx(f, f->c, 0, "2 b"), SRV_DLV_NOTHING);
    assert_true(srv_dlv_commit_due(&f->d, 20));
    commit(f);
    assert_string_equal(next(f, f->c, 20), "a2");
}

static void a_session_belongs_to_its_identity(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    srv_dlv_conn *c2 = srv_dlv_conn_new(NULL);
    assert_int_equal(rx(f, c2, 0, "h " SID " 0000000000000000 0 1"), SRV_DLV_HELLO);
    srv_dlv_welcome w;
    assert_int_equal(srv_dlv_hello(&f->d, c2, &f->u, "shop", "intruder", 0, 0, 7, &w), SRV_DLV_ERROR);
    assert_string_equal(c2->reason, "lifeline.v1: session " SID " belongs to another user or store");
    srv_dlv_conn_release(&f->d, c2, 0);
}

static void a_hello_on_a_new_connection_displaces_the_old_one(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    srv_dlv_conn *c2 = srv_dlv_conn_new(NULL);
    srv_dlv_welcome w;
    hello_on(f, c2, SID, EPOCH, 0, 1, 0, &w);
    assert_ptr_equal(w.displaced, f->c);
    assert_true(f->c->failed);
    assert_null(f->c->session);
    push(f, c2, "x");
    assert_string_equal(next(f, c2, 0), "1 x");
    srv_dlv_conn_release(&f->d, f->c, 0); /* the old one ends: the session stays with c2 */
    f->c = c2;
    assert_ptr_equal(f->c->session->conn, c2);
}

/* --- bounds ------------------------------------------------------------------ */

static void a_reader_that_falls_behind_the_buffer_is_told(void **state)
{
    fixture *f = *state;
    srv_dlv_cfg cfg;
    srv_dlv_cfg_init(&cfg);
    cfg.replay_max = 4;
    cfg.replay_max_bytes = 100;
    srv_dlv_conn_release(&f->d, f->c, 0);
    srv_dlv_free(&f->d);
    srv_dlv_init(&f->d, &cfg);
    f->c = srv_dlv_conn_new(f);
    hello(f, 0, 0, 1);
    srv_msg *m = srv_msg_new("x", 1, false);
    for (int i = 0; i < 4; i++)
        assert_int_equal(srv_dlv_push_conn(&f->d, f->c, m, 0), 0);
    next(f, f->c, 0); /* 1 written */
    assert_int_equal(srv_dlv_push_conn(&f->d, f->c, m, 0), 0);  /* drops 1: written */
    assert_int_equal(srv_dlv_push_conn(&f->d, f->c, m, 0), -1); /* drops 2: not written */
    srv_msg_unref(m);
    /* bytes: one big message pushes out the rest, but is kept itself */
    char big[200];
    memset(big, 'b', sizeof(big));
    m = srv_msg_new(big, sizeof(big), false);
    srv_dlv_push_conn(&f->d, f->c, m, 0);
    srv_msg_unref(m);
    assert_int_equal(f->c->session->ring_count, 1);
    assert_int_equal(f->c->session->ring_bytes, 200);
}

static void sessions_without_connection_are_evicted_least_recently_used_first(void **state)
{
    fixture *f = *state;
    srv_dlv_cfg cfg;
    srv_dlv_cfg_init(&cfg);
    cfg.max_sessions = 2;
    srv_dlv_conn_release(&f->d, f->c, 0);
    srv_dlv_free(&f->d);
    srv_dlv_init(&f->d, &cfg);
    f->c = NULL;
    const char *ids[] = {"00000000000000000000000000000001", "00000000000000000000000000000002",
                         "00000000000000000000000000000003", "00000000000000000000000000000004"};
    for (int i = 0; i < 4; i++) {
        srv_dlv_conn *c = srv_dlv_conn_new(NULL);
        hello_on(f, c, ids[i], 0, 0, 1, 0, NULL);
        if (i == 3)
            assert_int_equal(rx(f, c, 0, "1 x"), SRV_DLV_DELIVER); /* not committed */
        srv_dlv_conn_release(&f->d, c, i);
    }
    /* 1 went when 3 ended; 2 went when 4 ended */
    assert_false(srv_dlv_known(&f->d, ids[0]));
    assert_false(srv_dlv_known(&f->d, ids[1]));
    assert_true(srv_dlv_known(&f->d, ids[2]));
    assert_true(srv_dlv_known(&f->d, ids[3]));
    assert_int_equal(f->d.stats.evicted, 2);
    assert_int_equal(f->d.stats.sessions, 2);
    /* with max 0: 3 goes, and 4 once its mark is committed */
    f->d.cfg.max_sessions = 0;
    commit(f);
    assert_int_equal(f->d.stats.sessions, 0);
    f->c = srv_dlv_conn_new(f);
}

static void count(void *owner, void *ctx)
{
    (void)owner;
    (*(int *)ctx)++;
}

static void a_failed_commit_goes_back_to_the_durable_mark(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    rx(f, f->c, 0, "1 a");
    commit(f);
    rx(f, f->c, 0, "2 b");
    int closed = 0;
    srv_dlv_rolled_back(&f->d, count, &closed);
    assert_int_equal(closed, 1);
    assert_false(srv_dlv_dirty(&f->d));
    /* 2 is handed on again when it comes again */
    assert_int_equal(rx(f, f->c, 0, "2 b"), SRV_DLV_DELIVER);
}

/* --- effects after the commit ------------------------------------------------ */

/* What the application was given at a commit: "store/user:seq=payload;"... */
typedef struct acted {
    char log[512];
    int n;
} acted;

static void record(srv_dlv_session *s, uint64_t seq, srv_msg *m, void *ctx)
{
    acted *a = ctx;
    size_t used = strlen(a->log);
    snprintf(a->log + used, sizeof(a->log) - used, "%s/%s:%llu=%.*s;", s->store, s->user,
             (unsigned long long)seq, (int)m->len, (const char *)srv_msg_payload(m));
    a->n++;
}

/* Receives text on c; a message delivered is held, as the adapter does. */
static srv_dlv_verdict rx_hold(fixture *f, srv_dlv_conn *c, int64_t now, const char *text)
{
    srv_dlv_verdict v = rx(f, c, now, "%s", text);
    if (v == SRV_DLV_DELIVER) {
        srv_msg *m = srv_msg_new(f->u.payload, f->u.payload_len, false);
        assert_int_equal(srv_dlv_hold(&f->d, c, f->u.seq, m, now), 0);
        srv_msg_unref(m);
    }
    return v;
}

static void accepted_messages_reach_the_application_only_after_their_commit(void **state)
{
    fixture *f = *state;
    acted a = {0};
    hello(f, 0, 0, 1);
    assert_int_equal(rx_hold(f, f->c, 0, "1 one"), SRV_DLV_DELIVER);
    assert_int_equal(rx_hold(f, f->c, 0, "1 one again"), SRV_DLV_NOTHING);
    assert_int_equal(rx_hold(f, f->c, 0, "s3"), SRV_DLV_NOTHING);
    assert_int_equal(rx_hold(f, f->c, 0, "4 four"), SRV_DLV_DELIVER);
    assert_int_equal(f->d.held_count, 2);
    srv_dlv_committed(&f->d, record, &a);
    /* in order, once each, with the mark that covers them durable */
    assert_string_equal(a.log, "shop/till:1=one;shop/till:4=four;");
    assert_int_equal(f->c->session->durable, 4);
    assert_int_equal(f->d.held_count, 0);
    /* the next commit has nothing to act on */
    srv_dlv_committed(&f->d, record, &a);
    assert_int_equal(a.n, 2);
}

static void a_failed_commit_drops_what_it_held_and_the_resend_is_acted_on_once(void **state)
{
    fixture *f = *state;
    acted a = {0};
    hello(f, 0, 0, 1);
    rx_hold(f, f->c, 0, "1 one");
    srv_dlv_committed(&f->d, record, &a);
    rx_hold(f, f->c, 0, "2 two");
    int closed = 0;
    srv_dlv_rolled_back(&f->d, count, &closed);
    assert_int_equal(closed, 1);
    assert_int_equal(f->d.held_count, 0);
    srv_dlv_committed(&f->d, record, &a);
    assert_string_equal(a.log, "shop/till:1=one;"); /* 2 was never acted on */
    /* the client sends 2 again: accepted and acted on, once */
    assert_int_equal(rx_hold(f, f->c, 0, "2 two"), SRV_DLV_DELIVER);
    srv_dlv_committed(&f->d, record, &a);
    assert_string_equal(a.log, "shop/till:1=one;shop/till:2=two;");
}

static void held_messages_of_a_session_whose_connection_ended_are_committed_by_time(void **state)
{
    fixture *f = *state;
    acted a = {0};
    hello(f, 0, 0, 1);
    rx_hold(f, f->c, 100, "1 one");
    srv_dlv_conn_release(&f->d, f->c, 105); /* no ack is owed any more */
    f->c = srv_dlv_conn_new(f);
    assert_false(srv_dlv_commit_due(&f->d, 119));
    assert_int_equal(srv_dlv_next_deadline(&f->d, 119), 120);
    assert_true(srv_dlv_commit_due(&f->d, 120));
    srv_dlv_committed(&f->d, record, &a);
    assert_string_equal(a.log, "shop/till:1=one;");
    assert_false(srv_dlv_commit_due(&f->d, 500));
    assert_int_equal(srv_dlv_next_deadline(&f->d, 500), -1);
}

static void a_session_with_held_messages_outlives_the_session_cap_until_acted_on(void **state)
{
    fixture *f = *state;
    acted a = {0};
    f->d.cfg.max_sessions = 0;
    hello(f, 0, 0, 1);
    rx_hold(f, f->c, 0, "1 one");
    srv_dlv_conn_release(&f->d, f->c, 0);
    f->c = srv_dlv_conn_new(f);
    assert_int_equal(f->d.stats.sessions, 1); /* held: kept */
    srv_dlv_committed(&f->d, record, &a);
    assert_string_equal(a.log, "shop/till:1=one;");
    assert_int_equal(f->d.stats.sessions, 0); /* evicted once acted on */
}

static void echo_back(srv_dlv_session *s, uint64_t seq, srv_msg *m, void *ctx)
{
    (void)seq;
    srv_dlv_push_session(ctx, s, m, 0);
}

static void the_echoes_of_what_an_ack_covers_are_written_before_it(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    rx_hold(f, f->c, 0, "1 one");
    rx_hold(f, f->c, 0, "2 two");
    assert_true(srv_dlv_commit_due(&f->d, 20));
    assert_string_equal(next(f, f->c, 20), ""); /* nothing before the commit */
    srv_dlv_committed(&f->d, echo_back, &f->d);
    assert_string_equal(next(f, f->c, 20), "1 one");
    assert_string_equal(next(f, f->c, 20), "2 two");
    assert_string_equal(next(f, f->c, 20), "a2");
    assert_string_equal(next(f, f->c, 20), "");
}

static void a_reply_pushed_to_a_session_without_connection_waits_for_its_resume(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    srv_dlv_session *s = f->c->session;
    srv_dlv_conn_release(&f->d, f->c, 0);
    f->c = srv_dlv_conn_new(f);
    srv_msg *m = srv_msg_new("echo", 4, false);
    assert_int_equal(srv_dlv_push_session(&f->d, s, m, 0), 0);
    srv_msg_unref(m);
    assert_string_equal(hello_on(f, f->c, SID, EPOCH, 0, 1, 0, NULL),
                        "w 1122334455667788 0 r 1 1");
    assert_string_equal(next(f, f->c, 0), "1 echo");
}

static void the_marks_to_write_are_listed(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    rx(f, f->c, 0, "1 a");
    rx(f, f->c, 0, "2 b");
    char out[64] = "";
    assert_int_equal(srv_dlv_dirty_each(&f->d, write_mark, out), 0);
    assert_string_equal(out, SID "=2");
    commit(f);
    assert_false(srv_dlv_dirty(&f->d));
}

/* --- sessions shared with other instances (adopt, disown, restart) ------ */

static void pushed(const srv_dlv_session *s, const srv_dlv_entry *e, void *ctx)
{
    char *log = ctx;
    size_t used = strlen(log);
    snprintf(log + used, 256 - used, "%s:%llu=%.*s;", s->hex, (unsigned long long)e->seq,
             (int)e->msg->len, (const char *)srv_msg_payload(e->msg));
}

/* The stream another instance left (epoch EPOCH, messages 4 and 5 not yet
 * acknowledged) and mark 9: adopted, a resume from 3 is recovered and
 * replays them; the observer sees what is numbered from then on. */
static void an_adopted_stream_resumes_where_the_other_instance_left_it(void **state)
{
    fixture *f = *state;
    char log[256] = "";
    f->d.on_push = pushed;
    f->d.on_push_ctx = log;
    srv_msg *m4 = srv_msg_new("m4", 2, false), *m5 = srv_msg_new("m5", 2, false);
    srv_dlv_entry e[2] = {{4, 0, m4}, {5, 0, m5}};
    srv_dlv_stored st = {.hwm = 9, .epoch = EPOCH, .last = 5, .entries = e, .count = 2};
    ll_wire_session id;
    ll_wire_read(HELLO0, strlen(HELLO0), 0, &f->u);
    assert_int_equal(f->u.kind, LL_WIRE_HELLO);
    id = f->u.session;
    srv_dlv_session *s = srv_dlv_adopt(&f->d, &id, "shop", "till", &st, 77, 0);
    srv_msg_unref(m4);
    srv_msg_unref(m5);
    assert_non_null(s);
    assert_ptr_equal(srv_dlv_find_hex(&f->d, SID), s);
    assert_string_equal(log, ""); /* adopted entries are not numbered again */
    srv_dlv_welcome w;
    assert_string_equal(hello_on(f, f->c, SID, EPOCH, 3, 10, 0, &w),
                        "w 1122334455667788 9 r 4 5");
    assert_true(w.recovered);
    assert_string_equal(next(f, f->c, 0), "4 m4");
    assert_string_equal(next(f, f->c, 0), "5 m5");
    push(f, f->c, "m6");
    assert_string_equal(log, SID ":6=m6;");
    /* a duplicate of what the other instance accepted is dropped */
    assert_int_equal(rx(f, f->c, 0, "9 old"), SRV_DLV_NOTHING);
    assert_int_equal(rx(f, f->c, 0, "10 new"), SRV_DLV_DELIVER);
}

static void a_stream_not_left_whole_starts_a_new_epoch(void **state)
{
    fixture *f = *state;
    srv_dlv_stored st = {.hwm = 3};
    ll_wire_read(HELLO0, strlen(HELLO0), 0, &f->u);
    assert_int_equal(f->u.kind, LL_WIRE_HELLO);
    ll_wire_session id = f->u.session;
    assert_non_null(srv_dlv_adopt(&f->d, &id, "shop", "till", &st, 77, 0));
    srv_dlv_welcome w;
    assert_string_equal(hello_on(f, f->c, SID, EPOCH, 5, 4, 0, &w), "w 000000000000004d 3 n 1 0");
    assert_false(w.recovered);
}

static void a_disowned_session_drops_only_its_own_held_messages(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    srv_dlv_conn *c2 = srv_dlv_conn_new(f);
    hello_on(f, c2, SID2, 0, 0, 1, 0, NULL);
    assert_int_equal(rx_hold(f, f->c, 0, "1 mine"), SRV_DLV_DELIVER);
    assert_int_equal(rx_hold(f, c2, 0, "1 theirs"), SRV_DLV_DELIVER);
    int closed = 0;
    srv_dlv_disown(&f->d, srv_dlv_find_hex(&f->d, SID), count, &closed);
    assert_int_equal(closed, 1);
    assert_null(srv_dlv_find_hex(&f->d, SID));
    assert_true(f->c->failed); /* nothing more is read from its connection */
    acted a = {0};
    srv_dlv_committed(&f->d, record, &a);
    assert_string_equal(a.log, "shop/till:1=theirs;");
    srv_dlv_conn_release(&f->d, c2, 0);
}

static void a_restarted_stream_is_not_recovered(void **state)
{
    fixture *f = *state;
    five_sent_then_gone(f);
    srv_dlv_restart_stream(&f->d, srv_dlv_find_hex(&f->d, SID), 99);
    srv_dlv_welcome w;
    assert_string_equal(hello_on(f, f->c, SID, EPOCH, 3, 1, 0, &w), "w 0000000000000063 0 n 1 0");
    assert_false(w.recovered);
}

static bool not_claimed(const srv_dlv_session *s)
{
    return !s->claimed;
}

/* A failed local commit after Redis took the claimed sessions' marks: only
 * the others roll back; the claimed ones' messages reach the application. */
static void a_partial_roll_back_keeps_the_sessions_it_is_not_asked_for(void **state)
{
    fixture *f = *state;
    hello(f, 0, 0, 1);
    srv_dlv_conn *c2 = srv_dlv_conn_new(f);
    hello_on(f, c2, SID2, 0, 0, 1, 0, NULL);
    srv_dlv_find_hex(&f->d, SID)->claimed = true;
    assert_int_equal(rx_hold(f, f->c, 0, "1 shared"), SRV_DLV_DELIVER);
    assert_int_equal(rx_hold(f, c2, 0, "1 alone"), SRV_DLV_DELIVER);
    int closed = 0;
    srv_dlv_rolled_back_if(&f->d, not_claimed, count, &closed);
    assert_int_equal(closed, 1); /* c2's */
    acted a = {0};
    srv_dlv_committed(&f->d, record, &a);
    assert_string_equal(a.log, "shop/till:1=shared;");
    /* the rolled back one takes its message again when it comes again */
    assert_int_equal(rx(f, c2, 0, "1 alone"), SRV_DLV_DELIVER);
    assert_int_equal(rx(f, f->c, 0, "1 shared"), SRV_DLV_NOTHING); /* a duplicate */
    srv_dlv_conn_release(&f->d, c2, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(data_before_hello_is_a_protocol_error),
        T(ack_before_hello_is_a_protocol_error),
        T(a_second_hello_is_a_protocol_error),
        T(a_welcome_from_a_client_is_a_protocol_error),
        T(a_unit_that_does_not_parse_is_named),
        T(a_new_session_is_welcomed_with_n_in_a_new_epoch),
        T(messages_in_order_are_delivered_once_and_duplicates_dropped),
        T(a_gap_is_a_protocol_error_naming_both_numbers),
        T(a_huge_jump_is_a_gap),
        T(numbers_up_to_2_64_minus_1_work_and_nothing_wraps),
        T(a_skip_takes_its_numbers_as_received_without_delivering_them),
        T(a_skip_is_committed_and_acknowledged_as_usual),
        T(a_skip_at_or_below_what_was_received_says_nothing_new),
        T(a_skip_before_hello_or_malformed_is_a_protocol_error),
        T(a_skip_to_2_64_minus_1_leaves_no_number),
        T(acks_go_after_ack_every_messages_once_committed),
        T(acks_go_ack_delay_after_the_first_unacknowledged_message),
        T(a_duplicate_is_acknowledged_again_by_the_same_rule),
        T(an_ack_covers_only_what_is_committed),
        T(an_ack_for_a_message_never_sent_is_a_protocol_error),
        T(an_ack_at_2_64_minus_1_never_sent_is_a_protocol_error),
        T(the_stream_numbers_messages_from_1_and_acked_ones_are_dropped),
        T(messages_before_the_hello_wait_for_it),
        T(a_resume_in_the_epoch_with_the_messages_held_is_recovered),
        T(a_resume_with_nothing_missed_is_recovered_with_first_past_last),
        T(messages_sent_to_a_session_without_connection_are_replayed),
        T(another_epoch_is_not_recovered_and_goes_on_from_last),
        T(received_above_the_last_sent_is_not_recovered),
        T(a_resume_needing_a_dropped_message_is_not_recovered),
        T(replay_ms_drops_old_messages),
        T(the_mark_rises_to_held_minus_1_and_never_falls),
        T(the_welcome_says_only_the_committed_mark),
        T(a_session_belongs_to_its_identity),
        T(a_hello_on_a_new_connection_displaces_the_old_one),
        T(a_reader_that_falls_behind_the_buffer_is_told),
        T(sessions_without_connection_are_evicted_least_recently_used_first),
        T(a_failed_commit_goes_back_to_the_durable_mark),
        T(the_marks_to_write_are_listed),
        T(accepted_messages_reach_the_application_only_after_their_commit),
        T(a_failed_commit_drops_what_it_held_and_the_resend_is_acted_on_once),
        T(held_messages_of_a_session_whose_connection_ended_are_committed_by_time),
        T(a_session_with_held_messages_outlives_the_session_cap_until_acted_on),
        T(a_reply_pushed_to_a_session_without_connection_waits_for_its_resume),
        T(the_echoes_of_what_an_ack_covers_are_written_before_it),
        T(an_adopted_stream_resumes_where_the_other_instance_left_it),
        T(a_stream_not_left_whole_starts_a_new_epoch),
        T(a_disowned_session_drops_only_its_own_held_messages),
        T(a_restarted_stream_is_not_recovered),
        T(a_partial_roll_back_keeps_the_sessions_it_is_not_asked_for),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
