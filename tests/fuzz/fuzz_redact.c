/* Which parts of a URL are secret, and hiding them (src/client/redact.c):
 * the app's URLs, and a redirect's Location, which the server writes.
 * Input: the URL.
 * Properties: the secret spans are non-empty, in order, inside the URL;
 * lifeline_redact_url is the URL with each span as "***", whatever the size
 * of its buffer (snprintf's contract: the full length back, a NUL-terminated
 * prefix written, nothing with size 0); after ll_redact no secret is left
 * in the text; for a URL the transport parses, the first secret is its
 * userinfo, so both read the authority the same way. */
#include "client/redact.h"
#include "fuzz.h"
#include "lifeline/lifeline.h"
#include "transport/url.h"

/* The URL with every secret span replaced by "***", built here. */
static char *expected_redaction(const char *url)
{
    size_t n = strlen(url), o = 0, pos = 0;
    char *out = malloc(3 * n + 1); /* at worst each byte a span, each span "***" */
    ll_span sp;
    while (ll_url_next_secret(url, pos, &sp)) {
        FUZZ_CHECK(sp.len > 0 && sp.start >= pos && sp.start + sp.len <= n);
        memcpy(out + o, url + pos, sp.start - pos);
        o += sp.start - pos;
        memcpy(out + o, "***", 3);
        o += 3;
        pos = sp.start + sp.len;
    }
    memcpy(out + o, url + pos, n - pos);
    out[o + n - pos] = '\0';
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = fuzz_dup(data, size);
    size_t n = strlen(url);

    char *want = expected_redaction(url);
    size_t wlen = strlen(want);
    FUZZ_CHECK(lifeline_redact_url(url, NULL, 0) == wlen);
    char *out = malloc(wlen + 1);
    FUZZ_CHECK(lifeline_redact_url(url, out, wlen + 1) == wlen && !strcmp(out, want));
    for (size_t k = 1; k <= wlen && k <= 8; k++) { /* too small: a prefix */
        char small[9];
        memset(small, 'x', sizeof(small));
        FUZZ_CHECK(lifeline_redact_url(url, small, k) == wlen);
        FUZZ_CHECK(small[k - 1] == '\0' && !strncmp(small, want, k - 1) && small[k] == 'x');
    }
    free(out);
    free(want);

    ll_secrets s = {0};
    FUZZ_CHECK(ll_secrets_add_url(&s, url) == 0);
    char *clean = malloc(n + 1);
    ll_redact(url, clean, n + 1, s.list, s.count);
    FUZZ_CHECK(strlen(clean) <= n);
    for (size_t i = 0; i < s.count; i++) {
        FUZZ_CHECK(strlen(s.list[i]) >= LL_SECRET_MIN);
        if (!strchr(s.list[i], '*')) /* else "***" itself may spell it */
            FUZZ_CHECK(!strstr(clean, s.list[i]));
    }
    free(clean);
    ll_secrets_free(&s);

    ll_url u;
    if (ll_url_parse(url, &u) == 0) {
        ll_span sp;
        if (u.userinfo && u.userinfo[0]) {
            size_t at = (size_t)(strstr(url, "://") - url) + 3;
            FUZZ_CHECK(ll_url_next_secret(url, 0, &sp) == 1);
            FUZZ_CHECK(sp.start == at && sp.len == strlen(u.userinfo));
        }
        ll_url_free(&u);
    }
    FUZZ_CHECK(ll_url_next_secret(NULL, 0, &(ll_span){0}) == 0);
    free(url);
    return 0;
}
