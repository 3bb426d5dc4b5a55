/* The SQLite backend's insides, shared by its two files: sqlite_open.c
 * (open, create, and the checks of an existing file) and sqlite.c (the
 * backend's operations). Nothing outside src/store/sqlite*.c includes it. */
#ifndef LL_STORE_SQLITE_IMPL_H
#define LL_STORE_SQLITE_IMPL_H

#include <sqlite3.h>

#include "store/backend.h"
#include "store/sqlite_vfs.h"

/* The schema, version 2 (PRAGMA user_version). One meta row (id 1); seq,
 * next_seq, acked and received are below 2^63; epoch is the uint64's bit
 * pattern as an int64. The outbox's next number N is the larger of the
 * meta row's next_seq and the last row's seq + 1, and the messages are
 * exactly acked + 1 .. N - 1 after every transaction. An append writes its
 * rows only, so the meta row's next_seq may be behind N; every transaction
 * that writes the meta row (acks, drops, received numbers) writes N.
 * Version 1 (the meta row's next_seq was N itself, written by every
 * append) meets version 2's rules: it is read, and marked 2 on open
 * (a lifeline that reads version 1 only then refuses it, as it would read
 * a next_seq behind the rows as damage). */
#define LL_SQ_SCHEMA_VERSION 2
#define LL_SQ_SCHEMA_OLDEST 1  /* the oldest version read (and migrated) */
#define LL_SQ_SCHEMA                                                               \
    "CREATE TABLE meta ("                                                          \
    " id INTEGER PRIMARY KEY CHECK (id = 1),"                                      \
    " session BLOB NOT NULL,"                                                      \
    " next_seq INTEGER NOT NULL,"                                                  \
    " acked INTEGER NOT NULL,"                                                     \
    " epoch INTEGER NOT NULL,"                                                     \
    " received INTEGER NOT NULL);"                                                 \
    "CREATE TABLE messages ("                                                      \
    " seq INTEGER PRIMARY KEY,"                                                    \
    " is_binary INTEGER NOT NULL,"                                                 \
    " data BLOB NOT NULL);"

/* After a transaction that deleted rows, the file is vacuumed
 * (incremental_vacuum) and its WAL truncated (wal_checkpoint(TRUNCATE))
 * when the messages table is empty and at least LL_SQ_SHRINK_EMPTY pages
 * are free, or when at least LL_SQ_SHRINK_MIN pages and half the file are
 * free. Below that, free pages are kept for the next appends: a steady
 * trickle of sends and acks never pays for a checkpoint's fsync. */
#define LL_SQ_SHRINK_EMPTY 64  /* 128 KiB of 2 KiB pages */
#define LL_SQ_SHRINK_MIN 256   /* 512 KiB */

/* The page size of a new file (an existing file keeps its own). */
#define LL_SQ_PAGE_SIZE_TEXT "2048"

typedef struct sq_backend {
    ll_outbox_backend base;
    ll_sq_vfs vfs;             /* the file's VFS (sqlite_vfs.h) */
    sqlite3 *db;
    char *path;
    int full;                  /* synchronous=FULL */
    sqlite3_stmt *begin, *commit, *rollback;
    sqlite3_stmt *insert, *del, *meta, *read;
    sqlite3_stmt *freelist, *pages, *vacuum, *checkpoint;
    size_t load_messages, load_bytes; /* open: the payloads loaded at most */
    uint64_t commits;          /* counted by the commit hook */
    uint64_t shrinks;
    char err[200];             /* the last failure's words (ll_sq_step) */
} sq_backend;

/* Step st to its end (rows are skipped) and reset it. Returns SQLITE_OK,
 * or the failure's code with its words in s->err. */
int ll_sq_run(sq_backend *s, sqlite3_stmt *st);

/* Run sql (compiled each time: a PRAGMA that sets something, such as
 * synchronous, takes effect when it is prepared, so it is never kept as a
 * prepared statement). Returns SQLITE_OK or the failure's code (words in
 * s->err). */
int ll_sq_exec(sq_backend *s, const char *sql);

/* Keep SQLite's words for the failure rc that just happened in s->err
 * (with the system's, "No space left on device", when there are some). */
void ll_sq_note(sq_backend *s, int rc);

/* Prepare the statements of the operations (after the checks; none sets
 * a PRAGMA: see ll_sq_exec()). Returns
 * SQLITE_OK or the failure's code (words in s->err). */
int ll_sq_prepare(sq_backend *s);

/* Check an existing file (schema version ver, not 0 or with tables):
 * fills *state (next_seq: the outbox's, as derived above) and *held (the
 * payloads within s->load_messages and s->load_bytes: backend.h). Returns LIFELINE_OK, or a lifeline_error with
 * why[] (LIFELINE_ERR_OUTBOX_CORRUPT; LIFELINE_ERR_OUTBOX_OPEN when the
 * file cannot be read; LIFELINE_ERR_NO_MEMORY). Reads only. */
int ll_sq_check(sq_backend *s, long long ver, long long objects, ll_outbox_state *state,
                ll_held *held, char *why, size_t why_size);

/* The lifeline_error for a SQLite failure at open: SQLITE_NOTADB and
 * SQLITE_CORRUPT are LIFELINE_ERR_OUTBOX_CORRUPT, SQLITE_NOMEM
 * LIFELINE_ERR_NO_MEMORY, the rest LIFELINE_ERR_OUTBOX_OPEN; why[] says
 * so, naming the path, after `doing` ("cannot be read"). */
int ll_sq_open_error(sq_backend *s, int rc, const char *doing, char *why, size_t why_size);

extern const ll_outbox_backend_ops ll_sq_ops;

#endif
