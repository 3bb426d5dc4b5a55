/* The frames a WebSocket client sends, read off the byte stream before
 * libwebsockets parses it (tap.c): its whole pings are taken out of the
 * stream, to be answered by the server itself, and a frame without a mask
 * is caught at its header (RFC 6455 5.1: the server must then close with
 * 1002). Only headers are read; every other byte passes untouched.
 * Pure: no I/O, no allocation. */
#ifndef SRV_RXSCAN_H
#define SRV_RXSCAN_H

#include <stddef.h>
#include <stdint.h>

/* A ping's payload is at most 125 bytes (RFC 6455 5.5). */
#define SRV_RXSCAN_PING_MAX 125

typedef enum {
    SRV_RXSCAN_MORE,     /* the input is used up: scan the next piece */
    SRV_RXSCAN_PING,     /* a whole ping was taken out: ping[0..ping_len) */
    SRV_RXSCAN_UNMASKED, /* a frame without a mask: stop reading (1002) */
    SRV_RXSCAN_LONG_PING, /* a ping longer than 125 bytes: stop reading (1002) */
} srv_rxscan_event;

typedef struct srv_rxscan {
    uint64_t left;     /* payload bytes of the current frame still to come */
    uint8_t state;     /* where in a frame the next byte is */
    uint8_t ext;       /* extended length bytes still to come */
    uint8_t keyed;     /* mask key bytes read */
    uint8_t key[4];
    uint8_t taking;    /* the current frame is a ping taken out */
    uint8_t broken;    /* a rule was broken: nothing more is read */
    uint8_t ping_len;
    uint8_t ping[SRV_RXSCAN_PING_MAX];
} srv_rxscan;

/* At the first byte of a frame. */
void srv_rxscan_init(srv_rxscan *s);

/* Reads in[0..n) and writes to out every byte that is not part of a ping
 * taken out: a ping with FIN set, no RSV bit and a payload of at most 125
 * bytes (any other ping passes on, for libwebsockets to refuse). out may
 * be in: nothing is ever added. Stops when a ping has been taken out
 * (SRV_RXSCAN_PING), at the header byte that breaks a rule (UNMASKED,
 * LONG_PING: that byte is neither used nor written, and every later call
 * returns the same at once), or at the end of the input (MORE). *used is
 * set to the bytes read from in, *made to the bytes written to out. */
srv_rxscan_event srv_rxscan_run(srv_rxscan *s, const uint8_t *in, size_t n, uint8_t *out,
                                size_t *used, size_t *made);

#endif
