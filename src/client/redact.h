/* Secrets and how to hide them: which parts of a URL are secret, the set of
 * a client's secrets, and text with every secret replaced by "***".
 * Pure: no I/O, no clock, no lock. The one implementation: the log lines
 * of the client and lifeline_redact_url() (the CLI's --print-config) both
 * come from here. */
#ifndef LL_CLIENT_REDACT_H
#define LL_CLIENT_REDACT_H

#include <stddef.h>

/* A part of a string: where it starts and how long it is. */
typedef struct ll_span {
    size_t start, len;
} ll_span;

/* The first secret part of url that starts at or after from, in *span.
 * The secret parts, in order: the userinfo, a webhook's token (what follows
 * /webhooks/ID/ in the path), each query value (the whole item when it has
 * no '='), the fragment; empty ones are skipped. Returns 1, or 0 when there
 * is none left (url NULL included). */
int ll_url_next_secret(const char *url, size_t from, ll_span *span);

/* Secrets shorter than this are not replaced in text: they would mangle
 * every number in a log line. */
#define LL_SECRET_MIN 3

/* A growable set of secrets; {0} is an empty set. Immutable once built, so
 * any thread may read it then. */
typedef struct ll_secrets {
    char **list; /* heap copies, in the order added */
    size_t count, cap;
} ll_secrets;

/* Add a copy of the len bytes at secret (shorter than LL_SECRET_MIN: not
 * added). Returns 0, or -1 when out of memory. */
int ll_secrets_add(ll_secrets *s, const char *secret, size_t len);

/* Add every secret part of url (see ll_url_next_secret; NULL adds none).
 * Returns 0, or -1 when out of memory. */
int ll_secrets_add_url(ll_secrets *s, const char *url);

void ll_secrets_free(ll_secrets *s);

/* Copy src into dst (size n, NUL-terminated) with each secret (of
 * LL_SECRET_MIN bytes or more) replaced by "***" wherever it occurs. Where
 * several secrets match at one position, the longest is replaced, so no
 * tail of a longer secret is left behind. */
void ll_redact(const char *src, char *dst, size_t n, char *const *secrets,
               size_t n_secrets);

#endif
