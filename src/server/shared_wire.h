/* lifeline.v1 sessions shared by the instances of a cluster, in Redis
 * (docs/server.md, "Several instances"): the keys, the Lua scripts, and the
 * encoding of a replay buffer's entries. Pure: no I/O.
 *
 * Per session (hex: its 32 hex digits):
 *   lifeline:v1:<hex>       a hash: owner (the instance serving it), hwm
 *                           (client to server: the committed high-water
 *                           mark), epoch and last (server to client: the
 *                           stream), gap (1: an instance that was no longer
 *                           the owner had a message for it), store, user
 *   lifeline:v1:<hex>:ring  a list: the stream's messages not yet
 *                           acknowledged by the client, oldest first
 *   lifeline:v1:journal     with --journal: every accepted client message,
 *                           committed in the same script as its mark
 * and each instance is subscribed to lifeline:instance:<id> while it runs,
 * which is how another tells whether it is alive (PUBSUB NUMSUB: a killed
 * instance's subscription ends with its connection).
 *
 * Numbers travel as decimal strings (64-bit epochs do not fit Lua's
 * doubles); the scripts compare marks as such. */
#ifndef SRV_SHARED_WIRE_H
#define SRV_SHARED_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_SHARED_PREFIX "lifeline:v1:"
#define SRV_SHARED_JOURNAL "lifeline:v1:journal"
#define SRV_SHARED_INSTANCE_PREFIX "lifeline:instance:"

/* How long a session's record lives in Redis after its last change: a
 * till away longer is resumed as a new stream, with its mark from the
 * instance's own database if it is the one it lands on. */
#define SRV_SHARED_TTL_MS (7LL * 24 * 3600 * 1000)

/* "lifeline:v1:" + 32 hex digits + ":ring" + NUL */
#define SRV_SHARED_KEY_MAX 64

/* The session's hash key and ring key. */
void srv_shared_keys(const char *hex, char *hash_key, char *ring_key);

/* A session changes hands in three steps, so that nothing the old owner
 * numbered is lost and nothing it has not numbered is counted twice:
 *
 * CLAIM (by the new instance). KEYS: hash, token. ARGV: me, store, user,
 * hex. Returns {"identity"} when the session is another store's or user's;
 * {"wait", prev} when another instance owns it and is alive: it has been
 * asked, on its channel, to "release <hex> <me>"; else {"take", prev}.
 *
 * RELEASE (by the old owner, asked). KEYS: hash, token. ARGV: me, had
 * ("1": it had the session, its stream committed and mirrored up to now;
 * "0": not, or no longer). Gives the session up and answers through the
 * token list, which the claimant waits on (BLPOP); "0" when it is not the
 * owner.
 *
 * TAKE (by the new instance, after the answer or after waiting long
 * enough). KEYS: hash, ring. ARGV: me, store, user, ttl_ms. Makes me the
 * owner; returns {hwm, epoch, last, gap, {ring entries}}.
 *
 * The old owner reads every fan-out frame published before the release
 * request before the request itself (one subscription, in order), so its
 * ring has them; frames published after it reach the new owner after it
 * has taken the session (it waits without serving). */
extern const char SRV_SHARED_CLAIM[];
extern const char SRV_SHARED_RELEASE[];
extern const char SRV_SHARED_TAKE[];

/* The list a claimant waits on: "lifeline:v1:<hex>:released:<claimant>". */
#define SRV_SHARED_TOKEN_KEY_MAX (SRV_SHARED_KEY_MAX + 16 + 64)
void srv_shared_token_key(const char *hex, const char *claimant, char *key);

/* COMMIT. KEYS: the n sessions' hashes, then the journal. ARGV: me,
 * ttl_ms, n, hwm_1..hwm_n, then pairs (session index 1..n, journal entry).
 * For each session owned by me: hwm raised (never lowered), the journal
 * entries of it appended. Returns n statuses: 0 not the owner (nothing of
 * it written), 1 written, 2 written but its stream has a gap (gap
 * cleared). One script: marks and journal commit together. */
extern const char SRV_SHARED_COMMIT[];

/* PUSH. KEYS: hash, ring. ARGV: me, epoch, seq, entry, max entries,
 * acknowledged (the client has every number up to it), ttl_ms. When me
 * owns it: a new epoch empties the ring; the entry is appended, last set,
 * entries up to acknowledged and past max dropped. Returns 1, 2 (written,
 * but its stream has a gap: gap cleared), or 0 (not the owner: gap set,
 * nothing else written). */
extern const char SRV_SHARED_PUSH[];

/* RESTART. KEYS: hash, ring. ARGV: me, epoch, ttl_ms. When me owns it: a
 * new stream (epoch, last 0, ring emptied, gap cleared). Returns 1 or 0
 * (not the owner). */
extern const char SRV_SHARED_RESTART[];

/* An entry of the ring: "<seq> <wall ms> <t|b> " then the payload. The
 * header, written into head (at least SRV_SHARED_ENTRY_HEAD_MAX bytes);
 * returns its length. */
#define SRV_SHARED_ENTRY_HEAD_MAX 48
size_t srv_shared_entry_head(uint64_t seq, int64_t wall_ms, bool binary, char *head);

/* An entry read back. */
typedef struct srv_shared_entry {
    uint64_t seq;
    int64_t wall_ms;
    bool binary;
    const char *payload; /* into the bytes given */
    size_t len;
} srv_shared_entry;

/* Parses an entry; returns 0, or -1 when it is not one. */
int srv_shared_entry_parse(const char *p, size_t len, srv_shared_entry *out);

/* Parses a decimal number with no sign and no leading zero (0 itself
 * allowed) that fits 64 bits; returns 0 or -1. */
int srv_shared_u64(const char *p, size_t len, uint64_t *out);

/* Whether a taken session's stream goes on where the last owner left it
 * (else a new epoch starts): the last owner released it with its stream
 * whole (released), no instance that was no longer the owner had a
 * message for it (gap), and it has a stream. An owner that died, or did
 * not answer, may have numbered messages that never reached Redis. */
bool srv_shared_stream_continues(bool released, bool gap, uint64_t epoch);

#endif
