/* See failure.h: one table, kind to error and permanence; the HTTP status
 * rule for refused upgrades. */
#include "core/failure.h"

#include "lifeline/lifeline.h"

static const struct {
    const char *name;
    int error;
    int permanent;
} kinds[LL_FAIL_COUNT] = {
    [LL_FAIL_NONE] = {"none", LIFELINE_OK, 0},
    [LL_FAIL_DNS] = {"dns", LIFELINE_ERR_DNS, 0},
    [LL_FAIL_REFUSED] = {"refused", LIFELINE_ERR_CONNECTION_REFUSED, 0},
    [LL_FAIL_TIMEOUT] = {"timeout", LIFELINE_ERR_CONNECT_TIMEOUT, 0},
    /* a refused certificate does not fix itself */
    [LL_FAIL_TLS_VERIFY] = {"tls_verify", LIFELINE_ERR_TLS, 1},
    [LL_FAIL_TLS_OTHER] = {"tls_other", LIFELINE_ERR_TLS, 0},
    /* nor does a configuration that cannot be set up */
    [LL_FAIL_TLS_SETUP] = {"tls_setup", LIFELINE_ERR_TLS, 1},
    [LL_FAIL_SETUP] = {"setup", LIFELINE_ERR_TRANSPORT, 1},
    [LL_FAIL_GAVE_UP] = {"gave_up", LIFELINE_ERR_TRANSPORT, 0},
    [LL_FAIL_HTTP_STATUS] = {"http_status", LIFELINE_ERR_HTTP_STATUS, 0}, /* by status */
    [LL_FAIL_PROTOCOL] = {"protocol", LIFELINE_ERR_PROTOCOL, 0},
    /* a server that does not speak lifeline.v1 will not start to */
    [LL_FAIL_SUBPROTOCOL] = {"subprotocol", LIFELINE_ERR_NOT_LIFELINE, 1},
    [LL_FAIL_RESET] = {"reset", LIFELINE_ERR_CONNECTION_RESET, 0},
};

const char *ll_failure_kind_name(int kind)
{
    return kind >= 0 && kind < LL_FAIL_COUNT ? kinds[kind].name : "?";
}

ll_failure_verdict ll_failure_judge(const ll_failure *f)
{
    int k = f->kind > LL_FAIL_NONE && f->kind < LL_FAIL_COUNT ? (int)f->kind : LL_FAIL_RESET;
    ll_failure_verdict v = {.error = kinds[k].error, .permanent = kinds[k].permanent};
    if (k == LL_FAIL_HTTP_STATUS) {
        int s = f->http_status;
        v.http_status = s;
        v.permanent = (s >= 300 && s < 400) ||
                      (s >= 400 && s < 500 && s != 408 && s != 425 && s != 429);
        v.retry_after_ms = (s == 429 || s == 503) && f->retry_after_ms > 0 ? f->retry_after_ms : 0;
    }
    return v;
}
