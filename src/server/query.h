/* The WebSocket endpoint's query: ?store=S&user=U, or ?token=T when the
 * server has an auth secret. libwebsockets hands the query over already
 * split at '&' and percent-decoded, one "name=value" fragment each; this
 * module turns those fragments into an identity or a refusal. */
#ifndef SRV_QUERY_H
#define SRV_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "server/names.h"
#include "server/token.h"

typedef struct srv_ws_query {
    const char *store; size_t store_len; /* point into the fragments */
    const char *user;  size_t user_len;
    const char *token; size_t token_len;
} srv_ws_query;

/* Collects store, user and token from n fragments. A fragment without '='
 * counts as a name with an empty value; unknown names are ignored. Returns
 * 0, or -1 with a reason in *why when a known name repeats. */
int srv_query_collect(const char *const *frags, size_t n, srv_ws_query *q, const char **why);

typedef struct srv_identity {
    char user[SRV_NAME_MAX + 1];
    char store[SRV_NAME_MAX + 1];
} srv_identity;

/* Decides who is connecting. Without a secret, store and user must be
 * valid names. With one, the token alone says who: a missing, malformed,
 * tampered or expired token gives 401; a store or user parameter that
 * disagrees with the token gives 403. Returns 0 (id filled) or the HTTP
 * status to refuse with, and a reason in *why. now is unix seconds. */
int srv_query_identity(const srv_ws_query *q, const char *secret, int64_t now, srv_identity *id,
                       const char **why);

/* The WWW-Authenticate challenges of a 401 to a /ws upgrade (RFC 9110
 * 11.6.1). The token is a bearer token sent in the query (RFC 6750 2.3,
 * under the name "token": browsers cannot set headers on a WebSocket), so
 * the challenge is RFC 6750's: without a token, the realm alone; with one
 * that is refused (malformed, tampered, expired, another secret's),
 * error="invalid_token" too. */
#define SRV_CHALLENGE_WS "Bearer realm=\"lifeline\""
#define SRV_CHALLENGE_WS_INVALID "Bearer realm=\"lifeline\", error=\"invalid_token\""

/* The challenge for a 401 that srv_query_identity gave for q. */
const char *srv_query_challenge(const srv_ws_query *q);

#endif
