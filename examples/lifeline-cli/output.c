/* Printing events: JSON lines or readable lines, and the status indicator. */
#include "output.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "encode.h"

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void draw_status(output *o);

/* A countdown is on screen: redraw it every OUTPUT_TICK_MS. */
static int counting_down(const output *o)
{
    return o->status_drawn && o->retry_at_ms >= 0 &&
           (o->state == LIFELINE_STATE_DISCONNECTED || o->state == LIFELINE_STATE_SERVER_DOWN);
}

/* The ticker thread: sleeps until a countdown starts, then redraws the
 * status line every OUTPUT_TICK_MS while it lasts. */
static void *ticker_main(void *arg)
{
    output *o = arg;
    pthread_mutex_lock(&o->lock);
    while (!o->ticker_stop) {
        if (!counting_down(o)) {
            pthread_cond_wait(&o->tick, &o->lock);
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += OUTPUT_TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&o->tick, &o->lock, &until);
        if (!o->ticker_stop && counting_down(o)) {
            draw_status(o);
            fflush(o->stream);
        }
    }
    pthread_mutex_unlock(&o->lock);
    return NULL;
}

static int start_ticker(output *o)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr))
        return -1;
    int err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) ||
              pthread_cond_init(&o->tick, &attr);
    pthread_condattr_destroy(&attr);
    if (err)
        return -1;
    if (pthread_create(&o->ticker, NULL, ticker_main, o)) {
        pthread_cond_destroy(&o->tick);
        return -1;
    }
    o->ticker_started = 1;
    return 0;
}

int output_init(output *o, FILE *stream, FILE *messages, int json, int status_line)
{
    memset(o, 0, sizeof(*o));
    if (pthread_mutex_init(&o->lock, NULL))
        return -1;
    o->stream = stream;
    o->messages = messages;
    o->json = json;
    o->status_line = status_line && !json;
    o->t0_ms = monotonic_ms();
    o->state = LIFELINE_STATE_IDLE;
    o->quality = LIFELINE_QUALITY_UNKNOWN;
    o->rtt_ms = -1;
    o->retry_at_ms = -1;
    if (o->status_line && start_ticker(o)) {
        pthread_mutex_destroy(&o->lock);
        return -1;
    }
    return 0;
}

int64_t output_elapsed_ms(const output *o)
{
    return monotonic_ms() - o->t0_ms;
}

cJSON *output_event(output *o, const char *name)
{
    cJSON *ev = cJSON_CreateObject();
    if (!ev)
        return NULL;
    cJSON_AddStringToObject(ev, "event", name);
    cJSON_AddNumberToObject(ev, "ts_ms", (double)output_elapsed_ms(o));
    return ev;
}

static const char *str(const cJSON *ev, const char *key)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, key));
    return s ? s : "";
}

static int has(const cJSON *ev, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(ev, key) != NULL;
}

static long long num(const cJSON *ev, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(ev, key);
    return cJSON_IsNumber(item) ? (long long)item->valuedouble : 0;
}

/* The value the library's name_of (lifeline_state_name, ...) calls name,
 * or fallback: the events carry names, the status line keeps values. */
static int value_named(const char *name, const char *(*name_of)(int), int fallback)
{
    for (int v = 0; v < 32; v++)
        if (strcmp(name, name_of(v)) == 0)
            return v;
    return fallback;
}

/* Keep what the status line shows up to date. Called with the lock held. */
static void track(output *o, const cJSON *ev, const char *event)
{
    if (strcmp(event, "state") == 0) {
        o->state = value_named(str(ev, "state"), lifeline_state_name, o->state);
        o->attempt = (int)num(ev, "attempt");
        if (o->state == LIFELINE_STATE_CONNECTING || o->state == LIFELINE_STATE_CONNECTED)
            o->retry_at_ms = -1;
    } else if (strcmp(event, "retry") == 0) {
        o->retry_at_ms = o->t0_ms + num(ev, "ts_ms") + num(ev, "delay_ms");
    } else if (strcmp(event, "pong") == 0 || strcmp(event, "quality") == 0) {
        o->quality = value_named(str(ev, "quality"), lifeline_quality_name, o->quality);
        if (strcmp(event, "pong") == 0)
            o->rtt_ms = num(ev, "rtt_ms");
    }
}

static void print_readable(output *o, const cJSON *ev, const char *event)
{
    FILE *f = o->stream;
    long long ts = num(ev, "ts_ms");
    fprintf(f, "%lld.%03lld ", ts / 1000, ts % 1000);
    if (strcmp(event, "state") == 0) {
        if (o->show_url)
            fprintf(f, "state %s -> %s (attempt %lld, url %lld %s)", str(ev, "from"),
                    str(ev, "state"), num(ev, "attempt"), num(ev, "url_index"), str(ev, "url"));
        else
            fprintf(f, "state %s -> %s (attempt %lld)", str(ev, "from"), str(ev, "state"),
                    num(ev, "attempt"));
        const char *reason = str(ev, "reason");
        if (*reason)
            fprintf(f, ": %s", reason);
        /* the status once: the library's reason says "(HTTP 400)" already,
         * and HTTP_STATUS would only repeat it */
        char http[32] = "";
        if (has(ev, "http_status"))
            snprintf(http, sizeof(http), "HTTP %lld", num(ev, "http_status"));
        int http_said = *http && strstr(reason, http);
        if (has(ev, "error") && !(http_said && strcmp(str(ev, "error"), "HTTP_STATUS") == 0))
            fprintf(f, " [%s]", str(ev, "error"));
        if (*http && !http_said)
            fprintf(f, " (%s)", http);
    } else if (strcmp(event, "retry") == 0) {
        fprintf(f, "%s %lld in %lld ms", has(ev, "probe") ? "probe" : "retry",
                num(ev, "attempt"), num(ev, "delay_ms"));
    } else if (strcmp(event, "message") == 0) {
        if (has(ev, "text"))
            fprintf(f, "message: %s", str(ev, "text"));
        else if (has(ev, "text_b64"))
            fprintf(f, "message (text, %lld bytes, not printable): %s",
                    num(ev, "bytes"), str(ev, "text_b64"));
        else
            fprintf(f, "message (binary, %lld bytes): %s", num(ev, "bytes"),
                    str(ev, "binary_b64"));
    } else if (strcmp(event, "pong") == 0) {
        fprintf(f, "pong rtt %lld ms, quality %s", num(ev, "rtt_ms"), str(ev, "quality"));
    } else if (strcmp(event, "quality") == 0) {
        fprintf(f, "quality %s", str(ev, "quality"));
    } else if (strcmp(event, "dropped") == 0) {
        fprintf(f, "dropped %lld message%s: %s%s", num(ev, "count"),
                num(ev, "count") == 1 ? "" : "s", str(ev, "reason"),
                has(ev, "refused") ? " (refused by send)" : "");
    } else if (strcmp(event, "acked") == 0) {
        fprintf(f, "acked up to id %lld", num(ev, "id"));
    } else if (strcmp(event, "resumed") == 0) {
        fprintf(f, "resumed: %s, %lld replayed",
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "recovered"))
                    ? "recovered" : "not recovered",
                num(ev, "replayed"));
    } else if (strcmp(event, "notify") == 0) {
        fprintf(f, "alert %s by %s: %s (HTTP %lld, %lld attempt%s)", str(ev, "kind"),
                str(ev, "channel"), cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "ok"))
                                        ? "delivered" : str(ev, "detail"),
                num(ev, "status"), num(ev, "attempts"), num(ev, "attempts") == 1 ? "" : "s");
    } else if (strcmp(event, "log") == 0) {
        fprintf(f, "log %s: %s", str(ev, "level"), str(ev, "line"));
    } else {
        char *text = cJSON_PrintUnformatted(ev);
        fprintf(f, "%s %s", event, text ? text : "");
        cJSON_free(text);
    }
    fputc('\n', f);
}

static void draw_status(output *o)
{
    FILE *f = o->stream;
    fprintf(f, "\r\033[K\033[7m %s | quality %s", lifeline_state_name(o->state),
            lifeline_quality_name(o->quality));
    if (o->rtt_ms >= 0)
        fprintf(f, " | rtt %lld ms", (long long)o->rtt_ms);
    fprintf(f, " | attempt %d", o->attempt);
    if (o->retry_at_ms >= 0 &&
        (o->state == LIFELINE_STATE_DISCONNECTED || o->state == LIFELINE_STATE_SERVER_DOWN)) {
        int64_t left = o->retry_at_ms - monotonic_ms();
        fprintf(f, " | next in %lld ms", (long long)(left > 0 ? left : 0));
    }
    fputs(" \033[0m", f);
    o->status_drawn = 1;
}

void output_emit(output *o, cJSON *ev)
{
    if (!ev)
        return;
    const char *event = str(ev, "event");
    char *line = o->json ? cJSON_PrintUnformatted(ev) : NULL;
    pthread_mutex_lock(&o->lock);
    track(o, ev, event);
    if (o->json) {
        if (line) {
            fputs(line, o->stream);
            fputc('\n', o->stream);
        }
    } else {
        if (o->status_drawn)
            fputs("\r\033[K", o->stream);
        o->status_drawn = 0;
        print_readable(o, ev, event);
        if (o->status_line) {
            draw_status(o);
            pthread_cond_signal(&o->tick); /* a countdown may start */
        }
    }
    fflush(o->stream);
    pthread_mutex_unlock(&o->lock);
    cJSON_free(line);
    cJSON_Delete(ev);
}

int output_message(output *o, const void *data, size_t len, int is_binary)
{
    if (!o->messages)
        return -1;
    char *b64 = is_binary ? base64_encode(data, len) : NULL;
    pthread_mutex_lock(&o->lock);
    /* stdout and stderr may be the same terminal */
    if (o->status_drawn) {
        fputs("\r\033[K", o->stream);
        fflush(o->stream);
        o->status_drawn = 0;
    }
    if (is_binary)
        fputs(b64 ? b64 : "", o->messages);
    else
        fwrite(data, 1, len, o->messages);
    fputc('\n', o->messages);
    fflush(o->messages);
    if (o->status_line)
        draw_status(o);
    fflush(o->stream);
    pthread_mutex_unlock(&o->lock);
    free(b64);
    return 0;
}

void output_finish(output *o)
{
    if (o->ticker_started) {
        pthread_mutex_lock(&o->lock);
        o->ticker_stop = 1;
        pthread_cond_signal(&o->tick);
        pthread_mutex_unlock(&o->lock);
        pthread_join(o->ticker, NULL);
        pthread_cond_destroy(&o->tick);
        o->ticker_started = 0;
    }
    pthread_mutex_lock(&o->lock);
    if (o->status_drawn) {
        fputs("\r\033[K", o->stream);
        fflush(o->stream);
        o->status_drawn = 0;
    }
    pthread_mutex_unlock(&o->lock);
}

void output_destroy(output *o)
{
    pthread_mutex_destroy(&o->lock);
}
