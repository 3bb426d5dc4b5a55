/* The client's own copy of its config: every string copied, the headers
 * and alert labels split, the URLs parsed, and the secrets that must never
 * reach a log line collected. Immutable once lifeline_client_new() is done,
 * so any thread may read it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_impl.h"
#include "proto/wire.h"

static char *dup_opt(const char *s, int *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = 1;
    return d;
}

/* The header lines, whose values are secrets: they never reach a log. */
static int copy_headers(lifeline_client *c, const lifeline_config *cfg)
{
    if (!cfg->header_count)
        return 0;
    int oom = 0;
    c->headers = calloc(cfg->header_count, sizeof(char *));
    oom |= !c->headers;
    for (size_t i = 0; c->headers && i < cfg->header_count; i++) {
        c->headers[i] = dup_opt(cfg->headers[i], &oom);
        c->header_count = i + 1;
        const char *v = strchr(cfg->headers[i], ':') + 1;
        while (*v == ' ')
            v++;
        oom |= ll_secrets_add(&c->secrets, v, strlen(v)) != 0;
    }
    return oom;
}

/* The alert labels, split at their colon. */
static int copy_labels(lifeline_client *c, const lifeline_config *cfg)
{
    if (!cfg->alert_label_count)
        return 0;
    int oom = 0;
    c->label_names = calloc(cfg->alert_label_count, sizeof(char *));
    c->label_values = calloc(cfg->alert_label_count, sizeof(char *));
    oom |= !c->label_names || !c->label_values;
    for (size_t i = 0; !oom && i < cfg->alert_label_count; i++) {
        const char *l = cfg->alert_labels[i], *colon = strchr(l, ':'), *v = colon + 1;
        while (*v == ' ')
            v++;
        c->label_names[i] = strndup(l, (size_t)(colon - l));
        c->label_values[i] = dup_opt(v, &oom);
        c->label_count = i + 1;
        oom |= !c->label_names[i];
    }
    return oom;
}

/* The webhook URL is a secret, whole, and its token on its own; so are the
 * secret parts of the URLs. */
static int add_url_secrets(lifeline_client *c, const lifeline_config *cfg)
{
    int oom = 0;
    if (cfg->discord_webhook_url)
        oom |= ll_secrets_add(&c->secrets, cfg->discord_webhook_url,
                              strlen(cfg->discord_webhook_url)) != 0;
    for (size_t i = 0; i < c->url_count; i++)
        oom |= ll_secrets_add_url(&c->secrets, c->url_strs[i]) != 0;
    oom |= ll_secrets_add_url(&c->secrets, cfg->health_url) != 0;
    oom |= ll_secrets_add_url(&c->secrets, cfg->discord_webhook_url) != 0;
    return oom;
}

/* c->cfg's pointers now point at the client's own copies. */
static void point_at_copies(lifeline_client *c)
{
    c->cfg.discord_webhook_url = c->webhook;
    c->cfg.alert_username = c->alert_username;
    c->cfg.alert_labels = NULL; /* use label_names / label_values */
    c->cfg.url = c->url_strs ? c->url_strs[0] : NULL;
    c->cfg.fallback_urls = c->url_strs ? (const char *const *)c->url_strs + 1 : NULL;
    c->cfg.health_url = c->health_str;
    c->cfg.subprotocol = c->subprotocol;
    c->cfg.origin = c->origin;
    c->cfg.ca_file = c->ca_file;
    c->cfg.http_proxy = c->proxy;
    c->cfg.headers = (const char *const *)c->headers;
    c->cfg.outbox_path = c->outbox_path;
}

/* The servers: url then the fallbacks, copied, and as people may see them
 * (lifeline_redact_url()). */
static int copy_servers(lifeline_client *c, const lifeline_config *cfg)
{
    size_t n = 1 + cfg->fallback_url_count;
    c->url_strs = calloc(n, sizeof(char *));
    c->url_shown = calloc(n, sizeof(char *));
    c->urls = calloc(n, sizeof(ll_url));
    if (!c->url_strs || !c->url_shown || !c->urls)
        return 1;
    int oom = 0;
    for (size_t i = 0; i < n; i++) {
        const char *u = i == 0 ? cfg->url : cfg->fallback_urls[i - 1];
        c->url_strs[i] = dup_opt(u, &oom);
        size_t len = lifeline_redact_url(u, NULL, 0);
        c->url_shown[i] = malloc(len + 1);
        if (c->url_shown[i])
            lifeline_redact_url(u, c->url_shown[i], len + 1);
        else
            oom = 1;
        c->url_count = i + 1;
    }
    return oom;
}

/* The URLs as the transport uses them, and the CA file readable. */
static int parse_urls(lifeline_client *c)
{
    for (size_t i = 0; i < c->url_count; i++)
        if (ll_url_parse(c->url_strs[i], &c->urls[i]) || !c->urls[i].websocket)
            return i == 0 ? LIFELINE_ERR_CONFIG_URL : LIFELINE_ERR_CONFIG_FALLBACK_URL;
    if (c->health_str && (ll_url_parse(c->health_str, &c->health) || c->health.websocket))
        return LIFELINE_ERR_CONFIG_HEALTH_URL;
    if (c->ca_file) {
        FILE *f = fopen(c->ca_file, "r");
        if (!f)
            return LIFELINE_ERR_CONFIG_CA_FILE;
        fclose(f);
    }
    return LIFELINE_OK;
}

int ll_client_copy_config(lifeline_client *c, const lifeline_config *cfg)
{
    c->cfg = *cfg;
    int oom = 0;
    oom |= copy_servers(c, cfg);
    c->health_str = dup_opt(cfg->health_url, &oom);
    c->subprotocol = dup_opt(cfg->subprotocol, &oom);
    c->origin = dup_opt(cfg->origin, &oom);
    c->ca_file = dup_opt(cfg->ca_file, &oom);
    c->proxy = dup_opt(cfg->http_proxy, &oom);
    c->webhook = dup_opt(cfg->discord_webhook_url, &oom);
    c->alert_username = dup_opt(cfg->alert_username, &oom);
    c->outbox_path = dup_opt(cfg->outbox_path, &oom);
    oom |= copy_headers(c, cfg);
    oom |= copy_labels(c, cfg);
    oom |= add_url_secrets(c, cfg);
    point_at_copies(c);
    return oom ? LIFELINE_ERR_NO_MEMORY : parse_urls(c);
}

void ll_client_free_config(lifeline_client *c)
{
    for (size_t i = 0; i < c->url_count; i++) {
        free(c->url_strs[i]);
        free(c->url_shown[i]);
        ll_url_free(&c->urls[i]);
    }
    free(c->url_strs);
    free(c->url_shown);
    free(c->urls);
    free(c->health_str);
    free(c->subprotocol);
    free(c->origin);
    free(c->ca_file);
    free(c->proxy);
    free(c->outbox_path);
    for (size_t i = 0; i < c->header_count; i++)
        free(c->headers[i]);
    free(c->headers);
    ll_secrets_free(&c->secrets);
    for (size_t i = 0; i < c->label_count; i++) {
        free(c->label_names[i]);
        free(c->label_values[i]);
    }
    free(c->label_names);
    free(c->label_values);
    free(c->webhook);
    free(c->alert_username);
    ll_url_free(&c->health);
}

void ll_client_conn_opts(const lifeline_client *c, ll_conn_opts *o)
{
    *o = (ll_conn_opts){
        .urls = c->urls,
        .url_texts = (const char *const *)c->url_strs,
        .url_count = c->url_count,
        .health = c->health_str ? &c->health : NULL,
        /* reliable delivery: lifeline.v1, and a server must select it */
        .subprotocol = c->rel ? LL_WIRE_SUBPROTOCOL : c->subprotocol,
        .require_subprotocol = c->rel != NULL,
        .origin = c->origin,
        .headers = (const char *const *)c->headers,
        .header_count = c->header_count,
        .ca_file = c->ca_file,
        .proxy = c->proxy,
        .allow_insecure_tls = c->cfg.allow_insecure_tls,
        .permessage_deflate = c->cfg.permessage_deflate,
        .app_ping = c->cfg.app_ping,
        .max_message_bytes = c->cfg.max_message_bytes,
        /* no on_log: no line is worth making */
        .log_level = c->cfg.on_log ? c->cfg.log_level : -1,
    };
}
