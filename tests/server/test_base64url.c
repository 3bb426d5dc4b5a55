/* base64url without padding: RFC 4648 vectors, the URL-safe alphabet, and
 * strict decoding (bad characters, impossible lengths, stray bits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/base64url.h"

static void encodes_the_rfc4648_vectors_without_padding(void **state)
{
    (void)state;
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *out[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char buf[16];
        size_t n = srv_b64url_encode(in[i], strlen(in[i]), buf, sizeof(buf));
        assert_int_equal(n, strlen(out[i]));
        assert_string_equal(buf, out[i]);
        assert_int_equal(srv_b64url_encoded_len(strlen(in[i])), strlen(out[i]));
    }
}

static void uses_dash_and_underscore_instead_of_plus_and_slash(void **state)
{
    (void)state;
    const unsigned char bytes[] = {0xfb, 0xff, 0xbf};
    char buf[8];
    srv_b64url_encode(bytes, 3, buf, sizeof(buf));
    assert_string_equal(buf, "-_-_");
}

static void decodes_what_it_encodes(void **state)
{
    (void)state;
    unsigned char in[256], out[256];
    char text[400];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(i * 7 + 3);
    for (size_t n = 0; n <= sizeof(in); n++) {
        size_t len = srv_b64url_encode(in, n, text, sizeof(text));
        assert_int_equal(srv_b64url_decode(text, len, out, sizeof(out)), (long)n);
        assert_memory_equal(in, out, n);
    }
}

static void rejects_characters_outside_the_alphabet(void **state)
{
    (void)state;
    unsigned char out[16];
    assert_int_equal(srv_b64url_decode("Zm9v+g", 6, out, sizeof(out)), -1);
    assert_int_equal(srv_b64url_decode("Zm9v/g", 6, out, sizeof(out)), -1);
    assert_int_equal(srv_b64url_decode("Zm9vYg==", 8, out, sizeof(out)), -1);
    assert_int_equal(srv_b64url_decode("Zm 9v", 5, out, sizeof(out)), -1);
}

static void rejects_impossible_lengths_and_stray_bits(void **state)
{
    (void)state;
    unsigned char out[16];
    assert_int_equal(srv_b64url_decode("Zm9vY", 5, out, sizeof(out)), -1);
    /* "Zh" would decode to 'f' too, with non-zero leftover bits */
    assert_int_equal(srv_b64url_decode("Zh", 2, out, sizeof(out)), -1);
    assert_int_equal(srv_b64url_decode("Zg", 2, out, sizeof(out)), 1);
}

static void refuses_too_small_outputs(void **state)
{
    (void)state;
    unsigned char out[2];
    char text[4];
    assert_int_equal(srv_b64url_decode("Zm9v", 4, out, sizeof(out)), -1);
    assert_int_equal(srv_b64url_encode("foo", 3, text, sizeof(text)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encodes_the_rfc4648_vectors_without_padding),
        cmocka_unit_test(uses_dash_and_underscore_instead_of_plus_and_slash),
        cmocka_unit_test(decodes_what_it_encodes),
        cmocka_unit_test(rejects_characters_outside_the_alphabet),
        cmocka_unit_test(rejects_impossible_lengths_and_stray_bits),
        cmocka_unit_test(refuses_too_small_outputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
