/* Token signing and verification with OpenSSL's HMAC-SHA256 and cJSON. */
#include "server/token.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "server/base64url.h"
#include "server/protocol.h"

#define MAC_LEN 32

static int mac(const char *secret, const char *data, size_t len, unsigned char out[MAC_LEN])
{
    unsigned int n = 0;
    size_t slen = strlen(secret);
    if (slen > (size_t)INT32_MAX)
        return -1;
    if (!HMAC(EVP_sha256(), secret, (int)slen, (const unsigned char *)data, len, out, &n) ||
        n != MAC_LEN)
        return -1;
    return 0;
}

char *srv_token_make(const char *secret, const char *user, const char *store, int64_t exp)
{
    if (!srv_name_valid(user, strlen(user)) || !srv_name_valid(store, strlen(store)))
        return NULL;
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "u", user) ||
        !cJSON_AddStringToObject(o, "s", store) ||
        !cJSON_AddNumberToObject(o, "exp", (double)exp)) {
        cJSON_Delete(o);
        return NULL;
    }
    char *json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!json)
        return NULL;
    size_t jlen = strlen(json);
    size_t plen = srv_b64url_encoded_len(jlen);
    size_t slen = srv_b64url_encoded_len(MAC_LEN);
    char *tok = malloc(plen + 1 + slen + 1);
    unsigned char sig[MAC_LEN];
    if (!tok || !srv_b64url_encode(json, jlen, tok, plen + 1) || mac(secret, tok, plen, sig)) {
        free(json);
        free(tok);
        return NULL;
    }
    free(json);
    tok[plen] = '.';
    srv_b64url_encode(sig, MAC_LEN, tok + plen + 1, slen + 1);
    return tok;
}

static int copy_name(const cJSON *item, char *out)
{
    if (!cJSON_IsString(item))
        return -1;
    size_t len = strlen(item->valuestring);
    if (!srv_name_valid(item->valuestring, len))
        return -1;
    memcpy(out, item->valuestring, len + 1);
    return 0;
}

/* cJSON hands a string over NUL-terminated, without its length: a claim
 * "victim\u0000x" would read as "victim". So a payload with a NUL anywhere,
 * as a raw byte or as the escape \u0000, is refused whole; then strlen of
 * every string is its decoded length. The escapes are walked so that an
 * escaped backslash followed by "u0000" is not taken for one. */
static bool has_nul(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\0')
            return true;
        if (s[i] != '\\' || i + 1 == n)
            continue;
        if (s[i + 1] == 'u' && n - i >= 6 && !memcmp(s + i + 2, "0000", 4))
            return true;
        i++; /* the escaped character */
    }
    return false;
}

static srv_token_status read_claims(const char *part, size_t len, srv_token_claims *claims)
{
    unsigned char json[SRV_TOKEN_MAX];
    long n = srv_b64url_decode(part, len, json, sizeof(json) - 1);
    if (n < 0 || has_nul(json, (size_t)n))
        return SRV_TOKEN_MALFORMED;
    cJSON *o = srv_json_parse_whole((const char *)json, (size_t)n);
    srv_token_status st = SRV_TOKEN_MALFORMED;
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(o, "exp");
    if (cJSON_IsObject(o) &&
        !copy_name(cJSON_GetObjectItemCaseSensitive(o, "u"), claims->user) &&
        !copy_name(cJSON_GetObjectItemCaseSensitive(o, "s"), claims->store) &&
        cJSON_IsNumber(exp) && exp->valuedouble == floor(exp->valuedouble) &&
        fabs(exp->valuedouble) < 9.0e15) {
        claims->exp = (int64_t)exp->valuedouble;
        st = SRV_TOKEN_OK;
    }
    cJSON_Delete(o);
    return st;
}

srv_token_status srv_token_verify(const char *secret, const char *token, int64_t now,
                                  srv_token_claims *claims)
{
    memset(claims, 0, sizeof(*claims));
    if (!token)
        return SRV_TOKEN_MALFORMED;
    size_t len = strlen(token);
    const char *dot = memchr(token, '.', len);
    if (len > SRV_TOKEN_MAX || !dot || dot == token)
        return SRV_TOKEN_MALFORMED;
    size_t plen = (size_t)(dot - token);
    if (memchr(dot + 1, '.', len - plen - 1))
        return SRV_TOKEN_MALFORMED;
    unsigned char want[MAC_LEN], got[MAC_LEN + 1];
    long n = srv_b64url_decode(dot + 1, len - plen - 1, got, sizeof(got));
    if (n != MAC_LEN)
        return SRV_TOKEN_MALFORMED; /* not a SHA-256 HMAC at all */
    if (mac(secret, token, plen, want) || CRYPTO_memcmp(want, got, MAC_LEN))
        return SRV_TOKEN_BAD_SIGNATURE;
    srv_token_status st = read_claims(token, plen, claims);
    if (st != SRV_TOKEN_OK)
        return st;
    return claims->exp <= now ? SRV_TOKEN_EXPIRED : SRV_TOKEN_OK;
}

const char *srv_token_status_name(srv_token_status s)
{
    switch (s) {
    case SRV_TOKEN_OK:
        return "ok";
    case SRV_TOKEN_MALFORMED:
        return "malformed";
    case SRV_TOKEN_BAD_SIGNATURE:
        return "bad signature";
    case SRV_TOKEN_EXPIRED:
        return "expired";
    }
    return "unknown";
}
