/*
 * lifeline-gtk: the till's connection status indicator, a GTK 4 window on
 * a lifeline client that runs on GTK's own main loop
 * (lifeline_loop_new_glib()): no thread of lifeline's, and every callback
 * updates the widgets where it runs.
 *
 *     lifeline-gtk [options] URL [FALLBACK_URL...]
 *     lifeline-gtk --self-test ...   (JSON on stdout, commands on stdin)
 *
 * SPDX-License-Identifier: MIT
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gtk/gtk.h>

#include <lifeline/glib.h>
#include <lifeline/lifeline.h>

#include "selftest.h"
#include "status.h"

#define UNSET INT_MIN

/* The timing options: the config field each sets, and its help line; the
 * default in --help is read from lifeline_config_init(). */
static const struct timing_option {
    const char *name;
    size_t offset;        /* of the int field in lifeline_config */
    const char *help;
    const char *arg;
} timing_options[] = {
    {"base-delay-ms", offsetof(lifeline_config, base_delay_ms),
     "Wait before reconnection attempt 1, doubled for each next one", "MS"},
    {"max-delay-ms", offsetof(lifeline_config, max_delay_ms), "Longest wait", "MS"},
    {"jitter-ms", offsetof(lifeline_config, jitter_ms), "Random extra wait, up to", "MS"},
    {"max-attempts", offsetof(lifeline_config, max_attempts),
     "Reconnection attempts before 'Server down'", "N"},
    {"stable-after-ms", offsetof(lifeline_config, stable_after_ms),
     "A connection up this long resets the attempts", "MS"},
    {"down-ping-interval-ms", offsetof(lifeline_config, down_ping_interval_ms),
     "Probe cadence while the server is down", "MS"},
    {"connect-timeout-ms", offsetof(lifeline_config, connect_timeout_ms),
     "One attempt gives up after", "MS"},
    {"ping-interval-ms", offsetof(lifeline_config, ping_interval_ms), "Ping cadence", "MS"},
    {"ping-timeout-ms", offsetof(lifeline_config, ping_timeout_ms),
     "No pong within this drops the connection", "MS"},
};

#define N_TIMING G_N_ELEMENTS(timing_options)

static int timing_values[N_TIMING];
static gboolean self_test, verbose;
static char **urls;

static int *config_int(lifeline_config *cfg, size_t offset)
{
    return (int *)(void *)((char *)cfg + offset);
}

/* The options, their help lines with the library's defaults (g_free()
 * each description and the array, see free_entries()). */
static GOptionEntry *make_entries(void)
{
    lifeline_config defaults;
    lifeline_config_init(&defaults);
    GOptionEntry *e = g_new0(GOptionEntry, N_TIMING + 4);
    size_t n = 0;
    for (size_t i = 0; i < N_TIMING; i++, n++) {
        timing_values[i] = UNSET;
        e[n].long_name = timing_options[i].name;
        e[n].arg = G_OPTION_ARG_INT;
        e[n].arg_data = &timing_values[i];
        e[n].description = g_strdup_printf("%s (default %d)", timing_options[i].help,
                                           *config_int(&defaults, timing_options[i].offset));
        e[n].arg_description = timing_options[i].arg;
    }
    e[n++] = (GOptionEntry){"self-test", 0, 0, G_OPTION_ARG_NONE, &self_test,
                            g_strdup("Print what the window shows as JSON lines; read commands "
                                     "on stdin (reconnect, send TEXT, screenshot PATH, quit)"),
                            NULL};
    e[n++] = (GOptionEntry){"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
                            g_strdup("lifeline's info log on stderr"), NULL};
    e[n++] = (GOptionEntry){G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &urls,
                            g_strdup(""), "URL [FALLBACK_URL...]"};
    return e;
}

static void free_entries(GOptionEntry *e)
{
    for (GOptionEntry *p = e; p->long_name; p++)
        g_free((char *)p->description);
    g_free(e);
}

static void on_log(lifeline_client *c, int level, const char *line, void *ud)
{
    (void)c;
    (void)ud;
    fprintf(stderr, "lifeline-gtk: %s: %s\n", lifeline_log_level_name(level), line);
}

static void quit(void *data)
{
    g_main_loop_quit(data);
}

static gboolean close_request(GtkWindow *w, gpointer data)
{
    (void)w;
    quit(data);
    return TRUE; /* the window goes once the client is closed */
}

static gboolean wake(gpointer data)
{
    (void)data;
    return G_SOURCE_CONTINUE;
}

/* Iterate GTK's main context until done(v) or timeout_ms. */
static void iterate_until(int (*done)(const status_view *), const status_view *v,
                          int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    guint tick = g_timeout_add(50, wake, NULL); /* so that an iteration ends */
    while ((!done || !done(v)) && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    g_source_remove(tick);
}

static int closed(const status_view *v)
{
    return status_view_state(v) == LIFELINE_STATE_CLOSED;
}

int main(int argc, char **argv)
{
    GError *err = NULL;
    GOptionEntry *entries = make_entries();
    GOptionContext *ctx = g_option_context_new(NULL);
    g_option_context_set_summary(ctx, "The till's connection status: lifeline on GTK's main "
                                      "loop. The URLs after the first are fallback servers.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    gboolean parsed = g_option_context_parse(ctx, &argc, &argv, &err);
    g_option_context_free(ctx);
    free_entries(entries);
    if (!parsed) {
        fprintf(stderr, "lifeline-gtk: %s\n", err->message);
        g_error_free(err);
        return 2;
    }
    if (!urls || !urls[0]) {
        fprintf(stderr, "lifeline-gtk: a ws:// or wss:// URL is required (--help)\n");
        return 2;
    }
    size_t n_urls = g_strv_length(urls);

    lifeline_config cfg;
    lifeline_config_init(&cfg);
    cfg.url = urls[0];
    cfg.fallback_urls = (const char *const *)urls + 1;
    cfg.fallback_url_count = n_urls - 1;
    for (size_t i = 0; i < N_TIMING; i++)
        if (timing_values[i] != UNSET)
            *config_int(&cfg, timing_options[i].offset) = timing_values[i];
    cfg.on_log = on_log;
    cfg.log_level = verbose ? LIFELINE_LOG_INFO : LIFELINE_LOG_WARN;
    const char *field = NULL;
    int rc = lifeline_config_check(&cfg, &field);
    if (rc != LIFELINE_OK) {
        fprintf(stderr, "lifeline-gtk: %s: %s\n", field ? field : "config", lifeline_strerror(rc));
        return 2;
    }

    if (!gtk_init_check()) {
        fprintf(stderr, "lifeline-gtk: cannot open a display (DISPLAY or WAYLAND_DISPLAY; "
                        "xvfb-run for a headless run)\n");
        return 1;
    }

    status_view *view = status_view_new(n_urls, cfg.max_attempts);
    status_view_configure(view, &cfg);
    const status_widgets *w = status_view_widgets(view);
    GMainLoop *main_loop = g_main_loop_new(NULL, FALSE);
    g_signal_connect(w->window, "close-request", G_CALLBACK(close_request), main_loop);

    /* lifeline on GTK's main context: no thread, callbacks on this one. */
    lifeline_loop *loop = NULL;
    rc = lifeline_loop_new_glib(NULL, &loop);
    if (rc != LIFELINE_OK) {
        fprintf(stderr, "lifeline-gtk: %s (is libwebsockets-evlib-glib installed?)\n",
                lifeline_strerror(rc));
        return 1;
    }
    cfg.loop = loop;
    lifeline_client *client = NULL;
    rc = lifeline_client_new(&cfg, &client);
    if (rc != LIFELINE_OK) {
        fprintf(stderr, "lifeline-gtk: %s\n", lifeline_strerror(rc));
        lifeline_loop_free(loop);
        iterate_until(NULL, NULL, 100);
        return 1;
    }
    status_view_bind(view, client);

    selftest *test = self_test ? selftest_start(w, quit, main_loop) : NULL;
    gtk_window_present(GTK_WINDOW(w->window));
    lifeline_client_start(client);

    g_main_loop_run(main_loop);

    /* The end, on this thread: the stop returns at once and completes on
     * the loop, which keeps running until on_state says closed. */
    selftest_stop(test);
    lifeline_client_stop(client, 1000);
    iterate_until(closed, view, 3000);
    status_view_bind(view, NULL);
    lifeline_client_free(client);
    lifeline_loop_free(loop);
    iterate_until(NULL, NULL, 100); /* the frees complete on the loop */
    status_view_free(view);
    g_main_loop_unref(main_loop);
    g_strfreev(urls);
    return 0;
}
