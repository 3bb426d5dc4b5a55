/* The in-memory backend: the held messages in a ring of copies, the meta
 * row in a struct. A write copies its puts first, so that an allocation
 * failure leaves everything as it was. See backend.h. */
#include <stdlib.h>
#include <string.h>

#include "lifeline/lifeline.h"
#include "store/backend.h"

typedef struct mem_row {
    unsigned char *data; /* malloc'd, at least 1 byte */
    size_t len;
    int is_binary;
} mem_row;

typedef struct mem_backend {
    ll_outbox_backend base;
    ll_outbox_state meta; /* as last written */
    mem_row *ring;        /* rows meta.acked + 1 .. meta.next_seq - 1 */
    size_t cap, head, count;
    uint64_t commits;
} mem_backend;

static mem_row *row_at(mem_backend *m, size_t i)
{
    return &m->ring[(m->head + i) % m->cap];
}

static int reserve(mem_backend *m, size_t n)
{
    if (n <= m->cap)
        return 0;
    size_t cap = m->cap ? m->cap : 64;
    while (cap < n) {
        if (cap > SIZE_MAX / 2 / sizeof(mem_row))
            return -1;
        cap *= 2;
    }
    mem_row *ring = malloc(cap * sizeof(*ring));
    if (!ring)
        return -1;
    for (size_t i = 0; i < m->count; i++)
        ring[i] = *row_at(m, i);
    free(m->ring);
    m->ring = ring;
    m->cap = cap;
    m->head = 0;
    return 0;
}

static int mem_write(ll_outbox_backend *b, const ll_outbox_write *w, char *why, size_t why_size)
{
    mem_backend *m = (mem_backend *)b;
    unsigned char **copies = NULL;
    if (w->n_puts) {
        copies = calloc(w->n_puts, sizeof(*copies));
        if (!copies || reserve(m, m->count + w->n_puts) != 0)
            goto oom;
        for (size_t i = 0; i < w->n_puts; i++) {
            copies[i] = malloc(w->puts[i].len ? w->puts[i].len : 1);
            if (!copies[i])
                goto oom;
            if (w->puts[i].len)
                memcpy(copies[i], w->puts[i].data, w->puts[i].len);
        }
    }
    /* nothing can fail from here on. The rows up to the new acked go
     * first: the puts follow them, and the first puts may be missing
     * (dropped by later ones of the same write) */
    size_t gone = w->meta.acked > m->meta.acked ? (size_t)(w->meta.acked - m->meta.acked) : 0;
    if (gone > m->count)
        gone = m->count;
    for (size_t i = 0; i < gone; i++)
        free(row_at(m, i)->data);
    m->count -= gone;
    m->head = m->count ? (m->head + gone) % m->cap : 0;
    for (size_t i = 0; i < w->n_puts; i++) {
        mem_row *r = row_at(m, m->count++);
        r->data = copies[i];
        r->len = w->puts[i].len;
        r->is_binary = w->puts[i].is_binary;
    }
    free(copies);
    m->meta = w->meta;
    m->commits++;
    return LIFELINE_OK;
oom:
    if (copies)
        for (size_t i = 0; i < w->n_puts; i++)
            free(copies[i]);
    free(copies);
    ll_outbox_why(why, why_size, "in memory", "out of memory");
    return LIFELINE_ERR_NO_MEMORY;
}

static int mem_read(ll_outbox_backend *b, uint64_t seq, ll_outbox_msg *out, ll_outbox_buf *into,
                    char *why, size_t why_size)
{
    mem_backend *m = (mem_backend *)b;
    if (seq <= m->meta.acked || seq - m->meta.acked > m->count) {
        ll_outbox_why(why, why_size, "in memory", "held message %llu is missing",
                      (unsigned long long)seq);
        return LIFELINE_ERR_OUTBOX_IO;
    }
    const mem_row *r = row_at(m, (size_t)(seq - m->meta.acked - 1));
    if (ll_outbox_buf_reserve(into, r->len) != 0) {
        ll_outbox_why(why, why_size, "in memory", "out of memory");
        return LIFELINE_ERR_NO_MEMORY;
    }
    memcpy(into->p, r->data, r->len);
    out->seq = seq;
    out->is_binary = r->is_binary;
    out->data = into->p;
    out->len = r->len;
    return LIFELINE_OK;
}

static void mem_counters(ll_outbox_backend *b, uint64_t *commits, uint64_t *shrinks)
{
    *commits = ((mem_backend *)b)->commits;
    *shrinks = 0;
}

static void mem_close(ll_outbox_backend *b)
{
    mem_backend *m = (mem_backend *)b;
    for (size_t i = 0; i < m->count; i++)
        free(row_at(m, i)->data);
    free(m->ring);
    free(m);
}

static const ll_outbox_backend_ops mem_ops = {
    .write = mem_write,
    .read = mem_read,
    .counters = mem_counters,
    .close = mem_close,
};

ll_outbox_backend *ll_outbox_mem_open(const uint8_t new_session[16], ll_outbox_state *state,
                                      int *error, char *why, size_t why_size)
{
    mem_backend *m = calloc(1, sizeof(*m));
    if (!m) {
        *error = LIFELINE_ERR_NO_MEMORY;
        ll_outbox_why(why, why_size, "in memory", "out of memory");
        return NULL;
    }
    m->base.ops = &mem_ops;
    memcpy(m->meta.session.bytes, new_session, sizeof(m->meta.session.bytes));
    m->meta.next_seq = 1;
    *state = m->meta;
    return &m->base;
}
