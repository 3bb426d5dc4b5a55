/* Message classification and the server's JSON messages; see protocol.h. */
#include "server/protocol.h"

#include <stdio.h>
#include <string.h>

#include <cJSON.h>

static char *print_and_free(cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return s;
}

char *srv_proto_error(const char *message)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "type", "error") ||
        !cJSON_AddStringToObject(o, "error", message)) {
        cJSON_Delete(o);
        return NULL;
    }
    return print_and_free(o);
}

char *srv_proto_presence(const char *type, const char *store, const char *user)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "type", type) ||
        !cJSON_AddStringToObject(o, "store", store) ||
        !cJSON_AddStringToObject(o, "user", user)) {
        cJSON_Delete(o);
        return NULL;
    }
    return print_and_free(o);
}

char *srv_proto_broadcast(const char *store, const char *from, const char *data_json)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "type", "broadcast") ||
        !cJSON_AddStringToObject(o, "store", store) ||
        !cJSON_AddStringToObject(o, "from", from) ||
        !cJSON_AddRawToObject(o, "data", data_json)) {
        cJSON_Delete(o);
        return NULL;
    }
    return print_and_free(o);
}

/* {"type":TYPE, KEY: item} taking item (which may be NULL: then KEY is
 * left out when omit_missing, else null). */
static char *reply_with(const char *type, const char *key, cJSON *item, int omit_missing)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "type", type)) {
        cJSON_Delete(o);
        cJSON_Delete(item);
        return NULL;
    }
    if (!item && !omit_missing)
        item = cJSON_CreateNull();
    if (item && !cJSON_AddItemToObject(o, key, item)) {
        cJSON_Delete(item);
        cJSON_Delete(o);
        return NULL;
    }
    return print_and_free(o);
}

static int is_blank(const char *p, const char *end)
{
    for (; p < end; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            return 0;
    return 1;
}

static int set_error(srv_proto_result *r, const char *message)
{
    r->kind = SRV_PROTO_ERROR;
    r->reply = srv_proto_error(message);
    return r->reply ? 0 : -1;
}

/* "unknown type \"T\"" with T cut to 48 bytes at a character boundary. */
static int unknown_type(srv_proto_result *r, const char *type)
{
    size_t n = strlen(type);
    if (n > 48) {
        n = 48;
        while (n > 0 && ((unsigned char)type[n] & 0xc0) == 0x80)
            n--;
    }
    char msg[96];
    snprintf(msg, sizeof(msg), "unknown type \"%.*s\"", (int)n, type);
    return set_error(r, msg);
}

cJSON *srv_json_parse_whole(const char *text, size_t len)
{
    /* the end pointer, not cJSON_GetErrorPtr(): that one is global state */
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (v && end && is_blank(end, text + len))
        return v;
    cJSON_Delete(v);
    return NULL;
}

int srv_proto_handle_text(const char *text, size_t len, srv_proto_result *r)
{
    memset(r, 0, sizeof(*r));
    cJSON *msg = srv_json_parse_whole(text, len);
    if (!msg) {
        r->kind = SRV_PROTO_ECHO_RAW; /* not JSON */
        return 0;
    }
    int rc;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(msg, "type");
    if (!cJSON_IsObject(msg)) {
        rc = set_error(r, "a JSON message must be an object");
    } else if (!cJSON_IsString(type)) {
        rc = set_error(r, "the message needs a string \"type\"");
    } else if (!strcmp(type->valuestring, "echo")) {
        r->kind = SRV_PROTO_REPLY;
        cJSON *data = cJSON_DetachItemFromObjectCaseSensitive(msg, "data");
        r->reply = reply_with("echo", "data", data, 0);
        rc = r->reply ? 0 : -1;
    } else if (!strcmp(type->valuestring, "ping")) {
        r->kind = SRV_PROTO_REPLY;
        cJSON *ts = cJSON_DetachItemFromObjectCaseSensitive(msg, "ts");
        r->reply = reply_with("pong", "ts", ts, 1);
        rc = r->reply ? 0 : -1;
    } else if (!strcmp(type->valuestring, "broadcast")) {
        r->kind = SRV_PROTO_BROADCAST;
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(msg, "data");
        r->data = data ? cJSON_PrintUnformatted(data) : print_and_free(cJSON_CreateNull());
        rc = r->data ? 0 : -1;
    } else {
        rc = unknown_type(r, type->valuestring);
    }
    cJSON_Delete(msg);
    if (rc)
        srv_proto_result_free(r);
    return rc;
}

void srv_proto_result_free(srv_proto_result *r)
{
    cJSON_free(r->reply);
    cJSON_free(r->data);
    r->reply = r->data = NULL;
}
