/* The outbox: one lock, group commit, the limits and the drops, over a
 * backend (sqlite.c: a file; mem.c: memory). See outbox.h.
 *
 * Group commit: an appender queues its request and waits. The thread that
 * finds no write in progress becomes the writer: under the lock it takes
 * every queued request, decides each in order (numbers, REJECT_NEW,
 * DROP_OLDEST), then releases the lock for the write itself (one
 * transaction: the puts, the deletes up to the new acked, the meta row
 * when acked, epoch or received moved: an append alone writes its rows);
 * appenders that arrive meanwhile queue up for the next one. With the lock
 * again it publishes the result, calls the drop callbacks, marks its
 * requests done and wakes everyone. Acks and received numbers are applied
 * at once to the outbox's view (`now`), and written by whoever writes
 * next; a thread that finds no write in progress writes them itself. */
#include "store/outbox.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifeline/lifeline.h"
#include "store/backend.h"
#include "store/held.h"

/* One append, on its caller's stack while it waits. */
typedef struct ll_outbox_req {
    struct ll_outbox_req *next;
    int is_binary;
    const void *data;
    size_t len;
    unsigned char *copy; /* the payload the outbox keeps once committed */
    ll_outbox_drop_fn drop;
    void *drop_arg;
    uint64_t seq;
    int status;
    int done;
} ll_outbox_req;

/* A message a write drops: a held one (copy, owned here) or one of the
 * write's own puts (data: its appender's, who waits). by: the append that
 * needed the room. */
typedef struct drop_item {
    ll_outbox_msg msg;
    unsigned char *copy;
    ll_outbox_req *by;
} drop_item;

struct ll_outbox {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a write ended: requests done, the backend free */
    ll_outbox_backend *be;
    char *where;         /* the path, or "in memory": for why[] */
    int policy;
    size_t max_messages, max_bytes;

    ll_outbox_state now;  /* the outbox's view (ll_outbox_meta) */
    ll_held held;         /* now.acked + 1 .. now.next_seq - 1, payloads too */
    ll_outbox_state file; /* what the backend has: its last write */

    int rows_ahead;       /* appends were written since the meta row last was:
                             its next_seq is behind (close writes it) */
    int busy;                   /* a write is in progress, the lock released */
    ll_outbox_req *head, *tail; /* appends waiting for a write */

    /* the writer's (one at a time: busy) */
    ll_outbox_put *puts;
    size_t puts_cap;
    drop_item *drops;
    size_t drops_cap;

    ll_outbox_buf next_buf; /* ll_outbox_next()'s copy */
    ll_outbox_buf scratch;  /* ll_outbox_drain()'s copies */
    ll_outbox_stats stats;
};

static int meta_dirty(const ll_outbox *o)
{
    return o->now.acked != o->file.acked || o->now.epoch != o->file.epoch ||
           o->now.received != o->file.received;
}

static void note_failure(ll_outbox *o, int err, const char *why)
{
    o->stats.last_error = err;
    snprintf(o->stats.last_why, sizeof(o->stats.last_why), "%s", why);
}

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n <= *cap)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < n)
        c *= 2;
    void *q = realloc(*p, c * size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* Held message seq into *out, its data copied into *into: from the
 * outbox's copy, or from the backend for one it keeps in the file only
 * (held.h), which needs the backend: no write in progress. Lock held. */
static int read_held(ll_outbox *o, uint64_t seq, ll_outbox_msg *out, ll_outbox_buf *into,
                     char *why, size_t why_size)
{
    const ll_held_entry *e = ll_held_get(&o->held, (size_t)(seq - o->now.acked - 1));
    if (!e->data)
        return o->be->ops->read(o->be, seq, out, into, why, why_size);
    if (ll_outbox_buf_reserve(into, e->len) != 0) {
        ll_outbox_why(why, why_size, o->where, "out of memory");
        return LIFELINE_ERR_NO_MEMORY;
    }
    if (e->len)
        memcpy(into->p, e->data, e->len);
    out->seq = seq;
    out->is_binary = e->is_binary;
    out->data = into->p;
    out->len = e->len;
    return LIFELINE_OK;
}

/* Fail every request of the list with err (they are done). */
static void finish(ll_outbox_req *list, int err)
{
    for (ll_outbox_req *r = list; r; r = r->next) {
        if (err != LIFELINE_OK)
            r->seq = 0;
        r->status = err;
        r->done = 1;
    }
}

/* Decide the requests of *batch in order, against the view: numbers from
 * now.next_seq into o->puts (*n of them), the drops into o->drops (*ndrop),
 * *acked moved past them. A refused request is taken out of *batch and
 * done (QUEUE_FULL). Returns LIFELINE_OK, or an error for the whole write
 * (why[]). Lock held, no write in progress. */
static int decide(ll_outbox *o, ll_outbox_req **batch, size_t *n, size_t *ndrop, uint64_t *acked,
                  int *refused, char *why, size_t why_size)
{
    const uint64_t first = o->now.next_seq;
    size_t count = o->held.count, bytes = o->held.bytes, reqs = 0;
    for (ll_outbox_req *r = *batch; r; r = r->next)
        reqs++;
    if (grow((void **)&o->puts, &o->puts_cap, reqs, sizeof(*o->puts)) != 0 ||
        ll_held_reserve(&o->held, o->held.count + reqs) != 0) {
        ll_outbox_why(why, why_size, o->where, "out of memory");
        return LIFELINE_ERR_NO_MEMORY;
    }
    if (first + reqs >= (uint64_t)INT64_MAX) {
        ll_outbox_why(why, why_size, o->where, "sequence numbers exhausted");
        return LIFELINE_ERR_OUTBOX_IO;
    }
    ll_outbox_req **link = batch;
    while (*link) {
        ll_outbox_req *r = *link;
        while (count > 0 && o->policy == LL_OUTBOX_DROP_OLDEST &&
               (count + 1 > o->max_messages || bytes + r->len > o->max_bytes)) {
            uint64_t seq = *acked + 1;
            if (grow((void **)&o->drops, &o->drops_cap, *ndrop + 1, sizeof(*o->drops)) != 0) {
                ll_outbox_why(why, why_size, o->where, "out of memory");
                return LIFELINE_ERR_NO_MEMORY;
            }
            drop_item *d = &o->drops[*ndrop];
            memset(d, 0, sizeof(*d));
            d->by = r;
            if (seq < first) { /* a held one: copied before it goes */
                ll_outbox_buf buf = {0};
                int err = read_held(o, seq, &d->msg, &buf, why, why_size);
                if (err != LIFELINE_OK) {
                    free(buf.p);
                    return err;
                }
                d->copy = buf.p;
            } else { /* one of this write's own, appended and dropped at once */
                const ll_outbox_put *p = &o->puts[seq - first];
                d->msg.seq = seq;
                d->msg.is_binary = p->is_binary;
                d->msg.data = p->len ? p->data : "";
                d->msg.len = p->len;
            }
            (*ndrop)++;
            (*acked)++;
            count--;
            bytes -= d->msg.len;
        }
        if (count + 1 > o->max_messages || bytes + r->len > o->max_bytes) {
            *link = r->next; /* refused: out of the batch, done now */
            r->next = NULL;
            finish(r, LIFELINE_ERR_QUEUE_FULL);
            *refused = 1;
            continue;
        }
        ll_outbox_put *p = &o->puts[*n];
        p->seq = first + *n;
        p->is_binary = r->is_binary ? 1 : 0;
        p->data = r->data;
        p->len = r->len;
        r->seq = p->seq;
        (*n)++;
        count++;
        bytes += r->len;
        link = &r->next;
    }
    return LIFELINE_OK;
}

/* One write: the queued appends (appends: 1) and the view's acks and
 * received numbers, as one transaction, made durable when it carries
 * appends or when durable is 1. Lock held and no write in progress, on
 * entry and on return (it is released during the write). Returns the
 * write's result (LIFELINE_OK when there was nothing to write). */
static int write_round(ll_outbox *o, int appends, int durable)
{
    ll_outbox_req *batch = NULL;
    if (appends) {
        batch = o->head;
        o->head = o->tail = NULL;
    }
    char why[sizeof(o->stats.last_why)] = "";
    size_t n = 0, ndrop = 0;
    uint64_t acked = o->now.acked;
    int refused = 0;
    const uint64_t first = o->now.next_seq;
    int rc = decide(o, &batch, &n, &ndrop, &acked, &refused, why, sizeof(why));
    ll_outbox_write w = {0};
    if (rc == LIFELINE_OK) {
        /* a prefix of the puts may be dropped by later ones: not written */
        size_t skip = acked >= first ? (size_t)(acked - first + 1) : 0;
        w.puts = o->puts + skip;
        w.n_puts = n - skip;
        w.meta = o->now;
        w.meta.next_seq = first + n;
        w.meta.acked = acked;
        w.deletes = acked > o->file.acked;
        /* an append alone writes its rows only: next_seq is theirs */
        w.meta_row = w.deletes || meta_dirty(o) || (!appends && o->rows_ahead);
        w.durable = durable || n > 0;
        if (n == 0 && !w.meta_row) {
            if (refused)
                pthread_cond_broadcast(&o->cond);
            return LIFELINE_OK;
        }
        o->busy = 1;
        if (refused)
            pthread_cond_broadcast(&o->cond);
        pthread_mutex_unlock(&o->lock);
        rc = o->be->ops->write(o->be, &w, why, sizeof(why));
        pthread_mutex_lock(&o->lock);
        o->busy = 0;
        o->be->ops->counters(o->be, &o->stats.commits, &o->stats.shrinks,
                             &o->stats.wal_frames_merged);
    }
    if (rc == LIFELINE_OK) {
        /* acks that came during the write moved now.acked (never past
         * first - 1); the drops move it further */
        const uint64_t acked_meanwhile = o->now.acked;
        size_t k = 0; /* batch holds the n puts' requests, in order */
        for (ll_outbox_req *r = batch; r; r = r->next, k++) {
            /* reserved: cannot fail; the copy is the outbox's now */
            ll_held_push(&o->held, o->puts[k].len, r->copy, o->puts[k].is_binary);
            r->copy = NULL;
        }
        o->now.next_seq = first + n;
        if (acked > o->now.acked) {
            ll_held_pop(&o->held, (size_t)(acked - o->now.acked));
            o->now.acked = acked;
        }
        o->file = w.meta;
        o->rows_ahead = w.meta_row ? 0 : o->rows_ahead || w.n_puts > 0;
        for (size_t i = 0; i < ndrop; i++) {
            const drop_item *d = &o->drops[i];
            if (d->msg.seq <= acked_meanwhile)
                continue; /* the server acknowledged it meanwhile */
            o->stats.dropped++;
            if (d->by->drop)
                d->by->drop(d->by->drop_arg, &d->msg);
        }
        o->stats.appended += n;
        if (n) {
            o->stats.batches++;
            if (n > o->stats.largest_batch)
                o->stats.largest_batch = n;
        }
    } else {
        note_failure(o, rc, why);
    }
    for (size_t i = 0; i < ndrop; i++)
        free(o->drops[i].copy);
    finish(batch, rc);
    pthread_cond_broadcast(&o->cond);
    return rc;
}

/* After a write, the acks that came during it, when no appender waits to
 * carry them. Lock held, no write in progress. */
static void settle(ll_outbox *o, int rc)
{
    while (rc == LIFELINE_OK && !o->head && meta_dirty(o))
        rc = write_round(o, 0, 0);
}

static void wait_idle(ll_outbox *o)
{
    while (o->busy)
        pthread_cond_wait(&o->cond, &o->lock);
}

ll_outbox *ll_outbox_open(const ll_outbox_options *opt, int *error, char *why, size_t why_size)
{
    int unused;
    if (!error)
        error = &unused;
    const char *where = opt && opt->path ? opt->path : "in memory";
    const char *bad = !opt                                              ? "no options"
                      : opt->durability != LL_OUTBOX_NORMAL &&
                              opt->durability != LL_OUTBOX_FULL         ? "durability is not 0 or 1"
                      : opt->policy != LL_OUTBOX_REJECT_NEW &&
                              opt->policy != LL_OUTBOX_DROP_OLDEST      ? "policy is not 0 or 1"
                      : opt->max_messages < 1                           ? "max_messages is 0"
                      : opt->max_bytes < 1                              ? "max_bytes is 0"
                                                                        : NULL;
    if (bad) {
        *error = LIFELINE_ERR_INVALID_ARGUMENT;
        ll_outbox_why(why, why_size, where, "%s", bad);
        return NULL;
    }
    ll_outbox *o = calloc(1, sizeof(*o));
    char *where_copy = strdup(where);
    if (!o || !where_copy) {
        free(o);
        free(where_copy);
        *error = LIFELINE_ERR_NO_MEMORY;
        ll_outbox_why(why, why_size, where, "out of memory");
        return NULL;
    }
    o->where = where_copy;
    o->policy = opt->policy;
    o->max_messages = opt->max_messages;
    o->max_bytes = opt->max_bytes;
    ll_held_init(&o->held);
    if (opt->path)
        o->be = ll_outbox_sqlite_open(opt->path, opt->durability, opt->new_session,
                                      opt->max_messages, opt->max_bytes, &o->now,
                                      &o->held, error, why, why_size);
    else
        o->be = ll_outbox_mem_open(opt->new_session, &o->now, error, why, why_size);
    if (!o->be) {
        ll_held_free(&o->held);
        free(o->where);
        free(o);
        return NULL;
    }
    o->file = o->now;
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->cond, NULL);
    *error = LIFELINE_OK;
    if (why && why_size)
        why[0] = 0;
    return o;
}

void ll_outbox_close(ll_outbox *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->lock);
    wait_idle(o);
    /* and the meta row's next_seq, if appends went ahead of it: a file at
     * rest names its last number (sqlite_check.c finds a lost tail) */
    if (meta_dirty(o) || o->rows_ahead)
        write_round(o, 0, 0);
    pthread_mutex_unlock(&o->lock);
    o->be->ops->close(o->be);
    ll_held_free(&o->held);
    free(o->puts);
    free(o->drops);
    free(o->next_buf.p);
    free(o->scratch.p);
    free(o->where);
    pthread_cond_destroy(&o->cond);
    pthread_mutex_destroy(&o->lock);
    free(o);
}

void ll_outbox_get_meta(ll_outbox *o, ll_outbox_meta *out)
{
    pthread_mutex_lock(&o->lock);
    out->session = o->now.session;
    out->next_seq = o->now.next_seq;
    out->acked = o->now.acked;
    out->epoch = o->now.epoch;
    out->received = o->now.received;
    out->count = o->held.count;
    out->bytes = o->held.bytes;
    pthread_mutex_unlock(&o->lock);
}

void ll_outbox_get_stats(ll_outbox *o, ll_outbox_stats *out)
{
    pthread_mutex_lock(&o->lock);
    *out = o->stats;
    pthread_mutex_unlock(&o->lock);
}

int ll_outbox_append(ll_outbox *o, int is_binary, const void *data, size_t len, uint64_t *seq,
                     ll_outbox_drop_fn drop, void *drop_arg)
{
    if (!o || !seq || (!data && len))
        return LIFELINE_ERR_INVALID_ARGUMENT;
    if (len > o->max_bytes) /* set at open, never changed */
        return LIFELINE_ERR_QUEUE_FULL;
    /* the outbox's copy, made before the lock: what ll_outbox_next()
     * reads back without asking the file */
    unsigned char *copy = malloc(len ? len : 1);
    if (!copy)
        return LIFELINE_ERR_NO_MEMORY;
    if (len)
        memcpy(copy, data, len);
    ll_outbox_req r = {.is_binary = is_binary, .data = data, .len = len, .copy = copy,
                       .drop = drop, .drop_arg = drop_arg};
    pthread_mutex_lock(&o->lock);
    if (o->tail)
        o->tail->next = &r;
    else
        o->head = &r;
    o->tail = &r;
    while (!r.done) {
        if (!o->busy) /* become the writer: r is among what it takes */
            settle(o, write_round(o, 1, 0));
        else
            pthread_cond_wait(&o->cond, &o->lock);
    }
    pthread_mutex_unlock(&o->lock);
    free(r.copy); /* NULL once the outbox holds it */
    if (r.status == LIFELINE_OK)
        *seq = r.seq;
    return r.status;
}

/* After a change to the view: write it now if nobody is writing, else
 * leave it to the writer (settle()). Lock held. */
static int write_meta(ll_outbox *o, int durable)
{
    if (o->busy || !meta_dirty(o))
        return LIFELINE_OK;
    int rc = write_round(o, 0, durable);
    settle(o, rc);
    return rc;
}

int ll_outbox_ack(ll_outbox *o, uint64_t upto)
{
    pthread_mutex_lock(&o->lock);
    if (upto > o->now.next_seq - 1)
        upto = o->now.next_seq - 1;
    if (upto > o->now.acked) {
        ll_held_pop(&o->held, (size_t)(upto - o->now.acked));
        o->now.acked = upto;
    }
    int rc = write_meta(o, 0);
    pthread_mutex_unlock(&o->lock);
    return rc;
}

int ll_outbox_set_received(ll_outbox *o, uint64_t epoch, uint64_t received)
{
    pthread_mutex_lock(&o->lock);
    /* committed before the return: the client sends the ack that covers
     * these messages next, and the server may then forget them */
    wait_idle(o);
    o->now.epoch = epoch;
    o->now.received = received;
    int rc = write_meta(o, 0);
    pthread_mutex_unlock(&o->lock);
    return rc;
}

int ll_outbox_next(ll_outbox *o, uint64_t from, ll_outbox_msg *out)
{
    pthread_mutex_lock(&o->lock);
    int found = 0;
    for (;;) {
        if (from <= o->now.acked)
            from = o->now.acked + 1;
        if (from >= o->now.next_seq)
            break;
        /* in memory: no wait for a write in progress; in the file only
         * (held.h): the backend is free once the write ends */
        if (o->busy && !ll_held_get(&o->held, (size_t)(from - o->now.acked - 1))->data) {
            pthread_cond_wait(&o->cond, &o->lock);
            continue;
        }
        char why[sizeof(o->stats.last_why)];
        int err = read_held(o, from, out, &o->next_buf, why, sizeof(why));
        if (err != LIFELINE_OK)
            note_failure(o, err, why);
        found = err == LIFELINE_OK ? 1 : -1;
        break;
    }
    pthread_mutex_unlock(&o->lock);
    return found;
}

size_t ll_outbox_drain(ll_outbox *o, ll_outbox_drop_fn fn, void *arg)
{
    pthread_mutex_lock(&o->lock);
    wait_idle(o);
    size_t n = o->held.count;
    if (fn) {
        for (size_t i = 0; i < o->held.count; i++) {
            ll_outbox_msg m;
            char why[sizeof(o->stats.last_why)];
            int err = read_held(o, o->now.acked + 1 + i, &m, &o->scratch, why, sizeof(why));
            if (err != LIFELINE_OK) {
                note_failure(o, err, why);
                n = i;
                break;
            }
            fn(arg, &m);
        }
    }
    ll_held_pop(&o->held, n);
    o->now.acked += n;
    /* like a drop: a drain lost in a crash would bring the messages back */
    write_meta(o, 1);
    pthread_mutex_unlock(&o->lock);
    return n;
}
