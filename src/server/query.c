/* The identity rules for /ws; see query.h. */
#include "server/query.h"

#include <string.h>

static int take(const char *frag, const char *name, const char **val, size_t *len,
                const char **why)
{
    size_t nlen = strlen(name);
    if (strncmp(frag, name, nlen) || (frag[nlen] != '=' && frag[nlen] != '\0'))
        return 0; /* not this one */
    if (*val) {
        *why = "a query parameter is repeated";
        return -1;
    }
    *val = frag[nlen] ? frag + nlen + 1 : frag + nlen;
    *len = strlen(*val);
    return 1;
}

int srv_query_collect(const char *const *frags, size_t n, srv_ws_query *q, const char **why)
{
    memset(q, 0, sizeof(*q));
    for (size_t i = 0; i < n; i++) {
        int r = take(frags[i], "store", &q->store, &q->store_len, why);
        if (!r)
            r = take(frags[i], "user", &q->user, &q->user_len, why);
        if (!r)
            r = take(frags[i], "token", &q->token, &q->token_len, why);
        if (r < 0)
            return -1;
    }
    return 0;
}

static int copy(char *dst, const char *src, size_t len)
{
    if (!srv_name_valid(src, len))
        return -1;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return 0;
}

static int same(const char *param, size_t len, const char *claim)
{
    return !param || (strlen(claim) == len && !memcmp(param, claim, len));
}

int srv_query_identity(const srv_ws_query *q, const char *secret, int64_t now, srv_identity *id,
                       const char **why)
{
    memset(id, 0, sizeof(*id));
    if (!secret) {
        if (!q->store || !q->user) {
            *why = "store and user are required";
            return 400;
        }
        if (copy(id->store, q->store, q->store_len) || copy(id->user, q->user, q->user_len)) {
            *why = "store and user must be 1..128 bytes of UTF-8 without control characters";
            return 400;
        }
        return 0;
    }
    if (!q->token || !q->token_len) {
        *why = "token required";
        return 401;
    }
    char tok[SRV_TOKEN_MAX + 1];
    if (q->token_len > SRV_TOKEN_MAX) {
        *why = "token malformed";
        return 401;
    }
    memcpy(tok, q->token, q->token_len);
    tok[q->token_len] = '\0';
    srv_token_claims c;
    switch (srv_token_verify(secret, tok, now, &c)) {
    case SRV_TOKEN_OK:
        break;
    case SRV_TOKEN_EXPIRED:
        *why = "token expired";
        return 401;
    case SRV_TOKEN_BAD_SIGNATURE:
        *why = "token signature invalid";
        return 401;
    default:
        *why = "token malformed";
        return 401;
    }
    if (!same(q->store, q->store_len, c.store)) {
        *why = "token is for another store";
        return 403;
    }
    if (!same(q->user, q->user_len, c.user)) {
        *why = "token is for another user";
        return 403;
    }
    memcpy(id->store, c.store, sizeof(id->store));
    memcpy(id->user, c.user, sizeof(id->user));
    return 0;
}

const char *srv_query_challenge(const srv_ws_query *q)
{
    return q->token && q->token_len ? SRV_CHALLENGE_WS_INVALID : SRV_CHALLENGE_WS;
}
