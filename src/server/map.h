/* A string-keyed hash map (chained, FNV-1a, doubling) for the server's
 * stores and users. Keys are copied; values are the caller's. Pure. */
#ifndef LL_SERVER_MAP_H
#define LL_SERVER_MAP_H

#include <stddef.h>

typedef struct ll_map_entry {
    struct ll_map_entry *next;
    void *value;
    char key[]; /* NUL-terminated copy */
} ll_map_entry;

typedef struct ll_map {
    ll_map_entry **slots;
    size_t nslots; /* a power of two, or 0 before the first put */
    size_t count;
} ll_map;

/* An empty map (no allocation until the first put). */
void ll_map_init(ll_map *m);

/* Frees the map's own memory (not the values). */
void ll_map_free(ll_map *m);

void *ll_map_get(const ll_map *m, const char *key);

/* Adds or replaces key. Returns 0, or -1 when out of memory. */
int ll_map_put(ll_map *m, const char *key, void *value);

/* Removes key; returns its value or NULL. */
void *ll_map_remove(ll_map *m, const char *key);

/* Calls fn for every entry, in no particular order; fn must not change m. */
void ll_map_each(const ll_map *m, void (*fn)(const char *key, void *value, void *ctx), void *ctx);

#endif
