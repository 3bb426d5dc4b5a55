/* Users' last activity shared through Redis (--redis), so that any instance
 * can answer GET /api/v1/users/{user}: each instance writes the figures it
 * records, and reads one user's figure on request. The commands go on the
 * cluster's command connection (srv_cluster_command); their form is
 * cluster_users_wire.h's. Nothing here waits: a read answers through a
 * callback. Every function: the service thread only. */
#ifndef SRV_CLUSTER_USERS_H
#define SRV_CLUSTER_USERS_H

#include <stdint.h>

#include "server/cluster.h"
#include "server/cluster_users_wire.h"
#include "server/registry.h"

/* Writes the figures of r's users not yet written to its database (its
 * dirty list: call it before srv_registry_flush), in commands of at most
 * SRV_USERS_PUT_MAX users, keeping at most max_users users in Redis.
 * Returns how many users were sent, or -1 when Redis is not up (or out of
 * memory): those figures are not in Redis, and a user's next activity
 * writes it again. r is only read. */
int srv_cluster_users_share(srv_cluster *c, const srv_registry *r, int64_t max_users);

/* A read in flight (srv_cluster_users_lookup). */
typedef struct srv_user_lookup srv_user_lookup;

/* The answer to a lookup: found 1 (seen: Redis's figure, valid during the
 * call), 0 (Redis has no such user; seen NULL) or -1 (no answer: Redis
 * went away, or answered an error or something that is not a figure;
 * seen NULL). Called once, on the service thread. */
typedef void srv_user_lookup_fn(int found, const srv_user_seen *seen, void *priv);

/* Starts reading user's figure from Redis. Returns the lookup (fn will be
 * called once, unless it is cancelled first), or NULL when Redis is not up,
 * too many commands wait, or out of memory (fn will not be called). The
 * lookup frees itself after fn, or once the answer of a cancelled one
 * comes. */
srv_user_lookup *srv_cluster_users_lookup(srv_cluster *c, const char *user,
                                          srv_user_lookup_fn *fn, void *priv);

/* Cancels l: fn will not be called (its answer, when it comes, is dropped
 * and l freed). Not from inside l's fn. */
void srv_cluster_users_cancel(srv_user_lookup *l);

#endif
