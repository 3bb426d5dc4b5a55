/* Auth tokens: base64url(JSON {"u":U,"s":S,"exp":unix_seconds}) "."
 * base64url(HMAC-SHA256(secret, the first part)). Time is a parameter. */
#ifndef SRV_TOKEN_H
#define SRV_TOKEN_H

#include <stdint.h>

#include "server/names.h"

/* Longest token accepted, in characters. */
#define SRV_TOKEN_MAX 2048

typedef enum srv_token_status {
    SRV_TOKEN_OK = 0,
    SRV_TOKEN_MALFORMED,     /* not two base64url parts, or bad claims */
    SRV_TOKEN_BAD_SIGNATURE, /* the HMAC does not match: tampered or other secret */
    SRV_TOKEN_EXPIRED,       /* exp <= now */
} srv_token_status;

typedef struct srv_token_claims {
    char user[SRV_NAME_MAX + 1];
    char store[SRV_NAME_MAX + 1];
    int64_t exp; /* unix seconds */
} srv_token_claims;

/* Signs a token for user/store expiring at exp (unix seconds). Returns a
 * malloc'd string the caller frees, or NULL when a name is invalid or
 * memory runs out. */
char *srv_token_make(const char *secret, const char *user, const char *store, int64_t exp);

/* Checks token against secret at time now (unix seconds). The signature is
 * checked before the claims are read; on SRV_TOKEN_OK (and SRV_TOKEN_EXPIRED)
 * claims holds them. */
srv_token_status srv_token_verify(const char *secret, const char *token, int64_t now,
                                  srv_token_claims *claims);

/* "ok", "malformed", "bad signature", "expired". */
const char *srv_token_status_name(srv_token_status s);

#endif
