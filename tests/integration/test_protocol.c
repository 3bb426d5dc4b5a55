/* A server that breaks the WebSocket protocol (or HTTP's): a redirect, a
 * malformed status line, text that is not UTF-8, a frame libwebsockets
 * refuses, a bad close frame. The peer is peer.py in its raw modes, which
 * reports what the client sent back (the close code above all). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Start peer.py in a raw mode with extra arguments, and configure a client
 * for it (f->cfg, f->url with a token in its query). */
static void start_raw(it_fix *f, const char *mode, const char *const *extra)
{
    f->proc = it_start_peer(mode, extra);
    assert_non_null(f->proc);
    snprintf(f->url, sizeof(f->url), "ws://127.0.0.1:%d/ws?token=query-s3cret",
             it_proc_port(f->proc));
    it_config(&f->cfg, &f->rec, f->url);
}

/* Free the client and the peer, for the next round of a table: the next
 * client has its own loop, so its callbacks come from another thread. */
static void next_client(it_fix *f)
{
    assert_int_equal(lifeline_client_free(f->client), LIFELINE_OK);
    f->client = NULL;
    it_proc_free(f->proc);
    f->proc = NULL;
    pthread_mutex_lock(&f->rec.mu);
    f->rec.cb_thread_known = 0;
    pthread_mutex_unlock(&f->rec.mu);
}

/* ---- the handshake ------------------------------------------------------ */

static void a_malformed_status_is_a_protocol_error_without_http_status(void **state)
{
    it_fix *f = *state;
    static const char *const lines[] = {
        "HTTP/1.1 999999999999 Huge", /* atoi(): -727379969 */
        "HTTP/1.1 -401 Negative",     /* atoi(): -401 */
        "HTTP/1.1 20 Short",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        it_log("status line \"%s\"", lines[i]);
        const char *const extra[] = {"--status-line", lines[i], NULL};
        start_raw(f, "raw_status", extra);
        f->cfg.max_attempts = 1;
        it_fix_client(f);
        it_ev ev;
        IT_ASSERT(&f->rec,
                  it_wait_state_in(&f->rec,
                                   IT_STATE_BIT(LIFELINE_STATE_DISCONNECTED) |
                                       IT_STATE_BIT(LIFELINE_STATE_SERVER_DOWN) |
                                       IT_STATE_BIT(LIFELINE_STATE_ERROR),
                                   IT_QUICK, &ev),
                  "the attempt did not fail");
        it_log("reason: %s", ev.reason);
        IT_ASSERT(&f->rec, ev.error == LIFELINE_ERR_PROTOCOL, "error %s, HTTP %d",
                  lifeline_error_name(ev.error), ev.http_status);
        assert_int_equal(ev.http_status, 0);
        assert_int_not_equal(ev.new_state, LIFELINE_STATE_ERROR); /* retried */
        assert_non_null(strstr(ev.reason, "malformed HTTP status"));
        lifeline_stats s;
        assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
        assert_int_equal(s.last_http_status, 0);
        assert_int_equal(s.last_error, LIFELINE_ERR_PROTOCOL);
        next_client(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        IT_TEST(a_malformed_status_is_a_protocol_error_without_http_status),
    };
    return IT_RUN(tests);
}
