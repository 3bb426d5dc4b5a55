/* See discord.h. Limits are applied field by field, then the total is
 * brought under 6000 by shortening the description, then the fields. */
#include "notify/discord.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "notify/format.h"
#include "notify/utf8.h"

static int add_cut(cJSON *obj, const char *key, const char *text, size_t max)
{
    char *cut = ll_utf8_cut(text, max);
    if (!cut)
        return -1;
    cJSON *s = cJSON_AddStringToObject(obj, key, cut);
    free(cut);
    return s ? 0 : -1;
}

/* Discord's total counts title, description, field names and values, the
 * footer text and the author name. */
static size_t total_chars(const char *title, const char *desc, char *const *names,
                          char *const *values, size_t n, const char *footer)
{
    size_t t = ll_utf8_chars(title) + ll_utf8_chars(desc) + ll_utf8_chars(footer);
    for (size_t i = 0; i < n; i++)
        t += ll_utf8_chars(names[i]) + ll_utf8_chars(values[i]);
    return t;
}

char *ll_discord_payload(const ll_alert *a, const char *username)
{
    char *title = ll_utf8_cut(a->title ? a->title : "lifeline", LL_DISCORD_TITLE_MAX);
    char *desc = ll_utf8_cut(a->description ? a->description : "", LL_DISCORD_DESCRIPTION_MAX);
    char *footer = ll_utf8_cut(a->footer ? a->footer : "lifeline", LL_DISCORD_FOOTER_MAX);
    size_t n = a->n_fields < LL_DISCORD_FIELDS_MAX ? a->n_fields : LL_DISCORD_FIELDS_MAX;
    char *names[LL_DISCORD_FIELDS_MAX] = {0}, *values[LL_DISCORD_FIELDS_MAX] = {0};
    char *json = NULL;
    int oom = !title || !desc || !footer;
    for (size_t i = 0; i < n && !oom; i++) {
        /* an empty name or value is refused by Discord: show a dash */
        const char *nm = a->fields[i].name && *a->fields[i].name ? a->fields[i].name : "-";
        const char *v = a->fields[i].value && *a->fields[i].value ? a->fields[i].value : "-";
        names[i] = ll_utf8_cut(nm, LL_DISCORD_FIELD_NAME_MAX);
        values[i] = ll_utf8_cut(v, LL_DISCORD_FIELD_VALUE_MAX);
        oom |= !names[i] || !values[i];
    }
    /* over 6000 in all: shorten the description, then the field values and
     * names from the last, then the footer, then the title; each keeps at
     * least one character */
    char **order[2 + 2 * LL_DISCORD_FIELDS_MAX + 1];
    size_t n_order = 0;
    order[n_order++] = &desc;
    for (size_t i = n; i-- > 0;)
        order[n_order++] = &values[i];
    for (size_t i = n; i-- > 0;)
        order[n_order++] = &names[i];
    order[n_order++] = &footer;
    order[n_order++] = &title;
    for (size_t k = 0; k < n_order && !oom; k++) {
        size_t total = total_chars(title, desc, names, values, n, footer);
        if (total <= LL_DISCORD_TOTAL_MAX)
            break;
        size_t over = total - LL_DISCORD_TOTAL_MAX, len = ll_utf8_chars(*order[k]);
        if (len <= 1)
            continue;
        char *shorter = ll_utf8_cut(*order[k], len > over + 1 ? len - over : 1);
        free(*order[k]);
        *order[k] = shorter;
        oom |= !shorter;
    }
    cJSON *root = oom ? NULL : cJSON_CreateObject();
    if (root) {
        char ts[40];
        ll_format_iso8601(a->unix_ms, 1, ts, sizeof(ts));
        cJSON *embeds = cJSON_AddArrayToObject(root, "embeds");
        cJSON *e = cJSON_CreateObject();
        cJSON *fields = cJSON_CreateArray();
        cJSON *foot = cJSON_CreateObject();
        int ok = embeds && e && fields && foot &&
                 !add_cut(root, "username", username ? username : "lifeline", LL_DISCORD_USERNAME_MAX) &&
                 cJSON_AddStringToObject(e, "title", title) &&
                 (!*desc || cJSON_AddStringToObject(e, "description", desc)) &&
                 cJSON_AddNumberToObject(e, "color", (double)(a->color & 0xFFFFFF)) &&
                 cJSON_AddStringToObject(e, "timestamp", ts) &&
                 cJSON_AddStringToObject(foot, "text", footer);
        for (size_t i = 0; ok && i < n; i++) {
            cJSON *f = cJSON_CreateObject();
            ok = f && cJSON_AddStringToObject(f, "name", names[i]) &&
                 cJSON_AddStringToObject(f, "value", values[i]) &&
                 cJSON_AddBoolToObject(f, "inline", a->fields[i].inline_ != 0);
            if (f)
                cJSON_AddItemToArray(fields, f);
        }
        if (e)
            cJSON_AddItemToArray(embeds, e);
        if (ok) {
            cJSON_AddItemToObject(e, "fields", fields);
            cJSON_AddItemToObject(e, "footer", foot);
            fields = foot = NULL;
            json = cJSON_PrintUnformatted(root);
        }
        cJSON_Delete(fields);
        cJSON_Delete(foot);
        cJSON_Delete(root);
    }
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
        free(values[i]);
    }
    free(title);
    free(desc);
    free(footer);
    return json;
}

void ll_discord_webhook_id(const char *url, char *out, size_t n)
{
    const char *w = url ? strstr(url, "/webhooks/") : NULL;
    if (!w) {
        snprintf(out, n, "?");
        return;
    }
    w += strlen("/webhooks/");
    size_t len = strcspn(w, "/?#");
    snprintf(out, n, "%.*s", (int)(len < 64 ? len : 64), w);
}
