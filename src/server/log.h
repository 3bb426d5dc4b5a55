/* The server's log: one line per event on a stream (stderr), either text
 * ("2026-11-26T00:48:53.123Z info  connection_opened store=s1 user=u1")
 * or JSON ({"ts":"...","level":"info","event":"...","store":"s1",...}).
 * A logger is a value owned by the server; there is no global one. */
#ifndef SRV_LOG_H
#define SRV_LOG_H

#include <stdbool.h>
#include <stdio.h>

#include <cJSON.h>

typedef enum srv_log_level {
    SRV_LOG_DEBUG,
    SRV_LOG_INFO,
    SRV_LOG_WARN,
    SRV_LOG_ERROR
} srv_log_level;

typedef struct srv_log {
    FILE *out;
    bool json;
    srv_log_level min; /* lines below this level are dropped */
} srv_log;

void srv_log_init(srv_log *l, FILE *out, bool json, srv_log_level min);

/* Whether a line of this level would be written: worth building. */
static inline bool srv_log_enabled(const srv_log *l, srv_log_level level)
{
    return l->out && level >= l->min;
}

/* Writes one line: event plus the members of fields (an object, taken and
 * freed; may be NULL). Flushes. */
void srv_log_emit(const srv_log *l, srv_log_level level, const char *event, cJSON *fields);

/* Shorthand: event with a "message" field formatted printf-style. */
void srv_log_msg(const srv_log *l, srv_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
