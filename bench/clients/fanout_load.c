/* Load for the fan-out scenario (7), on libwebsockets directly so the load
 * generator stays cheap: --conns N connections to --port in --stores S
 * stores (conn i is in store (F + i) % S, user u<F + i>, F from --first,
 * 0 by default, so that several processes can share the stores), opened
 * --pace at a time, from the address --bind when given (a loopback
 * address of its own gives each process its own ephemeral ports).
 * Prints {"event":"connected",...,"open_ms":T}. With --rate R > 0, member 0
 * of every store then sends {"type":"broadcast","data":{"t":T}} R times a
 * second for --seconds (T: send time, CLOCK_MONOTONIC us) and every
 * receiver measures the delivery latency; prints {"event":"start"} and then
 * the result line. Then it holds the connections until stdin closes; each
 * line read meanwhile prints {"event":"count",...}: the connections open,
 * the broadcasts received and how many connections received one. */
#include <poll.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "bench_common.h"

typedef struct sess {
    int idx;
    int to_send;
    int open;
    int got; /* broadcasts received */
} sess;

static struct {
    struct lws_context *ctx;
    int port, conns, stores, pace, first;
    const char *bind;
    double rate, seconds, warmup;
    int launched, established, failed, closed;
    sess *ss;
    struct lws **wsis;
    int phase; /* 0 connecting, 1 warmup, 2 measuring, 3 done */
    int64_t open_t0, phase_t0, meas_t0, meas_t1;
    double sends_owed;
    int next_store;
    int64_t last_tick;
    long sent, delivered, delivered_meas, reached;
    int64_t *lat;
    size_t n_lat, cap_lat;
    lws_sorted_usec_list_t sul;
} G;

static void launch(void)
{
    while (G.launched < G.conns && G.launched - G.established - G.failed < G.pace) {
        int i = G.launched++;
        char path[128], host[64];
        snprintf(path, sizeof(path), "/ws?store=f%d&user=u%d", (G.first + i) % G.stores,
                 G.first + i);
        snprintf(host, sizeof(host), "127.0.0.1:%d", G.port);
        struct lws_client_connect_info ci;
        memset(&ci, 0, sizeof(ci));
        ci.context = G.ctx;
        ci.address = "127.0.0.1";
        ci.port = G.port;
        ci.path = path;
        ci.host = host;
        ci.iface = G.bind;
        ci.local_protocol_name = "fanout";
        ci.opaque_user_data = &G.ss[i];
        G.ss[i].idx = i;
        G.wsis[i] = lws_client_connect_via_info(&ci);
        if (!G.wsis[i])
            G.failed++;
    }
}

static void tick(lws_sorted_usec_list_t *sul)
{
    int64_t now = now_us();
    if (G.phase == 0 && G.established + G.failed >= G.conns) {
        printf("{\"event\":\"connected\",\"established\":%d,\"failed\":%d,\"open_ms\":%.1f}\n",
               G.established, G.failed, (double)(now - G.open_t0) / 1e3);
        fflush(stdout);
        G.phase = G.rate > 0 ? 1 : 3;
        G.phase_t0 = now;
        G.last_tick = now;
    }
    if (G.phase == 0)
        launch();
    if (G.phase == 1 || G.phase == 2) {
        if (G.phase == 1 && now - G.phase_t0 >= (int64_t)(G.warmup * 1e6)) {
            G.phase = 2;
            G.meas_t0 = now;
            G.delivered_meas = 0;
            G.n_lat = 0;
            printf("{\"event\":\"start\",\"t_us\":%lld}\n", (long long)now);
            fflush(stdout);
        }
        if (G.phase == 2 && now - G.meas_t0 >= (int64_t)(G.seconds * 1e6)) {
            G.phase = 3;
            G.meas_t1 = now;
            printf("{\"event\":\"end\",\"t_us\":%lld}\n", (long long)now);
            fflush(stdout);
        } else {
            /* R per store per second, spread evenly: round robin */
            G.sends_owed += G.rate * G.stores * (double)(now - G.last_tick) / 1e6;
            G.last_tick = now;
            while (G.sends_owed >= 1) {
                G.sends_owed -= 1;
                int s = G.next_store;
                G.next_store = (G.next_store + 1) % G.stores;
                if (!G.ss[s].open)
                    continue;
                G.ss[s].to_send++;
                lws_callback_on_writable(G.wsis[s]);
            }
        }
    }
    /* once done, idle: lws's poll() walks every connection at each wake-up */
    lws_sul_schedule(G.ctx, 0, sul, tick, (G.phase == 3 ? 100 : 1) * LWS_US_PER_MS);
}

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user;
    sess *s = lws_get_opaque_user_data(wsi);
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        s->open = 1;
        G.established++;
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (s)
            G.wsis[s->idx] = NULL;
        G.failed++;
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (s && s->open) {
            s->open = 0;
            G.closed++;
        }
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        if (!s->to_send)
            break;
        unsigned char buf[LWS_PRE + 128];
        int n = snprintf((char *)buf + LWS_PRE, 128,
                         "{\"type\":\"broadcast\",\"data\":{\"t\":%lld}}", (long long)now_us());
        if (lws_write(wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_TEXT) < n)
            return -1;
        G.sent++;
        if (--s->to_send)
            lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        if (!lws_is_first_fragment(wsi) || !lws_is_final_fragment(wsi) || len > 1000)
            break;
        char tmp[1001];
        memcpy(tmp, in, len);
        tmp[len] = 0;
        const char *t = strstr(tmp, "\"t\":");
        if (!t || !strstr(tmp, "\"broadcast\""))
            break;
        int64_t lat = now_us() - strtoll(t + 4, NULL, 10);
        G.delivered++;
        if (s && !s->got++)
            G.reached++;
        if (G.phase == 2) {
            G.delivered_meas++;
            if (G.n_lat < G.cap_lat)
                G.lat[G.n_lat++] = lat;
        }
        break;
    }
    default:
        break;
    }
    return 0;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static const struct lws_protocols protocols[] = {
    {"fanout", cb, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

int main(int argc, char **argv)
{
    G.port = (int)opt_num(argc, argv, "--port", 0);
    G.conns = (int)opt_num(argc, argv, "--conns", 5000);
    G.stores = (int)opt_num(argc, argv, "--stores", 50);
    G.pace = (int)opt_num(argc, argv, "--pace", 100);
    G.first = (int)opt_num(argc, argv, "--first", 0);
    G.bind = opt_str(argc, argv, "--bind", NULL);
    G.rate = opt_num(argc, argv, "--rate", 0);
    G.seconds = opt_num(argc, argv, "--seconds", 5);
    G.warmup = opt_num(argc, argv, "--warmup", 1);
    double limit = opt_num(argc, argv, "--limit", 120);
    if (!G.port) {
        fprintf(stderr, "usage: fanout_load --port P [--conns N] [--stores S] [--rate R]"
                        " [--seconds S]\n");
        return 2;
    }
    G.ss = calloc((size_t)G.conns, sizeof(sess));
    G.wsis = calloc((size_t)G.conns, sizeof(struct lws *));
    G.cap_lat = 20000000;
    G.lat = malloc(G.cap_lat * sizeof(int64_t));
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    info.timeout_secs = 30;
    G.ctx = lws_create_context(&info);
    if (!G.ctx)
        return 1;
    G.open_t0 = now_us();
    lws_sul_schedule(G.ctx, 0, &G.sul, tick, 1);
    int64_t deadline = now_us() + (int64_t)(limit * 1e6);
    while (G.phase != 3 && now_us() < deadline)
        if (lws_service(G.ctx, 0) < 0)
            break;
    if (G.phase != 3) {
        fprintf(stderr, "fanout_load: did not finish (established %d, failed %d)\n",
                G.established, G.failed);
        return 1;
    }
    if (G.rate > 0) {
        qsort(G.lat, G.n_lat, sizeof(int64_t), cmp64);
        double secs = (double)(G.meas_t1 - G.meas_t0) / 1e6;
#define PCT(p) (G.n_lat ? G.lat[(size_t)((double)(G.n_lat - 1) * (p))] : -1)
        printf("{\"event\":\"result\",\"established\":%d,\"closed\":%d,\"seconds\":%.3f,"
               "\"sent\":%ld,\"delivered\":%ld,\"deliveries_per_s\":%.1f,\"lat_p50_us\":%lld,"
               "\"lat_p99_us\":%lld,\"lat_p999_us\":%lld,\"lat_max_us\":%lld}\n",
               G.established, G.closed, secs, G.sent, G.delivered_meas,
               (double)G.delivered_meas / secs, (long long)PCT(0.5), (long long)PCT(0.99),
               (long long)PCT(0.999), (long long)PCT(1.0));
        fflush(stdout);
    }
    /* hold the connections (answering pings) until stdin closes */
    int in_fd_open = 1;
    while (in_fd_open && now_us() < deadline) {
        struct pollfd p = {.fd = 0, .events = POLLIN};
        if (poll(&p, 1, 0) > 0) {
            char b[64];
            ssize_t n = read(0, b, sizeof(b));
            if (n <= 0)
                in_fd_open = 0;
            for (ssize_t k = 0; k < n; k++)
                if (b[k] == '\n') {
                    printf("{\"event\":\"count\",\"open\":%d,\"closed\":%d,\"delivered\":%ld,"
                           "\"reached\":%ld}\n",
                           G.established - G.closed, G.closed, G.delivered, G.reached);
                    fflush(stdout);
                }
        }
        if (lws_service(G.ctx, 0) < 0)
            break;
    }
    lws_context_destroy(G.ctx);
    return 0;
}
