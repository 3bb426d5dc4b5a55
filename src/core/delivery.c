/* The client's side of lifeline.v1; see delivery.h and docs/protocol.md
 * ("Rules", "Resume"). */
#include "core/delivery.h"

#include <stdio.h>
#include <string.h>

enum { UNIT_INVALID = 0, UNIT_DATA, UNIT_ACK, UNIT_HELLO, UNIT_WELCOME, UNIT_SKIP };

static ll_dlv_action *emit(ll_dlv *d, int type)
{
    ll_dlv_action *a = &d->actions[d->n_actions++];
    memset(a, 0, sizeof(*a));
    a->type = type;
    return a;
}

static void begin(ll_dlv *d)
{
    d->n_actions = 0;
}

/* The connection breaks the protocol: FAIL with "lifeline.v1: " and the
 * words in d->text. */
static void failed(ll_dlv *d)
{
    emit(d, LL_DLV_FAIL)->text = d->text;
    d->phase = LL_DLV_OFFLINE; /* nothing more is read from this connection */
    d->unacked = 0;
    d->ack_due = LL_DLV_NO_DEADLINE;
}

static void fail(ll_dlv *d, const char *fmt, unsigned long long x, unsigned long long y)
{
    int n = snprintf(d->text, sizeof(d->text), "lifeline.v1: ");
    snprintf(d->text + n, sizeof(d->text) - (size_t)n, fmt, x, y);
    failed(d);
}

static void fail_text(ll_dlv *d, const char *what)
{
    snprintf(d->text, sizeof(d->text), "lifeline.v1: %s", what);
    failed(d);
}

void ll_dlv_init(ll_dlv *d, uint32_t ack_every, int64_t ack_delay_ms)
{
    memset(d, 0, sizeof(*d));
    d->ack_every = ack_every ? ack_every : 1;
    d->ack_delay_ms = ack_delay_ms < 0 ? 0 : ack_delay_ms;
    d->next_seq = 1;
    d->ack_due = LL_DLV_NO_DEADLINE;
}

void ll_dlv_restore(ll_dlv *d, const ll_dlv_saved *s)
{
    memcpy(d->session, s->session, sizeof(d->session));
    d->next_seq = s->next_seq ? s->next_seq : 1;
    d->acked = s->acked < d->next_seq ? s->acked : d->next_seq - 1;
    d->epoch = s->epoch;
    d->received = s->received;
}

void ll_dlv_opened(ll_dlv *d, int64_t now)
{
    (void)now;
    begin(d);
    d->phase = LL_DLV_HELLO_SENT;
    d->unacked = 0;
    d->ack_due = LL_DLV_NO_DEADLINE;
    d->sent_upto = d->acked;
    d->hello_acked = d->acked;
    emit(d, LL_DLV_SEND_HELLO);
}

void ll_dlv_closed(ll_dlv *d)
{
    begin(d);
    d->phase = LL_DLV_OFFLINE;
    d->unacked = 0;
    d->ack_due = LL_DLV_NO_DEADLINE;
}

void ll_dlv_appended(ll_dlv *d, uint64_t seq)
{
    begin(d);
    if (seq >= d->next_seq)
        d->next_seq = seq + 1;
    if (d->phase != LL_DLV_OPEN || seq <= d->sent_upto)
        return;
    ll_dlv_action *a = emit(d, LL_DLV_SEND);
    a->seq = d->sent_upto + 1; /* always seq: appends come in order */
    a->upto = seq;
    d->sent_upto = seq;
    if (seq > d->sent_ever)
        d->sent_ever = seq;
}

void ll_dlv_dropped(ll_dlv *d, uint64_t upto)
{
    begin(d);
    if (upto >= d->next_seq)
        d->next_seq = upto + 1; /* numbered by the outbox, dropped before told */
    if (upto > d->acked)
        d->acked = upto;
    /* on an open connection the writer skips what it finds gone (a hole in
     * the numbers it reads from the outbox); the welcome's SEND_SKIP covers
     * what was dropped while the hello was out */
    if (d->sent_upto < upto)
        d->sent_upto = upto;
}

/* One more server message seen: acknowledge now, or arm the delay. */
static void count_for_ack(ll_dlv *d, int64_t now)
{
    d->unacked++;
    if (d->unacked >= d->ack_every) {
        emit(d, LL_DLV_SEND_ACK)->seq = d->received;
        d->unacked = 0;
        d->ack_due = LL_DLV_NO_DEADLINE;
    } else if (d->ack_due == LL_DLV_NO_DEADLINE) {
        d->ack_due = now + d->ack_delay_ms;
    }
}

static void on_welcome(ll_dlv *d, const ll_dlv_unit *u)
{
    if (u->accepted < d->hello_acked || u->accepted >= d->next_seq) {
        fail(d, "welcome accepts %llu, but the client holds from %llu", u->accepted,
             d->hello_acked + 1);
        return;
    }
    if (u->recovered && u->epoch != d->epoch) {
        fail(d, "welcome recovers epoch %016llx, but the client's is %016llx", u->epoch,
             d->epoch);
        return;
    }
    if (u->recovered && (u->first != d->received + 1 || u->last < d->received)) {
        fail(d, "welcome replays from %llu, but the client has up to %llu", u->first,
             d->received);
        return;
    }
    if (u->accepted > d->acked) {
        emit(d, LL_DLV_ACKED)->seq = u->accepted;
        d->acked = u->accepted;
    } else if (u->accepted < d->acked) {
        /* dropped since the hello, unsent: the server skips them */
        emit(d, LL_DLV_SEND_SKIP)->seq = d->acked;
    }
    ll_dlv_action *r = emit(d, LL_DLV_RESUMED);
    r->recovered = u->recovered;
    r->epoch = u->epoch;
    if (u->recovered) {
        r->replay = u->last - d->received;
        d->replays += r->replay;
        d->resumes++;
    } else {
        if (d->epoch != 0)
            d->resumes_lost++;
        d->epoch = u->epoch;
        d->received = u->last;
    }
    r->seq = d->received;
    d->phase = LL_DLV_OPEN;
    if (d->acked + 1 < d->next_seq) {
        ll_dlv_action *s = emit(d, LL_DLV_SEND);
        s->seq = d->acked + 1;
        s->upto = d->next_seq - 1;
        if (d->sent_ever >= s->seq) /* those went out before */
            d->resends += (d->sent_ever < s->upto ? d->sent_ever : s->upto) - s->seq + 1;
    }
    d->sent_upto = d->next_seq - 1;
    if (d->sent_upto > d->sent_ever)
        d->sent_ever = d->sent_upto;
}

static void on_data(ll_dlv *d, const ll_dlv_unit *u, int64_t now)
{
    if (u->seq <= d->received) {
        emit(d, LL_DLV_DUPLICATE)->seq = u->seq;
        d->duplicates++;
    } else if (u->seq == d->received + 1) {
        emit(d, LL_DLV_DELIVER)->seq = u->seq;
        d->received = u->seq;
    } else {
        fail(d, "gap: expected %llu, got %llu", d->received + 1, u->seq);
        return;
    }
    count_for_ack(d, now);
}

static void on_ack(ll_dlv *d, const ll_dlv_unit *u)
{
    if (u->seq > d->sent_upto) {
        fail(d, "ack %llu for a message never sent (last %llu)", u->seq, d->sent_upto);
        return;
    }
    if (u->seq <= d->acked)
        return; /* cumulative: an older one says nothing new */
    emit(d, LL_DLV_ACKED)->seq = u->seq;
    d->acked = u->seq;
}

void ll_dlv_unit_in(ll_dlv *d, const ll_dlv_unit *u, int64_t now)
{
    begin(d);
    if (d->phase == LL_DLV_OFFLINE)
        return; /* after a failure: nothing more is read */
    switch (u->kind) {
    case UNIT_WELCOME:
        if (d->phase != LL_DLV_HELLO_SENT)
            fail_text(d, "a second welcome");
        else
            on_welcome(d, u);
        return;
    case UNIT_DATA:
    case UNIT_ACK:
        if (d->phase != LL_DLV_OPEN) {
            fail_text(d, u->kind == UNIT_DATA ? "data before the welcome" : "ack before the welcome");
            return;
        }
        if (u->kind == UNIT_DATA)
            on_data(d, u, now);
        else
            on_ack(d, u);
        return;
    case UNIT_HELLO:
        fail_text(d, "a hello from the server");
        return;
    case UNIT_SKIP:
        fail_text(d, "a skip from the server");
        return;
    default:
        fail_text(d, u->error ? u->error : "not a lifeline.v1 unit");
        return;
    }
}

void ll_dlv_tick(ll_dlv *d, int64_t now)
{
    begin(d);
    if (d->ack_due == LL_DLV_NO_DEADLINE || now < d->ack_due)
        return;
    d->ack_due = LL_DLV_NO_DEADLINE;
    if (d->phase == LL_DLV_OPEN && d->unacked) {
        emit(d, LL_DLV_SEND_ACK)->seq = d->received;
        d->unacked = 0;
    }
}

int64_t ll_dlv_deadline(const ll_dlv *d)
{
    return d->ack_due;
}

uint64_t ll_dlv_unacked(const ll_dlv *d)
{
    return d->next_seq - 1 - d->acked;
}
