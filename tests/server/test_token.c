/* Auth tokens: the wire format, a round trip, and every way a token is
 * refused (tampered payload or signature, other secret, expiry with an
 * injected now, malformed parts and claims). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "server/base64url.h"
#include "server/token.h"

#define NOW 1700000000

static void token_is_payload_dot_hmac_of_the_payload(void **state)
{
    (void)state;
    char *tok = srv_token_make("s3cret", "alice", "store-1", NOW + 60);
    assert_non_null(tok);
    char *dot = strchr(tok, '.');
    assert_non_null(dot);
    unsigned char json[256];
    long n = srv_b64url_decode(tok, (size_t)(dot - tok), json, sizeof(json) - 1);
    assert_true(n > 0);
    json[n] = '\0';
    assert_string_equal((char *)json, "{\"u\":\"alice\",\"s\":\"store-1\",\"exp\":1700000060}");
    unsigned char mac[32];
    unsigned int mlen = 0;
    HMAC(EVP_sha256(), "s3cret", 6, (unsigned char *)tok, (size_t)(dot - tok), mac, &mlen);
    char sig[64];
    srv_b64url_encode(mac, mlen, sig, sizeof(sig));
    assert_string_equal(dot + 1, sig);
    free(tok);
}

static void a_fresh_token_verifies_and_yields_its_claims(void **state)
{
    (void)state;
    char *tok = srv_token_make("s3cret", "alice", "store-1", NOW + 60);
    srv_token_claims c;
    assert_int_equal(srv_token_verify("s3cret", tok, NOW, &c), SRV_TOKEN_OK);
    assert_string_equal(c.user, "alice");
    assert_string_equal(c.store, "store-1");
    assert_int_equal(c.exp, NOW + 60);
    free(tok);
}

static void expiry_is_judged_against_the_given_now(void **state)
{
    (void)state;
    char *tok = srv_token_make("k", "u", "s", NOW);
    srv_token_claims c;
    assert_int_equal(srv_token_verify("k", tok, NOW - 1, &c), SRV_TOKEN_OK);
    assert_int_equal(srv_token_verify("k", tok, NOW, &c), SRV_TOKEN_EXPIRED);
    assert_int_equal(srv_token_verify("k", tok, NOW + 3600, &c), SRV_TOKEN_EXPIRED);
    free(tok);
}

static void another_secret_is_a_bad_signature(void **state)
{
    (void)state;
    char *tok = srv_token_make("k1", "u", "s", NOW + 60);
    srv_token_claims c;
    assert_int_equal(srv_token_verify("k2", tok, NOW, &c), SRV_TOKEN_BAD_SIGNATURE);
    free(tok);
}

static void a_tampered_payload_is_a_bad_signature(void **state)
{
    (void)state;
    char *tok = srv_token_make("k", "u", "s", NOW + 60);
    char *other = srv_token_make("k", "u", "other", NOW + 60);
    /* the other store's payload with this token's signature */
    char forged[512];
    snprintf(forged, sizeof(forged), "%.*s%s", (int)(strchr(other, '.') - other), other,
             strchr(tok, '.'));
    srv_token_claims c;
    assert_int_equal(srv_token_verify("k", forged, NOW, &c), SRV_TOKEN_BAD_SIGNATURE);
    /* one flipped character in the signature */
    char *dot = strchr(tok, '.');
    dot[1] = dot[1] == 'A' ? 'B' : 'A';
    assert_int_equal(srv_token_verify("k", tok, NOW, &c), SRV_TOKEN_BAD_SIGNATURE);
    free(tok);
    free(other);
}

static void malformed_tokens_are_refused(void **state)
{
    (void)state;
    srv_token_claims c;
    const char *bad[] = {"", ".", "abc", "abc.", ".abc", "a.b.c", "Zm9v.!!!", NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_int_equal(srv_token_verify("k", bad[i], NOW, &c), SRV_TOKEN_MALFORMED);
    assert_int_equal(srv_token_verify("k", NULL, NOW, &c), SRV_TOKEN_MALFORMED);
}

/* Signs an arbitrary payload of len bytes, to reach the claim checks. */
static char *sign_len(const char *secret, const char *json, size_t len)
{
    static char tok[512];
    size_t n = srv_b64url_encode(json, len, tok, sizeof(tok));
    unsigned char mac[32];
    unsigned int mlen = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)tok, n, mac, &mlen);
    tok[n] = '.';
    srv_b64url_encode(mac, mlen, tok + n + 1, sizeof(tok) - n - 1);
    return tok;
}

static char *sign(const char *secret, const char *json)
{
    return sign_len(secret, json, strlen(json));
}

static void signed_but_bad_claims_are_malformed(void **state)
{
    (void)state;
    srv_token_claims c;
    assert_int_equal(
        srv_token_verify("k", sign("k", "{\"u\":\"a\",\"s\":\"b\",\"exp\":1700000060}"), NOW, &c),
        SRV_TOKEN_OK);
    const char *bad[] = {
        "[1,2]", "not json", "{\"s\":\"b\",\"exp\":1700000060}",
        "{\"u\":\"a\",\"exp\":1700000060}", "{\"u\":\"a\",\"s\":\"b\"}",
        "{\"u\":\"a\",\"s\":\"b\",\"exp\":\"soon\"}", "{\"u\":\"a\",\"s\":\"b\",\"exp\":1.5}",
        "{\"u\":\"\",\"s\":\"b\",\"exp\":1700000060}", "{\"u\":7,\"s\":\"b\",\"exp\":1700000060}",
        "{\"u\":\"a\\n\",\"s\":\"b\",\"exp\":1700000060}",
        /* one JSON value, nothing after it */
        "{\"u\":\"a\",\"s\":\"b\",\"exp\":1700000060}garbage",
        "{\"u\":\"a\",\"s\":\"b\",\"exp\":1700000060} {}", NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_int_equal(srv_token_verify("k", sign("k", bad[i]), NOW, &c), SRV_TOKEN_MALFORMED);
}

/* A NUL in a claim must refuse the token, not cut the name at the NUL:
 * json.dumps writes it as \u0000. */
static void a_nul_in_a_signed_name_is_malformed_not_cut_short(void **state)
{
    (void)state;
    srv_token_claims c;
    const char *bad[] = {
        "{\"u\":\"victim\\u0000x\",\"s\":\"b\",\"exp\":1700000060}",
        "{\"u\":\"victim\\u0000\",\"s\":\"b\",\"exp\":1700000060}",
        "{\"u\":\"a\",\"s\":\"shop\\u0000-7\",\"exp\":1700000060}",
        "{\"u\\u0000x\":\"victim\",\"s\":\"b\",\"exp\":1700000060}", /* the key "u\0x" */
        NULL};
    for (size_t i = 0; bad[i]; i++) {
        assert_int_equal(srv_token_verify("k", sign("k", bad[i]), NOW, &c), SRV_TOKEN_MALFORMED);
        assert_string_equal(c.user, "");
    }
    /* a raw NUL byte inside the string */
    static const char raw[] = "{\"u\":\"victim\0x\",\"s\":\"b\",\"exp\":1700000060}";
    assert_int_equal(srv_token_verify("k", sign_len("k", raw, sizeof(raw) - 1), NOW, &c),
                     SRV_TOKEN_MALFORMED);
    /* an escaped backslash then "u0000" is a name of printable characters */
    assert_int_equal(srv_token_verify("k", sign("k", "{\"u\":\"a\\\\u0000\",\"s\":\"b\","
                                                    "\"exp\":1700000060}"), NOW, &c),
                     SRV_TOKEN_OK);
    assert_string_equal(c.user, "a\\u0000");
}

static void c0_del_and_c1_controls_in_a_signed_name_are_malformed(void **state)
{
    (void)state;
    srv_token_claims c;
    const char *bad[] = {
        "{\"u\":\"a\\u001f\",\"s\":\"b\",\"exp\":1700000060}",
        "{\"u\":\"a\\u007f\",\"s\":\"b\",\"exp\":1700000060}",
        "{\"u\":\"a\\u0080\",\"s\":\"b\",\"exp\":1700000060}",
        "{\"u\":\"a\",\"s\":\"b\\u009f\",\"exp\":1700000060}",
        "{\"u\":\"a\xc2\x85\",\"s\":\"b\",\"exp\":1700000060}", /* raw U+0085 */
        NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_int_equal(srv_token_verify("k", sign("k", bad[i]), NOW, &c), SRV_TOKEN_MALFORMED);
    /* U+00A0, the first code point after C1, is a name character */
    assert_int_equal(srv_token_verify("k", sign("k", "{\"u\":\"a\\u00a0\",\"s\":\"b\","
                                                    "\"exp\":1700000060}"), NOW, &c),
                     SRV_TOKEN_OK);
    assert_string_equal(c.user, "a\xc2\xa0");
}

static void invalid_names_get_no_token(void **state)
{
    (void)state;
    char longname[200];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_null(srv_token_make("k", "", "s", NOW));
    assert_null(srv_token_make("k", "u", longname, NOW));
    assert_null(srv_token_make("k", "tab\there", "s", NOW));
}

static void status_names_read_well(void **state)
{
    (void)state;
    assert_string_equal(srv_token_status_name(SRV_TOKEN_OK), "ok");
    assert_string_equal(srv_token_status_name(SRV_TOKEN_EXPIRED), "expired");
    assert_string_equal(srv_token_status_name(SRV_TOKEN_BAD_SIGNATURE), "bad signature");
    assert_string_equal(srv_token_status_name(SRV_TOKEN_MALFORMED), "malformed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(token_is_payload_dot_hmac_of_the_payload),
        cmocka_unit_test(a_fresh_token_verifies_and_yields_its_claims),
        cmocka_unit_test(expiry_is_judged_against_the_given_now),
        cmocka_unit_test(another_secret_is_a_bad_signature),
        cmocka_unit_test(a_tampered_payload_is_a_bad_signature),
        cmocka_unit_test(malformed_tokens_are_refused),
        cmocka_unit_test(signed_but_bad_claims_are_malformed),
        cmocka_unit_test(a_nul_in_a_signed_name_is_malformed_not_cut_short),
        cmocka_unit_test(c0_del_and_c1_controls_in_a_signed_name_are_malformed),
        cmocka_unit_test(invalid_names_get_no_token),
        cmocka_unit_test(status_names_read_well),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
