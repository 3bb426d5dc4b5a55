/* lifeline.v1 sessions shared through Redis: the connection (shared.h). */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "proto/wire.h"
#include "server/shared.h"

#define RETRY_MS 1000

enum { CLAIM, TAKE, RELEASE, COMMIT, PUSH, RESTART, SCRIPTS };
static const char *const script_text[SCRIPTS] = {SRV_SHARED_CLAIM, SRV_SHARED_TAKE,
                                                 SRV_SHARED_RELEASE, SRV_SHARED_COMMIT,
                                                 SRV_SHARED_PUSH, SRV_SHARED_RESTART};

/* A pipelined command whose answer has not been read. */
typedef struct pending {
    char hex[LL_WIRE_SESSION_HEX + 1];
    bool report; /* its status goes to on_status */
} pending;

struct srv_shared {
    srv_redis_addr addr;
    char id[SRV_CLUSTER_ID_MAX + 1];
    srv_log *log;
    srv_shared_status_fn *on_status;
    void *ctx;
    redisContext *rc;
    char sha[SCRIPTS][41];
    int64_t tried_ms; /* the last connection attempt (0: none) */
    bool was_up;
    pending *q;       /* a ring of the commands not answered yet */
    size_t q_head, q_count, q_cap;
    bool queued;      /* commands appended and not yet sent */
    srv_map doubt;    /* hex -> (void *)1: sessions whose commit's outcome is unknown */
};

srv_shared *srv_shared_new(const srv_redis_addr *addr, const char *id, srv_log *log,
                           srv_shared_status_fn *on_status, void *ctx)
{
    srv_shared *x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    x->addr = *addr;
    snprintf(x->id, sizeof(x->id), "%s", id);
    x->log = log;
    x->on_status = on_status;
    x->ctx = ctx;
    srv_map_init(&x->doubt);
    return x;
}

/* A doubt's value. */
typedef struct doubt {
    void *stash;
    void (*free_stash)(void *);
} doubt;

static void forget(const char *key, void *value, void *ctx)
{
    (void)key;
    (void)ctx;
    doubt *d = value;
    if (d->free_stash)
        d->free_stash(d->stash);
    free(d);
}

static void forget_all(srv_map *m)
{
    srv_map_each(m, forget, NULL);
    srv_map_free(m);
    srv_map_init(m);
}

void srv_shared_doubt(srv_shared *x, const char *hex, void *stash, void (*free_stash)(void *))
{
    if (x->doubt.count >= SRV_SHARED_DOUBT_MAX)
        forget_all(&x->doubt); /* forgotten: their tills go on as alone */
    doubt *d = malloc(sizeof(*d));
    if (d) {
        d->stash = stash;
        d->free_stash = free_stash;
        doubt *old = srv_map_get(&x->doubt, hex);
        if (srv_map_put(&x->doubt, hex, d) == 0) {
            if (old)
                forget(hex, old, NULL);
            return;
        }
        free(d);
    }
    /* out of memory: the session goes on as alone (the risk of a double) */
    if (free_stash)
        free_stash(stash);
}

bool srv_shared_in_doubt(const srv_shared *x, const char *hex)
{
    return x && srv_map_get(&x->doubt, hex) != NULL;
}

void *srv_shared_resolved(srv_shared *x, const char *hex)
{
    doubt *d = srv_map_remove(&x->doubt, hex);
    void *stash = d ? d->stash : NULL;
    free(d);
    return stash;
}

static void drop_connection(srv_shared *x, const char *why)
{
    if (x->rc) {
        if (x->was_up)
            srv_log_msg(x->log, SRV_LOG_WARN, "redis_sessions_down",
                        "lifeline.v1 sessions are this instance's own until Redis is back: %s",
                        why);
        redisFree(x->rc);
        x->rc = NULL;
    }
    x->was_up = false;
    x->queued = false;
    /* the mirrors not answered may or may not have reached Redis */
    while (x->q_count) {
        pending p = x->q[x->q_head];
        x->q_head = (x->q_head + 1) % x->q_cap;
        x->q_count--;
        if (p.report)
            x->on_status(p.hex, -1, x->ctx);
    }
}

void srv_shared_down(srv_shared *x, const char *why)
{
    if (x && x->rc)
        drop_connection(x, why);
}

void srv_shared_free(srv_shared *x)
{
    if (!x)
        return;
    if (x->rc)
        redisFree(x->rc);
    forget_all(&x->doubt);
    srv_map_free(&x->doubt);
    free(x->q);
    free(x);
}

static redisReply *call(srv_shared *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(x->rc, fmt, ap);
    va_end(ap);
    return r;
}

static int open_connection(srv_shared *x)
{
    struct timeval tv = {SRV_SHARED_TIMEOUT_MS / 1000, (SRV_SHARED_TIMEOUT_MS % 1000) * 1000};
    x->rc = x->addr.path[0] ? redisConnectUnixWithTimeout(x->addr.path, tv)
                            : redisConnectWithTimeout(x->addr.host, x->addr.port, tv);
    if (!x->rc)
        return -1;
    if (x->rc->err || redisSetTimeout(x->rc, tv) != REDIS_OK) {
        drop_connection(x, x->rc->errstr);
        return -1;
    }
    redisReply *r;
    if (x->addr.db) {
        r = call(x, "SELECT %d", x->addr.db);
        bool ok = r && r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
        if (!ok) {
            drop_connection(x, "SELECT failed");
            return -1;
        }
    }
    for (int i = 0; i < SCRIPTS; i++) {
        r = call(x, "SCRIPT LOAD %s", script_text[i]);
        bool ok = r && r->type == REDIS_REPLY_STRING && r->len == 40;
        if (ok)
            memcpy(x->sha[i], r->str, 41);
        else
            srv_log_msg(x->log, SRV_LOG_ERROR, "redis_error", "SCRIPT LOAD: %s",
                        r && r->type == REDIS_REPLY_ERROR ? r->str : x->rc->errstr);
        freeReplyObject(r);
        if (!ok) {
            drop_connection(x, "SCRIPT LOAD failed");
            return -1;
        }
    }
    x->was_up = true;
    srv_log_msg(x->log, SRV_LOG_INFO, "redis_sessions_up",
                "lifeline.v1 sessions are shared through Redis");
    return 0;
}

bool srv_shared_up(srv_shared *x, int64_t now_ms)
{
    if (!x)
        return false;
    if (x->rc)
        return true;
    if (x->tried_ms && now_ms - x->tried_ms < RETRY_MS)
        return false;
    x->tried_ms = now_ms;
    return open_connection(x) == 0;
}

/* ---- the pipeline --------------------------------------------------------- */

static int enqueue(srv_shared *x, const char *hex, bool report)
{
    if (x->q_count == x->q_cap) {
        size_t cap = x->q_cap ? x->q_cap * 2 : 64;
        pending *q = malloc(cap * sizeof(*q));
        if (!q)
            return -1;
        for (size_t i = 0; i < x->q_count; i++)
            q[i] = x->q[(x->q_head + i) % x->q_cap];
        free(x->q);
        x->q = q;
        x->q_cap = cap;
        x->q_head = 0;
    }
    pending *p = &x->q[(x->q_head + x->q_count++) % x->q_cap];
    snprintf(p->hex, sizeof(p->hex), "%s", hex);
    p->report = report;
    return 0;
}

/* The answer to the oldest pipelined command. */
static void answered(srv_shared *x, redisReply *r)
{
    pending p = x->q[x->q_head];
    x->q_head = (x->q_head + 1) % x->q_cap;
    x->q_count--;
    if (r->type == REDIS_REPLY_ERROR)
        srv_log_msg(x->log, SRV_LOG_WARN, "redis_error", "%s", r->str);
    else if (p.report && r->type == REDIS_REPLY_INTEGER && r->integer != 1)
        x->on_status(p.hex, (int)r->integer, x->ctx);
}

/* Sends what is queued; then reads answers: all of them (wait), or those
 * that have come. Returns 0, or -1 (the connection failed and is down). */
static int settle(srv_shared *x, bool wait)
{
    if (!x->rc)
        return -1;
    int done = 0;
    while (x->queued && !done)
        if (redisBufferWrite(x->rc, &done) != REDIS_OK) {
            drop_connection(x, x->rc->errstr);
            return -1;
        }
    x->queued = false;
    while (x->q_count) {
        void *r = NULL;
        if (redisGetReplyFromReader(x->rc, &r) != REDIS_OK) {
            drop_connection(x, x->rc->errstr);
            return -1;
        }
        if (!r) {
            if (!wait) {
                struct pollfd pfd = {.fd = x->rc->fd, .events = POLLIN};
                if (poll(&pfd, 1, 0) <= 0)
                    return 0;
            }
            if (redisBufferRead(x->rc) != REDIS_OK) { /* blocks at most the timeout */
                drop_connection(x, x->rc->errstr);
                return -1;
            }
            continue;
        }
        answered(x, r);
        freeReplyObject(r);
    }
    return 0;
}

void srv_shared_flush(srv_shared *x)
{
    if (x && x->rc && (x->queued || x->q_count))
        settle(x, false);
}

int srv_shared_sync(srv_shared *x)
{
    return x ? settle(x, true) : -1;
}

/* A round trip after everything pipelined before it. Its settle may call
 * on_status: the callers that hold sessions across it srv_shared_sync
 * first, so that there is nothing left to settle. */
static redisReply *round_trip(srv_shared *x, int argc, const char **argv, const size_t *len)
{
    if (!x->rc || settle(x, true))
        return NULL;
    redisReply *r = redisCommandArgv(x->rc, argc, argv, len);
    if (!r) {
        drop_connection(x, x->rc->errstr);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        srv_log_msg(x->log, SRV_LOG_WARN, "redis_error", "%s", r->str);
        freeReplyObject(r);
        drop_connection(x, "a script failed"); /* NOSCRIPT after a restart, say: load again */
        return NULL;
    }
    return r;
}

/* ---- the commands --------------------------------------------------------- */

static int reply_u64(const redisReply *r, uint64_t *out)
{
    return r->type == REDIS_REPLY_STRING ? srv_shared_u64(r->str, r->len, out) : -1;
}

/* The most arguments a script call below takes (COMMIT builds its own). */
#define SCRIPT_ARGS_MAX 10

/* Fills argv and len (SCRIPT_ARGS_MAX + 2 each) with EVALSHA of script
 * which and its argc arguments: args[i], of lens[i] bytes (lens NULL, or
 * lens[i] 0: a string). Returns the count. */
static int evalsha(const srv_shared *x, int which, int argc, const char **args,
                   const size_t *lens, const char **argv, size_t *len)
{
    argv[0] = "EVALSHA";
    argv[1] = x->sha[which];
    len[0] = 7;
    len[1] = strlen(argv[1]);
    for (int i = 0; i < argc; i++) {
        argv[2 + i] = args[i];
        len[2 + i] = lens && lens[i] ? lens[i] : strlen(args[i]);
    }
    return argc + 2;
}

/* Runs script which with string arguments, as a round trip. */
static redisReply *script(srv_shared *x, int which, int argc, const char **args)
{
    const char *argv[SCRIPT_ARGS_MAX + 2];
    size_t len[SCRIPT_ARGS_MAX + 2];
    return round_trip(x, evalsha(x, which, argc, args, NULL, argv, len), argv, len);
}

/* Waits for the old owner's answer to a release request: 1 (released with
 * its stream whole), 0 (not had, or no answer in time), -1 (Redis failed). */
static int wait_release(srv_shared *x, const char *token)
{
    char secs[16];
    snprintf(secs, sizeof(secs), "%.3f", SRV_SHARED_RELEASE_WAIT_MS / 1000.0);
    /* the socket's timeout must outlast the wait */
    struct timeval tv = {(SRV_SHARED_RELEASE_WAIT_MS + SRV_SHARED_TIMEOUT_MS) / 1000,
                         ((SRV_SHARED_RELEASE_WAIT_MS + SRV_SHARED_TIMEOUT_MS) % 1000) * 1000};
    struct timeval back = {SRV_SHARED_TIMEOUT_MS / 1000, (SRV_SHARED_TIMEOUT_MS % 1000) * 1000};
    if (!x->rc || settle(x, true))
        return -1;
    redisSetTimeout(x->rc, tv);
    redisReply *r = call(x, "BLPOP %s %s", token, secs);
    if (!r) {
        drop_connection(x, x->rc->errstr);
        return -1;
    }
    redisSetTimeout(x->rc, back);
    int got = r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
              r->element[1]->type == REDIS_REPLY_STRING && !strcmp(r->element[1]->str, "1");
    if (r->type == REDIS_REPLY_NIL)
        srv_log_msg(x->log, SRV_LOG_WARN, "session_release_timeout",
                    "the instance that had a lifeline.v1 session did not release it within "
                    "%d ms: its stream starts again",
                    SRV_SHARED_RELEASE_WAIT_MS);
    freeReplyObject(r);
    return got;
}

int srv_shared_claim(srv_shared *x, const char *hex, const char *store, const char *user,
                     srv_shared_record *out)
{
    memset(out, 0, sizeof(*out));
    char hk[SRV_SHARED_KEY_MAX], rk[SRV_SHARED_KEY_MAX], tk[SRV_SHARED_TOKEN_KEY_MAX], ttl[24];
    srv_shared_keys(hex, hk, rk);
    srv_shared_token_key(hex, x->id, tk);
    snprintf(ttl, sizeof(ttl), "%lld", SRV_SHARED_TTL_MS);
    redisReply *r = script(x, CLAIM, 7, (const char *[]){"2", hk, tk, x->id, store, user, hex});
    if (!r)
        return -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
        out->identity = true;
        freeReplyObject(r);
        return 0;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING ||
        r->element[1]->len > SRV_CLUSTER_ID_MAX) {
        freeReplyObject(r);
        drop_connection(x, "a claim's answer does not parse");
        return -1;
    }
    bool wait = !strcmp(r->element[0]->str, "wait");
    memcpy(out->prev, r->element[1]->str, r->element[1]->len);
    out->prev[r->element[1]->len] = 0;
    freeReplyObject(r);
    if (wait) {
        int got = wait_release(x, tk);
        if (got < 0)
            return -1;
        out->released = got == 1;
    }
    r = script(x, TAKE, 7, (const char *[]){"2", hk, rk, x->id, store, user, ttl});
    if (!r)
        return -1;
    uint64_t gap;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 5 || reply_u64(r->element[0], &out->hwm) ||
        reply_u64(r->element[1], &out->epoch) || reply_u64(r->element[2], &out->last) ||
        reply_u64(r->element[3], &gap) || r->element[4]->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        drop_connection(x, "a claim's answer does not parse");
        return -1;
    }
    out->gap = gap != 0;
    const redisReply *ring = r->element[4];
    out->entries = ring->elements ? calloc(ring->elements, sizeof(*out->entries)) : NULL;
    if (ring->elements && !out->entries) {
        out->epoch = 0; /* out of memory: a new stream */
    } else {
        for (size_t i = 0; i < ring->elements; i++) {
            const redisReply *e = ring->element[i];
            srv_shared_entry *o = &out->entries[out->count];
            if (e->type != REDIS_REPLY_STRING || srv_shared_entry_parse(e->str, e->len, o) ||
                (out->count && o->seq != out->entries[out->count - 1].seq + 1)) {
                out->count = 0; /* not a ring of ours: a new stream */
                out->epoch = 0;
                break;
            }
            out->count++;
        }
        if (out->count && out->entries[out->count - 1].seq != out->last)
            out->epoch = 0, out->count = 0;
    }
    out->reply = r;
    return 0;
}

int srv_shared_release(srv_shared *x, const char *hex, const char *claimant, bool had)
{
    if (!x || !x->rc)
        return -1;
    char hk[SRV_SHARED_KEY_MAX], rk[SRV_SHARED_KEY_MAX], tk[SRV_SHARED_TOKEN_KEY_MAX];
    srv_shared_keys(hex, hk, rk);
    srv_shared_token_key(hex, claimant, tk);
    redisReply *r = script(x, RELEASE, 5, (const char *[]){"2", hk, tk, x->id, had ? "1" : "0"});
    if (!r)
        return -1;
    freeReplyObject(r);
    return 0;
}

void srv_shared_claim_done(srv_shared_record *c)
{
    free(c->entries);
    freeReplyObject(c->reply);
    memset(c, 0, sizeof(*c));
}

int srv_shared_commit(srv_shared *x, size_t n, const char *const *hex, const uint64_t *hwm,
                      size_t jn, const srv_shared_journal *j, int *status)
{
    size_t argc = 3 + n + 1 + 3 + n + 2 * jn;
    const char **argv = calloc(argc, sizeof(*argv));
    size_t *len = calloc(argc, sizeof(*len));
    char *keys = malloc(n * SRV_SHARED_KEY_MAX + 1);
    char *nums = malloc((n + jn) * 24 + 64);
    char **entries = jn ? calloc(jn, sizeof(*entries)) : NULL;
    int rc = -1;
    redisReply *r = NULL;
    if (!argv || !len || !keys || !nums || (jn && !entries))
        goto out;
    size_t a = 0;
    char *num = nums, rk[SRV_SHARED_KEY_MAX];
#define NUM(fmt, v)                                                                                \
    (argv[a] = num, len[a] = (size_t)sprintf(num, fmt, v), num += len[a] + 1, a++)
    argv[a++] = "EVALSHA";
    argv[a++] = x->sha[COMMIT];
    NUM("%zu", n + 1);
    for (size_t i = 0; i < n; i++) {
        srv_shared_keys(hex[i], keys + i * SRV_SHARED_KEY_MAX, rk);
        argv[a++] = keys + i * SRV_SHARED_KEY_MAX;
    }
    argv[a++] = SRV_SHARED_JOURNAL;
    argv[a++] = x->id;
    NUM("%lld", SRV_SHARED_TTL_MS);
    NUM("%zu", n);
    for (size_t i = 0; i < n; i++)
        NUM("%llu", (unsigned long long)hwm[i]);
    for (size_t i = 0; i < jn; i++) {
        NUM("%zu", j[i].session + 1);
        char head[LL_WIRE_SESSION_HEX + 32];
        int h = snprintf(head, sizeof(head), "%s %llu %c ", hex[j[i].session],
                         (unsigned long long)j[i].seq, j[i].binary ? 'b' : 't');
        if (!(entries[i] = malloc((size_t)h + j[i].len + 1)))
            goto out;
        memcpy(entries[i], head, (size_t)h);
        if (j[i].len)
            memcpy(entries[i] + h, j[i].payload, j[i].len);
        argv[a] = entries[i];
        len[a++] = (size_t)h + j[i].len;
    }
#undef NUM
    for (size_t i = 0; i < a; i++)
        if (!len[i])
            len[i] = strlen(argv[i]);
    r = round_trip(x, (int)a, argv, len);
    if (!r)
        goto out;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
        drop_connection(x, "a commit's answer does not parse");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        status[i] = r->element[i]->type == REDIS_REPLY_INTEGER ? (int)r->element[i]->integer : 0;
    rc = 0;
out:
    if (r)
        freeReplyObject(r);
    for (size_t i = 0; entries && i < jn; i++)
        free(entries[i]);
    free(entries);
    free(nums);
    free(keys);
    free(len);
    free(argv);
    return rc;
}

static int append(srv_shared *x, const char *hex, bool report, int argc, const char **argv,
                  const size_t *len)
{
    if (!x || !x->rc)
        return -1;
    if (enqueue(x, hex, report))
        return -1;
    if (redisAppendCommandArgv(x->rc, argc, argv, len) != REDIS_OK) {
        x->q_count--;
        return -1;
    }
    x->queued = true;
    return 0;
}

int srv_shared_push(srv_shared *x, const char *hex, uint64_t epoch, uint64_t seq, int64_t wall_ms,
                    bool binary, const void *payload, size_t plen, uint64_t max, uint64_t acked)
{
    if (!x || !x->rc)
        return -1;
    char hk[SRV_SHARED_KEY_MAX], rk[SRV_SHARED_KEY_MAX], e[24], q[24], m[24], k[24], ttl[24];
    char head[SRV_SHARED_ENTRY_HEAD_MAX];
    srv_shared_keys(hex, hk, rk);
    snprintf(e, sizeof(e), "%llu", (unsigned long long)epoch);
    snprintf(q, sizeof(q), "%llu", (unsigned long long)seq);
    snprintf(m, sizeof(m), "%llu", (unsigned long long)max);
    snprintf(k, sizeof(k), "%llu", (unsigned long long)acked);
    snprintf(ttl, sizeof(ttl), "%lld", SRV_SHARED_TTL_MS);
    size_t hl = srv_shared_entry_head(seq, wall_ms, binary, head);
    char *entry = malloc(hl + plen + 1);
    if (!entry)
        return -1;
    memcpy(entry, head, hl);
    if (plen)
        memcpy(entry + hl, payload, plen);
    const char *args[] = {"2", hk, rk, x->id, e, q, entry, m, k, ttl};
    size_t lens[10] = {[6] = hl + plen};
    const char *argv[SCRIPT_ARGS_MAX + 2];
    size_t len[SCRIPT_ARGS_MAX + 2];
    int rc = append(x, hex, true, evalsha(x, PUSH, 10, args, lens, argv, len), argv, len);
    free(entry);
    return rc;
}

int srv_shared_restart(srv_shared *x, const char *hex, uint64_t epoch)
{
    if (!x || !x->rc)
        return -1;
    char hk[SRV_SHARED_KEY_MAX], rk[SRV_SHARED_KEY_MAX], e[24], ttl[24];
    srv_shared_keys(hex, hk, rk);
    snprintf(e, sizeof(e), "%llu", (unsigned long long)epoch);
    snprintf(ttl, sizeof(ttl), "%lld", SRV_SHARED_TTL_MS);
    const char *args[] = {"2", hk, rk, x->id, e, ttl};
    const char *argv[SCRIPT_ARGS_MAX + 2];
    size_t len[SCRIPT_ARGS_MAX + 2];
    return append(x, hex, false, evalsha(x, RESTART, 6, args, NULL, argv, len), argv, len);
}
