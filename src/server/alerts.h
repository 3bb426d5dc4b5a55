/* The server's status alerts: its events (starting, stopping, no clients
 * connected, clients back) sent to Discord and by email through SendGrid's
 * v3 API, through the shared notifier (src/notify: its own thread, bounded,
 * retries). A channel whose settings are missing is off, said once at
 * start. The settings come from the environment, read by main.c. */
#ifndef LL_SERVER_ALERTS_H
#define LL_SERVER_ALERTS_H

#include "notify/notifier.h"
#include "server/alert_cfg.h"
#include "server/events.h"
#include "server/log.h"

typedef struct ll_srv_alerts {
    ll_srv_alert_cfg cfg;
    int discord, email;              /* the channels that are on */
    ll_notifier *notifier;
    const ll_log *log;
    const char *host;
} ll_srv_alerts;

/* Fill cfg from the process environment (NULL or empty: unset). */
void ll_srv_alert_cfg_from_env(ll_srv_alert_cfg *cfg);

/* Turn on the channels cfg has everything for, log which are on and off.
 * Returns 0, or -1 when the notifier cannot start (logged). */
int ll_srv_alerts_init(ll_srv_alerts *a, const ll_srv_alert_cfg *cfg, const ll_log *log,
                       const char *host);

/* The event hook (ll_srv_events_add): user_data is the ll_srv_alerts. */
void ll_srv_alerts_hook(const ll_srv_event *ev, void *user_data);

/* Deliver what is queued for at most wait_ms, then stop. */
void ll_srv_alerts_free(ll_srv_alerts *a, int wait_ms);

#endif
