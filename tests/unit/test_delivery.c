/* The client's side of lifeline.v1 (src/core/delivery.c) in virtual time:
 * numbers, batched acks, duplicates, the resume after a reconnection or a
 * restart, and every protocol error a server can make, each closing the
 * connection with words that name it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "core/delivery.h"

enum { INVALID = 0, DATA, ACK, HELLO, WELCOME };

static ll_dlv_unit data(uint64_t seq)
{
    return (ll_dlv_unit){.kind = DATA, .seq = seq};
}

static ll_dlv_unit ack(uint64_t seq)
{
    return (ll_dlv_unit){.kind = ACK, .seq = seq};
}

static ll_dlv_unit welcome(uint64_t epoch, uint64_t accepted, int recovered, uint64_t first,
                           uint64_t last)
{
    return (ll_dlv_unit){.kind = WELCOME, .epoch = epoch, .accepted = accepted,
                         .recovered = recovered, .first = first, .last = last};
}

/* The one action of the last call, of type. */
static const ll_dlv_action *only(const ll_dlv *d, int type)
{
    assert_int_equal(d->n_actions, 1);
    assert_int_equal(d->actions[0].type, type);
    return &d->actions[0];
}

static void in(ll_dlv *d, ll_dlv_unit u, int64_t now)
{
    ll_dlv_unit_in(d, &u, now);
}

/* A new session, connected and welcomed: epoch 7, nothing on either side. */
static void fresh(ll_dlv *d, uint32_t every, int64_t delay)
{
    ll_dlv_init(d, every, delay);
    ll_dlv_restore(d, &(ll_dlv_saved){.next_seq = 1});
    ll_dlv_opened(d, 0);
    only(d, LL_DLV_SEND_HELLO);
    in(d, welcome(7, 0, 0, 1, 0), 0);
    const ll_dlv_action *r = only(d, LL_DLV_RESUMED);
    assert_int_equal(r->recovered, 0);
    assert_true(r->epoch == 7 && r->seq == 0);
    assert_int_equal(d->resumes_lost, 0); /* a new session lost nothing */
}

static void messages_are_numbered_sent_once_and_acked_cumulatively(void **state)
{
    (void)state;
    ll_dlv d;
    fresh(&d, 32, 20);
    for (uint64_t s = 1; s <= 3; s++) {
        ll_dlv_appended(&d, s);
        const ll_dlv_action *a = only(&d, LL_DLV_SEND);
        assert_true(a->seq == s && a->upto == s);
    }
    assert_true(ll_dlv_unacked(&d) == 3);
    in(&d, ack(2), 5);
    assert_true(only(&d, LL_DLV_ACKED)->seq == 2);
    in(&d, ack(1), 6); /* older: says nothing new */
    assert_int_equal(d.n_actions, 0);
    in(&d, ack(3), 7);
    assert_true(only(&d, LL_DLV_ACKED)->seq == 3);
    assert_true(ll_dlv_unacked(&d) == 0);
}

static void inbound_messages_are_delivered_once_in_order_and_acked_in_batches(void **state)
{
    (void)state;
    ll_dlv d;
    fresh(&d, 3, 20);
    in(&d, data(1), 100);
    assert_true(only(&d, LL_DLV_DELIVER)->seq == 1);
    assert_true(ll_dlv_deadline(&d) == 120); /* the delay runs from the first */
    in(&d, data(2), 110);
    only(&d, LL_DLV_DELIVER);
    assert_true(ll_dlv_deadline(&d) == 120);
    in(&d, data(3), 115); /* the third: the batch is full, the ack goes now */
    assert_int_equal(d.n_actions, 2);
    assert_int_equal(d.actions[0].type, LL_DLV_DELIVER);
    assert_int_equal(d.actions[1].type, LL_DLV_SEND_ACK);
    assert_true(d.actions[1].seq == 3);
    assert_true(ll_dlv_deadline(&d) == LL_DLV_NO_DEADLINE);

    in(&d, data(4), 200);
    ll_dlv_tick(&d, 219); /* not yet */
    assert_int_equal(d.n_actions, 0);
    ll_dlv_tick(&d, 220);
    assert_true(only(&d, LL_DLV_SEND_ACK)->seq == 4);
    ll_dlv_tick(&d, 300); /* nothing pending */
    assert_int_equal(d.n_actions, 0);

    /* a duplicate is dropped, counted, and acknowledged again */
    in(&d, data(4), 400);
    assert_true(only(&d, LL_DLV_DUPLICATE)->seq == 4);
    assert_true(d.duplicates == 1);
    ll_dlv_tick(&d, 420);
    assert_true(only(&d, LL_DLV_SEND_ACK)->seq == 4);
}

static void the_ack_delay_and_batch_are_the_configured_ones(void **state)
{
    (void)state;
    ll_dlv d;
    fresh(&d, 1, 0); /* every message acknowledged at once */
    in(&d, data(1), 5);
    assert_int_equal(d.n_actions, 2);
    assert_int_equal(d.actions[1].type, LL_DLV_SEND_ACK);
    fresh(&d, 1000, 250);
    for (uint64_t s = 1; s <= 999; s++)
        in(&d, data(s), (int64_t)s);
    assert_true(ll_dlv_deadline(&d) == 251);
    ll_dlv_tick(&d, 251);
    assert_true(only(&d, LL_DLV_SEND_ACK)->seq == 999);
}

static void a_reconnection_resends_what_was_not_acked_and_replays_what_was_missed(void **state)
{
    (void)state;
    ll_dlv d;
    fresh(&d, 32, 20);
    for (uint64_t s = 1; s <= 5; s++)
        ll_dlv_appended(&d, s);
    in(&d, ack(2), 10);
    in(&d, data(1), 11);
    in(&d, data(2), 12);
    ll_dlv_closed(&d);
    assert_true(ll_dlv_deadline(&d) == LL_DLV_NO_DEADLINE); /* the ack is forgotten */
    ll_dlv_appended(&d, 6); /* while offline: it waits for the resume */
    assert_int_equal(d.n_actions, 0);

    ll_dlv_opened(&d, 1000);
    only(&d, LL_DLV_SEND_HELLO);
    /* the hello the client layer writes: acked + 1 held, received */
    assert_true(d.acked == 2 && d.received == 2 && d.epoch == 7);
    /* the server had accepted 4 of them, and sent 3..5 meanwhile */
    in(&d, welcome(7, 4, 1, 3, 5), 1001);
    assert_int_equal(d.n_actions, 3);
    assert_int_equal(d.actions[0].type, LL_DLV_ACKED);
    assert_true(d.actions[0].seq == 4);
    assert_int_equal(d.actions[1].type, LL_DLV_RESUMED);
    assert_true(d.actions[1].recovered == 1 && d.actions[1].replay == 3);
    assert_int_equal(d.actions[2].type, LL_DLV_SEND);
    assert_true(d.actions[2].seq == 5 && d.actions[2].upto == 6);
    assert_true(d.resends == 1 && d.resumes == 1); /* 5 went out before, 6 did not */
    for (uint64_t s = 3; s <= 5; s++) {
        in(&d, data(s), 1002);
        assert_int_equal(d.actions[0].type, LL_DLV_DELIVER);
    }
    in(&d, data(2), 1003); /* a server that sends one again anyway */
    only(&d, LL_DLV_DUPLICATE);
}

static void a_lost_stream_says_not_recovered_and_carries_on_from_the_server_s_last(void **state)
{
    (void)state;
    ll_dlv d;
    fresh(&d, 32, 20);
    in(&d, data(1), 1);
    ll_dlv_closed(&d);
    ll_dlv_opened(&d, 50);
    in(&d, welcome(99, 0, 0, 40, 41), 51); /* a restarted server: new epoch */
    const ll_dlv_action *r = only(&d, LL_DLV_RESUMED);
    assert_true(!r->recovered && r->epoch == 99 && r->seq == 41 && r->replay == 0);
    assert_true(d.resumes_lost == 1);
    in(&d, data(42), 52);
    only(&d, LL_DLV_DELIVER);
}

static void a_restart_starts_from_what_the_outbox_kept(void **state)
{
    (void)state;
    ll_dlv d;
    ll_dlv_init(&d, 32, 20);
    ll_dlv_saved s = {.next_seq = 11, .acked = 6, .epoch = 5, .received = 30};
    memset(s.session, 0xab, sizeof(s.session));
    ll_dlv_restore(&d, &s);
    assert_memory_equal(d.session, s.session, 16);
    assert_true(ll_dlv_unacked(&d) == 4);
    ll_dlv_opened(&d, 0);
    in(&d, welcome(5, 6, 1, 31, 30), 1); /* nothing to replay */
    assert_int_equal(d.n_actions, 2);
    assert_true(d.actions[0].type == LL_DLV_RESUMED && d.actions[0].replay == 0);
    assert_true(d.actions[1].type == LL_DLV_SEND && d.actions[1].seq == 7 &&
                d.actions[1].upto == 10);
    assert_true(d.resends == 0); /* none went out from this process */
    /* a new message after the resend: the next number, sent after them */
    ll_dlv_appended(&d, 11);
    assert_true(only(&d, LL_DLV_SEND)->seq == 11);
}

static void dropped_oldest_messages_count_as_acknowledged(void **state)
{
    (void)state;
    ll_dlv d;
    fresh(&d, 32, 20);
    ll_dlv_closed(&d);
    for (uint64_t s = 1; s <= 4; s++)
        ll_dlv_appended(&d, s);
    ll_dlv_dropped(&d, 2);
    assert_true(ll_dlv_unacked(&d) == 2);
    ll_dlv_opened(&d, 0);
    in(&d, welcome(7, 2, 1, 1, 0), 0);
    assert_true(d.actions[d.n_actions - 1].type == LL_DLV_SEND &&
                d.actions[d.n_actions - 1].seq == 3);

    /* dropped while the hello was out: the server, which was told held 5,
     * is told to skip up to 6 before the data from 7 */
    ll_dlv_closed(&d);
    for (uint64_t s = 5; s <= 8; s++)
        ll_dlv_appended(&d, s);
    in(&d, ack(4), 0); /* closed: nothing is read */
    ll_dlv_dropped(&d, 4);
    ll_dlv_opened(&d, 0);
    ll_dlv_dropped(&d, 6);
    assert_int_equal(d.n_actions, 0);
    in(&d, welcome(7, 4, 1, 1, 0), 0);
    assert_int_equal(d.n_actions, 3);
    assert_int_equal(d.actions[0].type, LL_DLV_SEND_SKIP);
    assert_true(d.actions[0].seq == 6);
    assert_int_equal(d.actions[1].type, LL_DLV_RESUMED);
    assert_true(d.actions[2].type == LL_DLV_SEND && d.actions[2].seq == 7 &&
                d.actions[2].upto == 8);
    /* numbers the outbox gave and dropped before the machine heard of them */
    ll_dlv_dropped(&d, 10);
    assert_true(d.next_seq == 11 && d.acked == 10);
    in(&d, (ll_dlv_unit){.kind = 5, .seq = 3}, 0);
    assert_string_equal(only(&d, LL_DLV_FAIL)->text, "lifeline.v1: a skip from the server");
}

/* Each of these closes the connection with its words, and nothing after
 * it is delivered. */
static void every_protocol_error_fails_the_connection_with_its_words(void **state)
{
    (void)state;
    ll_dlv d;
    const char *text;

    fresh(&d, 32, 20);
    in(&d, data(3), 0);
    text = only(&d, LL_DLV_FAIL)->text;
    assert_string_equal(text, "lifeline.v1: gap: expected 1, got 3");
    in(&d, data(1), 0); /* nothing more is read */
    assert_int_equal(d.n_actions, 0);

    fresh(&d, 32, 20);
    in(&d, data(UINT64_MAX), 0); /* a huge jump */
    assert_string_equal(only(&d, LL_DLV_FAIL)->text,
                        "lifeline.v1: gap: expected 1, got 18446744073709551615");

    fresh(&d, 32, 20);
    ll_dlv_appended(&d, 1);
    in(&d, ack(2), 0);
    assert_string_equal(only(&d, LL_DLV_FAIL)->text,
                        "lifeline.v1: ack 2 for a message never sent (last 1)");

    fresh(&d, 32, 20);
    in(&d, welcome(7, 0, 0, 1, 0), 0);
    assert_string_equal(only(&d, LL_DLV_FAIL)->text, "lifeline.v1: a second welcome");

    fresh(&d, 32, 20);
    in(&d, (ll_dlv_unit){.kind = HELLO}, 0);
    assert_string_equal(only(&d, LL_DLV_FAIL)->text, "lifeline.v1: a hello from the server");

    fresh(&d, 32, 20);
    in(&d, (ll_dlv_unit){.kind = INVALID, .error = "bad number"}, 0);
    assert_string_equal(only(&d, LL_DLV_FAIL)->text, "lifeline.v1: bad number");

    ll_dlv_init(&d, 32, 20);
    ll_dlv_restore(&d, &(ll_dlv_saved){.next_seq = 1});
    ll_dlv_opened(&d, 0);
    in(&d, data(1), 0);
    assert_string_equal(only(&d, LL_DLV_FAIL)->text, "lifeline.v1: data before the welcome");
    ll_dlv_opened(&d, 0);
    in(&d, ack(1), 0);
    assert_string_equal(only(&d, LL_DLV_FAIL)->text, "lifeline.v1: ack before the welcome");

    /* welcomes that contradict the client */
    ll_dlv_saved s = {.next_seq = 11, .acked = 6, .epoch = 5, .received = 30};
    ll_dlv_restore(&d, &s);
    ll_dlv_opened(&d, 0);
    in(&d, welcome(5, 11, 1, 31, 30), 0); /* accepts a number never used */
    assert_string_equal(only(&d, LL_DLV_FAIL)->text,
                        "lifeline.v1: welcome accepts 11, but the client holds from 7");
    ll_dlv_opened(&d, 0);
    in(&d, welcome(5, 5, 1, 31, 30), 0); /* below what it had acknowledged */
    only(&d, LL_DLV_FAIL);
    ll_dlv_opened(&d, 0);
    in(&d, welcome(6, 6, 1, 31, 30), 0); /* "recovered" in another epoch */
    assert_string_equal(only(&d, LL_DLV_FAIL)->text,
                        "lifeline.v1: welcome recovers epoch 0000000000000006, but the "
                        "client's is 0000000000000005");
    ll_dlv_opened(&d, 0);
    in(&d, welcome(5, 6, 1, 20, 30), 0); /* replays what the client has */
    assert_string_equal(only(&d, LL_DLV_FAIL)->text,
                        "lifeline.v1: welcome replays from 20, but the client has up to 30");
    /* and a correct one still works after all that */
    ll_dlv_opened(&d, 0);
    in(&d, welcome(5, 6, 1, 31, 30), 0);
    assert_int_equal(d.actions[0].type, LL_DLV_RESUMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(messages_are_numbered_sent_once_and_acked_cumulatively),
        cmocka_unit_test(inbound_messages_are_delivered_once_in_order_and_acked_in_batches),
        cmocka_unit_test(the_ack_delay_and_batch_are_the_configured_ones),
        cmocka_unit_test(a_reconnection_resends_what_was_not_acked_and_replays_what_was_missed),
        cmocka_unit_test(a_lost_stream_says_not_recovered_and_carries_on_from_the_server_s_last),
        cmocka_unit_test(a_restart_starts_from_what_the_outbox_kept),
        cmocka_unit_test(dropped_oldest_messages_count_as_acknowledged),
        cmocka_unit_test(every_protocol_error_fails_the_connection_with_its_words),
    };
    return cmocka_run_group_tests_name("delivery", tests, NULL, NULL);
}
