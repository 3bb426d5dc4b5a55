/* The message protocol on /ws: what an incoming text message asks for, and
 * the JSON the server sends. Pure (cJSON only).
 *
 * The rule for a text message: if it does not parse as JSON it is "not
 * JSON" and is echoed back unchanged. If it parses but is not an object, or
 * is an object without a string "type", or its type is unknown, the answer
 * is {"type":"error","error":"..."} and the connection stays open. */
#ifndef SRV_PROTOCOL_H
#define SRV_PROTOCOL_H

#include <stddef.h>

#include <cJSON.h>

typedef enum srv_proto_kind {
    SRV_PROTO_ECHO_RAW = 0, /* send the message back unchanged */
    SRV_PROTO_REPLY,        /* send reply back to the sender */
    SRV_PROTO_BROADCAST,    /* send data to the rest of the store (srv_proto_broadcast) */
    SRV_PROTO_ERROR         /* send reply (an error object) back to the sender */
} srv_proto_kind;

typedef struct srv_proto_result {
    srv_proto_kind kind;
    char *reply; /* REPLY, ERROR: the JSON text (malloc'd) */
    char *data;  /* BROADCAST: the data member as JSON text, "null" if absent (malloc'd) */
} srv_proto_result;

/* Classifies one complete text message. Returns 0, or -1 when memory ran
 * out (r is then empty). Free r with srv_proto_result_free. */
int srv_proto_handle_text(const char *text, size_t len, srv_proto_result *r);

void srv_proto_result_free(srv_proto_result *r);

/* Parses text[0..len) as exactly one JSON value: only whitespace (space,
 * tab, CR, LF) may follow it. Returns the value (cJSON_Delete it), or NULL
 * for anything else: "{}x", "{} {}", "{}\0", an empty text. Used for
 * WebSocket messages and HTTP request bodies alike. */
cJSON *srv_json_parse_whole(const char *text, size_t len);

/* {"type":"broadcast","store":S,"from":U,"data":DATA}; data_json must be
 * valid JSON text. Returns malloc'd text or NULL. */
char *srv_proto_broadcast(const char *store, const char *from, const char *data_json);

/* {"type":TYPE,"store":S,"user":U} for "user_joined" / "user_left". */
char *srv_proto_presence(const char *type, const char *store, const char *user);

/* {"type":"error","error":MESSAGE}. */
char *srv_proto_error(const char *message);

#endif
