/* The status page's files and their rules; see page.h. */
#include "server/page.h"

#include <string.h>

const srv_asset *srv_page_asset(const char *name)
{
    if (!name || !*name)
        name = "index.html";
    for (size_t i = 0; i < srv_asset_count; i++)
        if (!strcmp(srv_assets[i].name, name))
            return &srv_assets[i];
    return NULL;
}

const srv_asset *srv_page_find(const char *path)
{
    static const char prefix[] = "/status/";
    if (!strcmp(path, "/") || !strcmp(path, "/status"))
        return srv_page_asset(NULL);
    if (strncmp(path, prefix, sizeof(prefix) - 1) || !path[sizeof(prefix) - 1])
        return NULL;
    return srv_page_asset(path + sizeof(prefix) - 1);
}

/* The opaque part of an entity tag at *p (W/ dropped), its length in *len;
 * *p moves past it. False at anything that is not one. */
static bool next_tag(const char **p, const char **tag, size_t *len)
{
    const char *s = *p;
    if (s[0] == 'W' && s[1] == '/')
        s += 2;
    if (*s != '"')
        return false;
    const char *end = strchr(s + 1, '"');
    if (!end)
        return false;
    *tag = s;
    *len = (size_t)(end - s) + 1;
    *p = end + 1;
    return true;
}

bool srv_page_not_modified(const char *if_none_match, const char *etag)
{
    if (!if_none_match || !etag)
        return false;
    const char *p = if_none_match;
    size_t elen = strlen(etag);
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            return false;
        if (*p == '*')
            return true;
        const char *tag;
        size_t len;
        if (!next_tag(&p, &tag, &len))
            return false;
        if (len == elen && !memcmp(tag, etag, len))
            return true;
    }
}
