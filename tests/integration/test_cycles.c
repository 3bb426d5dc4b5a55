/* 1000 connect/disconnect cycles (LIFELINE_IT_CYCLES), each client with its
 * own loop or all on one shared loop, ws:// and wss:// (a tenth as many wss
 * clients with their own loops), leave nothing behind:
 * no heap growth, no file descriptor, no thread. Under LeakSanitizer (the
 * ASan build) or valgrind the same run is also checked for leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* One cycle: new, start, connected, one echo, stop, free. */
static void cycle(it_fix *f, int i)
{
    it_rec rec;
    it_rec_init(&rec, "cycle");
    lifeline_config cfg;
    it_config(&cfg, &rec, f->url);
    cfg.loop = f->loop;
    if (f->ca_file[0])
        cfg.ca_file = f->ca_file;
    lifeline_client *c = NULL;
    assert_int_equal(lifeline_client_new(&cfg, &c), LIFELINE_OK);
    assert_int_equal(lifeline_client_start(c), LIFELINE_OK);
    int ok = it_wait_state(&rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    char msg[32];
    snprintf(msg, sizeof(msg), "cycle %d", i);
    if (ok) {
        assert_int_equal(lifeline_client_send_text(c, msg), LIFELINE_OK);
        ok = it_wait_message(&rec, msg, IT_QUICK);
    }
    assert_int_equal(lifeline_client_stop(c, 1000), LIFELINE_OK);
    assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
    int wrong = rec.cb_wrong_thread + rec.cb_overlaps;
    if (!ok)
        it_rec_dump(&rec);
    it_rec_destroy(&rec);
    if (!ok)
        fail_msg("cycle %d did not connect and echo", i);
    assert_int_equal(wrong, 0);
}

static void run_cycles(it_fix *f, int shared, int tls)
{
    /* a wss client with its own loop makes and destroys a TLS context each
     * time (some 30 ms, 90 ms under ASan): a tenth as many */
    int n = it_env_int("LIFELINE_IT_CYCLES", 1000) / (tls && !shared ? 10 : 1);
    if (tls) {
        const char *dir = it_fix_tmpdir(f);
        it_make_cert(dir, "cycles");
        char cert[600], key[600];
        snprintf(cert, sizeof(cert), "%s/cycles.pem", dir);
        snprintf(key, sizeof(key), "%s/cycles.key", dir);
        const char *const extra[] = {"--quiet", "--tls-cert", cert, "--tls-key", key, NULL};
        f->proc = it_start_peer("echo", extra);
        assert_non_null(f->proc);
        snprintf(f->url, sizeof(f->url), "wss://127.0.0.1:%d/ws", it_proc_port(f->proc));
        snprintf(f->ca_file, sizeof(f->ca_file), "%s", cert);
    } else if (f->target->kind == IT_PEER) {
        /* quiet: the lines the peer prints per connection would be kept by
         * the harness and read as growth */
        static const char *const quiet[] = {"--quiet", NULL};
        f->proc = it_start_peer("echo", quiet);
        assert_non_null(f->proc);
        it_url(f->url, sizeof(f->url), f->target, f->proc, NULL);
    } else {
        it_fix_start(f, "echo", "cycles");
    }
    if (shared)
        assert_int_equal(lifeline_loop_new(&f->loop), LIFELINE_OK);
    /* warm up: lazily made things (TLS init, a loop's vhost) come first */
    int warm = n / 10 > 0 ? n / 10 : 1;
    for (int i = 0; i < warm; i++)
        cycle(f, i);
    size_t heap0 = heap_in_use();
    int fds0 = it_count_entries("/proc/self/fd"), threads0 = it_count_entries("/proc/self/task");
    int64_t t0 = it_now_ms();
    for (int i = warm; i < n; i++)
        cycle(f, i);
    int64_t took = it_now_ms() - t0;
    size_t heap1 = heap_in_use();
    int fds1 = it_count_entries("/proc/self/fd"), threads1 = it_count_entries("/proc/self/task");
    /* a joined thread can stay listed in /proc/self/task for a moment after
     * pthread_join() returns: give the count a little time to settle (a
     * thread that is really left behind stays, and fails below) */
    for (int64_t until = it_now_ms() + it_scaled(2000); threads1 > threads0 && it_now_ms() < until;) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL); /* polling a condition with a deadline */
        threads1 = it_count_entries("/proc/self/task");
    }
    long growth = (long)heap1 - (long)heap0;
    it_log("%d %s cycles (%s loop) in %lld ms; heap %zu -> %zu (%+ld), fds %d -> %d, threads %d -> %d",
           n - warm, tls ? "wss" : "ws", shared ? "shared" : "own", (long long)took, heap0, heap1, growth, fds0,
           fds1, threads0, threads1);
    assert_int_equal(fds1, fds0);
    assert_int_equal(threads1, threads0);
    /* no per-cycle growth: a leak of even 64 bytes a cycle would show */
    IT_ASSERT(&f->rec, growth < 64 * (long)(n - warm) && growth < 256 * 1024,
              "heap grew by %ld bytes over %d cycles", growth, n - warm);
}

static void a_thousand_connect_disconnect_cycles_leave_nothing_behind(void **state)
{
    run_cycles(*state, 0, 0);
}

static void a_thousand_cycles_on_one_shared_loop_leave_nothing_behind(void **state)
{
    run_cycles(*state, 1, 0);
}

static void wss_cycles_with_own_loops_leave_nothing_behind(void **state)
{
    run_cycles(*state, 0, 1);
}

static void a_thousand_wss_cycles_on_one_shared_loop_leave_nothing_behind(void **state)
{
    run_cycles(*state, 1, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        IT_BOTH(a_thousand_connect_disconnect_cycles_leave_nothing_behind),
        IT_BOTH(a_thousand_cycles_on_one_shared_loop_leave_nothing_behind),
        IT_TEST(wss_cycles_with_own_loops_leave_nothing_behind),
        IT_TEST(a_thousand_wss_cycles_on_one_shared_loop_leave_nothing_behind),
    };
    return IT_RUN(tests);
}
