/* See rxscan.h. A frame is: byte 0 (FIN, RSV, opcode), byte 1 (MASK, a
 * 7-bit length: 126 and 127 announce 2 or 8 bytes of length), the
 * extended length, the 4-byte mask key, the payload. */
#include "server/rxscan.h"

#include <stdbool.h>
#include <string.h>

enum { AT_START, AT_LENGTH, AT_EXT, AT_KEY, AT_PAYLOAD, BROKEN };

#define PING_FRAME 0x89 /* FIN, no RSV, opcode 9 */

void srv_rxscan_init(srv_rxscan *s)
{
    memset(s, 0, sizeof(*s));
    s->state = AT_START;
}

/* After the header (and the payload, if any): the next frame. */
static srv_rxscan_event frame_done(srv_rxscan *s)
{
    s->state = AT_START;
    if (!s->taking)
        return SRV_RXSCAN_MORE;
    s->taking = 0;
    return SRV_RXSCAN_PING;
}

srv_rxscan_event srv_rxscan_run(srv_rxscan *s, const uint8_t *in, size_t n, uint8_t *out,
                                size_t *used, size_t *made)
{
    size_t i = 0, o = 0;
    srv_rxscan_event ev = SRV_RXSCAN_MORE;
    if (s->broken) {
        *used = *made = 0;
        return (srv_rxscan_event)s->broken;
    }
    while (i < n && ev == SRV_RXSCAN_MORE) {
        uint8_t b = in[i];
        if (s->state == AT_START) {
            s->taking = b == PING_FRAME;
            s->ping_len = 0;
            s->keyed = 0;
        }
        bool keep = !s->taking; /* this byte belongs to a frame that passes */
        switch (s->state) {
        case AT_START:
            s->state = AT_LENGTH;
            break;
        case AT_LENGTH:
            if (!(b & 0x80))
                s->broken = SRV_RXSCAN_UNMASKED;
            else if (s->taking && (b & 0x7f) > SRV_RXSCAN_PING_MAX)
                s->broken = SRV_RXSCAN_LONG_PING;
            if (s->broken) {
                s->state = BROKEN;
                *used = i;
                *made = o;
                return (srv_rxscan_event)s->broken;
            }
            s->left = b & 0x7f;
            s->ext = (uint8_t)(s->left == 126 ? 2 : s->left == 127 ? 8 : 0);
            if (s->ext)
                s->left = 0;
            s->state = s->ext ? AT_EXT : AT_KEY;
            break;
        case AT_EXT:
            s->left = s->left << 8 | b;
            if (!--s->ext)
                s->state = AT_KEY;
            break;
        case AT_KEY:
            s->key[s->keyed++] = b;
            if (s->keyed == 4) {
                if (s->left)
                    s->state = AT_PAYLOAD;
                else
                    ev = frame_done(s);
            }
            break;
        case AT_PAYLOAD:
            if (s->taking) {
                s->ping[s->ping_len] = (uint8_t)(b ^ s->key[s->ping_len & 3]);
                s->ping_len++;
                if (!--s->left)
                    ev = frame_done(s);
                break;
            }
            /* the payload of any other frame passes as it is, in one go */
            size_t k = n - i < s->left ? n - i : (size_t)s->left;
            if (out + o != in + i)
                memmove(out + o, in + i, k);
            i += k;
            o += k;
            s->left -= k;
            if (!s->left)
                ev = frame_done(s);
            continue;
        }
        if (keep)
            out[o++] = b;
        i++;
    }
    *used = i;
    *made = o;
    return ev;
}
