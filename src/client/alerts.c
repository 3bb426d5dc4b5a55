/* Client alerts: the "server down" and "recovered" alerts the core's
 * SERVER_DOWN and RECOVERED actions say to send (their alert flag: the
 * throttle, one down alert per alert_min_interval_ms, and the pairing of a
 * recovered alert with a sent down alert are the core's, machine.c), and the
 * app's own alerts. Built here, delivered by the notifier's worker thread,
 * reported to on_notify on the loop thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/client_impl.h"
#include "notify/alert.h"
#include "notify/discord.h"
#include "notify/format.h"

const char *ll_alert_kind_name(int kind)
{
    static const char *const names[LL_ALERT_KIND_COUNT] = {"down", "recovered", "custom", "status"};
    return kind >= 0 && kind < LL_ALERT_KIND_COUNT ? names[kind] : "?";
}

/* The server as an alert shows it: scheme://host:port/path. */
#define LL_SERVER_TEXT_MAX 300

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Worker thread: keep the result for the loop thread to report. */
static void on_done(void *ud, const ll_notify_result *r)
{
    lifeline_client *c = ud;
    pthread_mutex_lock(&c->mu);
    int post = !c->notify_closing;
    if (c->n_results < LL_MAX_NOTIFY_RESULTS)
        c->results[c->n_results++] = *r;
    else
        c->results_dropped++; /* said with the next report */
    pthread_mutex_unlock(&c->mu);
    if (post)
        ll_client_post(c, LL_CMD_NOTIFY);
}

/* Worker thread: the notifier's log lines wait for the loop thread, which
 * logs them (redacted) with the results; a full buffer drops the line. */
static void on_log(void *ud, int level, const char *line)
{
    ll_client_log_later(ud, level, line);
}

int ll_alerts_init(lifeline_client *c)
{
    if (!c->webhook)
        return LIFELINE_OK;
    ll_notifier_opts o;
    ll_notifier_opts_init(&o);
    o.done = on_done;
    o.log = on_log;
    o.ud = c;
    return ll_notifier_new(&o, &c->notifier);
}

void ll_alerts_free(lifeline_client *c, int wait_ms)
{
    if (!c->notifier)
        return;
    pthread_mutex_lock(&c->mu);
    c->notify_closing = 1;
    pthread_mutex_unlock(&c->mu);
    ll_notifier_free(c->notifier, wait_ms);
    c->notifier = NULL;
}

/* Fill the fields every alert has: the server (url_index of the list),
 * then the app's labels. */
static void common_fields(lifeline_client *c, ll_alert *a, int url_index, char *server, size_t n)
{
    ll_url_display(&c->urls[url_index], server, n);
    a->fields[a->n_fields++] = (ll_alert_field){"Server", server, 0};
    for (size_t i = 0; i < c->label_count && a->n_fields < LL_ALERT_MAX_FIELDS; i++)
        a->fields[a->n_fields++] = (ll_alert_field){c->label_names[i], c->label_values[i], 1};
}

static int post(lifeline_client *c, const ll_alert *a)
{
    char *body = ll_discord_payload(a, c->alert_username);
    if (!body)
        return LIFELINE_ERR_NO_MEMORY;
    return ll_notifier_post(c->notifier, LL_CHANNEL_DISCORD, a->kind, c->webhook, NULL, body);
}

static void report_refused(lifeline_client *c, int kind, int rc)
{
    ll_notify_result r = {.channel = LL_CHANNEL_DISCORD, .kind = kind,
                          .gone = rc == LIFELINE_ERR_NOTIFY_GONE, .detail = lifeline_strerror(rc)};
    ll_client_log(c, LIFELINE_LOG_WARN, "%s alert not sent: %s", ll_alert_kind_name(kind),
                  lifeline_strerror(rc));
    on_done(c, &r);
}

void ll_alerts_server_down(lifeline_client *c, const ll_action *act)
{
    if (!c->notifier)
        return;
    if (!act->alert) {
        ll_client_log(c, LIFELINE_LOG_INFO,
                      "server down again within alert_min_interval_ms: no alert this time");
        return;
    }
    int64_t now = ll_now_ms();
    char server[LL_SERVER_TEXT_MAX], attempts[16], err[200], began[32], title[320];
    ll_alert a = {.kind = LL_ALERT_DOWN, .color = LL_COLOR_RED, .unix_ms = wall_ms()};
    /* the service is named by url: with fallbacks, every one is down */
    common_fields(c, &a, 0, server, sizeof(server));
    snprintf(title, sizeof(title), "Server down: %s", c->urls[0].host);
    a.title = title;
    a.description = "lifeline could not reach its server and judged it down. "
                    "It keeps probing and will report when the server is back.";
    snprintf(attempts, sizeof(attempts), "%d", act->attempt);
    if (act->http_status)
        snprintf(err, sizeof(err), "%s (HTTP %d)", lifeline_strerror(act->error), act->http_status);
    else
        snprintf(err, sizeof(err), "%s", lifeline_strerror(act->error));
    ll_format_iso8601(a.unix_ms - (now - act->outage_began_ms), 0, began, sizeof(began));
    ll_alert_field more[] = {{"Attempts", attempts, 1}, {"Last error", err, 0},
                             {"Outage began", began, 1}};
    /* the facts first, then the labels */
    memmove(a.fields + 1 + 3, a.fields + 1, (a.n_fields - 1) * sizeof(ll_alert_field));
    memcpy(a.fields + 1, more, sizeof(more));
    a.n_fields += 3;
    a.footer = "lifeline " LIFELINE_VERSION_STRING;
    int rc = post(c, &a);
    if (rc) {
        /* not handed over: the throttle does not count it, and no
         * recovered alert pairs with it */
        pthread_mutex_lock(&c->mu);
        ll_core_down_alert_unsent(&c->core);
        pthread_mutex_unlock(&c->mu);
        report_refused(c, LL_ALERT_DOWN, rc);
    }
}

void ll_alerts_recovered(lifeline_client *c, const ll_action *act)
{
    if (!c->notifier || !act->alert)
        return;
    char server[LL_SERVER_TEXT_MAX], down[48], title[320];
    ll_alert a = {.kind = LL_ALERT_RECOVERED, .color = LL_COLOR_GREEN, .unix_ms = wall_ms()};
    /* the title pairs with the down alert's (url); the Server field says
     * which server the client landed on */
    snprintf(title, sizeof(title), "Server recovered: %s", c->urls[0].host);
    a.title = title;
    a.description = "lifeline is connected to its server again.";
    ll_format_duration(act->downtime_ms, down, sizeof(down));
    a.fields[a.n_fields++] = (ll_alert_field){"Downtime", down, 1};
    common_fields(c, &a, act->url_index, server, sizeof(server));
    a.footer = "lifeline " LIFELINE_VERSION_STRING;
    int rc = post(c, &a);
    if (rc)
        report_refused(c, LL_ALERT_RECOVERED, rc);
}

void ll_alerts_report(lifeline_client *c)
{
    pthread_mutex_lock(&c->mu);
    size_t dropped = c->results_dropped;
    c->results_dropped = 0;
    pthread_mutex_unlock(&c->mu);
    if (dropped)
        ll_client_log(c, LIFELINE_LOG_WARN, "%zu alert results not reported (more than %d waiting)",
                      dropped, LL_MAX_NOTIFY_RESULTS);
    for (;;) {
        pthread_mutex_lock(&c->mu);
        if (c->n_results == 0) {
            pthread_mutex_unlock(&c->mu);
            return;
        }
        ll_notify_result r = c->results[0];
        memmove(c->results, c->results + 1, (c->n_results - 1) * sizeof(r));
        c->n_results--;
        pthread_mutex_unlock(&c->mu);
        ll_client_log(c, r.ok ? LIFELINE_LOG_INFO : LIFELINE_LOG_WARN,
                      "%s alert by %s: %s (HTTP %ld, %d attempts)", ll_alert_kind_name(r.kind),
                      ll_channel_name(r.channel), r.detail ? r.detail : "", r.http_status, r.attempts);
        if (c->cfg.on_notify && !ll_client_quiet(c)) {
            lifeline_notify_info info = {
                .channel = ll_channel_name(r.channel), .kind = ll_alert_kind_name(r.kind),
                .ok = r.ok, .http_status = (int)r.http_status, .attempts = r.attempts,
                .detail = r.detail ? r.detail : "",
            };
            c->cfg.on_notify(c, &info, c->cfg.user_data);
        }
    }
}

int lifeline_client_alert(lifeline_client *c, const char *title, const char *text)
{
    if (!c || !title || !text)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    if (!c->notifier)
        return LIFELINE_ERR_ALERTS_OFF;
    char server[LL_SERVER_TEXT_MAX];
    ll_alert a = {.kind = LL_ALERT_CUSTOM, .color = LL_COLOR_BLUE, .unix_ms = wall_ms(),
                  .title = title, .description = text, .footer = "lifeline " LIFELINE_VERSION_STRING};
    common_fields(c, &a, 0, server, sizeof(server));
    return post(c, &a);
}
