/* SQLite adapter; see db.h. */
#include "server/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

struct ll_db {
    sqlite3 *h;
    sqlite3_stmt *put;
    sqlite3_stmt *get;
    char err[256]; /* the last failure, kept past the rollback that follows it */
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS users ("
    " user TEXT PRIMARY KEY NOT NULL,"
    " store TEXT NOT NULL,"
    " last_active_at INTEGER NOT NULL"
    ") WITHOUT ROWID;";

static const char put_sql[] =
    "INSERT INTO users (user, store, last_active_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT(user) DO UPDATE SET store = excluded.store, "
    "last_active_at = max(last_active_at, excluded.last_active_at)";

static const char get_sql[] = "SELECT store, last_active_at FROM users WHERE user = ?1";

int ll_db_open(const char *path, ll_db **out, char *err, size_t errlen)
{
    *out = NULL;
    ll_db *db = calloc(1, sizeof(*db));
    if (!db) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(db->h, 2000);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db->h, schema, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db->h, put_sql, -1, &db->put, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db->h, get_sql, -1, &db->get, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
        ll_db_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

/* Keeps SQLite's message for the failure that just happened (with the
 * system's error, such as "File too large" from EFBIG, when there is one):
 * the rollback that follows a failed batch replaces sqlite3_errmsg. */
static int failed(ll_db *db)
{
    int code = sqlite3_errcode(db->h) & 0xff;
    /* sqlite3_system_errno is only set (and never cleared) by these */
    int sys = code == SQLITE_IOERR || code == SQLITE_CANTOPEN ? sqlite3_system_errno(db->h) : 0;
    if (sys)
        snprintf(db->err, sizeof(db->err), "%s (%s)", sqlite3_errmsg(db->h), strerror(sys));
    else
        snprintf(db->err, sizeof(db->err), "%s", sqlite3_errmsg(db->h));
    return -1;
}

void ll_db_close(ll_db *db)
{
    if (!db)
        return;
    sqlite3_finalize(db->put);
    sqlite3_finalize(db->get);
    sqlite3_close(db->h);
    free(db);
}

int ll_db_begin(ll_db *db)
{
    return sqlite3_exec(db->h, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 0 : failed(db);
}

int ll_db_commit(ll_db *db)
{
    return sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : failed(db);
}

void ll_db_rollback(ll_db *db)
{
    /* after some errors SQLite has rolled back already: "no transaction is
     * active" is then expected, and db->err keeps the first failure */
    if (sqlite3_get_autocommit(db->h))
        return;
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

int ll_db_put_user(ll_db *db, const char *user, const char *store, int64_t last_active_ms)
{
    sqlite3_reset(db->put);
    if (sqlite3_bind_text(db->put, 1, user, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(db->put, 2, store, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(db->put, 3, last_active_ms) != SQLITE_OK)
        return failed(db);
    int rc = sqlite3_step(db->put);
    if (rc != SQLITE_DONE)
        failed(db); /* before the reset, which may change the message */
    sqlite3_reset(db->put);
    sqlite3_clear_bindings(db->put);
    return rc == SQLITE_DONE ? 0 : -1;
}

int ll_db_get_user(ll_db *db, const char *user, char *store, size_t storelen,
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

const char *ll_db_error(ll_db *db)
{
    return db->err[0] ? db->err : "no error recorded";
}
