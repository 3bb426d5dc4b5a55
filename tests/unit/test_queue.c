/* The outbound queue: order, bounds, and putting a message back first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/queue.h"

static void messages_come_out_in_the_order_they_went_in(void **state)
{
    (void)state;
    ll_queue q;
    ll_queue_init(&q, 10, 1000);
    for (int i = 0; i < 5; i++) {
        char text[8];
        int n = snprintf(text, sizeof(text), "m%d", i);
        ll_msg *m = ll_msg_new(text, (size_t)n, 0);
        assert_true(ll_queue_fits(&q, m));
        ll_queue_push(&q, m);
    }
    assert_int_equal(q.count, 5);
    assert_int_equal(q.bytes, 10);
    for (int i = 0; i < 5; i++) {
        ll_msg *m = ll_queue_pop(&q);
        char want[8];
        snprintf(want, sizeof(want), "m%d", i);
        assert_string_equal((char *)m->data, want); /* NUL-terminated */
        free(m);
    }
    assert_null(ll_queue_pop(&q));
    assert_int_equal(q.bytes, 0);
}

static void bounds_count_messages_and_bytes(void **state)
{
    (void)state;
    ll_queue q;
    ll_queue_init(&q, 2, 10);
    ll_msg *a = ll_msg_new("12345", 5, 0), *b = ll_msg_new("123456", 6, 1);
    ll_queue_push(&q, a);
    assert_false(ll_queue_fits(&q, b)); /* 11 bytes > 10 */
    ll_msg *c = ll_msg_new("1", 1, 0), *d = ll_msg_new("2", 1, 0);
    ll_queue_push(&q, c);
    assert_false(ll_queue_fits(&q, d)); /* 3 messages > 2 */
    free(b);
    free(d);
    free(ll_queue_pop(&q));
    free(ll_queue_pop(&q));
}

static void a_message_put_back_goes_out_first(void **state)
{
    (void)state;
    ll_queue q;
    ll_queue_init(&q, 10, 100);
    ll_queue_push(&q, ll_msg_new("a", 1, 0));
    ll_queue_push(&q, ll_msg_new("b", 1, 0));
    ll_msg *first = ll_queue_pop(&q);
    ll_queue_push_front(&q, first);
    ll_msg *again = ll_queue_pop(&q);
    assert_ptr_equal(again, first);
    free(again);
    ll_msg *b = ll_queue_pop(&q);
    assert_memory_equal(b->data, "b", 1);
    free(b);
    ll_queue_push_front(&q, ll_msg_new("z", 1, 1)); /* into an empty queue */
    assert_int_equal(q.count, 1);
    ll_msg *z = ll_queue_pop(&q);
    assert_int_equal(z->is_binary, 1);
    free(z);
    assert_null(q.tail);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(messages_come_out_in_the_order_they_went_in),
        cmocka_unit_test(bounds_count_messages_and_bytes),
        cmocka_unit_test(a_message_put_back_goes_out_first),
    };
    return cmocka_run_group_tests_name("queue", tests, NULL, NULL);
}
