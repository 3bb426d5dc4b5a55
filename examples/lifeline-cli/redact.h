/* Redaction: what lifeline-cli prints never carries a secret from its
 * command line (URL userinfo and query values, header values). */
#ifndef LIFELINE_CLI_REDACT_H
#define LIFELINE_CLI_REDACT_H

#include <stddef.h>

/* A copy of url with the userinfo, every query value and the fragment
 * replaced by three stars: wss://u:p@h/ws?token=abc becomes
 * wss://<stars>@h/ws?token=<stars>.
 * NULL gives NULL. The caller frees the result; NULL also when out of memory. */
char *redact_url(const char *url);

/* A webhook URL with everything after /webhooks/ID/ (the token) and any
 * query replaced by three stars; other URLs as redact_url(). NULL gives
 * NULL. The caller frees the result. */
char *redact_webhook(const char *url);

/* "Name: ***" for the header line "Name: value" (a line without a colon
 * becomes "***"). The caller frees the result. */
char *redact_header(const char *header);

/* The secrets of one command line, to scrub from text the library produces
 * (log lines, reasons) before it is printed: the library promises to remove
 * them itself; this is a second line of defence. */
typedef struct secrets {
    char **find;     /* strings to replace, longest first */
    char **replace;  /* what each becomes */
    size_t count;
} secrets;

/* Collect the secrets of url, health_url, the webhook (whole, and its
 * token; each may be NULL) and headers.
 * Values shorter than 4 bytes are not treated as secrets (they would mangle
 * every number in a log line). Returns 0, or -1 when out of memory. */
int secrets_init(secrets *s, const char *url, const char *health_url,
                 const char *webhook, const char *const *headers, size_t header_count);

/* A copy of text with every secret replaced; the caller frees it. NULL when
 * out of memory. */
char *secrets_scrub(const secrets *s, const char *text);

void secrets_free(secrets *s);

#endif
