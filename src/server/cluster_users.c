/* Users' last activity through Redis (cluster_users.h). */
#include "server/cluster_users.h"

#include <stdbool.h>
#include <stdlib.h>

#include <hiredis/hiredis.h>

/* A write's answer: an error reply is already counted and logged by
 * cluster.c; a lost answer changes nothing (the next activity writes
 * again). */
static void put_done(const redisReply *reply, void *priv)
{
    (void)reply;
    (void)priv;
}

/* Sends v[0..n) as one command. Returns 0 or -1. */
static int put_batch(srv_cluster *c, const srv_user_put *v, size_t n, int64_t max_users)
{
    srv_redis_argv a;
    if (srv_users_put_argv(v, n, max_users, &a))
        return -1;
    int rc = srv_cluster_command(c, put_done, NULL, a.argc, a.argv, a.argvlen);
    srv_redis_argv_free(&a);
    return rc;
}

int srv_cluster_users_share(srv_cluster *c, const srv_registry *r, int64_t max_users)
{
    if (!r->dirty)
        return 0;
    if (!srv_cluster_up(c))
        return -1;
    srv_user_put batch[SRV_USERS_PUT_MAX];
    size_t n = 0;
    int sent = 0;
    for (const srv_user *u = r->dirty; u; u = u->dirty_next) {
        if (!u->store[0] || u->last_active_ms < 0 || u->last_active_ms > SRV_USERS_MS_MAX)
            continue; /* never active in a store: nothing to say */
        batch[n++] = (srv_user_put){u->name, u->store, u->last_active_ms};
        if (n == SRV_USERS_PUT_MAX) {
            if (put_batch(c, batch, n, max_users))
                return -1;
            sent += (int)n;
            n = 0;
        }
    }
    if (n && put_batch(c, batch, n, max_users))
        return -1;
    return sent + (int)n;
}

struct srv_user_lookup {
    srv_user_lookup_fn *fn;
    void *priv;
    bool cancelled;
};

/* The answer of SRV_USERS_GET_SCRIPT: [score or nil, store or nil]. */
static int read_answer(const redisReply *reply, srv_user_seen *out)
{
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2)
        return -1;
    const redisReply *score = reply->element[0], *store = reply->element[1];
    if ((score->type != REDIS_REPLY_STRING && score->type != REDIS_REPLY_NIL) ||
        (store->type != REDIS_REPLY_STRING && store->type != REDIS_REPLY_NIL))
        return -1;
    bool has_score = score->type == REDIS_REPLY_STRING, has_store = store->type == REDIS_REPLY_STRING;
    return srv_users_parse(has_score ? score->str : NULL, has_score ? score->len : 0,
                           has_store ? store->str : NULL, has_store ? store->len : 0, out);
}

static void got(const redisReply *reply, void *priv)
{
    srv_user_lookup *l = priv;
    if (!l->cancelled) {
        srv_user_seen seen;
        int found = read_answer(reply, &seen);
        l->fn(found, found == 1 ? &seen : NULL, l->priv);
    }
    free(l);
}

srv_user_lookup *srv_cluster_users_lookup(srv_cluster *c, const char *user,
                                          srv_user_lookup_fn *fn, void *priv)
{
    if (!srv_cluster_up(c))
        return NULL;
    srv_user_lookup *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->fn = fn;
    l->priv = priv;
    const char *argv[6];
    size_t argvlen[6];
    srv_users_get_argv(user, argv, argvlen);
    if (srv_cluster_command(c, got, l, 6, argv, argvlen)) {
        free(l);
        return NULL;
    }
    return l;
}

void srv_cluster_users_cancel(srv_user_lookup *l)
{
    if (l)
        l->cancelled = true;
}
