/* The server's log: one line per event on a stream (stderr), either text
 * ("2026-11-26T00:48:53.123Z info  connection_opened store=s1 user=u1")
 * or JSON ({"ts":"...","level":"info","event":"...","store":"s1",...}).
 * A logger is a value owned by the server; there is no global one. */
#ifndef LL_SERVER_LOG_H
#define LL_SERVER_LOG_H

#include <stdbool.h>
#include <stdio.h>

#include <cJSON.h>

typedef enum ll_log_level { LL_LOG_DEBUG, LL_LOG_INFO, LL_LOG_WARN, LL_LOG_ERROR } ll_log_level;

typedef struct ll_log {
    FILE *out;
    bool json;
    ll_log_level min; /* lines below this level are dropped */
} ll_log;

void ll_log_init(ll_log *l, FILE *out, bool json, ll_log_level min);

/* Writes one line: event plus the members of fields (an object, taken and
 * freed; may be NULL). Flushes. */
void ll_log_emit(const ll_log *l, ll_log_level level, const char *event, cJSON *fields);

/* Shorthand: event with a "message" field formatted printf-style. */
void ll_log_msg(const ll_log *l, ll_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
