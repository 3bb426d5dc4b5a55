/* Several instances as one, through Redis (cluster.h). Two connections:
 * one subscribed to the fan-out channel (a subscribed connection takes no
 * other command), one for PUBLISH and the presence records. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/adapters/libev.h>

#include "server/clock.h"
#include "server/cluster.h"
#include "server/server.h"
#include "server/shared_wire.h"

#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 5000
/* Commands sent and not yet answered, at most: past it (Redis connected
 * but not reading) frames are dropped instead of piling up in hiredis's
 * output buffer. */
#define PENDING_MAX 10000

struct srv_cluster {
    srv_server *s;
    srv_redis_addr addr;
    char id[SRV_CLUSTER_ID_MAX + 1];
    char presence_key[sizeof(SRV_CLUSTER_PRESENCE_PREFIX) + SRV_CLUSTER_ID_MAX];
    int64_t ttl_ms;
    redisAsyncContext *pub, *sub;
    bool pub_up, sub_up;       /* connected (sub: and subscribed) */
    bool lost;                 /* a connection was lost: "down" until both are back */
    bool ever_up;
    bool stopping;
    int64_t retry_ms;          /* the next retry's delay */
    srv_timer retry;
    bool retry_armed;
    bool view_pending;         /* a view is being read */
    size_t pending;            /* commands on pub not answered yet */
    srv_cluster_view view;
    int64_t view_at_ms;
    srv_cluster_stats stats;
};

static void connect_missing(srv_server *s);

static void log_state(srv_cluster *c, srv_log_level level, const char *event, const char *why)
{
    srv_log_msg(&c->s->log, level, event, "redis %s%s%s instance=%s",
                c->addr.path[0] ? c->addr.path : c->addr.host, why ? ": " : "", why ? why : "",
                c->id);
}

static void schedule_retry(srv_cluster *c)
{
    if (c->stopping || c->retry_armed)
        return;
    c->retry_armed = true;
    srv_timer_start(&c->retry, c->retry_ms * 1000);
    c->retry_ms = c->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : c->retry_ms * 2;
}

/* A connection is gone (its context freed by hiredis). */
static void lost(srv_cluster *c, bool was_up, const char *why)
{
    c->stats.errors++;
    if (was_up || !c->lost) {
        if (!c->lost)
            log_state(c, SRV_LOG_WARN, "redis_down", why);
        c->lost = true;
    }
    schedule_retry(c);
}

static void both_up(srv_cluster *c)
{
    if (!(c->pub_up && c->sub_up))
        return;
    if (c->lost || !c->ever_up)
        log_state(c, c->ever_up ? SRV_LOG_WARN : SRV_LOG_INFO, "redis_up", NULL);
    if (c->lost)
        c->stats.reconnects++;
    c->lost = false;
    c->ever_up = true;
    c->retry_ms = RETRY_MIN_MS;
    srv_cluster_tick(c, srv_clock_wall_ms()); /* presence out at once */
}

/* ---- the subscriber ------------------------------------------------------ */

static void on_message(redisAsyncContext *ac, void *r, void *arg)
{
    (void)ac;
    srv_cluster *c = arg;
    redisReply *reply = r;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3)
        return; /* NULL: the connection is going */
    const redisReply *kind = reply->element[0], *data = reply->element[2];
    if (kind->type != REDIS_REPLY_STRING)
        return;
    if (!strcmp(kind->str, "subscribe")) {
        const redisReply *channel = reply->element[1];
        if (channel->type != REDIS_REPLY_STRING || strcmp(channel->str, SRV_CLUSTER_CHANNEL))
            return; /* the instance's own channel */
        c->sub_up = true;
        both_up(c);
        return;
    }
    if (strcmp(kind->str, "message") || data->type != REDIS_REPLY_STRING)
        return;
    const redisReply *channel = reply->element[1];
    if (channel->type == REDIS_REPLY_STRING && strcmp(channel->str, SRV_CLUSTER_CHANNEL)) {
        /* this instance's own channel: another asks for a session */
        if (c->s->shared)
            srv_v1_shared_release_asked(c->s, data->str, data->len);
        return;
    }
    srv_fanout f;
    if (srv_fanout_decode(data->str, data->len, &f))
        return; /* not ours */
    if (f.origin_len == strlen(c->id) && !memcmp(f.origin, c->id, f.origin_len))
        return; /* our own, delivered here already */
    char store[SRV_NAME_MAX + 1];
    if (f.store_len > SRV_NAME_MAX)
        return;
    memcpy(store, f.store, f.store_len);
    store[f.store_len] = 0;
    srv_msg *m = srv_msg_new(f.payload, f.len, f.binary);
    if (!m)
        return;
    c->stats.received++;
    srv_store_deliver(c->s, store, m);
    srv_msg_unref(m);
}

static void sub_connected(const redisAsyncContext *ac, int status)
{
    srv_cluster *c = ac->data;
    if (status != REDIS_OK) {
        c->sub = NULL; /* hiredis frees it */
        lost(c, false, ac->errstr);
        return;
    }
    /* and its own channel, which nobody publishes to: while it exists,
     * this instance is alive (shared_wire.h) */
    redisAsyncCommand(c->sub, on_message, c, "SUBSCRIBE %s %s%s", SRV_CLUSTER_CHANNEL,
                      SRV_SHARED_INSTANCE_PREFIX, c->id);
}

static void sub_disconnected(const redisAsyncContext *ac, int status)
{
    srv_cluster *c = ac->data;
    bool was = c->sub_up;
    c->sub = NULL;
    c->sub_up = false;
    if (!c->stopping)
        lost(c, was, status == REDIS_OK ? "closed" : ac->errstr);
}

/* ---- the publisher ------------------------------------------------------- */

static void pub_reply(redisAsyncContext *ac, void *r, void *arg)
{
    (void)arg;
    redisReply *reply = r;
    srv_cluster *c = ac->data;
    if (c->pending)
        c->pending--;
    if (reply && reply->type == REDIS_REPLY_ERROR) {
        c->stats.errors++;
        srv_log_msg(&c->s->log, SRV_LOG_WARN, "redis_error", "%s", reply->str);
    }
}

/* A command on pub whose answer pub_reply checks; counted while pending.
 * Returns REDIS_OK or REDIS_ERR. */
static int command(srv_cluster *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = redisvAsyncCommand(c->pub, pub_reply, NULL, fmt, ap);
    va_end(ap);
    if (rc == REDIS_OK)
        c->pending++;
    return rc;
}

typedef struct call {
    srv_cluster_reply_fn *fn;
    void *priv;
} call;

static void call_reply(redisAsyncContext *ac, void *r, void *arg)
{
    pub_reply(ac, r, NULL);
    call *k = arg;
    k->fn(r, k->priv);
    free(k);
}

bool srv_cluster_up(const srv_cluster *c)
{
    return c && c->pub_up && !c->stopping;
}

int srv_cluster_command(srv_cluster *c, srv_cluster_reply_fn *fn, void *priv, int argc,
                        const char **argv, const size_t *argvlen)
{
    if (!srv_cluster_up(c) || c->pending >= PENDING_MAX)
        return -1;
    call *k = malloc(sizeof(*k));
    if (!k)
        return -1;
    k->fn = fn;
    k->priv = priv;
    if (redisAsyncCommandArgv(c->pub, call_reply, k, argc, argv, argvlen) != REDIS_OK) {
        free(k);
        return -1;
    }
    c->pending++;
    return 0;
}

static void pub_connected(const redisAsyncContext *ac, int status)
{
    srv_cluster *c = ac->data;
    if (status != REDIS_OK) {
        c->pub = NULL;
        lost(c, false, ac->errstr);
        return;
    }
    if (c->addr.db)
        command(c, "SELECT %d", c->addr.db);
    c->pub_up = true;
    both_up(c);
}

static void pub_disconnected(const redisAsyncContext *ac, int status)
{
    srv_cluster *c = ac->data;
    bool was = c->pub_up;
    c->pub = NULL;
    c->pub_up = false;
    c->view_pending = false;
    c->pending = 0;
    if (!c->stopping)
        lost(c, was, status == REDIS_OK ? "closed" : ac->errstr);
}

/* ---- connecting ---------------------------------------------------------- */

static redisAsyncContext *open_one(srv_cluster *c, redisConnectCallback *on_connect,
                                   redisDisconnectCallback *on_disconnect)
{
    redisAsyncContext *ac = c->addr.path[0] ? redisAsyncConnectUnix(c->addr.path)
                                            : redisAsyncConnect(c->addr.host, c->addr.port);
    if (!ac)
        return NULL;
    if (ac->err) {
        lost(c, false, ac->errstr);
        redisAsyncFree(ac);
        return NULL;
    }
    ac->data = c;
    redisLibevAttach(c->s->loop, ac);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    return ac;
}

static void connect_missing(srv_server *s)
{
    srv_cluster *c = s->cluster;
    c->retry_armed = false;
    if (c->stopping)
        return;
    if (!c->pub)
        c->pub = open_one(c, pub_connected, pub_disconnected);
    if (!c->sub)
        c->sub = open_one(c, sub_connected, sub_disconnected);
    if (!c->pub || !c->sub)
        schedule_retry(c);
}

srv_cluster *srv_cluster_start(srv_server *s, const srv_redis_addr *addr, const char *id,
                               int64_t presence_ttl_ms)
{
    srv_cluster *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->s = s;
    c->addr = *addr;
    snprintf(c->id, sizeof(c->id), "%s", id);
    snprintf(c->presence_key, sizeof(c->presence_key), "%s%s", SRV_CLUSTER_PRESENCE_PREFIX, id);
    c->ttl_ms = presence_ttl_ms;
    c->retry_ms = RETRY_MIN_MS;
    srv_cluster_view_init(&c->view);
    srv_timer_init(&c->retry, s->loop, s, connect_missing);
    s->cluster = c;
    connect_missing(s);
    return c;
}

/* How long a stop waits for Redis to take the presence record's removal. */
#define STOP_WAIT_MS 500

void srv_cluster_stop(srv_cluster *c)
{
    if (!c)
        return;
    c->stopping = true;
    if (c->pub_up)
        redisAsyncCommand(c->pub, NULL, NULL, "DEL %s", c->presence_key);
    if (c->sub)
        redisAsyncDisconnect(c->sub);
    /* hiredis sends what is queued and waits for the replies, then calls
     * the disconnect callbacks (which clear c->pub and c->sub); the retry
     * timer bounds the wait */
    if (c->pub)
        redisAsyncDisconnect(c->pub);
    int64_t end = srv_clock_mono_ms() + STOP_WAIT_MS;
    srv_timer_start(&c->retry, STOP_WAIT_MS * 1000);
    while ((c->pub || c->sub) && srv_clock_mono_ms() < end)
        ev_run(c->s->loop, EVRUN_ONCE);
    srv_timer_stop(&c->retry);
    if (c->pub)
        redisAsyncFree(c->pub);
    if (c->sub)
        redisAsyncFree(c->sub);
    srv_cluster_view_free(&c->view);
    c->s->cluster = NULL;
    free(c);
}

/* ---- fan-out and presence ------------------------------------------------ */

void srv_cluster_publish(srv_cluster *c, const char *store, const srv_msg *m)
{
    if (!c->pub_up || c->pending >= PENDING_MAX) {
        c->stats.dropped++;
        return;
    }
    char *frame;
    size_t len;
    if (srv_fanout_encode(c->id, store, m->binary, m->bytes + SRV_MSG_HEADROOM, m->len, &frame,
                          &len)) {
        c->stats.dropped++;
        return;
    }
    if (command(c, "PUBLISH %s %b", SRV_CLUSTER_CHANNEL, frame, len) == REDIS_OK)
        c->stats.published++;
    else
        c->stats.dropped++;
    free(frame);
}

static size_t store_count(const void *value)
{
    return ((const srv_store *)value)->count;
}

/* The records of every instance in the set, read in one step on the Redis
 * side; an instance whose record expired leaves the set there. */
static const char READ_VIEW[] =
    "local out = {} "
    "for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do "
    "  local v = redis.call('GET', ARGV[1] .. id) "
    "  if v then out[#out + 1] = v else redis.call('SREM', KEYS[1], id) end "
    "end "
    "return out";

static void got_view(redisAsyncContext *ac, void *r, void *arg)
{
    (void)arg;
    srv_cluster *c = ac->data;
    redisReply *reply = r;
    c->view_pending = false;
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
        if (reply && reply->type == REDIS_REPLY_ERROR) {
            c->stats.errors++;
            srv_log_msg(&c->s->log, SRV_LOG_WARN, "redis_error", "%s", reply->str);
        }
        return;
    }
    srv_cluster_view v;
    srv_cluster_view_init(&v);
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *rec = reply->element[i];
        if (rec->type == REDIS_REPLY_STRING)
            srv_cluster_view_add(&v, rec->str, rec->len);
    }
    srv_cluster_view_free(&c->view);
    c->view = v;
    c->view_at_ms = srv_clock_wall_ms();
}

void srv_cluster_tick(srv_cluster *c, int64_t now_wall_ms)
{
    if (!c->pub_up)
        return;
    srv_server *s = c->s;
    char *rec = srv_presence_encode(c->id, now_wall_ms, s->reg.stats.active, &s->reg.stores,
                                    store_count);
    if (rec) {
        command(c, "SET %s %s PX %lld", c->presence_key, rec, (long long)c->ttl_ms);
        free(rec);
    }
    command(c, "SADD %s %s", SRV_CLUSTER_INSTANCES, c->id);
    if (!c->view_pending) {
        c->view_pending = true;
        redisAsyncCommand(c->pub, got_view, NULL, "EVAL %s 1 %s %s", READ_VIEW,
                          SRV_CLUSTER_INSTANCES, SRV_CLUSTER_PRESENCE_PREFIX);
    }
}

const char *srv_cluster_state(const srv_cluster *c)
{
    if (c->pub_up && c->sub_up)
        return "up";
    return c->lost ? "down" : "connecting";
}

const char *srv_cluster_id(const srv_cluster *c)
{
    return c->id;
}

const srv_cluster_view *srv_cluster_get_view(const srv_cluster *c, int64_t *read_at_ms)
{
    if (read_at_ms)
        *read_at_ms = c->view_at_ms;
    return &c->view;
}

const srv_cluster_stats *srv_cluster_get_stats(const srv_cluster *c)
{
    return &c->stats;
}
