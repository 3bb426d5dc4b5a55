/* The string hash map; see map.h. */
#include "server/map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

void srv_map_init(srv_map *m)
{
    memset(m, 0, sizeof(*m));
}

void srv_map_free(srv_map *m)
{
    for (size_t i = 0; i < m->nslots; i++) {
        srv_map_entry *e = m->slots[i];
        while (e) {
            srv_map_entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(m->slots);
    srv_map_init(m);
}

static srv_map_entry **find(const srv_map *m, const char *key)
{
    if (!m->nslots)
        return NULL;
    srv_map_entry **p = &m->slots[hash(key) & (m->nslots - 1)];
    while (*p && strcmp((*p)->key, key))
        p = &(*p)->next;
    return p;
}

void *srv_map_get(const srv_map *m, const char *key)
{
    srv_map_entry **p = find(m, key);
    return p && *p ? (*p)->value : NULL;
}

static int grow(srv_map *m)
{
    size_t n = m->nslots ? m->nslots * 2 : 16;
    srv_map_entry **slots = calloc(n, sizeof(*slots));
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->nslots; i++) {
        srv_map_entry *e = m->slots[i];
        while (e) {
            srv_map_entry *next = e->next;
            size_t at = hash(e->key) & (n - 1);
            e->next = slots[at];
            slots[at] = e;
            e = next;
        }
    }
    free(m->slots);
    m->slots = slots;
    m->nslots = n;
    return 0;
}

int srv_map_put(srv_map *m, const char *key, void *value)
{
    srv_map_entry **p = find(m, key);
    if (p && *p) {
        (*p)->value = value;
        return 0;
    }
    if (m->count + 1 > m->nslots / 4 * 3 && grow(m))
        return -1;
    size_t len = strlen(key);
    srv_map_entry *e = malloc(sizeof(*e) + len + 1);
    if (!e)
        return -1;
    memcpy(e->key, key, len + 1);
    e->value = value;
    size_t at = hash(key) & (m->nslots - 1);
    e->next = m->slots[at];
    m->slots[at] = e;
    m->count++;
    return 0;
}

void *srv_map_remove(srv_map *m, const char *key)
{
    srv_map_entry **p = find(m, key);
    if (!p || !*p)
        return NULL;
    srv_map_entry *e = *p;
    void *v = e->value;
    *p = e->next;
    free(e);
    m->count--;
    return v;
}

void srv_map_each(const srv_map *m, void (*fn)(const char *key, void *value, void *ctx), void *ctx)
{
    for (size_t i = 0; i < m->nslots; i++)
        for (srv_map_entry *e = m->slots[i]; e; e = e->next)
            fn(e->key, e->value, ctx);
}
