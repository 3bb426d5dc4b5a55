/*
 * lifeline on a GLib main context: header-only glue over the public API
 * (as hiredis's adapters/glib.h), so that liblifeline links no GLib. The
 * application, which links GLib already, compiles it:
 *
 *     #include <lifeline/glib.h>
 *     cc app.c $(pkg-config --cflags --libs lifeline glib-2.0)
 *
 * libwebsockets loads its GLib support at run time: Debian's
 * libwebsockets-evlib-glib package must be installed.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef LIFELINE_GLIB_H
#define LIFELINE_GLIB_H

#include <string.h>

#include <glib.h>

#include "lifeline/lifeline.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The adapter's state: the GMainLoop libwebsockets 4.1 is given (it only
 * reads its context from it). */
typedef struct lifeline_glib_adapter_ {
    GMainContext *context;
    GMainLoop *loop;
} lifeline_glib_adapter_;

typedef struct lifeline_glib_call_ {
    void (*fn)(void *arg);
    void *arg;
} lifeline_glib_call_;

static inline gboolean lifeline_glib_run_(gpointer data)
{
    lifeline_glib_call_ *call = (lifeline_glib_call_ *)data;
    call->fn(call->arg);
    return G_SOURCE_REMOVE;
}

static inline int lifeline_glib_defer_(void *adapter, void (*fn)(void *arg), void *arg)
{
    lifeline_glib_adapter_ *a = (lifeline_glib_adapter_ *)adapter;
    lifeline_glib_call_ *call = g_new(lifeline_glib_call_, 1);
    call->fn = fn;
    call->arg = arg;
    GSource *s = g_idle_source_new();
    g_source_set_priority(s, G_PRIORITY_DEFAULT);
    g_source_set_callback(s, lifeline_glib_run_, call, g_free);
    g_source_attach(s, a->context);
    g_source_unref(s);
    return 0;
}

static inline void lifeline_glib_release_(void *adapter)
{
    lifeline_glib_adapter_ *a = (lifeline_glib_adapter_ *)adapter;
    g_main_loop_unref(a->loop);
    g_main_context_unref(a->context);
    g_free(a);
}

/* A lifeline loop on context (NULL: the default context, GTK's): no
 * thread; every callback of its clients runs on the thread that iterates
 * context (g_main_loop_run(), gtk_main(), g_application_run(),
 * g_main_context_iteration()), from it. Call it on that thread. The loop
 * holds a reference on context until it is freed; free it with
 * lifeline_loop_free() from that thread, after its clients, and keep
 * iterating the context: the loop is freed there, soon after.
 * Returns what lifeline_loop_new_foreign() returns. Threads: the one that
 * iterates context. */
static inline int lifeline_loop_new_glib(GMainContext *context, lifeline_loop **out)
{
    if (!context)
        context = g_main_context_default();
    lifeline_glib_adapter_ *a = g_new0(lifeline_glib_adapter_, 1);
    a->context = g_main_context_ref(context);
    a->loop = g_main_loop_new(context, FALSE);
    lifeline_loop_foreign desc;
    memset(&desc, 0, sizeof(desc));
    desc.kind = LIFELINE_LOOP_GLIB;
    desc.loop = a->loop;
    desc.adapter = a;
    desc.defer = lifeline_glib_defer_;
    desc.settled = NULL; /* GLib sources go at once (g_source_destroy()) */
    desc.release = lifeline_glib_release_;
    int rc = lifeline_loop_new_foreign(&desc, out);
    if (rc != LIFELINE_OK)
        lifeline_glib_release_(a);
    return rc;
}

#ifdef __cplusplus
}
#endif

#endif /* LIFELINE_GLIB_H */
