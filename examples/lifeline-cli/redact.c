/* URL and header redaction, and scrubbing of known secrets from text. */
#include "redact.h"

#include <stdlib.h>
#include <string.h>

enum { MIN_SECRET = 4 };

/* A growable string; on allocation failure it stays failed and yields NULL. */
typedef struct buf {
    char *p;
    size_t len, cap;
    int failed;
} buf;

static void buf_add(buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_adds(buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static char *buf_take(buf *b)
{
    if (b->failed) {
        free(b->p);
        return NULL;
    }
    if (!b->p)
        buf_add(b, "", 0);
    return b->failed ? NULL : b->p;
}

/* The pieces of a URL, as offsets into it. */
typedef struct url_parts {
    size_t authority;  /* start of the authority (after "://"), or 0 */
    size_t at;         /* position of the '@' ending the userinfo, or 0 */
    size_t query;      /* position of '?', or the length */
    size_t fragment;   /* position of '#', or the length */
} url_parts;

static url_parts split_url(const char *url)
{
    url_parts u = {0, 0, 0, 0};
    size_t n = strlen(url);
    const char *scheme_end = strstr(url, "://");
    size_t host = scheme_end ? (size_t)(scheme_end - url) + 3 : 0;
    u.authority = host;
    size_t end = host + strcspn(url + host, "/?#");
    for (size_t i = host; i < end; i++)
        if (url[i] == '@')
            u.at = i;  /* the last '@' ends the userinfo */
    const char *hash = strchr(url, '#');
    u.fragment = hash ? (size_t)(hash - url) : n;
    const char *q = memchr(url, '?', u.fragment);
    u.query = q ? (size_t)(q - url) : u.fragment;
    return u;
}

char *redact_url(const char *url)
{
    if (!url)
        return NULL;
    url_parts u = split_url(url);
    buf b = {0};
    if (u.at) {
        buf_add(&b, url, u.authority);
        buf_adds(&b, "***");
        buf_add(&b, url + u.at, u.query - u.at);
    } else {
        buf_add(&b, url, u.query);
    }
    if (u.query < u.fragment) {
        /* "?a=1&b&c=3" gives "?a=***&***&c=***": a bare item may be a token */
        const char *p = url + u.query + 1, *end = url + u.fragment;
        buf_adds(&b, "?");
        while (p <= end) {
            const char *amp = memchr(p, '&', (size_t)(end - p));
            const char *item_end = amp ? amp : end;
            const char *eq = memchr(p, '=', (size_t)(item_end - p));
            if (eq) {
                buf_add(&b, p, (size_t)(eq - p) + 1);
                if (eq + 1 < item_end)
                    buf_adds(&b, "***");
            } else if (item_end > p) {
                buf_adds(&b, "***");
            }
            if (!amp)
                break;
            buf_adds(&b, "&");
            p = amp + 1;
        }
    }
    if (url[u.fragment] == '#')
        buf_adds(&b, url[u.fragment + 1] ? "#***" : "#");
    return buf_take(&b);
}

char *redact_header(const char *header)
{
    const char *colon = strchr(header, ':');
    buf b = {0};
    if (colon)
        buf_add(&b, header, (size_t)(colon - header));
    buf_adds(&b, colon ? ": ***" : "***");
    return buf_take(&b);
}

static int add_secret(secrets *s, const char *find, size_t n, const char *replace)
{
    if (n < MIN_SECRET)
        return 0;
    char **f = realloc(s->find, (s->count + 1) * sizeof(*f));
    if (!f)
        return -1;
    s->find = f;
    char **r = realloc(s->replace, (s->count + 1) * sizeof(*r));
    if (!r)
        return -1;
    s->replace = r;
    f[s->count] = strndup(find, n);
    r[s->count] = strdup(replace);
    if (!f[s->count] || !r[s->count]) {
        free(f[s->count]);
        free(r[s->count]);
        return -1;
    }
    s->count++;
    return 0;
}

/* The whole URL becomes its redacted form; then its userinfo, query values
 * and fragment each become "***", wherever they appear on their own. */
static int add_url_secrets(secrets *s, const char *url)
{
    if (!url)
        return 0;
    char *redacted = redact_url(url);
    if (!redacted)
        return -1;
    int rc = strcmp(redacted, url) ? add_secret(s, url, strlen(url), redacted) : 0;
    free(redacted);
    if (rc)
        return rc;
    url_parts u = split_url(url);
    if (u.at && add_secret(s, url + u.authority, u.at - u.authority, "***"))
        return -1;
    const char *p = url + u.query + 1, *end = url + u.fragment;
    while (u.query < u.fragment && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *item_end = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(item_end - p));
        const char *value = eq ? eq + 1 : p;
        if (add_secret(s, value, (size_t)(item_end - value), "***"))
            return -1;
        p = item_end + 1;
    }
    if (url[u.fragment] == '#' &&
        add_secret(s, url + u.fragment + 1, strlen(url + u.fragment + 1), "***"))
        return -1;
    return 0;
}

static int longest_first(const void *a, const void *b)
{
    size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);
    return la < lb ? 1 : la > lb ? -1 : 0;
}

/* The token of https://host/api/webhooks/ID/TOKEN: where it starts, or
 * NULL. */
static const char *webhook_token(const char *url)
{
    const char *w = url ? strstr(url, "/webhooks/") : NULL;
    const char *slash = w ? strchr(w + strlen("/webhooks/"), '/') : NULL;
    return slash && slash[1] ? slash + 1 : NULL;
}

char *redact_webhook(const char *url)
{
    const char *tok = webhook_token(url);
    if (!tok)
        return redact_url(url);
    buf b = {0};
    buf_add(&b, url, (size_t)(tok - url));
    buf_adds(&b, "***");
    return buf_take(&b);
}

int secrets_init(secrets *s, const char *url, const char *health_url,
                 const char *webhook, const char *const *headers, size_t header_count)
{
    memset(s, 0, sizeof(*s));
    if (add_url_secrets(s, url) || add_url_secrets(s, health_url))
        goto fail;
    const char *tok = webhook_token(webhook);
    if (webhook && add_secret(s, webhook, strlen(webhook), "***"))
        goto fail;
    if (tok && add_secret(s, tok, strcspn(tok, "?#"), "***"))
        goto fail;
    for (size_t i = 0; i < header_count; i++) {
        const char *colon = strchr(headers[i], ':');
        const char *v = colon ? colon + 1 : headers[i];
        v += strspn(v, " \t");
        size_t n = strlen(v);
        while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
            n--;
        if (add_secret(s, v, n, "***"))
            goto fail;
    }
    /* Sort find and replace together: sort indices through a pair array. */
    if (s->count > 1) {
        char **pairs = malloc(2 * s->count * sizeof(*pairs));
        if (!pairs)
            goto fail;
        for (size_t i = 0; i < s->count; i++) {
            pairs[2 * i] = s->find[i];
            pairs[2 * i + 1] = s->replace[i];
        }
        qsort(pairs, s->count, 2 * sizeof(*pairs), longest_first);
        for (size_t i = 0; i < s->count; i++) {
            s->find[i] = pairs[2 * i];
            s->replace[i] = pairs[2 * i + 1];
        }
        free(pairs);
    }
    return 0;
fail:
    secrets_free(s);
    return -1;
}

char *secrets_scrub(const secrets *s, const char *text)
{
    buf b = {0};
    const char *p = text;
    while (*p) {
        size_t i;
        for (i = 0; i < s->count; i++) {
            size_t n = strlen(s->find[i]);
            if (strncmp(p, s->find[i], n) == 0) {
                buf_adds(&b, s->replace[i]);
                p += n;
                break;
            }
        }
        if (i == s->count)
            buf_add(&b, p++, 1);
    }
    return buf_take(&b);
}

void secrets_free(secrets *s)
{
    for (size_t i = 0; i < s->count; i++) {
        free(s->find[i]);
        free(s->replace[i]);
    }
    free(s->find);
    free(s->replace);
    memset(s, 0, sizeof(*s));
}
