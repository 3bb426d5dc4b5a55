/* The server's SQLite database: users' last activity, one row per user with
 * the store they were last seen in and last_active_at (unix ms); and
 * lifeline.v1's session marks and journal (below). The server batches
 * writes (see registry.h, v1.c); this module only runs statements. */
#ifndef SRV_DB_H
#define SRV_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct srv_db srv_db;

/* Opens or creates the database at path (":memory:" keeps nothing) and its
 * table. Returns 0, or -1 with a message in err. */
int srv_db_open(const char *path, srv_db **out, char *err, size_t errlen);

/* Closes it; NULL is ignored. */
void srv_db_close(srv_db *db);

/* One transaction around a batch of srv_db_put_user and srv_db_evict calls.
 * Each returns 0 or -1; on a failed batch call srv_db_rollback. */
int srv_db_begin(srv_db *db);
int srv_db_commit(srv_db *db);
void srv_db_rollback(srv_db *db);

/* Inserts or updates a user's row; last_active_at never moves backwards. */
int srv_db_put_user(srv_db *db, const char *user, const char *store, int64_t last_active_ms);

/* The number of users in the table, the open transaction's changes
 * included (counted at open, then kept in memory). */
int64_t srv_db_user_count(const srv_db *db);

/* Deletes up to n users, the least recently active first (ties by name),
 * skipping those for which keep(user, ctx) is true (keep may be NULL).
 * keep must not use db. Returns how many were deleted, or -1. */
int64_t srv_db_evict(srv_db *db, int64_t n, bool (*keep)(const char *user, void *ctx), void *ctx);

/* Reads a user's row. Returns 1 (found, outputs filled), 0 (no such user)
 * or -1 (error). */
int srv_db_get_user(srv_db *db, const char *user, char *store, size_t storelen,
                    int64_t *last_active_ms);

/* lifeline.v1 (see delivery.h): each session's high-water mark of accepted
 * client numbers, and with --journal every accepted message. Numbers are
 * stored as SQLite's signed 64-bit integers with the same bits (above
 * 2^63 - 1 they read as negative). Writes belong in a transaction. */

/* Inserts or updates a session's mark (hex: 32 digits), at unix ms now. */
int srv_db_put_hwm(srv_db *db, const char *session, uint64_t hwm, int64_t now_ms);

/* Reads a session's mark: 1 (found), 0 (unknown) or -1 (error). */
int srv_db_get_hwm(srv_db *db, const char *session, uint64_t *hwm);

/* The number of sessions in the table (counted at open, then kept). */
int64_t srv_db_session_count(const srv_db *db);

/* Deletes up to n sessions' marks, the least recently updated first,
 * skipping those for which keep(session, ctx) is true. Returns how many
 * were deleted, or -1. */
int64_t srv_db_trim_sessions(srv_db *db, int64_t n, bool (*keep)(const char *session, void *ctx),
                             void *ctx);

/* Adds a message to the journal: the session, its number, its payload and
 * type, when it was received (unix ms). A number already there is left as
 * it is. */
int srv_db_journal_add(srv_db *db, const char *session, uint64_t seq, const void *payload,
                       size_t len, bool binary, int64_t at_ms);

/* The message of the last failed call (SQLite's, with the system error
 * when there is one, e.g. "disk I/O error (File too large)"), kept through
 * the rollback that follows. */
const char *srv_db_error(srv_db *db);

/* How many calls have failed since the database was opened (each failure
 * that srv_db_error describes counts once); 0 for NULL. */
uint64_t srv_db_error_count(const srv_db *db);

#endif
