/* Where every event goes: one JSON object per line (--json) or a readable
 * line, plus a one-line status indicator redrawn in place when stdout is a
 * terminal. Events are written whole, one at a time, from any thread. */
#ifndef LIFELINE_CLI_OUTPUT_H
#define LIFELINE_CLI_OUTPUT_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "lifeline/lifeline.h"

typedef struct output {
    pthread_mutex_t lock;
    FILE *stream;
    int json;           /* 1: JSON lines, 0: readable lines */
    int status_line;    /* 1: keep a status line at the bottom */
    int status_drawn;   /* the status line is on screen now */
    int64_t t0_ms;      /* monotonic time the CLI started */
    /* what the status line shows, updated from the events */
    int state;          /* lifeline_state */
    int quality;        /* lifeline_quality */
    int attempt;
    int64_t rtt_ms;     /* -1: none yet */
    int64_t retry_ms;   /* delay of the retry or probe pending, -1: none */
} output;

/* json: JSON lines; status_line: draw the status indicator (only sensible
 * when stream is a terminal and json is 0). Returns 0 or -1. */
int output_init(output *o, FILE *stream, int json, int status_line);

/* Milliseconds of the monotonic clock since output_init(). Threads: any. */
int64_t output_elapsed_ms(const output *o);

/* A new event {"event":name,"ts_ms":now} to fill and hand to output_emit();
 * NULL when out of memory. Threads: any. */
cJSON *output_event(output *o, const char *name);

/* Print ev (JSON or readable) and free it. NULL is ignored. Threads: any. */
void output_emit(output *o, cJSON *ev);

/* Remove the status line, if drawn. Threads: any. */
void output_finish(output *o);

void output_destroy(output *o);

#endif
