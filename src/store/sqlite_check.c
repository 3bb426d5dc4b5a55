/* The rules an existing outbox file must meet before it is used: SQLite's
 * quick_check, the schema version, the tables and columns, the meta row,
 * and the held rows (exactly acked + 1 .. N - 1, N the larger of the meta
 * row's next_seq and the last row + 1: see sqlite_impl.h). Each failure
 * says what is wrong in words that name the path. Reads only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifeline/lifeline.h"
#include "store/sqlite_impl.h"

#define CORRUPT(...)                                                                   \
    (ll_outbox_why(why, why_size, s->path, __VA_ARGS__), LIFELINE_ERR_OUTBOX_CORRUPT)

static int check_version(sq_backend *s, long long ver, long long objects, char *why,
                         size_t why_size)
{
    if (ver == 0)
        return CORRUPT("not an outbox: it has %lld tables or indexes and no schema version",
                       objects);
    if (ver < LL_SQ_SCHEMA_OLDEST || ver > LL_SQ_SCHEMA_VERSION)
        return CORRUPT("schema version %lld, this lifeline reads versions %d to %d", ver,
                       LL_SQ_SCHEMA_OLDEST, LL_SQ_SCHEMA_VERSION);
    return LIFELINE_OK;
}

/* PRAGMA quick_check: "ok", or the first problem found. */
static int quick_check(sq_backend *s, char *why, size_t why_size)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *res = (const char *)sqlite3_column_text(st, 0);
        int err = LIFELINE_OK;
        if (!res || strcmp(res, "ok") != 0) {
            err = CORRUPT("damaged (SQLite's quick_check: %s)", res ? res : "no answer");
            for (char *p = why; p && *p; p++)
                if (*p == '\n' || *p == '\r')
                    *p = ' '; /* its answer has lines: the reason is one */
        }
        sqlite3_finalize(st);
        return err;
    }
    int err = ll_sq_open_error(s, rc, "cannot be checked", why, why_size);
    sqlite3_finalize(st);
    return err;
}

/* Each table exists, and has the columns the statements use. */
static int check_tables(sq_backend *s, char *why, size_t why_size)
{
    static const struct {
        const char *name, *probe;
    } tables[] = {
        {"meta", "SELECT id, session, next_seq, acked, epoch, received FROM meta"},
        {"messages", "SELECT seq, is_binary, data FROM messages"},
    };
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(s->db,
                                    "SELECT count(*) FROM sqlite_master "
                                    "WHERE type = 'table' AND name = ?1",
                                    -1, &st, NULL);
        long long n = -1;
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_text(st, 1, tables[i].name, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            n = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_OK)
            return ll_sq_open_error(s, rc, "cannot be read", why, why_size);
        if (n != 1)
            return CORRUPT("missing table %s", tables[i].name);
        st = NULL;
        rc = sqlite3_prepare_v2(s->db, tables[i].probe, -1, &st, NULL);
        if (rc != SQLITE_OK) {
            ll_sq_note(s, rc);
            return CORRUPT("table %s is not an outbox's (%s)", tables[i].name, s->err);
        }
        sqlite3_finalize(st);
    }
    return LIFELINE_OK;
}

static int integer(sq_backend *s, sqlite3_stmt *st, int col, const char *name, long long *out,
                   char *why, size_t why_size)
{
    if (sqlite3_column_type(st, col) != SQLITE_INTEGER)
        return CORRUPT("%s in the meta row is not an integer (%s)", name,
                       sqlite3_column_text(st, col) ? (const char *)sqlite3_column_text(st, col)
                                                    : "NULL");
    *out = sqlite3_column_int64(st, col);
    return LIFELINE_OK;
}

static int check_meta(sq_backend *s, ll_outbox_state *state, char *why, size_t why_size)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT (SELECT count(*) FROM meta), session, next_seq, acked, "
                                "epoch, received FROM meta LIMIT 1",
                                -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        return CORRUPT("the meta table has no row");
    }
    if (rc != SQLITE_ROW) {
        int err = ll_sq_open_error(s, rc, "cannot be read", why, why_size);
        sqlite3_finalize(st);
        return err;
    }
    long long rows = sqlite3_column_int64(st, 0), next_seq = 0, acked = 0, epoch = 0,
              received = 0;
    int err = LIFELINE_OK;
    int session_len = sqlite3_column_bytes(st, 1);
    if (rows != 1)
        err = CORRUPT("the meta table has %lld rows, not 1", rows);
    else if (sqlite3_column_type(st, 1) != SQLITE_BLOB || session_len != 16)
        err = CORRUPT("the session id is not a 16-byte blob (%s of %d bytes)",
                      sqlite3_column_type(st, 1) == SQLITE_BLOB ? "a blob" : "not a blob",
                      session_len);
    if (err == LIFELINE_OK) {
        memcpy(state->session.bytes, sqlite3_column_blob(st, 1), 16);
        if ((err = integer(s, st, 2, "next_seq", &next_seq, why, why_size)) == LIFELINE_OK &&
            (err = integer(s, st, 3, "acked", &acked, why, why_size)) == LIFELINE_OK &&
            (err = integer(s, st, 4, "epoch", &epoch, why, why_size)) == LIFELINE_OK)
            err = integer(s, st, 5, "received", &received, why, why_size);
    }
    sqlite3_finalize(st);
    if (err != LIFELINE_OK)
        return err;
    if (next_seq < 1)
        return CORRUPT("next_seq %lld is below 1", next_seq);
    if (acked < 0)
        return CORRUPT("acked %lld is negative", acked);
    if (acked >= next_seq)
        return CORRUPT("acked %lld is not below next_seq %lld", acked, next_seq);
    if (received < 0)
        return CORRUPT("received %lld is negative", received);
    state->next_seq = (uint64_t)next_seq;
    state->acked = (uint64_t)acked;
    state->epoch = (uint64_t)epoch; /* the bit pattern: see sqlite_impl.h */
    state->received = (uint64_t)received;
    return LIFELINE_OK;
}

/* "held message 10 is missing" or "held messages 10 .. 12 are missing". */
static int missing(sq_backend *s, long long from, long long to, const char *after, char *why,
                   size_t why_size)
{
    if (from == to)
        return CORRUPT("held message %lld is missing (%s)", from, after);
    return CORRUPT("held messages %lld .. %lld are missing (%s)", from, to, after);
}

/* A checked row into *held: its payload copied while *loading and within
 * the limits (then *loading drops to 0 for good), else its length only. */
static int load_row(sq_backend *s, sqlite3_stmt *st, ll_held *held, int *loading, char *why,
                    size_t why_size)
{
    size_t len = (size_t)sqlite3_column_int64(st, 3);
    unsigned char *copy = NULL;
    if (*loading && (held->count + 1 > s->load_messages || held->bytes + len > s->load_bytes))
        *loading = 0;
    if (*loading) {
        const void *p = sqlite3_column_blob(st, 4);
        if ((size_t)sqlite3_column_bytes(st, 4) != len || (!p && len)) {
            ll_outbox_why(why, why_size, s->path, "out of memory");
            return LIFELINE_ERR_NO_MEMORY;
        }
        if (!(copy = malloc(len ? len : 1))) {
            ll_outbox_why(why, why_size, s->path, "out of memory");
            return LIFELINE_ERR_NO_MEMORY;
        }
        if (len)
            memcpy(copy, p, len);
    }
    if (ll_held_push(held, len, copy, sqlite3_column_int(st, 1)) != 0) {
        free(copy);
        ll_outbox_why(why, why_size, s->path, "out of memory");
        return LIFELINE_ERR_NO_MEMORY;
    }
    return LIFELINE_OK;
}

/* The rows, from acked + 1 with no gap; then the outbox's next_seq: the
 * meta row's (the floor: a row it names cannot be missing) or past the
 * last row, the larger. */
static int check_rows(sq_backend *s, ll_outbox_state *state, ll_held *held, char *why,
                      size_t why_size)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT seq, is_binary, typeof(data), length(data), data "
                                "FROM messages ORDER BY seq",
                                -1, &st, NULL);
    long long acked = (long long)state->acked, next_seq = (long long)state->next_seq;
    long long expect = acked + 1;
    int err = LIFELINE_OK;
    int loading = 1; /* the oldest payloads, while they fit (backend.h) */
    char after[64];
    while (err == LIFELINE_OK && st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long seq = sqlite3_column_int64(st, 0);
        const char *type = (const char *)sqlite3_column_text(st, 2);
        if (seq < acked)
            err = CORRUPT("held message %lld is below the acknowledged %lld", seq, acked);
        else if (seq == acked)
            err = CORRUPT("held message %lld is the acknowledged one (acked %lld)", seq, acked);
        else if (seq == INT64_MAX)
            err = CORRUPT("held message %lld is past the last number", seq);
        else if (seq > expect) {
            if (expect == acked + 1)
                snprintf(after, sizeof(after), "acked is %lld", acked);
            else
                snprintf(after, sizeof(after), "a gap before %lld", seq);
            err = missing(s, expect, seq - 1, after, why, why_size);
        } else if (sqlite3_column_type(st, 1) != SQLITE_INTEGER ||
                   (sqlite3_column_int(st, 1) != 0 && sqlite3_column_int(st, 1) != 1))
            err = CORRUPT("held message %lld: is_binary is not 0 or 1", seq);
        else if (!type || strcmp(type, "blob") != 0)
            err = CORRUPT("held message %lld: its data is %s, not a blob", seq,
                          type ? type : "unknown");
        else
            err = load_row(s, st, held, &loading, why, why_size);
        if (err == LIFELINE_OK)
            expect = seq + 1; /* seq < INT64_MAX: checked above */
    }
    if (err == LIFELINE_OK && rc != SQLITE_DONE)
        err = ll_sq_open_error(s, rc, "cannot be read", why, why_size);
    sqlite3_finalize(st);
    if (err == LIFELINE_OK && expect < next_seq) {
        snprintf(after, sizeof(after), "next_seq is %lld", next_seq);
        err = missing(s, expect, next_seq - 1, after, why, why_size);
    }
    if (err == LIFELINE_OK)
        state->next_seq = (uint64_t)expect > state->next_seq ? (uint64_t)expect : state->next_seq;
    return err;
}

int ll_sq_check(sq_backend *s, long long ver, long long objects, ll_outbox_state *state,
                ll_held *held, char *why, size_t why_size)
{
    int err = check_version(s, ver, objects, why, why_size);
    if (err == LIFELINE_OK)
        err = quick_check(s, why, why_size);
    if (err == LIFELINE_OK)
        err = check_tables(s, why, why_size);
    if (err == LIFELINE_OK)
        err = check_meta(s, state, why, why_size);
    if (err == LIFELINE_OK)
        err = check_rows(s, state, held, why, why_size);
    return err;
}
