/* Secrets and redaction; see redact.h. */
#include "client/redact.h"

#include <stdlib.h>
#include <string.h>

#include "lifeline/lifeline.h"

/* The URL's secret parts in order; the first of them with start >= from
 * and at least one byte is the answer. */
int ll_url_next_secret(const char *url, size_t from, ll_span *span)
{
    if (!url)
        return 0;
    size_t n = strlen(url);
    /* a "://" past the first '/', '?' or '#' is inside the path or query */
    const char *scheme_end = strstr(url, "://");
    size_t auth = scheme_end && (size_t)(scheme_end - url) < strcspn(url, "/?#")
                      ? (size_t)(scheme_end - url) + 3
                      : 0;
    size_t auth_end = auth + strcspn(url + auth, "/?#");
    size_t fragment = auth_end + strcspn(url + auth_end, "#");
    const char *q = memchr(url + auth_end, '?', fragment - auth_end);
    size_t query = q ? (size_t)(q - url) : fragment;

    ll_span found[4];
    size_t k = 0;
    /* the userinfo ends at the authority's last '@' */
    for (size_t i = auth_end; i > auth; i--)
        if (url[i - 1] == '@') {
            found[k++] = (ll_span){auth, i - 1 - auth};
            break;
        }
    /* a Discord-style webhook carries its token after /webhooks/ID/ */
    static const char hooks[] = "/webhooks/";
    for (size_t i = auth_end; i + sizeof(hooks) - 1 <= query; i++)
        if (memcmp(url + i, hooks, sizeof(hooks) - 1) == 0) {
            const char *id = url + i + sizeof(hooks) - 1;
            const char *slash = memchr(id, '/', (size_t)(url + query - id));
            if (slash)
                found[k++] = (ll_span){(size_t)(slash + 1 - url), (size_t)(url + query - slash - 1)};
            break;
        }
    for (size_t i = 0; i < k; i++)
        if (found[i].start >= from && found[i].len) {
            *span = found[i];
            return 1;
        }
    /* each query value; an item without '=' may be a token on its own */
    for (size_t p = query + 1; p <= fragment && query < fragment;) {
        const char *amp = memchr(url + p, '&', fragment - p);
        size_t end = amp ? (size_t)(amp - url) : fragment;
        const char *eq = memchr(url + p, '=', end - p);
        size_t value = eq ? (size_t)(eq + 1 - url) : p;
        if (value >= from && end > value) {
            *span = (ll_span){value, end - value};
            return 1;
        }
        p = end + 1;
    }
    if (fragment + 1 < n && fragment + 1 >= from) {
        *span = (ll_span){fragment + 1, n - fragment - 1};
        return 1;
    }
    return 0;
}

int ll_secrets_add(ll_secrets *s, const char *secret, size_t len)
{
    if (len < LL_SECRET_MIN)
        return 0;
    if (s->count == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        char **list = realloc(s->list, cap * sizeof(*list));
        if (!list)
            return -1;
        s->list = list;
        s->cap = cap;
    }
    char *copy = strndup(secret, len);
    if (!copy)
        return -1;
    s->list[s->count++] = copy;
    return 0;
}

int ll_secrets_add_url(ll_secrets *s, const char *url)
{
    ll_span sp;
    for (size_t pos = 0; ll_url_next_secret(url, pos, &sp); pos = sp.start + sp.len)
        if (ll_secrets_add(s, url + sp.start, sp.len))
            return -1;
    return 0;
}

void ll_secrets_free(ll_secrets *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->list[i]);
    free(s->list);
    memset(s, 0, sizeof(*s));
}

void ll_redact(const char *src, char *dst, size_t n, char *const *secrets,
               size_t n_secrets)
{
    size_t o = 0;
    if (n == 0)
        return;
    while (*src && o + 1 < n) {
        /* the longest secret here: with "abc" and "abcdef", "abcdef" must
         * not become "***def" */
        size_t hit = 0;
        for (size_t i = 0; i < n_secrets; i++) {
            size_t len = secrets[i] ? strlen(secrets[i]) : 0;
            if (len >= LL_SECRET_MIN && len > hit && strncmp(src, secrets[i], len) == 0)
                hit = len;
        }
        if (hit) {
            for (const char *r = "***"; *r && o + 1 < n; r++)
                dst[o++] = *r;
            src += hit;
        } else {
            dst[o++] = *src++;
        }
    }
    dst[o] = 0;
}

/* Append the len bytes at s to out (size size) at *o, as snprintf would:
 * *o counts every byte, out keeps what fits with room for the NUL. */
static void put(char *out, size_t size, size_t *o, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++, (*o)++)
        if (*o + 1 < size)
            out[*o] = s[i];
}

size_t lifeline_redact_url(const char *url, char *out, size_t out_size)
{
    size_t o = 0, pos = 0;
    ll_span sp;
    if (url) {
        for (; ll_url_next_secret(url, pos, &sp); pos = sp.start + sp.len) {
            put(out, out_size, &o, url + pos, sp.start - pos);
            put(out, out_size, &o, "***", 3);
        }
        put(out, out_size, &o, url + pos, strlen(url + pos));
    }
    if (out_size)
        out[o < out_size ? o : out_size - 1] = 0;
    return o;
}
