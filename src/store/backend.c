/* The helpers every backend uses: a growable read buffer, and the words
 * of a failure. See backend.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/backend.h"

int ll_outbox_buf_reserve(ll_outbox_buf *buf, size_t n)
{
    if (n < 1)
        n = 1;
    if (n <= buf->cap)
        return 0;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < n)
        cap = cap > SIZE_MAX / 2 ? n : cap * 2;
    unsigned char *p = realloc(buf->p, cap);
    if (!p)
        return -1;
    buf->p = p;
    buf->cap = cap;
    return 0;
}

void ll_outbox_why(char *why, size_t why_size, const char *where, const char *fmt, ...)
{
    if (!why || !why_size)
        return;
    int n = snprintf(why, why_size, "outbox %s: ", where);
    if (n < 0 || (size_t)n >= why_size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why + n, why_size - (size_t)n, fmt, ap);
    va_end(ap);
}
