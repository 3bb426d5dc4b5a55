/* UTF-8 as RFC 3629 and the Unicode standard's table 3-7 define it (no
 * overlong forms, no surrogates, nothing above U+10FFFF), checked as the
 * text arrives: a WebSocket text message comes in fragments, and each
 * fragment in pieces, and a character may straddle two of them. Pure: no
 * I/O, no allocation; one ll_utf8_stream per message being received.
 * Shared by the client's transport and any other WebSocket endpoint of
 * lifeline. */
#ifndef LL_PROTO_WS_UTF8_H
#define LL_PROTO_WS_UTF8_H

#include <stddef.h>
#include <stdint.h>

typedef struct ll_utf8_stream {
    uint8_t need;   /* continuation bytes the current character still needs */
    uint8_t lo, hi; /* the range the next continuation byte must be in */
    uint8_t bad;    /* an invalid byte was seen: stays invalid */
} ll_utf8_stream;

/* Start a new text (a new message). */
void ll_utf8_stream_init(ll_utf8_stream *u);

/* Check the next len bytes of the text. Returns len when the text is valid
 * so far (it may end inside a character), else the offset in data of the
 * first byte that makes it invalid; once it is, u->bad is 1 and every
 * later call returns 0. */
size_t ll_utf8_stream_feed(ll_utf8_stream *u, const void *data, size_t len);

/* 1 when everything fed is valid and ends on a whole character: the test
 * at the end of a message. */
int ll_utf8_stream_complete(const ll_utf8_stream *u);

/* 1 when the len bytes at data are valid UTF-8 (a whole text). */
int ll_utf8_stream_valid(const void *data, size_t len);

#endif
