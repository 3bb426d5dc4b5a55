/* lifeline_config_init_sized() and lifeline_config_check(): the defaults
 * the product is specified with, one distinct error per bad field (every
 * config rule lives here; lifeline_client_new(), the CLI and the bindings
 * ask), and how much of the application's struct the library may touch
 * (api/config.h). */
#include "api/config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "transport/transport.h"
#include "transport/url.h"

int lifeline_config_init_sized(lifeline_config *cfg, size_t size)
{
    if (!cfg || size < LL_CONFIG_SIZE_MIN)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    lifeline_config d;
    memset(&d, 0, sizeof(d));
    d.base_delay_ms = 5000;
    d.max_delay_ms = 30000;
    d.jitter_ms = 1000;
    d.jitter_mode = LIFELINE_JITTER_ADDITIVE;
    d.max_attempts = 5;
    d.stable_after_ms = 10000;
    d.down_ping_interval_ms = 5000;
    d.connect_timeout_ms = 10000;
    d.ping_interval_ms = 30000;
    d.ping_timeout_ms = 10000;
    d.rtt_good_ms = 300;
    d.rtt_poor_ms = 1000;
    d.max_message_bytes = 1024 * 1024;
    d.queue_policy = LIFELINE_QUEUE_REJECT_NEW;
    d.queue_max_messages = 1000;
    d.queue_max_bytes = 1024 * 1024;
    d.log_level = LIFELINE_LOG_WARN;
    d.alert_min_interval_ms = 600000;
    d.delivery = LIFELINE_DELIVERY_BEST_EFFORT;
    d.outbox_durability = LIFELINE_DURABILITY_NORMAL;
    d.ack_every = 32;
    d.ack_delay_ms = 20;
    d.watch_network = 1;
    /* the application's struct gets what it has room for, and nothing more */
    size_t own = size < sizeof(d) ? size : sizeof(d);
    memcpy(cfg, &d, own);
    if (size > own)
        memset((char *)cfg + own, 0, size - own);
    cfg->struct_size = size;
    return size > sizeof(d) ? LIFELINE_ERR_CONFIG_STRUCT_SIZE : LIFELINE_OK;
}

/* True when s starts with scheme (case-insensitive) and has a host after it. */
static int has_scheme(const char *s, const char *scheme)
{
    size_t n = strlen(scheme);
    if (strncasecmp(s, scheme, n) != 0)
        return 0;
    s += n;
    /* a host must follow: not empty, not a path, not a port alone */
    return *s != '\0' && *s != '/' && *s != ':' && *s != '?' && *s != '#';
}

static int url_is_websocket(const char *url)
{
    if (!url || strpbrk(url, " \t\r\n"))
        return 0;
    return has_scheme(url, "ws://") || has_scheme(url, "wss://");
}

static int url_is_http(const char *url)
{
    if (!url || strpbrk(url, " \t\r\n"))
        return 0;
    return has_scheme(url, "http://") || has_scheme(url, "https://");
}

/* url as lifeline_client_new() will parse it (a port of 1 to 65535, a
 * closed IPv6 bracket), of the kind wanted: ws(s) or http(s). */
static int url_parses(const char *url, int websocket)
{
    ll_url u;
    if (ll_url_parse(url, &u))
        return 0;
    int ok = u.websocket == websocket;
    ll_url_free(&u);
    return ok;
}

static int file_is_readable(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    fclose(f);
    return 1;
}

/* For a rule between two fields, the one to name: the other when the
 * application changed only that one from its default (the rule is broken
 * by what it set), else the one the rule is stated about. */
static const char *blame(int changed, const char *name, int other_changed, const char *other)
{
    return other_changed && !changed ? other : name;
}

/* "Name: value": a token name, a colon, no line breaks anywhere. */
static int header_is_valid(const char *h)
{
    if (!h || strpbrk(h, "\r\n"))
        return 0;
    const char *colon = strchr(h, ':');
    if (!colon || colon == h)
        return 0;
    for (const char *p = h; p < colon; p++)
        if (*p <= ' ' || *p >= 127)
            return 0;
    return 1;
}

/* "Name: value" for people: any name but an empty one, no line breaks. */
static int label_is_valid(const char *l)
{
    if (!l || strpbrk(l, "\r\n"))
        return 0;
    const char *colon = strchr(l, ':');
    return colon && colon != l;
}

/* "host:port" with a port of 1 to 65535. */
static int proxy_is_valid(const char *p)
{
    const char *colon = strrchr(p, ':');
    if (!colon || colon == p || colon[1] == '\0' || strpbrk(p, " \t\r\n/"))
        return 0;
    long port = 0;
    for (const char *d = colon + 1; *d; d++) {
        if (*d < '0' || *d > '9')
            return 0;
        port = port * 10 + (*d - '0');
        if (port > 65535)
            return 0;
    }
    return port > 0;
}

#define BAD(err, name)                                                         \
    do {                                                                       \
        if (field)                                                             \
            *field = (name);                                                   \
        return (err);                                                          \
    } while (0)
#define NEG(name)                                                              \
    if (cfg->name < 0)                                                         \
    BAD(LIFELINE_ERR_CONFIG_NEGATIVE, #name)

int lifeline_config_check(const lifeline_config *cfg, const char **field)
{
    if (field)
        *field = NULL;
    lifeline_config full;
    int rc = ll_config_widen(cfg, &full);
    if (rc == LIFELINE_ERR_CONFIG_STRUCT_SIZE)
        BAD(rc, "struct_size");
    if (rc)
        return rc;
    cfg = &full; /* from here on, every field exists */
    lifeline_config d;
    lifeline_config_init_sized(&d, sizeof(d));
#define CHANGED(name) (cfg->name != d.name)
    if (!url_is_websocket(cfg->url) || !url_parses(cfg->url, 1))
        BAD(LIFELINE_ERR_CONFIG_URL, "url");
    NEG(base_delay_ms);
    if (cfg->base_delay_ms == 0)
        BAD(LIFELINE_ERR_CONFIG_BASE_DELAY, "base_delay_ms");
    NEG(max_delay_ms);
    if (cfg->max_delay_ms < cfg->base_delay_ms)
        BAD(LIFELINE_ERR_CONFIG_MAX_DELAY, blame(CHANGED(max_delay_ms), "max_delay_ms",
                                                 CHANGED(base_delay_ms), "base_delay_ms"));
    NEG(jitter_ms);
    if (cfg->jitter_mode != LIFELINE_JITTER_ADDITIVE && cfg->jitter_mode != LIFELINE_JITTER_FULL)
        BAD(LIFELINE_ERR_CONFIG_JITTER_MODE, "jitter_mode");
    NEG(max_attempts);
    if (cfg->max_attempts < 1)
        BAD(LIFELINE_ERR_CONFIG_MAX_ATTEMPTS, "max_attempts");
    NEG(stable_after_ms);
    NEG(down_ping_interval_ms);
    if (cfg->down_ping_interval_ms == 0)
        BAD(LIFELINE_ERR_CONFIG_DOWN_PING_INTERVAL, "down_ping_interval_ms");
    if (cfg->health_url && (!url_is_http(cfg->health_url) || !url_parses(cfg->health_url, 0)))
        BAD(LIFELINE_ERR_CONFIG_HEALTH_URL, "health_url");
    NEG(connect_timeout_ms);
    if (cfg->connect_timeout_ms == 0)
        BAD(LIFELINE_ERR_CONFIG_CONNECT_TIMEOUT, "connect_timeout_ms");
    NEG(ping_interval_ms);
    if (cfg->ping_interval_ms == 0)
        BAD(LIFELINE_ERR_CONFIG_PING_INTERVAL, "ping_interval_ms");
    NEG(ping_timeout_ms);
    if (cfg->ping_timeout_ms == 0)
        BAD(LIFELINE_ERR_CONFIG_PING_TIMEOUT, "ping_timeout_ms");
    if (cfg->ping_timeout_ms >= cfg->ping_interval_ms)
        BAD(LIFELINE_ERR_CONFIG_PING_TIMEOUT, blame(CHANGED(ping_timeout_ms), "ping_timeout_ms",
                                                    CHANGED(ping_interval_ms), "ping_interval_ms"));
    NEG(rtt_good_ms);
    NEG(rtt_poor_ms);
    if (cfg->rtt_good_ms == 0)
        BAD(LIFELINE_ERR_CONFIG_RTT_THRESHOLDS, "rtt_good_ms");
    if (cfg->rtt_good_ms >= cfg->rtt_poor_ms)
        BAD(LIFELINE_ERR_CONFIG_RTT_THRESHOLDS, blame(CHANGED(rtt_poor_ms), "rtt_poor_ms",
                                                      CHANGED(rtt_good_ms), "rtt_good_ms"));
#undef CHANGED
    for (size_t i = 0; i < cfg->header_count; i++)
        if (!header_is_valid(cfg->headers ? cfg->headers[i] : NULL))
            BAD(LIFELINE_ERR_CONFIG_HEADER, "headers");
    if (cfg->permessage_deflate && !ll_transport_deflate_supported())
        BAD(LIFELINE_ERR_CONFIG_DEFLATE, "permessage_deflate");
    if (cfg->http_proxy && !proxy_is_valid(cfg->http_proxy))
        BAD(LIFELINE_ERR_CONFIG_PROXY, "http_proxy");
    if (cfg->ca_file && !file_is_readable(cfg->ca_file))
        BAD(LIFELINE_ERR_CONFIG_CA_FILE, "ca_file");
    if (cfg->max_message_bytes == 0)
        BAD(LIFELINE_ERR_CONFIG_LIMITS, "max_message_bytes");
    if (cfg->queue_policy != LIFELINE_QUEUE_REJECT_NEW &&
        cfg->queue_policy != LIFELINE_QUEUE_DROP_OLDEST && cfg->queue_policy != LIFELINE_QUEUE_OFF)
        BAD(LIFELINE_ERR_CONFIG_QUEUE, "queue_policy");
    if (cfg->queue_max_messages == 0)
        BAD(LIFELINE_ERR_CONFIG_LIMITS, "queue_max_messages");
    if (cfg->queue_max_bytes == 0)
        BAD(LIFELINE_ERR_CONFIG_LIMITS, "queue_max_bytes");
    if (cfg->discord_webhook_url && !url_is_http(cfg->discord_webhook_url))
        BAD(LIFELINE_ERR_CONFIG_WEBHOOK, "discord_webhook_url");
    for (size_t i = 0; i < cfg->alert_label_count; i++)
        if (!label_is_valid(cfg->alert_labels ? cfg->alert_labels[i] : NULL))
            BAD(LIFELINE_ERR_CONFIG_LABEL, "alert_labels");
    NEG(alert_min_interval_ms);
    if (cfg->delivery != LIFELINE_DELIVERY_BEST_EFFORT &&
        cfg->delivery != LIFELINE_DELIVERY_RELIABLE)
        BAD(LIFELINE_ERR_CONFIG_DELIVERY, "delivery");
    if (cfg->delivery == LIFELINE_DELIVERY_RELIABLE) {
        /* lifeline.v1 is the subprotocol; its units are every message */
        if (cfg->subprotocol)
            BAD(LIFELINE_ERR_CONFIG_DELIVERY, "subprotocol");
        if (cfg->app_ping)
            BAD(LIFELINE_ERR_CONFIG_DELIVERY, "app_ping");
        if (cfg->queue_policy == LIFELINE_QUEUE_OFF)
            BAD(LIFELINE_ERR_CONFIG_DELIVERY, "queue_policy");
    }
    if (cfg->outbox_durability != LIFELINE_DURABILITY_NORMAL &&
        cfg->outbox_durability != LIFELINE_DURABILITY_FULL)
        BAD(LIFELINE_ERR_CONFIG_DELIVERY, "outbox_durability");
    if (cfg->ack_every < 1)
        BAD(LIFELINE_ERR_CONFIG_DELIVERY, "ack_every");
    NEG(ack_delay_ms);
    if (cfg->fallback_url_count > LIFELINE_MAX_FALLBACK_URLS)
        BAD(LIFELINE_ERR_CONFIG_FALLBACK_URL, "fallback_urls");
    for (size_t i = 0; i < cfg->fallback_url_count; i++) {
        const char *u = cfg->fallback_urls ? cfg->fallback_urls[i] : NULL;
        if (!url_is_websocket(u) || !url_parses(u, 1))
            BAD(LIFELINE_ERR_CONFIG_FALLBACK_URL, "fallback_urls");
    }
    return LIFELINE_OK;
}

int lifeline_config_validate(const lifeline_config *cfg)
{
    return lifeline_config_check(cfg, NULL);
}
