/* The JSON protocol on /ws (src/server/protocol.c): one text message in,
 * what to do with it out. Input: the message.
 * Properties: a reply or an error is a JSON object with the right "type";
 * a broadcast's data is JSON that srv_proto_broadcast takes; text that is
 * valid UTF-8 gives replies that are valid UTF-8 (the unknown-type message
 * cuts the type at a character boundary). */
#include <cJSON.h>

#include "fuzz.h"
#include "server/protocol.h"

static cJSON *object_of_type(const char *text, const char *type)
{
    FUZZ_CHECK(text != NULL);
    cJSON *o = cJSON_Parse(text);
    FUZZ_CHECK(cJSON_IsObject(o));
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");
    FUZZ_CHECK(cJSON_IsString(t));
    if (type)
        FUZZ_CHECK(!strcmp(t->valuestring, type));
    else
        FUZZ_CHECK(!strcmp(t->valuestring, "echo") || !strcmp(t->valuestring, "pong"));
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_dup(data, size); /* the server hands over len bytes */
    srv_proto_result r;
    FUZZ_CHECK(srv_proto_handle_text(text, size, &r) == 0);
    bool utf8 = fuzz_utf8_strict(data, size);
    switch (r.kind) {
    case SRV_PROTO_ECHO_RAW:
        FUZZ_CHECK(!r.reply && !r.data);
        break;
    case SRV_PROTO_REPLY:
    case SRV_PROTO_ERROR: {
        FUZZ_CHECK(!r.data);
        cJSON *o = object_of_type(r.reply, r.kind == SRV_PROTO_ERROR ? "error" : NULL);
        if (r.kind == SRV_PROTO_ERROR)
            FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "error")));
        cJSON_Delete(o);
        if (utf8)
            FUZZ_CHECK(fuzz_utf8_strict(r.reply, strlen(r.reply)));
        break;
    }
    case SRV_PROTO_BROADCAST: {
        FUZZ_CHECK(!r.reply && r.data);
        cJSON *d = cJSON_Parse(r.data);
        FUZZ_CHECK(d != NULL);
        cJSON_Delete(d);
        char *b = srv_proto_broadcast("store-1", "alice", r.data);
        cJSON *o = object_of_type(b, "broadcast");
        cJSON_Delete(o);
        cJSON_free(b);
        if (utf8)
            FUZZ_CHECK(fuzz_utf8_strict(r.data, strlen(r.data)));
        break;
    }
    default:
        FUZZ_FAIL("a kind protocol.h does not list");
    }
    srv_proto_result_free(&r);
    FUZZ_CHECK(!r.reply && !r.data);
    free(text);
    return 0;
}
