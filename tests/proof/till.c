/* A till for the delivery proofs (issue 12): sends the numbers 1..COUNT as
 * "n=<k>" through lifeline.v1 with an outbox file, and prints what the
 * tests read, one line each, flushed:
 *
 *   sent <k>        lifeline_client_send_id() returned: k is in the outbox
 *   acked <k>       the server has every number up to k
 *   got <text>      a message from the server (the echoes "n=<k>", and any
 *                   other message it sends, such as presence events)
 *   resumed <0|1> <replayed>
 *   state <name>
 *   done            every number acked (and, with --echoes, the echo of the
 *                   last number got: echoes come in order, so every echo
 *                   that will come has come; the tests check which did)
 *
 * Killed at any moment and started again with the same outbox, it goes on
 * from the number after the last one its outbox holds: k is the id the
 * outbox gave (the session numbers from 1, one number per message, none
 * dropped: the outbox refuses when full, and the till waits for acks).
 *
 *   till URL OUTBOX COUNT [--echoes] [--ping-ms N]
 */
#include <lifeline/lifeline.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static uint64_t acked;
static uint64_t last_echo; /* the number of the last echo got */
static int gave_up;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    flockfile(stdout);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
    funlockfile(stdout);
    va_end(ap);
}

static void on_acked(lifeline_client *c, uint64_t id, void *ud)
{
    (void)c;
    (void)ud;
    say("acked %llu", (unsigned long long)id);
    pthread_mutex_lock(&mu);
    acked = id;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void on_message(lifeline_client *c, const void *data, size_t len, int bin, void *ud)
{
    (void)c;
    (void)bin;
    (void)ud;
    say("got %.*s", (int)len, (const char *)data);
    if (len < 2 || memcmp(data, "n=", 2) != 0)
        return; /* not an echo: the server's own news (presence events) */
    char num[24];
    size_t n = len - 2 < sizeof(num) - 1 ? len - 2 : sizeof(num) - 1;
    memcpy(num, (const char *)data + 2, n);
    num[n] = 0;
    pthread_mutex_lock(&mu);
    last_echo = strtoull(num, NULL, 10);
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void on_resumed(lifeline_client *c, int recovered, uint64_t replayed, void *ud)
{
    (void)c;
    (void)ud;
    say("resumed %d %llu", recovered, (unsigned long long)replayed);
}

static void on_state(lifeline_client *c, const lifeline_state_info *i, void *ud)
{
    (void)c;
    (void)ud;
    say("state %s %s", lifeline_state_name(i->new_state), i->reason);
    if (i->new_state == LIFELINE_STATE_ERROR) {
        pthread_mutex_lock(&mu);
        gave_up = 1;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
    }
}

static void wait_a_little(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += 100 * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&cv, &mu, &t);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: till URL OUTBOX COUNT [--echoes] [--ping-ms N]\n");
        return 2;
    }
    uint64_t count = strtoull(argv[3], NULL, 10);
    int want_echoes = 0, ping_ms = 1000;
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--echoes") == 0)
            want_echoes = 1;
        else if (strcmp(argv[i], "--ping-ms") == 0 && i + 1 < argc)
            ping_ms = atoi(argv[++i]);
    }
    lifeline_config cfg;
    lifeline_config_init(&cfg);
    cfg.url = argv[1];
    cfg.delivery = LIFELINE_DELIVERY_RELIABLE;
    cfg.outbox_path = argv[2];
    cfg.queue_max_messages = 500;
    cfg.base_delay_ms = 100;
    cfg.max_delay_ms = 1000;
    cfg.jitter_ms = 100;
    cfg.max_attempts = 5;
    cfg.down_ping_interval_ms = 500;
    cfg.connect_timeout_ms = 2000;
    cfg.ping_interval_ms = ping_ms;
    cfg.ping_timeout_ms = ping_ms / 2;
    cfg.on_acked = on_acked;
    cfg.on_message = on_message;
    cfg.on_resumed = on_resumed;
    cfg.on_state = on_state;
    lifeline_client *c;
    int rc = lifeline_client_new(&cfg, &c);
    if (rc) {
        char why[300] = "";
        lifeline_outbox_check(cfg.outbox_path, why, sizeof(why));
        fprintf(stderr, "till: %s: %s\n", lifeline_error_name(rc), why);
        return 1;
    }
    lifeline_stats s;
    lifeline_client_stats(c, &s);
    uint64_t next = s.last_acked_id + s.outbox_messages + 1;
    acked = s.last_acked_id; /* a till killed after its last ack sees no more */
    say("start %llu", (unsigned long long)next);
    lifeline_client_start(c);
    for (uint64_t k = next; k <= count; k++) {
        char text[32];
        int n = snprintf(text, sizeof(text), "n=%llu", (unsigned long long)k);
        uint64_t id = 0;
        while ((rc = lifeline_client_send_id(c, text, (size_t)n, 0, &id)) ==
               LIFELINE_ERR_QUEUE_FULL) {
            pthread_mutex_lock(&mu);
            wait_a_little(); /* until an ack makes room */
            pthread_mutex_unlock(&mu);
        }
        if (rc) {
            fprintf(stderr, "till: send %llu: %s\n", (unsigned long long)k, lifeline_error_name(rc));
            return 1;
        }
        if (id != k) {
            fprintf(stderr, "till: number %llu got id %llu\n", (unsigned long long)k,
                    (unsigned long long)id);
            return 1;
        }
        say("sent %llu", (unsigned long long)k);
    }
    pthread_mutex_lock(&mu);
    while (!gave_up && (acked < count || (want_echoes && last_echo < count)))
        wait_a_little();
    int ok = !gave_up;
    pthread_mutex_unlock(&mu);
    lifeline_client_stats(c, &s);
    say("stats resends %llu duplicates %llu replayed %llu recovered %llu lost %llu",
        (unsigned long long)s.resends, (unsigned long long)s.duplicates_dropped,
        (unsigned long long)s.replayed, (unsigned long long)s.resumes_recovered,
        (unsigned long long)s.resumes_lost);
    lifeline_client_free(c);
    if (ok)
        say("done");
    return ok ? 0 : 1;
}
