/* The incremental UTF-8 check (src/proto/ws_utf8.c): table 3-7 of the
 * Unicode standard, byte by byte and across any split of the text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "proto/ws_utf8.h"

typedef struct sample {
    const char *bytes;
    size_t bad_at; /* offset of the first invalid byte; (size_t)-1: valid */
    int incomplete; /* valid so far, but ends inside a character */
} sample;

#define VALID ((size_t)-1)

static const sample samples[] = {
    {"", VALID, 0},
    {"hello, world", VALID, 0},
    {"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", VALID, 0}, /* κόσμε */
    {"\x7f", VALID, 0},
    {"\xc2\x80", VALID, 0},                  /* U+0080 */
    {"\xdf\xbf", VALID, 0},                  /* U+07FF */
    {"\xe0\xa0\x80", VALID, 0},              /* U+0800 */
    {"\xed\x9f\xbf", VALID, 0},              /* U+D7FF */
    {"\xee\x80\x80", VALID, 0},              /* U+E000 */
    {"\xef\xbf\xbf", VALID, 0},              /* U+FFFF */
    {"\xf0\x90\x80\x80", VALID, 0},          /* U+10000 */
    {"\xf4\x8f\xbf\xbf", VALID, 0},          /* U+10FFFF */
    {"\xef\xbb\xbf" "bom", VALID, 0},
    {"\x80", 0, 0},                          /* a lone continuation */
    {"a\xbf", 1, 0},
    {"\xc0\xaf", 0, 0},                      /* overlong '/' */
    {"\xc1\xbf", 0, 0},
    {"\xe0\x9f\xbf", 1, 0},                  /* overlong U+07FF */
    {"\xed\xa0\x80", 1, 0},                  /* U+D800, a surrogate */
    {"\xed\xbf\xbf", 1, 0},                  /* U+DFFF */
    {"\xf0\x8f\xbf\xbf", 1, 0},              /* overlong U+FFFF */
    {"\xf4\x90\x80\x80", 1, 0},              /* U+110000 */
    {"\xf5\x80\x80\x80", 0, 0},
    {"\xfe", 0, 0},
    {"\xff", 0, 0},
    {"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80" "edited", 12, 0},
    {"\xe2\x82", VALID, 1},                  /* a cut euro sign */
    {"\xe2\x82" "A", 2, 0},                  /* ... followed by ASCII */
    {"\xf0\x9f\x98", VALID, 1},
    {"\xc2", VALID, 1},
    {"0123456789abcdef0123456789\xc3\x28", 27, 0}, /* past the 8-byte steps */
    {"0123456789abcdef\x80" "0123456789abcdef", 16, 0},
};

static void every_sample_is_judged_as_the_table_says(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        const sample *s = &samples[i];
        size_t len = strlen(s->bytes);
        ll_utf8_stream u;
        ll_utf8_stream_init(&u);
        size_t got = ll_utf8_stream_feed(&u, s->bytes, len);
        if (s->bad_at == VALID) {
            assert_int_equal(got, len);
            assert_int_equal(u.bad, 0);
            assert_int_equal(ll_utf8_stream_complete(&u), !s->incomplete);
            assert_int_equal(ll_utf8_stream_valid(s->bytes, len), !s->incomplete);
        } else {
            assert_int_equal(got, s->bad_at);
            assert_int_equal(u.bad, 1);
            assert_false(ll_utf8_stream_complete(&u));
            assert_false(ll_utf8_stream_valid(s->bytes, len));
        }
    }
}

/* Fed in two pieces at every split point, and byte by byte: the verdict and
 * the place of the first bad byte do not depend on where the text is cut. */
static void any_split_gives_the_same_verdict_at_the_same_byte(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        const sample *s = &samples[i];
        size_t len = strlen(s->bytes);
        for (size_t cut = 0; cut <= len; cut++) {
            ll_utf8_stream u;
            ll_utf8_stream_init(&u);
            size_t a = ll_utf8_stream_feed(&u, s->bytes, cut);
            size_t at = a < cut ? a : VALID;
            if (at == VALID) {
                size_t b = ll_utf8_stream_feed(&u, s->bytes + cut, len - cut);
                if (b < len - cut)
                    at = cut + b;
            }
            assert_int_equal(at, s->bad_at);
            assert_int_equal(ll_utf8_stream_complete(&u),
                             s->bad_at == VALID && !s->incomplete);
        }
        ll_utf8_stream u;
        ll_utf8_stream_init(&u);
        size_t at = VALID;
        for (size_t k = 0; k < len && at == VALID; k++)
            if (ll_utf8_stream_feed(&u, s->bytes + k, 1) == 0)
                at = k;
        assert_int_equal(at, s->bad_at);
    }
}

static void once_invalid_it_stays_invalid_until_init(void **state)
{
    (void)state;
    ll_utf8_stream u;
    ll_utf8_stream_init(&u);
    assert_int_equal(ll_utf8_stream_feed(&u, "ok\xff", 3), 2);
    assert_int_equal(ll_utf8_stream_feed(&u, "fine", 4), 0);
    assert_int_equal(ll_utf8_stream_feed(&u, "", 0), 0);
    assert_true(u.bad);
    assert_false(ll_utf8_stream_complete(&u));
    ll_utf8_stream_init(&u);
    assert_int_equal(ll_utf8_stream_feed(&u, "fine", 4), 4);
    assert_true(ll_utf8_stream_complete(&u));
}

/* Every code point from U+0000 to U+10FFFF, encoded by hand, is valid but
 * the surrogates, which are refused at their second byte. */
static void every_scalar_value_is_valid_and_every_surrogate_is_not(void **state)
{
    (void)state;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        unsigned char b[4];
        size_t n;
        if (cp < 0x80) {
            b[0] = (unsigned char)cp;
            n = 1;
        } else if (cp < 0x800) {
            b[0] = (unsigned char)(0xC0 | cp >> 6);
            b[1] = (unsigned char)(0x80 | (cp & 0x3F));
            n = 2;
        } else if (cp < 0x10000) {
            b[0] = (unsigned char)(0xE0 | cp >> 12);
            b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
            b[2] = (unsigned char)(0x80 | (cp & 0x3F));
            n = 3;
        } else {
            b[0] = (unsigned char)(0xF0 | cp >> 18);
            b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
            b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
            b[3] = (unsigned char)(0x80 | (cp & 0x3F));
            n = 4;
        }
        int surrogate = cp >= 0xD800 && cp <= 0xDFFF;
        if (ll_utf8_stream_valid(b, n) == surrogate)
            fail_msg("U+%04X judged %s", (unsigned)cp, surrogate ? "valid" : "invalid");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_sample_is_judged_as_the_table_says),
        cmocka_unit_test(any_split_gives_the_same_verdict_at_the_same_byte),
        cmocka_unit_test(once_invalid_it_stays_invalid_until_init),
        cmocka_unit_test(every_scalar_value_is_valid_and_every_surrogate_is_not),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
