/* A minimal libwebsockets echo server, to check that lifeline-server is
 * not the bottleneck of the echo scenarios: every whole message is sent
 * back unchanged, in order, one lws_write per WRITEABLE. Prints
 * {"event":"listening","port":N} like lifeline-server. --port 0 picks one. */
#include <signal.h>
#include <libwebsockets.h>

#include "../clients/bench_common.h"

typedef struct msg {
    struct msg *next;
    size_t len;
    int binary;
    unsigned char data[]; /* LWS_PRE + len */
} msg;

typedef struct pss {
    msg *head, *tail;
    unsigned char *rx;
    size_t rx_len, rx_cap;
} pss;

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    pss *p = user;
    switch (reason) {
    case LWS_CALLBACK_RECEIVE: {
        if (lws_is_first_fragment(wsi))
            p->rx_len = 0;
        if (p->rx_len + len > p->rx_cap) {
            size_t cap = p->rx_cap ? p->rx_cap : 4096;
            while (cap < p->rx_len + len)
                cap *= 2;
            p->rx = realloc(p->rx, cap);
            p->rx_cap = cap;
        }
        memcpy(p->rx + p->rx_len, in, len);
        p->rx_len += len;
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
            break;
        msg *m = malloc(sizeof(*m) + LWS_PRE + p->rx_len);
        m->next = NULL;
        m->len = p->rx_len;
        m->binary = lws_frame_is_binary(wsi);
        memcpy(m->data + LWS_PRE, p->rx, p->rx_len);
        if (p->tail)
            p->tail->next = m;
        else
            p->head = m;
        p->tail = m;
        lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        msg *m = p->head;
        if (!m)
            break;
        p->head = m->next;
        if (!p->head)
            p->tail = NULL;
        int n = lws_write(wsi, m->data + LWS_PRE, m->len, m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
        free(m);
        if (n < 0)
            return -1;
        if (p->head)
            lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_CLOSED:
        while (p->head) {
            msg *m = p->head;
            p->head = m->next;
            free(m);
        }
        free(p->rx);
        p->rx = NULL;
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"echo", cb, sizeof(pss), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

int main(int argc, char **argv)
{
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = (int)opt_num(argc, argv, "--port", 0);
    info.iface = "127.0.0.1";
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx)
        return 1;
    struct lws_vhost *vh = lws_get_vhost_by_name(ctx, "default");
    printf("{\"event\":\"listening\",\"port\":%d}\n", vh ? lws_get_vhost_listen_port(vh) : -1);
    fflush(stdout);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!stop && lws_service(ctx, 0) >= 0)
        ;
    lws_context_destroy(ctx);
    return 0;
}
