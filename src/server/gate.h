/* The delay_pongs gate for one connection. libwebsockets answers client
 * pings inside its own parser, so the only way to hold a pong back is to
 * hold back reading: the connection's input stays off until bytes have
 * waited delay_ms in the socket, then is let in for one step. Pure: the
 * caller says whether bytes are waiting and applies the answer. */
#ifndef SRV_GATE_H
#define SRV_GATE_H

#include <stdbool.h>
#include <stdint.h>

typedef enum srv_gate_state {
    SRV_GATE_HELD = 0, /* input off, nothing waiting */
    SRV_GATE_WAITING,  /* input off, bytes waiting since since_ms */
    SRV_GATE_OPEN      /* input on for this step */
} srv_gate_state;

typedef struct srv_gate {
    srv_gate_state state;
    int64_t since_ms;
} srv_gate;

/* Advances the gate at time now; data_waiting says whether unread bytes are
 * in the socket, busy whether a message is partly read. Returns true when
 * input should be on until the next step. An open gate stays open while
 * busy (a large message is delayed once, not once per read) and otherwise
 * closes at the next step; bytes still waiting then start a new wait. The
 * caller takes the next step as soon as the opened input has been read
 * once, so a peer cannot slip a new message through the open gate. */
bool srv_gate_step(srv_gate *g, int64_t now, bool data_waiting, bool busy, int64_t delay_ms);

#endif
