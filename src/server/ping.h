/* The server's WebSocket ping schedule for one connection: a ping every
 * interval, one outstanding at a time, and a timeout for its pong. Pure:
 * the caller passes the time and does the sending and closing. */
#ifndef SRV_PING_H
#define SRV_PING_H

#include <stdbool.h>
#include <stdint.h>

typedef enum srv_ping_action {
    SRV_PING_IDLE = 0, /* nothing to do yet */
    SRV_PING_SEND,     /* send a ping frame now */
    SRV_PING_TIMEOUT   /* the pong is later than the timeout: close */
} srv_ping_action;

typedef struct srv_ping {
    int64_t next_ms; /* when the next ping is due */
    int64_t sent_ms; /* when the outstanding ping went out */
    bool awaiting;   /* a ping is outstanding */
} srv_ping;

/* The first ping is due one interval after now. Also restarts the
 * schedule after a pause (blackhole). */
void srv_ping_init(srv_ping *p, int64_t now, int64_t interval_ms);

/* What to do at time now. SRV_PING_SEND marks the ping as sent. */
srv_ping_action srv_ping_poll(srv_ping *p, int64_t now, int64_t interval_ms, int64_t timeout_ms);

/* A pong arrived: the outstanding ping is answered. */
void srv_ping_pong(srv_ping *p);

/* When srv_ping_poll next has something to do. */
int64_t srv_ping_deadline(const srv_ping *p, int64_t timeout_ms);

#endif
