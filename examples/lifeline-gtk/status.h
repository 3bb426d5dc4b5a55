/*
 * The status window: its widgets, and the lifeline callbacks that update
 * them. The callbacks run on the GTK main thread (the client is on a
 * lifeline_loop_new_glib() loop), so they set the widgets directly.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef LIFELINE_GTK_STATUS_H
#define LIFELINE_GTK_STATUS_H

#include <gtk/gtk.h>

#include <lifeline/lifeline.h>

/* What the window shows, widget by widget: what the self-test reads. */
typedef struct status_widgets {
    GtkWidget *window;
    GtkWidget *pill;      /* GtkLabel: "Connected", "Server down"...; its
                             colour is a CSS class (status_pill_color()) */
    GtkWidget *detail;    /* GtkLabel: "attempt 3/5, next try in 12 s" */
    GtkWidget *server;    /* GtkLabel: which server, as url_index says */
    GtkWidget *quality;   /* GtkLabel: "Excellent", "Good", "Poor", "-" */
    GtkWidget *rtt;       /* GtkLabel: "last RTT 12 ms" */
    GtkWidget *heartbeat; /* GtkLabel "●": CSS class "beat" while lit; its
                             tooltip counts the pongs */
    GtkWidget *reconnect; /* GtkButton "Reconnect now" */
    GtkWidget *log;       /* GtkTextView: the message log */
    GtkWidget *entry;     /* GtkEntry: the send box */
    GtkWidget *send;      /* GtkButton "Send" */
} status_widgets;

typedef struct status_view status_view;

/* The window, not yet shown. server_count: url plus the fallbacks;
 * max_attempts: lifeline_config.max_attempts. Threads: GTK's. */
status_view *status_view_new(size_t server_count, int max_attempts);

/* Point cfg's callbacks and user_data at the view. */
void status_view_configure(status_view *v, lifeline_config *cfg);

/* The client the buttons act on (NULL: none any more). */
void status_view_bind(status_view *v, lifeline_client *client);

const status_widgets *status_view_widgets(const status_view *v);

/* The last state on_state reported (lifeline_state). */
int status_view_state(const status_view *v);

/* Stop the view's timers, destroy the window and free the view. */
void status_view_free(status_view *v);

/* The colour the pill is painted with, from the CSS class it carries:
 * "green", "amber", "orange", "red", "darkred", "grey"; "none" without. */
const char *status_pill_color(GtkWidget *pill);

#endif
