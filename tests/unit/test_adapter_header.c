/* An adapter header (<lifeline/glib.h> or <lifeline/uv.h>, by
 * TEST_ADAPTER_GLIB / TEST_ADAPTER_UV) compiles alone, as C and as C++
 * (test_adapter_header.cpp includes this file), and works against the
 * shared library's exported symbols only: a loop is made on a fresh
 * GMainContext or uv_loop_t, freed, and gone once that loop has run. */
#if defined(TEST_ADAPTER_GLIB)
#include <lifeline/glib.h>
#else
#include <lifeline/uv.h>
#endif

int main(void)
{
    lifeline_loop *loop = NULL;
#if defined(TEST_ADAPTER_GLIB)
    GMainContext *ctx = g_main_context_new();
    if (lifeline_loop_new_glib(ctx, &loop) != LIFELINE_OK || !loop)
        return 1;
    if (lifeline_loop_free(loop) != LIFELINE_OK)
        return 1;
    while (g_main_context_iteration(ctx, FALSE))
        ;
    g_main_context_unref(ctx);
#else
    uv_loop_t uv;
    if (uv_loop_init(&uv) != 0)
        return 1;
    if (lifeline_loop_new_uv(&uv, &loop) != LIFELINE_OK || !loop)
        return 1;
    if (lifeline_loop_free(loop) != LIFELINE_OK)
        return 1;
    uv_run(&uv, UV_RUN_DEFAULT); /* returns once the loop is gone */
    if (uv_loop_close(&uv) != 0)
        return 1; /* a handle of libwebsockets' left open */
#endif
    /* a second loop on this thread is allowed once the first is gone */
    lifeline_loop *again = NULL;
#if defined(TEST_ADAPTER_GLIB)
    ctx = g_main_context_new();
    int rc = lifeline_loop_new_glib(ctx, &again);
    if (rc == LIFELINE_OK)
        lifeline_loop_free(again);
    while (g_main_context_iteration(ctx, FALSE))
        ;
    g_main_context_unref(ctx);
#else
    uv_loop_init(&uv);
    int rc = lifeline_loop_new_uv(&uv, &again);
    if (rc == LIFELINE_OK)
        lifeline_loop_free(again);
    uv_run(&uv, UV_RUN_DEFAULT);
    if (uv_loop_close(&uv) != 0)
        return 1;
#endif
    return rc == LIFELINE_OK ? 0 : 1;
}
