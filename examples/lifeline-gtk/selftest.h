/*
 * Self-test mode (--self-test): a JSON line on stdout each time what the
 * window shows changes, read from the widgets themselves; commands on
 * stdin that act through the widgets. For tests under Xvfb, and for the
 * screenshots in docs/.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef LIFELINE_GTK_SELFTEST_H
#define LIFELINE_GTK_SELFTEST_H

#include "status.h"

typedef struct selftest selftest;

/* Watch the widgets and read commands from stdin:
 *   reconnect       click "Reconnect now"
 *   send TEXT       type TEXT in the send box and click "Send"
 *   screenshot PATH render the window to a PNG file
 *   quit            close the window (so does the end of stdin)
 * quit(quit_data) is called for "quit" and at the end of stdin. */
selftest *selftest_start(const status_widgets *w, void (*quit)(void *), void *quit_data);

/* Stop watching (before the widgets go). NULL is a no-op. */
void selftest_stop(selftest *t);

/* Render widget, as it is on screen, to a PNG file at path. 0, or -1 with
 * a message in *error (g_free() it). */
int selftest_screenshot(GtkWidget *widget, const char *path, int *width, int *height,
                        char **error);

#endif
