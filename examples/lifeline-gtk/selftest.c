/*
 * Self-test mode: what the window shows, read back from its widgets (never
 * from the client's state), one JSON line on stdout per change; and
 * commands on stdin that act through the widgets as a user would.
 *
 * SPDX-License-Identifier: MIT
 */
#include "selftest.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#define MAX_WATCHES 16

struct selftest {
    const status_widgets *w;
    void (*quit)(void *);
    void *quit_data;
    struct {
        gpointer instance;
        gulong id;
    } watches[MAX_WATCHES];
    int n_watches;
    guint report_id;
    GIOChannel *in;
    guint in_id;
    char *last;     /* the last view printed, without its time */
    struct shot *shot; /* a screenshot waiting for the next frame */
    gint64 t0_us;
};

static void print_json(cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        cJSON_free(s);
    }
}

/* ---- the view, from the widgets -------------------------------------------- */

static const char *label_text(GtkWidget *l)
{
    return gtk_label_get_text(GTK_LABEL(l));
}

/* The last line of the log that is not empty, and how many there are. */
static char *log_last(GtkWidget *view, int *lines)
{
    GtkTextBuffer *buf = gtk_text_view_get_buffer(GTK_TEXT_VIEW(view));
    GtkTextIter a, b;
    gtk_text_buffer_get_bounds(buf, &a, &b);
    char *all = gtk_text_buffer_get_text(buf, &a, &b, FALSE);
    char **split = g_strsplit(all, "\n", -1);
    char *last = NULL;
    *lines = 0;
    for (char **p = split; *p; p++) {
        if (**p) {
            (*lines)++;
            last = *p;
        }
    }
    char *out = g_strdup(last ? last : "");
    g_strfreev(split);
    g_free(all);
    return out;
}

static cJSON *read_view(const status_widgets *w)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", "view");
    cJSON_AddStringToObject(o, "pill", label_text(w->pill));
    cJSON_AddStringToObject(o, "pill_color", status_pill_color(w->pill));
    cJSON_AddStringToObject(o, "detail", label_text(w->detail));
    cJSON_AddStringToObject(o, "server", label_text(w->server));
    cJSON_AddStringToObject(o, "quality", label_text(w->quality));
    const char *rtt = label_text(w->rtt);
    cJSON_AddStringToObject(o, "rtt", rtt);
    long long rtt_ms;
    if (sscanf(rtt, "last RTT %lld ms", &rtt_ms) == 1)
        cJSON_AddNumberToObject(o, "rtt_ms", (double)rtt_ms);
    else
        cJSON_AddNullToObject(o, "rtt_ms");
    cJSON_AddStringToObject(o, "heartbeat",
                            gtk_widget_has_css_class(w->heartbeat, "beat") ? "on" : "off");
    const char *tip = gtk_widget_get_tooltip_text(w->heartbeat);
    unsigned long long pongs = 0;
    if (tip)
        sscanf(tip, "pong %llu", &pongs);
    cJSON_AddNumberToObject(o, "pongs", (double)pongs);
    cJSON_AddBoolToObject(o, "reconnect_enabled", gtk_widget_get_sensitive(w->reconnect));
    int lines;
    char *last = log_last(w->log, &lines);
    cJSON_AddStringToObject(o, "log_last", last);
    cJSON_AddNumberToObject(o, "log_lines", lines);
    g_free(last);
    return o;
}

static gboolean report(gpointer data)
{
    selftest *t = data;
    t->report_id = 0;
    cJSON *o = read_view(t->w);
    char *s = cJSON_PrintUnformatted(o);
    if (s && (!t->last || strcmp(s, t->last) != 0)) {
        g_free(t->last);
        t->last = g_strdup(s);
        cJSON_AddNumberToObject(o, "t_ms",
                                (double)((g_get_monotonic_time() - t->t0_us) / 1000));
        print_json(o);
    }
    cJSON_free(s);
    cJSON_Delete(o);
    return G_SOURCE_REMOVE;
}

/* A widget changed: report once the changes of this turn of the loop are
 * all made. */
static void changed(gpointer data)
{
    selftest *t = data;
    if (!t->report_id)
        t->report_id = g_idle_add(report, t);
}

static void on_notify(GObject *o, GParamSpec *p, gpointer data)
{
    (void)o;
    (void)p;
    changed(data);
}

static void on_buffer_changed(GtkTextBuffer *b, gpointer data)
{
    (void)b;
    changed(data);
}

static void watch(selftest *t, gpointer instance, const char *signal, GCallback cb)
{
    g_assert(t->n_watches < MAX_WATCHES);
    t->watches[t->n_watches].instance = instance;
    t->watches[t->n_watches].id = g_signal_connect(instance, signal, cb, t);
    t->n_watches++;
}

/* ---- screenshots ----------------------------------------------------------- */

int selftest_screenshot(GtkWidget *widget, const char *path, int *width, int *height,
                        char **error)
{
    int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
    GtkNative *native = gtk_widget_get_native(widget);
    GskRenderer *renderer = native ? gtk_native_get_renderer(native) : NULL;
    if (w <= 0 || h <= 0 || !renderer) {
        *error = g_strdup("the window is not on screen");
        return -1;
    }
    GdkPaintable *paintable = gtk_widget_paintable_new(widget);
    GtkSnapshot *snapshot = gtk_snapshot_new();
    gdk_paintable_snapshot(paintable, snapshot, w, h);
    GskRenderNode *node = gtk_snapshot_free_to_node(snapshot);
    g_object_unref(paintable);
    if (!node) {
        *error = g_strdup("nothing to render");
        return -1;
    }
    graphene_rect_t viewport = GRAPHENE_RECT_INIT(0, 0, (float)w, (float)h);
    GdkTexture *texture = gsk_renderer_render_texture(renderer, node, &viewport);
    gsk_render_node_unref(node);
    gboolean ok = gdk_texture_save_to_png(texture, path);
    g_object_unref(texture);
    if (!ok) {
        *error = g_strdup_printf("cannot write %s", path);
        return -1;
    }
    *width = w;
    *height = h;
    return 0;
}

static void ack_screenshot(const char *path, const char *error)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", "screenshot");
    cJSON_AddStringToObject(o, "path", path);
    cJSON_AddBoolToObject(o, "ok", 0);
    cJSON_AddStringToObject(o, "error", error);
    print_json(o);
    cJSON_Delete(o);
}

typedef struct shot {
    selftest *t;
    GdkFrameClock *clock;
    gulong id;
    char *path;
} shot;

/* After the next frame is painted: the layout of the last changes is done,
 * so the PNG is what the screen shows. */
static void shot_after_paint(GdkFrameClock *clock, gpointer data)
{
    shot *s = data;
    g_signal_handler_disconnect(clock, s->id);
    s->t->shot = NULL;
    int w = 0, h = 0;
    char *error = NULL;
    int rc = selftest_screenshot(s->t->w->window, s->path, &w, &h, &error);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", "screenshot");
    cJSON_AddStringToObject(o, "path", s->path);
    cJSON_AddBoolToObject(o, "ok", rc == 0);
    if (rc == 0) {
        cJSON_AddNumberToObject(o, "width", w);
        cJSON_AddNumberToObject(o, "height", h);
    } else {
        cJSON_AddStringToObject(o, "error", error);
    }
    print_json(o);
    cJSON_Delete(o);
    g_free(error);
    g_free(s->path);
    g_free(s);
}

static void screenshot_soon(selftest *t, const char *path)
{
    if (t->shot) {
        ack_screenshot(path, "a screenshot is already under way");
        return;
    }
    shot *s = g_new0(shot, 1);
    s->t = t;
    s->path = g_strdup(path);
    s->clock = gtk_widget_get_frame_clock(t->w->window);
    if (!s->clock) {
        ack_screenshot(path, "the window is not on screen");
        g_free(s->path);
        g_free(s);
        return;
    }
    s->id = g_signal_connect(s->clock, "after-paint", G_CALLBACK(shot_after_paint), s);
    t->shot = s;
    gtk_widget_queue_draw(t->w->window);
}

/* ---- commands on stdin ----------------------------------------------------- */

static void ack(const char *command, int ok, const char *why)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", "command");
    cJSON_AddStringToObject(o, "command", command);
    cJSON_AddBoolToObject(o, "ok", ok);
    if (why)
        cJSON_AddStringToObject(o, "error", why);
    print_json(o);
    cJSON_Delete(o);
}

static void command(selftest *t, const char *line)
{
    if (strcmp(line, "reconnect") == 0) {
        /* as a click: nothing happens when the button is greyed out */
        int ok = gtk_widget_get_sensitive(t->w->reconnect);
        if (ok)
            gtk_widget_activate(t->w->reconnect);
        ack("reconnect", ok, ok ? NULL : "the button is disabled");
    } else if (strncmp(line, "send ", 5) == 0) {
        gtk_editable_set_text(GTK_EDITABLE(t->w->entry), line + 5);
        gtk_widget_activate(t->w->send);
        ack("send", 1, NULL);
    } else if (strncmp(line, "screenshot ", 11) == 0) {
        screenshot_soon(t, line + 11);
    } else if (strcmp(line, "quit") == 0) {
        ack("quit", 1, NULL);
        t->quit(t->quit_data);
    } else if (*line) {
        ack(line, 0, "unknown command (reconnect, send TEXT, screenshot PATH, quit)");
    }
}

static gboolean on_stdin(GIOChannel *ch, GIOCondition cond, gpointer data)
{
    selftest *t = data;
    (void)cond;
    char *line = NULL;
    gsize len = 0;
    GIOStatus st = g_io_channel_read_line(ch, &line, &len, NULL, NULL);
    if (st == G_IO_STATUS_NORMAL && line) {
        g_strchomp(line);
        command(t, line);
        g_free(line);
        return G_SOURCE_CONTINUE;
    }
    g_free(line);
    if (st == G_IO_STATUS_AGAIN)
        return G_SOURCE_CONTINUE;
    t->in_id = 0; /* end of stdin: the test is gone */
    t->quit(t->quit_data);
    return G_SOURCE_REMOVE;
}

selftest *selftest_start(const status_widgets *w, void (*quit)(void *), void *quit_data)
{
    selftest *t = g_new0(selftest, 1);
    t->w = w;
    t->quit = quit;
    t->quit_data = quit_data;
    t->t0_us = g_get_monotonic_time();

    GtkWidget *labels[] = {w->pill, w->detail, w->server, w->quality, w->rtt};
    for (size_t i = 0; i < G_N_ELEMENTS(labels); i++)
        watch(t, labels[i], "notify::label", G_CALLBACK(on_notify));
    watch(t, w->pill, "notify::css-classes", G_CALLBACK(on_notify));
    watch(t, w->heartbeat, "notify::css-classes", G_CALLBACK(on_notify));
    watch(t, w->heartbeat, "notify::tooltip-text", G_CALLBACK(on_notify));
    watch(t, w->reconnect, "notify::sensitive", G_CALLBACK(on_notify));
    watch(t, gtk_text_view_get_buffer(GTK_TEXT_VIEW(w->log)), "changed",
          G_CALLBACK(on_buffer_changed));

    t->in = g_io_channel_unix_new(0);
    g_io_channel_set_encoding(t->in, NULL, NULL);
    t->in_id = g_io_add_watch(t->in, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, t);
    changed(t); /* the first view */
    return t;
}

void selftest_stop(selftest *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->n_watches; i++)
        g_signal_handler_disconnect(t->watches[i].instance, t->watches[i].id);
    if (t->report_id)
        g_source_remove(t->report_id);
    if (t->shot) {
        g_signal_handler_disconnect(t->shot->clock, t->shot->id);
        g_free(t->shot->path);
        g_free(t->shot);
    }
    if (t->in_id)
        g_source_remove(t->in_id);
    g_io_channel_unref(t->in);
    g_free(t->last);
    g_free(t);
}
