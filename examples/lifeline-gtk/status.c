/*
 * The status window and the lifeline callbacks that update it. Every
 * callback runs on the GTK main thread (a lifeline_loop_new_glib() loop):
 * no locks, no g_idle_add() hops, the widgets are set where the event is.
 *
 * SPDX-License-Identifier: MIT
 */
#include "status.h"

#include <stdio.h>
#include <string.h>

#define LOG_MAX_LINES 200
#define BLINK_MS 250

/* How each state is shown: the pill's text, its CSS class and colour. */
static const struct pill_style {
    const char *text;
    const char *css_class;
    const char *color;     /* the name the self-test reports */
    const char *background;
    const char *foreground;
} pill_styles[LIFELINE_STATE_COUNT] = {
    [LIFELINE_STATE_IDLE] = {"Idle", "state-idle", "grey", "#757575", "#ffffff"},
    [LIFELINE_STATE_CONNECTING] = {"Connecting", "state-connecting", "amber", "#f9a825", "#212121"},
    [LIFELINE_STATE_CONNECTED] = {"Connected", "state-connected", "green", "#2e7d32", "#ffffff"},
    [LIFELINE_STATE_DISCONNECTED] = {"Disconnected", "state-disconnected", "orange", "#ef6c00",
                                     "#ffffff"},
    [LIFELINE_STATE_ERROR] = {"Error", "state-error", "red", "#c62828", "#ffffff"},
    [LIFELINE_STATE_SERVER_DOWN] = {"Server down", "state-server-down", "darkred", "#6d1b1b",
                                    "#ffffff"},
    [LIFELINE_STATE_CLOSED] = {"Closed", "state-closed", "grey", "#757575", "#ffffff"},
};

struct status_view {
    status_widgets w;
    lifeline_client *client;
    size_t server_count;
    int attempts_total;   /* max_attempts passes over every server */
    int state;
    int attempt;          /* of the retry scheduled, or under way */
    int probes;           /* probes scheduled since server_down began */
    gint64 retry_at_us;   /* g_get_monotonic_time() of the next try, 0: none */
    guint countdown_id;
    guint blink_id;
    guint64 pongs;
    char since[16];       /* when the connection opened, HH:MM:SS */
};

/* ---- small helpers ----------------------------------------------------- */

static void now_hms(char *out, size_t size)
{
    GDateTime *t = g_date_time_new_now_local();
    char *s = g_date_time_format(t, "%H:%M:%S");
    g_strlcpy(out, s, size);
    g_free(s);
    g_date_time_unref(t);
}

static void log_line(status_view *v, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void log_line(status_view *v, const char *fmt, ...)
{
    char hms[16];
    now_hms(hms, sizeof(hms));
    va_list ap;
    va_start(ap, fmt);
    char *text = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    GtkTextBuffer *buf = gtk_text_view_get_buffer(GTK_TEXT_VIEW(v->w.log));
    GtkTextIter end;
    gtk_text_buffer_get_end_iter(buf, &end);
    char *line = g_strdup_printf("%s  %s\n", hms, text);
    gtk_text_buffer_insert(buf, &end, line, -1);
    g_free(line);
    g_free(text);

    if (gtk_text_buffer_get_line_count(buf) > LOG_MAX_LINES) {
        GtkTextIter a, b;
        gtk_text_buffer_get_start_iter(buf, &a);
        gtk_text_buffer_get_iter_at_line(buf, &b, 1);
        gtk_text_buffer_delete(buf, &a, &b);
    }
    GtkTextMark *mark = gtk_text_buffer_get_mark(buf, "end");
    gtk_text_view_scroll_mark_onscreen(GTK_TEXT_VIEW(v->w.log), mark);
}

static const char *quality_text(int quality)
{
    switch (quality) {
    case LIFELINE_QUALITY_EXCELLENT: return "Excellent";
    case LIFELINE_QUALITY_GOOD: return "Good";
    case LIFELINE_QUALITY_POOR: return "Poor";
    default: return "-";
    }
}

static void set_pill(status_view *v, int state)
{
    if (state < 0 || state >= LIFELINE_STATE_COUNT)
        return;
    for (int i = 0; i < LIFELINE_STATE_COUNT; i++)
        gtk_widget_remove_css_class(v->w.pill, pill_styles[i].css_class);
    gtk_widget_add_css_class(v->w.pill, pill_styles[state].css_class);
    gtk_label_set_text(GTK_LABEL(v->w.pill), pill_styles[state].text);
}

const char *status_pill_color(GtkWidget *pill)
{
    for (int i = 0; i < LIFELINE_STATE_COUNT; i++)
        if (gtk_widget_has_css_class(pill, pill_styles[i].css_class))
            return pill_styles[i].color;
    return "none";
}

/* ---- the detail line and its countdown --------------------------------- */

/* Whole seconds left before the next try, rounded up; -1 when none. */
static int seconds_left(const status_view *v)
{
    if (!v->retry_at_us)
        return -1;
    gint64 left = v->retry_at_us - g_get_monotonic_time();
    if (left <= 0)
        return 0;
    return (int)((left + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
}

static void render_detail(status_view *v)
{
    char text[256];
    int left = seconds_left(v);
    switch (v->state) {
    case LIFELINE_STATE_CONNECTING:
        if (v->attempt > 0)
            snprintf(text, sizeof(text), "attempt %d/%d, connecting", v->attempt,
                     v->attempts_total);
        else
            snprintf(text, sizeof(text), "connecting");
        break;
    case LIFELINE_STATE_CONNECTED:
        snprintf(text, sizeof(text), "connected since %s", v->since);
        break;
    case LIFELINE_STATE_DISCONNECTED:
        if (left > 0)
            snprintf(text, sizeof(text), "attempt %d/%d, next try in %d s", v->attempt,
                     v->attempts_total, left);
        else if (left == 0)
            snprintf(text, sizeof(text), "attempt %d/%d, trying now", v->attempt,
                     v->attempts_total);
        else
            snprintf(text, sizeof(text), "connection lost");
        break;
    case LIFELINE_STATE_SERVER_DOWN:
        if (left > 0)
            snprintf(text, sizeof(text), "%d/%d attempts failed, probe %d in %d s",
                     v->attempts_total, v->attempts_total, v->probes, left);
        else if (left == 0)
            snprintf(text, sizeof(text), "%d/%d attempts failed, probe %d under way",
                     v->attempts_total, v->attempts_total, v->probes);
        else
            snprintf(text, sizeof(text), "%d/%d attempts failed", v->attempts_total,
                     v->attempts_total);
        break;
    case LIFELINE_STATE_ERROR:
        return; /* on_state wrote the reason */
    case LIFELINE_STATE_CLOSED:
        snprintf(text, sizeof(text), "stopped");
        break;
    default:
        snprintf(text, sizeof(text), "not started");
        break;
    }
    gtk_label_set_text(GTK_LABEL(v->w.detail), text);
}

static gboolean countdown_tick(gpointer data);

/* Redraw the countdown now, and again when its whole second changes: once
 * a second, on the second the user reads. */
static void countdown_schedule(status_view *v)
{
    if (v->countdown_id) {
        g_source_remove(v->countdown_id);
        v->countdown_id = 0;
    }
    render_detail(v);
    if (!v->retry_at_us)
        return;
    gint64 left = v->retry_at_us - g_get_monotonic_time();
    if (left <= 0)
        return;
    gint64 to_next = left % G_USEC_PER_SEC;
    if (to_next == 0)
        to_next = G_USEC_PER_SEC;
    v->countdown_id = g_timeout_add((guint)(to_next / 1000 + 1), countdown_tick, v);
}

static gboolean countdown_tick(gpointer data)
{
    status_view *v = data;
    v->countdown_id = 0;
    countdown_schedule(v);
    return G_SOURCE_REMOVE;
}

/* ---- lifeline callbacks: all on the GTK main thread -------------------- */

static void on_state(lifeline_client *c, const lifeline_state_info *info, void *ud)
{
    (void)c;
    status_view *v = ud;
    int old = v->state;
    v->state = info->new_state;
    set_pill(v, info->new_state);

    if (v->server_count > 1) {
        char *s = g_strdup_printf("server %d of %zu: %s", info->url_index + 1, v->server_count,
                                  info->url);
        gtk_label_set_text(GTK_LABEL(v->w.server), s);
        g_free(s);
    } else {
        gtk_label_set_text(GTK_LABEL(v->w.server), info->url);
    }

    switch (info->new_state) {
    case LIFELINE_STATE_CONNECTING:
        v->attempt = info->attempt;
        v->retry_at_us = 0;
        break;
    case LIFELINE_STATE_CONNECTED:
        now_hms(v->since, sizeof(v->since));
        v->attempt = 0;
        v->probes = 0;
        v->retry_at_us = 0;
        log_line(v, "connected to %s", info->url);
        break;
    case LIFELINE_STATE_SERVER_DOWN:
        if (old != LIFELINE_STATE_SERVER_DOWN)
            v->probes = 0;
        log_line(v, "server down: %s", info->reason);
        break;
    case LIFELINE_STATE_DISCONNECTED:
        if (old == LIFELINE_STATE_CONNECTED)
            log_line(v, "connection lost: %s", info->reason);
        break;
    case LIFELINE_STATE_ERROR:
        v->retry_at_us = 0;
        gtk_label_set_text(GTK_LABEL(v->w.detail), info->reason);
        log_line(v, "error: %s", info->reason);
        break;
    case LIFELINE_STATE_CLOSED:
        v->retry_at_us = 0;
        break;
    default:
        break;
    }
    if (info->new_state != LIFELINE_STATE_CONNECTED) {
        /* the grade is unknown until the first pong of a connection */
        gtk_label_set_text(GTK_LABEL(v->w.quality), quality_text(LIFELINE_QUALITY_UNKNOWN));
    }
    gtk_widget_set_sensitive(v->w.reconnect,
                             info->new_state == LIFELINE_STATE_DISCONNECTED ||
                                 info->new_state == LIFELINE_STATE_SERVER_DOWN ||
                                 info->new_state == LIFELINE_STATE_ERROR);
    countdown_schedule(v);
}

static void on_retry(lifeline_client *c, int attempt, int64_t delay_ms, int probe, void *ud)
{
    (void)c;
    status_view *v = ud;
    v->attempt = attempt;
    if (probe)
        v->probes++;
    v->retry_at_us = g_get_monotonic_time() + delay_ms * 1000;
    countdown_schedule(v);
}

static gboolean blink_off(gpointer data)
{
    status_view *v = data;
    v->blink_id = 0;
    gtk_widget_remove_css_class(v->w.heartbeat, "beat");
    return G_SOURCE_REMOVE;
}

static void on_pong(lifeline_client *c, int64_t rtt_ms, int quality, void *ud)
{
    (void)c;
    status_view *v = ud;
    char text[64];
    snprintf(text, sizeof(text), "last RTT %lld ms", (long long)rtt_ms);
    gtk_label_set_text(GTK_LABEL(v->w.rtt), text);
    gtk_label_set_text(GTK_LABEL(v->w.quality), quality_text(quality));

    v->pongs++;
    char hms[16];
    now_hms(hms, sizeof(hms));
    snprintf(text, sizeof(text), "pong %llu at %s", (unsigned long long)v->pongs, hms);
    gtk_widget_set_tooltip_text(v->w.heartbeat, text);
    gtk_widget_add_css_class(v->w.heartbeat, "beat");
    if (v->blink_id)
        g_source_remove(v->blink_id);
    v->blink_id = g_timeout_add(BLINK_MS, blink_off, v);
}

static void on_quality(lifeline_client *c, int quality, void *ud)
{
    (void)c;
    status_view *v = ud;
    gtk_label_set_text(GTK_LABEL(v->w.quality), quality_text(quality));
}

static void on_message(lifeline_client *c, const void *data, size_t len, int is_binary,
                       void *ud)
{
    (void)c;
    status_view *v = ud;
    if (is_binary || !g_utf8_validate(data, (gssize)len, NULL))
        log_line(v, "\u2190 (%zu bytes, binary)", len);
    else
        log_line(v, "\u2190 %.*s", (int)len, (const char *)data);
}

static void on_dropped(lifeline_client *c, const void *data, size_t len, int is_binary,
                       int reason, void *ud)
{
    (void)c;
    (void)is_binary;
    status_view *v = ud;
    log_line(v, "\u2717 dropped (%s): %.*s", lifeline_error_name(reason), (int)len,
             (const char *)data);
}

void status_view_configure(status_view *v, lifeline_config *cfg)
{
    cfg->on_state = on_state;
    cfg->on_retry = on_retry;
    cfg->on_pong = on_pong;
    cfg->on_quality = on_quality;
    cfg->on_message = on_message;
    cfg->on_dropped = on_dropped;
    cfg->user_data = v;
}

/* ---- the buttons ---------------------------------------------------------- */

static void reconnect_clicked(GtkButton *b, gpointer data)
{
    (void)b;
    status_view *v = data;
    if (!v->client)
        return;
    int rc = lifeline_client_reconnect_now(v->client);
    if (rc == LIFELINE_OK)
        log_line(v, "reconnect now");
    else
        log_line(v, "reconnect now refused: %s", lifeline_strerror(rc));
}

static void send_clicked(GtkWidget *w, gpointer data)
{
    (void)w;
    status_view *v = data;
    const char *text = gtk_editable_get_text(GTK_EDITABLE(v->w.entry));
    if (!v->client || !*text)
        return;
    int rc = lifeline_client_send_text(v->client, text);
    if (rc != LIFELINE_OK)
        log_line(v, "\u2717 not sent (%s): %s", lifeline_strerror(rc), text);
    else if (v->state == LIFELINE_STATE_CONNECTED)
        log_line(v, "\u2192 %s", text);
    else
        log_line(v, "\u2192 %s (queued until connected)", text);
    gtk_editable_set_text(GTK_EDITABLE(v->w.entry), "");
}

/* ---- building the window ------------------------------------------------- */

static void load_css(void)
{
    GString *css = g_string_new(
        ".pill { border-radius: 999px; padding: 6px 18px; font-weight: bold;"
        " font-size: 16px; }\n"
        ".detail { font-size: 14px; }\n"
        ".server { color: #616161; font-size: 12px; }\n"
        ".quality { font-weight: bold; }\n"
        ".caption { color: #616161; }\n"
        ".heartbeat { color: #bdbdbd; font-size: 20px; }\n"
        ".heartbeat.beat { color: #43a047; }\n"
        ".log { font-family: monospace; font-size: 12px; }\n");
    for (int i = 0; i < LIFELINE_STATE_COUNT; i++)
        g_string_append_printf(css, ".pill.%s { background-color: %s; color: %s; }\n",
                               pill_styles[i].css_class, pill_styles[i].background,
                               pill_styles[i].foreground);
    GtkCssProvider *p = gtk_css_provider_new();
    gtk_css_provider_load_from_data(p, css->str, (gssize)css->len);
    gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(p),
                                               GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
    g_object_unref(p);
    g_string_free(css, TRUE);
}

static GtkWidget *label(const char *text, const char *css_class)
{
    GtkWidget *l = gtk_label_new(text);
    gtk_label_set_xalign(GTK_LABEL(l), 0.0f);
    if (css_class)
        gtk_widget_add_css_class(l, css_class);
    return l;
}

status_view *status_view_new(size_t server_count, int max_attempts)
{
    status_view *v = g_new0(status_view, 1);
    v->server_count = server_count;
    v->attempts_total = max_attempts * (int)server_count;
    v->state = LIFELINE_STATE_IDLE;
    load_css();

    v->w.window = gtk_window_new();
    gtk_window_set_title(GTK_WINDOW(v->w.window), "lifeline: till status");
    gtk_window_set_default_size(GTK_WINDOW(v->w.window), 460, 360);

    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
    gtk_widget_set_margin_start(box, 14);
    gtk_widget_set_margin_end(box, 14);
    gtk_widget_set_margin_top(box, 12);
    gtk_widget_set_margin_bottom(box, 12);
    gtk_window_set_child(GTK_WINDOW(v->w.window), box);

    /* the pill, the heartbeat dot and the quality on one row */
    GtkWidget *top = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 10);
    v->w.pill = gtk_label_new("");
    gtk_widget_add_css_class(v->w.pill, "pill");
    gtk_widget_set_valign(v->w.pill, GTK_ALIGN_CENTER);
    gtk_box_append(GTK_BOX(top), v->w.pill);
    GtkWidget *spacer = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
    gtk_widget_set_hexpand(spacer, TRUE);
    gtk_box_append(GTK_BOX(top), spacer);
    GtkWidget *q = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
    GtkWidget *grade = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    gtk_widget_set_halign(grade, GTK_ALIGN_END);
    gtk_box_append(GTK_BOX(grade), label("quality", "caption"));
    v->w.quality = label(quality_text(LIFELINE_QUALITY_UNKNOWN), "quality");
    gtk_box_append(GTK_BOX(grade), v->w.quality);
    v->w.rtt = label("no pong yet", "caption");
    gtk_label_set_xalign(GTK_LABEL(v->w.rtt), 1.0f);
    gtk_box_append(GTK_BOX(q), grade);
    gtk_box_append(GTK_BOX(q), v->w.rtt);
    gtk_box_append(GTK_BOX(top), q);
    v->w.heartbeat = label("\u25cf", "heartbeat");
    gtk_widget_set_tooltip_text(v->w.heartbeat, "no pong yet");
    gtk_box_append(GTK_BOX(top), v->w.heartbeat);
    gtk_box_append(GTK_BOX(box), top);

    v->w.detail = label("", "detail");
    /* an error's reason may be long: two lines, then an ellipsis */
    gtk_label_set_wrap(GTK_LABEL(v->w.detail), TRUE);
    gtk_label_set_lines(GTK_LABEL(v->w.detail), 2);
    gtk_label_set_ellipsize(GTK_LABEL(v->w.detail), PANGO_ELLIPSIZE_END);
    gtk_box_append(GTK_BOX(box), v->w.detail);
    v->w.server = label("", "server");
    gtk_label_set_ellipsize(GTK_LABEL(v->w.server), PANGO_ELLIPSIZE_MIDDLE);
    gtk_box_append(GTK_BOX(box), v->w.server);

    v->w.reconnect = gtk_button_new_with_label("Reconnect now");
    gtk_widget_set_halign(v->w.reconnect, GTK_ALIGN_START);
    gtk_widget_set_sensitive(v->w.reconnect, FALSE);
    g_signal_connect(v->w.reconnect, "clicked", G_CALLBACK(reconnect_clicked), v);
    gtk_box_append(GTK_BOX(box), v->w.reconnect);

    v->w.log = gtk_text_view_new();
    gtk_text_view_set_editable(GTK_TEXT_VIEW(v->w.log), FALSE);
    gtk_text_view_set_cursor_visible(GTK_TEXT_VIEW(v->w.log), FALSE);
    gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(v->w.log), GTK_WRAP_WORD_CHAR);
    gtk_widget_add_css_class(v->w.log, "log");
    GtkTextBuffer *buf = gtk_text_view_get_buffer(GTK_TEXT_VIEW(v->w.log));
    GtkTextIter end;
    gtk_text_buffer_get_end_iter(buf, &end);
    gtk_text_buffer_create_mark(buf, "end", &end, FALSE);
    GtkWidget *scroll = gtk_scrolled_window_new();
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), v->w.log);
    gtk_widget_set_vexpand(scroll, TRUE);
    gtk_box_append(GTK_BOX(box), scroll);

    GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    v->w.entry = gtk_entry_new();
    gtk_entry_set_placeholder_text(GTK_ENTRY(v->w.entry), "message to send");
    gtk_widget_set_hexpand(v->w.entry, TRUE);
    g_signal_connect(v->w.entry, "activate", G_CALLBACK(send_clicked), v);
    v->w.send = gtk_button_new_with_label("Send");
    g_signal_connect(v->w.send, "clicked", G_CALLBACK(send_clicked), v);
    gtk_box_append(GTK_BOX(row), v->w.entry);
    gtk_box_append(GTK_BOX(row), v->w.send);
    gtk_box_append(GTK_BOX(box), row);

    set_pill(v, LIFELINE_STATE_IDLE);
    render_detail(v);
    return v;
}

void status_view_bind(status_view *v, lifeline_client *client)
{
    v->client = client;
}

const status_widgets *status_view_widgets(const status_view *v)
{
    return &v->w;
}

int status_view_state(const status_view *v)
{
    return v->state;
}

void status_view_free(status_view *v)
{
    if (!v)
        return;
    if (v->countdown_id)
        g_source_remove(v->countdown_id);
    if (v->blink_id)
        g_source_remove(v->blink_id);
    gtk_window_destroy(GTK_WINDOW(v->w.window));
    g_free(v);
}
