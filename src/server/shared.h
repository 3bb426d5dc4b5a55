/* lifeline.v1 sessions shared through Redis (with --redis): a till that
 * reconnects to another instance resumes there, its sends neither lost
 * nor doubled, and the messages sent to it replayed (shared_wire.h has the
 * keys and scripts; docs/server.md, "Several instances", the rules).
 *
 * One synchronous hiredis connection of its own (not the fan-out's): a
 * claim (at a hello) and a commit (of a batch of marks) are round trips
 * on the service thread, as the SQLite commit beside them is; the mirror
 * of each message numbered into a stream is pipelined on the same
 * connection (sent at the end of the pass, its answers read when they
 * have come), so that a claim or commit is ordered after every mirror
 * before it. Each round trip waits at most SRV_SHARED_TIMEOUT_MS; a
 * failure closes the connection ("down": each instance then keeps its
 * sessions to itself, as without Redis, and says so in its log), and it is
 * opened again at most once a second, once the fan-out's asynchronous
 * connection has found Redis again (v1_shared.c). A Redis that accepts
 * connections and never answers costs the loop SRV_SHARED_TIMEOUT_MS once
 * a second at most. The service thread only. */
#ifndef SRV_SHARED_H
#define SRV_SHARED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/cluster_wire.h"
#include "server/log.h"
#include "server/map.h"
#include "server/shared_wire.h"

#define SRV_SHARED_TIMEOUT_MS 200
/* How long a claimant waits for the old owner to release a session. */
#define SRV_SHARED_RELEASE_WAIT_MS 500

typedef struct srv_shared srv_shared;

/* A mirror's answer came: status 1 (written), 2 (written; the session's
 * stream has a gap: restart it), or 0 (another instance owns the session
 * now: disown it), for the session hex; or -1: the connection failed
 * before its answer, so whether Redis has it is unknown (Redis's copy of
 * the stream may have a hole). -1 may come inside any call that fails;
 * it must not free the session. */
typedef void srv_shared_status_fn(const char *hex, int status, void *ctx);

/* For instance id at addr; connects at the first srv_shared_up. Returns
 * NULL when out of memory. log is borrowed for the life of it. */
srv_shared *srv_shared_new(const srv_redis_addr *addr, const char *id, srv_log *log,
                           srv_shared_status_fn *on_status, void *ctx);

/* Closes the connection and frees x; NULL is fine. Mirrors not yet
 * answered are not waited for. */
void srv_shared_free(srv_shared *x);

/* Whether the connection is up, opening it (at most once a second, at
 * now_ms monotonic) when it is not. */
bool srv_shared_up(srv_shared *x, int64_t now_ms);

/* Closes the connection (logging redis_sessions_down when it was up), as a
 * failure does: when the fan-out's connection has lost Redis. */
void srv_shared_down(srv_shared *x, const char *why);

/* A claim's answer. */
typedef struct srv_shared_claim {
    bool identity; /* the session is another store's or user's: nothing changed */
    char prev[SRV_CLUSTER_ID_MAX + 1]; /* the owner before ("": none) */
    bool released; /* prev, alive, released it with its stream whole */
    uint64_t hwm, epoch, last;
    bool gap;
    srv_shared_entry *entries; /* the ring, oldest first (views into reply) */
    size_t count;
    void *reply;               /* freed by srv_shared_claim_done */
} srv_shared_record;

/* Makes this instance the owner of session hex of store and user, and
 * reads its record (shared_wire.h: CLAIM, then, when another live
 * instance owns it, a wait of at most SRV_SHARED_RELEASE_WAIT_MS for its
 * release, then TAKE). Returns 0 (out filled; srv_shared_claim_done it),
 * or -1 (Redis failed: down now; out is empty). */
int srv_shared_claim(srv_shared *x, const char *hex, const char *store, const char *user,
                     srv_shared_record *out);

void srv_shared_claim_done(srv_shared_record *c);

/* Sessions whose last commit's outcome is unknown (Redis went while it
 * ran): until Redis answers again, accepting their messages here could
 * double what Redis took, so they wait (their tills hold the messages).
 * Each keeps stash, what the commit held (the caller's; freed with
 * free_stash when forgotten), for the claim that learns the outcome.
 * Bounded: past SRV_SHARED_DOUBT_MAX every doubt is forgotten (those
 * sessions go on as alone). */
#define SRV_SHARED_DOUBT_MAX 100000
void srv_shared_doubt(srv_shared *x, const char *hex, void *stash, void (*free_stash)(void *));
bool srv_shared_in_doubt(const srv_shared *x, const char *hex);
/* Ends the doubt of hex; returns its stash (the caller's to free), or NULL. */
void *srv_shared_resolved(srv_shared *x, const char *hex);

/* Gives session hex up to claimant, which asked: had says whether this
 * instance had it, its stream committed and mirrored up to now. Returns
 * 0, or -1 (Redis failed: the claimant takes it when its wait ends). */
int srv_shared_release(srv_shared *x, const char *hex, const char *claimant, bool had);

/* One accepted message for the journal (with --journal). */
typedef struct srv_shared_journal {
    size_t session; /* its index into the commit's sessions */
    uint64_t seq;
    const void *payload;
    size_t len;
    bool binary;
} srv_shared_journal;

/* Commits the marks hwm[i] of the n sessions hex[i] and the journal
 * entries j[0..jn) in one script. status[i] gets 0 (not the owner: none
 * of it written), 1, or 2 (written; the stream has a gap). Returns 0, or
 * -1 (Redis failed: down now; whether it ran is unknown). */
int srv_shared_commit(srv_shared *x, size_t n, const char *const *hex, const uint64_t *hwm,
                      size_t jn, const srv_shared_journal *j, int *status);

/* Queues the mirror of a message numbered seq in epoch of session hex
 * (wall_ms: when), with the ring kept to max entries and what the client
 * acknowledged (up to acked) dropped. Its answer goes to on_status.
 * Returns 0, or -1 (not up, or out of memory: not mirrored). */
int srv_shared_push(srv_shared *x, const char *hex, uint64_t epoch, uint64_t seq, int64_t wall_ms,
                    bool binary, const void *payload, size_t len, uint64_t max, uint64_t acked);

/* Queues the restart of session hex's stream in epoch (its answer is not
 * reported). Returns 0 or -1 (not up, or out of memory). */
int srv_shared_restart(srv_shared *x, const char *hex, uint64_t epoch);

/* Sends what is queued and handles the answers that have come, without
 * waiting for more. At the end of each service pass. */
void srv_shared_flush(srv_shared *x);

/* Sends what is queued and waits for every answer (on_status is called for
 * them here). Call it before collecting sessions for a round trip (a
 * commit): the round trip reads the answers queued before it, and an
 * on_status that drops a session must not run while the caller holds it.
 * Returns 0, or -1 (not up, or Redis failed: down now). */
int srv_shared_sync(srv_shared *x);

#endif
