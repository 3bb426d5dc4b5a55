/* The in-memory backend: the meta row in a struct. The payloads are the
 * outbox's own copies (held.h), which is all an outbox in memory needs:
 * there is nothing to write them to. See backend.h. */
#include <stdlib.h>
#include <string.h>

#include "lifeline/lifeline.h"
#include "store/backend.h"

typedef struct mem_backend {
    ll_outbox_backend base;
    ll_outbox_state meta; /* as last written */
    uint64_t commits;
} mem_backend;

static int mem_write(ll_outbox_backend *b, const ll_outbox_write *w, char *why, size_t why_size)
{
    (void)why;
    (void)why_size;
    mem_backend *m = (mem_backend *)b;
    m->meta = w->meta;
    m->commits++;
    return LIFELINE_OK;
}

/* Never asked: every held message of an outbox in memory has its payload
 * in the outbox (only a file opened over its limits has some that are
 * not). */
static int mem_read(ll_outbox_backend *b, uint64_t seq, ll_outbox_msg *out, ll_outbox_buf *into,
                    char *why, size_t why_size)
{
    (void)b;
    (void)out;
    (void)into;
    ll_outbox_why(why, why_size, "in memory", "held message %llu is missing",
                  (unsigned long long)seq);
    return LIFELINE_ERR_OUTBOX_IO;
}

static void mem_counters(ll_outbox_backend *b, uint64_t *commits, uint64_t *shrinks,
                         uint64_t *merged)
{
    *commits = ((mem_backend *)b)->commits;
    *shrinks = 0;
    *merged = 0;
}

static void mem_close(ll_outbox_backend *b)
{
    free(b);
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
