/* Where every event goes: one JSON object per line (--json) or a readable
 * line, plus a one-line status indicator redrawn in place when the events'
 * stream is a terminal. With a separate messages stream (--messages-only),
 * the received messages go there alone, one per line, and every other event
 * to the events' stream. Events are written whole, one at a time, from any
 * thread. */
#ifndef LIFELINE_CLI_OUTPUT_H
#define LIFELINE_CLI_OUTPUT_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "lifeline/lifeline.h"

typedef struct output {
    pthread_mutex_t lock;
    FILE *stream;       /* the events (and the status line) */
    FILE *messages;     /* the received messages alone, or NULL: in stream */
    int json;           /* 1: JSON lines, 0: readable lines */
    int status_line;    /* 1: keep a status line at the bottom */
    int status_drawn;   /* the status line is on screen now */
    int64_t t0_ms;      /* monotonic time the CLI started */
    /* what the status line shows, updated from the events */
    int state;          /* lifeline_state */
    int quality;        /* lifeline_quality */
    int attempt;
    int show_url;       /* readable state lines name the server (set when
                           there are fallback URLs) */
    int64_t rtt_ms;     /* -1: none yet */
    int64_t retry_at_ms; /* when the pending retry or probe is due, -1: none */
    /* the ticker thread redraws the status line while a retry is counted
     * down (status_line only) */
    pthread_t ticker;
    pthread_cond_t tick;
    int ticker_started;
    int ticker_stop;
} output;

/* How often the status line's "next in N ms" is redrawn while it counts down. */
#define OUTPUT_TICK_MS 200

/* stream: where the events go; messages: where the received messages go,
 * their bodies only (NULL: to stream, as events); json: JSON lines;
 * status_line: draw the status indicator on stream (only sensible when
 * stream is a terminal and json is 0). Returns 0 or -1. */
int output_init(output *o, FILE *stream, FILE *messages, int json, int status_line);

/* A received message for the messages stream: its body and a newline, a
 * text message as received, a binary one in base64. Returns 0 when it was
 * written there, -1 when there is no messages stream (report it with
 * output_event() instead). Threads: any. */
int output_message(output *o, const void *data, size_t len, int is_binary);

/* Milliseconds of the monotonic clock since output_init(). Threads: any. */
int64_t output_elapsed_ms(const output *o);

/* A new event {"event":name,"ts_ms":now} to fill and hand to output_emit();
 * NULL when out of memory. Threads: any. */
cJSON *output_event(output *o, const char *name);

/* Print ev (JSON or readable) and free it. NULL is ignored. Threads: any. */
void output_emit(output *o, cJSON *ev);

/* Stop the status line's countdown and remove the line, if drawn.
 * Threads: any but a callback's, once. */
void output_finish(output *o);

void output_destroy(output *o);

#endif
