/* lifeline.v1's units (src/proto/wire.c): every grammar of
 * docs/protocol.md read and written, and what is refused, with the words
 * that name it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "proto/wire.h"

static int read_text(const char *s, ll_wire_unit *u)
{
    return ll_wire_read(s, strlen(s), 0, u);
}

static void data_units_carry_their_number_and_payload_in_both_types(void **state)
{
    (void)state;
    ll_wire_unit u;
    assert_int_equal(read_text("42 {\"type\":\"sale\"}", &u), LL_WIRE_DATA);
    assert_true(u.seq == 42);
    assert_int_equal(u.payload_len, strlen("{\"type\":\"sale\"}"));
    assert_memory_equal(u.payload, "{\"type\":\"sale\"}", u.payload_len);

    const unsigned char bin[] = {'7', ' ', 0x00, 0xff, ' ', 0x80};
    assert_int_equal(ll_wire_read(bin, sizeof(bin), 1, &u), LL_WIRE_DATA);
    assert_true(u.seq == 7);
    assert_int_equal(u.payload_len, 4);
    assert_memory_equal(u.payload, bin + 2, 4);

    assert_int_equal(read_text("1 ", &u), LL_WIRE_DATA); /* an empty payload */
    assert_int_equal(u.payload_len, 0);
    assert_int_equal(read_text("18446744073709551615 x", &u), LL_WIRE_DATA);
    assert_true(u.seq == UINT64_MAX);

    char head[LL_WIRE_HEADER_MAX];
    size_t n = ll_wire_data_header(UINT64_MAX, head);
    assert_int_equal(n, 21);
    assert_memory_equal(head, "18446744073709551615 ", n);
    assert_int_equal(ll_wire_data_header(3, head), 2);
    assert_memory_equal(head, "3 ", 2);
}

static void acks_hellos_and_welcomes_round_trip(void **state)
{
    (void)state;
    char out[LL_WIRE_CONTROL_MAX];
    ll_wire_unit u;

    ll_wire_ack(UINT64_MAX, out);
    assert_string_equal(out, "a18446744073709551615");
    assert_int_equal(read_text(out, &u), LL_WIRE_ACK);
    assert_true(u.seq == UINT64_MAX);
    ll_wire_skip(42, out);
    assert_string_equal(out, "s42");
    assert_int_equal(read_text(out, &u), LL_WIRE_SKIP);
    assert_true(u.seq == 42);
    assert_int_equal(read_text("s0", &u), LL_WIRE_INVALID);
    assert_int_equal(ll_wire_read("s1", 2, 1, &u), LL_WIRE_INVALID); /* text only */

    ll_wire_session s;
    for (int i = 0; i < 16; i++)
        s.bytes[i] = (uint8_t)(0xa0 + i);
    size_t n = ll_wire_hello(&s, 0, 0, 1, out);
    assert_string_equal(out,
                        "h a0a1a2a3a4a5a6a7a8a9aaabacadaeaf 0000000000000000 0 1");
    assert_int_equal(n, strlen(out));
    assert_int_equal(read_text(out, &u), LL_WIRE_HELLO);
    assert_memory_equal(u.session.bytes, s.bytes, 16);
    assert_true(u.epoch == 0 && u.received == 0 && u.held == 1);

    ll_wire_hello(&s, UINT64_MAX, UINT64_MAX, UINT64_MAX, out);
    assert_true(strlen(out) < LL_WIRE_CONTROL_MAX);
    assert_int_equal(read_text(out, &u), LL_WIRE_HELLO);
    assert_true(u.epoch == UINT64_MAX && u.received == UINT64_MAX && u.held == UINT64_MAX);

    ll_wire_welcome(0x1234abcd, 41, 1, 8, 12, out);
    assert_string_equal(out, "w 000000001234abcd 41 r 8 12");
    assert_int_equal(read_text(out, &u), LL_WIRE_WELCOME);
    assert_true(u.epoch == 0x1234abcd && u.accepted == 41 && u.recovered == 1 &&
                u.first == 8 && u.last == 12);
    ll_wire_welcome(UINT64_MAX, 0, 0, 1, 0, out); /* nothing sent yet */
    assert_int_equal(read_text(out, &u), LL_WIRE_WELCOME);
    assert_true(!u.recovered && u.first == 1 && u.last == 0 && u.accepted == 0);
    ll_wire_welcome(1, UINT64_MAX, 0, UINT64_MAX, UINT64_MAX, out);
    assert_true(strlen(out) < LL_WIRE_CONTROL_MAX);
    assert_int_equal(read_text(out, &u), LL_WIRE_WELCOME);

    /* upper-case hex is read; the session is written lower-case */
    assert_int_equal(read_text("h A0A1A2A3A4A5A6A7A8A9AAABACADAEAF 00000000000000FF 3 4", &u),
                     LL_WIRE_HELLO);
    assert_memory_equal(u.session.bytes, s.bytes, 16);
    assert_true(u.epoch == 0xff);
    char hex[LL_WIRE_SESSION_HEX + 1];
    ll_wire_session_hex(&u.session, hex);
    assert_string_equal(hex, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
}

static void what_is_not_exactly_a_unit_is_refused_with_its_reason(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *why;
    } rows[] = {
        {"", "empty message"},
        {"hello", "missing space"},
        {"x1", "not a lifeline.v1 unit"},
        {" 1 x", "not a lifeline.v1 unit"},
        {"0 x", "not a lifeline.v1 unit"},
        {"01 x", "not a lifeline.v1 unit"},
        {"a01", "bad number (leading zero)"},
        {"42", "missing space"},
        {"42x", "missing space"},
        {"18446744073709551616 x", "number out of range"},
        {"99999999999999999999 x", "number out of range"},
        {"a", "bad number"},
        {"a0", "number 0 where 1 or more is needed"},
        {"a-1", "bad number"},
        {"a+1", "bad number"},
        {"a 1", "bad number"},
        {"a1 ", "trailing bytes"},
        {"a18446744073709551616", "number out of range"},
        {"h a0a1a2a3a4a5a6a7a8a9aaabacadaeaf 0000000000000000 0 0", "number 0 where 1 or more is needed"},
        {"h a0a1a2a3a4a5a6a7a8a9aaabacadaeag 0000000000000000 0 1", "bad session id"},
        {"h a0a1a2a3a4a5a6a7a8a9aaabacadae 0000000000000000 0 1", "bad session id"},
        {"h a0a1a2a3a4a5a6a7a8a9aaabacadaeaf 000000000000000 0 1", "bad epoch"},
        {"h a0a1a2a3a4a5a6a7a8a9aaabacadaeaf 0000000000000000 0 1 ", "trailing bytes"},
        {"h a0a1a2a3a4a5a6a7a8a9aaabacadaeaf  0000000000000000 0 1", "bad epoch"},
        {"h a0a1a2a3a4a5a6a7a8a9aaabacadaeaf 0000000000000000 0", "missing space"},
        {"w 0000000000000000 0 n 1 0", "epoch 0 in a welcome"},
        {"w 0000000000000001 0 x 1 0", "bad status (r or n)"},
        {"w 0000000000000001 0 r 3 1", "first past last + 1"},
        {"w 0000000000000001 0 r 0 1", "number 0 where 1 or more is needed"},
        {"w 0000000000000001 00 r 1 1", "bad number (leading zero)"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        ll_wire_unit u;
        int kind = read_text(rows[i].text, &u);
        if (kind != LL_WIRE_INVALID || !u.error || strcmp(u.error, rows[i].why) != 0)
            fail_msg("\"%s\": kind %d, \"%s\", want \"%s\"", rows[i].text, kind,
                     u.error ? u.error : "(none)", rows[i].why);
    }
    /* control units are text: in a binary message they are refused */
    ll_wire_unit u;
    assert_int_equal(ll_wire_read("a1", 2, 1, &u), LL_WIRE_INVALID);
    assert_string_equal(u.error, "a control unit in a binary message");
    /* only len bytes are read */
    assert_int_equal(ll_wire_read("a12", 2, 0, &u), LL_WIRE_ACK);
    assert_true(u.seq == 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(data_units_carry_their_number_and_payload_in_both_types),
        cmocka_unit_test(acks_hellos_and_welcomes_round_trip),
        cmocka_unit_test(what_is_not_exactly_a_unit_is_refused_with_its_reason),
    };
    return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
