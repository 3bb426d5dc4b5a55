/* Auth tokens: base64url(JSON {"u":U,"s":S,"exp":unix_seconds}) "."
 * base64url(HMAC-SHA256(secret, the first part)). Time is a parameter. */
#ifndef LL_SERVER_TOKEN_H
#define LL_SERVER_TOKEN_H

#include <stdint.h>

#include "server/names.h"

/* Longest token accepted, in characters. */
#define LL_TOKEN_MAX 2048

typedef enum ll_token_status {
    LL_TOKEN_OK = 0,
    LL_TOKEN_MALFORMED,     /* not two base64url parts, or bad claims */
    LL_TOKEN_BAD_SIGNATURE, /* the HMAC does not match: tampered or other secret */
    LL_TOKEN_EXPIRED,       /* exp <= now */
} ll_token_status;

typedef struct ll_token_claims {
    char user[LL_NAME_MAX + 1];
    char store[LL_NAME_MAX + 1];
    int64_t exp; /* unix seconds */
} ll_token_claims;

/* Signs a token for user/store expiring at exp (unix seconds). Returns a
 * malloc'd string the caller frees, or NULL when a name is invalid or
 * memory runs out. */
char *ll_token_make(const char *secret, const char *user, const char *store, int64_t exp);

/* Checks token against secret at time now (unix seconds). The signature is
 * checked before the claims are read; on LL_TOKEN_OK (and LL_TOKEN_EXPIRED)
 * claims holds them. */
ll_token_status ll_token_verify(const char *secret, const char *token, int64_t now,
                                ll_token_claims *claims);

/* "ok", "malformed", "bad signature", "expired". */
const char *ll_token_status_name(ll_token_status s);

#endif
