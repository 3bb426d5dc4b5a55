/* Fault modes: names, request parsing, expiry. See fault.h. */
#include "server/fault.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "server/protocol.h"

static const char *const names[SRV_FAULT_MODE_COUNT] = {
    [SRV_FAULT_NONE] = "none",
    [SRV_FAULT_BLACKHOLE] = "blackhole",
    [SRV_FAULT_REFUSE] = "refuse",
    [SRV_FAULT_REJECT_401] = "reject_401",
    [SRV_FAULT_ACCEPT_THEN_CLOSE] = "accept_then_close",
    [SRV_FAULT_CLOSE_ALL] = "close_all",
    [SRV_FAULT_DELAY_PONGS] = "delay_pongs",
};

const char *srv_fault_mode_name(srv_fault_mode m)
{
    return (unsigned)m < SRV_FAULT_MODE_COUNT ? names[m] : "unknown";
}

int srv_fault_mode_from_name(const char *name, srv_fault_mode *m)
{
    for (int i = 0; i < SRV_FAULT_MODE_COUNT; i++)
        if (!strcmp(names[i], name)) {
            *m = (srv_fault_mode)i;
            return 0;
        }
    return -1;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* An optional integer member in [min, max]; absent or null leaves *out. */
static int member(const cJSON *o, const char *key, int64_t min, int64_t max, int64_t *out,
                  char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
        v->valuedouble < (double)min || v->valuedouble > (double)max)
        return fail(err, errlen, "%s must be an integer in %lld..%lld", key, (long long)min,
                    (long long)max);
    *out = (int64_t)v->valuedouble;
    return 0;
}

int srv_fault_parse(const char *body, size_t len, srv_fault_request *req, char *err, size_t errlen)
{
    memset(req, 0, sizeof(*req));
    cJSON *o = srv_json_parse_whole(body, len);
    int rc = -1;
    if (!cJSON_IsObject(o)) {
        fail(err, errlen, "body must be a JSON object");
        goto out;
    }
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(o, "mode");
    if (!cJSON_IsString(mode)) {
        fail(err, errlen, "mode is required (a string)");
        goto out;
    }
    if (srv_fault_mode_from_name(mode->valuestring, &req->mode)) {
        fail(err, errlen, "unknown mode \"%.64s\"", mode->valuestring);
        goto out;
    }
    if (member(o, "duration_ms", 1, 86400000, &req->duration_ms, err, errlen) ||
        member(o, "delay_ms", 1, 600000, &req->delay_ms, err, errlen) ||
        member(o, "retry_after_s", 1, 86400, &req->retry_after_s, err, errlen))
        goto out;
    if (req->mode == SRV_FAULT_DELAY_PONGS && !req->delay_ms) {
        fail(err, errlen, "delay_pongs needs delay_ms");
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(o);
    return rc;
}

void srv_fault_apply(srv_fault_state *st, const srv_fault_request *req, int64_t now)
{
    memset(st, 0, sizeof(*st));
    st->since_ms = now;
    if (req->mode == SRV_FAULT_CLOSE_ALL)
        return; /* a one-shot action, then normal service */
    st->mode = req->mode;
    st->until_ms = req->duration_ms ? now + req->duration_ms : 0;
    st->delay_ms = req->delay_ms;
    st->retry_after_s = req->retry_after_s;
}

bool srv_fault_expire(srv_fault_state *st, int64_t now, srv_fault_mode *ended)
{
    if (st->mode == SRV_FAULT_NONE || !st->until_ms || now < st->until_ms)
        return false;
    *ended = st->mode;
    memset(st, 0, sizeof(*st));
    st->since_ms = now;
    return true;
}

int64_t srv_fault_retry_after_s(const srv_fault_state *st, int64_t now)
{
    if (st->retry_after_s)
        return st->retry_after_s;
    if (st->until_ms > now)
        return (st->until_ms - now + 999) / 1000;
    return 1;
}
