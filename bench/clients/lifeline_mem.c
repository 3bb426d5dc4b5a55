/* Heap per connected client on one shared loop, and growth over
 * connect/disconnect cycles. Heap is glibc's mallinfo2() of this process
 * (lifeline's and libwebsockets' allocations: the program itself allocates
 * nothing while measuring). Each client has its own store, so the server's
 * presence messages do not fan out. Prints one JSON object.
 *   --url-base ws://127.0.0.1:PORT/ws  --clients 100,1000  --cycles 2000 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include <lifeline/lifeline.h>

#include "bench_common.h"

static atomic_int n_connected;

static void on_state(lifeline_client *c, const lifeline_state_info *i, void *ud)
{
    (void)c, (void)ud;
    if (i->new_state == LIFELINE_STATE_CONNECTED)
        atomic_fetch_add(&n_connected, 1);
    else if (i->old_state == LIFELINE_STATE_CONNECTED)
        atomic_fetch_sub(&n_connected, 1);
}

static lifeline_client *make(lifeline_loop *loop, const char *base, int k)
{
    char url[256];
    snprintf(url, sizeof(url), "%s?store=m%d&user=u%d", base, k, k);
    lifeline_config cfg;
    lifeline_config_init(&cfg);
    cfg.url = url;
    cfg.loop = loop;
    cfg.on_state = on_state;
    lifeline_client *c = NULL;
    if (lifeline_client_new(&cfg, &c) || lifeline_client_start(c)) {
        fprintf(stderr, "lifeline_mem: cannot create client %d\n", k);
        exit(1);
    }
    return c;
}

static int wait_connected(int n, double timeout_s)
{
    int64_t until = now_us() + (int64_t)(timeout_s * 1e6);
    while (atomic_load(&n_connected) < n && now_us() < until)
        usleep(1000);
    return atomic_load(&n_connected) >= n;
}

int main(int argc, char **argv)
{
    const char *base = opt_str(argc, argv, "--url-base", NULL);
    const char *list = opt_str(argc, argv, "--clients", "100,1000");
    int cycles = (int)opt_num(argc, argv, "--cycles", 2000);
    if (!base) {
        fprintf(stderr, "usage: lifeline_mem --url-base ws://H:P/ws [--clients 100,1000]"
                        " [--cycles N]\n");
        return 2;
    }
    lifeline_loop *loop;
    if (lifeline_loop_new(&loop))
        return 1;
    /* one client first, so lazily built shared state (vhost, pools) is
     * not charged to the clients measured */
    lifeline_client *w = make(loop, base, 999999);
    if (!wait_connected(1, 10))
        return 1;
    lifeline_client_free(w);
    usleep(100000);
    size_t h0 = heap_bytes();
    long r0 = rss_kib();
    printf("{\"baseline_heap\":%zu,\"baseline_rss_kib\":%ld,\"sets\":[", h0, r0);
    char *save = NULL, *dup = strdup(list);
    int first = 1;
    for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int n = atoi(tok);
        lifeline_client **cs = calloc((size_t)n, sizeof(*cs));
        size_t hb = heap_bytes();
        for (int k = 0; k < n; k++)
            cs[k] = make(loop, base, k);
        int ok = wait_connected(n, 60);
        usleep(500000); /* first pings answered, buffers settled */
        size_t h1 = heap_bytes();
        long r1 = rss_kib();
        for (int k = 0; k < n; k++)
            lifeline_client_free(cs[k]);
        free(cs);
        usleep(100000);
        size_t h2 = heap_bytes();
        printf("%s{\"clients\":%d,\"connected\":%s,\"heap_before\":%zu,\"heap_connected\":%zu,"
               "\"heap_after_free\":%zu,\"heap_per_client\":%.1f,\"rss_kib\":%ld,"
               "\"rss_per_client_kib\":%.2f}",
               first ? "" : ",", n, ok ? "true" : "false", hb, h1, h2,
               (double)(h1 - hb) / n, r1, (double)(r1 - r0) / n);
        fflush(stdout);
        first = 0;
    }
    free(dup);
    /* connect/disconnect cycles: heap sampled every 100 */
    printf("],\"cycles\":%d,\"cycle_heap\":[", cycles);
    int64_t t0 = now_us();
    int done = 0;
    for (int i = 1; i <= cycles; i++) {
        lifeline_client *c = make(loop, base, i % 50);
        if (!wait_connected(1, 10))
            break;
        lifeline_client_free(c);
        done = i;
        if (i % 100 == 0)
            printf("%s[%d,%zu]", i == 100 ? "" : ",", i, heap_bytes());
    }
    printf("],\"cycles_done\":%d,\"cycles_seconds\":%.3f,\"final_rss_kib\":%ld}\n", done,
           (double)(now_us() - t0) / 1e6, rss_kib());
    lifeline_loop_free(loop);
    return 0;
}
