/* The /ws query: store and user without a secret, the token alone with
 * one, and the status each refusal gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/query.h"

#define NOW 1700000000

static int identify(const char *const *frags, size_t n, const char *secret, srv_identity *id,
                    const char **why)
{
    srv_ws_query q;
    if (srv_query_collect(frags, n, &q, why))
        return -1;
    return srv_query_identity(&q, secret, NOW, id, why);
}

static void store_and_user_name_the_connection(void **state)
{
    (void)state;
    const char *f[] = {"store=s1", "user=alice", "other=ignored"};
    srv_identity id;
    const char *why = NULL;
    assert_int_equal(identify(f, 3, NULL, &id, &why), 0);
    assert_string_equal(id.store, "s1");
    assert_string_equal(id.user, "alice");
}

static void missing_or_empty_names_are_a_bad_request(void **state)
{
    (void)state;
    srv_identity id;
    const char *why = NULL;
    const char *only_store[] = {"store=s1"};
    const char *empty_user[] = {"store=s1", "user="};
    const char *bare_user[] = {"store=s1", "user"};
    assert_int_equal(identify(only_store, 1, NULL, &id, &why), 400);
    assert_int_equal(identify(empty_user, 2, NULL, &id, &why), 400);
    assert_int_equal(identify(bare_user, 2, NULL, &id, &why), 400);
    assert_int_equal(identify(NULL, 0, NULL, &id, &why), 400);
    assert_non_null(why);
}

static void control_characters_and_long_names_are_a_bad_request(void **state)
{
    (void)state;
    srv_identity id;
    const char *why = NULL;
    const char *ctl[] = {"store=s\x01", "user=u"};
    assert_int_equal(identify(ctl, 2, NULL, &id, &why), 400);
    char longname[200] = "user=";
    memset(longname + 5, 'x', 129);
    const char *lng[] = {"store=s", longname};
    assert_int_equal(identify(lng, 2, NULL, &id, &why), 400);
    const char *utf8[] = {"store=caf\xc3\xa9", "user=\xe2\x82\xac"};
    assert_int_equal(identify(utf8, 2, NULL, &id, &why), 0);
    const char *bad_utf8[] = {"store=\xc3", "user=u"};
    assert_int_equal(identify(bad_utf8, 2, NULL, &id, &why), 400);
}

static void c1_controls_in_names_are_a_bad_request(void **state)
{
    (void)state;
    srv_identity id;
    const char *why = NULL;
    const char *user[] = {"store=s", "user=victim\xc2\x85"};
    const char *store[] = {"store=\xc2\x9bs", "user=u"};
    assert_int_equal(identify(user, 2, NULL, &id, &why), 400);
    assert_int_equal(identify(store, 2, NULL, &id, &why), 400);
}

static void a_repeated_parameter_is_refused(void **state)
{
    (void)state;
    srv_ws_query q;
    const char *why = NULL;
    const char *f[] = {"store=a", "user=u", "store=b"};
    assert_int_equal(srv_query_collect(f, 3, &q, &why), -1);
    assert_non_null(why);
}

static void with_a_secret_the_token_alone_says_who(void **state)
{
    (void)state;
    char *tok = srv_token_make("k", "alice", "s1", NOW + 60);
    char frag[512];
    snprintf(frag, sizeof(frag), "token=%s", tok);
    const char *f[] = {frag};
    srv_identity id;
    const char *why = NULL;
    assert_int_equal(identify(f, 1, "k", &id, &why), 0);
    assert_string_equal(id.user, "alice");
    assert_string_equal(id.store, "s1");
    /* matching parameters are allowed alongside */
    const char *g[] = {"store=s1", frag, "user=alice"};
    assert_int_equal(identify(g, 3, "k", &id, &why), 0);
    free(tok);
}

static void missing_tampered_or_expired_tokens_get_401(void **state)
{
    (void)state;
    srv_identity id;
    const char *why = NULL;
    const char *none[] = {"store=s1", "user=alice"};
    assert_int_equal(identify(none, 2, "k", &id, &why), 401);
    const char *empty[] = {"token="};
    assert_int_equal(identify(empty, 1, "k", &id, &why), 401);

    char *other = srv_token_make("wrong", "alice", "s1", NOW + 60);
    char frag[512];
    snprintf(frag, sizeof(frag), "token=%s", other);
    const char *f[] = {frag};
    assert_int_equal(identify(f, 1, "k", &id, &why), 401);
    free(other);

    char *old = srv_token_make("k", "alice", "s1", NOW - 1);
    snprintf(frag, sizeof(frag), "token=%s", old);
    assert_int_equal(identify(f, 1, "k", &id, &why), 401);
    assert_string_equal(why, "token expired");
    free(old);
}

static void a_token_for_another_store_or_user_gets_403(void **state)
{
    (void)state;
    char *tok = srv_token_make("k", "alice", "s1", NOW + 60);
    char frag[512];
    snprintf(frag, sizeof(frag), "token=%s", tok);
    srv_identity id;
    const char *why = NULL;
    const char *store[] = {"store=s2", frag};
    assert_int_equal(identify(store, 2, "k", &id, &why), 403);
    assert_string_equal(why, "token is for another store");
    const char *user[] = {"user=bob", frag};
    assert_int_equal(identify(user, 2, "k", &id, &why), 403);
    free(tok);
}

/* The WWW-Authenticate challenge of a 401 (RFC 6750 3.1): no error code
 * without a token, error="invalid_token" for a token that was refused. */
static const char *challenge(const char *const *frags, size_t n)
{
    srv_ws_query q;
    const char *why;
    assert_int_equal(srv_query_collect(frags, n, &q, &why), 0);
    return srv_query_challenge(&q);
}

static void a_401_challenges_for_a_bearer_token(void **state)
{
    (void)state;
    const char *none[] = {"store=s1", "user=alice"};
    assert_string_equal(challenge(none, 2), "Bearer realm=\"lifeline\"");
    const char *empty[] = {"token="};
    assert_string_equal(challenge(empty, 1), "Bearer realm=\"lifeline\"");
    const char *bad[] = {"token=garbage"};
    assert_string_equal(challenge(bad, 1), "Bearer realm=\"lifeline\", error=\"invalid_token\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(store_and_user_name_the_connection),
        cmocka_unit_test(missing_or_empty_names_are_a_bad_request),
        cmocka_unit_test(control_characters_and_long_names_are_a_bad_request),
        cmocka_unit_test(c1_controls_in_names_are_a_bad_request),
        cmocka_unit_test(a_repeated_parameter_is_refused),
        cmocka_unit_test(with_a_secret_the_token_alone_says_who),
        cmocka_unit_test(missing_tampered_or_expired_tokens_get_401),
        cmocka_unit_test(a_token_for_another_store_or_user_gets_403),
        cmocka_unit_test(a_401_challenges_for_a_bearer_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
