/* The message rule: what is echoed, answered, broadcast or refused, and
 * the JSON the server builds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/protocol.h"

static srv_proto_result handle(const char *text)
{
    srv_proto_result r;
    assert_int_equal(srv_proto_handle_text(text, strlen(text), &r), 0);
    return r;
}

static void expect_reply(const char *in, srv_proto_kind kind, const char *reply)
{
    srv_proto_result r = handle(in);
    assert_int_equal(r.kind, kind);
    assert_string_equal(r.reply, reply);
    srv_proto_result_free(&r);
}

static void echo_returns_the_data(void **state)
{
    (void)state;
    expect_reply("{\"type\":\"echo\",\"data\":{\"a\":[1,2,\"x\"]}}", SRV_PROTO_REPLY,
                 "{\"type\":\"echo\",\"data\":{\"a\":[1,2,\"x\"]}}");
    expect_reply("{\"type\":\"echo\"}", SRV_PROTO_REPLY, "{\"type\":\"echo\",\"data\":null}");
}

static void ping_is_answered_with_pong_and_the_same_ts(void **state)
{
    (void)state;
    expect_reply("{\"type\":\"ping\",\"ts\":1700000000123}", SRV_PROTO_REPLY,
                 "{\"type\":\"pong\",\"ts\":1700000000123}");
    expect_reply("{\"type\":\"ping\"}", SRV_PROTO_REPLY, "{\"type\":\"pong\"}");
}

static void broadcast_hands_over_the_data(void **state)
{
    (void)state;
    srv_proto_result r = handle("{\"type\":\"broadcast\",\"data\":\"hi\"}");
    assert_int_equal(r.kind, SRV_PROTO_BROADCAST);
    assert_string_equal(r.data, "\"hi\"");
    srv_proto_result_free(&r);
    r = handle("{\"type\":\"broadcast\"}");
    assert_string_equal(r.data, "null");
    srv_proto_result_free(&r);
}

static void text_that_is_not_json_is_echoed_unchanged(void **state)
{
    (void)state;
    const char *texts[] = {"hello", "", "   ", "{\"type\":\"echo\"", "{broken}", "1 2",
                           "{\"type\":\"echo\"} trailing", NULL};
    for (size_t i = 0; texts[i]; i++) {
        srv_proto_result r = handle(texts[i]);
        assert_int_equal(r.kind, SRV_PROTO_ECHO_RAW);
        assert_null(r.reply);
    }
}

static void json_that_is_not_an_object_is_an_error(void **state)
{
    (void)state;
    const char *texts[] = {"[1,2]", "42", "\"text\"", "null", "true", " [] ", NULL};
    for (size_t i = 0; texts[i]; i++)
        expect_reply(texts[i], SRV_PROTO_ERROR,
                     "{\"type\":\"error\",\"error\":\"a JSON message must be an object\"}");
}

static void an_object_without_a_string_type_is_an_error(void **state)
{
    (void)state;
    const char *texts[] = {"{}", "{\"data\":1}", "{\"type\":1}", "{\"type\":null}",
                           "{\"Type\":\"echo\"}", NULL};
    for (size_t i = 0; texts[i]; i++)
        expect_reply(texts[i], SRV_PROTO_ERROR,
                     "{\"type\":\"error\",\"error\":\"the message needs a string \\\"type\\\"\"}");
}

static void an_unknown_type_is_an_error_that_names_it(void **state)
{
    (void)state;
    expect_reply("{\"type\":\"launch\"}", SRV_PROTO_ERROR,
                 "{\"type\":\"error\",\"error\":\"unknown type \\\"launch\\\"\"}");
    /* a long name is cut at a character boundary: the reply stays UTF-8 */
    char in[256] = "{\"type\":\"";
    for (int i = 0; i < 30; i++)
        strcat(in, "\xc3\xa9");
    strcat(in, "\"}");
    srv_proto_result r = handle(in);
    assert_int_equal(r.kind, SRV_PROTO_ERROR);
    assert_non_null(strstr(r.reply, "unknown type"));
    srv_proto_result_free(&r);
}

static void whitespace_around_json_is_fine(void **state)
{
    (void)state;
    expect_reply(" \n{\"type\":\"ping\",\"ts\":1}\r\n ", SRV_PROTO_REPLY,
                 "{\"type\":\"pong\",\"ts\":1}");
}

static void a_whole_json_text_is_one_value_and_whitespace(void **state)
{
    (void)state;
    const char *bad[] = {"{}garbage", "{} {}", "[1]]", "\"a\"\"b\"", "", " ", "{", NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_null(srv_json_parse_whole(bad[i], strlen(bad[i])));
    static const char nul[] = "{}\0";
    assert_null(srv_json_parse_whole(nul, sizeof(nul) - 1));
    const char *good[] = {"{}", " {\"a\":1}\r\n\t ", "42", "null", NULL};
    for (size_t i = 0; good[i]; i++) {
        cJSON *v = srv_json_parse_whole(good[i], strlen(good[i]));
        assert_non_null(v);
        cJSON_Delete(v);
    }
    /* only len bytes are read: what follows in memory does not count */
    cJSON *v = srv_json_parse_whole("{}garbage", 2);
    assert_non_null(v);
    cJSON_Delete(v);
}

static void server_messages_have_their_documented_shape(void **state)
{
    (void)state;
    char *s = srv_proto_broadcast("s1", "alice", "{\"k\":true}");
    assert_string_equal(s, "{\"type\":\"broadcast\",\"store\":\"s1\",\"from\":\"alice\","
                           "\"data\":{\"k\":true}}");
    free(s);
    s = srv_proto_presence("user_joined", "s\"1", "bob");
    assert_string_equal(s, "{\"type\":\"user_joined\",\"store\":\"s\\\"1\",\"user\":\"bob\"}");
    free(s);
    s = srv_proto_error("nope");
    assert_string_equal(s, "{\"type\":\"error\",\"error\":\"nope\"}");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(echo_returns_the_data),
        cmocka_unit_test(ping_is_answered_with_pong_and_the_same_ts),
        cmocka_unit_test(broadcast_hands_over_the_data),
        cmocka_unit_test(text_that_is_not_json_is_echoed_unchanged),
        cmocka_unit_test(json_that_is_not_an_object_is_an_error),
        cmocka_unit_test(an_object_without_a_string_type_is_an_error),
        cmocka_unit_test(an_unknown_type_is_an_error_that_names_it),
        cmocka_unit_test(whitespace_around_json_is_fine),
        cmocka_unit_test(a_whole_json_text_is_one_value_and_whitespace),
        cmocka_unit_test(server_messages_have_their_documented_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
