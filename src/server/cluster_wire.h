/* What lifeline-server instances say to each other through Redis
 * (cluster.c), and the --redis address. Pure: no I/O, no clock.
 *
 * Fan-out: each instance PUBLISHes what it delivers to a store (a client's
 * broadcast, a join or leave notice, an admin broadcast) on one channel,
 * SRV_CLUSTER_CHANNEL, as a frame
 *
 *     "lf1\n" origin "\n" store "\n" ("t" | "b") "\n" payload
 *
 * (origin: the sending instance's id; t: a text message, b: binary), and
 * every other instance delivers it to its own members of that store. An
 * instance drops its own frames (origin). Ids and store names hold no
 * newline (srv_cluster_id_valid; names.c for stores).
 *
 * Presence: each instance keeps SRV_CLUSTER_PRESENCE_PREFIX + id set, with
 * an expiry, to a JSON object {"instance": id, "at_ms": wall ms,
 * "connections": n, "stores": {"store": n, ...}}; an instance that dies
 * stops refreshing it, and it expires. */
#ifndef SRV_CLUSTER_WIRE_H
#define SRV_CLUSTER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/map.h"

#define SRV_CLUSTER_CHANNEL "lifeline:fanout"
#define SRV_CLUSTER_INSTANCES "lifeline:instances"      /* a set of ids */
#define SRV_CLUSTER_PRESENCE_PREFIX "lifeline:presence:" /* + id */
#define SRV_CLUSTER_ID_MAX 64

/* Where Redis is: "redis://host[:port][/db]" (host a name, an IPv4
 * address or [an IPv6 one]; port 6379 by default; db 0-15) or
 * "unix:/path" / "unix:///path". */
typedef struct srv_redis_addr {
    char host[256];        /* empty for a Unix socket */
    int port;
    char path[108];        /* the Unix socket; empty for TCP */
    int db;
} srv_redis_addr;

/* Parses url into *out. Returns 0, or -1 with what is wrong in err
 * ("expected redis://host[:port][/db] or unix:/path, got ..."). */
int srv_redis_url_parse(const char *url, srv_redis_addr *out, char *err, size_t errlen);

/* Whether id can name an instance: 1-64 characters of A-Z a-z 0-9 . _ : -. */
bool srv_cluster_id_valid(const char *id);

/* Writes the fan-out frame into a malloc'd buffer (*out, *out_len).
 * Returns 0, or -1 when out of memory. */
int srv_fanout_encode(const char *origin, const char *store, bool binary, const void *payload,
                      size_t len, char **out, size_t *out_len);

/* A frame read back: views into the bytes given to srv_fanout_decode. */
typedef struct srv_fanout {
    const char *origin;
    size_t origin_len;
    const char *store;
    size_t store_len;
    bool binary;
    const unsigned char *payload;
    size_t len;
} srv_fanout;

/* Reads a frame. Returns 0, or -1 for bytes that are not one (another
 * program's message on the channel, a newer version): they are ignored. */
int srv_fanout_decode(const void *bytes, size_t len, srv_fanout *out);

/* The presence JSON of an instance (malloc'd, NUL-terminated), from its
 * stores: a map of store name -> value, count_of(value) its connections
 * (stores with none are left out). NULL when out of memory. */
char *srv_presence_encode(const char *id, int64_t at_ms, size_t connections,
                          const srv_map *stores, size_t (*count_of)(const void *value));

/* The cluster as the instances' presence says. */
typedef struct srv_cluster_view {
    size_t instances;     /* presence records read */
    size_t connections;   /* their connections in all */
    srv_map stores;       /* store -> (uintptr_t) connections, every instance's */
} srv_cluster_view;

void srv_cluster_view_init(srv_cluster_view *v);
void srv_cluster_view_free(srv_cluster_view *v);

/* Adds one instance's presence JSON to v. Returns 0, or -1 for JSON that is
 * not a presence record (left out): its counts are whole numbers up to a
 * billion (a store's count that is not is left out). */
int srv_cluster_view_add(srv_cluster_view *v, const char *json, size_t len);

#endif
