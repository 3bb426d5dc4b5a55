/* Several lifeline-server instances as one: store fan-out through Redis
 * pub/sub, and a cluster-wide view of the connections from the instances'
 * presence records (cluster_wire.h). hiredis's asynchronous client on the
 * server's libev loop (its adapters/libev.h): nothing here blocks, except
 * resolving a Redis host name at each connection attempt.
 *
 * Redis down, or restarted: each instance serves its own connections as
 * before; fan-out to the others is lost meanwhile (counted, logged once);
 * the connections are retried with backoff (100 ms doubling to 5 s) and
 * fan-out resumes when they are back. A Redis that is connected but does
 * not read gets at most 10 000 commands waiting; past that, frames are
 * dropped (counted) rather than held. Instance ids must be unique: an
 * instance drops the frames that carry its own id. The service thread
 * only. */
#ifndef SRV_CLUSTER_H
#define SRV_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/cluster_wire.h"
#include "server/outq.h"

struct srv_server;
typedef struct srv_cluster srv_cluster;

/* Counters, for stats and metrics. */
typedef struct srv_cluster_stats {
    uint64_t published;     /* frames sent to Redis */
    uint64_t received;      /* frames of other instances delivered here */
    uint64_t dropped;       /* frames not sent: Redis was down */
    uint64_t errors;        /* failed connections and commands */
    uint64_t reconnects;    /* connections made again after a loss */
} srv_cluster_stats;

/* Starts joining the cluster at addr as id: connects (asynchronously) and
 * keeps retrying. Returns the cluster, or NULL when out of memory. */
srv_cluster *srv_cluster_start(struct srv_server *s, const srv_redis_addr *addr, const char *id,
                               int64_t presence_ttl_ms);

/* Leaves: deletes this instance's presence if Redis is there, closes the
 * connections, frees c. NULL is fine. */
void srv_cluster_stop(srv_cluster *c);

/* Sends m, delivered here to store's members, to the other instances. */
void srv_cluster_publish(srv_cluster *c, const char *store, const srv_msg *m);

/* Once a second: this instance's presence out, the cluster's view in. */
void srv_cluster_tick(srv_cluster *c, int64_t now_wall_ms);

/* "up" (both connections), "connecting", or "down" (since a loss). */
const char *srv_cluster_state(const srv_cluster *c);

const char *srv_cluster_id(const srv_cluster *c);

/* Whether the command connection is up (srv_cluster_command can send). */
bool srv_cluster_up(const srv_cluster *c);

struct redisReply;

/* The answer to a srv_cluster_command: reply, or NULL when the connection
 * went before it came (the command may or may not have run). Called once,
 * on the service thread; reply is hiredis's, valid during the call. */
typedef void srv_cluster_reply_fn(const struct redisReply *reply, void *priv);

/* For the other modules that keep state in Redis: sends the command of
 * argc arguments (argv[i], argvlen[i] bytes each; copied) on the command
 * connection, in order with the fan-out frames. Returns 0 (fn will be
 * called), or -1 when Redis is not up or too many commands are waiting
 * (fn will not be called). An error reply is counted and logged here,
 * then passed to fn. */
int srv_cluster_command(srv_cluster *c, srv_cluster_reply_fn *fn, void *priv, int argc,
                        const char **argv, const size_t *argvlen);

/* The latest view of the cluster (this instance's own counts included
 * once its first record is read back), and when it was read (wall ms; 0:
 * not yet). */
const srv_cluster_view *srv_cluster_get_view(const srv_cluster *c, int64_t *read_at_ms);

const srv_cluster_stats *srv_cluster_get_stats(const srv_cluster *c);

#endif
