/* The Discord webhook body (src/notify/discord.c, with utf8.c and
 * format.c): an embed built from an alert whose texts the app or the
 * server chose.
 * Input: 8 bytes of time (ms), 3 of colour, 1 of field count, 4 of inline
 * bits, then NUL-separated texts: title, description, footer, username, and
 * name, value for each field. A text's first byte says how many times
 * (1..256) the rest is repeated, so short inputs reach Discord's limits.
 * A missing text is NULL.
 * Properties: the body is valid UTF-8 and JSON; every text is within its
 * limit, counted in characters, and so is the total of 6000; no field
 * name or value is empty; the timestamp is ISO 8601 with milliseconds. */
#include <cJSON.h>

#include "fuzz.h"
#include "notify/discord.h"
#include "notify/format.h"

#define N_TEXTS (4 + 2 * LL_ALERT_MAX_FIELDS)

static char *take_text(fuzz_in *in)
{
    size_t len;
    char *piece = fuzz_take(in, '\0', &len);
    if (!piece || !len)
        return piece;
    size_t times = (size_t)(unsigned char)piece[0] + 1, one = len - 1;
    char *text = malloc(times * one + 1);
    FUZZ_CHECK(text != NULL);
    for (size_t i = 0; i < times; i++)
        memcpy(text + i * one, piece + 1, one);
    text[times * one] = '\0';
    free(piece);
    return text;
}

/* The characters of a string member, which must be within max. */
static size_t text_of(const cJSON *o, const char *key, size_t max)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);
    FUZZ_CHECK(cJSON_IsString(s));
    size_t n = fuzz_utf8_count(s->valuestring);
    FUZZ_CHECK(n <= max);
    return n;
}

static bool iso8601_ms(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (strlen(s) != sizeof(shape) - 1)
        return false;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
            return false;
    return true;
}

static void check_payload(const ll_alert *a, const char *json)
{
    FUZZ_CHECK(json != NULL);
    FUZZ_CHECK(fuzz_utf8_strict(json, strlen(json)));
    cJSON *root = cJSON_Parse(json);
    FUZZ_CHECK(cJSON_IsObject(root));
    text_of(root, "username", LL_DISCORD_USERNAME_MAX);
    const cJSON *embeds = cJSON_GetObjectItemCaseSensitive(root, "embeds");
    FUZZ_CHECK(cJSON_GetArraySize(embeds) == 1);
    const cJSON *e = cJSON_GetArrayItem(embeds, 0);
    size_t total = text_of(e, "title", LL_DISCORD_TITLE_MAX);
    if (cJSON_GetObjectItemCaseSensitive(e, "description"))
        total += text_of(e, "description", LL_DISCORD_DESCRIPTION_MAX);
    total += text_of(cJSON_GetObjectItemCaseSensitive(e, "footer"), "text",
                     LL_DISCORD_FOOTER_MAX);
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(e, "fields");
    size_t n = a->n_fields < LL_DISCORD_FIELDS_MAX ? a->n_fields : LL_DISCORD_FIELDS_MAX;
    FUZZ_CHECK(cJSON_GetArraySize(fields) == (int)n);
    for (size_t i = 0; i < n; i++) {
        const cJSON *f = cJSON_GetArrayItem(fields, (int)i);
        size_t name = text_of(f, "name", LL_DISCORD_FIELD_NAME_MAX);
        size_t value = text_of(f, "value", LL_DISCORD_FIELD_VALUE_MAX);
        FUZZ_CHECK(name >= 1 && value >= 1);
        FUZZ_CHECK(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(f, "inline")));
        total += name + value;
    }
    FUZZ_CHECK(total <= LL_DISCORD_TOTAL_MAX);
    const cJSON *color = cJSON_GetObjectItemCaseSensitive(e, "color");
    FUZZ_CHECK(cJSON_IsNumber(color) && color->valuedouble == (double)(a->color & 0xFFFFFF));
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(e, "timestamp");
    FUZZ_CHECK(cJSON_IsString(ts));
    if (a->unix_ms >= 0 && a->unix_ms <= 253402300799999) /* up to 9999-12-31 */
        FUZZ_CHECK(iso8601_ms(ts->valuestring));
    cJSON_Delete(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = fuzz_input(data, size);
    ll_alert a;
    memset(&a, 0, sizeof(a));
    /* a wall clock time: within a few centuries either side of 1970 */
    a.unix_ms = (int64_t)(fuzz_take_u64(&in, 8) % 20000000000000ull) - 10000000000000;
    a.color = (uint32_t)fuzz_take_u64(&in, 3);
    a.n_fields = (size_t)(fuzz_take_u64(&in, 1) % (LL_ALERT_MAX_FIELDS + 1));
    uint64_t inline_bits = fuzz_take_u64(&in, 4);

    char *texts[N_TEXTS] = {0};
    for (size_t i = 0; i < N_TEXTS; i++)
        texts[i] = take_text(&in);
    a.title = texts[0];
    a.description = texts[1];
    a.footer = texts[2];
    for (size_t i = 0; i < a.n_fields; i++) {
        a.fields[i].name = texts[4 + 2 * i];
        a.fields[i].value = texts[5 + 2 * i];
        a.fields[i].inline_ = (int)(inline_bits >> i & 1);
    }

    char *json = ll_discord_payload(&a, texts[3]);
    check_payload(&a, json);
    free(json);

    /* the id shown in logs: never more than 64 bytes, never a '/' */
    char id[80];
    ll_discord_webhook_id(texts[1], id, sizeof(id));
    FUZZ_CHECK(strlen(id) <= 64 && !strchr(id, '/'));

    /* durations as alerts show them */
    char d[64];
    int64_t ms = a.unix_ms < 0 ? -a.unix_ms : a.unix_ms;
    ll_format_duration(ms, d, sizeof(d));
    FUZZ_CHECK(d[0] >= '0' && d[0] <= '9' && d[strlen(d) - 1] == 's');

    for (size_t i = 0; i < N_TEXTS; i++)
        free(texts[i]);
    return 0;
}
