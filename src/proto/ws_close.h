/* The payload of a WebSocket close frame as received (RFC 6455 §5.5.1 and
 * §7.4): what it says, and whether it may be echoed. Pure: no I/O. Shared
 * by the client's transport and any other WebSocket endpoint of lifeline. */
#ifndef LL_PROTO_WS_CLOSE_H
#define LL_PROTO_WS_CLOSE_H

#include <stddef.h>

/* 1 when code may be sent in a close frame: 1000-1003, 1007-1014 (those
 * IANA has registered and that are not reserved for local use, as 1004,
 * 1005, 1006 and 1015 are) and 3000-4999 (libraries and applications).
 * 0-999, 1016-2999 and 5000 up may not. */
int ll_ws_close_code_valid(int code);

/* Check a received close frame's payload (len bytes at payload):
 *  - empty: valid, *code = 1005 (no status received);
 *  - 1 byte (*code = 0), more than 125 bytes, or a code that may not be
 *    sent: 1002;
 *  - a reason (the bytes after the code) that is not UTF-8: 1007;
 *  - else valid, *code = the code.
 * Returns 0 when valid, else the code to close with (1002 or 1007).
 * *code (code may be NULL) is set in every case where there is one. */
int ll_ws_close_check(const void *payload, size_t len, int *code);

#endif
