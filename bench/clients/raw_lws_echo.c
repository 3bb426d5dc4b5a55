/* The floor: the same echo load as lifeline_echo, written directly on
 * libwebsockets with no lifeline code. One thread, one context, one
 * connection; one lws_write per WRITEABLE callback (the lws rule), whole
 * messages reassembled before they count, as an app would need them.
 * Same options and output as lifeline_echo. */
#include <libwebsockets.h>

#include "bench_common.h"

static struct {
    size_t size, window;
    double warmup_s, seconds;
    long max;
    unsigned char *buf; /* LWS_PRE + payload */
    unsigned char *rx;
    unsigned char *tmpl; /* the payload */
    size_t rx_len;
    int64_t first_send, t0, t1, last_send;
    double cpu0, cpu1;
    long recv, n0, n1;
    size_t to_send; /* messages owed to the window */
    int64_t *rtt;
    size_t n_rtt, cap_rtt;
    int done, failed, established;
} B;

static int account(void)
{
    int64_t now = now_us();
    B.recv++;
    if (B.window == 1 && B.t0 && B.n_rtt < B.cap_rtt)
        B.rtt[B.n_rtt++] = now - B.last_send;
    if (!B.t0 && now - B.first_send >= (int64_t)(B.warmup_s * 1e6)) {
        B.t0 = now;
        B.cpu0 = cpu_s();
        B.n0 = B.recv;
    }
    if (B.t0 && (now - B.t0 >= (int64_t)(B.seconds * 1e6) || B.recv - B.n0 >= B.max)) {
        B.t1 = now;
        B.cpu1 = cpu_s();
        B.n1 = B.recv;
        return 1;
    }
    return 0;
}

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        B.established = 1;
        B.first_send = now_us();
        B.to_send = B.window;
        lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (B.done)
            return -1;
        if (!B.to_send)
            break;
        /* lws masks client frames in place: the payload is copied in for
         * every write, as lifeline's queue does once per message */
        memcpy(B.buf + LWS_PRE, B.tmpl, B.size);
        B.last_send = now_us();
        if (lws_write(wsi, B.buf + LWS_PRE, B.size, LWS_WRITE_TEXT) < (int)B.size)
            return -1;
        if (--B.to_send)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (lws_is_first_fragment(wsi))
            B.rx_len = 0;
        if (B.rx_len + len <= B.size) {
            memcpy(B.rx + B.rx_len, in, len);
            B.rx_len += len;
        }
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
            break;
        if (B.rx_len != B.size || B.done)
            break;
        if (account()) {
            B.done = 1;
            lws_callback_on_writable(wsi); /* to close */
            break;
        }
        if (B.to_send++ == 0)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        fprintf(stderr, "raw_lws_echo: connection error: %s\n", in ? (char *)in : "");
        B.failed = 1;
        break;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (!B.done && len >= 2)
            fprintf(stderr, "raw_lws_echo: server closed: %d %.*s\n",
                    ((unsigned char *)in)[0] << 8 | ((unsigned char *)in)[1], (int)len - 2,
                    (char *)in + 2);
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (!B.done)
            B.failed = 1;
        B.done = 2;
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"raw-echo", cb, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

int main(int argc, char **argv)
{
    const char *url = opt_str(argc, argv, "--url", NULL);
    if (!url) {
        fprintf(stderr, "usage: raw_lws_echo --url ws://HOST:PORT/PATH [--size N] [--window N]"
                        " [--seconds S] [--warmup S] [--max N] [--samples FILE]\n");
        return 2;
    }
    B.size = (size_t)opt_num(argc, argv, "--size", 64);
    B.window = (size_t)opt_num(argc, argv, "--window", 1);
    B.seconds = opt_num(argc, argv, "--seconds", 3);
    B.warmup_s = opt_num(argc, argv, "--warmup", 0.5);
    B.max = (long)opt_num(argc, argv, "--max", 1e9);
    B.buf = calloc(1, LWS_PRE + B.size);
    memset(B.buf + LWS_PRE, 'x', B.size);
    B.buf[LWS_PRE] = 'm'; /* not JSON: echoed unchanged */
    B.tmpl = malloc(B.size);
    memcpy(B.tmpl, B.buf + LWS_PRE, B.size);
    B.rx = malloc(B.size);
    B.cap_rtt = B.window == 1 ? 4000000 : 0;
    B.rtt = malloc((B.cap_rtt ? B.cap_rtt : 1) * sizeof(int64_t));

    char urlbuf[512];
    snprintf(urlbuf, sizeof(urlbuf), "%s", url);
    const char *prot, *addr, *path;
    int port;
    if (lws_parse_uri(urlbuf, &prot, &addr, &port, &path)) {
        fprintf(stderr, "raw_lws_echo: bad url\n");
        return 2;
    }
    char fullpath[512], host[300];
    snprintf(fullpath, sizeof(fullpath), "/%s", path);
    snprintf(host, sizeof(host), "%s:%d", addr, port);

    lws_set_log_level(getenv("BENCH_LWS_DEBUG") ? 0xff : LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx)
        return 1;
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof(ci));
    ci.context = ctx;
    ci.address = addr;
    ci.port = port;
    ci.path = fullpath;
    ci.host = host;
    ci.protocol = NULL;
    ci.local_protocol_name = protocols[0].name;
    if (!lws_client_connect_via_info(&ci)) {
        fprintf(stderr, "raw_lws_echo: connect failed\n");
        return 1;
    }
    int64_t deadline = now_us() + (int64_t)((B.warmup_s + B.seconds + 20) * 1e6);
    while (B.done != 2 && !B.failed && now_us() < deadline)
        if (lws_service(ctx, 0) < 0)
            break;
    lws_context_destroy(ctx);
    if (!B.t1) {
        fprintf(stderr, "raw_lws_echo: run did not complete\n");
        return 1;
    }
    write_samples(opt_str(argc, argv, "--samples", NULL), B.rtt, B.n_rtt);
    printf("{\"msgs\":%ld,\"seconds\":%.6f,\"cpu_s\":%.6f,\"rtt_samples\":%zu}\n", B.n1 - B.n0,
           (double)(B.t1 - B.t0) / 1e6, B.cpu1 - B.cpu0, B.n_rtt);
    return 0;
}
