/* The lifeline callbacks of lifeline-cli: each turns what the library
 * reports into one event for output.h, and decides when the CLI must end
 * (error entered, or server_down with --exit-on-server-down). Every state
 * change, ack and resume wakes the main thread (wake_fd), which waits on
 * them at the end of stdin. */
#ifndef LIFELINE_CLI_EVENTS_H
#define LIFELINE_CLI_EVENTS_H

#include <stdatomic.h>
#include <stddef.h>

#include "lifeline/lifeline.h"
#include "output.h"

typedef struct events {
    output *out;
    int exit_on_server_down;
    int wake_fd;              /* written to when exit_code is set, and on
                                 every state change */
    atomic_int exit_code;     /* -1 until the CLI must end */
    atomic_int dropped;       /* messages dropped or refused, so far */
    atomic_int connected;     /* the state has been connected at least once */
    atomic_int state;         /* the last state reported (lifeline_state) */
    /* reliable delivery */
    atomic_int dropped_stopped; /* of dropped: those of an outbox in memory,
                                   not acknowledged when the client stopped */
    atomic_int resumed;       /* a session has been resumed (on_resumed) */
    atomic_uint progress;     /* acks, resumes and connections so far: the
                                 end of stdin waits while it moves */
} events;

/* Set up e and point cfg's callbacks and user_data at it (on_acked and
 * on_resumed too: they only come with reliable delivery); log lines are
 * reported only when verbose. The library has already removed the
 * configuration's secrets from every log line it reports; reasons and
 * details are its own fixed texts. */
void events_attach(events *e, lifeline_config *cfg, output *out,
                   int verbose, int exit_on_server_down, int wake_fd);

/* A line that lifeline_client_send() refused (err), or that was too long to
 * send (LIFELINE_ERR_MESSAGE_TOO_BIG): reported as a "dropped" event with
 * "refused": true. Threads: any. */
void events_send_refused(events *e, int err);

#endif
