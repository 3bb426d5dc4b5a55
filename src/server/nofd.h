/* Out of descriptors: the episodes in which the listening socket's
 * connections cannot be accepted (accept() fails with EMFILE or ENFILE,
 * the process's or the system's file table is full), what is counted, and
 * which log line each turn of one calls for. Pure: the adapter
 * (listener.c) closes the connections and writes the lines; times are
 * parameters.
 *
 * An episode begins at the first failed accept and ends at the first one
 * that works again. It is logged once as it begins, then at most once
 * every SRV_NOFD_LINE_EVERY_MS while connections keep being refused, and
 * once as it ends, with its count: a server that stays at its limit under
 * a stream of connections writes a line a minute, not one per attempt. */
#ifndef SRV_NOFD_H
#define SRV_NOFD_H

#include <stdbool.h>
#include <stdint.h>

/* While an episode goes on, a line with the count this often at most. */
#define SRV_NOFD_LINE_EVERY_MS 60000

typedef struct srv_nofd {
    uint64_t refused;        /* connections closed at accept since start */
    bool on;                 /* an episode is going on */
    int64_t began_ms;        /* when it began */
    uint64_t episode;        /* connections it refused so far */
    int64_t line_ms;         /* its last line */
    uint64_t since_line;     /* connections refused since that line */
} srv_nofd;

/* The line a call asks for: none, the episode began, it goes on (a
 * summary), it ended. */
typedef enum srv_nofd_line {
    SRV_NOFD_QUIET,
    SRV_NOFD_BEGAN,
    SRV_NOFD_GOES_ON,
    SRV_NOFD_ENDED,
} srv_nofd_line;

typedef struct srv_nofd_report {
    srv_nofd_line line;
    uint64_t refused;        /* GOES_ON: refused since the last line; ENDED: in the episode */
    int64_t over_ms;         /* and over how long */
} srv_nofd_report;

/* No episode, nothing counted. */
void srv_nofd_init(srv_nofd *n);

/* An accept failed for want of a descriptor at now, and count pending
 * connections were then accepted and closed (0 when none could be: the
 * spare descriptor was taken). Begins an episode or counts in the current
 * one. */
srv_nofd_report srv_nofd_failed(srv_nofd *n, int64_t now, uint64_t count);

/* An accept worked at now: ends the episode going on, if any. */
srv_nofd_report srv_nofd_accepted(srv_nofd *n, int64_t now);

#endif
