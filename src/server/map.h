/* A string-keyed hash map (chained, FNV-1a, doubling) for the server's
 * stores and users. Keys are copied; values are the caller's. Pure. */
#ifndef SRV_MAP_H
#define SRV_MAP_H

#include <stddef.h>

typedef struct srv_map_entry {
    struct srv_map_entry *next;
    void *value;
    char key[]; /* NUL-terminated copy */
} srv_map_entry;

typedef struct srv_map {
    srv_map_entry **slots;
    size_t nslots; /* a power of two, or 0 before the first put */
    size_t count;
} srv_map;

/* An empty map (no allocation until the first put). */
void srv_map_init(srv_map *m);

/* Frees the map's own memory (not the values). */
void srv_map_free(srv_map *m);

void *srv_map_get(const srv_map *m, const char *key);

/* Adds or replaces key. Returns 0, or -1 when out of memory. */
int srv_map_put(srv_map *m, const char *key, void *value);

/* Removes key; returns its value or NULL. */
void *srv_map_remove(srv_map *m, const char *key);

/* Calls fn for every entry, in no particular order; fn must not change m. */
void srv_map_each(const srv_map *m, void (*fn)(const char *key, void *value, void *ctx), void *ctx);

#endif
