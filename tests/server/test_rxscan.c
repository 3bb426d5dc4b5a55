/* The client's frames as read off the socket (src/server/rxscan.c): pings
 * taken out whole, whatever the pieces the bytes come in, every other
 * byte passed untouched, and the mask rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "server/rxscan.h"

static const uint8_t KEY[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Appends a client frame (masked with KEY unless unmasked) to buf at *n. */
static void frame(uint8_t *buf, size_t *n, uint8_t b0, const void *payload, size_t len,
                  bool unmasked)
{
    const uint8_t *p = payload;
    uint8_t mask = unmasked ? 0 : 0x80;
    buf[(*n)++] = b0;
    if (len < 126) {
        buf[(*n)++] = (uint8_t)(mask | len);
    } else if (len < 65536) {
        buf[(*n)++] = mask | 126;
        buf[(*n)++] = (uint8_t)(len >> 8);
        buf[(*n)++] = (uint8_t)len;
    } else {
        buf[(*n)++] = mask | 127;
        for (int i = 7; i >= 0; i--)
            buf[(*n)++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    if (!unmasked) {
        memcpy(buf + *n, KEY, 4);
        *n += 4;
    }
    for (size_t i = 0; i < len; i++)
        buf[(*n)++] = unmasked ? p[i] : (uint8_t)(p[i] ^ KEY[i & 3]);
}

typedef struct run {
    uint8_t out[70000];
    size_t out_len;
    char pings[16][SRV_RXSCAN_PING_MAX + 1];
    size_t npings;
    srv_rxscan_event stop; /* MORE, or the rule broken */
    size_t stop_at;       /* input offset of the byte that broke it */
} run;

/* Scans in[0..n) in pieces of `piece` bytes (copied, as recv would). */
static void scan(const uint8_t *in, size_t n, size_t piece, run *r)
{
    srv_rxscan s;
    srv_rxscan_init(&s);
    memset(r, 0, sizeof(*r));
    r->stop = SRV_RXSCAN_MORE;
    for (size_t at = 0; at < n && r->stop == SRV_RXSCAN_MORE; at += piece) {
        size_t len = n - at < piece ? n - at : piece, i = 0;
        uint8_t buf[70000];
        memcpy(buf, in + at, len);
        while (i < len) {
            size_t used, made;
            srv_rxscan_event ev = srv_rxscan_run(&s, buf + i, len - i, r->out + r->out_len,
                                                 &used, &made);
            assert_true(made <= used);
            i += used;
            r->out_len += made;
            if (ev == SRV_RXSCAN_PING) {
                assert_true(r->npings < 16);
                memcpy(r->pings[r->npings], s.ping, s.ping_len);
                r->pings[r->npings++][s.ping_len] = 0;
            } else if (ev != SRV_RXSCAN_MORE) {
                r->stop = ev;
                r->stop_at = at + i;
                break;
            }
        }
    }
}

static const size_t PIECES[] = {1, 2, 3, 5, 7, 64, 70000};
#define NPIECES (sizeof(PIECES) / sizeof(PIECES[0]))

static void masked_frames_pass_untouched(void **state)
{
    (void)state;
    static uint8_t in[70000], big[66000];
    size_t n = 0;
    memset(big, 'b', sizeof(big));
    frame(in, &n, 0x81, "hello", 5, false);
    frame(in, &n, 0x82, big, 300, false);   /* 16-bit length */
    frame(in, &n, 0x01, "frag", 4, false);  /* a fragmented message */
    frame(in, &n, 0x80, "ment", 4, false);
    frame(in, &n, 0x8a, "pong", 4, false);  /* control frames but pings */
    frame(in, &n, 0x82, big, 66000, false); /* 64-bit length */
    frame(in, &n, 0x81, "", 0, false);
    frame(in, &n, 0x88, "\x03\xe8", 2, false);
    for (size_t p = 0; p < NPIECES; p++) {
        static run r;
        scan(in, n, PIECES[p], &r);
        assert_int_equal(r.stop, SRV_RXSCAN_MORE);
        assert_int_equal(r.npings, 0);
        assert_int_equal(r.out_len, n);
        assert_memory_equal(r.out, in, n);
    }
}

static void whole_pings_are_taken_out_in_any_pieces(void **state)
{
    (void)state;
    static uint8_t in[2000], expect[2000];
    size_t n = 0, e = 0;
    frame(in, &n, 0x01, "be", 2, false);
    frame(expect, &e, 0x01, "be", 2, false);
    frame(in, &n, 0x89, "ping-0", 6, false); /* between two fragments */
    frame(in, &n, 0x80, "fore", 4, false);
    frame(expect, &e, 0x80, "fore", 4, false);
    for (int i = 1; i < 10; i++) {
        char p[16];
        snprintf(p, sizeof(p), "ping-%d", i);
        frame(in, &n, 0x89, p, strlen(p), false);
    }
    frame(in, &n, 0x89, "", 0, false); /* an empty one */
    char longest[SRV_RXSCAN_PING_MAX + 1];
    memset(longest, 'x', SRV_RXSCAN_PING_MAX);
    longest[SRV_RXSCAN_PING_MAX] = 0;
    frame(in, &n, 0x89, longest, SRV_RXSCAN_PING_MAX, false);
    frame(in, &n, 0x81, "after", 5, false);
    frame(expect, &e, 0x81, "after", 5, false);
    for (size_t p = 0; p < NPIECES; p++) {
        static run r;
        scan(in, n, PIECES[p], &r);
        assert_int_equal(r.stop, SRV_RXSCAN_MORE);
        assert_int_equal(r.npings, 12);
        for (int i = 0; i < 10; i++) {
            char want[16];
            snprintf(want, sizeof(want), "ping-%d", i);
            assert_string_equal(r.pings[i], want);
        }
        assert_string_equal(r.pings[10], "");
        assert_string_equal(r.pings[11], longest);
        assert_int_equal(r.out_len, e);
        assert_memory_equal(r.out, expect, e);
    }
}

static void pings_that_break_rules_pass_on_for_libwebsockets(void **state)
{
    (void)state;
    uint8_t in[200];
    size_t n = 0;
    frame(in, &n, 0x09, "nofin", 5, false); /* a fragmented ping */
    frame(in, &n, 0xc9, "rsv", 3, false);   /* RSV1 set */
    run r;
    scan(in, n, 1, &r);
    assert_int_equal(r.stop, SRV_RXSCAN_MORE);
    assert_int_equal(r.npings, 0);
    assert_int_equal(r.out_len, n);
    assert_memory_equal(r.out, in, n);
}

static void an_unmasked_frame_stops_the_scan_at_its_length_byte(void **state)
{
    (void)state;
    uint8_t in[200];
    size_t n = 0, good;
    frame(in, &n, 0x81, "ok", 2, false);
    good = n;
    frame(in, &n, 0x81, "hello", 5, true);
    frame(in, &n, 0x81, "later", 5, false);
    for (size_t p = 0; p < NPIECES; p++) {
        run r;
        scan(in, n, PIECES[p], &r);
        assert_int_equal(r.stop, SRV_RXSCAN_UNMASKED);
        assert_int_equal(r.stop_at, good + 1);
        /* what passed: the good frame and the bad one's first byte */
        assert_int_equal(r.out_len, good + 1);
        assert_memory_equal(r.out, in, good + 1);
    }
}

static void an_unmasked_ping_is_an_unmasked_frame(void **state)
{
    (void)state;
    uint8_t in[64];
    size_t n = 0;
    frame(in, &n, 0x89, "p", 1, true);
    run r;
    scan(in, n, 64, &r);
    assert_int_equal(r.stop, SRV_RXSCAN_UNMASKED);
    assert_int_equal(r.stop_at, 1);
    assert_int_equal(r.out_len, 0);
    assert_int_equal(r.npings, 0);
}

static void a_ping_over_125_bytes_stops_the_scan(void **state)
{
    (void)state;
    uint8_t in[300], big[126];
    size_t n = 0;
    memset(big, 'y', sizeof(big));
    frame(in, &n, 0x89, big, sizeof(big), false);
    run r;
    scan(in, n, 3, &r);
    assert_int_equal(r.stop, SRV_RXSCAN_LONG_PING);
    assert_int_equal(r.stop_at, 1);
    assert_int_equal(r.out_len, 0);
}

static void a_broken_stream_stays_broken(void **state)
{
    (void)state;
    srv_rxscan s;
    srv_rxscan_init(&s);
    uint8_t in[] = {0x81, 0x05, 'h', 'e', 'l', 'l', 'o'}, out[8];
    size_t used, made;
    assert_int_equal(srv_rxscan_run(&s, in, sizeof(in), out, &used, &made),
                     SRV_RXSCAN_UNMASKED);
    assert_int_equal(used, 1);
    assert_int_equal(made, 1);
    assert_int_equal(srv_rxscan_run(&s, in + 1, sizeof(in) - 1, out, &used, &made),
                     SRV_RXSCAN_UNMASKED);
    assert_int_equal(used, 0);
    assert_int_equal(made, 0);
}

static void the_scan_works_in_place(void **state)
{
    (void)state;
    uint8_t in[200], expect[200];
    size_t n = 0, e = 0, used, made, at = 0, o = 0;
    frame(in, &n, 0x81, "one", 3, false);
    frame(expect, &e, 0x81, "one", 3, false);
    frame(in, &n, 0x89, "p", 1, false);
    frame(in, &n, 0x81, "two", 3, false);
    frame(expect, &e, 0x81, "two", 3, false);
    srv_rxscan s;
    srv_rxscan_init(&s);
    int pings = 0;
    while (at < n) {
        srv_rxscan_event ev = srv_rxscan_run(&s, in + at, n - at, in + o, &used, &made);
        at += used;
        o += made;
        pings += ev == SRV_RXSCAN_PING;
    }
    assert_int_equal(pings, 1);
    assert_int_equal(o, e);
    assert_memory_equal(in, expect, e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(masked_frames_pass_untouched),
        cmocka_unit_test(whole_pings_are_taken_out_in_any_pieces),
        cmocka_unit_test(pings_that_break_rules_pass_on_for_libwebsockets),
        cmocka_unit_test(an_unmasked_frame_stops_the_scan_at_its_length_byte),
        cmocka_unit_test(an_unmasked_ping_is_an_unmasked_frame),
        cmocka_unit_test(a_ping_over_125_bytes_stops_the_scan),
        cmocka_unit_test(a_broken_stream_stays_broken),
        cmocka_unit_test(the_scan_works_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
