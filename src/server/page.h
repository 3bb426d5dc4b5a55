/* The status page's files (src/server/status/), compiled into the server
 * by embed.py, and the rules for serving them: which file a path names,
 * their headers, and conditional requests (If-None-Match). Pure. */
#ifndef SRV_PAGE_H
#define SRV_PAGE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct srv_asset {
    const char *name;  /* "index.html", "status.js", ... */
    const char *ctype; /* its Content-Type */
    const unsigned char *data;
    size_t len;
    const char *etag;  /* a strong validator: "\"<16 hex digits of its SHA-256>\"" */
} srv_asset;

/* The generated table (status_assets.c). */
extern const srv_asset srv_assets[];
extern const size_t srv_asset_count;

/* The asset that GET path serves: "/", "/status" -> index.html;
 * "/status/NAME" -> NAME. NULL: none. */
const srv_asset *srv_page_find(const char *path);

/* The same for the name after "/status/" (route.c's parameter); NULL or ""
 * is the page itself. */
const srv_asset *srv_page_asset(const char *name);

/* Does an If-None-Match header's value (NULL: none) match etag (RFC 9110
 * 13.1.2: "*", or a list of entity tags compared weakly)? */
bool srv_page_not_modified(const char *if_none_match, const char *etag);

/* Headers sent with every asset: revalidate each time (the ETag makes it
 * cheap), no sniffing, and a Content-Security-Policy that allows nothing
 * but the page's own script, style, images and requests to this server:
 * no inline script or style, no frames, no form posts, nothing from
 * another origin. */
#define SRV_PAGE_CSP                                                                    \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "         \
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
#define SRV_PAGE_HEADERS                                                                \
    "Cache-Control: no-cache\r\n"                                                       \
    "X-Content-Type-Options: nosniff\r\n"                                               \
    "Referrer-Policy: no-referrer\r\n"                                                  \
    "X-Frame-Options: DENY\r\n"                                                         \
    "Content-Security-Policy: " SRV_PAGE_CSP "\r\n"

#endif
