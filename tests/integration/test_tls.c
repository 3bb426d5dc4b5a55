/* wss:// against the websockets peer with a self-signed certificate made
 * for the test (openssl req -x509) in the test's temporary folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "harness.h"

/* Start the TLS echo peer with dir/NAME.{pem,key}; f->url is wss://. */
static void start_tls_peer(it_fix *f, const char *name)
{
    const char *dir = it_fix_tmpdir(f);
    it_make_cert(dir, name);
    char cert[600], key[600];
    snprintf(cert, sizeof(cert), "%s/%s.pem", dir, name);
    snprintf(key, sizeof(key), "%s/%s.key", dir, name);
    const char *const extra[] = {"--tls-cert", cert, "--tls-key", key, NULL};
    f->proc = it_start_peer("echo", extra);
    assert_non_null(f->proc);
    snprintf(f->url, sizeof(f->url), "wss://127.0.0.1:%d/ws", it_proc_port(f->proc));
    it_config(&f->cfg, &f->rec, f->url);
}

static void echo_once(it_fix *f)
{
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    assert_int_equal(lifeline_client_send_text(f->client, "over tls"), LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_message(&f->rec, "over tls", IT_QUICK), "no echo over TLS");
    IT_ASSERT(&f->rec, it_wait_event(&f->rec, IT_EV_PONG, IT_QUICK, NULL), "no pong over TLS");
}

static void a_self_signed_certificate_is_refused_by_default(void **state)
{
    it_fix *f = *state;
    start_tls_peer(f, "self");
    it_fix_client(f);
    it_ev ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_ERROR, IT_QUICK, &ev);
    IT_ASSERT(&f->rec, ev.error == LIFELINE_ERR_TLS, "refused with %s",
              lifeline_error_name(ev.error));
    /* permanent: no retry */
    IT_ASSERT(&f->rec, it_no_state_within(&f->rec, LIFELINE_STATE_CONNECTING, 600),
              "a refused certificate was retried");
    assert_int_equal(it_count_events(&f->rec, IT_EV_RETRY), 0);
    /* the peer never saw a WebSocket request */
    assert_int_equal(it_proc_count_lines(f->proc, "\"request\""), 0);
}

static void allow_insecure_tls_accepts_a_self_signed_certificate(void **state)
{
    it_fix *f = *state;
    start_tls_peer(f, "self");
    f->cfg.allow_insecure_tls = 1;
    it_fix_client(f);
    echo_once(f);
}

static void ca_file_naming_the_certificate_accepts_it(void **state)
{
    it_fix *f = *state;
    start_tls_peer(f, "self");
    char ca[600];
    snprintf(ca, sizeof(ca), "%s/self.pem", it_fix_tmpdir(f));
    f->cfg.ca_file = ca;
    it_fix_client(f);
    echo_once(f);
}

static void ca_file_naming_another_certificate_is_refused(void **state)
{
    it_fix *f = *state;
    start_tls_peer(f, "self");
    it_make_cert(it_fix_tmpdir(f), "other");
    char ca[600];
    snprintf(ca, sizeof(ca), "%s/other.pem", it_fix_tmpdir(f));
    f->cfg.ca_file = ca;
    it_fix_client(f);
    it_ev ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_ERROR, IT_QUICK, &ev);
    IT_ASSERT(&f->rec, ev.error == LIFELINE_ERR_TLS, "refused with %s",
              lifeline_error_name(ev.error));
}

static void wss_to_a_plain_ws_server_fails_without_crashing(void **state)
{
    it_fix *f = *state;
    f->proc = it_start_peer("echo", NULL);
    assert_non_null(f->proc);
    snprintf(f->url, sizeof(f->url), "wss://127.0.0.1:%d/ws", it_proc_port(f->proc));
    it_config(&f->cfg, &f->rec, f->url);
    f->cfg.allow_insecure_tls = 1;
    it_fix_client(f);
    it_ev ev;
    IT_ASSERT(&f->rec,
              it_wait_state_in(&f->rec,
                               IT_STATE_BIT(LIFELINE_STATE_DISCONNECTED) |
                                   IT_STATE_BIT(LIFELINE_STATE_ERROR),
                               IT_QUICK, &ev),
              "no failure reported");
    IT_ASSERT(&f->rec, ev.error == LIFELINE_ERR_TLS, "failed with %s",
              lifeline_error_name(ev.error));
    assert_int_equal(it_count_states(&f->rec, LIFELINE_STATE_CONNECTED), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        IT_TEST(a_self_signed_certificate_is_refused_by_default),
        IT_TEST(allow_insecure_tls_accepts_a_self_signed_certificate),
        IT_TEST(ca_file_naming_the_certificate_accepts_it),
        IT_TEST(ca_file_naming_another_certificate_is_refused),
        IT_TEST(wss_to_a_plain_ws_server_fails_without_crashing),
    };
    return IT_RUN(tests);
}
