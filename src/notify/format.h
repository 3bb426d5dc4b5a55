/* Times and durations as alerts show them. */
#ifndef LL_NOTIFY_FORMAT_H
#define LL_NOTIFY_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* "1h 02m 03s", "4m 05s" or "12.345s". */
void ll_format_duration(int64_t ms, char *out, size_t n);

/* ISO 8601 UTC: "2026-11-26T01:20:00Z", or with_ms "...:00.123Z". */
void ll_format_iso8601(int64_t unix_ms, int with_ms, char *out, size_t n);

#endif
