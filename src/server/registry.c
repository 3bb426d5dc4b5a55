/* Stores, users and connections; see registry.h. */
#include "server/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void srv_registry_init(srv_registry *r)
{
    memset(r, 0, sizeof(*r));
    srv_map_init(&r->stores);
    srv_map_init(&r->users);
}

static void free_store(const char *key, void *value, void *ctx)
{
    (void)key;
    (void)ctx;
    srv_store *s = value;
    free(s->name);
    free(s);
}

static void free_user(const char *key, void *value, void *ctx)
{
    (void)key;
    (void)ctx;
    srv_user *u = value;
    free(u->name);
    free(u);
}

void srv_registry_free(srv_registry *r)
{
    srv_map_each(&r->stores, free_store, NULL);
    srv_map_each(&r->users, free_user, NULL);
    srv_map_free(&r->stores);
    srv_map_free(&r->users);
    r->dirty = NULL;
    r->dirty_count = 0;
}

srv_conn *srv_registry_open(srv_registry *r, struct lws *wsi, int64_t now)
{
    srv_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->id = ++r->last_id;
    c->wsi = wsi;
    c->opened_ms = now;
    c->next = r->conns;
    if (r->conns)
        r->conns->prev = c;
    r->conns = c;
    srv_stats_opened(&r->stats, now);
    return c;
}

static srv_user *user_get(srv_registry *r, const char *name)
{
    srv_user *u = srv_map_get(&r->users, name);
    if (u)
        return u;
    u = calloc(1, sizeof(*u));
    if (!u || !(u->name = strdup(name)) || srv_map_put(&r->users, name, u)) {
        if (u)
            free(u->name);
        free(u);
        return NULL;
    }
    return u;
}

static void user_release(srv_registry *r, srv_user *u)
{
    if (u->refs)
        u->refs--;
    if (!u->refs && !u->dirty) {
        srv_map_remove(&r->users, u->name);
        free_user(NULL, u, NULL);
    }
}

int srv_registry_join(srv_registry *r, srv_conn *c, const char *store, const char *user)
{
    srv_store *s = srv_map_get(&r->stores, store);
    bool new_store = !s;
    if (new_store) {
        s = calloc(1, sizeof(*s));
        if (!s || !(s->name = strdup(store)) || srv_map_put(&r->stores, store, s)) {
            if (s)
                free(s->name);
            free(s);
            return -1;
        }
    }
    srv_user *u = user_get(r, user);
    if (!u) {
        if (new_store) {
            srv_map_remove(&r->stores, store);
            free_store(NULL, s, NULL);
        }
        return -1;
    }
    u->refs++;
    c->user = u;
    c->store = s;
    c->sprev = NULL;
    c->snext = s->members;
    if (s->members)
        s->members->sprev = c;
    s->members = c;
    s->count++;
    return 0;
}

void srv_registry_close(srv_registry *r, srv_conn *c, int64_t now)
{
    srv_store *s = c->store;
    if (s) {
        if (c->sprev)
            c->sprev->snext = c->snext;
        else
            s->members = c->snext;
        if (c->snext)
            c->snext->sprev = c->sprev;
        if (--s->count == 0) {
            srv_map_remove(&r->stores, s->name);
            free_store(NULL, s, NULL);
        }
    }
    if (c->user)
        user_release(r, c->user);
    if (c->prev)
        c->prev->next = c->next;
    else
        r->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv_stats_closed(&r->stats, c->opened_ms, now);
    srv_outq_clear(&c->outq);
    free(c->rx);
    free(c->names);
    free(c);
}

void srv_registry_touch(srv_registry *r, srv_conn *c, int64_t wall)
{
    srv_user *u = c->user;
    if (!u || !c->store)
        return;
    if (wall > u->last_active_ms)
        u->last_active_ms = wall;
    if (strcmp(u->store, c->store->name))
        snprintf(u->store, sizeof(u->store), "%s", c->store->name);
    if (!u->dirty) {
        u->dirty = true;
        u->dirty_next = r->dirty;
        r->dirty = u;
        r->dirty_count++;
    }
}

/* srv_db_evict's keep: a user with an open connection. */
static bool connected(const char *user, void *ctx)
{
    const srv_user *u = srv_map_get(&((srv_registry *)ctx)->users, user);
    return u && u->refs;
}

int srv_registry_flush(srv_registry *r, srv_db *db)
{
    /* a table already over the limit (a lower --max-users than last time)
     * is trimmed even with nothing to write */
    if (!r->dirty && !(r->max_users && srv_db_user_count(db) > r->max_users))
        return 0;
    if (srv_db_begin(db))
        return -1;
    for (srv_user *u = r->dirty; u; u = u->dirty_next)
        if (srv_db_put_user(db, u->name, u->store, u->last_active_ms)) {
            srv_db_rollback(db);
            return -1;
        }
    int64_t evicted = 0;
    if (r->max_users && srv_db_user_count(db) > r->max_users)
        evicted = srv_db_evict(db, srv_db_user_count(db) - r->max_users, connected, r);
    if (evicted < 0 || srv_db_commit(db)) {
        srv_db_rollback(db);
        return -1;
    }
    r->evicted += (uint64_t)evicted;
    int n = (int)r->dirty_count;
    srv_user *u = r->dirty;
    r->dirty = NULL;
    r->dirty_count = 0;
    while (u) {
        srv_user *next = u->dirty_next;
        u->dirty = false;
        u->dirty_next = NULL;
        if (!u->refs) {
            srv_map_remove(&r->users, u->name);
            free_user(NULL, u, NULL);
        }
        u = next;
    }
    return n;
}

uint64_t srv_registry_take_evicted(srv_registry *r, int64_t now, bool final)
{
    if (!r->evicted ||
        (r->evicted_reported && now - r->evicted_report_ms < SRV_EVICT_REPORT_EVERY_MS && !final))
        return 0;
    uint64_t n = r->evicted;
    r->evicted = 0;
    r->evicted_report_ms = now;
    r->evicted_reported = true;
    return n;
}

const srv_user *srv_registry_user(const srv_registry *r, const char *name)
{
    return srv_map_get(&r->users, name);
}

srv_store *srv_registry_store(const srv_registry *r, const char *name)
{
    return srv_map_get(&r->stores, name);
}
