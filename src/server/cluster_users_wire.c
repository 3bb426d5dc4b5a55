/* Users' last activity in Redis: arguments, answers, the newest figure
 * (cluster_users_wire.h). */
#include "server/cluster_users_wire.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The max is taken here, in Redis, so that two instances writing the same
 * user at once cannot move it backwards. Scores are written from the
 * argument's text (exact), compared as numbers. Past the bound, the least
 * recently active go first, at most 10 000 a call (a bound lowered a lot
 * is reached over several writes rather than in one long script); HDEL in
 * slices, within Lua's stack. */
const char SRV_USERS_PUT_SCRIPT[] =
    "local z, h = KEYS[1], KEYS[2] "
    "for i = 2, #ARGV, 3 do "
    "  local u, t = ARGV[i], ARGV[i + 2] "
    "  local old = redis.call('ZSCORE', z, u) "
    "  if not old or tonumber(t) >= tonumber(old) then "
    "    redis.call('ZADD', z, t, u) "
    "    redis.call('HSET', h, u, ARGV[i + 1]) "
    "  end "
    "end "
    "local n = redis.call('ZCARD', z) - tonumber(ARGV[1]) "
    "if n <= 0 then return 0 end "
    "if n > 10000 then n = 10000 end "
    "local gone = redis.call('ZRANGE', z, 0, n - 1) "
    "redis.call('ZREMRANGEBYRANK', z, 0, n - 1) "
    "for i = 1, #gone, 1000 do "
    "  redis.call('HDEL', h, unpack(gone, i, math.min(i + 999, #gone))) "
    "end "
    "return n";

/* A Lua table holding false keeps its length: two nils come back. */
const char SRV_USERS_GET_SCRIPT[] =
    "return {redis.call('ZSCORE', KEYS[1], ARGV[1]), redis.call('HGET', KEYS[2], ARGV[1])}";

/* Room for one figure in decimal, its NUL included. */
#define NUM_LEN 21

int srv_users_put_argv(const srv_user_put *v, size_t n, int64_t max_users, srv_redis_argv *out)
{
    memset(out, 0, sizeof(*out));
    if (!n || n > SRV_USERS_PUT_MAX || max_users < 1)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (v[i].last_active_ms < 0 || v[i].last_active_ms > SRV_USERS_MS_MAX)
            return -1;
    size_t argc = 6 + 3 * n; /* EVAL script 2 key key bound, then the triples */
    out->argv = malloc(argc * sizeof(*out->argv));
    out->argvlen = malloc(argc * sizeof(*out->argvlen));
    out->numbers = malloc((n + 1) * NUM_LEN);
    if (!out->argv || !out->argvlen || !out->numbers) {
        srv_redis_argv_free(out);
        return -1;
    }
    const char *fixed[] = {"EVAL", SRV_USERS_PUT_SCRIPT, "2", SRV_USERS_ACTIVE_KEY,
                           SRV_USERS_STORE_KEY};
    size_t k = 0;
    for (; k < 5; k++) {
        out->argv[k] = fixed[k];
        out->argvlen[k] = strlen(fixed[k]);
    }
    char *num = out->numbers;
    int w = snprintf(num, NUM_LEN, "%" PRId64, max_users);
    out->argv[k] = num;
    out->argvlen[k++] = (size_t)w;
    num += NUM_LEN;
    for (size_t i = 0; i < n; i++, num += NUM_LEN) {
        out->argv[k] = v[i].user;
        out->argvlen[k++] = strlen(v[i].user);
        out->argv[k] = v[i].store;
        out->argvlen[k++] = strlen(v[i].store);
        w = snprintf(num, NUM_LEN, "%" PRId64, v[i].last_active_ms);
        out->argv[k] = num;
        out->argvlen[k++] = (size_t)w;
    }
    out->argc = (int)argc;
    return 0;
}

void srv_redis_argv_free(srv_redis_argv *a)
{
    if (!a)
        return;
    free(a->argv);
    free(a->argvlen);
    free(a->numbers);
    memset(a, 0, sizeof(*a));
}

void srv_users_get_argv(const char *user, const char *argv[6], size_t argvlen[6])
{
    const char *fixed[] = {"EVAL", SRV_USERS_GET_SCRIPT, "2", SRV_USERS_ACTIVE_KEY,
                           SRV_USERS_STORE_KEY, user};
    for (size_t k = 0; k < 6; k++) {
        argv[k] = fixed[k];
        argvlen[k] = strlen(fixed[k]);
    }
}

/* A score as Redis writes a whole number (plain digits; "1e+15" style only
 * past 10^17, beyond SRV_USERS_MS_MAX): 0..SRV_USERS_MS_MAX. */
static int whole(const char *s, size_t n, int64_t *out)
{
    if (!n || n > 16)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v > SRV_USERS_MS_MAX)
        return -1;
    *out = v;
    return 0;
}

int srv_users_parse(const char *score, size_t score_len, const char *store, size_t store_len,
                    srv_user_seen *out)
{
    if (!score)
        return 0;
    int64_t ms;
    if (whole(score, score_len, &ms) || !store || !srv_name_valid(store, store_len))
        return -1;
    memcpy(out->store, store, store_len);
    out->store[store_len] = 0;
    out->last_active_ms = ms;
    return 1;
}

const srv_user_seen *srv_users_newest(const srv_user_seen *a, const srv_user_seen *b)
{
    if (!a || !b)
        return a ? a : b;
    return b->last_active_ms > a->last_active_ms ? b : a;
}
