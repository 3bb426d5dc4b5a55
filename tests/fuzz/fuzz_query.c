/* The /ws query (src/server/query.c, with names.c, token.c, base64url.c
 * under it). libwebsockets hands the query over split at '&' and
 * percent-decoded; so does this target, with at most 8 fragments like
 * server/ws.c. Input: the query string, "store=s1&user=u1".
 * Properties: collected values point into their fragment; an identity is
 * only ever made of valid names; with a secret, an accepted identity is
 * exactly the one its token verifies to. */
#include "fuzz.h"
#include "server/query.h"

#define MAX_FRAGS 8

static const char secret[] = "fuzz-secret";
static const int64_t now = 1700000000;

static bool points_into(const char *v, size_t len, char *const *frags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t flen = strlen(frags[i]);
        if (v >= frags[i] && v <= frags[i] + flen)
            return v + len == frags[i] + flen && strlen(v) == len;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = fuzz_input(data, size);
    char *frags[MAX_FRAGS];
    size_t n = 0;
    while (n < MAX_FRAGS && (frags[n] = fuzz_take(&in, '&', NULL)))
        n++;

    srv_ws_query q;
    const char *why = NULL;
    int rc = srv_query_collect((const char *const *)frags, n, &q, &why);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc) {
        FUZZ_CHECK(why != NULL);
        goto out;
    }
    FUZZ_CHECK(!q.store || points_into(q.store, q.store_len, frags, n));
    FUZZ_CHECK(!q.user || points_into(q.user, q.user_len, frags, n));
    FUZZ_CHECK(!q.token || points_into(q.token, q.token_len, frags, n));

    srv_identity id;
    why = NULL;
    rc = srv_query_identity(&q, NULL, now, &id, &why);
    FUZZ_CHECK(rc == 0 || (rc == 400 && why));
    if (rc == 0) {
        FUZZ_CHECK(srv_name_valid(id.store, strlen(id.store)));
        FUZZ_CHECK(srv_name_valid(id.user, strlen(id.user)));
        FUZZ_CHECK(strlen(id.store) == q.store_len && !memcmp(id.store, q.store, q.store_len));
        FUZZ_CHECK(strlen(id.user) == q.user_len && !memcmp(id.user, q.user, q.user_len));
    }

    why = NULL;
    rc = srv_query_identity(&q, secret, now, &id, &why);
    FUZZ_CHECK(rc == 0 || ((rc == 401 || rc == 403) && why));
    if (rc == 0) {
        srv_token_claims c;
        char *tok = fuzz_dup(q.token, q.token_len);
        FUZZ_CHECK(srv_token_verify(secret, tok, now, &c) == SRV_TOKEN_OK);
        FUZZ_CHECK(!strcmp(c.store, id.store) && !strcmp(c.user, id.user));
        FUZZ_CHECK(srv_name_valid(id.store, strlen(id.store)));
        FUZZ_CHECK(srv_name_valid(id.user, strlen(id.user)));
        free(tok);
    }
out:
    for (size_t i = 0; i < n; i++)
        free(frags[i]);
    return 0;
}
