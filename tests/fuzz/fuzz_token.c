/* Auth tokens (src/server/token.c, with base64url.c and names.c). The
 * input is used twice: as a token to verify, and as "user\nstore\nexp" to
 * sign one.
 * Properties: a token that verifies carries valid names and the status
 * agrees with exp and now; a token made from valid names verifies to the
 * same claims, is expired from exp on, and does not verify under another
 * secret or with a character changed; invalid names make no token. */
#include "fuzz.h"
#include "server/token.h"

static const char secret[] = "fuzz-secret";
static const int64_t now = 1700000000;

static void verify_any(const char *tok)
{
    srv_token_claims c;
    srv_token_status st = srv_token_verify(secret, tok, now, &c);
    FUZZ_CHECK(st >= SRV_TOKEN_OK && st <= SRV_TOKEN_EXPIRED);
    FUZZ_CHECK(srv_token_status_name(st) != NULL);
    if (st == SRV_TOKEN_OK || st == SRV_TOKEN_EXPIRED) {
        FUZZ_CHECK(srv_name_valid(c.user, strlen(c.user)));
        FUZZ_CHECK(srv_name_valid(c.store, strlen(c.store)));
        FUZZ_CHECK(st == SRV_TOKEN_OK ? c.exp > now : c.exp <= now);
    }
}

/* exp from the third piece: decimal, with an optional '-'. */
static int64_t parse_exp(const char *s)
{
    bool neg = *s == '-';
    uint64_t v = 0;
    for (s += neg; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (uint64_t)(*s - '0');
    /* cJSON (1.7.15) writes a number with 15 significant digits when that
     * reads back within DBL_EPSILON: 8999999999999999 becomes 9e+15, which
     * verify refuses. So only 15 digits: 30 million years (--ttl allows 10) */
    v %= 1000000000000000ull;
    return neg ? -(int64_t)v : (int64_t)v;
}

static void round_trip(const char *user, const char *store, int64_t exp)
{
    bool valid = srv_name_valid(user, strlen(user)) && srv_name_valid(store, strlen(store));
    char *tok = srv_token_make(secret, user, store, exp);
    FUZZ_CHECK(valid == (tok != NULL));
    if (!tok)
        return;
    FUZZ_CHECK(strlen(tok) <= SRV_TOKEN_MAX);
    srv_token_claims c;
    FUZZ_CHECK(srv_token_verify(secret, tok, exp - 1, &c) == SRV_TOKEN_OK);
    FUZZ_CHECK(!strcmp(c.user, user) && !strcmp(c.store, store) && c.exp == exp);
    FUZZ_CHECK(srv_token_verify(secret, tok, exp, &c) == SRV_TOKEN_EXPIRED);
    FUZZ_CHECK(srv_token_verify("another-secret", tok, exp - 1, &c) == SRV_TOKEN_BAD_SIGNATURE);

    /* change a character of the claims and one of the signature (where
     * depends on exp) to each of a few others */
    static const char swaps[] = "AQgw-_.=";
    size_t len = strlen(tok), dot = (size_t)(strchr(tok, '.') - tok);
    size_t e = (size_t)(exp < 0 ? -exp : exp);
    size_t at[2] = {e % dot, len - 1 - e % 7};
    for (size_t k = 0; k < 2; k++) {
        char was = tok[at[k]];
        for (const char *s = swaps; *s; s++) {
            if (*s == was)
                continue;
            tok[at[k]] = *s;
            srv_token_status st = srv_token_verify(secret, tok, exp - 1, &c);
            FUZZ_CHECK(st == SRV_TOKEN_MALFORMED || st == SRV_TOKEN_BAD_SIGNATURE);
        }
        tok[at[k]] = was;
    }
    free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *whole = fuzz_dup(data, size);
    verify_any(whole);
    free(whole);

    fuzz_in in = fuzz_input(data, size);
    char *user = fuzz_take(&in, '\n', NULL);
    char *store = fuzz_take(&in, '\n', NULL);
    char *exp = fuzz_take(&in, '\n', NULL);
    if (user && store && exp && strlen(user) <= 2 * SRV_NAME_MAX &&
        strlen(store) <= 2 * SRV_NAME_MAX)
        round_trip(user, store, parse_exp(exp));
    free(user);
    free(store);
    free(exp);
    return 0;
}
