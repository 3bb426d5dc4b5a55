/* Users' last activity as the instances of a cluster share it in Redis
 * (cluster_users.c sends it): the commands' arguments, the reading of the
 * answer, and which of two figures wins. Pure: no I/O, no clock, no
 * hiredis.
 *
 * In Redis: the sorted set SRV_USERS_ACTIVE_KEY (member: the user, score:
 * last_active_at in unix ms) and the hash SRV_USERS_STORE_KEY (user -> the
 * store they were last active in). SRV_USERS_PUT_SCRIPT writes a batch of
 * figures: a figure older than Redis's is ignored (last_active_at never
 * moves backwards, and the store goes with the newest figure), then the
 * least recently active users past the writer's --max-users are deleted
 * from both keys. SRV_USERS_GET_SCRIPT reads one user's two fields in one
 * step. All functions may be called from any thread (they touch only their
 * arguments). */
#ifndef SRV_CLUSTER_USERS_WIRE_H
#define SRV_CLUSTER_USERS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "server/names.h"

#define SRV_USERS_ACTIVE_KEY "lifeline:users:active" /* sorted set: user -> unix ms */
#define SRV_USERS_STORE_KEY "lifeline:users:store"   /* hash: user -> store */

/* Users per write command, at most: a Lua script blocks Redis while it
 * runs, so a large batch goes as several short ones. */
#define SRV_USERS_PUT_MAX 256

/* The largest last_active_at kept exactly in a sorted set's score (a
 * double): 2^53 ms, some 285 000 years. */
#define SRV_USERS_MS_MAX 9007199254740992LL

/* KEYS[1] the sorted set, KEYS[2] the hash; ARGV[1] the bound (users kept),
 * then (user, store, ms) for each user. Returns how many were deleted. */
extern const char SRV_USERS_PUT_SCRIPT[];

/* KEYS as above; ARGV[1] the user. Returns [score or nil, store or nil]. */
extern const char SRV_USERS_GET_SCRIPT[];

/* One user's figure to write. The strings are the caller's. */
typedef struct srv_user_put {
    const char *user;
    const char *store;
    int64_t last_active_ms; /* unix ms, 0..SRV_USERS_MS_MAX */
} srv_user_put;

/* One user's figure as read (from Redis, or from this instance). */
typedef struct srv_user_seen {
    char store[SRV_NAME_MAX + 1];
    int64_t last_active_ms; /* unix ms */
} srv_user_seen;

/* A command's arguments, as hiredis's redisAsyncCommandArgv takes them:
 * argv[i] of argvlen[i] bytes. */
typedef struct srv_redis_argv {
    int argc;
    const char **argv;  /* malloc'd; points into the caller's strings and numbers */
    size_t *argvlen;    /* malloc'd */
    char *numbers;      /* malloc'd: the figures written in decimal */
} srv_redis_argv;

/* The EVAL of SRV_USERS_PUT_SCRIPT for v[0..n) (n 1..SRV_USERS_PUT_MAX),
 * keeping at most max_users users (>= 1). Returns 0 with *out filled (free
 * it with srv_redis_argv_free; it points into v's strings, which must
 * outlive it), or -1: n or max_users out of range, a figure outside
 * 0..SRV_USERS_MS_MAX, or out of memory (*out is then empty). */
int srv_users_put_argv(const srv_user_put *v, size_t n, int64_t max_users, srv_redis_argv *out);

/* Frees what srv_users_put_argv allocated; an empty or NULL a is fine. */
void srv_redis_argv_free(srv_redis_argv *a);

/* The six arguments of the EVAL of SRV_USERS_GET_SCRIPT for user (which
 * argv[5] points to: it must outlive the arrays' use). No allocation. */
void srv_users_get_argv(const char *user, const char *argv[6], size_t argvlen[6]);

/* Reads SRV_USERS_GET_SCRIPT's answer: score (NULL: nil) and store (NULL:
 * nil), each of its length. Returns 1 (a figure, *out filled), 0 (Redis
 * has no such user: score nil), or -1 (not a figure: a score that is not a
 * whole number in 0..SRV_USERS_MS_MAX, a store missing or not a valid
 * name). */
int srv_users_parse(const char *score, size_t score_len, const char *store, size_t store_len,
                    srv_user_seen *out);

/* The newer of two figures (NULL: none); a tie goes to a. Returns a, b or
 * NULL (both NULL). */
const srv_user_seen *srv_users_newest(const srv_user_seen *a, const srv_user_seen *b);

#endif
