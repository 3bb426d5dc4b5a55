/* lifeline_config_init() and lifeline_config_validate(): the defaults the
 * product is specified with, and one distinct error per bad field. */
#include <string.h>
#include <strings.h>

#include "lifeline/lifeline.h"

void lifeline_config_init(lifeline_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->struct_size = sizeof(*cfg);
    cfg->base_delay_ms = 5000;
    cfg->max_delay_ms = 30000;
    cfg->jitter_ms = 1000;
    cfg->jitter_mode = LIFELINE_JITTER_ADDITIVE;
    cfg->max_attempts = 5;
    cfg->stable_after_ms = 10000;
    cfg->down_ping_interval_ms = 5000;
    cfg->connect_timeout_ms = 10000;
    cfg->ping_interval_ms = 30000;
    cfg->ping_timeout_ms = 10000;
    cfg->rtt_good_ms = 300;
    cfg->rtt_poor_ms = 1000;
    cfg->max_message_bytes = 1024 * 1024;
    cfg->queue_policy = LIFELINE_QUEUE_REJECT_NEW;
    cfg->queue_max_messages = 1000;
    cfg->queue_max_bytes = 1024 * 1024;
    cfg->log_level = LIFELINE_LOG_WARN;
    cfg->alert_min_interval_ms = 600000;
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

int lifeline_config_validate(const lifeline_config *cfg)
{
    if (!cfg)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    if (cfg->struct_size != sizeof(*cfg))
        return LIFELINE_ERR_CONFIG_STRUCT_SIZE;
    if (!url_is_websocket(cfg->url))
        return LIFELINE_ERR_CONFIG_URL;
    if (cfg->base_delay_ms < 0 || cfg->max_delay_ms < 0 || cfg->jitter_ms < 0 ||
        cfg->max_attempts < 0 || cfg->stable_after_ms < 0 ||
        cfg->down_ping_interval_ms < 0 || cfg->connect_timeout_ms < 0 || cfg->ping_interval_ms < 0 ||
        cfg->ping_timeout_ms < 0 || cfg->rtt_good_ms < 0 || cfg->rtt_poor_ms < 0 ||
        cfg->alert_min_interval_ms < 0)
        return LIFELINE_ERR_CONFIG_NEGATIVE;
    if (cfg->base_delay_ms == 0)
        return LIFELINE_ERR_CONFIG_BASE_DELAY;
    if (cfg->max_delay_ms < cfg->base_delay_ms)
        return LIFELINE_ERR_CONFIG_MAX_DELAY;
    if (cfg->max_attempts < 1)
        return LIFELINE_ERR_CONFIG_MAX_ATTEMPTS;
    if (cfg->jitter_mode != LIFELINE_JITTER_ADDITIVE &&
        cfg->jitter_mode != LIFELINE_JITTER_FULL)
        return LIFELINE_ERR_CONFIG_JITTER_MODE;
    if (cfg->down_ping_interval_ms == 0)
        return LIFELINE_ERR_CONFIG_DOWN_PING_INTERVAL;
    if (cfg->health_url && !url_is_http(cfg->health_url))
        return LIFELINE_ERR_CONFIG_HEALTH_URL;
    if (cfg->connect_timeout_ms == 0)
        return LIFELINE_ERR_CONFIG_CONNECT_TIMEOUT;
    if (cfg->ping_interval_ms == 0)
        return LIFELINE_ERR_CONFIG_PING_INTERVAL;
    if (cfg->ping_timeout_ms == 0 || cfg->ping_timeout_ms >= cfg->ping_interval_ms)
        return LIFELINE_ERR_CONFIG_PING_TIMEOUT;
    if (cfg->rtt_good_ms == 0 || cfg->rtt_good_ms >= cfg->rtt_poor_ms)
        return LIFELINE_ERR_CONFIG_RTT_THRESHOLDS;
    for (size_t i = 0; i < cfg->header_count; i++)
        if (!header_is_valid(cfg->headers ? cfg->headers[i] : NULL))
            return LIFELINE_ERR_CONFIG_HEADER;
    if (cfg->http_proxy && !proxy_is_valid(cfg->http_proxy))
        return LIFELINE_ERR_CONFIG_PROXY;
    if (cfg->max_message_bytes == 0 || cfg->queue_max_messages == 0 ||
        cfg->queue_max_bytes == 0)
        return LIFELINE_ERR_CONFIG_LIMITS;
    if (cfg->discord_webhook_url && !url_is_http(cfg->discord_webhook_url))
        return LIFELINE_ERR_CONFIG_WEBHOOK;
    for (size_t i = 0; i < cfg->alert_label_count; i++)
        if (!label_is_valid(cfg->alert_labels ? cfg->alert_labels[i] : NULL))
            return LIFELINE_ERR_CONFIG_LABEL;
    if (cfg->queue_policy != LIFELINE_QUEUE_REJECT_NEW &&
        cfg->queue_policy != LIFELINE_QUEUE_DROP_OLDEST &&
        cfg->queue_policy != LIFELINE_QUEUE_OFF)
        return LIFELINE_ERR_CONFIG_QUEUE;
    return LIFELINE_OK;
}
