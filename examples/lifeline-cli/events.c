/* lifeline callbacks to events. They run on the library's loop thread; the
 * output serialises them with the main thread's events. */
#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "encode.h"
#include "options.h"


static void wake_main(events *e)
{
    char byte = 'x';
    ssize_t n = write(e->wake_fd, &byte, 1);
    (void)n; /* a full pipe already holds a wake-up */
}

/* The CLI must end with code (first decision wins); wake the main thread. */
static void request_exit(events *e, int code)
{
    int none = -1;
    if (atomic_compare_exchange_strong(&e->exit_code, &none, code))
        wake_main(e);
}

static void on_state(lifeline_client *client, const lifeline_state_info *info,
                     void *user_data)
{
    (void)client;
    events *e = user_data;
    cJSON *ev = output_event(e->out, "state");
    if (ev) {
        cJSON_AddStringToObject(ev, "state", lifeline_state_name(info->new_state));
        cJSON_AddStringToObject(ev, "from", lifeline_state_name(info->old_state));
        cJSON_AddNumberToObject(ev, "attempt", info->attempt);
        /* which server: 0 the first URL, k the (k+1)-th; shown redacted */
        cJSON_AddNumberToObject(ev, "url_index", info->url_index);
        cJSON_AddStringToObject(ev, "url", info->url ? info->url : "");
        cJSON_AddStringToObject(ev, "reason", info->reason ? info->reason : "");
        if (info->error != LIFELINE_OK)
            cJSON_AddStringToObject(ev, "error", lifeline_error_name(info->error));
        if (info->http_status)
            cJSON_AddNumberToObject(ev, "http_status", info->http_status);
    }
    output_emit(e->out, ev);

    if (info->new_state == LIFELINE_STATE_CONNECTED) {
        atomic_store(&e->connected, 1);
        atomic_fetch_add(&e->progress, 1);
    }
    atomic_store(&e->state, info->new_state);
    wake_main(e); /* after the stores: the main thread reads them when woken */
    if (info->new_state == LIFELINE_STATE_ERROR) {
        const char *reason = info->reason ? info->reason : "";
        char http[32] = "";
        if (info->http_status)
            snprintf(http, sizeof(http), "HTTP %d", info->http_status);
        /* the status once: the library's reason says "(HTTP 401)" already */
        if (*http && !strstr(reason, http))
            fprintf(stderr, "lifeline-cli: permanent failure (%s, %s): %s\n",
                    lifeline_error_name(info->error), http, reason);
        else
            fprintf(stderr, "lifeline-cli: permanent failure (%s): %s\n",
                    lifeline_error_name(info->error), reason);
        request_exit(e, CLI_EXIT_ERROR);
    } else if (info->new_state == LIFELINE_STATE_SERVER_DOWN && e->exit_on_server_down) {
        request_exit(e, CLI_EXIT_SERVER_DOWN);
    }
}

static void on_message(lifeline_client *client, const void *data, size_t len,
                       int is_binary, void *user_data)
{
    (void)client;
    events *e = user_data;
    if (output_message(e->out, data, len, is_binary) == 0)
        return; /* --messages-only: the body alone, on its own stream */
    cJSON *ev = output_event(e->out, "message");
    if (!ev)
        return;
    if (!is_binary && is_printable_utf8(data, len)) {
        /* no NUL inside (checked), so a C string of len bytes */
        char *text = strndup(data, len);
        if (text)
            cJSON_AddStringToObject(ev, "text", text);
        free(text);
    } else {
        char *b64 = base64_encode(data, len);
        if (b64)
            cJSON_AddStringToObject(ev, is_binary ? "binary_b64" : "text_b64", b64);
        free(b64);
        cJSON_AddNumberToObject(ev, "bytes", (double)len);
    }
    output_emit(e->out, ev);
}

static void on_pong(lifeline_client *client, int64_t rtt_ms, int quality,
                    void *user_data)
{
    (void)client;
    events *e = user_data;
    cJSON *ev = output_event(e->out, "pong");
    if (ev) {
        cJSON_AddNumberToObject(ev, "rtt_ms", (double)rtt_ms);
        cJSON_AddStringToObject(ev, "quality", lifeline_quality_name(quality));
    }
    output_emit(e->out, ev);
}

static void on_quality(lifeline_client *client, int quality, void *user_data)
{
    (void)client;
    events *e = user_data;
    cJSON *ev = output_event(e->out, "quality");
    if (ev)
        cJSON_AddStringToObject(ev, "quality", lifeline_quality_name(quality));
    output_emit(e->out, ev);
}

static void on_retry(lifeline_client *client, int attempt, int64_t delay_ms,
                     int probe, void *user_data)
{
    (void)client;
    events *e = user_data;
    cJSON *ev = output_event(e->out, "retry");
    if (ev) {
        cJSON_AddNumberToObject(ev, "attempt", attempt);
        cJSON_AddNumberToObject(ev, "delay_ms", (double)delay_ms);
        if (probe)
            cJSON_AddBoolToObject(ev, "probe", 1);
    }
    output_emit(e->out, ev);
}

static void emit_dropped(events *e, int reason, int refused)
{
    atomic_fetch_add(&e->dropped, 1);
    cJSON *ev = output_event(e->out, "dropped");
    if (ev) {
        cJSON_AddNumberToObject(ev, "count", 1);
        cJSON_AddStringToObject(ev, "reason", lifeline_error_name(reason));
        if (refused)
            cJSON_AddBoolToObject(ev, "refused", 1);
    }
    output_emit(e->out, ev);
}

static void on_dropped(lifeline_client *client, const void *data, size_t len,
                       int is_binary, int reason, void *user_data)
{
    (void)client, (void)data, (void)len, (void)is_binary;
    events *e = user_data;
    /* with reliable delivery, STOPPED comes only from an outbox in memory
     * at the stop: what the server had not acknowledged */
    if (reason == LIFELINE_ERR_STOPPED)
        atomic_fetch_add(&e->dropped_stopped, 1);
    emit_dropped(e, reason, 0);
}

/* {"event":"acked","id":N}: the server has every line up to id N */
static void on_acked(lifeline_client *client, uint64_t id, void *user_data)
{
    (void)client;
    events *e = user_data;
    cJSON *ev = output_event(e->out, "acked");
    if (ev)
        cJSON_AddNumberToObject(ev, "id", (double)id);
    output_emit(e->out, ev);
    atomic_fetch_add(&e->progress, 1);
    wake_main(e);
}

/* {"event":"resumed","recovered":true,"replayed":N} */
static void on_resumed(lifeline_client *client, int recovered, uint64_t replayed,
                       void *user_data)
{
    (void)client;
    events *e = user_data;
    cJSON *ev = output_event(e->out, "resumed");
    if (ev) {
        cJSON_AddBoolToObject(ev, "recovered", recovered);
        cJSON_AddNumberToObject(ev, "replayed", (double)replayed);
    }
    output_emit(e->out, ev);
    atomic_store(&e->resumed, 1);
    atomic_fetch_add(&e->progress, 1);
    wake_main(e);
}

void events_send_refused(events *e, int err)
{
    emit_dropped(e, err, 1);
}

/* {"event":"notify","channel":"discord","kind":"down","ok":true,"status":204} */
static void on_notify(lifeline_client *client, const lifeline_notify_info *info,
                      void *user_data)
{
    (void)client;
    events *e = user_data;
    cJSON *ev = output_event(e->out, "notify");
    if (ev) {
        cJSON_AddStringToObject(ev, "channel", info->channel);
        cJSON_AddStringToObject(ev, "kind", info->kind);
        cJSON_AddBoolToObject(ev, "ok", info->ok);
        cJSON_AddNumberToObject(ev, "status", info->http_status);
        cJSON_AddNumberToObject(ev, "attempts", info->attempts);
        cJSON_AddStringToObject(ev, "detail", info->detail ? info->detail : "");
    }
    output_emit(e->out, ev);
}

static void on_log(lifeline_client *client, int level, const char *line,
                   void *user_data)
{
    (void)client;
    events *e = user_data;
    cJSON *ev = output_event(e->out, "log");
    if (ev) {
        cJSON_AddStringToObject(ev, "level", lifeline_log_level_name(level));
        cJSON_AddStringToObject(ev, "line", line);
    }
    output_emit(e->out, ev);
}

void events_attach(events *e, lifeline_config *cfg, output *out,
                   int verbose, int exit_on_server_down, int wake_fd)
{
    e->out = out;
    e->exit_on_server_down = exit_on_server_down;
    e->wake_fd = wake_fd;
    atomic_init(&e->exit_code, -1);
    atomic_init(&e->dropped, 0);
    atomic_init(&e->connected, 0);
    atomic_init(&e->state, LIFELINE_STATE_IDLE);
    atomic_init(&e->dropped_stopped, 0);
    atomic_init(&e->resumed, 0);
    atomic_init(&e->progress, 0);
    cfg->on_state = on_state;
    cfg->on_message = on_message;
    cfg->on_pong = on_pong;
    cfg->on_quality = on_quality;
    cfg->on_retry = on_retry;
    cfg->on_dropped = on_dropped;
    cfg->on_notify = on_notify;
    cfg->on_acked = on_acked;
    cfg->on_resumed = on_resumed;
    cfg->on_log = verbose ? on_log : NULL;
    cfg->user_data = e;
}
