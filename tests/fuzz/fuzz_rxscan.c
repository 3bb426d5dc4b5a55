/* lifeline-server's scan of a client's raw bytes (src/server/rxscan.c),
 * before libwebsockets parses them: whole pings taken out, an unmasked
 * frame or a long ping caught at its header. Input: one byte whose bits
 * pick the lengths of the pieces the stream arrives in, then the stream.
 * Properties: fed in pieces and in place as tap.c does (out inside in),
 * the bytes passed on, the pings taken out and where a rule was broken are
 * exactly those of a frame-by-frame reading of the whole stream written
 * here from RFC 6455 5.2; every call after a broken rule reads nothing. */
#include "fuzz.h"
#include "server/rxscan.h"

#define MAX_PINGS 64

typedef struct result {
    uint8_t *out; /* the bytes passed on */
    size_t made;
    size_t n_pings;
    uint8_t pings[MAX_PINGS][SRV_RXSCAN_PING_MAX + 1]; /* [0]: length */
    srv_rxscan_event end; /* MORE, or the broken rule */
    size_t broken_at;    /* the offset of the byte that broke it */
} result;

static void add_ping(result *r, const uint8_t *p, size_t len)
{
    FUZZ_CHECK(len <= SRV_RXSCAN_PING_MAX);
    if (r->n_pings < MAX_PINGS) {
        r->pings[r->n_pings][0] = (uint8_t)len;
        memcpy(r->pings[r->n_pings] + 1, p, len);
    }
    r->n_pings++;
}

/* The reading of RFC 6455 5.2 that rxscan.h describes, on the whole. */
static void reference(const uint8_t *in, size_t n, result *r)
{
    size_t i = 0;
    r->end = SRV_RXSCAN_MORE;
    while (i < n) {
        size_t start = i;
        uint8_t b0 = in[i++];
        bool ping = b0 == 0x89;
        if (i == n) {
            if (!ping)
                r->out[r->made++] = b0;
            return;
        }
        uint8_t b1 = in[i];
        if (!(b1 & 0x80) || (ping && (b1 & 0x7f) > SRV_RXSCAN_PING_MAX)) {
            r->end = !(b1 & 0x80) ? SRV_RXSCAN_UNMASKED : SRV_RXSCAN_LONG_PING;
            r->broken_at = i;
            if (!ping)
                r->out[r->made++] = b0;
            return;
        }
        i++;
        uint64_t len = b1 & 0x7f;
        size_t ext = len == 126 ? 2 : len == 127 ? 8 : 0;
        if (ext)
            len = 0;
        for (size_t k = 0; k < ext && i < n; k++)
            len = len << 8 | in[i++];
        size_t key_at = i;
        i = n - i < 4 ? n : i + 4;
        size_t header_end = i;
        size_t payload = n - i < len ? n - i : (size_t)len;
        i += payload;
        bool whole = header_end - key_at == 4 && payload == len;
        if (!ping) {
            memcpy(r->out + r->made, in + start, i - start);
            r->made += i - start;
        } else if (whole) {
            uint8_t p[SRV_RXSCAN_PING_MAX];
            for (size_t k = 0; k < payload; k++)
                p[k] = in[header_end + k] ^ in[key_at + (k & 3)];
            add_ping(r, p, payload);
        }
    }
}

/* Feeds the stream in pieces, in place, as tap.c does. */
static void scan(const uint8_t *in, size_t n, unsigned cuts, result *r)
{
    static const size_t lengths[4] = {1, 3, 16, 4096};
    srv_rxscan s;
    srv_rxscan_init(&s);
    r->end = SRV_RXSCAN_MORE;
    size_t pos = 0;
    for (unsigned k = 0; pos < n; k++) {
        size_t len = lengths[(cuts >> (2 * (k % 4))) & 3];
        if (len > n - pos)
            len = n - pos;
        uint8_t *buf = (uint8_t *)fuzz_dup(in + pos, len);
        size_t at = 0, kept = 0;
        while (at < len) {
            size_t used = 99, made = 99;
            srv_rxscan_event ev = srv_rxscan_run(&s, buf + at, len - at, buf + kept, &used, &made);
            FUZZ_CHECK(used <= len - at && made <= used);
            at += used;
            kept += made;
            if (ev == SRV_RXSCAN_PING) {
                add_ping(r, s.ping, s.ping_len);
            } else if (ev != SRV_RXSCAN_MORE) {
                FUZZ_CHECK(ev == SRV_RXSCAN_UNMASKED || ev == SRV_RXSCAN_LONG_PING);
                r->end = ev;
                r->broken_at = pos + at;
                break;
            } else {
                FUZZ_CHECK(at == len);
            }
        }
        memcpy(r->out + r->made, buf, kept);
        r->made += kept;
        free(buf);
        if (r->end != SRV_RXSCAN_MORE) {
            size_t used = 99, made = 99;
            uint8_t more[2] = {0x81, 0x80};
            FUZZ_CHECK(srv_rxscan_run(&s, more, sizeof(more), more, &used, &made) == r->end);
            FUZZ_CHECK(used == 0 && made == 0);
            return;
        }
        pos += len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = fuzz_input(data, size);
    unsigned cuts = (unsigned)fuzz_take_u64(&in, 1);
    size_t n;
    uint8_t *stream = (uint8_t *)fuzz_rest(&in, &n);

    result *want = calloc(1, sizeof(*want)), *got = calloc(1, sizeof(*got));
    want->out = malloc(n + 1);
    got->out = malloc(n + 1);
    reference(stream, n, want);
    scan(stream, n, cuts, got);

    FUZZ_CHECK(got->end == want->end);
    if (got->end != SRV_RXSCAN_MORE)
        FUZZ_CHECK(got->broken_at == want->broken_at);
    FUZZ_CHECK(got->made == want->made && !memcmp(got->out, want->out, got->made));
    FUZZ_CHECK(got->n_pings == want->n_pings);
    size_t kept = got->n_pings < MAX_PINGS ? got->n_pings : MAX_PINGS;
    for (size_t i = 0; i < kept; i++)
        FUZZ_CHECK(!memcmp(got->pings[i], want->pings[i], (size_t)want->pings[i][0] + 1));

    free(want->out);
    free(got->out);
    free(want);
    free(got);
    free(stream);
    return 0;
}
