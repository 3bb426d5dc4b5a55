/* The Autobahn TestSuite's client side: lifeline as a user sees it (the
 * public header and the shared library only), echoing every message.
 *
 *     echo_client ws://127.0.0.1:PORT AGENT
 *
 * Reads the number of cases from /getCaseCount, runs each one at
 * /runCase?case=N&agent=AGENT with its own client, echoing each message as
 * it came (text as text, binary as binary), goes on to the next case when
 * that connection ends (the fuzzing server closes it: the client is freed
 * on its first disconnected, error, server_down or closed state, never
 * reconnecting), then asks for /updateReports?agent=AGENT. Exits 0 when
 * every step could be run; the verdicts are in the suite's reports.
 * tests/autobahn/autobahn.py runs it. */
#include <lifeline/lifeline.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Cases 9.* send messages of up to 16 MiB. */
#define MAX_MESSAGE ((size_t)16 * 1024 * 1024 + 1024)

typedef struct run {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;          /* the connection ended (or never opened) */
    int opened;
    int echo;          /* 1: send every message back */
    char first[64];    /* the first text message (getCaseCount) */
    int have_first;
    int send_errors;
    int last_error;
    char last_reason[160];
} run;

static void on_state(lifeline_client *c, const lifeline_state_info *info, void *ud)
{
    (void)c;
    run *r = ud;
    pthread_mutex_lock(&r->mu);
    if (info->new_state == LIFELINE_STATE_CONNECTED) {
        r->opened = 1;
    } else if (info->new_state == LIFELINE_STATE_DISCONNECTED ||
               info->new_state == LIFELINE_STATE_ERROR ||
               info->new_state == LIFELINE_STATE_SERVER_DOWN ||
               info->new_state == LIFELINE_STATE_CLOSED) {
        if (!r->done) {
            r->last_error = info->error;
            snprintf(r->last_reason, sizeof(r->last_reason), "%s", info->reason);
        }
        r->done = 1;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
}

static void on_message(lifeline_client *c, const void *data, size_t len, int is_binary,
                       void *ud)
{
    run *r = ud;
    pthread_mutex_lock(&r->mu);
    int echo = r->echo;
    if (!r->have_first && !is_binary) {
        size_t n = len < sizeof(r->first) - 1 ? len : sizeof(r->first) - 1;
        memcpy(r->first, data, n);
        r->first[n] = 0;
        r->have_first = 1;
    }
    pthread_mutex_unlock(&r->mu);
    if (echo && lifeline_client_send(c, data, len, is_binary) != LIFELINE_OK) {
        pthread_mutex_lock(&r->mu);
        r->send_errors++;
        pthread_mutex_unlock(&r->mu);
    }
}

/* One connection to url, until it ends or timeout_s passes. Returns 0 when
 * it opened and ended, -1 otherwise. */
static int run_one(const char *url, int echo, int timeout_s, run *r)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->echo = echo;

    lifeline_config cfg;
    lifeline_config_init(&cfg);
    cfg.url = url;
    cfg.max_message_bytes = MAX_MESSAGE;
    cfg.queue_max_bytes = 4 * MAX_MESSAGE;
    cfg.queue_max_messages = 100000;
    cfg.max_attempts = 1;
    /* no pings of ours in the middle of a case */
    cfg.ping_interval_ms = 3600 * 1000;
    cfg.ping_timeout_ms = 60 * 1000;
    cfg.on_state = on_state;
    cfg.on_message = on_message;
    cfg.user_data = r;

    lifeline_client *c = NULL;
    int err = lifeline_client_new(&cfg, &c);
    if (err != LIFELINE_OK) {
        fprintf(stderr, "echo_client: %s: %s\n", url, lifeline_strerror(err));
        return -1;
    }
    err = lifeline_client_start(c);
    if (err != LIFELINE_OK) {
        fprintf(stderr, "echo_client: start: %s\n", lifeline_strerror(err));
        lifeline_client_free(c);
        return -1;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_s;
    int rc = 0;
    pthread_mutex_lock(&r->mu);
    while (!r->done && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&r->cv, &r->mu, &until);
    int ok = r->done && r->opened;
    pthread_mutex_unlock(&r->mu);
    lifeline_client_free(c); /* no callback after this */
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    if (!ok)
        fprintf(stderr, "echo_client: %s: %s\n", url,
                r->done ? r->last_reason : "did not end in time");
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: echo_client ws://HOST:PORT AGENT\n");
        return 2;
    }
    const char *base = argv[1], *agent = argv[2];
    char url[512];
    run r;

    snprintf(url, sizeof(url), "%s/getCaseCount", base);
    if (run_one(url, 0, 30, &r) < 0 || !r.have_first)
        return 1;
    int count = atoi(r.first);
    if (count <= 0) {
        fprintf(stderr, "echo_client: getCaseCount answered \"%s\"\n", r.first);
        return 1;
    }
    fprintf(stderr, "echo_client: %d cases\n", count);

    int failures = 0;
    for (int i = 1; i <= count; i++) {
        snprintf(url, sizeof(url), "%s/runCase?case=%d&agent=%s", base, i, agent);
        if (run_one(url, 1, 120, &r) < 0)
            failures++;
        if (r.send_errors)
            fprintf(stderr, "echo_client: case %d: %d echoes refused\n", i, r.send_errors);
    }

    snprintf(url, sizeof(url), "%s/updateReports?agent=%s", base, agent);
    if (run_one(url, 0, 60, &r) < 0)
        return 1;
    return failures ? 1 : 0;
}
