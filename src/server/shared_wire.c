/* lifeline.v1 sessions in Redis: keys, scripts, entries (shared_wire.h). */
#include <stdio.h>
#include <string.h>

#include "server/shared_wire.h"

void srv_shared_token_key(const char *hex, const char *claimant, char *key)
{
    snprintf(key, SRV_SHARED_TOKEN_KEY_MAX, SRV_SHARED_PREFIX "%s:released:%s", hex, claimant);
}

void srv_shared_keys(const char *hex, char *hash_key, char *ring_key)
{
    snprintf(hash_key, SRV_SHARED_KEY_MAX, SRV_SHARED_PREFIX "%s", hex);
    snprintf(ring_key, SRV_SHARED_KEY_MAX, SRV_SHARED_PREFIX "%s:ring", hex);
}

/* Marks compare as decimal strings without leading zeros. */
#define GT "local function gt(a, b) if #a ~= #b then return #a > #b end return a > b end\n"

const char SRV_SHARED_CLAIM[] =
    "local h = redis.call('HMGET', KEYS[1], 'owner', 'store', 'user')\n"
    "if h[2] and (h[2] ~= ARGV[2] or h[3] ~= ARGV[3]) then return {'identity'} end\n"
    "local prev = h[1] or ''\n"
    "if prev ~= '' and prev ~= ARGV[1] and\n"
    "   redis.call('PUBSUB', 'NUMSUB', '" SRV_SHARED_INSTANCE_PREFIX "' .. prev)[2] > 0 then\n"
    "  redis.call('DEL', KEYS[2])\n"
    "  redis.call('PUBLISH', '" SRV_SHARED_INSTANCE_PREFIX "' .. prev, 'release ' .. ARGV[4] .. "
    "' ' .. ARGV[1])\n"
    "  return {'wait', prev}\n"
    "end\n"
    "return {'take', prev}\n";

const char SRV_SHARED_TAKE[] =
    "local h = redis.call('HMGET', KEYS[1], 'hwm', 'epoch', 'last', 'gap')\n"
    "redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'store', ARGV[2], 'user', ARGV[3], 'gap', "
    "'0')\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[4])\n"
    "return {h[1] or '0', h[2] or '0', h[3] or '0', h[4] or '0', "
    "redis.call('LRANGE', KEYS[2], 0, -1)}\n";

const char SRV_SHARED_RELEASE[] =
    "if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then\n"
    "  redis.call('HSET', KEYS[1], 'owner', '')\n"
    "else\n"
    "  ARGV[2] = '0'\n"
    "end\n"
    "redis.call('RPUSH', KEYS[2], ARGV[2])\n"
    "redis.call('PEXPIRE', KEYS[2], 10000)\n"
    "return 1\n";

const char SRV_SHARED_COMMIT[] =
    GT
    "local me, ttl, n = ARGV[1], ARGV[2], tonumber(ARGV[3])\n"
    "local st = {}\n"
    "for i = 1, n do\n"
    "  local h = redis.call('HMGET', KEYS[i], 'owner', 'hwm', 'gap')\n"
    "  if h[1] == me then\n"
    "    if gt(ARGV[3 + i], h[2] or '0') then redis.call('HSET', KEYS[i], 'hwm', ARGV[3 + i]) "
    "end\n"
    "    if h[3] == '1' then redis.call('HSET', KEYS[i], 'gap', '0') st[i] = 2 else st[i] = 1 "
    "end\n"
    "    redis.call('PEXPIRE', KEYS[i], ttl)\n"
    "  else\n"
    "    st[i] = 0\n"
    "  end\n"
    "end\n"
    "local j = 4 + n\n"
    "while j < #ARGV do\n"
    "  if st[tonumber(ARGV[j])] ~= 0 then redis.call('RPUSH', KEYS[n + 1], ARGV[j + 1]) end\n"
    "  j = j + 2\n"
    "end\n"
    "return st\n";

const char SRV_SHARED_PUSH[] =
    "local h = redis.call('HMGET', KEYS[1], 'owner', 'epoch', 'gap')\n"
    "if h[1] ~= ARGV[1] then\n"
    "  redis.call('HSET', KEYS[1], 'gap', '1')\n"
    "  redis.call('PEXPIRE', KEYS[1], ARGV[7])\n"
    "  return 0\n"
    "end\n"
    "if h[2] ~= ARGV[2] then\n"
    "  redis.call('DEL', KEYS[2])\n"
    "  redis.call('HSET', KEYS[1], 'epoch', ARGV[2])\n"
    "end\n"
    "local n = redis.call('RPUSH', KEYS[2], ARGV[4])\n"
    "redis.call('HSET', KEYS[1], 'last', ARGV[3])\n"
    "local first = tonumber(ARGV[3]) - n + 1\n"
    "local drop = math.max(n - tonumber(ARGV[5]), tonumber(ARGV[6]) - first + 1)\n"
    "if drop > 0 then redis.call('LTRIM', KEYS[2], drop, -1) end\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[7])\n"
    "redis.call('PEXPIRE', KEYS[2], ARGV[7])\n"
    "if h[3] == '1' then redis.call('HSET', KEYS[1], 'gap', '0') return 2 end\n"
    "return 1\n";

const char SRV_SHARED_RESTART[] =
    "if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end\n"
    "redis.call('DEL', KEYS[2])\n"
    "redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'last', '0', 'gap', '0')\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
    "return 1\n";

size_t srv_shared_entry_head(uint64_t seq, int64_t wall_ms, bool binary, char *head)
{
    int n = snprintf(head, SRV_SHARED_ENTRY_HEAD_MAX, "%llu %lld %c ", (unsigned long long)seq,
                     (long long)wall_ms, binary ? 'b' : 't');
    return n > 0 ? (size_t)n : 0;
}

int srv_shared_u64(const char *p, size_t len, uint64_t *out)
{
    if (!len || len > 20 || (len > 1 && p[0] == '0'))
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* The field of p[0..len) up to the next space: its length, or -1. */
static long field(const char *p, size_t len)
{
    const char *sp = memchr(p, ' ', len);
    return sp ? sp - p : -1;
}

int srv_shared_entry_parse(const char *p, size_t len, srv_shared_entry *out)
{
    long n = field(p, len);
    if (n < 0 || srv_shared_u64(p, (size_t)n, &out->seq) || !out->seq)
        return -1;
    p += n + 1;
    len -= (size_t)n + 1;
    uint64_t wall;
    if ((n = field(p, len)) < 0 || srv_shared_u64(p, (size_t)n, &wall) || wall > INT64_MAX)
        return -1;
    out->wall_ms = (int64_t)wall;
    p += n + 1;
    len -= (size_t)n + 1;
    if (len < 2 || (p[0] != 't' && p[0] != 'b') || p[1] != ' ')
        return -1;
    out->binary = p[0] == 'b';
    out->payload = p + 2;
    out->len = len - 2;
    return 0;
}

bool srv_shared_stream_continues(bool released, bool gap, uint64_t epoch)
{
    return released && !gap && epoch != 0;
}
