/* Echo load through the lifeline SDK: sequential round trips (--window 1)
 * or a pipelined window of messages in flight, for --seconds after
 * --warmup. --mode cb sends the next message from on_message (the loop
 * thread); --mode thread sends from the main thread, as an app that hands
 * work across threads would. Prints one JSON line; RTTs (us) go to
 * --samples when the window is 1. */
#include <pthread.h>

#include <lifeline/lifeline.h>

#include "bench_common.h"

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    lifeline_client *c;
    int thread_mode, connected, done;
    size_t size;
    char *payload;
    long sent;
    bench_meter m;
} B = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void send_one(void)
{
    B.m.last_send = now_us();
    if (lifeline_client_send(B.c, B.payload, B.size, 0) == LIFELINE_OK)
        B.sent++;
}

static void on_message(lifeline_client *c, const void *d, size_t len, int bin, void *ud)
{
    (void)c, (void)d, (void)bin, (void)ud;
    if (len != B.size)
        return; /* not an echo of ours */
    if (B.thread_mode) {
        pthread_mutex_lock(&B.mu);
        if (!B.done && bench_account(&B.m))
            B.done = 1;
        pthread_cond_signal(&B.cv);
        pthread_mutex_unlock(&B.mu);
        return;
    }
    if (B.done)
        return;
    if (bench_account(&B.m)) {
        pthread_mutex_lock(&B.mu);
        B.done = 1;
        pthread_cond_signal(&B.cv);
        pthread_mutex_unlock(&B.mu);
        return;
    }
    send_one();
}

static void on_state(lifeline_client *c, const lifeline_state_info *i, void *ud)
{
    (void)c, (void)ud;
    pthread_mutex_lock(&B.mu);
    B.connected = i->new_state == LIFELINE_STATE_CONNECTED;
    if (i->new_state != LIFELINE_STATE_CONNECTED && i->new_state != LIFELINE_STATE_CONNECTING &&
        B.sent && !B.done) {
        fprintf(stderr, "lifeline_echo: left connected: %s\n", i->reason);
        B.done = 2;
    }
    pthread_cond_signal(&B.cv);
    pthread_mutex_unlock(&B.mu);
}

int main(int argc, char **argv)
{
    const char *url = opt_str(argc, argv, "--url", NULL);
    if (!url) {
        fprintf(stderr, "usage: lifeline_echo --url URL [--size N] [--window N] [--seconds S]"
                        " [--warmup S] [--max N] [--mode cb|thread] [--samples FILE]\n");
        return 2;
    }
    B.size = (size_t)opt_num(argc, argv, "--size", 64);
    bench_meter_args(&B.m, argc, argv);
    B.thread_mode = !strcmp(opt_str(argc, argv, "--mode", "cb"), "thread");
    B.payload = malloc(B.size);
    memset(B.payload, 'x', B.size);
    B.payload[0] = 'm'; /* not JSON: echoed unchanged */
    B.m.cap_rtt = B.m.window == 1 ? 4000000 : 0;
    B.m.rtt = malloc((B.m.cap_rtt ? B.m.cap_rtt : 1) * sizeof(int64_t));

    lifeline_config cfg;
    lifeline_config_init(&cfg);
    cfg.url = url;
    cfg.on_message = on_message;
    cfg.on_state = on_state;
    cfg.queue_max_messages = B.m.window * 2 + 16;
    cfg.queue_max_bytes = (B.m.window * 2 + 16) * B.size;
    int err = lifeline_client_new(&cfg, &B.c);
    if (err) {
        fprintf(stderr, "lifeline_echo: %s\n", lifeline_strerror(err));
        return 1;
    }
    lifeline_client_start(B.c);
    int64_t deadline = now_us() + (int64_t)((B.m.warmup_s + B.m.seconds + 20) * 1e6);
    pthread_mutex_lock(&B.mu);
    while (!B.connected && now_us() < deadline) {
        pthread_mutex_unlock(&B.mu);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&B.mu);
    }
    int ok = B.connected;
    pthread_mutex_unlock(&B.mu);
    if (!ok) {
        fprintf(stderr, "lifeline_echo: not connected\n");
        return 1;
    }
    B.m.first_send = now_us();
    if (!B.thread_mode) {
        /* the first window from here; on_message keeps it full */
        for (size_t k = 0; k < B.m.window; k++)
            send_one();
        pthread_mutex_lock(&B.mu);
        while (!B.done && now_us() < deadline) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            pthread_cond_timedwait(&B.cv, &B.mu, &until);
        }
        pthread_mutex_unlock(&B.mu);
    } else {
        pthread_mutex_lock(&B.mu);
        while (!B.done && now_us() < deadline) {
            while (!B.done && (size_t)(B.sent - B.m.recv) < B.m.window) {
                B.sent++;
                B.m.last_send = now_us();
                pthread_mutex_unlock(&B.mu);
                lifeline_client_send(B.c, B.payload, B.size, 0);
                pthread_mutex_lock(&B.mu);
            }
            if (!B.done && (size_t)(B.sent - B.m.recv) >= B.m.window)
                pthread_cond_wait(&B.cv, &B.mu);
        }
        pthread_mutex_unlock(&B.mu);
    }
    int failed = B.done != 1;
    lifeline_client_free(B.c);
    if (failed) {
        fprintf(stderr, "lifeline_echo: run did not complete\n");
        return 1;
    }
    double secs = (double)(B.m.t1 - B.m.t0) / 1e6;
    write_samples(opt_str(argc, argv, "--samples", NULL), B.m.rtt, B.m.n_rtt);
    printf("{\"msgs\":%ld,\"seconds\":%.6f,\"cpu_s\":%.6f,\"rtt_samples\":%zu}\n", B.m.n1 - B.m.n0,
           secs, B.m.cpu1 - B.m.cpu0, B.m.n_rtt);
    return 0;
}
