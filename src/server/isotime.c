/* ISO 8601 formatting without the C library's locale or time zone. */
#include "server/isotime.h"

#include <stdio.h>

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm). */
static void civil(int64_t days, int64_t *y, int *m, int *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

char *srv_iso8601(int64_t unix_ms, char *out, size_t outlen)
{
    if (outlen < SRV_ISO_LEN) {
        if (outlen)
            out[0] = '\0';
        return out;
    }
    int64_t secs = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
    int ms = (int)(unix_ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int sod = (int)(secs - days * 86400);
    int64_t y;
    int m, d;
    civil(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        out[0] = '\0';
        return out;
    }
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, m, d, sod / 3600,
             sod / 60 % 60, sod % 60, ms);
    return out;
}
