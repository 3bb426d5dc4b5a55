/*
 * lifeline on a libuv loop: header-only glue over the public API (as
 * hiredis's adapters/libuv.h), so that liblifeline links no libuv. The
 * application, which links libuv already, compiles it:
 *
 *     #include <lifeline/uv.h>
 *     cc app.c $(pkg-config --cflags --libs lifeline libuv)
 *
 * libwebsockets loads its libuv support at run time: Debian's
 * libwebsockets-evlib-uv package must be installed.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef LIFELINE_UV_H
#define LIFELINE_UV_H

#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "lifeline/lifeline.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One deferred call: an idle handle that runs once, then closes. */
typedef struct lifeline_uv_call_ {
    uv_idle_t idle; /* first: the handle is the call */
    void (*fn)(void *arg);
    void *arg;
} lifeline_uv_call_;

static inline void lifeline_uv_call_closed_(uv_handle_t *h)
{
    free(h);
}

static inline void lifeline_uv_run_(uv_idle_t *idle)
{
    lifeline_uv_call_ *call = (lifeline_uv_call_ *)idle;
    uv_idle_stop(idle);
    call->fn(call->arg); /* before the close: settled() does not see it */
    uv_close((uv_handle_t *)idle, lifeline_uv_call_closed_);
}

static inline int lifeline_uv_defer_(void *adapter, void (*fn)(void *arg), void *arg)
{
    lifeline_uv_call_ *call = (lifeline_uv_call_ *)calloc(1, sizeof(*call));
    if (!call)
        return -1;
    call->fn = fn;
    call->arg = arg;
    uv_idle_init((uv_loop_t *)adapter, &call->idle);
    uv_idle_start(&call->idle, lifeline_uv_run_);
    return 0;
}

static inline void lifeline_uv_count_closing_(uv_handle_t *h, void *arg)
{
    if (uv_is_closing(h))
        ++*(int *)arg;
}

/* libwebsockets 4.1 closes its handles with uv_close() over the next
 * iterations: its context can be finished only once they have closed. */
static inline int lifeline_uv_settled_(void *adapter)
{
    int closing = 0;
    uv_walk((uv_loop_t *)adapter, lifeline_uv_count_closing_, &closing);
    return closing == 0;
}

/* A lifeline loop on loop: no thread; every callback of its clients runs
 * on the thread that runs loop (uv_run()), from it. Call it on that
 * thread. Free it with lifeline_loop_free() from that thread, after its
 * clients, and keep running loop: uv_run() returns once libwebsockets has
 * closed its handles and the lifeline loop is freed (then
 * uv_loop_close() succeeds). Returns what lifeline_loop_new_foreign()
 * returns. Threads: the one that runs loop. */
static inline int lifeline_loop_new_uv(uv_loop_t *loop, lifeline_loop **out)
{
    lifeline_loop_foreign desc;
    memset(&desc, 0, sizeof(desc));
    desc.kind = LIFELINE_LOOP_LIBUV;
    desc.loop = loop;
    desc.adapter = loop;
    desc.defer = lifeline_uv_defer_;
    desc.settled = lifeline_uv_settled_;
    desc.release = NULL; /* the adapter holds nothing */
    return lifeline_loop_new_foreign(&desc, out);
}

#ifdef __cplusplus
}
#endif

#endif /* LIFELINE_UV_H */
