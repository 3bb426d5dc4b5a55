/* lifeline.v1's units (src/proto/wire.c), from a peer: every message of a
 * lifeline.v1 connection is read by ll_wire_read() first.
 * Input: one byte of WebSocket type (its low bit: binary), then the
 * message.
 * Properties: a unit read is exactly what writing it back gives (data: the
 * header then the same payload bytes, pointing into the message; controls:
 * the same text, when it was written as the writers write, lower-case hex);
 * data, ack and skip numbers, held and first are never 0, a welcome's epoch
 * never 0 and its first at most last + 1; control units only in text
 * messages; an invalid one says why. */
#include "fuzz.h"
#include "proto/wire.h"

#include <strings.h>

static bool lower_hex_only(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] >= 'A' && p[i] <= 'F')
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = fuzz_input(data, size);
    int is_binary = (int)(fuzz_take_u64(&in, 1) & 1);
    size_t len;
    char *msg = fuzz_rest(&in, &len);
    ll_wire_unit u;
    int kind = ll_wire_read(msg, len, is_binary, &u);
    FUZZ_CHECK(kind == u.kind);
    char out[LL_WIRE_CONTROL_MAX];
    size_t n;
    switch (kind) {
    case LL_WIRE_INVALID:
        FUZZ_CHECK(u.error != NULL && *u.error);
        break;
    case LL_WIRE_DATA:
        FUZZ_CHECK(u.seq >= 1);
        n = ll_wire_data_header(u.seq, out);
        FUZZ_CHECK(n + u.payload_len == len && memcmp(out, msg, n) == 0);
        FUZZ_CHECK(u.payload == (const uint8_t *)msg + n);
        break;
    case LL_WIRE_ACK:
        FUZZ_CHECK(!is_binary && u.seq >= 1);
        n = ll_wire_ack(u.seq, out);
        FUZZ_CHECK(n == len && memcmp(out, msg, n) == 0);
        break;
    case LL_WIRE_SKIP:
        FUZZ_CHECK(!is_binary && u.seq >= 1);
        n = ll_wire_skip(u.seq, out);
        FUZZ_CHECK(n == len && memcmp(out, msg, n) == 0);
        break;
    case LL_WIRE_HELLO:
        FUZZ_CHECK(!is_binary && u.held >= 1);
        n = ll_wire_hello(&u.session, u.epoch, u.received, u.held, out);
        FUZZ_CHECK(n < LL_WIRE_CONTROL_MAX);
        if (lower_hex_only((const uint8_t *)msg, len))
            FUZZ_CHECK(n == len && memcmp(out, msg, n) == 0);
        else
            FUZZ_CHECK(n == len && strncasecmp(out, msg, n) == 0);
        break;
    case LL_WIRE_WELCOME:
        FUZZ_CHECK(!is_binary && u.epoch != 0 && u.first >= 1);
        FUZZ_CHECK(u.last == UINT64_MAX || u.first <= u.last + 1);
        n = ll_wire_welcome(u.epoch, u.accepted, u.recovered, u.first, u.last, out);
        FUZZ_CHECK(n < LL_WIRE_CONTROL_MAX);
        if (lower_hex_only((const uint8_t *)msg, len))
            FUZZ_CHECK(n == len && memcmp(out, msg, n) == 0);
        else
            FUZZ_CHECK(n == len && strncasecmp(out, msg, n) == 0);
        break;
    default:
        FUZZ_FAIL("a kind wire.h does not have");
    }
    free(msg);
    return 0;
}
