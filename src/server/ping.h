/* The server's WebSocket ping schedule for one connection: a ping every
 * interval, one outstanding at a time, and a timeout for its pong. Pure:
 * the caller passes the time and does the sending and closing. */
#ifndef LL_SERVER_PING_H
#define LL_SERVER_PING_H

#include <stdbool.h>
#include <stdint.h>

typedef enum ll_ping_action {
    LL_PING_IDLE = 0, /* nothing to do yet */
    LL_PING_SEND,     /* send a ping frame now */
    LL_PING_TIMEOUT   /* the pong is later than the timeout: close */
} ll_ping_action;

typedef struct ll_ping {
    int64_t next_ms; /* when the next ping is due */
    int64_t sent_ms; /* when the outstanding ping went out */
    bool awaiting;   /* a ping is outstanding */
} ll_ping;

/* The first ping is due one interval after now. Also restarts the
 * schedule after a pause (blackhole). */
void ll_ping_init(ll_ping *p, int64_t now, int64_t interval_ms);

/* What to do at time now. LL_PING_SEND marks the ping as sent. */
ll_ping_action ll_ping_poll(ll_ping *p, int64_t now, int64_t interval_ms, int64_t timeout_ms);

/* A pong arrived: the outstanding ping is answered. */
void ll_ping_pong(ll_ping *p);

/* When ll_ping_poll next has something to do. */
int64_t ll_ping_deadline(const ll_ping *p, int64_t timeout_ms);

#endif
