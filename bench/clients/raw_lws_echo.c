/* The floor: the same echo load as lifeline_echo, written directly on
 * libwebsockets with no lifeline code. One thread, one context, one
 * connection; one lws_write per WRITEABLE callback (the lws rule), whole
 * messages reassembled before they count, as an app would need them.
 * Same options and output as lifeline_echo. */
#include <libwebsockets.h>

#include "bench_common.h"

static struct {
    size_t size;
    unsigned char *buf; /* LWS_PRE + payload */
    unsigned char *rx;
    unsigned char *tmpl; /* the payload */
    size_t rx_len;
    size_t to_send; /* messages owed to the window */
    int done, failed, established;
    bench_meter m;
} B;

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        B.established = 1;
        B.m.first_send = now_us();
        B.to_send = B.m.window;
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
        B.m.last_send = now_us();
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
        if (bench_account(&B.m)) {
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
    bench_meter_args(&B.m, argc, argv);
    B.buf = calloc(1, LWS_PRE + B.size);
    memset(B.buf + LWS_PRE, 'x', B.size);
    B.buf[LWS_PRE] = 'm'; /* not JSON: echoed unchanged */
    B.tmpl = malloc(B.size);
    memcpy(B.tmpl, B.buf + LWS_PRE, B.size);
    B.rx = malloc(B.size);
    B.m.cap_rtt = B.m.window == 1 ? 4000000 : 0;
    B.m.rtt = malloc((B.m.cap_rtt ? B.m.cap_rtt : 1) * sizeof(int64_t));

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
    int64_t deadline = now_us() + (int64_t)((B.m.warmup_s + B.m.seconds + 20) * 1e6);
    while (B.done != 2 && !B.failed && now_us() < deadline)
        if (lws_service(ctx, 0) < 0)
            break;
    lws_context_destroy(ctx);
    if (!B.m.t1) {
        fprintf(stderr, "raw_lws_echo: run did not complete\n");
        return 1;
    }
    write_samples(opt_str(argc, argv, "--samples", NULL), B.m.rtt, B.m.n_rtt);
    printf("{\"msgs\":%ld,\"seconds\":%.6f,\"cpu_s\":%.6f,\"rtt_samples\":%zu}\n", B.m.n1 - B.m.n0,
           (double)(B.m.t1 - B.m.t0) / 1e6, B.m.cpu1 - B.m.cpu0, B.m.n_rtt);
    return 0;
}
