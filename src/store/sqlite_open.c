/* Opening the SQLite backend: the connection's settings, the exclusive
 * lock, a new file's schema, or the checks of an existing one
 * (sqlite_check.c). See backend.h and outbox.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifeline/lifeline.h"
#include "store/sqlite_impl.h"

int ll_sq_open_error(sq_backend *s, int rc, const char *doing, char *why, size_t why_size)
{
    ll_sq_note(s, rc);
    switch (rc & 0xff) {
    case SQLITE_NOTADB:
        ll_outbox_why(why, why_size, s->path, "not a SQLite database (%s)", s->err);
        return LIFELINE_ERR_OUTBOX_CORRUPT;
    case SQLITE_CORRUPT:
        ll_outbox_why(why, why_size, s->path, "damaged: %s", s->err);
        return LIFELINE_ERR_OUTBOX_CORRUPT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        ll_outbox_why(why, why_size, s->path, "in use by another outbox (%s)", s->err);
        return LIFELINE_ERR_OUTBOX_OPEN;
    case SQLITE_NOMEM:
        ll_outbox_why(why, why_size, s->path, "out of memory");
        return LIFELINE_ERR_NO_MEMORY;
    default:
        ll_outbox_why(why, why_size, s->path, "%s: %s", doing, s->err);
        return LIFELINE_ERR_OUTBOX_OPEN;
    }
}

/* One integer from the first row of sql, or *rc. */
static long long query_int(sq_backend *s, const char *sql, int *rc)
{
    sqlite3_stmt *st = NULL;
    long long v = 0;
    *rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (*rc == SQLITE_OK) {
        *rc = sqlite3_step(st);
        if (*rc == SQLITE_ROW) {
            v = sqlite3_column_int64(st, 0);
            *rc = SQLITE_OK;
        }
    }
    if (*rc != SQLITE_OK)
        ll_sq_note(s, *rc);
    sqlite3_finalize(st);
    return v;
}

/* journal_mode answers with the mode it is in: anything but "wal" means
 * SQLite could not switch. */
static int set_wal(sq_backend *s, char *why, size_t why_size)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        if (mode && strcmp(mode, "wal") == 0) {
            rc = SQLITE_OK;
        } else {
            ll_outbox_why(why, why_size, s->path, "cannot use WAL (journal_mode is %s)",
                          mode ? mode : "unknown");
            sqlite3_finalize(st);
            return LIFELINE_ERR_OUTBOX_OPEN;
        }
    }
    int err = rc == SQLITE_OK ? LIFELINE_OK
                              : ll_sq_open_error(s, rc, "cannot switch to WAL", why, why_size);
    sqlite3_finalize(st);
    return err;
}

/* A new file: the schema, the session and the version in one transaction. */
static int create(sq_backend *s, const uint8_t session[16], ll_outbox_state *state, char *why,
                  size_t why_size)
{
    sqlite3_stmt *st = NULL;
    int rc = ll_sq_exec(s, "BEGIN IMMEDIATE;" LL_SQ_SCHEMA);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(s->db,
                                "INSERT INTO meta (id, session, next_seq, acked, epoch, received) "
                                "VALUES (1, ?1, 1, 0, 0, 0)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(st, 1, session, 16, SQLITE_STATIC);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_DONE)
        rc = SQLITE_OK;
    if (rc != SQLITE_OK)
        ll_sq_note(s, rc);
    sqlite3_finalize(st);
    if (rc == SQLITE_OK) {
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA user_version=%d; COMMIT", LL_SQ_SCHEMA_VERSION);
        rc = ll_sq_exec(s, sql);
    }
    if (rc != SQLITE_OK) {
        int err = ll_sq_open_error(s, rc, "cannot create the outbox", why, why_size);
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return err;
    }
    memset(state, 0, sizeof(*state));
    memcpy(state->session.bytes, session, 16);
    state->next_seq = 1;
    return LIFELINE_OK;
}

static int commit_hook(void *arg)
{
    ((sq_backend *)arg)->commits++;
    return 0; /* 0: let the commit happen */
}

static int open_file(sq_backend *s, int durability, const uint8_t new_session[16],
                     ll_outbox_state *state, ll_held *held, char *why, size_t why_size)
{
    int rc = ll_sq_vfs_open(&s->vfs);
    if (rc != SQLITE_OK)
        return ll_sq_open_error(s, rc, "cannot set up its file access", why, why_size);
    rc = sqlite3_open_v2(s->path, &s->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                         s->vfs.name);
    if (rc != SQLITE_OK)
        return ll_sq_open_error(s, rc, "cannot open or create it", why, why_size);
    if (sqlite3_db_readonly(s->db, "main") == 1) {
        ll_outbox_why(why, why_size, s->path, "cannot be written (read-only)");
        return LIFELINE_ERR_OUTBOX_OPEN;
    }
    /* one connection owns the file: no shared-memory WAL index (no -shm
     * file), and a second opener finds it locked */
    rc = ll_sq_exec(s, "PRAGMA locking_mode=EXCLUSIVE");
    if (rc != SQLITE_OK)
        return ll_sq_open_error(s, rc, "cannot be opened", why, why_size);
    /* the first read: a file that is not SQLite fails here */
    long long ver = query_int(s, "PRAGMA user_version", &rc);
    long long objects = 0;
    if (rc == SQLITE_OK)
        objects = query_int(s, "SELECT count(*) FROM sqlite_master", &rc);
    if (rc != SQLITE_OK)
        return ll_sq_open_error(s, rc, "cannot be read", why, why_size);
    /* only possible before the first table, and before the first
     * transaction of this connection */
    if (ver == 0 && objects == 0) {
        /* 2 KiB pages: a commit of one small message writes one page to
         * the WAL, so the page is what it costs (README, "Benchmarks") */
        rc = ll_sq_exec(s, "PRAGMA page_size=" LL_SQ_PAGE_SIZE_TEXT);
        if (rc == SQLITE_OK)
            rc = ll_sq_exec(s, "PRAGMA auto_vacuum=INCREMENTAL");
        if (rc != SQLITE_OK)
            return ll_sq_open_error(s, rc, "cannot be set up", why, why_size);
    }
    /* take the exclusive lock now, and keep it (locking_mode); then look
     * again, in case another outbox created it meanwhile */
    rc = ll_sq_exec(s, "BEGIN EXCLUSIVE; COMMIT");
    if (rc == SQLITE_OK)
        ver = query_int(s, "PRAGMA user_version", &rc);
    if (rc == SQLITE_OK)
        objects = query_int(s, "SELECT count(*) FROM sqlite_master", &rc);
    if (rc != SQLITE_OK)
        return ll_sq_open_error(s, rc, "cannot be locked", why, why_size);
    int fresh = ver == 0 && objects == 0;
    int err;
    if (!fresh) {
        /* every check reads only: a file that is not an outbox is left
         * as it was */
        err = ll_sq_check(s, ver, objects, state, held, why, why_size);
        if (err != LIFELINE_OK)
            return err;
    }
    err = set_wal(s, why, why_size);
    if (err != LIFELINE_OK)
        return err;
    rc = ll_sq_exec(s, durability == LL_OUTBOX_FULL ? "PRAGMA synchronous=FULL"
                                              : "PRAGMA synchronous=NORMAL");
    if (rc != SQLITE_OK)
        return ll_sq_open_error(s, rc, "cannot be set up", why, why_size);
    if (fresh && (err = create(s, new_session, state, why, why_size)) != LIFELINE_OK)
        return err;
    if (!fresh && ver < LL_SQ_SCHEMA_VERSION) {
        /* an older version that met this one's rules (sqlite_impl.h):
         * marked as this one, so that an older lifeline refuses it */
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", LL_SQ_SCHEMA_VERSION);
        rc = ll_sq_exec(s, sql);
        if (rc != SQLITE_OK)
            return ll_sq_open_error(s, rc, "cannot be migrated", why, why_size);
    }
    rc = ll_sq_prepare(s);
    if (rc != SQLITE_OK)
        return ll_sq_open_error(s, rc, "cannot be set up", why, why_size);
    sqlite3_commit_hook(s->db, commit_hook, s);
    return LIFELINE_OK;
}

ll_outbox_backend *ll_outbox_sqlite_open(const char *path, int durability,
                                         const uint8_t new_session[16], size_t max_messages,
                                         size_t max_bytes, ll_outbox_state *state, ll_held *held,
                                         int *error, char *why, size_t why_size)
{
    sq_backend *s = calloc(1, sizeof(*s));
    char *copy = strdup(path);
    if (!s || !copy) {
        free(s);
        free(copy);
        *error = LIFELINE_ERR_NO_MEMORY;
        ll_outbox_why(why, why_size, path, "out of memory");
        return NULL;
    }
    s->base.ops = &ll_sq_ops;
    s->path = copy;
    s->full = durability == LL_OUTBOX_FULL;
    s->load_messages = max_messages;
    s->load_bytes = max_bytes;
    *error = open_file(s, durability, new_session, state, held, why, why_size);
    if (*error != LIFELINE_OK) {
        ll_held_free(held);
        ll_sq_ops.close(&s->base);
        return NULL;
    }
    return &s->base;
}
