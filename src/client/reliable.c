/* Reliable delivery in the client; see reliable.h. The machine
 * (core/delivery.c) decides; this performs: it writes the hello, the acks
 * and the data units the transport pulls, reads what to resend from the
 * outbox, hands the server's messages to the app once each, and keeps the
 * outbox told of what was acknowledged and delivered. */
#include "client/reliable.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/client_impl.h"
#include "proto/wire.h"

enum { W_NONE = 0, W_HELLO, W_ACK, W_DATA, W_SKIP };

/* ---- opening ---------------------------------------------------------------- */

static void fill_options(const lifeline_client *c, ll_outbox_options *o)
{
    memset(o, 0, sizeof(*o));
    o->path = c->cfg.outbox_path;
    o->durability = c->cfg.outbox_durability == LIFELINE_DURABILITY_FULL ? LL_OUTBOX_FULL
                                                                          : LL_OUTBOX_NORMAL;
    o->policy = c->cfg.queue_policy == LIFELINE_QUEUE_DROP_OLDEST ? LL_OUTBOX_DROP_OLDEST
                                                                  : LL_OUTBOX_REJECT_NEW;
    o->max_messages = c->cfg.queue_max_messages;
    o->max_bytes = c->cfg.queue_max_bytes;
}

/* 16 random bytes for a new session id: the system's generator (a session
 * id must differ between tills, whatever random_seed replays). */
static int random_session(uint8_t out[16])
{
    size_t got = 0;
    while (got < 16) {
        ssize_t n = getrandom(out + got, 16 - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

int ll_rel_new(lifeline_client *c, char *why, size_t why_size)
{
    ll_reliable *r = calloc(1, sizeof(*r));
    if (!r)
        return LIFELINE_ERR_NO_MEMORY;
    ll_outbox_options o;
    fill_options(c, &o);
    if (random_session(o.new_session)) {
        free(r);
        return LIFELINE_ERR_SYSTEM;
    }
    int error = LIFELINE_OK;
    r->outbox = ll_outbox_open(&o, &error, why, why_size);
    if (!r->outbox) {
        free(r);
        return error ? error : LIFELINE_ERR_OUTBOX_OPEN;
    }
    r->file = o.path != NULL;
    ll_outbox_meta m;
    ll_outbox_get_meta(r->outbox, &m);
    ll_dlv_init(&r->dlv, (uint32_t)c->cfg.ack_every, c->cfg.ack_delay_ms);
    ll_dlv_saved s = {.next_seq = m.next_seq, .acked = m.acked, .epoch = m.epoch,
                      .received = m.received};
    memcpy(s.session, m.session.bytes, sizeof(s.session));
    ll_dlv_restore(&r->dlv, &s);
    r->appended = r->told = m.next_seq - 1;
    c->rel = r;
    return LIFELINE_OK;
}

void ll_rel_free(lifeline_client *c)
{
    ll_reliable *r = c->rel;
    if (!r)
        return;
    ll_outbox_close(r->outbox);
    free(r->unit);
    free(r);
    c->rel = NULL;
}

int lifeline_outbox_check(const char *path, char *why, size_t why_size)
{
    if (why && why_size)
        why[0] = 0;
    if (!path)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
        return LIFELINE_OK; /* empty: an outbox would be made in it */
    if (access(path, F_OK) != 0 && errno == ENOENT) {
        /* one would be created: in a folder that is there and writable */
        char dir[4096];
        const char *slash = strrchr(path, '/');
        size_t n = slash ? (size_t)(slash - path) : 0;
        if (n >= sizeof(dir))
            n = sizeof(dir) - 1;
        memcpy(dir, slash ? path : ".", slash ? n : 1);
        dir[slash ? (n ? n : 1) : 1] = 0; /* "/x.db": "/" */
        if (access(dir, W_OK | X_OK) == 0)
            return LIFELINE_OK;
        if (why && why_size)
            snprintf(why, why_size, "outbox %s: cannot be created: %s", path, strerror(errno));
        return LIFELINE_ERR_OUTBOX_OPEN;
    }
    ll_outbox_options o;
    memset(&o, 0, sizeof(o));
    o.path = path;
    o.max_messages = 1;
    o.max_bytes = 1;
    char scratch[256];
    int error = LIFELINE_OK;
    ll_outbox *ob = ll_outbox_open(&o, &error, why ? why : scratch,
                                   why ? why_size : sizeof(scratch));
    if (!ob)
        return error ? error : LIFELINE_ERR_OUTBOX_OPEN;
    ll_outbox_close(ob);
    return LIFELINE_OK;
}

/* ---- what the machine asks -------------------------------------------------- */

/* The actions of the machine's last call, copied out under mu. */
typedef struct batch {
    ll_dlv_action a[LL_DLV_MAX_ACTIONS];
    size_t n;
    char text[LL_DLV_TEXT_MAX];
    uint64_t epoch;
    uint32_t conn_id;
} batch;

static void take(lifeline_client *c, batch *b)
{
    ll_dlv *d = &c->rel->dlv;
    b->n = d->n_actions;
    memcpy(b->a, d->actions, b->n * sizeof(b->a[0]));
    memcpy(b->text, d->text, sizeof(b->text));
    b->epoch = d->epoch;
    b->conn_id = c->core.conn_id;
}

/* Record in the outbox that the app has had the server's messages up to
 * received (in epoch). */
static void record_received(lifeline_client *c, uint64_t epoch, uint64_t received)
{
    if (ll_outbox_set_received(c->rel->outbox, epoch, received))
        ll_client_log(c, LIFELINE_LOG_ERROR, "outbox: could not record message %llu as received",
                      (unsigned long long)received);
}

/* Perform a batch (loop thread, mu not held). payload: the data unit's,
 * for DELIVER. */
static void perform(lifeline_client *c, const batch *b, const void *payload, size_t len,
                    int is_binary)
{
    ll_reliable *r = c->rel;
    int want = 0;
    for (size_t i = 0; i < b->n; i++) {
        const ll_dlv_action *a = &b->a[i];
        switch (a->type) {
        case LL_DLV_SEND_HELLO:
            r->hello_due = 1;
            want = 1;
            break;
        case LL_DLV_SEND_ACK:
            /* what the ack covers is recorded first: once the server has
             * the ack it may forget those messages, and a restart must not
             * ask for them (nor be told they were lost) */
            record_received(c, b->epoch, a->seq);
            r->ack_due = a->seq;
            want = 1;
            break;
        case LL_DLV_SEND_SKIP:
            if (a->seq > r->skip_due)
                r->skip_due = a->seq;
            want = 1;
            break;
        case LL_DLV_SEND:
            if (r->send_next > r->send_upto || a->seq < r->send_next)
                r->send_next = a->seq;
            if (a->upto > r->send_upto)
                r->send_upto = a->upto;
            want = 1;
            break;
        case LL_DLV_DELIVER:
            pthread_mutex_lock(&c->mu);
            c->msgs_recv++;
            c->bytes_recv += len;
            pthread_mutex_unlock(&c->mu);
            if (c->cfg.on_message && !ll_client_quiet(c))
                c->cfg.on_message(c, payload, len, is_binary, c->cfg.user_data);
            /* recorded with the ack that covers it (a batch), or when the
             * connection ends: an app killed in between gets it again */
            break;
        case LL_DLV_DUPLICATE:
            ll_client_log(c, LIFELINE_LOG_DEBUG, "duplicate %llu from the server dropped",
                          (unsigned long long)a->seq);
            break;
        case LL_DLV_ACKED:
            if (ll_outbox_ack(r->outbox, a->seq))
                ll_client_log(c, LIFELINE_LOG_ERROR, "outbox: could not remove up to %llu",
                              (unsigned long long)a->seq);
            if (c->cfg.on_acked && !ll_client_quiet(c))
                c->cfg.on_acked(c, a->seq, c->cfg.user_data);
            break;
        case LL_DLV_RESUMED:
            if (!a->recovered && ll_outbox_set_received(r->outbox, a->epoch, a->seq))
                ll_client_log(c, LIFELINE_LOG_ERROR, "outbox: could not record the epoch");
            ll_client_log(c, a->recovered ? LIFELINE_LOG_INFO : LIFELINE_LOG_WARN,
                          "session resumed: %s, %llu replayed",
                          a->recovered ? "recovered" : "not recovered",
                          (unsigned long long)a->replay);
            if (c->cfg.on_resumed && !ll_client_quiet(c))
                c->cfg.on_resumed(c, a->recovered, a->replay, c->cfg.user_data);
            break;
        case LL_DLV_FAIL:
            ll_client_log(c, LIFELINE_LOG_WARN, "%s: closing with 1002", b->text);
            ll_conn_fail(c->conn, b->conn_id, 1002, LIFELINE_ERR_PROTOCOL, b->text);
            break;
        default:
            break;
        }
    }
    if (want)
        ll_conn_want_write(c->conn);
}

void ll_rel_opened(lifeline_client *c)
{
    ll_reliable *r = c->rel;
    batch b;
    pthread_mutex_lock(&c->mu);
    ll_dlv_opened(&r->dlv, ll_now_ms());
    take(c, &b);
    pthread_mutex_unlock(&c->mu);
    r->ack_due = 0;
    r->skip_due = 0;
    r->send_next = 1;
    r->send_upto = 0;
    pthread_mutex_lock(&c->mu);
    r->writer_busy = 0;
    pthread_mutex_unlock(&c->mu);
    perform(c, &b, NULL, 0, 0);
}

void ll_rel_closed(lifeline_client *c)
{
    ll_reliable *r = c->rel;
    pthread_mutex_lock(&c->mu);
    ll_dlv_closed(&r->dlv);
    r->writer_busy = 0; /* sends wake the loop again */
    uint64_t epoch = r->dlv.epoch, received = r->dlv.received;
    pthread_mutex_unlock(&c->mu);
    record_received(c, epoch, received); /* what was had and not yet acked */
    r->hello_due = 0;
    r->ack_due = 0;
    r->skip_due = 0;
    r->send_next = 1;
    r->send_upto = 0;
}

void ll_rel_on_appended(lifeline_client *c)
{
    ll_reliable *r = c->rel;
    batch b = {.n = 0};
    pthread_mutex_lock(&c->mu);
    if (r->dropped_upto) { /* before the appends: they come after */
        ll_dlv_dropped(&r->dlv, r->dropped_upto);
        r->dropped_upto = 0;
    }
    if (r->appended > r->told) {
        ll_dlv_appended(&r->dlv, r->appended);
        r->told = r->appended;
        take(c, &b);
    }
    pthread_mutex_unlock(&c->mu);
    perform(c, &b, NULL, 0, 0);
}

int64_t ll_rel_deadline_locked(lifeline_client *c)
{
    return c->rel ? ll_dlv_deadline(&c->rel->dlv) : LL_DLV_NO_DEADLINE;
}

void ll_rel_tick(lifeline_client *c)
{
    batch b;
    pthread_mutex_lock(&c->mu);
    ll_dlv_tick(&c->rel->dlv, ll_now_ms());
    take(c, &b);
    pthread_mutex_unlock(&c->mu);
    perform(c, &b, NULL, 0, 0);
}

/* ---- reading ------------------------------------------------------------------ */

void ll_rel_on_message(lifeline_client *c, const void *data, size_t len, int is_binary)
{
    ll_wire_unit u;
    ll_wire_read(data, len, is_binary, &u);
    ll_dlv_unit du = {.kind = u.kind, .seq = u.seq, .epoch = u.epoch, .accepted = u.accepted,
                      .first = u.first, .last = u.last, .recovered = u.recovered,
                      .error = u.error};
    batch b;
    pthread_mutex_lock(&c->mu);
    ll_dlv_unit_in(&c->rel->dlv, &du, ll_now_ms());
    take(c, &b);
    pthread_mutex_unlock(&c->mu);
    perform(c, &b, u.payload, u.payload_len, is_binary);
}

/* ---- writing ------------------------------------------------------------------ */

static unsigned char *room(ll_reliable *r, size_t len)
{
    if (r->unit_cap < len) {
        unsigned char *p = realloc(r->unit, len);
        if (!p)
            return NULL;
        r->unit = p;
        r->unit_cap = len;
    }
    return r->unit;
}

static int control(ll_reliable *r, ll_out *out, int kind, size_t n)
{
    r->writing = kind;
    *out = (ll_out){.data = r->unit, .len = n, .is_binary = 0};
    return 1;
}

/* The writer takes the app's new messages itself, without a wake-up: the
 * machine is told of them, and the range to write grows. mu held. */
static void pick_up_locked(ll_reliable *r)
{
    if (r->appended <= r->told || r->dropped_upto || r->dlv.phase != LL_DLV_OPEN)
        return; /* a drop goes through the wake-up, first (ll_rel_on_appended()) */
    ll_dlv_appended(&r->dlv, r->appended);
    r->told = r->appended;
    for (size_t i = 0; i < r->dlv.n_actions; i++) {
        const ll_dlv_action *a = &r->dlv.actions[i];
        if (a->type != LL_DLV_SEND)
            continue; /* appended() makes nothing else */
        if (r->send_next > r->send_upto || a->seq < r->send_next)
            r->send_next = a->seq;
        if (a->upto > r->send_upto)
            r->send_upto = a->upto;
    }
}

int ll_rel_next_out(lifeline_client *c, void *vout)
{
    ll_reliable *r = c->rel;
    ll_out *out = vout;
    r->writing = W_NONE;
    if (!room(r, LL_WIRE_CONTROL_MAX))
        return 0;
    int open;
    ll_wire_session session;
    uint64_t epoch, received, held;
    pthread_mutex_lock(&c->mu);
    pick_up_locked(r);
    open = r->dlv.phase == LL_DLV_OPEN;
    memcpy(session.bytes, r->dlv.session, sizeof(session.bytes));
    epoch = r->dlv.epoch;
    received = r->dlv.received;
    held = r->dlv.hello_acked + 1;
    pthread_mutex_unlock(&c->mu);
    int got = 0;
    if (r->hello_due) {
        got = control(r, out, W_HELLO,
                      ll_wire_hello(&session, epoch, received, held, (char *)r->unit));
    } else if (r->skip_due && open) {
        r->writing_seq = r->skip_due;
        got = control(r, out, W_SKIP, ll_wire_skip(r->skip_due, (char *)r->unit));
    } else if (r->ack_due && open) {
        r->writing_seq = r->ack_due;
        got = control(r, out, W_ACK, ll_wire_ack(r->ack_due, (char *)r->unit));
    } else if (open && r->send_next <= r->send_upto) {
        ll_outbox_msg m;
        int found = ll_outbox_next(r->outbox, r->send_next, &m);
        if (found < 0)
            ll_client_log(c, LIFELINE_LOG_ERROR, "outbox: could not read message %llu",
                          (unsigned long long)r->send_next);
        if (found == 1 && m.seq > r->send_next && m.seq <= r->send_upto + 1) {
            /* a hole: dropped as the oldest before they were written (an
             * ack never covers what was not written): the server is told
             * not to wait for them, then the message goes */
            r->writing_seq = m.seq - 1;
            got = control(r, out, W_SKIP, ll_wire_skip(m.seq - 1, (char *)r->unit));
        } else if (found != 1 || m.seq > r->send_upto) {
            r->send_next = r->send_upto + 1; /* acknowledged or dropped meanwhile */
        } else {
            unsigned char *p = room(r, LL_WIRE_HEADER_MAX + m.len);
            if (!p)
                return 0;
            size_t h = ll_wire_data_header(m.seq, (char *)p);
            if (m.len)
                memcpy(p + h, m.data, m.len);
            r->writing = W_DATA;
            r->writing_seq = m.seq;
            r->writing_len = m.len;
            *out = (ll_out){.data = p, .len = h + m.len, .is_binary = m.is_binary};
            got = 1;
        }
    }
    /* whether the transport pulls again; while it does, sends need not
     * wake the loop (the pick-up here sees their messages): decided under
     * mu with a last pick-up, so a send either is seen here or sees the
     * writer idle and wakes the loop */
    pthread_mutex_lock(&c->mu);
    pick_up_locked(r);
    int more = 0;
    if (got) {
        int after_hello = r->writing == W_HELLO ? 0 : r->hello_due;
        more = after_hello || (r->ack_due && r->writing != W_ACK) ||
               (r->skip_due && r->writing != W_SKIP) ||
               (r->writing == W_DATA ? r->writing_seq < r->send_upto
                                     : r->send_next <= r->send_upto);
        out->more = more;
    }
    r->writer_busy = more;
    pthread_mutex_unlock(&c->mu);
    return got;
}

void ll_rel_written(lifeline_client *c, int ok)
{
    ll_reliable *r = c->rel;
    int kind = r->writing;
    r->writing = W_NONE;
    if (!ok)
        return; /* it is asked for again: the same hello, ack or number */
    switch (kind) {
    case W_HELLO:
        r->hello_due = 0;
        break;
    case W_ACK:
        if (r->ack_due == r->writing_seq)
            r->ack_due = 0;
        break;
    case W_SKIP:
        if (r->skip_due <= r->writing_seq)
            r->skip_due = 0;
        if (r->writing_seq >= r->send_next)
            r->send_next = r->writing_seq + 1;
        break;
    case W_DATA:
        if (r->writing_seq >= r->send_next)
            r->send_next = r->writing_seq + 1;
        pthread_mutex_lock(&c->mu);
        c->msgs_sent++;
        c->bytes_sent += r->writing_len;
        pthread_mutex_unlock(&c->mu);
        break;
    default:
        break;
    }
}

/* ---- sending (app threads) ------------------------------------------------------ */

/* A message dropped as the oldest (the outbox's lock held): reported to
 * on_dropped from the loop; its number counts as acknowledged. */
static void on_drop(void *arg, const ll_outbox_msg *m)
{
    lifeline_client *c = arg;
    ll_msg *d = ll_msg_new(m->data, m->len, m->is_binary);
    pthread_mutex_lock(&c->mu);
    if (d) {
        d->reason = LIFELINE_ERR_QUEUE_FULL;
        d->id = m->seq;
        ll_queue_push(&c->dropped, d);
    }
    c->msgs_dropped++;
    if (m->seq > c->rel->dropped_upto)
        c->rel->dropped_upto = m->seq;
    pthread_mutex_unlock(&c->mu);
}

int lifeline_client_send_id(lifeline_client *c, const void *data, size_t len, int is_binary,
                            uint64_t *id)
{
    if (id)
        *id = 0;
    if (!c || (!data && len))
        return LIFELINE_ERR_INVALID_ARGUMENT;
    if (!c->rel)
        return LIFELINE_ERR_STATE;
    if (len > c->cfg.max_message_bytes)
        return LIFELINE_ERR_MESSAGE_TOO_BIG;
    pthread_mutex_lock(&c->mu);
    int closed = c->core.state == LIFELINE_STATE_CLOSED;
    pthread_mutex_unlock(&c->mu);
    if (closed)
        return LIFELINE_ERR_STOPPED;
    uint64_t seq = 0;
    int rc = ll_outbox_append(c->rel->outbox, is_binary != 0, data, len, &seq, on_drop, c);
    pthread_mutex_lock(&c->mu);
    int dropped = c->rel->dropped_upto != 0;
    if (rc == LIFELINE_OK && seq > c->rel->appended)
        c->rel->appended = seq;
    /* a writer that will pull again picks the message up itself */
    int wake = dropped || (rc == LIFELINE_OK && !c->rel->writer_busy);
    pthread_mutex_unlock(&c->mu);
    if (wake)
        ll_client_post(c, LL_CMD_APPENDED | (dropped ? LL_CMD_DROPPED : 0u));
    if (rc == LIFELINE_OK && id)
        *id = seq;
    return rc;
}

/* ---- stopping, figures ----------------------------------------------------------- */

static void on_stop_drop(void *arg, const ll_outbox_msg *m)
{
    lifeline_client *c = arg;
    ll_msg *d = ll_msg_new(m->data, m->len, m->is_binary);
    pthread_mutex_lock(&c->mu);
    if (d) {
        d->reason = LIFELINE_ERR_STOPPED;
        d->id = m->seq;
        ll_queue_push(&c->dropped, d);
    }
    c->msgs_dropped++;
    pthread_mutex_unlock(&c->mu);
}

void ll_rel_stopped(lifeline_client *c)
{
    ll_reliable *r = c->rel;
    if (r->file)
        return; /* kept: written after the next start, by this app or the next */
    ll_outbox_meta m;
    ll_outbox_get_meta(r->outbox, &m);
    if (!m.count)
        return;
    ll_outbox_drain(r->outbox, on_stop_drop, c);
    pthread_mutex_lock(&c->mu);
    ll_dlv_dropped(&r->dlv, m.next_seq - 1);
    pthread_mutex_unlock(&c->mu);
}

void ll_rel_stats(lifeline_client *c, lifeline_stats *s)
{
    ll_reliable *r = c->rel;
    if (!r)
        return;
    ll_outbox_meta m;
    ll_outbox_get_meta(r->outbox, &m);
    s->outbox_messages = m.count;
    s->outbox_bytes = m.bytes;
    pthread_mutex_lock(&c->mu);
    const ll_dlv *d = &r->dlv;
    s->unacked_messages = d->phase == LL_DLV_OPEN ? d->sent_upto - d->acked : 0;
    s->last_acked_id = d->acked;
    s->resends = d->resends;
    s->duplicates_dropped = d->duplicates;
    s->replayed = d->replays;
    s->resumes_recovered = d->resumes;
    s->resumes_lost = d->resumes_lost;
    pthread_mutex_unlock(&c->mu);
}
