/* See format.h. */
#include "notify/format.h"

#include <stdio.h>
#include <time.h>

void ll_format_duration(int64_t ms, char *out, size_t n)
{
    int64_t s = ms / 1000;
    if (s >= 3600)
        snprintf(out, n, "%lldh %02lldm %02llds", (long long)(s / 3600), (long long)(s / 60 % 60),
                 (long long)(s % 60));
    else if (s >= 60)
        snprintf(out, n, "%lldm %02llds", (long long)(s / 60), (long long)(s % 60));
    else
        snprintf(out, n, "%lld.%03llds", (long long)s, (long long)(ms % 1000));
}

void ll_format_iso8601(int64_t unix_ms, int with_ms, char *out, size_t n)
{
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    if (with_ms)
        snprintf(out, n, "%s.%03dZ", base, (int)(unix_ms % 1000));
    else
        snprintf(out, n, "%sZ", base);
}
