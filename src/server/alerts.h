/* The server's status alerts: its events (starting, stopping, no clients
 * connected, clients back) sent to Discord and by email through SendGrid's
 * v3 API, through the shared notifier (src/notify: its own thread, bounded,
 * retries). A channel whose settings are missing is off, said once at
 * start. The settings come from the environment, read by main.c. */
#ifndef SRV_ALERTS_H
#define SRV_ALERTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "notify/notifier.h"
#include "server/alert_cfg.h"
#include "server/events.h"
#include "server/log.h"
#include "server/status.h"

/* Alert channels, by ll_channel: discord, email. */
#define SRV_ALERT_CHANNELS 2

typedef struct srv_alerts {
    srv_alert_cfg cfg;
    int discord, email;              /* the channels that are on */
    ll_notifier *notifier;
    const srv_log *log;
    const char *host;
    /* outcomes by ll_channel, counted on the notifier's thread too: read
     * them with srv_alerts_counts */
    _Atomic uint64_t sent[SRV_ALERT_CHANNELS];   /* delivered */
    _Atomic uint64_t failed[SRV_ALERT_CHANNELS]; /* given up, or never queued */
    /* the recent outcomes, for the status page: written on the notifier's
     * thread too, under lock; read them with srv_alerts_recent */
    pthread_mutex_t lock;
    bool lock_ok;
    srv_status_deliveries recent;
} srv_alerts;

/* Fill cfg from the process environment (NULL or empty: unset). */
void srv_alert_cfg_from_env(srv_alert_cfg *cfg);

/* Turn on the channels cfg has everything for, log which are on and off.
 * Returns 0, or -1 when the notifier cannot start (logged). */
int srv_alerts_init(srv_alerts *a, const srv_alert_cfg *cfg, const srv_log *log,
                    const char *host);

/* The event hook (srv_events_add): user_data is the srv_alerts. */
void srv_alerts_hook(const srv_event *ev, void *user_data);

/* The alerts sent and failed so far, by ll_channel, into sent[] and
 * failed[] (SRV_ALERT_CHANNELS each). Threads: any. */
void srv_alerts_counts(const srv_alerts *a, uint64_t *sent, uint64_t *failed);

/* A copy of the recent outcomes (sent, given up, or never queued) into
 * *out. Threads: any. */
void srv_alerts_recent(srv_alerts *a, srv_status_deliveries *out);

/* Deliver what is queued for at most wait_ms, then stop. */
void srv_alerts_free(srv_alerts *a, int wait_ms);

#endif
