/* A request's Content-Length (src/server/content_length.c), as lifeline-
 * server takes it and as libwebsockets 4.1 reads it. Input: a byte whose low
 * bit says the method is POST, PUT or PATCH, then the header's value.
 * Properties: the server takes a value exactly when it is 1*DIGIT between
 * optional SP and HTAB, at most SRV_LWS_CLEN_MAX bytes, and its number is
 * the digits' (INT64_MAX past that), read from the given bytes only; and
 * whatever it takes, libwebsockets reads the same length (its atoll() of the
 * same copy) and reads a body exactly when that length is not 0. */
#include "fuzz.h"
#include "server/content_length.h"

static bool ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* RFC 9110 8.6 with OWS around, and the number, written apart from the code */
static bool model(const uint8_t *v, size_t n, int64_t *out)
{
    if (n > SRV_LWS_CLEN_MAX)
        return false;
    size_t a = 0, b = n;
    while (a < b && ows(v[a]))
        a++;
    while (b > a && ows(v[b - 1]))
        b--;
    if (a == b)
        return false;
    for (size_t i = a; i < b; i++)
        if (v[i] < '0' || v[i] > '9')
            return false;
    while (a + 1 < b && v[a] == '0')
        a++; /* leading zeros */
    char digits[SRV_LWS_CLEN_MAX + 1];
    memcpy(digits, v + a, b - a);
    digits[b - a] = '\0';
    if (b - a > 19 || (b - a == 19 && strcmp(digits, "9223372036854775807") > 0))
        *out = INT64_MAX;
    else
        *out = (int64_t)strtoull(digits, NULL, 10);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = fuzz_input(data, size);
    bool body_method = fuzz_take_u64(&in, 1) & 1;
    size_t n;
    char *v = fuzz_rest(&in, &n);      /* NUL-terminated, for libc's atoll() */
    char *exact = calloc(n ? n : 1, 1); /* not: a read past n is AddressSanitizer's */
    if (!exact)
        abort();
    memcpy(exact, v, n);

    int64_t got = -7, want = -7;
    bool ok = srv_content_length(exact, n, &got);
    FUZZ_CHECK(ok == model((const uint8_t *)v, n, &want));
    FUZZ_CHECK(got == want); /* and untouched when refused */

    /* libwebsockets' copy: there when the value has at most SRV_LWS_CLEN_MAX
     * bytes; atoll() stops at a NUL as it would in lws's buffer */
    const char *lws = n <= SRV_LWS_CLEN_MAX ? v : NULL;
    bool reads = srv_lws_reads_body(lws, body_method);
    FUZZ_CHECK(reads == (lws ? (unsigned long long)atoll(lws) != 0 : body_method));
    if (ok) {
        FUZZ_CHECK(got >= 0);
        FUZZ_CHECK(lws != NULL);
        /* the body the server expects is the one libwebsockets hands over */
        FUZZ_CHECK((unsigned long long)atoll(lws) == (unsigned long long)got);
        FUZZ_CHECK(reads == (got != 0));
    }
    free(exact);
    free(v);
    return 0;
}
