/* Shared messages and the bounded queue: reference counting, FIFO order,
 * and both bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/outq.h"

static void one_message_is_shared_by_many_queues(void **state)
{
    (void)state;
    srv_msg *m = srv_msg_new("hello", 5, false);
    srv_outq a = {0}, b = {0};
    assert_int_equal(srv_outq_push(&a, m, 10, 100), 0);
    assert_int_equal(srv_outq_push(&b, m, 10, 100), 0);
    assert_int_equal(m->refs, 3);
    srv_msg_unref(m);
    srv_msg *got = srv_outq_pop(&a);
    assert_ptr_equal(got, m);
    assert_memory_equal(srv_msg_payload(got), "hello", 5);
    srv_msg_unref(got);
    srv_outq_clear(&b);
    assert_int_equal(b.count, 0); /* and ASan sees no leak */
}

static void messages_come_out_in_order(void **state)
{
    (void)state;
    srv_outq q = {0};
    for (int i = 0; i < 5; i++) {
        char c = (char)('a' + i);
        srv_msg *m = srv_msg_new(&c, 1, i % 2);
        srv_outq_push(&q, m, 10, 100);
        srv_msg_unref(m);
    }
    for (int i = 0; i < 5; i++) {
        srv_msg *m = srv_outq_pop(&q);
        assert_int_equal(srv_msg_payload(m)[0], 'a' + i);
        assert_int_equal(m->binary, i % 2);
        srv_msg_unref(m);
    }
    assert_null(srv_outq_pop(&q));
    assert_null(q.tail);
}

static void a_full_queue_refuses_by_count_or_bytes(void **state)
{
    (void)state;
    srv_outq q = {0};
    srv_msg *m = srv_msg_new("0123456789", 10, false);
    assert_int_equal(srv_outq_push(&q, m, 3, 1000), 0);
    assert_int_equal(srv_outq_push(&q, m, 3, 1000), 0);
    assert_int_equal(srv_outq_push(&q, m, 3, 1000), 0);
    assert_int_equal(srv_outq_push(&q, m, 3, 1000), -1);
    assert_int_equal(q.count, 3);
    assert_int_equal(q.bytes, 30);
    srv_outq_clear(&q);
    assert_int_equal(srv_outq_push(&q, m, 100, 25), 0);
    assert_int_equal(srv_outq_push(&q, m, 100, 25), 0);
    assert_int_equal(srv_outq_push(&q, m, 100, 25), -1);
    srv_outq_clear(&q);
    assert_int_equal(m->refs, 1);
    srv_msg_unref(m);
}

static void a_large_message_still_fits_an_empty_queue(void **state)
{
    (void)state;
    srv_outq q = {0};
    srv_msg *m = srv_msg_new(NULL, 0, false);
    srv_msg_unref(m);
    char big[64] = {0};
    m = srv_msg_new(big, sizeof(big), true);
    assert_int_equal(srv_outq_push(&q, m, 10, 16), 0);
    assert_int_equal(srv_outq_push(&q, m, 10, 16), -1);
    srv_outq_clear(&q);
    srv_msg_unref(m);
}

static void headroom_precedes_the_payload(void **state)
{
    (void)state;
    char *text = strdup("{\"type\":\"pong\"}");
    srv_msg *m = srv_msg_from_text(text);
    assert_int_equal(m->len, 15);
    assert_ptr_equal(srv_msg_payload(m), m->bytes + SRV_MSG_HEADROOM);
    assert_int_equal(srv_msg_payload(m)[m->len], '\0');
    srv_msg_unref(m);
    assert_null(srv_msg_from_text(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_message_is_shared_by_many_queues),
        cmocka_unit_test(messages_come_out_in_order),
        cmocka_unit_test(a_full_queue_refuses_by_count_or_bytes),
        cmocka_unit_test(a_large_message_still_fits_an_empty_queue),
        cmocka_unit_test(headroom_precedes_the_payload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
