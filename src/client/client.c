/* The public client API: lifecycle, send and the offline queue, stats, and
 * the glue that feeds the core and performs its actions.
 *
 * Data flows one way: the app calls in (any thread), the core decides under
 * the client's mutex, and the actions it returns are performed in order by
 * the loop thread: the transport's, and the callbacks up to the app. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "api/config.h"
#include "client/client_impl.h"


#define STOP_WAIT_DEFAULT_MS 2000

int64_t ll_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- logging ---------------------------------------------------------------- */

void ll_client_log(lifeline_client *c, int level, const char *fmt, ...)
{
    if (!c->cfg.on_log || level > c->cfg.log_level)
        return;
    /* redact the whole line first, then cut it: a secret cut in half by
     * the length limit would escape the redaction */
    char small[1024], clean[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    char *raw = small;
    if (n >= (int)sizeof(small)) {
        raw = malloc((size_t)n + 1);
        if (!raw)
            return;
        va_start(ap, fmt);
        vsnprintf(raw, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    char *full = raw == small ? clean : malloc((size_t)n + 1);
    if (!full) {
        free(raw);
        return;
    }
    ll_redact(raw, full, (size_t)n + 1 > sizeof(clean) ? (size_t)n + 1 : sizeof(clean),
              c->secrets.list, c->secrets.count);
    if (full != clean) {
        snprintf(clean, sizeof(clean), "%s", full);
        free(full);
        free(raw);
    }
    c->cfg.on_log(c, level, clean, c->cfg.user_data);
}

void ll_client_log_later(lifeline_client *c, int level, const char *line)
{
    if (!c->cfg.on_log || level > c->cfg.log_level)
        return;
    pthread_mutex_lock(&c->mu);
    int post = !c->notify_closing && !c->detached;
    if (c->n_pending_logs < 16) {
        snprintf(c->pending_logs[c->n_pending_logs], sizeof(c->pending_logs[0]), "%s", line);
        c->pending_log_levels[c->n_pending_logs++] = level;
    }
    pthread_mutex_unlock(&c->mu);
    if (post)
        ll_loop_post(c, LL_CMD_NOTIFY);
}

void ll_client_flush_logs(lifeline_client *c)
{
    char lines[16][256];
    int levels[16];
    pthread_mutex_lock(&c->mu);
    size_t n = c->n_pending_logs;
    memcpy(lines, c->pending_logs, n * sizeof(lines[0]));
    memcpy(levels, c->pending_log_levels, n * sizeof(levels[0]));
    c->n_pending_logs = 0;
    pthread_mutex_unlock(&c->mu);
    for (size_t i = 0; i < n; i++)
        ll_client_log(c, levels[i], "%s", lines[i]);
}

/* ---- the core and its actions ------------------------------------------------ */

/* Run ev through the core and append its actions for the loop. mu held. */
static int feed_locked(lifeline_client *c, const ll_event *ev)
{
    int rc = ll_core_handle(&c->core, ev, ll_now_ms());
    size_t n = c->core.n_actions;
    if (n == 0)
        return rc;
    if (c->n_actions + n > c->cap_actions) {
        size_t cap = c->cap_actions ? c->cap_actions * 2 : 32;
        while (cap < c->n_actions + n)
            cap *= 2;
        ll_action *a = realloc(c->actions, cap * sizeof(*a));
        if (!a)
            abort(); /* a few hundred bytes; nothing sane is left to do */
        c->actions = a;
        c->cap_actions = cap;
    }
    memcpy(c->actions + c->n_actions, c->core.actions, n * sizeof(ll_action));
    c->n_actions += n;
    return rc;
}

/* An app request: decide now (so the caller gets the answer), perform on
 * the loop. */
static int app_event(lifeline_client *c, ll_event_type type)
{
    pthread_mutex_lock(&c->mu);
    int rc = feed_locked(c, &(ll_event){.type = type});
    int work = c->n_actions > 0;
    if (type == LL_EV_STOP)
        c->closed_done = 0;
    pthread_mutex_unlock(&c->mu);
    if (work || type == LL_EV_STOP)
        ll_loop_post(c, LL_CMD_ACTIONS);
    return rc;
}

void ll_client_dispatch(lifeline_client *c, const ll_event *ev)
{
    pthread_mutex_lock(&c->mu);
    feed_locked(c, ev);
    pthread_mutex_unlock(&c->mu);
    ll_client_pump(c);
}

static void timer_cb(lws_sorted_usec_list_t *sul)
{
    lifeline_client *c = lws_container_of(sul, lifeline_client, sul);
    ll_client_dispatch(c, &(ll_event){.type = LL_EV_TICK});
}

void ll_client_arm_timer(lifeline_client *c)
{
    pthread_mutex_lock(&c->mu);
    int64_t deadline = ll_core_deadline(&c->core);
    pthread_mutex_unlock(&c->mu);
    if (deadline == LL_NO_DEADLINE) {
        lws_sul_cancel(&c->sul);
        return;
    }
    int64_t in = deadline - ll_now_ms();
    if (in < 0)
        in = 0;
    lws_sul_schedule(c->loop->ctx, 0, &c->sul, timer_cb, (lws_usec_t)in * LWS_US_PER_MS);
}

static void report_dropped(lifeline_client *c)
{
    for (;;) {
        pthread_mutex_lock(&c->mu);
        ll_msg *m = ll_queue_pop(&c->dropped);
        pthread_mutex_unlock(&c->mu);
        if (!m)
            return;
        if (c->cfg.on_dropped) {
            c->cfg.on_dropped(c, ll_msg_payload(&c->queue, m), m->len, m->is_binary,
                              m->reason, c->cfg.user_data);
        }
        free(m);
    }
}

/* Everything still queued is dropped (stop). mu held. */
static void drop_all_locked(lifeline_client *c)
{
    ll_msg *m;
    while ((m = ll_queue_pop(&c->queue))) {
        m->reason = LIFELINE_ERR_STOPPED;
        ll_queue_push(&c->dropped, m);
        c->msgs_dropped++;
    }
}

static const char *reason_text(const ll_action *a)
{
    if (a->new_state == LIFELINE_STATE_CONNECTED)
        return "connected";
    if (a->new_state == LIFELINE_STATE_CONNECTING)
        return a->attempt ? "reconnecting" : "connecting";
    if (a->new_state == LIFELINE_STATE_CLOSED)
        return "stopped by the application";
    if (a->new_state == LIFELINE_STATE_SERVER_DOWN)
        return "retry budget spent: server judged down";
    return lifeline_strerror(a->error);
}

static void on_state(lifeline_client *c, const ll_action *a)
{
    if (a->new_state == LIFELINE_STATE_CLOSED) {
        /* what is still queued is reported before closed, the last event */
        pthread_mutex_lock(&c->mu);
        drop_all_locked(c);
        pthread_mutex_unlock(&c->mu);
        report_dropped(c);
    }
    if (a->new_state == LIFELINE_STATE_CONNECTED) {
        pthread_mutex_lock(&c->mu);
        int start = c->queue.count > 0;
        c->write_armed = start;
        pthread_mutex_unlock(&c->mu);
        if (start)
            ll_ws_want_write(c);
    }
    /* the transport's own words on this failure, if it left some */
    const char *detail = "";
    if (a->error && a->error == c->detail_error &&
        (a->new_state == LIFELINE_STATE_DISCONNECTED || a->new_state == LIFELINE_STATE_ERROR)) {
        detail = c->detail;
        c->detail_error = 0;
    }
    ll_client_log(c, LIFELINE_LOG_INFO, "state %s -> %s (attempt %d%s%s%s%s)",
                  lifeline_state_name(a->old_state), lifeline_state_name(a->new_state),
                  a->attempt, a->error ? ", " : "", a->error ? lifeline_strerror(a->error) : "",
                  *detail ? ": " : "", detail);
    if (c->cfg.on_state) {
        char reason[256], http[24] = "";
        if (a->http_status)
            snprintf(http, sizeof(http), " (HTTP %d)", a->http_status);
        snprintf(reason, sizeof(reason), "%s%s%s%s", reason_text(a), http, *detail ? ": " : "",
                 detail);
        lifeline_state_info info = {
            .old_state = a->old_state, .new_state = a->new_state, .attempt = a->attempt,
            .error = a->error, .http_status = a->http_status, .reason = reason,
        };
        c->cfg.on_state(c, &info, c->cfg.user_data);
    }
}

static void close_timeout(lws_sorted_usec_list_t *sul);

static void perform(lifeline_client *c, const ll_action *a)
{
    void *ud = c->cfg.user_data;
    switch (a->type) {
    case LL_ACT_CONNECT:
        ll_ws_connect(c, a->conn_id);
        break;
    case LL_ACT_PROBE_HTTP:
        ll_health_probe(c, a->conn_id);
        break;
    case LL_ACT_CLOSE:
        ll_ws_close(c, a->conn_id, a->close_code);
        if (a->close_code == 1000 && c->wsi) {
            pthread_mutex_lock(&c->mu);
            int wait = c->stop_wait_ms;
            pthread_mutex_unlock(&c->mu);
            lws_sul_schedule(c->loop->ctx, 0, &c->close_sul, close_timeout,
                             (lws_usec_t)wait * LWS_US_PER_MS);
        }
        break;
    case LL_ACT_SEND_PING:
        ll_ws_send_ping(c, a->seq);
        break;
    case LL_ACT_STATE:
        on_state(c, a);
        break;
    case LL_ACT_RETRY:
        ll_client_log(c, LIFELINE_LOG_INFO, "%s %d in %lld ms", a->probe ? "probe" : "retry",
                      a->attempt, (long long)a->delay_ms);
        if (c->cfg.on_retry) {
            c->cfg.on_retry(c, a->attempt, a->delay_ms, a->probe, ud);
        }
        break;
    case LL_ACT_PONG:
        if (c->cfg.on_pong) {
            c->cfg.on_pong(c, a->rtt_ms, a->quality, ud);
        }
        break;
    case LL_ACT_QUALITY:
        if (c->cfg.on_quality) {
            c->cfg.on_quality(c, a->quality, ud);
        }
        break;
    case LL_ACT_SERVER_DOWN:
        ll_client_log(c, LIFELINE_LOG_WARN, "server judged down after %d attempts: %s",
                      a->attempt, lifeline_strerror(a->error));
        ll_alerts_server_down(c, a);
        break;
    case LL_ACT_RECOVERED:
        ll_client_log(c, LIFELINE_LOG_INFO, "server back after %lld ms down",
                      (long long)a->downtime_ms);
        ll_alerts_recovered(c, a);
        break;
    default:
        break;
    }
}

/* The server did not answer a graceful close within stop's wait. */
static void close_timeout(lws_sorted_usec_list_t *sul)
{
    lifeline_client *c = lws_container_of(sul, lifeline_client, close_sul);
    if (c->wsi) {
        ll_client_log(c, LIFELINE_LOG_INFO, "server did not answer the close in time");
        ll_ws_abandon_all(c);
    }
    ll_client_pump(c);
}

void ll_client_pump(lifeline_client *c)
{
    if (c->pumping)
        return; /* the outer pump picks up what this call appended */
    c->pumping = 1;
    lifeline_client *prev = ll_tls_client;
    ll_tls_client = c;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        if (c->n_actions == 0) {
            pthread_mutex_unlock(&c->mu);
            break;
        }
        ll_action a = c->actions[0];
        memmove(c->actions, c->actions + 1, (c->n_actions - 1) * sizeof(ll_action));
        c->n_actions--;
        pthread_mutex_unlock(&c->mu);
        perform(c, &a);
    }
    report_dropped(c);
    ll_client_flush_logs(c);
    ll_alerts_report(c);
    ll_client_arm_timer(c);
    /* a stop is done when the core is closed, every action it asked for is
     * performed (the closed event and the drop reports among them), and no
     * socket is left */
    pthread_mutex_lock(&c->mu);
    if (c->core.state == LIFELINE_STATE_CLOSED && c->n_actions == 0 && !c->wsi &&
        !c->probe_wsi && !c->closed_done) {
        c->closed_done = 1;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    ll_tls_client = prev;
    c->pumping = 0;
}

void ll_client_run_commands(lifeline_client *c)
{
    pthread_mutex_lock(&c->mu);
    unsigned cmds = c->cmds;
    c->cmds = 0;
    pthread_mutex_unlock(&c->mu);
    if (cmds & LL_CMD_DETACH) {
        ll_ws_abandon_all(c);
        lws_sul_cancel(&c->sul);
        lws_sul_cancel(&c->close_sul);
        pthread_mutex_lock(&c->mu);
        c->detached = 1;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        return;
    }
    if (cmds & LL_CMD_WRITE)
        ll_ws_want_write(c);
    ll_client_pump(c); /* actions, dropped reports, timer */
}

/* ---- messages ------------------------------------------------------------- */

int ll_client_write_next(lifeline_client *c, struct lws *wsi)
{
    /* one message per WRITEABLE: libwebsockets services reads between two
     * writes, so a long queue never starves what the server sends back */
    pthread_mutex_lock(&c->mu);
    ll_msg *m = ll_queue_pop(&c->queue);
    int more = c->queue.count > 0;
    c->write_armed = more;
    pthread_mutex_unlock(&c->mu);
    if (!m)
        return 0;
    /* libwebsockets masks a client's payload in place: write a copy, so a
     * message whose write fails goes again, first, unharmed */
    if (c->tx_cap < LWS_PRE + m->len) {
        unsigned char *p = realloc(c->tx, LWS_PRE + m->len);
        if (!p) {
            pthread_mutex_lock(&c->mu);
            ll_queue_push_front(&c->queue, m);
            pthread_mutex_unlock(&c->mu);
            return -1;
        }
        c->tx = p;
        c->tx_cap = LWS_PRE + m->len;
    }
    memcpy(c->tx + LWS_PRE, ll_msg_payload(&c->queue, m), m->len);
    int n = lws_write(wsi, c->tx + LWS_PRE, m->len,
                      m->is_binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
    if (c->tx_cap > 65536) { /* do not keep a big buffer for an idle link */
        free(c->tx);
        c->tx = NULL;
        c->tx_cap = 0;
    }
    pthread_mutex_lock(&c->mu);
    if (n < (int)m->len) {
        ll_queue_push_front(&c->queue, m); /* not sent: it goes again, first */
        pthread_mutex_unlock(&c->mu);
        return -1;
    }
    c->msgs_sent++;
    c->bytes_sent += m->len;
    pthread_mutex_unlock(&c->mu);
    free(m);
    if (more)
        lws_callback_on_writable(wsi);
    return 0;
}

void ll_client_detail(lifeline_client *c, int error, const char *fmt, ...)
{
    char raw[sizeof(c->detail)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    /* it may quote what the server sent: none of our secrets in it */
    ll_redact(raw, c->detail, sizeof(c->detail), c->secrets.list, c->secrets.count);
    c->detail_error = error;
}

void ll_client_deliver(lifeline_client *c, const void *data, size_t len, int is_binary)
{
    if (c->close_code)
        return; /* stopping: closed was the last state; nothing follows it */
    pthread_mutex_lock(&c->mu);
    c->msgs_recv++;
    c->bytes_recv += len;
    pthread_mutex_unlock(&c->mu);
    if (c->cfg.on_message) {
        c->cfg.on_message(c, data, len, is_binary, c->cfg.user_data);
    }
}

int lifeline_client_send(lifeline_client *c, const void *data, size_t len, int is_binary)
{
    if (!c || (!data && len))
        return LIFELINE_ERR_INVALID_ARGUMENT;
    if (len > c->cfg.max_message_bytes)
        return LIFELINE_ERR_MESSAGE_TOO_BIG;
    ll_msg *m = ll_msg_new(&c->queue, data, len, is_binary != 0);
    if (!m)
        return LIFELINE_ERR_NO_MEMORY;
    int rc = LIFELINE_OK, wake = 0;
    pthread_mutex_lock(&c->mu);
    int state = c->core.state;
    if (state == LIFELINE_STATE_CLOSED) {
        rc = LIFELINE_ERR_STOPPED;
    } else if (c->cfg.queue_policy == LIFELINE_QUEUE_OFF && state != LIFELINE_STATE_CONNECTED) {
        rc = LIFELINE_ERR_NOT_CONNECTED;
    } else if (len > c->queue.max_bytes) {
        rc = LIFELINE_ERR_QUEUE_FULL;
    } else if (!ll_queue_fits(&c->queue, m)) {
        if (c->cfg.queue_policy == LIFELINE_QUEUE_DROP_OLDEST) {
            while (!ll_queue_fits(&c->queue, m)) {
                ll_msg *old = ll_queue_pop(&c->queue);
                old->reason = LIFELINE_ERR_QUEUE_FULL;
                ll_queue_push(&c->dropped, old);
                c->msgs_dropped++;
                wake |= LL_CMD_DROPPED;
            }
        } else {
            rc = LIFELINE_ERR_QUEUE_FULL;
        }
    }
    if (rc == LIFELINE_OK) {
        ll_queue_push(&c->queue, m);
        m = NULL;
        if (state == LIFELINE_STATE_CONNECTED && !c->write_armed) {
            c->write_armed = 1;
            wake |= LL_CMD_WRITE;
        }
    }
    pthread_mutex_unlock(&c->mu);
    free(m);
    if (wake == LL_CMD_WRITE && ll_loop_is_current(c->loop))
        ll_ws_want_write(c); /* on the loop thread already: no wake-up */
    else if (wake)
        ll_loop_post(c, (unsigned)wake);
    return rc;
}

int lifeline_client_send_text(lifeline_client *c, const char *text)
{
    if (!text)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    return lifeline_client_send(c, text, strlen(text), 0);
}

/* ---- lifecycle ---------------------------------------------------------------- */

static char *dup_opt(const char *s, int *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = 1;
    return d;
}

static void free_client(lifeline_client *c)
{
    free(c->url_str);
    free(c->health_str);
    free(c->subprotocol);
    free(c->origin);
    free(c->ca_file);
    free(c->proxy);
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
    ll_url_free(&c->url);
    ll_url_free(&c->health);
    ll_msg *m;
    while ((m = ll_queue_pop(&c->queue)))
        free(m);
    while ((m = ll_queue_pop(&c->dropped)))
        free(m);
    free(c->actions);
    free(c->rx);
    free(c->tx);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int lifeline_client_new(const lifeline_config *cfg, lifeline_client **out)
{
    if (!out)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    *out = NULL;
    /* the application's struct may be older (smaller) than ours: from here
     * on, cfg is a full copy with defaults for what it lacks */
    lifeline_config full;
    int rc = ll_config_widen(cfg, &full);
    if (rc)
        return rc;
    cfg = &full;
    /* every rule on the config, the transport's included (permessage-deflate
     * on libwebsockets 4.1, a CA file that cannot be read) */
    rc = lifeline_config_validate(cfg);
    if (rc)
        return rc;
    lifeline_client *c = calloc(1, sizeof(*c));
    if (!c)
        return LIFELINE_ERR_NO_MEMORY;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->cfg = *cfg;
    int oom = 0;
    c->url_str = dup_opt(cfg->url, &oom);
    c->health_str = dup_opt(cfg->health_url, &oom);
    c->subprotocol = dup_opt(cfg->subprotocol, &oom);
    c->origin = dup_opt(cfg->origin, &oom);
    c->ca_file = dup_opt(cfg->ca_file, &oom);
    c->proxy = dup_opt(cfg->http_proxy, &oom);
    if (cfg->header_count) {
        c->headers = calloc(cfg->header_count, sizeof(char *));
        oom |= !c->headers;
        for (size_t i = 0; c->headers && i < cfg->header_count; i++) {
            c->headers[i] = dup_opt(cfg->headers[i], &oom);
            c->header_count = i + 1;
            const char *v = strchr(cfg->headers[i], ':') + 1;
            while (*v == ' ')
                v++;
            /* header values never reach a log */
            oom |= ll_secrets_add(&c->secrets, v, strlen(v)) != 0;
        }
    }
    c->webhook = dup_opt(cfg->discord_webhook_url, &oom);
    c->alert_username = dup_opt(cfg->alert_username, &oom);
    if (cfg->alert_label_count) {
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
    }
    /* the webhook URL is a secret, whole, and its token on its own; so are
     * the secret parts of the URLs */
    if (cfg->discord_webhook_url)
        oom |= ll_secrets_add(&c->secrets, cfg->discord_webhook_url,
                              strlen(cfg->discord_webhook_url)) != 0;
    oom |= ll_secrets_add_url(&c->secrets, cfg->url) != 0;
    oom |= ll_secrets_add_url(&c->secrets, cfg->health_url) != 0;
    oom |= ll_secrets_add_url(&c->secrets, cfg->discord_webhook_url) != 0;
    c->cfg.discord_webhook_url = c->webhook;
    c->cfg.alert_username = c->alert_username;
    c->cfg.alert_labels = NULL; /* use label_names / label_values */
    c->cfg.url = c->url_str;
    c->cfg.health_url = c->health_str;
    c->cfg.subprotocol = c->subprotocol;
    c->cfg.origin = c->origin;
    c->cfg.ca_file = c->ca_file;
    c->cfg.http_proxy = c->proxy;
    c->cfg.headers = (const char *const *)c->headers;
    if (oom) {
        free_client(c);
        return LIFELINE_ERR_NO_MEMORY;
    }
    if (ll_url_parse(c->url_str, &c->url) || !c->url.websocket) {
        free_client(c);
        return LIFELINE_ERR_CONFIG_URL;
    }
    if (c->health_str && (ll_url_parse(c->health_str, &c->health) || c->health.websocket)) {
        free_client(c);
        return LIFELINE_ERR_CONFIG_HEALTH_URL;
    }
    if (c->ca_file) {
        FILE *f = fopen(c->ca_file, "r");
        if (!f) {
            free_client(c);
            return LIFELINE_ERR_CONFIG_CA_FILE;
        }
        fclose(f);
    }
    c->seed = cfg->random_seed;
    if (!c->seed && getrandom(&c->seed, sizeof(c->seed), 0) != (ssize_t)sizeof(c->seed))
        c->seed = (uint64_t)ll_now_ms() ^ (uint64_t)(uintptr_t)c;
    ll_core_init(&c->core, &c->cfg, c->seed);
    ll_queue_init(&c->queue, cfg->queue_max_messages, cfg->queue_max_bytes, LWS_PRE);
    ll_queue_init(&c->dropped, SIZE_MAX, SIZE_MAX, LWS_PRE);
    c->stop_wait_ms = STOP_WAIT_DEFAULT_MS;
    rc = ll_alerts_init(c);
    if (rc) {
        free_client(c);
        return rc;
    }

    if (cfg->loop) {
        c->loop = cfg->loop;
    } else {
        rc = lifeline_loop_new(&c->loop);
        if (rc) {
            free_client(c);
            return rc;
        }
        c->owns_loop = 1;
    }
    rc = ll_loop_attach(c->loop, c);
    if (rc) {
        if (c->owns_loop)
            lifeline_loop_free(c->loop);
        free_client(c);
        return rc;
    }
    *out = c;
    return LIFELINE_OK;
}

int lifeline_client_start(lifeline_client *c)
{
    if (!c)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    return app_event(c, LL_EV_START);
}

int lifeline_client_reconnect_now(lifeline_client *c)
{
    if (!c)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    return app_event(c, LL_EV_RECONNECT_NOW);
}

int lifeline_client_state(lifeline_client *c)
{
    if (!c)
        return LIFELINE_STATE_IDLE;
    pthread_mutex_lock(&c->mu);
    int s = c->core.state;
    pthread_mutex_unlock(&c->mu);
    return s;
}

int lifeline_client_stop(lifeline_client *c, int timeout_ms)
{
    if (!c)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    if (timeout_ms < 0)
        timeout_ms = STOP_WAIT_DEFAULT_MS;
    pthread_mutex_lock(&c->mu);
    c->stop_wait_ms = timeout_ms;
    pthread_mutex_unlock(&c->mu);
    app_event(c, LL_EV_STOP);
    if (ll_loop_is_current(c->loop))
        return LIFELINE_OK; /* from a callback: completes after it returns */
    /* wait for the loop: the close handshake is bounded by timeout_ms on the
     * loop's side; the margin covers the loop getting to it */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    int64_t ns = (int64_t)until.tv_nsec + ((int64_t)timeout_ms + 5000) * 1000000;
    until.tv_sec += (time_t)(ns / 1000000000);
    until.tv_nsec = (long)(ns % 1000000000);
    pthread_mutex_lock(&c->mu);
    while (!c->closed_done)
        if (pthread_cond_timedwait(&c->cv, &c->mu, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&c->mu);
    return LIFELINE_OK;
}

int lifeline_client_free(lifeline_client *c)
{
    if (!c)
        return LIFELINE_OK;
    if (ll_loop_is_current(c->loop))
        return LIFELINE_ERR_IN_CALLBACK;
    lifeline_client_stop(c, -1);
    ll_alerts_free(c); /* bounded: at most 2 s for alerts still in flight */
    ll_loop_post(c, LL_CMD_DETACH);
    pthread_mutex_lock(&c->mu);
    while (!c->detached)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
    ll_loop_detach(c->loop, c);
    if (c->owns_loop)
        lifeline_loop_free(c->loop);
    free_client(c);
    return LIFELINE_OK;
}

int lifeline_client_stats_sized(lifeline_client *c, lifeline_stats *out, size_t size)
{
    if (!c || !out || size < LL_STATS_SIZE_MIN)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    /* the whole snapshot here; the application's struct gets what it has
     * room for, and nothing more */
    lifeline_stats snap, *s = &snap;
    memset(s, 0, sizeof(*s));
    pthread_mutex_lock(&c->mu);
    const ll_core *k = &c->core;
    int64_t now = ll_now_ms();
    s->state = k->state;
    s->time_in_state_ms = k->state == LIFELINE_STATE_IDLE ? 0 : now - k->state_since;
    s->attempt = k->attempt;
    s->retry_in_ms = ll_core_retry_in(k, now);
    s->last_error = k->last_error;
    s->last_http_status = k->last_http_status;
    s->quality = k->quality;
    s->rtt_last_ms = k->rtt.last_ms;
    s->rtt_smoothed_ms = k->rtt.srtt_ms;
    s->rtt_variation_ms = k->rtt.rttvar_ms;
    s->rtt_min_ms = k->rtt.min_ms;
    s->rtt_max_ms = k->rtt.max_ms;
    s->pongs = k->rtt.samples;
    s->ping_timeouts = k->rtt.timeouts;
    s->since_last_pong_ms = k->last_pong_at >= 0 ? now - k->last_pong_at : -1;
    s->queued_messages = c->queue.count;
    s->queued_bytes = c->queue.bytes;
    s->messages_sent = c->msgs_sent;
    s->bytes_sent = c->bytes_sent;
    s->messages_received = c->msgs_recv;
    s->bytes_received = c->bytes_recv;
    s->messages_dropped = c->msgs_dropped;
    s->reconnections = k->reconnections;
    s->downtime_ms = ll_core_downtime(k, now);
    pthread_mutex_unlock(&c->mu);
    size_t filled = size < sizeof(snap) ? size : sizeof(snap);
    snap.struct_size = filled;
    memcpy(out, &snap, filled);
    if (size > filled)
        memset((char *)out + filled, 0, size - filled);
    return LIFELINE_OK;
}
