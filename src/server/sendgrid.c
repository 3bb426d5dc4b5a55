/* See sendgrid.h. */
#include "server/sendgrid.h"

#include "notify/format.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *srv_sendgrid_payload(const ll_alert *a, const char *to, const char *from)
{
    size_t cap = 256 + (a->description ? strlen(a->description) : 0);
    for (size_t i = 0; i < a->n_fields; i++)
        cap += strlen(a->fields[i].name ? a->fields[i].name : "") +
               strlen(a->fields[i].value ? a->fields[i].value : "") + 4;
    char *text = malloc(cap);
    if (!text)
        return NULL;
    size_t o = (size_t)snprintf(text, cap, "%s\n\n", a->description ? a->description : "");
    for (size_t i = 0; i < a->n_fields && o < cap; i++)
        o += (size_t)snprintf(text + o, cap - o, "%s: %s\n", a->fields[i].name ? a->fields[i].name : "",
                              a->fields[i].value ? a->fields[i].value : "");
    char at[40];
    ll_format_iso8601(a->unix_ms, 0, at, sizeof(at));
    if (o < cap)
        snprintf(text + o, cap - o, "\nAt %s\n", at);

    char *json = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *pers = cJSON_AddArrayToObject(root, "personalizations");
    cJSON *p = cJSON_CreateObject();
    cJSON *tos = cJSON_CreateArray();
    cJSON *rcpt = cJSON_CreateObject();
    cJSON *fromo = cJSON_AddObjectToObject(root, "from");
    cJSON *content = cJSON_CreateArray();
    cJSON *part = cJSON_CreateObject();
    if (root && pers && p && tos && rcpt && fromo && content && part &&
        cJSON_AddStringToObject(rcpt, "email", to ? to : "") &&
        cJSON_AddStringToObject(fromo, "email", from ? from : "") &&
        cJSON_AddStringToObject(root, "subject", a->title ? a->title : "lifeline") &&
        cJSON_AddStringToObject(part, "type", "text/plain") &&
        cJSON_AddStringToObject(part, "value", text)) {
        cJSON_AddItemToArray(tos, rcpt);
        cJSON_AddItemToObject(p, "to", tos);
        cJSON_AddItemToArray(pers, p);
        cJSON_AddItemToArray(content, part);
        cJSON_AddItemToObject(root, "content", content);
        rcpt = tos = p = content = part = NULL;
        json = cJSON_PrintUnformatted(root);
    }
    cJSON_Delete(rcpt);
    cJSON_Delete(tos);
    cJSON_Delete(p);
    cJSON_Delete(part);
    cJSON_Delete(content);
    cJSON_Delete(root);
    free(text);
    return json;
}
