/* The SQLite backend's operations: one transaction per write, a read by
 * number, the shrink after a drain; all through prepared statements. See
 * backend.h and sqlite_impl.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifeline/lifeline.h"
#include "store/sqlite_impl.h"

void ll_sq_note(sq_backend *s, int rc)
{
    int code = rc & 0xff;
    /* sqlite3_system_errno is only meaningful after these */
    int sys = code == SQLITE_IOERR || code == SQLITE_CANTOPEN || code == SQLITE_FULL
                  ? sqlite3_system_errno(s->db)
                  : 0;
    const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    if (sys)
        snprintf(s->err, sizeof(s->err), "%s (%s)", msg, strerror(sys));
    else
        snprintf(s->err, sizeof(s->err), "%s", msg);
}

int ll_sq_run(sq_backend *s, sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE)
        ll_sq_note(s, rc);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int ll_sq_exec(sq_backend *s, const char *sql)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        ll_sq_note(s, rc);
    return rc;
}

static int prepare(sq_backend *s, const char *sql, sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    if (rc != SQLITE_OK)
        ll_sq_note(s, rc);
    return rc;
}

int ll_sq_prepare(sq_backend *s)
{
    int rc = SQLITE_OK;
    const struct {
        sqlite3_stmt **st;
        const char *sql;
    } all[] = {
        {&s->begin, "BEGIN IMMEDIATE"},
        {&s->commit, "COMMIT"},
        {&s->rollback, "ROLLBACK"},
        {&s->insert, "INSERT INTO messages (seq, is_binary, data) VALUES (?1, ?2, ?3)"},
        {&s->del, "DELETE FROM messages WHERE seq <= ?1"},
        {&s->meta, "UPDATE meta SET next_seq = ?1, acked = ?2, epoch = ?3, received = ?4 "
                   "WHERE id = 1"},
        {&s->read, "SELECT is_binary, data FROM messages WHERE seq = ?1"},
        {&s->freelist, "PRAGMA freelist_count"},
        {&s->pages, "PRAGMA page_count"},
        {&s->vacuum, "PRAGMA incremental_vacuum"},
        {&s->checkpoint, "PRAGMA wal_checkpoint(TRUNCATE)"},
    };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]) && rc == SQLITE_OK; i++)
        rc = prepare(s, all[i].sql, all[i].st);
    return rc;
}

static long long pragma_int(sqlite3_stmt *st)
{
    long long v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return v;
}

/* After a write that deleted rows (rows: the messages left): give the
 * free pages back to the file system when the table is empty or mostly
 * empty (see LL_SQ_SHRINK_*). A failure here loses nothing: the free
 * pages stay for the next appends. */
static void maybe_shrink(sq_backend *s, uint64_t rows)
{
    long long free_pages = pragma_int(s->freelist);
    long long pages = pragma_int(s->pages);
    if (free_pages < 0 || pages < 0)
        return;
    if (!((rows == 0 && free_pages >= LL_SQ_SHRINK_EMPTY) ||
          (free_pages >= LL_SQ_SHRINK_MIN && free_pages * 2 >= pages)))
        return;
    if (ll_sq_run(s, s->vacuum) == SQLITE_OK && ll_sq_run(s, s->checkpoint) == SQLITE_OK)
        s->shrinks++;
}

static int bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
    return sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

static int sq_write(ll_outbox_backend *b, const ll_outbox_write *w, char *why, size_t why_size)
{
    sq_backend *s = (sq_backend *)b;
    /* a write of acks alone need not survive a power loss: see outbox.h */
    int relaxed = !w->durable && s->full;
    int rc = relaxed ? ll_sq_exec(s, "PRAGMA synchronous=NORMAL") : SQLITE_OK;
    /* one row and nothing else (a single thread's append): the INSERT is
     * its own transaction, without two more statements to run */
    int alone = w->n_puts == 1 && !w->deletes && !w->meta_row;
    if (rc == SQLITE_OK && !alone)
        rc = ll_sq_run(s, s->begin);
    for (size_t i = 0; i < w->n_puts && rc == SQLITE_OK; i++) {
        const ll_outbox_put *p = &w->puts[i];
        bind_u64(s->insert, 1, p->seq);
        sqlite3_bind_int(s->insert, 2, p->is_binary ? 1 : 0);
        /* the appender waits until the commit: no copy (a NULL blob would
         * be bound as NULL, hence the zeroblob) */
        if (p->len)
            rc = sqlite3_bind_blob64(s->insert, 3, p->data, p->len, SQLITE_STATIC);
        else
            rc = sqlite3_bind_zeroblob(s->insert, 3, 0);
        if (rc == SQLITE_OK)
            rc = ll_sq_run(s, s->insert);
        else
            ll_sq_note(s, rc);
        sqlite3_clear_bindings(s->insert);
    }
    if (rc == SQLITE_OK && w->deletes) {
        bind_u64(s->del, 1, w->meta.acked);
        rc = ll_sq_run(s, s->del);
    }
    if (rc == SQLITE_OK && w->meta_row) {
        bind_u64(s->meta, 1, w->meta.next_seq);
        bind_u64(s->meta, 2, w->meta.acked);
        bind_u64(s->meta, 3, w->meta.epoch);
        bind_u64(s->meta, 4, w->meta.received);
        rc = ll_sq_run(s, s->meta);
    }
    if (rc == SQLITE_OK && !alone)
        rc = ll_sq_run(s, s->commit);
    if (rc != SQLITE_OK) {
        char err[sizeof(s->err)];
        memcpy(err, s->err, sizeof(err));
        /* SQLITE_FULL and the like may leave the transaction open */
        if (!sqlite3_get_autocommit(s->db))
            ll_sq_run(s, s->rollback);
        memcpy(s->err, err, sizeof(err));
        ll_outbox_why(why, why_size, s->path, "write failed: %s", s->err);
    }
    if (relaxed)
        ll_sq_exec(s, "PRAGMA synchronous=FULL");
    if (rc == SQLITE_OK && w->deletes)
        maybe_shrink(s, w->meta.next_seq - 1 - w->meta.acked);
    if (rc == SQLITE_OK)
        return LIFELINE_OK;
    return (rc & 0xff) == SQLITE_NOMEM ? LIFELINE_ERR_NO_MEMORY : LIFELINE_ERR_OUTBOX_IO;
}

static int sq_read(ll_outbox_backend *b, uint64_t seq, ll_outbox_msg *out, ll_outbox_buf *into,
                   char *why, size_t why_size)
{
    sq_backend *s = (sq_backend *)b;
    int err = LIFELINE_OK;
    bind_u64(s->read, 1, seq);
    int rc = sqlite3_step(s->read);
    if (rc == SQLITE_ROW) {
        out->is_binary = sqlite3_column_int(s->read, 0);
        const void *p = sqlite3_column_blob(s->read, 1);
        size_t len = (size_t)sqlite3_column_bytes(s->read, 1);
        if (!p && len) {
            err = LIFELINE_ERR_NO_MEMORY;
            ll_outbox_why(why, why_size, s->path, "out of memory");
        } else if (ll_outbox_buf_reserve(into, len) != 0) {
            err = LIFELINE_ERR_NO_MEMORY;
            ll_outbox_why(why, why_size, s->path, "out of memory");
        } else {
            if (len)
                memcpy(into->p, p, len);
            out->seq = seq;
            out->data = into->p;
            out->len = len;
        }
    } else if (rc == SQLITE_DONE) {
        err = LIFELINE_ERR_OUTBOX_IO;
        ll_outbox_why(why, why_size, s->path, "held message %llu is missing",
                      (unsigned long long)seq);
    } else {
        ll_sq_note(s, rc);
        err = (rc & 0xff) == SQLITE_NOMEM ? LIFELINE_ERR_NO_MEMORY : LIFELINE_ERR_OUTBOX_IO;
        ll_outbox_why(why, why_size, s->path, "read failed: %s", s->err);
    }
    sqlite3_reset(s->read);
    return err;
}

static void sq_counters(ll_outbox_backend *b, uint64_t *commits, uint64_t *shrinks,
                        uint64_t *merged)
{
    sq_backend *s = (sq_backend *)b;
    *commits = s->commits;
    *shrinks = s->shrinks;
    *merged = s->vfs.merged;
}

static void sq_close(ll_outbox_backend *b)
{
    sq_backend *s = (sq_backend *)b;
    sqlite3_stmt *all[] = {s->begin, s->commit,   s->rollback, s->insert, s->del,     s->meta,
                           s->read,  s->freelist, s->pages,    s->vacuum, s->checkpoint};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        sqlite3_finalize(all[i]);
    /* the last connection closing checkpoints the WAL and removes it */
    sqlite3_close(s->db);
    ll_sq_vfs_close(&s->vfs);
    free(s->path);
    free(s);
}

const ll_outbox_backend_ops ll_sq_ops = {
    .write = sq_write,
    .read = sq_read,
    .counters = sq_counters,
    .close = sq_close,
};
