/* The cluster's frames and presence records, and the --redis address
 * (cluster_wire.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "server/cluster_wire.h"

static int fail(char *err, size_t errlen, const char *url)
{
    snprintf(err, errlen, "expected redis://host[:port][/db] or unix:/path, got '%s'", url);
    return -1;
}

/* A whole decimal number in [min, max]. */
static int number(const char *s, size_t n, long min, long max, long *out)
{
    if (!n || n > 9)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int srv_redis_url_parse(const char *url, srv_redis_addr *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->port = 6379;
    if (!strncmp(url, "unix:", 5)) {
        const char *p = url + 5;
        if (!strncmp(p, "//", 2))
            p += 2;
        if (*p != '/' || strlen(p) >= sizeof(out->path))
            return fail(err, errlen, url);
        snprintf(out->path, sizeof(out->path), "%s", p);
        return 0;
    }
    if (strncmp(url, "redis://", 8))
        return fail(err, errlen, url);
    const char *h = url + 8, *end;
    if (*h == '[') { /* [IPv6] */
        end = strchr(h, ']');
        if (!end || end == h + 1)
            return fail(err, errlen, url);
        h++;
    } else {
        end = h + strcspn(h, ":/");
    }
    size_t hl = (size_t)(end - h);
    if (!hl || hl >= sizeof(out->host) || memchr(h, '@', hl))
        return fail(err, errlen, url); /* no user:password@ here */
    memcpy(out->host, h, hl);
    const char *p = *end == ']' ? end + 1 : end;
    long v;
    if (*p == ':') {
        size_t n = strcspn(p + 1, "/");
        if (number(p + 1, n, 1, 65535, &v))
            return fail(err, errlen, url);
        out->port = (int)v;
        p += 1 + n;
    }
    if (*p == '/' && p[1]) {
        if (number(p + 1, strlen(p + 1), 0, 15, &v))
            return fail(err, errlen, url);
        out->db = (int)v;
    } else if (*p && strcmp(p, "/")) {
        return fail(err, errlen, url);
    }
    return 0;
}

bool srv_cluster_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (!n || n > SRV_CLUSTER_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return false;
    }
    return true;
}

#define MAGIC "lf1\n"

int srv_fanout_encode(const char *origin, const char *store, bool binary, const void *payload,
                      size_t len, char **out, size_t *out_len)
{
    size_t ol = strlen(origin), sl = strlen(store);
    size_t n = sizeof(MAGIC) - 1 + ol + 1 + sl + 1 + 2 + len;
    char *b = malloc(n ? n : 1);
    if (!b)
        return -1;
    char *p = b;
    memcpy(p, MAGIC, sizeof(MAGIC) - 1);
    p += sizeof(MAGIC) - 1;
    memcpy(p, origin, ol);
    p += ol;
    *p++ = '\n';
    memcpy(p, store, sl);
    p += sl;
    *p++ = '\n';
    *p++ = binary ? 'b' : 't';
    *p++ = '\n';
    if (len)
        memcpy(p, payload, len);
    *out = b;
    *out_len = n;
    return 0;
}

/* The field of bytes [*at, len) up to the next newline; moves *at past it. */
static const char *field(const char *b, size_t len, size_t *at, size_t *n)
{
    const char *nl = memchr(b + *at, '\n', len - *at);
    if (!nl)
        return NULL;
    const char *f = b + *at;
    *n = (size_t)(nl - f);
    *at = (size_t)(nl - b) + 1;
    return f;
}

int srv_fanout_decode(const void *bytes, size_t len, srv_fanout *out)
{
    const char *b = bytes;
    size_t at = sizeof(MAGIC) - 1, kn;
    if (len < at || memcmp(b, MAGIC, at))
        return -1;
    out->origin = field(b, len, &at, &out->origin_len);
    if (!out->origin || !out->origin_len)
        return -1;
    out->store = field(b, len, &at, &out->store_len);
    if (!out->store || !out->store_len)
        return -1;
    const char *kind = field(b, len, &at, &kn);
    if (!kind || kn != 1 || (*kind != 't' && *kind != 'b'))
        return -1;
    out->binary = *kind == 'b';
    out->payload = (const unsigned char *)b + at;
    out->len = len - at;
    return 0;
}

typedef struct encode_ctx {
    cJSON *stores;
    size_t (*count_of)(const void *value);
    int failed;
} encode_ctx;

static void add_count(const char *key, void *value, void *arg)
{
    encode_ctx *e = arg;
    size_t n = e->count_of(value);
    if (n && !cJSON_AddNumberToObject(e->stores, key, (double)n))
        e->failed = 1;
}

char *srv_presence_encode(const char *id, int64_t at_ms, size_t connections,
                          const srv_map *stores, size_t (*count_of)(const void *value))
{
    cJSON *o = cJSON_CreateObject();
    encode_ctx e = {cJSON_CreateObject(), count_of, 0};
    char *text = NULL;
    if (o && e.stores) {
        srv_map_each(stores, add_count, &e);
        cJSON_AddStringToObject(o, "instance", id);
        cJSON_AddNumberToObject(o, "at_ms", (double)at_ms);
        cJSON_AddNumberToObject(o, "connections", (double)connections);
        cJSON_AddItemToObject(o, "stores", e.stores);
        e.stores = NULL;
        if (!e.failed)
            text = cJSON_PrintUnformatted(o);
    }
    cJSON_Delete(e.stores);
    cJSON_Delete(o);
    return text;
}

void srv_cluster_view_init(srv_cluster_view *v)
{
    memset(v, 0, sizeof(*v));
    srv_map_init(&v->stores);
}

void srv_cluster_view_free(srv_cluster_view *v)
{
    srv_map_free(&v->stores);
    memset(v, 0, sizeof(*v));
}

/* A count in a record: a whole number from 0 to SRV_CLUSTER_COUNT_MAX. */
#define SRV_CLUSTER_COUNT_MAX 1e9

static bool count_ok(const cJSON *n)
{
    return cJSON_IsNumber(n) && n->valuedouble >= 0 && n->valuedouble <= SRV_CLUSTER_COUNT_MAX &&
           n->valuedouble == (double)(long long)n->valuedouble;
}

int srv_cluster_view_add(srv_cluster_view *v, const char *json, size_t len)
{
    cJSON *o = cJSON_ParseWithLength(json, len);
    const cJSON *conns = cJSON_GetObjectItemCaseSensitive(o, "connections");
    const cJSON *stores = cJSON_GetObjectItemCaseSensitive(o, "stores");
    if (!count_ok(conns) || !cJSON_IsObject(stores)) {
        cJSON_Delete(o);
        return -1;
    }
    v->instances++;
    v->connections += (size_t)conns->valuedouble;
    const cJSON *st;
    cJSON_ArrayForEach(st, stores)
    {
        if (!count_ok(st) || !st->string)
            continue;
        uintptr_t n = (uintptr_t)srv_map_get(&v->stores, st->string);
        srv_map_put(&v->stores, st->string, (void *)(n + (uintptr_t)st->valuedouble));
    }
    cJSON_Delete(o);
    return 0;
}
