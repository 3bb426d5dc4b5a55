/* SQLite adapter; see db.h. */
#include "server/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

struct srv_db {
    sqlite3 *h;
    sqlite3_stmt *update;
    sqlite3_stmt *insert;
    sqlite3_stmt *get;
    sqlite3_stmt *evict;
    sqlite3_stmt *hwm_update, *hwm_insert, *hwm_get, *trim, *journal;
    int64_t sessions; /* rows of delivery_sessions, the open transaction included */
    int64_t sessions_begin;
    int64_t rows;       /* users in the table, the open transaction included */
    int64_t rows_begin; /* rows when the open transaction began; -1: none open */
    bool (*keep)(const char *user, void *ctx); /* during srv_db_evict */
    void *keep_ctx;
    char err[256]; /* the last failure, kept past the rollback that follows it */
    uint64_t errors; /* failed calls since open */
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS users ("
    " user TEXT PRIMARY KEY NOT NULL,"
    " store TEXT NOT NULL,"
    " last_active_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    /* eviction walks users from the least recently active */
    "CREATE INDEX IF NOT EXISTS users_by_activity ON users (last_active_at);"
    /* lifeline.v1: the high-water mark of each session's client numbers */
    "CREATE TABLE IF NOT EXISTS delivery_sessions ("
    " session TEXT PRIMARY KEY NOT NULL,"
    " hwm INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS delivery_sessions_by_update ON delivery_sessions (updated_at);"
    /* --journal: every accepted client message, once */
    "CREATE TABLE IF NOT EXISTS journal ("
    " session TEXT NOT NULL,"
    " seq INTEGER NOT NULL,"
    " type TEXT NOT NULL,"
    " payload BLOB NOT NULL,"
    " received_at INTEGER NOT NULL,"
    " PRIMARY KEY (session, seq)"
    ");";

static const char hwm_update_sql[] =
    "UPDATE delivery_sessions SET hwm = ?2, updated_at = ?3 WHERE session = ?1";
static const char hwm_insert_sql[] =
    "INSERT INTO delivery_sessions (session, hwm, updated_at) VALUES (?1, ?2, ?3)";
static const char hwm_get_sql[] = "SELECT hwm FROM delivery_sessions WHERE session = ?1";
static const char trim_sql[] =
    "DELETE FROM delivery_sessions WHERE session IN (SELECT session FROM delivery_sessions "
    "WHERE NOT srv_keep(session) ORDER BY updated_at, session LIMIT ?1)";
static const char journal_sql[] =
    "INSERT OR IGNORE INTO journal (session, seq, type, payload, received_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";

/* An update, then an insert when there was no row: unlike an upsert, this
 * tells a new user (one more row) from a known one. */
static const char update_sql[] =
    "UPDATE users SET store = ?2, last_active_at = max(last_active_at, ?3) WHERE user = ?1";
static const char insert_sql[] =
    "INSERT INTO users (user, store, last_active_at) VALUES (?1, ?2, ?3)";

static const char get_sql[] = "SELECT store, last_active_at FROM users WHERE user = ?1";

/* The ?1 least recently active users that srv_keep() does not keep (ties
 * broken by name; the index holds (last_active_at, user), so no sort). */
static const char evict_sql[] =
    "DELETE FROM users WHERE user IN (SELECT user FROM users WHERE NOT srv_keep(user) "
    "ORDER BY last_active_at, user LIMIT ?1)";

/* srv_keep(user): true for a user that srv_db_evict's caller keeps. */
static void keep_fn(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const srv_db *db = sqlite3_user_data(cx);
    const unsigned char *user = sqlite3_value_text(argv[0]);
    sqlite3_result_int(cx, db->keep && user && db->keep((const char *)user, db->keep_ctx));
}

static int count(srv_db *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

static int count_rows(srv_db *db)
{
    int rc = count(db, "SELECT count(*) FROM users", &db->rows);
    return rc == SQLITE_OK ? count(db, "SELECT count(*) FROM delivery_sessions", &db->sessions)
                           : rc;
}

int srv_db_open(const char *path, srv_db **out, char *err, size_t errlen)
{
    *out = NULL;
    srv_db *db = calloc(1, sizeof(*db));
    if (!db) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    db->rows_begin = db->sessions_begin = -1;
    int rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(db->h, 2000);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db->h, schema, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db->h, "srv_keep", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, db,
                                        keep_fn, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db->h, update_sql, -1, &db->update, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db->h, insert_sql, -1, &db->insert, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db->h, get_sql, -1, &db->get, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db->h, evict_sql, -1, &db->evict, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db->h, hwm_update_sql, -1, &db->hwm_update, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db->h, hwm_insert_sql, -1, &db->hwm_insert, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db->h, hwm_get_sql, -1, &db->hwm_get, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db->h, trim_sql, -1, &db->trim, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db->h, journal_sql, -1, &db->journal, NULL);
    if (rc == SQLITE_OK)
        rc = count_rows(db);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
        srv_db_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

/* Keeps SQLite's message for the failure that just happened (with the
 * system's error, such as "File too large" from EFBIG, when there is one):
 * the rollback that follows a failed batch replaces sqlite3_errmsg. */
static int failed(srv_db *db)
{
    db->errors++;
    int code = sqlite3_errcode(db->h) & 0xff;
    /* sqlite3_system_errno is only set (and never cleared) by these */
    int sys = code == SQLITE_IOERR || code == SQLITE_CANTOPEN ? sqlite3_system_errno(db->h) : 0;
    if (sys)
        snprintf(db->err, sizeof(db->err), "%s (%s)", sqlite3_errmsg(db->h), strerror(sys));
    else
        snprintf(db->err, sizeof(db->err), "%s", sqlite3_errmsg(db->h));
    return -1;
}

void srv_db_close(srv_db *db)
{
    if (!db)
        return;
    sqlite3_finalize(db->update);
    sqlite3_finalize(db->insert);
    sqlite3_finalize(db->get);
    sqlite3_finalize(db->evict);
    sqlite3_finalize(db->hwm_update);
    sqlite3_finalize(db->hwm_insert);
    sqlite3_finalize(db->hwm_get);
    sqlite3_finalize(db->trim);
    sqlite3_finalize(db->journal);
    sqlite3_close(db->h);
    free(db);
}

int srv_db_begin(srv_db *db)
{
    if (sqlite3_exec(db->h, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return failed(db);
    db->rows_begin = db->rows;
    db->sessions_begin = db->sessions;
    return 0;
}

int srv_db_commit(srv_db *db)
{
    if (sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return failed(db); /* the caller rolls back */
    db->rows_begin = db->sessions_begin = -1;
    return 0;
}

void srv_db_rollback(srv_db *db)
{
    if (db->rows_begin >= 0)
        db->rows = db->rows_begin;
    if (db->sessions_begin >= 0)
        db->sessions = db->sessions_begin;
    db->rows_begin = db->sessions_begin = -1;
    /* after some errors SQLite has rolled back already: "no transaction is
     * active" is then expected, and db->err keeps the first failure */
    if (sqlite3_get_autocommit(db->h))
        return;
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

/* Runs st (user, store, time) once; 0 or -1. */
static int run_put(srv_db *db, sqlite3_stmt *st, const char *user, const char *store,
                   int64_t last_active_ms)
{
    sqlite3_reset(st);
    if (sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(st, 2, store, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(st, 3, last_active_ms) != SQLITE_OK)
        return failed(db);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        failed(db); /* before the reset, which may change the message */
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int srv_db_put_user(srv_db *db, const char *user, const char *store, int64_t last_active_ms)
{
    if (run_put(db, db->update, user, store, last_active_ms))
        return -1;
    if (sqlite3_changes(db->h) > 0)
        return 0;
    if (run_put(db, db->insert, user, store, last_active_ms))
        return -1;
    db->rows++;
    return 0;
}

int64_t srv_db_user_count(const srv_db *db)
{
    return db->rows;
}

/* Run a "delete the n least recently used rows that keep() lets go"
 * statement (evict, trim): keep and ctx reach the SQL function that asks
 * keep() while it runs; *count loses the rows deleted. Returns them, or
 * -1 (logged by failed()). */
static int64_t delete_oldest(srv_db *db, sqlite3_stmt *st, int64_t n,
                             bool (*keep)(const char *, void *), void *ctx, int64_t *count)
{
    if (n <= 0)
        return 0;
    db->keep = keep;
    db->keep_ctx = ctx;
    sqlite3_reset(st);
    int rc = sqlite3_bind_int64(st, 1, n);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int64_t gone = rc == SQLITE_DONE ? sqlite3_changes(db->h) : -1;
    if (gone < 0)
        failed(db);
    sqlite3_reset(st);
    db->keep = NULL;
    db->keep_ctx = NULL;
    if (gone > 0)
        *count -= gone;
    return gone;
}

int64_t srv_db_evict(srv_db *db, int64_t n, bool (*keep)(const char *user, void *ctx), void *ctx)
{
    return delete_oldest(db, db->evict, n, keep, ctx, &db->rows);
}

int srv_db_get_user(srv_db *db, const char *user, char *store, size_t storelen,
                    int64_t *last_active_ms)
{
    sqlite3_reset(db->get);
    if (sqlite3_bind_text(db->get, 1, user, -1, SQLITE_STATIC) != SQLITE_OK)
        return failed(db);
    int rc = sqlite3_step(db->get), found = 0;
    if (rc == SQLITE_ROW) {
        const unsigned char *s = sqlite3_column_text(db->get, 0);
        snprintf(store, storelen, "%s", s ? (const char *)s : "");
        *last_active_ms = sqlite3_column_int64(db->get, 1);
        found = 1;
    } else if (rc != SQLITE_DONE) {
        found = failed(db);
    }
    sqlite3_reset(db->get);
    sqlite3_clear_bindings(db->get);
    return found;
}

/* Runs st (session, number, time) once; 0 or -1. */
static int run_hwm(srv_db *db, sqlite3_stmt *st, const char *session, uint64_t hwm, int64_t now_ms)
{
    sqlite3_reset(st);
    if (sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, (sqlite3_int64)hwm) != SQLITE_OK ||
        sqlite3_bind_int64(st, 3, now_ms) != SQLITE_OK)
        return failed(db);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        failed(db);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int srv_db_put_hwm(srv_db *db, const char *session, uint64_t hwm, int64_t now_ms)
{
    if (run_hwm(db, db->hwm_update, session, hwm, now_ms))
        return -1;
    if (sqlite3_changes(db->h) > 0)
        return 0;
    if (run_hwm(db, db->hwm_insert, session, hwm, now_ms))
        return -1;
    db->sessions++;
    return 0;
}

int srv_db_get_hwm(srv_db *db, const char *session, uint64_t *hwm)
{
    sqlite3_reset(db->hwm_get);
    if (sqlite3_bind_text(db->hwm_get, 1, session, -1, SQLITE_STATIC) != SQLITE_OK)
        return failed(db);
    int rc = sqlite3_step(db->hwm_get), found = 0;
    if (rc == SQLITE_ROW) {
        *hwm = (uint64_t)sqlite3_column_int64(db->hwm_get, 0);
        found = 1;
    } else if (rc != SQLITE_DONE) {
        found = failed(db);
    }
    sqlite3_reset(db->hwm_get);
    sqlite3_clear_bindings(db->hwm_get);
    return found;
}

int64_t srv_db_session_count(const srv_db *db)
{
    return db->sessions;
}

int64_t srv_db_trim_sessions(srv_db *db, int64_t n, bool (*keep)(const char *session, void *ctx),
                             void *ctx)
{
    return delete_oldest(db, db->trim, n, keep, ctx, &db->sessions);
}

int srv_db_journal_add(srv_db *db, const char *session, uint64_t seq, const void *payload,
                       size_t len, bool binary, int64_t at_ms)
{
    sqlite3_stmt *st = db->journal;
    sqlite3_reset(st);
    if (sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, (sqlite3_int64)seq) != SQLITE_OK ||
        sqlite3_bind_text(st, 3, binary ? "binary" : "text", -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_blob64(st, 4, len ? payload : "", len, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(st, 5, at_ms) != SQLITE_OK)
        return failed(db);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        failed(db);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

uint64_t srv_db_error_count(const srv_db *db)
{
    return db ? db->errors : 0;
}

const char *srv_db_error(srv_db *db)
{
    return db->err[0] ? db->err : "no error recorded";
}
