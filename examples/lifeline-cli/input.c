/* The bounded line splitter. */
#include "input.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void line_reader_init(line_reader *r, size_t max)
{
    memset(r, 0, sizeof(*r));
    /* max + 1 must not overflow; nobody sends a line that long anyway */
    r->max = max < SIZE_MAX / 2 ? max : SIZE_MAX / 2;
}

static void deliver(line_reader *r, line_fn fn, void *user_data)
{
    size_t len = r->len;
    if (!r->dropped && len && r->buf[len - 1] == '\r')
        len--;
    fn(r->buf ? r->buf : "", len, r->dropped > 0, user_data);
    r->len = 0;
    r->dropped = 0;
}

static int append(line_reader *r, const char *data, size_t n)
{
    /* one byte more than max, to hold a '\r' that "\r\n" would remove */
    size_t room = r->max + 1 - r->len;
    if (n > room) {
        r->dropped += n - room;
        n = room;
    }
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 256;
        while (cap < r->len + n + 1)
            cap *= 2;
        char *p = realloc(r->buf, cap);
        if (!p)
            return -1;
        r->buf = p;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, data, n);
    r->len += n;
    r->buf[r->len] = '\0';
    return 0;
}

int line_reader_feed(line_reader *r, const char *data, size_t n, line_fn fn,
                     void *user_data)
{
    while (n) {
        const char *nl = memchr(data, '\n', n);
        size_t chunk = nl ? (size_t)(nl - data) : n;
        if (append(r, data, chunk))
            return -1;
        if (!nl)
            break;
        if (r->len > r->max && r->buf[r->len - 1] != '\r') {
            r->dropped += r->len - r->max;
            r->len = r->max;
        }
        deliver(r, fn, user_data);
        data += chunk + 1;
        n -= chunk + 1;
    }
    return 0;
}

void line_reader_finish(line_reader *r, line_fn fn, void *user_data)
{
    if (r->len || r->dropped) {
        if (r->len > r->max) {
            r->dropped += r->len - r->max;
            r->len = r->max;
        }
        deliver(r, fn, user_data);
    }
}

void line_reader_free(line_reader *r)
{
    free(r->buf);
    memset(r, 0, sizeof(*r));
}
