/* The health check of server_down probes: an HTTP GET of the health URL on
 * the connection's loop that must answer 2xx. Bounded by the core's
 * connect timeout (the core abandons it). Loop thread only.
 *
 * The result is always reported from the zero-delay timer (transport.h,
 * "THE RULE"): a check can fail inside lws_client_connect_via_info(). */
#include <string.h>

#include "transport/conn.h"

static void finish(ll_conn *c, struct lws *wsi, int ok, int status)
{
    lws_set_opaque_user_data(wsi, NULL);
    c->probe_wsi = NULL;
    ll_conn_log(c, LIFELINE_LOG_DEBUG, "health check: %s (HTTP %d)", ok ? "ok" : "failed",
                status);
    ll_event ev = {.type = ok ? LL_EV_PROBE_OK : LL_EV_PROBE_FAILED,
                   .conn_id = c->probe_conn_id, .error = LIFELINE_ERR_PROBE_FAILED,
                   .http_status = status};
    ll_conn_report_later(c, &ev, 0);
}

static void fill_probe_info(ll_conn *c, struct lws_vhost *vh, struct lws_client_connect_info *i)
{
    const ll_url *h = c->opts.health;
    memset(i, 0, sizeof(*i));
    i->context = c->loop->ctx;
    i->vhost = vh;
    i->address = h->host;
    i->port = h->port;
    i->path = h->path;
    i->host = h->host;
    i->method = "GET";
    i->protocol = ll_protocols[1].name;
    i->local_protocol_name = ll_protocols[1].name;
    i->opaque_user_data = c;
    /* known before the callbacks made from inside the connect call */
    i->pwsi = &c->probe_wsi;
    if (h->secure) {
        i->ssl_connection = LCCSCF_USE_SSL;
        if (c->opts.allow_insecure_tls)
            i->ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
    }
}

void ll_conn_probe(ll_conn *c, uint32_t conn_id)
{
    ll_conn *prev = ll_loop_enter(c);
    if (c->probe_wsi) {
        ll_conn_kill_wsi(c->probe_wsi);
        c->probe_wsi = NULL;
    }
    c->report_probe.pending = 0; /* the old check's word comes too late */
    c->probe_conn_id = conn_id;
    struct lws_vhost *vh = c->opts.health ? ll_loop_vhost(c->loop, &c->opts) : NULL;
    struct lws_client_connect_info i;
    if (vh)
        fill_probe_info(c, vh, &i);
    if (!vh || !lws_client_connect_via_info(&i)) {
        /* *pwsi may name a wsi freed before the call returned */
        c->probe_wsi = NULL;
        ll_conn_report_later(c, &(ll_event){.type = LL_EV_PROBE_FAILED, .conn_id = conn_id,
                                            .error = LIFELINE_ERR_PROBE_FAILED}, 0);
    }
    ll_loop_exit(prev);
}

int ll_health_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                       void *in, size_t len)
{
    (void)user;
    (void)len;
    ll_conn *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    if (!c || c->probe_wsi != wsi)
        return 0;
    ll_conn *prev = ll_loop_enter(c);
    int rc = 0;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP: {
        int status = (int)lws_http_client_http_response(wsi);
        finish(c, wsi, status >= 200 && status < 300, status);
        rc = -1; /* the status is all we wanted */
        break;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        ll_conn_log(c, LIFELINE_LOG_DEBUG, "health check failed: %s",
                    in ? (const char *)in : "unknown");
        finish(c, wsi, 0, 0);
        break;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
    case LWS_CALLBACK_WSI_DESTROY: /* passed on by protocols[0] (ws.c) */
        finish(c, wsi, 0, 0);
        break;
    default:
        break;
    }
    ll_loop_exit(prev);
    return rc;
}
