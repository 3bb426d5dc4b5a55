/* Reconnect storm (scenario 6): --clients N lifeline clients on one shared
 * loop, every default but --jitter-mode (additive|full) and
 * --stable-after-ms. Prints {"event":"all_connected"} once all are up;
 * after the driver restarts the server it records every connection
 * attempt (each move to `connecting`) and every reconnection, until all
 * are connected again or --seconds pass, then prints them (CLOCK_MONOTONIC
 * us) as one JSON line. stdin closing ends the run early. */
#include <poll.h>
#include <stdatomic.h>
#include <unistd.h>

#include <lifeline/lifeline.h>

#include "bench_common.h"

#define MAX_EVENTS 200000

static atomic_int n_connected;
static atomic_int armed; /* the first all-connected was reached */
static atomic_size_t n_att, n_conn;
static int64_t att[MAX_EVENTS], conn[MAX_EVENTS];

static void on_state(lifeline_client *c, const lifeline_state_info *i, void *ud)
{
    (void)c, (void)ud;
    int64_t t = now_us();
    if (i->new_state == LIFELINE_STATE_CONNECTED) {
        atomic_fetch_add(&n_connected, 1);
        if (atomic_load(&armed)) {
            size_t k = atomic_fetch_add(&n_conn, 1);
            if (k < MAX_EVENTS)
                conn[k] = t;
        }
    } else if (i->old_state == LIFELINE_STATE_CONNECTED) {
        atomic_fetch_sub(&n_connected, 1);
    }
    if (i->new_state == LIFELINE_STATE_CONNECTING && atomic_load(&armed)) {
        size_t k = atomic_fetch_add(&n_att, 1);
        if (k < MAX_EVENTS)
            att[k] = t;
    }
}

static void print_list(const char *name, const int64_t *v, size_t n)
{
    printf("\"%s\":[", name);
    for (size_t i = 0; i < n && i < MAX_EVENTS; i++)
        printf("%s%lld", i ? "," : "", (long long)v[i]);
    printf("]");
}

int main(int argc, char **argv)
{
    const char *base = opt_str(argc, argv, "--url-base", NULL);
    int n = (int)opt_num(argc, argv, "--clients", 1000);
    int full = !strcmp(opt_str(argc, argv, "--jitter-mode", "additive"), "full");
    double seconds = opt_num(argc, argv, "--seconds", 60);
    if (!base) {
        fprintf(stderr, "usage: lifeline_storm --url-base ws://H:P/ws [--clients N]"
                        " [--jitter-mode additive|full] [--seconds S]\n");
        return 2;
    }
    lifeline_loop *loop;
    if (lifeline_loop_new(&loop))
        return 1;
    lifeline_client **cs = calloc((size_t)n, sizeof(*cs));
    for (int k = 0; k < n; k++) {
        char url[256];
        snprintf(url, sizeof(url), "%s?store=s%d&user=u%d", base, k, k);
        lifeline_config cfg;
        lifeline_config_init(&cfg);
        cfg.url = url;
        cfg.loop = loop;
        cfg.on_state = on_state;
        cfg.jitter_mode = full ? LIFELINE_JITTER_FULL : LIFELINE_JITTER_ADDITIVE;
        cfg.stable_after_ms = (int)opt_num(argc, argv, "--stable-after-ms", cfg.stable_after_ms);
        if (lifeline_client_new(&cfg, &cs[k]) || lifeline_client_start(cs[k]))
            return 1;
    }
    int64_t until = now_us() + 30000000;
    while (atomic_load(&n_connected) < n && now_us() < until)
        usleep(2000);
    if (atomic_load(&n_connected) < n) {
        fprintf(stderr, "lifeline_storm: only %d of %d connected\n", atomic_load(&n_connected), n);
        return 1;
    }
    atomic_store(&armed, 1);
    printf("{\"event\":\"all_connected\",\"t_us\":%lld}\n", (long long)now_us());
    fflush(stdout);
    /* wait for the loss, then for everyone to be back */
    int lost = 0;
    int64_t end = now_us() + (int64_t)(seconds * 1e6);
    struct pollfd p = {.fd = 0, .events = POLLIN};
    while (now_us() < end) {
        int c = atomic_load(&n_connected);
        if (c < n)
            lost = 1;
        if (lost && c == n)
            break;
        if (poll(&p, 1, 5) > 0) {
            char b[64];
            if (read(0, b, sizeof(b)) <= 0)
                break;
        }
    }
    printf("{\"event\":\"result\",\"clients\":%d,\"jitter_mode\":\"%s\",\"connected\":%d,", n,
           full ? "full" : "additive", atomic_load(&n_connected));
    print_list("attempts_us", att, atomic_load(&n_att));
    printf(",");
    print_list("connected_us", conn, atomic_load(&n_conn));
    printf("}\n");
    fflush(stdout);
    for (int k = 0; k < n; k++)
        lifeline_client_stop(cs[k], 0);
    for (int k = 0; k < n; k++)
        lifeline_client_free(cs[k]);
    lifeline_loop_free(loop);
    return 0;
}
