/* See alerts.h. */
#include "server/alerts.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lifeline/lifeline.h"
#include "notify/alert.h"
#include "notify/discord.h"
#include "notify/format.h"
#include "server/clock.h"
#include "server/sendgrid.h"

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

void srv_alert_cfg_from_env(srv_alert_cfg *cfg)
{
    cfg->discord_webhook_url = env("DISCORD_WEBHOOK_URL");
    cfg->sendgrid_api_url = env("SENDGRID_API_URL");
    cfg->sendgrid_api_key = env("SENDGRID_API_KEY");
    cfg->admin_email = env("ADMIN_EMAIL");
    cfg->from_email = env("FROM_EMAIL");
}

static srv_log_level level_of(int lifeline_level)
{
    return lifeline_level == LIFELINE_LOG_ERROR  ? SRV_LOG_ERROR
         : lifeline_level == LIFELINE_LOG_WARN   ? SRV_LOG_WARN
         : lifeline_level == LIFELINE_LOG_INFO   ? SRV_LOG_INFO
                                                 : SRV_LOG_DEBUG;
}

/* The text of an error the notifier returns (a lifeline_error), from the
 * public header's table: lifeline_strerror() is the client library's, which
 * the server does not link. */
static const char *notify_error(int rc)
{
    switch (rc) {
#define XX(name, value, msg)                                                   \
    case value:                                                                \
        return msg;
        LIFELINE_ERROR_MAP(XX)
#undef XX
    default:
        return "unknown error";
    }
}

static const char *event_kind_name(int kind)
{
    return srv_event_name((srv_event_kind)kind);
}

_Static_assert(LL_CHANNEL_DISCORD == 0 && LL_CHANNEL_SENDGRID == 1 && SRV_ALERT_CHANNELS == 2,
               "the alert counters are indexed by ll_channel");

/* Counts an outcome on channel (any thread). */
static void count(srv_alerts *a, int channel, bool ok)
{
    if (channel < 0 || channel >= SRV_ALERT_CHANNELS)
        return;
    atomic_fetch_add_explicit(ok ? &a->sent[channel] : &a->failed[channel], 1,
                              memory_order_relaxed);
}

void srv_alerts_counts(const srv_alerts *a, uint64_t *sent, uint64_t *failed)
{
    for (int c = 0; c < SRV_ALERT_CHANNELS; c++) {
        sent[c] = atomic_load_explicit(&a->sent[c], memory_order_relaxed);
        failed[c] = atomic_load_explicit(&a->failed[c], memory_order_relaxed);
    }
}

/* Keeps an outcome for the status page (any thread). */
static void remember(srv_alerts *a, int channel, int kind, bool ok, long http_status,
                     int attempts, const char *detail)
{
    if (!a->lock_ok)
        return;
    srv_status_delivery d = {
        .at_ms = srv_clock_wall_ms(),
        .channel = ll_channel_name(channel),
        .kind = event_kind_name(kind),
        .ok = ok,
        .http_status = http_status,
        .attempts = attempts,
    };
    snprintf(d.detail, sizeof(d.detail), "%s", detail ? detail : "");
    pthread_mutex_lock(&a->lock);
    srv_status_delivery_add(&a->recent, &d);
    pthread_mutex_unlock(&a->lock);
}

void srv_alerts_recent(srv_alerts *a, srv_status_deliveries *out)
{
    if (!a->lock_ok) {
        srv_status_deliveries_init(out);
        return;
    }
    pthread_mutex_lock(&a->lock);
    *out = a->recent;
    pthread_mutex_unlock(&a->lock);
}

/* The notifier's thread: one log line per delivery. The log writes each
 * line with one call, so lines from two threads do not mix. */
static void on_done(void *ud, const ll_notify_result *r)
{
    srv_alerts *a = ud;
    count(a, r->channel, r->ok);
    remember(a, r->channel, r->kind, r->ok, r->http_status, r->attempts, r->detail);
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "channel", ll_channel_name(r->channel));
    cJSON_AddStringToObject(f, "kind", event_kind_name(r->kind));
    cJSON_AddBoolToObject(f, "ok", r->ok);
    cJSON_AddNumberToObject(f, "status", (double)r->http_status);
    cJSON_AddNumberToObject(f, "attempts", r->attempts);
    cJSON_AddStringToObject(f, "detail", r->detail ? r->detail : "");
    srv_log_emit(a->log, r->ok ? SRV_LOG_INFO : SRV_LOG_WARN, "alert", f);
}

static void on_log(void *ud, int level, const char *line)
{
    srv_alerts *a = ud;
    srv_log_msg(a->log, level_of(level), "alert_delivery", "%s", line);
}

int srv_alerts_init(srv_alerts *a, const srv_alert_cfg *cfg, const srv_log *log,
                    const char *host)
{
    memset(a, 0, sizeof(*a));
    a->cfg = *cfg;
    a->log = log;
    a->host = host;
    srv_status_deliveries_init(&a->recent);
    a->lock_ok = pthread_mutex_init(&a->lock, NULL) == 0;
    if (!a->cfg.sendgrid_api_url)
        a->cfg.sendgrid_api_url = SRV_SENDGRID_DEFAULT_URL;
    a->discord = cfg->discord_webhook_url != NULL;
    a->email = cfg->sendgrid_api_key && cfg->admin_email && cfg->from_email;
    if (!a->discord && !a->email)
        return 0;
    ll_notifier_opts o;
    ll_notifier_opts_init(&o);
    o.done = on_done;
    o.log = on_log;
    o.ud = a;
    if (ll_notifier_new(&o, &a->notifier) != LIFELINE_OK) {
        srv_log_msg(log, SRV_LOG_ERROR, "alerts", "cannot start the alert thread: alerts off");
        a->discord = a->email = 0;
        return -1;
    }
    return 0;
}

/* Which channels are on, said once, right after the server_starting line. */
static void say_channels(const srv_alerts *a)
{
    const srv_log *log = a->log;
    const srv_alert_cfg *cfg = &a->cfg;
    if (a->discord) {
        char id[80];
        ll_discord_webhook_id(cfg->discord_webhook_url, id, sizeof(id));
        srv_log_msg(log, SRV_LOG_INFO, "alerts", "discord alerts on (webhook %s)", id);
    } else {
        srv_log_msg(log, SRV_LOG_INFO, "alerts", "discord alerts off: DISCORD_WEBHOOK_URL is not set");
    }
    if (a->email)
        srv_log_msg(log, SRV_LOG_INFO, "alerts", "email alerts on (SendGrid, to %s)", cfg->admin_email);
    else
        srv_log_msg(log, SRV_LOG_INFO, "alerts",
                    "email alerts off: SENDGRID_API_KEY, ADMIN_EMAIL and FROM_EMAIL are needed");
}

void srv_alerts_hook(const srv_event *ev, void *user_data)
{
    srv_alerts *a = user_data;
    if (ev->kind == SRV_EVENT_STARTING)
        say_channels(a);
    if (!a->notifier)
        return;
    char server[300], active[24], dur[48], desc[200];
    ll_alert al = {.kind = (int)ev->kind, .unix_ms = ev->at_ms,
                   .footer = "lifeline-server " LIFELINE_VERSION_STRING};
    snprintf(server, sizeof(server), "%s:%d", a->host, ev->port);
    snprintf(active, sizeof(active), "%llu", (unsigned long long)ev->active);
    ll_format_duration(ev->duration_ms, dur, sizeof(dur));
    switch (ev->kind) {
    case SRV_EVENT_STARTING:
        al.title = "lifeline-server started";
        al.description = "The server is listening.";
        al.color = LL_COLOR_BLUE;
        break;
    case SRV_EVENT_STOPPING:
        al.title = "lifeline-server stopping";
        al.description = "The server is shutting down: its clients will reconnect elsewhere or wait.";
        al.color = LL_COLOR_BLUE;
        break;
    case SRV_EVENT_NO_CLIENTS:
        al.title = "No clients connected";
        snprintf(desc, sizeof(desc), "No client has been connected for %s.", dur);
        al.description = desc;
        al.color = LL_COLOR_RED;
        break;
    case SRV_EVENT_CLIENTS_BACK:
        al.title = "Clients back";
        snprintf(desc, sizeof(desc), "A client is connected again after %s without any.", dur);
        al.description = desc;
        al.color = LL_COLOR_GREEN;
        break;
    }
    al.fields[al.n_fields++] = (ll_alert_field){"Server", server, 1};
    al.fields[al.n_fields++] = (ll_alert_field){"Active connections", active, 1};
    if (ev->kind == SRV_EVENT_NO_CLIENTS || ev->kind == SRV_EVENT_CLIENTS_BACK)
        al.fields[al.n_fields++] = (ll_alert_field){"Without clients", dur, 1};

    if (a->discord) {
        char *body = ll_discord_payload(&al, "lifeline-server");
        int rc = body ? ll_notifier_post(a->notifier, LL_CHANNEL_DISCORD, al.kind,
                                         a->cfg.discord_webhook_url, NULL, body)
                      : LIFELINE_ERR_NO_MEMORY;
        if (rc) {
            count(a, LL_CHANNEL_DISCORD, false);
            remember(a, LL_CHANNEL_DISCORD, al.kind, false, 0, 0, notify_error(rc));
            srv_log_msg(a->log, SRV_LOG_WARN, "alert", "discord %s alert not sent: %s",
                        event_kind_name(al.kind), notify_error(rc));
        }
    }
    if (a->email) {
        char *body = srv_sendgrid_payload(&al, a->cfg.admin_email, a->cfg.from_email);
        int rc = body ? ll_notifier_post(a->notifier, LL_CHANNEL_SENDGRID, al.kind,
                                         a->cfg.sendgrid_api_url, a->cfg.sendgrid_api_key, body)
                      : LIFELINE_ERR_NO_MEMORY;
        if (rc) {
            count(a, LL_CHANNEL_SENDGRID, false);
            remember(a, LL_CHANNEL_SENDGRID, al.kind, false, 0, 0, notify_error(rc));
            srv_log_msg(a->log, SRV_LOG_WARN, "alert", "email %s alert not sent: %s",
                        event_kind_name(al.kind), notify_error(rc));
        }
    }
}

void srv_alerts_free(srv_alerts *a, int wait_ms)
{
    ll_notifier_free(a->notifier, wait_ms);
    a->notifier = NULL;
    if (a->lock_ok)
        pthread_mutex_destroy(&a->lock);
    a->lock_ok = false;
}
