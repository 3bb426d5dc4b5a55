/* lifeline.v1's units; see wire.h and docs/protocol.md. */
#include "proto/wire.h"

#include <stdio.h>
#include <string.h>

/* A cursor over the message being read. */
typedef struct rd {
    const uint8_t *p, *end;
    const char *error;
} rd;

static int fail(rd *r, const char *why)
{
    if (!r->error)
        r->error = why;
    return -1;
}

/* A number: 1 to 20 digits, no leading zero (but "0" itself when zero_ok),
 * at most 2^64 - 1. */
static int number(rd *r, uint64_t *out, int zero_ok)
{
    const uint8_t *s = r->p;
    uint64_t v = 0;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
        unsigned d = (unsigned)(*r->p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return fail(r, "number out of range");
        v = v * 10 + d;
        r->p++;
    }
    size_t n = (size_t)(r->p - s);
    if (n == 0)
        return fail(r, "bad number");
    if (s[0] == '0' && n > 1)
        return fail(r, "bad number (leading zero)");
    if (v == 0 && !zero_ok)
        return fail(r, "number 0 where 1 or more is needed");
    *out = v;
    return 0;
}

static int space(rd *r)
{
    if (r->p >= r->end || *r->p != ' ')
        return fail(r, "missing space");
    r->p++;
    return 0;
}

static int hexval(uint8_t ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Exactly 16 hex digits. */
static int epoch(rd *r, uint64_t *out)
{
    if (r->end - r->p < 16)
        return fail(r, "bad epoch");
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        int h = hexval(r->p[i]);
        if (h < 0)
            return fail(r, "bad epoch");
        v = v << 4 | (uint64_t)h;
    }
    r->p += 16;
    *out = v;
    return 0;
}

static int at_end(rd *r)
{
    return r->p == r->end ? 0 : fail(r, "trailing bytes");
}

int ll_wire_session_parse(const char *hex, size_t len, ll_wire_session *out)
{
    if (len != LL_WIRE_SESSION_HEX)
        return -1;
    for (size_t i = 0; i < 16; i++) {
        int hi = hexval((uint8_t)hex[2 * i]), lo = hexval((uint8_t)hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out->bytes[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void ll_wire_session_hex(const ll_wire_session *s, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < 16; i++) {
        out[2 * i] = digits[s->bytes[i] >> 4];
        out[2 * i + 1] = digits[s->bytes[i] & 15];
    }
    out[LL_WIRE_SESSION_HEX] = 0;
}

static int read_hello(rd *r, ll_wire_unit *u)
{
    if (space(r))
        return -1;
    if (r->end - r->p < LL_WIRE_SESSION_HEX ||
        ll_wire_session_parse((const char *)r->p, LL_WIRE_SESSION_HEX, &u->session))
        return fail(r, "bad session id");
    r->p += LL_WIRE_SESSION_HEX;
    if (space(r) || epoch(r, &u->epoch) || space(r) || number(r, &u->received, 1) ||
        space(r) || number(r, &u->held, 0) || at_end(r))
        return -1;
    return 0;
}

static int read_welcome(rd *r, ll_wire_unit *u)
{
    if (space(r) || epoch(r, &u->epoch) || space(r) || number(r, &u->accepted, 1) ||
        space(r))
        return -1;
    if (r->p >= r->end || (*r->p != 'r' && *r->p != 'n'))
        return fail(r, "bad status (r or n)");
    u->recovered = *r->p++ == 'r';
    if (space(r) || number(r, &u->first, 0) || space(r) || number(r, &u->last, 1) ||
        at_end(r))
        return -1;
    if (u->epoch == 0)
        return fail(r, "epoch 0 in a welcome");
    if (u->last != UINT64_MAX && u->first > u->last + 1)
        return fail(r, "first past last + 1");
    return 0;
}

int ll_wire_read(const void *msg, size_t len, int is_binary, ll_wire_unit *out)
{
    memset(out, 0, sizeof(*out));
    rd r = {.p = msg, .end = (const uint8_t *)msg + len};
    if (len == 0) {
        out->error = "empty message";
        return out->kind = LL_WIRE_INVALID;
    }
    int kind = LL_WIRE_INVALID, rc = -1;
    uint8_t first = r.p[0];
    if (first >= '1' && first <= '9') {
        kind = LL_WIRE_DATA;
        rc = number(&r, &out->seq, 0) || space(&r) ? -1 : 0;
        out->payload = r.p;
        out->payload_len = (size_t)(r.end - r.p);
    } else if (is_binary) {
        fail(&r, "a control unit in a binary message");
    } else if (first == 'a') {
        kind = LL_WIRE_ACK;
        r.p++;
        rc = number(&r, &out->seq, 0) || at_end(&r) ? -1 : 0;
    } else if (first == 's') {
        kind = LL_WIRE_SKIP;
        r.p++;
        rc = number(&r, &out->seq, 0) || at_end(&r) ? -1 : 0;
    } else if (first == 'h') {
        kind = LL_WIRE_HELLO;
        r.p++;
        rc = read_hello(&r, out);
    } else if (first == 'w') {
        kind = LL_WIRE_WELCOME;
        r.p++;
        rc = read_welcome(&r, out);
    } else {
        fail(&r, "not a lifeline.v1 unit");
    }
    if (rc) {
        const char *why = r.error;
        memset(out, 0, sizeof(*out));
        out->error = why;
        return out->kind = LL_WIRE_INVALID;
    }
    return out->kind = kind;
}

size_t ll_wire_data_header(uint64_t seq, char *out)
{
    char tmp[LL_WIRE_HEADER_MAX + 1];
    int n = snprintf(tmp, sizeof(tmp), "%llu ", (unsigned long long)seq);
    memcpy(out, tmp, (size_t)n);
    return (size_t)n;
}

size_t ll_wire_ack(uint64_t seq, char *out)
{
    return (size_t)snprintf(out, LL_WIRE_CONTROL_MAX, "a%llu", (unsigned long long)seq);
}

size_t ll_wire_skip(uint64_t seq, char *out)
{
    return (size_t)snprintf(out, LL_WIRE_CONTROL_MAX, "s%llu", (unsigned long long)seq);
}

size_t ll_wire_hello(const ll_wire_session *session, uint64_t epoch, uint64_t received,
                     uint64_t held, char *out)
{
    char hex[LL_WIRE_SESSION_HEX + 1];
    ll_wire_session_hex(session, hex);
    return (size_t)snprintf(out, LL_WIRE_CONTROL_MAX, "h %s %016llx %llu %llu", hex,
                            (unsigned long long)epoch, (unsigned long long)received,
                            (unsigned long long)held);
}

size_t ll_wire_welcome(uint64_t epoch, uint64_t accepted, int recovered, uint64_t first,
                       uint64_t last, char *out)
{
    return (size_t)snprintf(out, LL_WIRE_CONTROL_MAX, "w %016llx %llu %c %llu %llu",
                            (unsigned long long)epoch, (unsigned long long)accepted,
                            recovered ? 'r' : 'n', (unsigned long long)first,
                            (unsigned long long)last);
}
