/* The outbox (src/store): numbers, acks, limits and policies, group
 * commit, the checks on open, a full disk, kill -9, the file shrinking
 * back. The behaviour tests run on both backends (a SQLite file in a
 * temporary folder, and memory); the rest on the file. Every file is
 * under one mkdtemp folder, removed at the end. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "lifeline/lifeline.h"
#include "store/outbox.h"

static char dir[] = "/tmp/ll-outbox-XXXXXX";

/* The backend a test runs on: its initial state. */
static const char FILE_BACKEND[] = "file", MEM_BACKEND[] = "memory";

static int on_file(void **state)
{
    return *state == (void *)FILE_BACKEND;
}

/* dir/name, or NULL in memory. */
static const char *path_for(void **state, char *buf, size_t size, const char *name)
{
    if (state && !on_file(state))
        return NULL;
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

static ll_outbox_options options(const char *path, int policy, size_t max_messages,
                                 size_t max_bytes)
{
    ll_outbox_options opt;
    memset(&opt, 0, sizeof(opt));
    opt.path = path;
    opt.durability = LL_OUTBOX_NORMAL;
    opt.policy = policy;
    opt.max_messages = max_messages;
    opt.max_bytes = max_bytes;
    for (int i = 0; i < 16; i++)
        opt.new_session[i] = (uint8_t)(0xa0 + i);
    return opt;
}

static ll_outbox *open_ok(const ll_outbox_options *opt)
{
    int err = -1;
    char why[256] = "";
    ll_outbox *o = ll_outbox_open(opt, &err, why, sizeof(why));
    if (!o)
        fail_msg("open failed: %d %s", err, why);
    assert_int_equal(err, LIFELINE_OK);
    return o;
}

static uint64_t append_text(ll_outbox *o, const char *text)
{
    uint64_t seq = 0;
    assert_int_equal(ll_outbox_append(o, 0, text, strlen(text), &seq, NULL, NULL), LIFELINE_OK);
    return seq;
}

static void assert_next_bytes(ll_outbox *o, uint64_t from, uint64_t seq, int is_binary,
                              const void *data, size_t len)
{
    ll_outbox_msg m;
    assert_int_equal(ll_outbox_next(o, from, &m), 1);
    assert_int_equal(m.seq, seq);
    assert_int_equal(m.is_binary, is_binary);
    assert_non_null(m.data);
    assert_int_equal(m.len, len);
    if (len)
        assert_memory_equal(m.data, data, len);
}

static void assert_next(ll_outbox *o, uint64_t from, uint64_t seq, int is_binary,
                        const char *text)
{
    assert_next_bytes(o, from, seq, is_binary, text, strlen(text));
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* The database and its WAL. */
static long long outbox_size(const char *path)
{
    char wal[512];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    return file_size(path) + file_size(wal);
}

/* ---- numbers, messages, acks ---------------------------------------------- */

static void a_new_outbox_starts_at_one_with_the_given_session(void **state)
{
    char buf[256];
    ll_outbox_options opt = options(path_for(state, buf, sizeof(buf), "new.db"),
                                    LL_OUTBOX_REJECT_NEW, 10, 1000);
    ll_outbox *o = open_ok(&opt);
    ll_outbox_meta m;
    ll_outbox_get_meta(o, &m);
    assert_memory_equal(m.session.bytes, opt.new_session, 16);
    assert_int_equal(m.next_seq, 1);
    assert_int_equal(m.acked, 0);
    assert_int_equal(m.epoch, 0);
    assert_int_equal(m.received, 0);
    assert_int_equal(m.count, 0);
    assert_int_equal(m.bytes, 0);
    ll_outbox_msg msg;
    assert_int_equal(ll_outbox_next(o, 0, &msg), 0);
    ll_outbox_close(o);
}

static void appends_are_numbered_in_order_and_read_back_by_next(void **state)
{
    char buf[256];
    ll_outbox_options opt = options(path_for(state, buf, sizeof(buf), "order.db"),
                                    LL_OUTBOX_REJECT_NEW, 10, 1000);
    ll_outbox *o = open_ok(&opt);
    uint64_t seq = 0;
    assert_int_equal(append_text(o, "sale 1"), 1);
    assert_int_equal(ll_outbox_append(o, 1, "\x00\x01\x02", 3, &seq, NULL, NULL), LIFELINE_OK);
    assert_int_equal(seq, 2);
    assert_int_equal(ll_outbox_append(o, 0, NULL, 0, &seq, NULL, NULL), LIFELINE_OK);
    assert_int_equal(seq, 3);
    assert_next(o, 0, 1, 0, "sale 1");
    assert_next_bytes(o, 2, 2, 1, "\x00\x01\x02", 3);
    assert_next(o, 3, 3, 0, "");
    ll_outbox_msg m;
    assert_int_equal(ll_outbox_next(o, 4, &m), 0);
    ll_outbox_meta meta;
    ll_outbox_get_meta(o, &meta);
    assert_int_equal(meta.next_seq, 4);
    assert_int_equal(meta.count, 3);
    assert_int_equal(meta.bytes, 9);
    assert_int_equal(ll_outbox_append(o, 0, NULL, 1, &seq, NULL, NULL),
                     LIFELINE_ERR_INVALID_ARGUMENT);
    ll_outbox_close(o);
}

static void an_ack_removes_messages_up_to_it_and_is_clamped(void **state)
{
    char buf[256];
    ll_outbox_options opt = options(path_for(state, buf, sizeof(buf), "ack.db"),
                                    LL_OUTBOX_REJECT_NEW, 10, 1000);
    ll_outbox *o = open_ok(&opt);
    for (int i = 0; i < 5; i++)
        append_text(o, "abcd");
    assert_int_equal(ll_outbox_ack(o, 2), LIFELINE_OK);
    ll_outbox_meta m;
    ll_outbox_get_meta(o, &m);
    assert_int_equal(m.acked, 2);
    assert_int_equal(m.count, 3);
    assert_int_equal(m.bytes, 12);
    assert_next(o, 0, 3, 0, "abcd"); /* next starts past acked */
    assert_int_equal(ll_outbox_ack(o, 1), LIFELINE_OK); /* below: nothing */
    ll_outbox_get_meta(o, &m);
    assert_int_equal(m.acked, 2);
    assert_int_equal(ll_outbox_ack(o, 99), LIFELINE_OK); /* clamped to 5 */
    ll_outbox_get_meta(o, &m);
    assert_int_equal(m.acked, 5);
    assert_int_equal(m.count, 0);
    assert_int_equal(m.bytes, 0);
    ll_outbox_msg msg;
    assert_int_equal(ll_outbox_next(o, 0, &msg), 0);
    assert_int_equal(append_text(o, "after"), 6);
    ll_outbox_close(o);
}

static void reopening_keeps_session_numbers_received_and_messages(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/reopen.db", dir);
    ll_outbox_options opt = options(path, LL_OUTBOX_REJECT_NEW, 10, 1000);
    ll_outbox *o = open_ok(&opt);
    append_text(o, "one");
    uint64_t seq;
    assert_int_equal(ll_outbox_append(o, 1, "two", 3, &seq, NULL, NULL), LIFELINE_OK);
    append_text(o, "three");
    assert_int_equal(ll_outbox_ack(o, 1), LIFELINE_OK);
    /* an epoch with the top bit set: stored as its bit pattern */
    assert_int_equal(ll_outbox_set_received(o, 0xfedcba9876543210ull, 7), LIFELINE_OK);
    ll_outbox_close(o);

    opt.new_session[0] ^= 0xff; /* a file keeps its own session */
    o = open_ok(&opt);
    ll_outbox_meta m;
    ll_outbox_get_meta(o, &m);
    assert_int_equal(m.session.bytes[0], 0xa0);
    assert_int_equal(m.session.bytes[15], 0xaf);
    assert_int_equal(m.next_seq, 4);
    assert_int_equal(m.acked, 1);
    assert_true(m.epoch == 0xfedcba9876543210ull);
    assert_int_equal(m.received, 7);
    assert_int_equal(m.count, 2);
    assert_int_equal(m.bytes, 8);
    assert_next(o, 0, 2, 1, "two");
    assert_next(o, 3, 3, 0, "three");
    assert_int_equal(append_text(o, "four"), 4);
    ll_outbox_close(o);
}

/* set_received alone (no append after it) reaches the file. */
static void received_numbers_reach_the_file_without_an_append(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/received.db", dir);
    ll_outbox_options opt = options(path, LL_OUTBOX_REJECT_NEW, 10, 1000);
    opt.durability = LL_OUTBOX_FULL;
    ll_outbox *o = open_ok(&opt);
    assert_int_equal(ll_outbox_set_received(o, 42, 1000), LIFELINE_OK);
    ll_outbox_stats st;
    ll_outbox_get_stats(o, &st);
    assert_int_equal(st.commits, 1); /* its own small transaction */
    /* read the file with another connection while the outbox is closed */
    ll_outbox_close(o);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT epoch, received FROM meta", -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(s, 0), 42);
    assert_int_equal(sqlite3_column_int64(s, 1), 1000);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

/* ---- limits and policies ------------------------------------------------- */

static void reject_new_refuses_past_the_count_and_the_bytes(void **state)
{
    char buf[256];
    ll_outbox_options opt = options(path_for(state, buf, sizeof(buf), "reject.db"),
                                    LL_OUTBOX_REJECT_NEW, 3, 10);
    ll_outbox *o = open_ok(&opt);
    uint64_t seq = 0;
    append_text(o, "a");
    append_text(o, "b");
    append_text(o, "c");
    assert_int_equal(ll_outbox_append(o, 0, "d", 1, &seq, NULL, NULL), LIFELINE_ERR_QUEUE_FULL);
    ll_outbox_meta m;
    ll_outbox_get_meta(o, &m);
    assert_int_equal(m.next_seq, 4); /* the refused one used no number */
    assert_int_equal(m.count, 3);
    assert_int_equal(ll_outbox_ack(o, 2), LIFELINE_OK);
    assert_int_equal(append_text(o, "1234567"), 4); /* 1 + 7 = 8 bytes */
    assert_int_equal(ll_outbox_append(o, 0, "xyz", 3, &seq, NULL, NULL),
                     LIFELINE_ERR_QUEUE_FULL); /* 11 > 10 */
    assert_int_equal(ll_outbox_append(o, 0, "12345678901", 11, &seq, NULL, NULL),
                     LIFELINE_ERR_QUEUE_FULL); /* larger than max_bytes */
    assert_int_equal(append_text(o, "xy"), 5);
    ll_outbox_close(o);
}

typedef struct dropped {
    uint64_t seq[64];
    char text[64][16];
    int n;
} dropped;

static void record_drop(void *arg, const ll_outbox_msg *msg)
{
    dropped *d = arg;
    assert_true(d->n < 64);
    d->seq[d->n] = msg->seq;
    snprintf(d->text[d->n], sizeof(d->text[0]), "%.*s", (int)msg->len, (const char *)msg->data);
    d->n++;
}

static void drop_oldest_drops_through_the_callback_and_moves_acked(void **state)
{
    char buf[256];
    const char *path = path_for(state, buf, sizeof(buf), "drop.db");
    ll_outbox_options opt = options(path, LL_OUTBOX_DROP_OLDEST, 3, 1000);
    ll_outbox *o = open_ok(&opt);
    dropped d = {0};
    uint64_t seq;
    const char *texts[] = {"m1", "m2", "m3", "m4", "m5"};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ll_outbox_append(o, 0, texts[i], 2, &seq, record_drop, &d), LIFELINE_OK);
        assert_int_equal(seq, (uint64_t)i + 1);
    }
    assert_int_equal(d.n, 2);
    assert_int_equal(d.seq[0], 1);
    assert_string_equal(d.text[0], "m1");
    assert_int_equal(d.seq[1], 2);
    assert_string_equal(d.text[1], "m2");
    ll_outbox_meta m;
    ll_outbox_get_meta(o, &m);
    assert_int_equal(m.acked, 2); /* dropped = acknowledged as dropped */
    assert_int_equal(m.count, 3);
    assert_next(o, 0, 3, 0, "m3");
    ll_outbox_stats st;
    ll_outbox_get_stats(o, &st);
    assert_int_equal(st.dropped, 2);
    ll_outbox_close(o);
    if (path) { /* the drops are in the file */
        o = open_ok(&opt);
        ll_outbox_get_meta(o, &m);
        assert_int_equal(m.acked, 2);
        assert_int_equal(m.next_seq, 6);
        assert_int_equal(m.count, 3);
        ll_outbox_close(o);
    }
}

static void drop_oldest_by_bytes_drops_as_many_as_the_new_one_needs(void **state)
{
    char buf[256];
    ll_outbox_options opt = options(path_for(state, buf, sizeof(buf), "dropbytes.db"),
                                    LL_OUTBOX_DROP_OLDEST, 100, 10);
    ll_outbox *o = open_ok(&opt);
    dropped d = {0};
    uint64_t seq;
    for (int i = 0; i < 5; i++)
        assert_int_equal(ll_outbox_append(o, 0, "xy", 2, &seq, record_drop, &d), LIFELINE_OK);
    assert_int_equal(ll_outbox_append(o, 1, "123456789", 9, &seq, record_drop, &d), LIFELINE_OK);
    assert_int_equal(seq, 6);
    assert_int_equal(d.n, 5); /* 10 bytes held: all five go for the 9 */
    ll_outbox_meta m;
    ll_outbox_get_meta(o, &m);
    assert_int_equal(m.acked, 5);
    assert_int_equal(m.count, 1);
    assert_int_equal(m.bytes, 9);
    assert_int_equal(ll_outbox_append(o, 0, "12345678901", 11, &seq, record_drop, &d),
                     LIFELINE_ERR_QUEUE_FULL); /* never fits: nothing dropped */
    assert_int_equal(d.n, 5);
    ll_outbox_close(o);
}

static void drain_takes_every_message_out_oldest_first(void **state)
{
    char buf[256];
    const char *path = path_for(state, buf, sizeof(buf), "drain.db");
    ll_outbox_options opt = options(path, LL_OUTBOX_REJECT_NEW, 10, 1000);
    ll_outbox *o = open_ok(&opt);
    append_text(o, "d1");
    append_text(o, "d2");
    append_text(o, "d3");
    assert_int_equal(ll_outbox_ack(o, 1), LIFELINE_OK);
    dropped d = {0};
    assert_int_equal(ll_outbox_drain(o, record_drop, &d), 2);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.seq[0], 2);
    assert_string_equal(d.text[1], "d3");
    ll_outbox_meta m;
    ll_outbox_get_meta(o, &m);
    assert_int_equal(m.acked, 3);
    assert_int_equal(m.count, 0);
    assert_int_equal(ll_outbox_drain(o, record_drop, &d), 0);
    ll_outbox_close(o);
    if (path) {
        o = open_ok(&opt);
        ll_outbox_get_meta(o, &m);
        assert_int_equal(m.acked, 3);
        assert_int_equal(m.next_seq, 4);
        ll_outbox_close(o);
    }
}

/* ---- the outbox's copies and the file -------------------------------------- */

/* Message i's payload (binary, 0 .. 3000 bytes, some empty). */
static size_t payload(int i, unsigned char *buf)
{
    size_t len = (size_t)(i * 397) % 3001;
    if (i % 7 == 0)
        len = 0;
    for (size_t k = 0; k < len; k++)
        buf[k] = (unsigned char)(i * 31 + (int)k);
    return len;
}

/* What next() answers (the outbox's copies) is what the file holds, read
 * with plain SQLite, and what was appended; after a reopen (the copies
 * loaded from the file) too. */
static void the_copies_and_the_file_agree_after_a_reopen(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/copies.db", dir);
    ll_outbox_options opt = options(path, LL_OUTBOX_REJECT_NEW, 100, 1 << 20);
    ll_outbox *o = open_ok(&opt);
    unsigned char buf[3001];
    for (int i = 1; i <= 40; i++) {
        uint64_t seq;
        size_t len = payload(i, buf);
        assert_int_equal(ll_outbox_append(o, i % 2, buf, len, &seq, NULL, NULL), LIFELINE_OK);
        assert_int_equal(seq, i);
    }
    assert_int_equal(ll_outbox_ack(o, 5), LIFELINE_OK);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 6; i <= 40; i++) {
            size_t len = payload(i, buf);
            assert_next_bytes(o, (uint64_t)i, (uint64_t)i, i % 2, buf, len);
        }
        ll_outbox_msg m;
        assert_int_equal(ll_outbox_next(o, 41, &m), 0);
        ll_outbox_close(o);
        sqlite3 *db;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT seq, is_binary, data FROM messages "
                                            "ORDER BY seq",
                                            -1, &st, NULL),
                         SQLITE_OK);
        int i = 6;
        while (sqlite3_step(st) == SQLITE_ROW) {
            size_t len = payload(i, buf);
            assert_int_equal(sqlite3_column_int64(st, 0), i);
            assert_int_equal(sqlite3_column_int(st, 1), i % 2);
            assert_int_equal(sqlite3_column_bytes(st, 2), len);
            if (len)
                assert_memory_equal(sqlite3_column_blob(st, 2), buf, len);
            i++;
        }
        assert_int_equal(i, 41);
        sqlite3_finalize(st);
        sqlite3_close(db);
        o = open_ok(&opt);
    }
    ll_outbox_close(o);
}

/* A file holding more than the limits it is opened with: the oldest
 * payloads that fit are loaded, the rest read from the file when asked;
 * next(), drops and the drain give every one of them. */
static void a_file_over_its_limits_is_read_in_full(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/over.db", dir);
    static const char *texts[] = {"m1", "m2", "m3", "m4", "m5"};
    for (int round = 0; round < 3; round++) {
        unlink(path);
        ll_outbox_options opt = options(path, LL_OUTBOX_REJECT_NEW, 10, 1000);
        ll_outbox *o = open_ok(&opt);
        for (int i = 0; i < 5; i++)
            append_text(o, texts[i]);
        ll_outbox_close(o);
        /* 2 messages fit: by count (rounds 0, 2), by bytes (round 1) */
        opt = options(path, round == 2 ? LL_OUTBOX_DROP_OLDEST : LL_OUTBOX_REJECT_NEW,
                      round == 1 ? 10 : 2, round == 1 ? 5 : 1000);
        o = open_ok(&opt);
        ll_outbox_meta m;
        ll_outbox_get_meta(o, &m);
        assert_int_equal(m.count, 5);
        assert_int_equal(m.bytes, 10);
        dropped d = {0};
        if (round == 0) {
            for (int i = 5; i >= 1; i--) /* the file's first */
                assert_next(o, (uint64_t)i, (uint64_t)i, 0, texts[i - 1]);
            uint64_t seq;
            assert_int_equal(ll_outbox_append(o, 0, "x", 1, &seq, NULL, NULL),
                             LIFELINE_ERR_QUEUE_FULL);
            assert_int_equal(ll_outbox_ack(o, 4), LIFELINE_OK);
            assert_next(o, 0, 5, 0, "m5");
            assert_int_equal(append_text(o, "m6"), 6);
            assert_next(o, 6, 6, 0, "m6");
        } else if (round == 1) {
            assert_int_equal(ll_outbox_drain(o, record_drop, &d), 5);
        } else {
            uint64_t seq; /* room for one more: 4 dropped, 2 of them from the file */
            assert_int_equal(ll_outbox_append(o, 0, "m6", 2, &seq, record_drop, &d),
                             LIFELINE_OK);
            assert_int_equal(seq, 6);
            assert_next(o, 0, 5, 0, "m5");
            assert_next(o, 6, 6, 0, "m6");
        }
        if (round) {
            assert_int_equal(d.n, round == 1 ? 5 : 4);
            for (int i = 0; i < d.n; i++) {
                assert_int_equal(d.seq[i], i + 1);
                assert_string_equal(d.text[i], texts[i]);
            }
        }
        ll_outbox_close(o);
    }
}

/* ---- threads -------------------------------------------------------------- */

#define THREADS 8
#define PER_THREAD 500

typedef struct appender {
    ll_outbox *o;
    pthread_barrier_t *start;
    int id;
    uint64_t seq[PER_THREAD];
    int failures;
    dropped *drops; /* NULL: no callback */
} appender;

static void *append_many(void *arg)
{
    appender *a = arg;
    pthread_barrier_wait(a->start);
    for (int i = 0; i < PER_THREAD; i++) {
        char text[32];
        int n = snprintf(text, sizeof(text), "t%d-%d", a->id, i);
        if (ll_outbox_append(a->o, 0, text, (size_t)n, &a->seq[i], NULL, NULL) != LIFELINE_OK)
            a->failures++;
    }
    return NULL;
}

static void run_appenders(ll_outbox *o, appender *a)
{
    pthread_t t[THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        a[i].o = o;
        a[i].start = &start;
        a[i].id = i;
        assert_int_equal(pthread_create(&t[i], NULL, append_many, &a[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
}

static void group_commit_shares_transactions_and_numbers_stay_contiguous(void **state,
                                                                         int durability)
{
    char buf[256];
    const char *path = path_for(state, buf, sizeof(buf),
                                durability == LL_OUTBOX_FULL ? "group-full.db" : "group.db");
    ll_outbox_options opt = options(path, LL_OUTBOX_REJECT_NEW, 100000, 1 << 24);
    opt.durability = durability;
    ll_outbox *o = open_ok(&opt);
    static appender a[THREADS];
    memset(a, 0, sizeof(a));
    run_appenders(o, a);
    const size_t total = THREADS * PER_THREAD;
    /* every number 1 .. total once; each thread's increase */
    unsigned char *seen = calloc(total + 1, 1);
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(a[t].failures, 0);
        for (int i = 0; i < PER_THREAD; i++) {
            uint64_t s = a[t].seq[i];
            assert_true(s >= 1 && s <= total);
            assert_int_equal(seen[s], 0);
            seen[s] = 1;
            if (i)
                assert_true(s > a[t].seq[i - 1]);
        }
    }
    free(seen);
    ll_outbox_stats st;
    ll_outbox_get_stats(o, &st);
    assert_int_equal(st.appended, total);
    print_message("# group commit (%s, %s): %zu appends from %d threads in %llu commits "
                  "(%llu with appends; %.1f appends per commit, largest %llu)\n",
                  path ? "file" : "memory", durability == LL_OUTBOX_FULL ? "FULL" : "NORMAL",
                  total, THREADS, (unsigned long long)st.commits,
                  (unsigned long long)st.batches, (double)total / (double)st.batches,
                  (unsigned long long)st.largest_batch);
    assert_true(st.commits >= st.batches);
    /* a FULL commit waits for the disk (fdatasync of the WAL): long enough
     * for the other threads to queue up behind it and share the next one.
     * (A NORMAL commit is a few writes to the page cache, under 10 us
     * here: the threads rarely meet, and that is fine; it is printed.) */
    if (path && durability == LL_OUTBOX_FULL)
        assert_true(st.batches < total);
    /* what each thread was told is what is held under that number */
    if (path) {
        ll_outbox_close(o);
        o = open_ok(&opt);
    }
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < PER_THREAD; i += 37) {
            char text[32];
            snprintf(text, sizeof(text), "t%d-%d", t, i);
            assert_next(o, a[t].seq[i], a[t].seq[i], 0, text);
        }
    ll_outbox_close(o);
}

static void group_commit_at_normal(void **state)
{
    group_commit_shares_transactions_and_numbers_stay_contiguous(state, LL_OUTBOX_NORMAL);
}

static void group_commit_at_full(void **state)
{
    group_commit_shares_transactions_and_numbers_stay_contiguous(state, LL_OUTBOX_FULL);
}

typedef struct drop_count {
    pthread_mutex_t mu;
    unsigned char *seen;
    size_t n;
    int twice;
} drop_count;

static void count_drop(void *arg, const ll_outbox_msg *msg)
{
    drop_count *c = arg;
    pthread_mutex_lock(&c->mu);
    if (c->seen[msg->seq])
        c->twice = 1;
    c->seen[msg->seq] = 1;
    c->n++;
    pthread_mutex_unlock(&c->mu);
}

typedef struct dropper {
    ll_outbox *o;
    pthread_barrier_t *start;
    drop_count *c;
    int failures;
    uint64_t last;
} dropper;

static void *append_dropping(void *arg)
{
    dropper *d = arg;
    pthread_barrier_wait(d->start);
    for (int i = 0; i < PER_THREAD; i++) {
        uint64_t seq;
        if (ll_outbox_append(d->o, 1, "x", 1, &seq, count_drop, d->c) != LIFELINE_OK)
            d->failures++;
        d->last = seq;
    }
    return NULL;
}

/* With room for one message, concurrent appends drop each other, some
 * within one transaction: every number but the last is dropped once. */
static void drop_oldest_under_concurrent_appends_drops_each_number_once(void **state)
{
    char buf[256];
    ll_outbox_options opt = options(path_for(state, buf, sizeof(buf), "dropconc.db"),
                                    LL_OUTBOX_DROP_OLDEST, 1, 100);
    ll_outbox *o = open_ok(&opt);
    const size_t total = THREADS * PER_THREAD;
    drop_count c = {.seen = calloc(total + 2, 1)};
    pthread_mutex_init(&c.mu, NULL);
    dropper d[THREADS];
    pthread_t t[THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        d[i] = (dropper){.o = o, .start = &start, .c = &c};
        assert_int_equal(pthread_create(&t[i], NULL, append_dropping, &d[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < THREADS; i++)
        if (d[i].failures) {
            ll_outbox_stats st;
            ll_outbox_get_stats(o, &st);
            fail_msg("thread %d: %d appends failed, the last write: %d %s", i, d[i].failures,
                     st.last_error, st.last_why);
        }
    ll_outbox_meta m;
    ll_outbox_get_meta(o, &m);
    assert_int_equal(m.next_seq, total + 1);
    assert_int_equal(m.count, 1);
    assert_int_equal(m.acked, total - 1);
    assert_int_equal(c.n, total - 1);
    assert_int_equal(c.twice, 0);
    for (size_t s = 1; s < total; s++)
        assert_int_equal(c.seen[s], 1);
    ll_outbox_stats st;
    ll_outbox_get_stats(o, &st);
    print_message("# drop-oldest, room for 1 (%s): %llu commits, largest %llu\n",
                  on_file(state) ? "file" : "memory", (unsigned long long)st.commits,
                  (unsigned long long)st.largest_batch);
    pthread_mutex_destroy(&c.mu);
    free(c.seen);
    ll_outbox_close(o);
}

typedef struct acker {
    ll_outbox *o;
    volatile int *stop;
    int failures;
    uint64_t acks;
} acker;

/* The loop thread's part: read the next held message, acknowledge a few,
 * record received numbers, while the app threads append. */
static void *ack_while_appending(void *arg)
{
    acker *k = arg;
    uint64_t received = 0;
    while (!__atomic_load_n(k->stop, __ATOMIC_ACQUIRE)) {
        ll_outbox_meta m;
        ll_outbox_get_meta(k->o, &m);
        ll_outbox_msg msg;
        int r = ll_outbox_next(k->o, m.acked + 1, &msg);
        if (r < 0)
            k->failures++;
        if (r == 1 && (msg.seq <= m.acked || msg.len == 0))
            k->failures++;
        if (m.next_seq > 1 && ll_outbox_ack(k->o, m.next_seq - 1) != LIFELINE_OK)
            k->failures++;
        if (ll_outbox_set_received(k->o, 9, ++received) != LIFELINE_OK)
            k->failures++;
        k->acks++;
        sched_yield();
    }
    return NULL;
}

static void acks_from_another_thread_mix_with_group_commits(void **state)
{
    char buf[256];
    const char *path = path_for(state, buf, sizeof(buf), "mixed.db");
    ll_outbox_options opt = options(path, LL_OUTBOX_REJECT_NEW, 100000, 1 << 24);
    ll_outbox *o = open_ok(&opt);
    static appender a[THREADS];
    memset(a, 0, sizeof(a));
    volatile int stop = 0;
    acker k = {.o = o, .stop = &stop};
    pthread_t kt;
    assert_int_equal(pthread_create(&kt, NULL, ack_while_appending, &k), 0);
    run_appenders(o, a);
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    pthread_join(kt, NULL);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(a[t].failures, 0);
    assert_int_equal(k.failures, 0);
    ll_outbox_meta m;
    ll_outbox_get_meta(o, &m);
    assert_int_equal(m.next_seq, THREADS * PER_THREAD + 1);
    assert_int_equal(m.count, m.next_seq - 1 - m.acked);
    uint64_t received = m.received;
    assert_int_equal(ll_outbox_ack(o, m.next_seq - 1), LIFELINE_OK);
    ll_outbox_close(o);
    if (path) { /* what the view had is what the file has */
        o = open_ok(&opt);
        ll_outbox_get_meta(o, &m);
        assert_int_equal(m.count, 0);
        assert_int_equal(m.acked, THREADS * PER_THREAD);
        assert_int_equal(m.received, received);
        ll_outbox_close(o);
    }
}

/* ---- opening --------------------------------------------------------------- */

static void expect_open_error(const char *path, int error, const char *words)
{
    ll_outbox_options opt = options(path, LL_OUTBOX_REJECT_NEW, 10, 1000);
    int err = -1;
    char why[512] = "";
    ll_outbox *o = ll_outbox_open(&opt, &err, why, sizeof(why));
    if (o || err != error || !strstr(why, words) || !strstr(why, path))
        fail_msg("open %s: got %d \"%s\", wanted %d with \"%s\"", path, err, why, error, words);
    print_message("# %s\n", why);
}

static void bad_options_are_refused(void **state)
{
    (void)state;
    ll_outbox_options opt = options(NULL, LL_OUTBOX_REJECT_NEW, 0, 1000);
    int err = -1;
    char why[128];
    assert_null(ll_outbox_open(&opt, &err, why, sizeof(why)));
    assert_int_equal(err, LIFELINE_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(why, "max_messages"));
    opt = options(NULL, 7, 10, 10);
    assert_null(ll_outbox_open(&opt, &err, NULL, 0));
    assert_int_equal(err, LIFELINE_ERR_INVALID_ARGUMENT);
    assert_null(ll_outbox_open(NULL, &err, why, sizeof(why)));
    assert_int_equal(err, LIFELINE_ERR_INVALID_ARGUMENT);
}

static void a_file_that_cannot_be_created_is_an_open_error(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/no/such/folder/outbox.db", dir);
    expect_open_error(path, LIFELINE_ERR_OUTBOX_OPEN, "cannot open or create it");
}

static void a_second_outbox_on_the_same_file_finds_it_in_use(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/twice.db", dir);
    ll_outbox_options opt = options(path, LL_OUTBOX_REJECT_NEW, 10, 1000);
    ll_outbox *o = open_ok(&opt);
    append_text(o, "mine");
    expect_open_error(path, LIFELINE_ERR_OUTBOX_OPEN, "in use");
    assert_int_equal(append_text(o, "still mine"), 2);
    ll_outbox_close(o);
    o = open_ok(&opt); /* closed: free again */
    ll_outbox_close(o);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void garbage_is_not_a_sqlite_database_and_is_left_alone(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/garbage.db", dir);
    char junk[8192];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)(i * 7 + 3);
    write_file(path, junk, sizeof(junk));
    expect_open_error(path, LIFELINE_ERR_OUTBOX_CORRUPT, "not a SQLite database");
    assert_int_equal(file_size(path), sizeof(junk));
    FILE *f = fopen(path, "rb");
    char back[8192];
    assert_int_equal(fread(back, 1, sizeof(back), f), sizeof(back));
    fclose(f);
    assert_memory_equal(back, junk, sizeof(junk));
}

/* A file made by the test with plain SQLite: sql run on a new database. */
static void make_db(const char *path, const char *sql)
{
    unlink(path);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
    sqlite3_close(db);
}

/* An outbox with messages 1 .. 3 (closed), then sql run on it. */
static void make_outbox_then(const char *path, const char *sql)
{
    unlink(path);
    ll_outbox_options opt = options(path, LL_OUTBOX_REJECT_NEW, 10, 1000);
    ll_outbox *o = open_ok(&opt);
    append_text(o, "m1");
    append_text(o, "m2");
    append_text(o, "m3");
    ll_outbox_close(o);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
    sqlite3_close(db);
}

static void another_programs_database_is_not_an_outbox(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/foreign.db", dir);
    make_db(path, "CREATE TABLE customers (name TEXT); INSERT INTO customers VALUES ('x')");
    expect_open_error(path, LIFELINE_ERR_OUTBOX_CORRUPT, "not an outbox");
    /* left as it was: still in rollback-journal mode, its row still there */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "delete");
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static void corrupt_files_are_refused_with_words_that_say_why(void **state)
{
    (void)state;
    static const struct {
        const char *sql, *words;
    } cases[] = {
        {"PRAGMA user_version=7", "schema version 7, this lifeline reads versions 1 to 2"},
        {"DROP TABLE messages", "missing table messages"},
        {"DROP TABLE meta", "missing table meta"},
        {"DROP TABLE meta; CREATE TABLE meta (id INTEGER PRIMARY KEY, session BLOB)",
         "table meta is not an outbox's (no such column: next_seq)"},
        {"DELETE FROM meta", "the meta table has no row"},
        {"UPDATE meta SET session = x'0102030405'",
         "the session id is not a 16-byte blob (a blob of 5 bytes)"},
        {"UPDATE meta SET session = 'sixteen chars!!!'", "the session id is not a 16-byte blob"},
        {"UPDATE meta SET next_seq = 'four'", "next_seq in the meta row is not an integer"},
        {"UPDATE meta SET next_seq = 0", "next_seq 0 is below 1"},
        {"UPDATE meta SET acked = -1", "acked -1 is negative"},
        {"UPDATE meta SET acked = 4", "acked 4 is not below next_seq 4"},
        {"UPDATE meta SET received = -5", "received -5 is negative"},
        {"UPDATE meta SET acked = 2", "held message 1 is below the acknowledged 2"},
        {"UPDATE meta SET acked = 1", "held message 1 is the acknowledged one (acked 1)"},
        {"INSERT INTO messages VALUES (9, 0, x'00')",
         "held messages 4 .. 8 are missing (a gap before 9)"},
        {"UPDATE meta SET next_seq = 6", "held messages 4 .. 5 are missing (next_seq is 6)"},
        {"UPDATE meta SET next_seq = 4; DELETE FROM messages WHERE seq = 3",
         "held message 3 is missing (next_seq is 4)"},
        {"INSERT INTO messages VALUES (9223372036854775807, 0, x'00')",
         "held message 9223372036854775807 is past the last number"},
        {"DELETE FROM messages WHERE seq = 2", "held message 2 is missing (a gap before 3)"},
        {"DELETE FROM messages WHERE seq = 1", "held message 1 is missing (acked is 0)"},
        {"DELETE FROM messages WHERE seq >= 2", "held messages 2 .. 3 are missing (next_seq is 4)"},
        {"UPDATE messages SET is_binary = 5 WHERE seq = 2",
         "held message 2: is_binary is not 0 or 1"},
        {"UPDATE messages SET data = 'text' WHERE seq = 3",
         "held message 3: its data is text, not a blob"},
    };
    char path[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(path, sizeof(path), "%s/corrupt-%zu.db", dir, i);
        make_outbox_then(path, cases[i].sql);
        expect_open_error(path, LIFELINE_ERR_OUTBOX_CORRUPT, cases[i].words);
    }
}

/* Garbage over the messages table's pages: quick_check (or the first read)
 * finds the damage. */
static void a_damaged_file_is_refused(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/damaged.db", dir);
    unlink(path);
    ll_outbox_options opt = options(path, LL_OUTBOX_REJECT_NEW, 1000, 1 << 20);
    ll_outbox *o = open_ok(&opt);
    char text[300];
    memset(text, 'm', sizeof(text));
    for (int i = 0; i < 200; i++) {
        uint64_t seq;
        assert_int_equal(ll_outbox_append(o, 0, text, sizeof(text), &seq, NULL, NULL),
                         LIFELINE_OK);
    }
    ll_outbox_close(o); /* checkpointed: everything in the main file */
    long long size = file_size(path);
    assert_true(size > 8 * 4096);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    char junk[4096];
    memset(junk, 0x5a, sizeof(junk));
    for (off_t page = 3; page < 6; page++)
        assert_int_equal(pwrite(fd, junk, sizeof(junk), page * 4096), sizeof(junk));
    close(fd);
    expect_open_error(path, LIFELINE_ERR_OUTBOX_CORRUPT, "damaged");
}

/* ---- the file shrinks back ------------------------------------------------- */

static void the_file_shrinks_back_after_a_backlog_drains(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/shrink.db", dir);
    ll_outbox_options opt = options(path, LL_OUTBOX_REJECT_NEW, 20000, 64 << 20);
    ll_outbox *o = open_ok(&opt);
    long long empty = outbox_size(path);
    char kib[1024];
    memset(kib, 'k', sizeof(kib));
    for (int round = 0; round < 2; round++) {
        uint64_t seq = 0;
        for (int i = 0; i < 10000; i++)
            assert_int_equal(ll_outbox_append(o, 1, kib, sizeof(kib), &seq, NULL, NULL),
                             LIFELINE_OK);
        long long full = outbox_size(path);
        ll_outbox_stats before;
        ll_outbox_get_stats(o, &before);
        if (round == 0) { /* all at once */
            assert_int_equal(ll_outbox_ack(o, seq), LIFELINE_OK);
        } else { /* as a server would: 32 at a time */
            ll_outbox_meta m;
            ll_outbox_get_meta(o, &m);
            for (uint64_t upto = m.acked + 32; upto < seq; upto += 32)
                assert_int_equal(ll_outbox_ack(o, upto), LIFELINE_OK);
            assert_int_equal(ll_outbox_ack(o, seq), LIFELINE_OK);
        }
        long long after = outbox_size(path);
        ll_outbox_stats st;
        ll_outbox_get_stats(o, &st);
        print_message("# shrink, acked %s: empty %lld B, 10k x 1 KiB held %lld B "
                      "(%.0f B per message), after the acks %lld B (%llu shrinks)\n",
                      round ? "32 at a time" : "at once", empty, full, (double)full / 10000.0,
                      after, (unsigned long long)(st.shrinks - before.shrinks));
        assert_true(st.shrinks > before.shrinks);
        /* all at once: back to the empty size; 32 at a time: at most the
         * free pages below the threshold (LL_SQ_SHRINK_EMPTY, 256 KiB) */
        assert_true(after <= empty + (round ? 300 : 16) * 1024);
    }
    ll_outbox_close(o);
}

/* ---- a full disk ------------------------------------------------------------ */

#define CHILD_CHECK(cond, ...)                                                         \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "line %d: ", __LINE__);                                    \
            fprintf(stderr, __VA_ARGS__);                                              \
            fprintf(stderr, "\n");                                                     \
            _exit(1);                                                                  \
        }                                                                              \
    } while (0)

/* In a child: open path with reject-new and these limits, or exit 1. */
static ll_outbox *child_open(const char *path, size_t max_messages, size_t max_bytes)
{
    ll_outbox_options opt = options(path, LL_OUTBOX_REJECT_NEW, max_messages, max_bytes);
    int err;
    char why[256];
    ll_outbox *o = ll_outbox_open(&opt, &err, why, sizeof(why));
    CHILD_CHECK(o, "open: %s", why);
    return o;
}

/* In a child: append 1 KiB messages until an append fails; it must be
 * OUTBOX_IO, use no number, and lose nothing committed. Then make room
 * (free_room) and append again: the next number is the unused one. */
static void fill_until_full(const char *path, void (*free_room)(void))
{
    ll_outbox *o = child_open(path, 1000000, 1 << 30);
    char kib[1024];
    memset(kib, 0, sizeof(kib));
    uint64_t last = 0, seq = 0;
    int rc = LIFELINE_OK;
    for (int i = 0; i < 100000 && rc == LIFELINE_OK; i++) {
        snprintf(kib, sizeof(kib), "message %d", i + 1);
        rc = ll_outbox_append(o, 0, kib, sizeof(kib), &seq, NULL, NULL);
        if (rc == LIFELINE_OK) {
            CHILD_CHECK(seq == last + 1, "seq %llu after %llu", (unsigned long long)seq,
                        (unsigned long long)last);
            last = seq;
        }
    }
    ll_outbox_stats st;
    ll_outbox_get_stats(o, &st);
    CHILD_CHECK(rc == LIFELINE_ERR_OUTBOX_IO, "rc %d after %llu appends", rc,
                (unsigned long long)last);
    CHILD_CHECK(last > 10, "only %llu appends fitted", (unsigned long long)last);
    fprintf(stderr, "# full after %llu messages: %s\n", (unsigned long long)last, st.last_why);
    ll_outbox_meta m;
    ll_outbox_get_meta(o, &m);
    CHILD_CHECK(m.next_seq == last + 1 && m.count == last, "next_seq %llu count %zu",
                (unsigned long long)m.next_seq, m.count);
    rc = ll_outbox_append(o, 0, kib, sizeof(kib), &seq, NULL, NULL);
    CHILD_CHECK(rc == LIFELINE_ERR_OUTBOX_IO, "again: rc %d", rc);
    ll_outbox_msg msg;
    CHILD_CHECK(ll_outbox_next(o, last, &msg) == 1 && msg.seq == last, "read back the last");
    free_room();
    rc = ll_outbox_append(o, 0, "after", 5, &seq, NULL, NULL);
    CHILD_CHECK(rc == LIFELINE_OK && seq == last + 1, "after room: rc %d seq %llu", rc,
                (unsigned long long)seq);
    ll_outbox_close(o);
    o = child_open(path, 1000000, 1 << 30);
    ll_outbox_get_meta(o, &m);
    CHILD_CHECK(m.next_seq == last + 2 && m.count == last + 1 && m.acked == 0,
                "reopened: next_seq %llu count %zu", (unsigned long long)m.next_seq, m.count);
    for (uint64_t s = 1; s <= last; s++) {
        char want[32];
        snprintf(want, sizeof(want), "message %llu", (unsigned long long)s);
        CHILD_CHECK(ll_outbox_next(o, s, &msg) == 1 && msg.seq == s && msg.len == 1024 &&
                        strcmp(msg.data, want) == 0,
                    "message %llu", (unsigned long long)s);
    }
    ll_outbox_close(o);
}

static char filler[400];

static void remove_filler(void)
{
    unlink(filler);
}

static void run_child(void (*body)(void), const char *what)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        body();
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        print_message("# %s: cannot be set up here, skipped\n", what);
        skip();
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("%s: the child failed (status %d)", what, status);
}

/* A real ENOSPC: a 512 KiB tmpfs in a mount namespace of the child's own
 * (root only; skipped otherwise). */
static void disk_full_child(void)
{
    char mnt[64];
    snprintf(mnt, sizeof(mnt), "%s/tmpfs", dir);
    if (mkdir(mnt, 0700) != 0 || unshare(CLONE_NEWNS) != 0 ||
        /* source and type are ignored here (valgrind wants them set) */
        mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", mnt, "tmpfs", 0, "size=512k") != 0)
        _exit(77);
    snprintf(filler, sizeof(filler), "%s/filler", mnt);
    char room[64 * 1024] = {0};
    int fd = open(filler, O_WRONLY | O_CREAT, 0600);
    CHILD_CHECK(fd >= 0 && write(fd, room, sizeof(room)) == (ssize_t)sizeof(room), "filler");
    close(fd);
    char path[400];
    snprintf(path, sizeof(path), "%s/outbox.db", mnt);
    fill_until_full(path, remove_filler);
}

static void a_full_disk_fails_the_append_and_keeps_what_was_committed(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        print_message("# not root: no tmpfs, skipped (see the file size limit test)\n");
        skip();
    }
    run_child(disk_full_child, "tmpfs");
}

static struct rlimit fsize_was;

static void lift_fsize(void)
{
    setrlimit(RLIMIT_FSIZE, &fsize_was);
}

/* The same through a file size limit (RLIMIT_FSIZE, for anyone): the WAL
 * cannot grow past 256 KiB. */
static void fsize_child(void)
{
    signal(SIGXFSZ, SIG_IGN);
    char path[300];
    snprintf(path, sizeof(path), "%s/fsize.db", dir);
    getrlimit(RLIMIT_FSIZE, &fsize_was);
    struct rlimit low = fsize_was;
    low.rlim_cur = 256 * 1024;
    CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &low) == 0, "setrlimit");
    fill_until_full(path, lift_fsize);
}

static void a_file_size_limit_fails_the_append_and_keeps_what_was_committed(void **state)
{
    (void)state;
    run_child(fsize_child, "file size limit");
}

/* ---- kill -9 ---------------------------------------------------------------- */

/* ---- the next number, from the rows or the meta row ------------------------ */

/* One integer from a closed outbox file, read with plain SQLite. */
static long long file_int(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    long long v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

/* Every message acknowledged: the table is empty, and the next number
 * comes from the meta row (written with the ack). */
static void next_seq_survives_a_restart_with_an_empty_table(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/empty-next.db", dir);
    ll_outbox_options opt = options(path, LL_OUTBOX_REJECT_NEW, 10, 1000);
    ll_outbox *o = open_ok(&opt);
    append_text(o, "one");
    append_text(o, "two");
    append_text(o, "three");
    assert_int_equal(ll_outbox_ack(o, 3), LIFELINE_OK);
    ll_outbox_close(o);
    assert_int_equal(file_int(path, "SELECT count(*) FROM messages"), 0);
    o = open_ok(&opt);
    ll_outbox_meta m;
    ll_outbox_get_meta(o, &m);
    assert_int_equal(m.next_seq, 4);
    assert_int_equal(m.acked, 3);
    assert_int_equal(m.count, 0);
    ll_outbox_msg msg;
    assert_int_equal(ll_outbox_next(o, 0, &msg), 0);
    assert_int_equal(append_text(o, "four"), 4);
    ll_outbox_close(o);
}

/* In a child, killed before it closes (as kill -9 would): 3 appends, an
 * ack of 1 (the meta row: next_seq 4), 2 appends (their rows only). */
static void appends_then_killed_child(void)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/rows-ahead.db", dir);
    ll_outbox *o = child_open(path, 10, 1000);
    const char *texts[] = {"m1", "m2", "m3", "m4", "m5"};
    for (int i = 0; i < 5; i++) {
        uint64_t seq;
        CHILD_CHECK(ll_outbox_append(o, i % 2, texts[i], 2, &seq, NULL, NULL) == LIFELINE_OK,
                    "append");
        if (i == 2)
            CHILD_CHECK(ll_outbox_ack(o, 1) == LIFELINE_OK, "ack");
    }
    _exit(0); /* no close */
}

/* An append writes its row only: the meta row's next_seq stays behind,
 * and the open takes the next number from the rows. */
static void an_append_writes_its_row_only_and_the_next_number_comes_from_the_rows(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/rows-ahead.db", dir);
    unlink(path);
    run_child(appends_then_killed_child, "appends, then killed");
    assert_int_equal(file_int(path, "SELECT next_seq FROM meta"), 4);
    assert_int_equal(file_int(path, "SELECT acked FROM meta"), 1);
    assert_int_equal(file_int(path, "SELECT max(seq) FROM messages"), 5);
    ll_outbox_options opt = options(path, LL_OUTBOX_REJECT_NEW, 10, 1000);
    ll_outbox *o = open_ok(&opt);
    ll_outbox_meta m;
    ll_outbox_get_meta(o, &m);
    assert_int_equal(m.next_seq, 6);
    assert_int_equal(m.acked, 1);
    assert_int_equal(m.count, 4);
    assert_int_equal(m.bytes, 8);
    assert_next(o, 0, 2, 1, "m2");
    assert_next(o, 5, 5, 0, "m5");
    assert_int_equal(append_text(o, "m6"), 6);
    ll_outbox_close(o);
    /* a clean close writes the meta row: the file names its last number */
    assert_int_equal(file_int(path, "SELECT next_seq FROM meta"), 7);
}

/* An outbox a child leaves open on purpose (it exits as if killed). */
static ll_outbox *volatile kept_open;

/* In a child, killed before it closes: 200 appends of 300 bytes, each its
 * own commit, and the child checks that the outbox's VFS wrote each commit's
 * WAL frames with their headers (sqlite_vfs.h). */
static void merged_frames_child(void)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/merged.db", dir);
    ll_outbox *o = child_open(path, 1000, 1000000);
    char msg[300];
    for (int i = 0; i < 200; i++) {
        uint64_t seq;
        memset(msg, 'a' + i % 26, sizeof(msg));
        snprintf(msg, 16, "m%03d", i + 1);
        CHILD_CHECK(ll_outbox_append(o, 0, msg, sizeof(msg), &seq, NULL, NULL) == LIFELINE_OK,
                    "append %d", i);
    }
    ll_outbox_stats st;
    ll_outbox_get_stats(o, &st);
    /* one frame at least a commit, each written whole */
    CHILD_CHECK(st.commits >= 200 && st.wal_frames_merged >= st.commits,
                "commits %llu, frames merged %llu", (unsigned long long)st.commits,
                (unsigned long long)st.wal_frames_merged);
    kept_open = o; /* reachable at the exit, for valgrind's leak check */
    _exit(0);      /* no close: the rows are in the WAL only */
}

/* Each WAL frame goes out in one write with its header, and the WAL is
 * SQLite's own: after a kill, plain SQLite (its own VFS, which checks every
 * frame's checksum when it recovers the WAL) reads every row. */
static void wal_frames_are_written_whole_and_read_by_plain_sqlite(void **state)
{
    (void)state;
    char path[256], wal[300];
    snprintf(path, sizeof(path), "%s/merged.db", dir);
    snprintf(wal, sizeof(wal), "%s-wal", path);
    unlink(path);
    unlink(wal);
    run_child(merged_frames_child, "appends, then killed");
    assert_true(file_size(wal) > 200 * 300);
    assert_int_equal(file_int(path, "SELECT count(*) FROM messages"), 200);
    assert_int_equal(file_int(path, "SELECT max(seq) FROM messages"), 200);
    assert_int_equal(file_int(path, "SELECT count(*) FROM messages WHERE length(data) = 300 "
                                    "AND CAST(substr(data, 1, 4) AS TEXT) = printf('m%03d', seq)"),
                     200);
    ll_outbox_options opt = options(path, LL_OUTBOX_REJECT_NEW, 1000, 1000000);
    ll_outbox *o = open_ok(&opt);
    ll_outbox_meta m;
    ll_outbox_get_meta(o, &m);
    assert_int_equal(m.next_seq, 201);
    assert_int_equal(m.count, 200);
    ll_outbox_close(o);
}

/* A version 1 file (the meta row's next_seq written by every append) meets
 * version 2's rules: it is read as it is, and marked version 2. */
static void a_version_1_file_is_read_and_marked_version_2(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/version1.db", dir);
    make_outbox_then(path, "PRAGMA user_version=1");
    ll_outbox_options opt = options(path, LL_OUTBOX_REJECT_NEW, 10, 1000);
    ll_outbox *o = open_ok(&opt);
    ll_outbox_meta m;
    ll_outbox_get_meta(o, &m);
    assert_int_equal(m.next_seq, 4);
    assert_int_equal(m.count, 3);
    assert_next(o, 0, 1, 0, "m1");
    assert_next(o, 3, 3, 0, "m3");
    ll_outbox_close(o);
    assert_int_equal(file_int(path, "PRAGMA user_version"), 2);
}

/* The child appends "n=<seq>" as fast as it can, acks now and then, and
 * writes each number it was given to the pipe once append returned. */
static void killed_appender(const char *path, int fd)
{
    ll_outbox *o = child_open(path, 10000000, 1 << 30);
    ll_outbox_meta m;
    ll_outbox_get_meta(o, &m);
    uint64_t want = m.next_seq;
    for (;;) {
        char text[64];
        int n = snprintf(text, sizeof(text), "n=%llu", (unsigned long long)want);
        uint64_t seq;
        CHILD_CHECK(ll_outbox_append(o, 0, text, (size_t)n, &seq, NULL, NULL) == LIFELINE_OK,
                    "append");
        CHILD_CHECK(seq == want, "seq %llu, wanted %llu", (unsigned long long)seq,
                    (unsigned long long)want);
        CHILD_CHECK(write(fd, &seq, sizeof(seq)) == (ssize_t)sizeof(seq), "pipe");
        if (seq % 97 == 0)
            ll_outbox_ack(o, seq - 50);
        want++;
    }
}

static void kill_9_loses_no_message_the_app_was_told_is_committed(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/killed.db", dir);
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    print_message("# kill -9: seed %u\n", seed);
    srand(seed);
    uint64_t reported_max = 0;
    for (int round = 0; round < 5; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            killed_appender(path, fds[1]);
            _exit(0);
        }
        close(fds[1]);
        /* let it run for a random number of appends, then a random moment */
        long wait_for = 200 + rand() % 3000;
        uint64_t seq, last = reported_max;
        long got = 0;
        while (got < wait_for && read(fds[0], &seq, sizeof(seq)) == (ssize_t)sizeof(seq)) {
            got++;
            last = seq;
        }
        struct timespec ts = {0, (long)(rand() % 3000) * 1000};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        while (read(fds[0], &seq, sizeof(seq)) == (ssize_t)sizeof(seq)) {
            assert_int_equal(seq, last + 1); /* the child's numbers have no gap */
            last = seq;
        }
        close(fds[0]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        reported_max = last;

        ll_outbox_options opt = options(path, LL_OUTBOX_REJECT_NEW, 10000000, 1 << 30);
        ll_outbox *o = open_ok(&opt); /* the checks on open: held contiguous */
        ll_outbox_meta m;
        ll_outbox_get_meta(o, &m);
        print_message("# kill -9 round %d: told up to %llu; next_seq %llu, acked %llu, "
                      "%zu held\n",
                      round, (unsigned long long)reported_max, (unsigned long long)m.next_seq,
                      (unsigned long long)m.acked, m.count);
        /* every number it was told is there (or acknowledged); at most the
         * one in flight was committed without being told */
        assert_true(m.next_seq >= reported_max + 1);
        assert_true(m.next_seq <= reported_max + 2);
        assert_true(m.acked < reported_max);
        for (uint64_t s = m.acked + 1; s < m.next_seq; s++) {
            char want[64];
            snprintf(want, sizeof(want), "n=%llu", (unsigned long long)s);
            assert_next(o, s, s, 0, want);
        }
        /* the next round's child starts from here */
        reported_max = m.next_seq - 1;
        ll_outbox_close(o);
    }
}

/* ---- set-up ------------------------------------------------------------------ */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int make_dir(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#define BOTH(f)                                                                        \
    {#f " (file)", f, NULL, NULL, (void *)FILE_BACKEND},                               \
    {                                                                                  \
        #f " (memory)", f, NULL, NULL, (void *)MEM_BACKEND                             \
    }
#define FILE_ONLY(f) {#f, f, NULL, NULL, (void *)FILE_BACKEND}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(a_new_outbox_starts_at_one_with_the_given_session),
        BOTH(appends_are_numbered_in_order_and_read_back_by_next),
        BOTH(an_ack_removes_messages_up_to_it_and_is_clamped),
        FILE_ONLY(reopening_keeps_session_numbers_received_and_messages),
        FILE_ONLY(received_numbers_reach_the_file_without_an_append),
        BOTH(reject_new_refuses_past_the_count_and_the_bytes),
        BOTH(drop_oldest_drops_through_the_callback_and_moves_acked),
        BOTH(drop_oldest_by_bytes_drops_as_many_as_the_new_one_needs),
        BOTH(drain_takes_every_message_out_oldest_first),
        BOTH(group_commit_at_normal),
        FILE_ONLY(group_commit_at_full),
        BOTH(drop_oldest_under_concurrent_appends_drops_each_number_once),
        BOTH(acks_from_another_thread_mix_with_group_commits),
        FILE_ONLY(bad_options_are_refused),
        FILE_ONLY(a_file_that_cannot_be_created_is_an_open_error),
        FILE_ONLY(a_second_outbox_on_the_same_file_finds_it_in_use),
        FILE_ONLY(garbage_is_not_a_sqlite_database_and_is_left_alone),
        FILE_ONLY(another_programs_database_is_not_an_outbox),
        FILE_ONLY(corrupt_files_are_refused_with_words_that_say_why),
        FILE_ONLY(a_damaged_file_is_refused),
        FILE_ONLY(the_file_shrinks_back_after_a_backlog_drains),
        FILE_ONLY(a_full_disk_fails_the_append_and_keeps_what_was_committed),
        FILE_ONLY(a_file_size_limit_fails_the_append_and_keeps_what_was_committed),
        FILE_ONLY(the_copies_and_the_file_agree_after_a_reopen),
        FILE_ONLY(a_file_over_its_limits_is_read_in_full),
        FILE_ONLY(next_seq_survives_a_restart_with_an_empty_table),
        FILE_ONLY(an_append_writes_its_row_only_and_the_next_number_comes_from_the_rows),
        FILE_ONLY(a_version_1_file_is_read_and_marked_version_2),
        FILE_ONLY(wal_frames_are_written_whole_and_read_by_plain_sqlite),
        FILE_ONLY(kill_9_loses_no_message_the_app_was_told_is_committed),
    };
    return cmocka_run_group_tests_name("outbox", tests, make_dir, remove_dir);
}
