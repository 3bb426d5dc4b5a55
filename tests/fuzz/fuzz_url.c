/* The client's URL parser (src/transport/url.c): the server URL and the
 * health URL from the app's config, or from the CLI's command line. Input:
 * the URL.
 * Properties: a parsed URL has a port in 1..65535, a non-empty host without
 * '/', '?', '#', '@' or whitespace (nor ':' unless it was in brackets), a
 * path that starts with '/' and has no fragment; what ll_url_display shows
 * parses back to the same scheme, host, port and path without the query,
 * and without the userinfo. */
#include "fuzz.h"
#include "transport/url.h"

static void check_parsed(const char *url, const ll_url *u)
{
    FUZZ_CHECK(u->port >= 1 && u->port <= 65535);
    FUZZ_CHECK(u->host && u->host[0]);
    FUZZ_CHECK(!strpbrk(u->host, "/?#@ \t\r\n"));
    if (strchr(u->host, ':')) /* only an IPv6 literal, given in brackets */
        FUZZ_CHECK(strchr(url, '['));
    FUZZ_CHECK(u->path && u->path[0] == '/' && !strchr(u->path, '#'));
    if (u->userinfo)
        FUZZ_CHECK(!strpbrk(u->userinfo, "/?#"));

    size_t cap = strlen(url) + 64;
    char *shown = malloc(cap);
    ll_url_display(u, shown, cap);
    ll_url back;
    FUZZ_CHECK(ll_url_parse(shown, &back) == 0);
    FUZZ_CHECK(back.secure == u->secure && back.websocket == u->websocket);
    FUZZ_CHECK(back.port == u->port && !strcmp(back.host, u->host));
    FUZZ_CHECK(!back.userinfo);
    size_t plen = strcspn(u->path, "?");
    FUZZ_CHECK(strlen(back.path) == plen && !strncmp(back.path, u->path, plen));
    ll_url_free(&back);
    free(shown);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = fuzz_dup(data, size);
    ll_url u;
    int rc = ll_url_parse(url, &u);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
        check_parsed(url, &u);
        ll_url_free(&u);
    } else {
        FUZZ_CHECK(!u.host && !u.path && !u.userinfo);
    }
    FUZZ_CHECK(!u.host && !u.path && !u.userinfo); /* ll_url_free clears */
    FUZZ_CHECK(ll_url_parse(NULL, &u) == -1);
    free(url);
    return 0;
}
