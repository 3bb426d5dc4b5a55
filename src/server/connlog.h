/* What the log says about each WebSocket connection: why it ended, the
 * fields of its connection_opened and connection_closed lines, and its
 * peer's address as text. Pure: no clock, no socket calls. */
#ifndef SRV_CONNLOG_H
#define SRV_CONNLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <cJSON.h>

/* Why a connection ended: the "reason" of its connection_closed line. The
 * first one given counts; a connection that ends with none given ended
 * without a close handshake. */
typedef enum srv_close_cause {
    SRV_CLOSE_HANGUP = 0,   /* "hangup": TCP ended without a close handshake (or a write failed) */
    SRV_CLOSE_CLIENT,       /* "client_close": the client's close frame, with its code */
    SRV_CLOSE_PING_TIMEOUT, /* "ping_timeout": no pong within --ping-timeout-ms (1001) */
    SRV_CLOSE_OVERSIZE,     /* "oversize": a message over --max-message-bytes (1009) */
    SRV_CLOSE_PROTOCOL,     /* "protocol_error": a broken frame or close frame, bad UTF-8 (1002, 1007) */
    SRV_CLOSE_SLOW_READER,  /* "slow_reader": its outbound queue was full (1008) */
    SRV_CLOSE_SHUTDOWN,     /* "server_shutdown": SIGINT or SIGTERM (1001) */
    SRV_CLOSE_FAULT,        /* "fault_mode": accept_then_close, close_all (1001) */
    SRV_CLOSE_ERROR,        /* "server_error": the server could not serve it (out of memory) */
    SRV_CLOSE_REPLACED,     /* "session_replaced": its lifeline.v1 session resumed on another (1008) */
    SRV_CLOSE_RATE_LIMITED, /* "rate_limited": over --rate-limit for --rate-limit-close-ms (1008) */
} srv_close_cause;

/* How many causes there are (the metrics count closes by cause). */
#define SRV_CLOSE_CAUSE_COUNT ((int)SRV_CLOSE_RATE_LIMITED + 1)

/* The "reason" word of a cause. */
const char *srv_close_cause_name(srv_close_cause cause);

/* The code logged for a close the client began without a code, and for a
 * connection that ended without any close frame (RFC 6455 7.1.5: these two
 * are never sent, only reported). */
#define SRV_CLOSE_NO_STATUS 1005
#define SRV_CLOSE_ABNORMAL 1006

/* Room for a peer's address: "[" IPv6 "]:" port. */
#define SRV_PEER_LEN 56

/* Writes sa as "192.0.2.7:51234" or "[2001:db8::7]:51234" (an IPv4-mapped
 * IPv6 address as IPv4) into out and returns out; "-" when sa is neither
 * family. */
const char *srv_peer_format(const struct sockaddr *sa, socklen_t len, char out[SRV_PEER_LEN]);

/* Who a connection is: id (the server's count, from 1), user, store, peer. */
typedef struct srv_conn_who {
    uint64_t id;
    const char *user;  /* NULL: left out */
    const char *store; /* NULL: left out */
    const char *peer;  /* NULL: left out */
} srv_conn_who;

/* How a connection ended. */
typedef struct srv_conn_end {
    srv_close_cause cause;
    int server_code;        /* the code of the server's close frame, 0: none */
    int client_code;        /* the code of the client's close frame, 0: none */
    const char *detail;     /* the reason text of the server's close frame, or NULL */
    int64_t duration_ms;    /* from the upgrade to the end */
} srv_conn_end;

/* The close code a connection_closed line reports: the client's for a
 * close it began (1005 when its frame had none), else the server's close
 * frame's, else 1006. */
int srv_conn_end_code(const srv_conn_end *end);

/* The fields of connection_opened: id, user, store, peer. NULL when out of
 * memory. */
cJSON *srv_connlog_opened(const srv_conn_who *who);

/* The fields of connection_closed: id, user, store, peer, code, reason,
 * detail (when the server sent a close frame with a reason) and
 * duration_ms. NULL when out of memory. */
cJSON *srv_connlog_closed(const srv_conn_who *who, const srv_conn_end *end);

/* Room for a path in a log line: longer ones are cut, with "...". */
#define SRV_LOG_PATH_LEN 260

/* A request's path (len bytes, as libwebsockets decoded it: any byte) as
 * log text, into out: printable ASCII but '%', '"' and '=' as is, every
 * other byte %XX, so that a line is always UTF-8 and the path one bare
 * word of the text form; at most
 * SRV_LOG_PATH_LEN - 1 characters, a longer one cut and ended with "...".
 * Returns out. */
const char *srv_log_path(const char *path, size_t len, char out[SRV_LOG_PATH_LEN]);

#endif
