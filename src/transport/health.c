/* The health check of server_down probes: an HTTP GET of health_url on the
 * client's loop that must answer 2xx. Bounded by the core's connect timeout
 * (the core abandons it). Loop thread only. */
#include <string.h>

#include "client/client_impl.h"


static void finish(lifeline_client *c, struct lws *wsi, int ok, int status)
{
    lws_set_opaque_user_data(wsi, NULL);
    c->probe_wsi = NULL;
    ll_client_log(c, LIFELINE_LOG_DEBUG, "health check: %s (HTTP %d)", ok ? "ok" : "failed",
                  status);
    ll_event ev = {.type = ok ? LL_EV_PROBE_OK : LL_EV_PROBE_FAILED,
                   .conn_id = c->probe_conn_id, .error = LIFELINE_ERR_PROBE_FAILED,
                   .http_status = status};
    ll_client_dispatch(c, &ev);
}

void ll_health_probe(lifeline_client *c, uint32_t conn_id)
{
    if (c->probe_wsi) {
        lws_set_opaque_user_data(c->probe_wsi, NULL);
        lws_set_timeout(c->probe_wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        c->probe_wsi = NULL;
    }
    c->probe_conn_id = conn_id;
    struct lws_vhost *vh = ll_loop_vhost(c->loop, c);
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof(i));
    i.context = c->loop->ctx;
    i.vhost = vh;
    i.address = c->health.host;
    i.port = c->health.port;
    i.path = c->health.path;
    i.host = c->health.host;
    i.method = "GET";
    i.protocol = ll_protocols[1].name;
    i.local_protocol_name = ll_protocols[1].name;
    i.opaque_user_data = c;
    if (c->health.secure) {
        i.ssl_connection = LCCSCF_USE_SSL;
        if (c->cfg.allow_insecure_tls)
            i.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
    }
    c->probe_wsi = (struct lws *)1; /* marks "in flight" for a synchronous error */
    struct lws *wsi = vh ? lws_client_connect_via_info(&i) : NULL;
    if (!c->probe_wsi)
        return; /* it already failed, synchronously, and was reported */
    if (!wsi) {
        c->probe_wsi = NULL;
        ll_client_dispatch(c, &(ll_event){.type = LL_EV_PROBE_FAILED, .conn_id = conn_id,
                                          .error = LIFELINE_ERR_PROBE_FAILED});
        return;
    }
    c->probe_wsi = wsi;
}

int ll_health_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                       void *in, size_t len)
{
    (void)user;
    (void)len;
    lifeline_client *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    if (!c || (c->probe_wsi != wsi && c->probe_wsi != (struct lws *)1))
        return 0;
    lifeline_client *prev = ll_tls_client;
    ll_tls_client = c;
    int rc = 0;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP: {
        int status = (int)lws_http_client_http_response(wsi);
        finish(c, wsi, status >= 200 && status < 300, status);
        rc = -1; /* the status is all we wanted */
        break;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        ll_client_log(c, LIFELINE_LOG_DEBUG, "health check failed: %s",
                      in ? (const char *)in : "unknown");
        finish(c, wsi, 0, 0);
        break;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
    case LWS_CALLBACK_WSI_DESTROY:
        finish(c, wsi, 0, 0);
        break;
    default:
        break;
    }
    ll_tls_client = prev;
    return rc;
}
