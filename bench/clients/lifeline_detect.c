/* One lifeline client that reports every state change and scheduled retry
 * as a JSON line with its CLOCK_MONOTONIC time (us), for the driver that
 * breaks and restores the server (scenario 5). Runs until stdin closes or
 * --seconds pass. Timing options: --ping-interval-ms --ping-timeout-ms
 * --base-delay-ms --max-delay-ms --jitter-ms --max-attempts
 * --down-ping-interval-ms --connect-timeout-ms --stable-after-ms. */
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <lifeline/lifeline.h>

#include "bench_common.h"

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static void on_state(lifeline_client *c, const lifeline_state_info *i, void *ud)
{
    (void)c, (void)ud;
    int64_t t = now_us();
    pthread_mutex_lock(&out_mu);
    printf("{\"event\":\"state\",\"t_us\":%lld,\"from\":\"%s\",\"to\":\"%s\",\"attempt\":%d,"
           "\"error\":\"%s\"}\n",
           (long long)t, lifeline_state_name(i->old_state), lifeline_state_name(i->new_state),
           i->attempt, lifeline_error_name(i->error));
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
}

static void on_retry(lifeline_client *c, int attempt, int64_t delay_ms, int probe, void *ud)
{
    (void)c, (void)ud;
    int64_t t = now_us();
    pthread_mutex_lock(&out_mu);
    printf("{\"event\":\"retry\",\"t_us\":%lld,\"attempt\":%d,\"delay_ms\":%lld,\"probe\":%d}\n",
           (long long)t, attempt, (long long)delay_ms, probe);
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
}

static void on_pong(lifeline_client *c, int64_t rtt_ms, int q, void *ud)
{
    (void)c, (void)q, (void)ud;
    int64_t t = now_us();
    pthread_mutex_lock(&out_mu);
    printf("{\"event\":\"pong\",\"t_us\":%lld,\"rtt_ms\":%lld}\n", (long long)t, (long long)rtt_ms);
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
}

int main(int argc, char **argv)
{
    const char *url = opt_str(argc, argv, "--url", NULL);
    if (!url) {
        fprintf(stderr, "usage: lifeline_detect --url URL [timing options] [--seconds S]\n");
        return 2;
    }
    lifeline_config cfg;
    lifeline_config_init(&cfg);
    cfg.url = url;
    cfg.ping_interval_ms = (int)opt_num(argc, argv, "--ping-interval-ms", cfg.ping_interval_ms);
    cfg.ping_timeout_ms = (int)opt_num(argc, argv, "--ping-timeout-ms", cfg.ping_timeout_ms);
    cfg.base_delay_ms = (int)opt_num(argc, argv, "--base-delay-ms", cfg.base_delay_ms);
    cfg.max_delay_ms = (int)opt_num(argc, argv, "--max-delay-ms", cfg.max_delay_ms);
    cfg.jitter_ms = (int)opt_num(argc, argv, "--jitter-ms", cfg.jitter_ms);
    cfg.max_attempts = (int)opt_num(argc, argv, "--max-attempts", cfg.max_attempts);
    cfg.down_ping_interval_ms =
        (int)opt_num(argc, argv, "--down-ping-interval-ms", cfg.down_ping_interval_ms);
    cfg.connect_timeout_ms = (int)opt_num(argc, argv, "--connect-timeout-ms", cfg.connect_timeout_ms);
    cfg.stable_after_ms = (int)opt_num(argc, argv, "--stable-after-ms", cfg.stable_after_ms);
    cfg.on_state = on_state;
    cfg.on_retry = on_retry;
    cfg.on_pong = on_pong;
    lifeline_client *c;
    int err = lifeline_client_new(&cfg, &c);
    if (err) {
        fprintf(stderr, "lifeline_detect: %s\n", lifeline_strerror(err));
        return 1;
    }
    lifeline_client_start(c);
    struct pollfd p = {.fd = 0, .events = POLLIN};
    char buf[256];
    int64_t until = now_us() + (int64_t)(opt_num(argc, argv, "--seconds", 600) * 1e6);
    while (now_us() < until) {
        int n = poll(&p, 1, 1000);
        if (n > 0 && read(0, buf, sizeof(buf)) <= 0)
            break;
    }
    lifeline_client_free(c);
    return 0;
}
