/* Delivery through the lifeline SDK (lifeline.v1, docs/protocol.md), for
 * scenarios/delivery.py. One JSON line on stdout. --phase:
 *
 *   throughput  (default) --count messages of --size bytes sent from the main
 *               thread. --mode reliable: lifeline_client_send_id() into an
 *               outbox of --window messages (queue_max_messages; a full
 *               outbox makes the sender wait for the next on_acked), timed
 *               from the first send to the on_acked of the last id.
 *               --mode best_effort: lifeline_client_send() (a queue big
 *               enough for all), then one {"type":"echo"} request, timed
 *               until its answer: the server has read and handled every
 *               message before it (one connection keeps the order).
 *               --kind broadcast: each message is a broadcast to the
 *               client's store, which has no other member (the server
 *               answers nothing, as an MQTT broker with no subscriber);
 *               --kind echo: text that is not JSON, which the server echoes
 *               (the run then also waits for every echo, and the client
 *               acknowledges the server's stream: both directions' acks).
 *   backlog     reliable, file outbox: --count messages sent while the
 *               client is idle (not started), the file's size with them,
 *               then started: the size once every message is acknowledged.
 *   first       reliable, file outbox: connect (a new session), then stop.
 *   replay      reliable, the same outbox file: start, and time until
 *               --count messages reach on_message (the server's replay).
 *
 * Options: --url URL --mode reliable|best_effort --outbox PATH (none: in
 * memory) --durability normal|full --window N --ack-every N
 * --ack-delay-ms N --kind broadcast|echo --timeout S. */
#define _GNU_SOURCE /* memmem */
#include <pthread.h>
#include <sys/stat.h>

#include <lifeline/lifeline.h>

#include "bench_common.h"

#define MARKER "done-marker-7f3a"

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    lifeline_client *c;
    size_t size;
    int connected, resumed, recovered, marker, left;
    uint64_t replayed, last_acked;
    long acks_in, msgs_in, echoes;
    int64_t t_connected, t_resumed, t_last_msg;
} B = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void on_state(lifeline_client *c, const lifeline_state_info *i, void *ud)
{
    (void)c, (void)ud;
    pthread_mutex_lock(&B.mu);
    B.connected = i->new_state == LIFELINE_STATE_CONNECTED;
    if (B.connected && !B.t_connected)
        B.t_connected = now_us();
    if (i->old_state == LIFELINE_STATE_CONNECTED && i->new_state != LIFELINE_STATE_CLOSED) {
        B.left++;
        fprintf(stderr, "lifeline_delivery: left connected: %s\n", i->reason);
    }
    pthread_cond_broadcast(&B.cv);
    pthread_mutex_unlock(&B.mu);
}

static void on_message(lifeline_client *c, const void *d, size_t len, int bin, void *ud)
{
    (void)c, (void)bin, (void)ud;
    pthread_mutex_lock(&B.mu);
    B.msgs_in++;
    B.t_last_msg = now_us();
    if (len == B.size && ((const char *)d)[0] == 'm')
        B.echoes++;
    else if (memmem(d, len, MARKER, sizeof(MARKER) - 1))
        B.marker = 1;
    pthread_cond_broadcast(&B.cv);
    pthread_mutex_unlock(&B.mu);
}

static void on_acked(lifeline_client *c, uint64_t id, void *ud)
{
    (void)c, (void)ud;
    pthread_mutex_lock(&B.mu);
    B.last_acked = id;
    B.acks_in++;
    pthread_cond_broadcast(&B.cv);
    pthread_mutex_unlock(&B.mu);
}

static void on_resumed(lifeline_client *c, int recovered, uint64_t replayed, void *ud)
{
    (void)c, (void)ud;
    pthread_mutex_lock(&B.mu);
    B.resumed++;
    B.recovered = recovered;
    B.replayed = replayed;
    B.t_resumed = now_us();
    pthread_cond_broadcast(&B.cv);
    pthread_mutex_unlock(&B.mu);
}

/* Wait (B.mu held) for a change, 10 ms at most; -1 once past deadline. */
static int wait_until(int64_t deadline)
{
    return bench_wait_until(&B.cv, &B.mu, deadline);
}

static long long file_size(const char *path, const char *suffix)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s%s", path, suffix);
    struct stat st;
    return stat(p, &st) == 0 ? (long long)st.st_size : 0;
}

static int fail(const char *what)
{
    fprintf(stderr, "lifeline_delivery: %s\n", what);
    return 1;
}

int main(int argc, char **argv)
{
    const char *url = opt_str(argc, argv, "--url", NULL);
    const char *phase = opt_str(argc, argv, "--phase", "throughput");
    const char *mode = opt_str(argc, argv, "--mode", "reliable");
    const char *outbox = opt_str(argc, argv, "--outbox", NULL);
    const char *kind = opt_str(argc, argv, "--kind", "broadcast");
    int reliable = strcmp(mode, "best_effort") != 0;
    int echo = !strcmp(kind, "echo");
    long count = (long)opt_num(argc, argv, "--count", 20000);
    B.size = (size_t)opt_num(argc, argv, "--size", 256);
    double window = opt_num(argc, argv, "--window", 0);
    double timeout_s = opt_num(argc, argv, "--timeout", 120);
    if (!url || B.size < 40) {
        fprintf(stderr, "usage: lifeline_delivery --url URL [--phase throughput|backlog|first|"
                        "replay] [--mode reliable|best_effort] [--outbox PATH] [--durability "
                        "normal|full] [--count N] [--size N>=40] [--window N] [--ack-every N] "
                        "[--ack-delay-ms N] [--kind broadcast|echo] [--timeout S]\n");
        return 2;
    }
    if (strcmp(phase, "throughput") && (!reliable || !outbox))
        return fail("phases other than throughput need --mode reliable and --outbox");

    /* the message: a broadcast of size bytes in all, or size bytes of
     * text that is not JSON ("m..."), which the server echoes */
    char *payload = malloc(B.size + 1);
    if (echo) {
        memset(payload, 'x', B.size);
        payload[0] = 'm';
    } else {
        const char *head = "{\"type\":\"broadcast\",\"data\":\"";
        size_t hl = strlen(head);
        memcpy(payload, head, hl);
        memset(payload + hl, 'x', B.size - hl - 2);
        memcpy(payload + B.size - 2, "\"}", 2);
    }
    payload[B.size] = 0;

    lifeline_config cfg;
    lifeline_config_init(&cfg);
    cfg.url = url;
    cfg.on_state = on_state;
    cfg.on_message = on_message;
    cfg.on_acked = on_acked;
    cfg.on_resumed = on_resumed;
    if (reliable) {
        cfg.delivery = LIFELINE_DELIVERY_RELIABLE;
        cfg.outbox_path = outbox;
        cfg.outbox_durability = !strcmp(opt_str(argc, argv, "--durability", "normal"), "full")
                                    ? LIFELINE_DURABILITY_FULL
                                    : LIFELINE_DURABILITY_NORMAL;
        cfg.ack_every = (int)opt_num(argc, argv, "--ack-every", cfg.ack_every);
        cfg.ack_delay_ms = (int)opt_num(argc, argv, "--ack-delay-ms", cfg.ack_delay_ms);
        if (window > 0) {
            /* the outbox's window; its bytes never the tighter bound */
            cfg.queue_max_messages = (size_t)window;
            size_t bytes = (size_t)window * (B.size + 64);
            if (bytes > cfg.queue_max_bytes)
                cfg.queue_max_bytes = bytes;
        }
    } else {
        /* best effort: the queue takes every message at once */
        cfg.queue_max_messages = (size_t)count + 16;
        cfg.queue_max_bytes = ((size_t)count + 16) * (B.size + 64);
    }
    int err = lifeline_client_new(&cfg, &B.c);
    if (err)
        return fail(lifeline_strerror(err));
    int64_t deadline = now_us() + (int64_t)(timeout_s * 1e6);

    if (!strcmp(phase, "replay")) {
        int64_t t_start = now_us();
        lifeline_client_start(B.c);
        pthread_mutex_lock(&B.mu);
        while (B.msgs_in < count && wait_until(deadline) == 0)
            ;
        long got = B.msgs_in;
        int64_t t_last = B.t_last_msg, t_conn = B.t_connected, t_res = B.t_resumed;
        int resumed = B.resumed, recovered = B.recovered;
        uint64_t replayed = B.replayed;
        pthread_mutex_unlock(&B.mu);
        lifeline_client_free(B.c);
        if (got < count || !resumed)
            return fail("the replay did not complete");
        printf("{\"messages\":%ld,\"recovered\":%d,\"replayed\":%llu,\"start_to_last_ms\":%.3f,"
               "\"connected_to_last_ms\":%.3f,\"resumed_to_last_ms\":%.3f,"
               "\"start_to_connected_ms\":%.3f}\n",
               got, recovered, (unsigned long long)replayed, (double)(t_last - t_start) / 1e3,
               (double)(t_last - t_conn) / 1e3, (double)(t_last - t_res) / 1e3,
               (double)(t_conn - t_start) / 1e3);
        return 0;
    }

    long long before_db = 0, before_wal = 0;
    uint64_t last_id = 0;
    if (!strcmp(phase, "backlog")) {
        before_db = file_size(outbox, "");
        before_wal = file_size(outbox, "-wal");
        for (long i = 0; i < count; i++)
            if ((err = lifeline_client_send_id(B.c, payload, B.size, 0, &last_id)))
                return fail(lifeline_strerror(err));
    }
    if (lifeline_client_start(B.c))
        return fail("start");
    pthread_mutex_lock(&B.mu);
    while ((reliable ? !B.resumed : !B.connected) && wait_until(deadline) == 0)
        ;
    int ready = reliable ? B.resumed : B.connected;
    pthread_mutex_unlock(&B.mu);
    if (!ready)
        return fail("not connected");

    if (!strcmp(phase, "first")) {
        lifeline_client_stop(B.c, 2000);
        lifeline_client_free(B.c);
        printf("{\"session\":\"new\",\"recovered\":%d}\n", B.recovered);
        return 0;
    }

    if (!strcmp(phase, "backlog")) {
        long long held_db = file_size(outbox, ""), held_wal = file_size(outbox, "-wal");
        int64_t t0 = now_us();
        pthread_mutex_lock(&B.mu);
        while (B.last_acked < last_id && wait_until(deadline) == 0)
            ;
        int drained = B.last_acked >= last_id;
        pthread_mutex_unlock(&B.mu);
        int64_t t1 = now_us();
        long long drained_db = file_size(outbox, ""), drained_wal = file_size(outbox, "-wal");
        lifeline_client_free(B.c);
        if (!drained)
            return fail("the backlog did not drain");
        printf("{\"messages\":%ld,\"size\":%zu,\"empty_db\":%lld,\"empty_wal\":%lld,"
               "\"held_db\":%lld,\"held_wal\":%lld,\"drain_s\":%.6f,\"drained_db\":%lld,"
               "\"drained_wal\":%lld,\"closed_db\":%lld,\"closed_wal\":%lld}\n",
               count, B.size, before_db, before_wal, held_db, held_wal, (double)(t1 - t0) / 1e6,
               drained_db, drained_wal, file_size(outbox, ""), file_size(outbox, "-wal"));
        return 0;
    }

    /* throughput */
    long full_waits = 0;
    int64_t t0 = now_us();
    double cpu0 = cpu_s();
    for (long i = 0; i < count; i++) {
        for (;;) {
            pthread_mutex_lock(&B.mu);
            long acks = B.acks_in;
            pthread_mutex_unlock(&B.mu);
            err = reliable ? lifeline_client_send_id(B.c, payload, B.size, 0, &last_id)
                           : lifeline_client_send(B.c, payload, B.size, 0);
            if (err != LIFELINE_ERR_QUEUE_FULL)
                break;
            /* the outbox is full: wait for the next ack */
            full_waits++;
            pthread_mutex_lock(&B.mu);
            while (B.acks_in == acks && wait_until(deadline) == 0)
                ;
            int late = now_us() >= deadline;
            pthread_mutex_unlock(&B.mu);
            if (late)
                return fail("timed out waiting for acks");
        }
        if (err)
            return fail(lifeline_strerror(err));
    }
    if (!reliable && !echo)
        lifeline_client_send_text(B.c, "{\"type\":\"echo\",\"data\":\"" MARKER "\"}");
    pthread_mutex_lock(&B.mu);
    for (;;) {
        int done = reliable ? B.last_acked >= last_id : (echo || B.marker);
        if (echo && B.echoes < count)
            done = 0;
        if (done || wait_until(deadline) != 0)
            break;
    }
    int64_t t1 = now_us();
    double cpu1 = cpu_s();
    int complete = reliable ? B.last_acked >= last_id : (echo ? B.echoes >= count : B.marker);
    long acks_in = B.acks_in, echoes = B.echoes;
    int left = B.left;
    pthread_mutex_unlock(&B.mu);
    lifeline_stats st;
    lifeline_client_stats(B.c, &st);
    lifeline_client_free(B.c);
    free(payload);
    if (!complete)
        return fail("the run did not complete");
    double secs = (double)(t1 - t0) / 1e6;
    printf("{\"msgs\":%ld,\"seconds\":%.6f,\"msgs_per_s\":%.1f,\"cpu_s\":%.6f,\"acks_in\":%ld,"
           "\"echoes\":%ld,\"full_waits\":%ld,\"left_connected\":%d,\"resends\":%llu,"
           "\"duplicates\":%llu}\n",
           count, secs, (double)count / secs, cpu1 - cpu0, acks_in, echoes, full_waits, left,
           (unsigned long long)st.resends, (unsigned long long)st.duplicates_dropped);
    return 0;
}
