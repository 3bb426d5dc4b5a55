/* Fallback servers on real sockets: url on a closed port (bound, never
 * listening: refused, and no other process can take it meanwhile), the
 * fallback a live lifeline-server or peer. The client lands on the
 * fallback and says which; a drop from it goes back to it first, then
 * round the list. Synchronised on the client's events, never on sleeps.
 * Timings from it_config(): base 100 ms, max 400 ms, 3 attempts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

/* A loopback port bound and not listening: every connection to it is
 * refused. Returns the socket (close it at the end), its port in *port. */
static int closed_port(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* f->cfg with url on a closed port and f->url (the live one) as its one
 * fallback. Returns the closed port's socket: the caller closes it (a
 * failed test leaves it to the process's exit). */
static int dead_then_live(it_fix *f, char *dead, size_t n, const char **fallback)
{
    int port;
    int fd = closed_port(&port);
    snprintf(dead, n, "ws://127.0.0.1:%d/ws?token=dead-secret", port);
    f->cfg.url = dead;
    *fallback = f->url;
    f->cfg.fallback_urls = fallback;
    f->cfg.fallback_url_count = 1;
    return fd;
}

static void a_dead_first_url_lands_on_the_live_second_and_says_which(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "fallback-user");
    char dead[128];
    const char *fallback;
    int fd = dead_then_live(f, dead, sizeof(dead), &fallback);
    it_fix_client(f);

    it_ev ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTING, IT_QUICK, &ev);
    assert_int_equal(ev.url_index, 0);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, IT_QUICK, &ev);
    assert_int_equal(ev.url_index, 0);
    IT_ASSERT(&f->rec, ev.error == LIFELINE_ERR_CONNECTION_REFUSED, "url failed with %s",
              lifeline_error_name(ev.error));
    /* the URL as shown: its token redacted */
    IT_ASSERT(&f->rec, strstr(ev.url, "token=***") && !strstr(ev.url, "dead-secret"),
              "url shown as %s", ev.url);
    it_ev retry;
    IT_ASSERT(&f->rec, it_wait_event(&f->rec, IT_EV_RETRY, IT_QUICK, &retry), "no retry");
    assert_int_equal(retry.retry_attempt, 1);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTING, IT_QUICK, &ev);
    assert_int_equal(ev.attempt, 1);
    assert_int_equal(ev.url_index, 1);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, &ev);
    assert_int_equal(ev.url_index, 1);
    char shown[256];
    lifeline_redact_url(f->url, shown, sizeof(shown));
    assert_string_equal(ev.url, shown);

    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_int_equal(s.url_index, 1);
    /* it is the live server that answers */
    assert_int_equal(lifeline_client_send_text(f->client, "via the fallback"), LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_message(&f->rec, "via the fallback", IT_QUICK), "no echo");
    close(fd);
}

static void a_drop_from_the_fallback_tries_it_again_first_then_round_the_list(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "fallback-user");
    char dead[128];
    const char *fallback;
    int fd = dead_then_live(f, dead, sizeof(dead), &fallback);
    it_fix_client(f);
    it_ev ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, &ev);
    assert_int_equal(ev.url_index, 1);

    it_proc_kill(f->proc, SIGKILL);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, IT_QUICK, &ev);
    assert_int_equal(ev.url_index, 1);
    /* the fallback again (it had worked), then url. (The attempts count
     * on from the failover's: the connection did not stay up
     * stable_after_ms.) */
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTING, IT_QUICK, &ev);
    assert_int_equal(ev.url_index, 1);
    int again = ev.attempt;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, IT_QUICK, &ev);
    assert_int_equal(ev.url_index, 1);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTING, IT_QUICK, &ev);
    assert_int_equal(ev.url_index, 0);
    assert_int_equal(ev.attempt, again + 1);

    /* 3 attempts x 2 servers, then server_down; the fallback comes back on
     * its port and a probe lands on it */
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_SERVER_DOWN, it_scaled(10000), &ev);
    assert_int_equal(ev.attempt, 6);
    IT_ASSERT(&f->rec, it_proc_restart(f->proc), "could not restart on port %d",
              it_proc_port(f->proc));
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, it_scaled(5000), &ev);
    assert_int_equal(ev.old_state, LIFELINE_STATE_SERVER_DOWN);
    assert_int_equal(ev.url_index, 1);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        IT_BOTH(a_dead_first_url_lands_on_the_live_second_and_says_which),
        IT_BOTH(a_drop_from_the_fallback_tries_it_again_first_then_round_the_list),
    };
    return IT_RUN(tests);
}
