/* Four threads send 10 000 messages each (LIFELINE_IT_MESSAGES) while the
 * server is killed and restarted, and two more read the stats meanwhile.
 * Built to run under ThreadSanitizer too.
 *
 * What "nothing lost unreported" means here: every send that returned
 * LIFELINE_OK is, at the end, either counted as written (messages_sent) or
 * reported to on_dropped; echoes arrive in each thread's order with no
 * duplicate; and the only messages without an echo are those in flight
 * when the server died: one contiguous run per thread per restart (no
 * client can know whether a peer that died read what it had written). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#define THREADS 4
#define RESTARTS 2
/* Each thread keeps at most WINDOW messages unanswered, as an app with
 * acknowledgements would: lifeline-server closes a client that lets more
 * than 1024 of its answers pile up (a slow reader), which would be a
 * restart of its own. While the server is down the window fills and the
 * rest waits in the offline queue. What was in flight when the server died
 * never comes back: after each new connection the windows start again from
 * what each thread had sent by then. */
#define WINDOW 100

/* What the echoes say, per thread: kept by the message hook. */
typedef struct tally {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int last[THREADS];       /* last sequence number echoed, -1: none */
    int out_of_order[THREADS];
    int gaps[THREADS];       /* runs of missing numbers */
    int missing[THREADS];
    uint64_t echoed;
    int fence;
    int sent[THREADS];       /* handed to lifeline so far */
    int floor[THREADS];      /* the window counts from here */
} tally;

static tally T;

typedef struct sender {
    lifeline_client *client;
    int id;
    int count;
    pthread_barrier_t *go;
    uint64_t accepted, refused, other;
    int other_error;
    int stalled;             /* the window never opened: the test fails */
} sender;

/* Wait until fewer than WINDOW of thread id's first `sent` messages are
 * unanswered (a deadline only as a failure limit). */
static int window_open(int id, int sent)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += it_scaled(60);
    int ok = 1;
    pthread_mutex_lock(&T.mu);
#define ANSWERED(id) (T.last[id] + 1 > T.floor[id] ? T.last[id] + 1 : T.floor[id])
    while (sent - ANSWERED(id) >= WINDOW)
        if (pthread_cond_timedwait(&T.cv, &T.mu, &until) != 0) {
            ok = sent - ANSWERED(id) < WINDOW;
            break;
        }
    T.sent[id] = sent + 1;
    pthread_mutex_unlock(&T.mu);
    return ok;
}


static void on_echo(it_rec *rec, lifeline_client *c, const void *data, size_t len, int bin)
{
    (void)rec;
    (void)c;
    (void)bin;
    char buf[32];
    if (len >= sizeof(buf))
        return;
    memcpy(buf, data, len);
    buf[len] = '\0';
    pthread_mutex_lock(&T.mu);
    int t, n;
    if (strcmp(buf, "fence") == 0) {
        T.fence = 1;
    } else if (sscanf(buf, "t%d-%d", &t, &n) == 2 && t >= 0 && t < THREADS) {
        if (n <= T.last[t]) {
            T.out_of_order[t]++;
        } else {
            if (n > T.last[t] + 1) {
                T.gaps[t]++;
                T.missing[t] += n - T.last[t] - 1;
            }
            T.last[t] = n;
        }
        T.echoed++;
    }
    pthread_cond_broadcast(&T.cv);
    pthread_mutex_unlock(&T.mu);
}

/* Any new connection (a restart, or a close the server chose) forgives what
 * was in flight on the old one: the windows start again from there. */
static void reopen_windows(it_rec *rec, lifeline_client *c, const lifeline_state_info *info)
{
    (void)rec;
    (void)c;
    if (info->new_state != LIFELINE_STATE_CONNECTED)
        return;
    pthread_mutex_lock(&T.mu);
    for (int t = 0; t < THREADS; t++)
        T.floor[t] = T.sent[t];
    pthread_cond_broadcast(&T.cv);
    pthread_mutex_unlock(&T.mu);
}

static void *send_main(void *arg)
{
    sender *s = arg;
    char msg[32];
    pthread_barrier_wait(s->go);
    for (int i = 0; i < s->count; i++) {
        if (!window_open(s->id, i)) {
            s->stalled = 1;
            return NULL;
        }
        snprintf(msg, sizeof(msg), "t%d-%d", s->id, i);
        int rc = lifeline_client_send_text(s->client, msg);
        if (rc == LIFELINE_OK) {
            s->accepted++;
        } else if (rc == LIFELINE_ERR_QUEUE_FULL) {
            s->refused++;
        } else {
            s->other++;
            s->other_error = rc;
        }
    }
    return NULL;
}

typedef struct reader {
    lifeline_client *client;
    volatile int *stop;
    uint64_t reads;
    int bad;
} reader;

/* Reads the stats each time echoes arrive (woken by the message hook), so
 * that they race with the loop thread without spinning: a spinning reader
 * would starve everything under valgrind, which runs one thread at a time. */
static void *read_main(void *arg)
{
    reader *r = arg;
    while (!__atomic_load_n(r->stop, __ATOMIC_ACQUIRE)) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 50 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&T.mu);
        pthread_cond_timedwait(&T.cv, &T.mu, &until);
        pthread_mutex_unlock(&T.mu);
        lifeline_stats s;
        if (lifeline_client_stats(r->client, &s) != LIFELINE_OK ||
            s.state < 0 || s.state >= LIFELINE_STATE_COUNT)
            r->bad++;
        (void)lifeline_client_state(r->client);
        r->reads++;
    }
    return NULL;
}

static int echoed_at_least(it_rec *rec, void *arg)
{
    (void)rec;
    pthread_mutex_lock(&T.mu);
    int ok = T.echoed >= *(uint64_t *)arg;
    pthread_mutex_unlock(&T.mu);
    return ok;
}

static int fence_back(it_rec *rec, void *arg)
{
    (void)rec;
    (void)arg;
    pthread_mutex_lock(&T.mu);
    int ok = T.fence;
    pthread_mutex_unlock(&T.mu);
    return ok;
}

static void four_threads_lose_nothing_unreported_while_the_server_restarts(void **state)
{
    it_fix *f = *state;
    int per_thread = it_env_int("LIFELINE_IT_MESSAGES", 10000);
    memset(&T, 0, sizeof(T));
    pthread_mutex_init(&T.mu, NULL);
    pthread_cond_init(&T.cv, NULL);
    for (int t = 0; t < THREADS; t++)
        T.last[t] = -1;

    it_fix_start(f, "echo", "threads-user");
    f->rec.keep_messages = 0; /* counted by the hook instead */
    f->rec.on_message_hook = on_echo;
    f->rec.on_state_hook = reopen_windows;
    /* room for everything: any refusal would be a reported one anyway */
    f->cfg.queue_max_messages = (size_t)(THREADS * per_thread + 16);
    f->cfg.queue_max_bytes = 16 * 1024 * 1024;
    /* the heartbeat is not under test: keep a busy loop from timing out */
    f->cfg.ping_interval_ms = 5000;
    f->cfg.ping_timeout_ms = 4000;
    f->cfg.max_attempts = 20;
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);

    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, THREADS + 1);
    sender senders[THREADS];
    pthread_t threads[THREADS], readers[2];
    for (int t = 0; t < THREADS; t++) {
        senders[t] = (sender){.client = f->client, .id = t, .count = per_thread, .go = &go};
        pthread_create(&threads[t], NULL, send_main, &senders[t]);
    }
    volatile int stop_readers = 0;
    reader rd[2] = {{.client = f->client, .stop = &stop_readers},
                    {.client = f->client, .stop = &stop_readers}};
    for (int i = 0; i < 2; i++)
        pthread_create(&readers[i], NULL, read_main, &rd[i]);
    int64_t t0 = it_now_ms();
    pthread_barrier_wait(&go);

    /* restart the server when the echoes pass 1/3 and 2/3 of the total */
    uint64_t total = (uint64_t)THREADS * (uint64_t)per_thread;
    for (int r = 1; r <= RESTARTS; r++) {
        uint64_t mark = total * (uint64_t)r / (RESTARTS + 1);
        IT_ASSERT(&f->rec, it_wait_until(&f->rec, echoed_at_least, &mark, it_scaled(60000)),
                  "echoes stalled before %llu", (unsigned long long)mark);
        it_proc_kill(f->proc, SIGKILL);
        IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, it_scaled(10000), NULL);
        IT_ASSERT(&f->rec, it_proc_restart(f->proc), "restart %d failed", r);
        IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, it_scaled(10000), NULL);
        it_log("restart %d done at %llu echoes", r, (unsigned long long)mark);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    pthread_barrier_destroy(&go);

    /* a fence after everything: once it is back, every echo that will
     * ever come has come */
    assert_int_equal(lifeline_client_send_text(f->client, "fence"), LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_until(&f->rec, fence_back, NULL, it_scaled(60000)),
              "the fence did not come back");
    int64_t took = it_now_ms() - t0;
    __atomic_store_n(&stop_readers, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 2; i++)
        pthread_join(readers[i], NULL);

    assert_int_equal(lifeline_client_stop(f->client, 2000), LIFELINE_OK);
    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);

    uint64_t accepted = 1, refused = 0; /* the fence */
    for (int t = 0; t < THREADS; t++) {
        accepted += senders[t].accepted;
        refused += senders[t].refused;
        IT_ASSERT(&f->rec, senders[t].other == 0, "thread %d: send returned %s", t,
                  lifeline_error_name(senders[t].other_error));
        IT_ASSERT(&f->rec, !senders[t].stalled, "thread %d: no echo for a minute", t);
    }
    pthread_mutex_lock(&f->rec.mu);
    uint64_t dropped_reports = f->rec.dropped;
    pthread_mutex_unlock(&f->rec.mu);
    int missing = 0;
    for (int t = 0; t < THREADS; t++)
        missing += T.missing[t];
    it_log("%llu accepted, %llu refused, %llu written, %llu dropped, %llu echoed, %d in flight "
           "at the kills, %d restarts, %lld ms, %llu stats reads",
           (unsigned long long)accepted, (unsigned long long)refused,
           (unsigned long long)s.messages_sent, (unsigned long long)s.messages_dropped,
           (unsigned long long)T.echoed, missing, RESTARTS, (long long)took,
           (unsigned long long)(rd[0].reads + rd[1].reads));

    /* the peer reports how each connection ended: never because the client
     * sent a text frame that is not UTF-8 (1007) or broke the protocol */
    if (f->target->kind == IT_PEER) {
        size_t bad_payload = it_proc_count_lines(f->proc, "\"fail\",\"code\":1007");
        size_t bad_protocol = it_proc_count_lines(f->proc, "\"fail\",\"code\":1002");
        IT_ASSERT(&f->rec, bad_payload == 0 && bad_protocol == 0,
                  "the peer closed %zu connections with 1007 (invalid payload) and %zu with "
                  "1002 (protocol error)", bad_payload, bad_protocol);
    }
    /* every accepted message is accounted for: written or reported */
    assert_int_equal(s.messages_sent + s.messages_dropped, accepted);
    assert_int_equal(s.messages_dropped, dropped_reports);
    assert_int_equal(s.queued_messages, 0);
    assert_int_equal(refused, 0); /* the queue had room for everything */
    IT_ASSERT(&f->rec, s.reconnections == RESTARTS, "%llu reconnections", (unsigned long long)s.reconnections);
    for (int t = 0; t < THREADS; t++) {
        /* in order, no duplicate, ends with the thread's last message */
        IT_ASSERT(&f->rec, T.out_of_order[t] == 0, "thread %d: %d echoes out of order or repeated",
                  t, T.out_of_order[t]);
        IT_ASSERT(&f->rec, T.last[t] == per_thread - 1, "thread %d: last echo #%d", t, T.last[t]);
        /* losses only where the server died: one run per restart at most */
        IT_ASSERT(&f->rec, T.gaps[t] <= RESTARTS, "thread %d: %d gaps (%d missing)", t,
                  T.gaps[t], T.missing[t]);
    }
    /* each thread message was echoed or lies in one of those runs */
    assert_int_equal(T.echoed + (uint64_t)missing, accepted - 1);
    /* nothing had a reason to be dropped: room for all, nothing left at stop */
    assert_int_equal(s.messages_dropped, 0);
    assert_int_equal(rd[0].bad + rd[1].bad, 0);
    pthread_mutex_destroy(&T.mu);
    pthread_cond_destroy(&T.cv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        IT_BOTH(four_threads_lose_nothing_unreported_while_the_server_restarts),
    };
    return IT_RUN(tests);
}
