/* The Discord payload: every documented limit holds, cut at a character
 * boundary with an ellipsis, whatever the alert carries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "notify/discord.h"
#include "notify/utf8.h"

static char *repeat(const char *unit, size_t times)
{
    size_t n = strlen(unit);
    char *s = malloc(n * times + 1);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * n, unit, n);
    s[n * times] = 0;
    return s;
}

static size_t chars(const cJSON *o, const char *key)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(s) ? ll_utf8_chars(s->valuestring) : 0;
}

static int valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : (*p & 0xF8) == 0xF0 ? 4 : 0;
        if (!n)
            return 0;
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80)
                return 0;
        p += n;
    }
    return 1;
}

static void cut_keeps_characters_whole_and_ends_with_an_ellipsis(void **state)
{
    (void)state;
    char *s = ll_utf8_cut("h\xC3\xA9llo w\xC3\xB6rld", 5); /* héllo wörld */
    assert_string_equal(s, "h\xC3\xA9ll\xE2\x80\xA6");
    assert_int_equal(ll_utf8_chars(s), 5);
    free(s);
    s = ll_utf8_cut("\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80", 2); /* three emoji */
    assert_string_equal(s, "\xF0\x9F\x98\x80\xE2\x80\xA6");
    free(s);
    s = ll_utf8_cut("short", 5);
    assert_string_equal(s, "short");
    free(s);
    assert_int_equal(ll_utf8_chars("\xE2\x82\xAC\xFF"), 2); /* an invalid byte counts one */
}

static void ill_formed_sequences_become_replacement_characters(void **state)
{
    (void)state;
    /* an overlong '/', a surrogate, past U+10FFFF: each byte one U+FFFD
     * (found by tests/fuzz/fuzz_utf8: they went through unchanged) */
    char *s = ll_utf8_cut("a\xC0\xAF" "b\xED\xA0\x80" "c\xF4\x90\x80\x80", 100);
    assert_string_equal(s, "a\xEF\xBF\xBD\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                           "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    free(s);
    assert_int_equal(ll_utf8_chars("\xC0\xAF"), 2);
    s = ll_utf8_cut("\xF0\x9F\x98\x80\xEF\xBF\xBF\xF4\x8F\xBF\xBF", 3); /* well-formed: kept */
    assert_string_equal(s, "\xF0\x9F\x98\x80\xEF\xBF\xBF\xF4\x8F\xBF\xBF");
    free(s);
}

static void a_normal_alert_has_every_field_discord_needs(void **state)
{
    (void)state;
    ll_alert a = {.kind = LL_ALERT_DOWN, .title = "Server down: pos", .description = "judged down",
                  .color = LL_COLOR_RED, .unix_ms = 1764115200123LL, .footer = "lifeline 0.1.0"};
    a.fields[a.n_fields++] = (ll_alert_field){"Server", "wss://pos:443/ws", 0};
    a.fields[a.n_fields++] = (ll_alert_field){"Attempts", "5", 1};
    char *json = ll_discord_payload(&a, NULL);
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root);
    assert_string_equal(cJSON_GetObjectItem(root, "username")->valuestring, "lifeline");
    cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "embeds"), 0);
    assert_string_equal(cJSON_GetObjectItem(e, "title")->valuestring, "Server down: pos");
    assert_int_equal(cJSON_GetObjectItem(e, "color")->valueint, (int)LL_COLOR_RED);
    assert_string_equal(cJSON_GetObjectItem(e, "timestamp")->valuestring, "2025-11-26T00:00:00.123Z");
    cJSON *fields = cJSON_GetObjectItem(e, "fields");
    assert_int_equal(cJSON_GetArraySize(fields), 2);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(fields, 1), "inline")));
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "footer"), "text")->valuestring,
                        "lifeline 0.1.0");
    cJSON_Delete(root);
    free(json);
}

static void huge_texts_stay_within_every_limit(void **state)
{
    (void)state;
    char *big = repeat("\xC3\xA9rr ", 5000); /* 20 000 characters, two-byte ones among them */
    ll_alert a = {.kind = LL_ALERT_DOWN, .title = big, .description = big, .footer = big,
                  .color = LL_COLOR_RED, .unix_ms = 0};
    for (int i = 0; i < 30; i++)
        a.fields[a.n_fields++] = (ll_alert_field){big, big, 1};
    char *json = ll_discord_payload(&a, big);
    assert_non_null(json);
    assert_true(valid_utf8(json));
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root);
    assert_true(chars(root, "username") <= LL_DISCORD_USERNAME_MAX);
    cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "embeds"), 0);
    size_t title = chars(e, "title"), desc = chars(e, "description");
    size_t foot = chars(cJSON_GetObjectItem(e, "footer"), "text");
    assert_true(title <= LL_DISCORD_TITLE_MAX && desc <= LL_DISCORD_DESCRIPTION_MAX &&
                foot <= LL_DISCORD_FOOTER_MAX);
    cJSON *fields = cJSON_GetObjectItem(e, "fields");
    assert_int_equal(cJSON_GetArraySize(fields), LL_DISCORD_FIELDS_MAX);
    size_t total = title + desc + foot;
    cJSON *f;
    cJSON_ArrayForEach(f, fields) {
        size_t n = chars(f, "name"), v = chars(f, "value");
        assert_true(n >= 1 && n <= LL_DISCORD_FIELD_NAME_MAX);
        assert_true(v >= 1 && v <= LL_DISCORD_FIELD_VALUE_MAX);
        total += n + v;
    }
    assert_true(total <= LL_DISCORD_TOTAL_MAX);
    /* what was cut says so */
    const char *t = cJSON_GetObjectItem(e, "title")->valuestring;
    assert_string_equal(t + strlen(t) - 3, "\xE2\x80\xA6");
    cJSON_Delete(root);
    free(json);
    free(big);
}

static void empty_field_texts_become_a_dash(void **state)
{
    (void)state;
    ll_alert a = {.title = "t", .unix_ms = 0};
    a.fields[a.n_fields++] = (ll_alert_field){"", NULL, 0};
    char *json = ll_discord_payload(&a, "till");
    cJSON *root = cJSON_Parse(json);
    cJSON *f = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "embeds"), 0), "fields"), 0);
    assert_string_equal(cJSON_GetObjectItem(f, "name")->valuestring, "-");
    assert_string_equal(cJSON_GetObjectItem(f, "value")->valuestring, "-");
    cJSON_Delete(root);
    free(json);
}

static void only_the_webhook_id_is_shown(void **state)
{
    (void)state;
    char id[80];
    ll_discord_webhook_id("https://discord.com/api/webhooks/123456/s3cr3t-token", id, sizeof(id));
    assert_string_equal(id, "123456");
    ll_discord_webhook_id("https://example.com/hook", id, sizeof(id));
    assert_string_equal(id, "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cut_keeps_characters_whole_and_ends_with_an_ellipsis),
        cmocka_unit_test(ill_formed_sequences_become_replacement_characters),
        cmocka_unit_test(a_normal_alert_has_every_field_discord_needs),
        cmocka_unit_test(huge_texts_stay_within_every_limit),
        cmocka_unit_test(empty_field_texts_become_a_dash),
        cmocka_unit_test(only_the_webhook_id_is_shown),
    };
    return cmocka_run_group_tests_name("discord", tests, NULL, NULL);
}
