/* See pong.h. */
#include "transport/pong.h"

#include <stdlib.h>
#include <string.h>

int ll_app_pong_ts(const void *data, size_t len, long long *ts)
{
    const unsigned char *d = data;
    if (len > 256 || len < 10 || d[0] != '{')
        return 0;
    char buf[257];
    memcpy(buf, d, len);
    buf[len] = 0;
    if (!strstr(buf, "\"pong\""))
        return 0;
    const char *t = strstr(buf, "\"ts\"");
    if (!t || !(t = strchr(t + 4, ':')))
        return 0;
    *ts = strtoll(t + 1, NULL, 10);
    return 1;
}
