/* ISO 8601 UTC timestamps with milliseconds: 2026-11-26T00:48:53.123Z. */
#ifndef SRV_ISOTIME_H
#define SRV_ISOTIME_H

#include <stddef.h>
#include <stdint.h>

#define SRV_ISO_LEN 25 /* the text plus its terminator */

/* Formats unix milliseconds into out (at least SRV_ISO_LEN bytes). Returns
 * out, or an empty string for a time it cannot represent. */
char *srv_iso8601(int64_t unix_ms, char *out, size_t outlen);

#endif
