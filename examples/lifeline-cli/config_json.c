/* The effective configuration as JSON, built with cJSON. */
#include "config_json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* An unsigned 64-bit number, exactly: cJSON numbers are doubles, so it goes
 * in as raw JSON text. */
static void add_u64(cJSON *obj, const char *key, uint64_t v)
{
    char digits[24];
    snprintf(digits, sizeof(digits), "%" PRIu64, v);
    cJSON_AddRawToObject(obj, key, digits);
}

/* A string, or null when s is NULL. */
static void add_str(cJSON *obj, const char *key, const char *s)
{
    if (s)
        cJSON_AddStringToObject(obj, key, s);
    else
        cJSON_AddNullToObject(obj, key);
}

/* A URL with its secrets shown as *** by the library, or null. Returns -1
 * when out of memory. */
static int add_url(cJSON *obj, const char *key, const char *url)
{
    if (!url) {
        cJSON_AddNullToObject(obj, key);
        return 0;
    }
    size_t n = lifeline_redact_url(url, NULL, 0);
    char *r = malloc(n + 1);
    if (!r)
        return -1;
    lifeline_redact_url(url, r, n + 1);
    add_str(obj, key, r);
    free(r);
    return 0;
}

/* "Name: ***" for the header line "Name: value", "***" for a line without
 * a colon: only the name is shown. The caller frees the result; NULL when
 * out of memory. */
static char *header_name_only(const char *header)
{
    const char *colon = strchr(header, ':');
    const char *stars = colon ? ": ***" : "***";
    size_t name = colon ? (size_t)(colon - header) : 0;
    char *r = malloc(name + strlen(stars) + 1);
    if (r) {
        memcpy(r, header, name);
        strcpy(r + name, stars);
    }
    return r;
}

char *config_to_json(const cli_options *o)
{
    const lifeline_config *c = &o->cfg;
    cJSON *obj = cJSON_CreateObject();
    if (!obj)
        return NULL;
    char *out = NULL;

    if (add_url(obj, "url", c->url))
        goto done;
    cJSON *fallbacks = cJSON_AddArrayToObject(obj, "fallback_urls");
    for (size_t i = 0; fallbacks && i < c->fallback_url_count; i++) {
        size_t n = lifeline_redact_url(c->fallback_urls[i], NULL, 0);
        char *r = malloc(n + 1);
        cJSON *item = NULL;
        if (r) {
            lifeline_redact_url(c->fallback_urls[i], r, n + 1);
            item = cJSON_CreateString(r);
        }
        free(r);
        if (!item)
            goto done;
        cJSON_AddItemToArray(fallbacks, item);
    }
    cJSON_AddNumberToObject(obj, "base_delay_ms", c->base_delay_ms);
    cJSON_AddNumberToObject(obj, "max_delay_ms", c->max_delay_ms);
    cJSON_AddNumberToObject(obj, "jitter_ms", c->jitter_ms);
    cJSON_AddStringToObject(obj, "jitter_mode", lifeline_jitter_mode_name(c->jitter_mode));
    cJSON_AddNumberToObject(obj, "max_attempts", c->max_attempts);
    cJSON_AddNumberToObject(obj, "stable_after_ms", c->stable_after_ms);
    cJSON_AddNumberToObject(obj, "down_ping_interval_ms", c->down_ping_interval_ms);
    if (add_url(obj, "health_url", c->health_url))
        goto done;
    cJSON_AddNumberToObject(obj, "connect_timeout_ms", c->connect_timeout_ms);
    cJSON_AddNumberToObject(obj, "ping_interval_ms", c->ping_interval_ms);
    cJSON_AddNumberToObject(obj, "ping_timeout_ms", c->ping_timeout_ms);
    cJSON_AddNumberToObject(obj, "rtt_good_ms", c->rtt_good_ms);
    cJSON_AddNumberToObject(obj, "rtt_poor_ms", c->rtt_poor_ms);
    /* 0: the client picks a seed from the operating system; null says so,
     * as --help's "default: random" does */
    if (c->random_seed)
        add_u64(obj, "seed", c->random_seed);
    else
        cJSON_AddNullToObject(obj, "seed");

    cJSON *headers = cJSON_AddArrayToObject(obj, "headers");
    for (size_t i = 0; headers && i < c->header_count; i++) {
        char *h = header_name_only(c->headers[i]);
        cJSON *item = h ? cJSON_CreateString(h) : NULL;
        free(h);
        if (!item)
            goto done;
        cJSON_AddItemToArray(headers, item);
    }
    add_str(obj, "subprotocol", c->subprotocol);
    add_str(obj, "origin", c->origin);
    cJSON_AddBoolToObject(obj, "deflate", c->permessage_deflate);
    add_str(obj, "proxy", c->http_proxy);
    add_str(obj, "ca_file", c->ca_file);
    cJSON_AddBoolToObject(obj, "insecure", c->allow_insecure_tls);
    cJSON_AddBoolToObject(obj, "app_ping", c->app_ping);
    cJSON_AddBoolToObject(obj, "watch_network", c->watch_network);
    add_u64(obj, "max_message_bytes", c->max_message_bytes);

    char policy[32];
    cJSON_AddStringToObject(obj, "queue_policy",
                            cli_spelling(lifeline_queue_policy_name(c->queue_policy), policy,
                                         sizeof(policy)));
    add_u64(obj, "queue_max", c->queue_max_messages);
    add_u64(obj, "queue_max_bytes", c->queue_max_bytes);

    if (add_url(obj, "discord_webhook", c->discord_webhook_url))
        goto done;
    cJSON *labels = cJSON_AddArrayToObject(obj, "alert_labels");
    for (size_t i = 0; labels && i < c->alert_label_count; i++)
        cJSON_AddItemToArray(labels, cJSON_CreateString(c->alert_labels[i]));
    cJSON_AddNumberToObject(obj, "alert_min_interval_ms", c->alert_min_interval_ms);

    /* reliable delivery, under the lifeline_config fields' names:
     * --reliable is "delivery", --outbox "outbox_path", --durability
     * "outbox_durability" */
    cJSON_AddStringToObject(obj, "delivery", lifeline_delivery_name(c->delivery));
    add_str(obj, "outbox_path", c->outbox_path);
    cJSON_AddStringToObject(obj, "outbox_durability", lifeline_durability_name(c->outbox_durability));
    cJSON_AddNumberToObject(obj, "ack_every", c->ack_every);
    cJSON_AddNumberToObject(obj, "ack_delay_ms", c->ack_delay_ms);

    cJSON_AddBoolToObject(obj, "json", o->json);
    cJSON_AddBoolToObject(obj, "messages_only", o->messages_only);
    cJSON_AddBoolToObject(obj, "verbose", o->verbose);
    cJSON_AddStringToObject(obj, "log_level", lifeline_log_level_name(c->log_level));
    cJSON_AddBoolToObject(obj, "exit_on_server_down", o->exit_on_server_down);

    out = cJSON_PrintUnformatted(obj);
done:
    cJSON_Delete(obj);
    return out;
}
