/* lifeline.v1's units (docs/protocol.md, "Frames"): read one whole
 * WebSocket message as a unit, and write units. Pure: no I/O, no
 * allocation; shared by the client and lifeline-server. */
#ifndef LL_PROTO_WIRE_H
#define LL_PROTO_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* The subprotocol offered and selected on the upgrade. */
#define LL_WIRE_SUBPROTOCOL "lifeline.v1"

/* The longest header a unit has before its payload, and the longest
 * control unit: "w" + 16 hex + 4 numbers of up to 20 digits + spaces. */
#define LL_WIRE_HEADER_MAX 21 /* 20 digits and a space */
#define LL_WIRE_CONTROL_MAX 128

/* A session id: 128 bits, written as 32 lower-case hex digits. */
#define LL_WIRE_SESSION_HEX 32
typedef struct ll_wire_session {
    uint8_t bytes[16];
} ll_wire_session;

typedef enum ll_wire_kind {
    LL_WIRE_INVALID = 0,
    LL_WIRE_DATA,     /* seq, payload */
    LL_WIRE_ACK,      /* seq */
    LL_WIRE_HELLO,    /* session, epoch, received, held */
    LL_WIRE_WELCOME,  /* epoch, accepted, recovered, first, last */
    LL_WIRE_SKIP,     /* seq: the sender dropped its messages up to seq */
} ll_wire_kind;

typedef struct ll_wire_unit {
    int kind;                /* ll_wire_kind */
    uint64_t seq;            /* DATA, ACK, SKIP: >= 1 */
    const uint8_t *payload;  /* DATA: points into the message read */
    size_t payload_len;
    ll_wire_session session; /* HELLO */
    uint64_t epoch;          /* HELLO (0: none), WELCOME (never 0) */
    uint64_t received;       /* HELLO */
    uint64_t held;           /* HELLO: >= 1 */
    uint64_t accepted;       /* WELCOME */
    int recovered;           /* WELCOME: 1 for "r", 0 for "n" */
    uint64_t first, last;    /* WELCOME */
    const char *error;       /* INVALID: what was wrong, a static string */
} ll_wire_unit;

/* Read the len bytes of one whole WebSocket message (is_binary: its type)
 * as a unit into *out. Control units (ack, skip, hello, welcome) must be text
 * messages; data may be either. Returns out->kind; LL_WIRE_INVALID with
 * out->error naming what was wrong ("not a lifeline.v1 unit", "bad
 * number", "number out of range", "ack of 0", "bad session id", ...) when
 * the message is not exactly one of the grammars of docs/protocol.md. */
int ll_wire_read(const void *msg, size_t len, int is_binary, ll_wire_unit *out);

/* Write the header of a data unit with number seq (>= 1), "seq ", to out
 * (at least LL_WIRE_HEADER_MAX bytes; no NUL). Returns its length. */
size_t ll_wire_data_header(uint64_t seq, char *out);

/* Write a control unit as text to out (at least LL_WIRE_CONTROL_MAX bytes,
 * NUL-terminated). Each returns the length without the NUL. */
size_t ll_wire_ack(uint64_t seq, char *out);
size_t ll_wire_skip(uint64_t seq, char *out);
size_t ll_wire_hello(const ll_wire_session *session, uint64_t epoch, uint64_t received,
                     uint64_t held, char *out);
size_t ll_wire_welcome(uint64_t epoch, uint64_t accepted, int recovered, uint64_t first,
                       uint64_t last, char *out);

/* A session id as 32 lower-case hex digits and a NUL (out: 33 bytes), and
 * back (exactly 32 hex digits, either case; returns 0, or -1). */
void ll_wire_session_hex(const ll_wire_session *s, char *out);
int ll_wire_session_parse(const char *hex, size_t len, ll_wire_session *out);

#endif
