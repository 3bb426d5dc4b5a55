/* The client's reading of a failed connection into facts
 * (src/transport/classify.c) and the core's judgement of them
 * (src/core/failure.c): the upgrade answer's status line, the Retry-After
 * of a refused upgrade, and libwebsockets' reason text (which carries bytes
 * the server sent), and the excerpt of a refused upgrade's body.
 * Input: two bytes of status, then the text, used as a status line, as
 * Retry-After and as a reason.
 * Properties: a status line gives three digits 100..599 followed by the end
 * or a space, else 0; Retry-After is whole seconds, capped at a day, and
 * exactly "[ \t]*digits[ \t]*" gives a hint (anything else none); a status
 * is permanent exactly when failure.h says, with the hint on 429 and 503
 * only; a reason gives one of the transport's kinds, judged as one of the
 * transport errors, permanent only for a certificate or a 401; a body's
 * excerpt fits its buffer, is printable ASCII with no run of spaces and no
 * space at either end. */
#include "fuzz.h"
#include "transport/classify.h"
#include "lifeline/lifeline.h"

static int64_t retry_after_rule(const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v < '0' || *v > '9')
        return 0;
    int64_t s = 0;
    for (; *v >= '0' && *v <= '9'; v++)
        if (s <= 86400)
            s = s * 10 + (*v - '0');
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v)
        return 0;
    return (s > 86400 ? 86400 : s) * 1000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = fuzz_input(data, size);
    int status = (int)(fuzz_take_u64(&in, 2) % 1000);
    size_t len;
    char *text = fuzz_rest(&in, &len);

    int64_t ra = ll_parse_retry_after(text);
    FUZZ_CHECK(ra == retry_after_rule(text));
    FUZZ_CHECK(ra >= 0 && ra <= 86400 * 1000 && ra % 1000 == 0);
    FUZZ_CHECK(ll_parse_retry_after(NULL) == 0);

    ll_failure f = ll_failure_http(status, text);
    FUZZ_CHECK(f.kind == LL_FAIL_HTTP_STATUS && f.http_status == status && f.retry_after_ms == ra);
    ll_failure_verdict v = ll_failure_judge(&f);
    FUZZ_CHECK(v.error == LIFELINE_ERR_HTTP_STATUS && v.http_status == status);
    bool permanent = (status >= 300 && status < 400) ||
                     (status >= 400 && status < 500 && status != 408 && status != 425 &&
                      status != 429);
    FUZZ_CHECK(v.permanent == permanent);
    FUZZ_CHECK(v.retry_after_ms == (status == 429 || status == 503 ? ra : 0));

    /* the text as a status line after "HTTP/1.1 ", exactly len bytes */
    int want_status = 0;
    if (len >= 3 && (len == 3 || text[3] == ' ') && text[0] >= '1' && text[0] <= '5' &&
        text[1] >= '0' && text[1] <= '9' && text[2] >= '0' && text[2] <= '9')
        want_status = (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
    char *line = malloc(len ? len : 1);
    memcpy(line, text, len);
    FUZZ_CHECK(ll_parse_http_status(line, len) == want_status);
    free(line);
    FUZZ_CHECK(ll_parse_http_status(NULL, len) == 0);

    f = ll_failure_from_lws_text(text);
    FUZZ_CHECK(f.kind > LL_FAIL_NONE && f.kind < LL_FAIL_COUNT);
    FUZZ_CHECK(f.retry_after_ms == 0 && f.sys_errno >= 0);
    v = ll_failure_judge(&f);
    switch (v.error) {
    case LIFELINE_ERR_HTTP_STATUS:
        FUZZ_CHECK(v.http_status == 401 && v.permanent);
        break;
    case LIFELINE_ERR_TLS:
        FUZZ_CHECK(v.http_status == 0 && v.permanent == (f.kind == LL_FAIL_TLS_VERIFY));
        break;
    case LIFELINE_ERR_DNS:
    case LIFELINE_ERR_CONNECTION_REFUSED:
    case LIFELINE_ERR_PROTOCOL:
    case LIFELINE_ERR_CONNECTION_RESET:
        FUZZ_CHECK(v.http_status == 0 && !v.permanent);
        break;
    default:
        FUZZ_FAIL("an error a failed connection cannot have");
    }
    FUZZ_CHECK(v.retry_after_ms == 0);
    /* the text as a refused upgrade's body, into buffers of 4 to 83 bytes */
    size_t n = 4 + (size_t)status % 80;
    char *excerpt = malloc(n);
    size_t k = ll_body_excerpt(text, len, excerpt, n);
    FUZZ_CHECK(k < n && strlen(excerpt) == k);
    for (size_t i = 0; i < k; i++) {
        FUZZ_CHECK(excerpt[i] >= 0x20 && excerpt[i] < 0x7f);
        FUZZ_CHECK(!(excerpt[i] == ' ' && (i == 0 || i + 1 == k || excerpt[i + 1] == ' ')));
    }
    free(excerpt);

    f = ll_failure_from_lws_text(NULL);
    FUZZ_CHECK(f.kind == LL_FAIL_RESET && !ll_failure_judge(&f).permanent);
    free(text);
    return 0;
}
