/* An application built against a lifeline.h other than the library's, run
 * against the current library: the ABI of the growing structs.
 *
 * meson builds this file twice, each time with only a frozen header on the
 * include path (never include/):
 *  - frozen/: include/lifeline/lifeline.h as it was at commit eef1c1a, when
 *    lifeline_config_init() and lifeline_client_stats() were functions that
 *    wrote the library's own sizeof. Built with it, this program calls those
 *    exported symbols, which must still fill exactly the struct it has.
 *  - older/: the header of the version that made both macros passing the
 *    caller's sizeof, with lifeline_config cut before max_message_bytes and
 *    lifeline_stats before reconnections: an application from an earlier
 *    minor version, whose structs lack fields appended since. This is the
 *    stronger test: the library's structs are larger than the program's.
 *    The cut is where it is because three of the fields it drops
 *    (max_message_bytes, queue_max_messages, queue_max_bytes) are invalid
 *    at zero, and observable: a library that zeroed what the program lacks
 *    would refuse the config, one that read past the program's struct
 *    would read the guard bytes, and only one that gives those fields their
 *    defaults queues 1000 messages and refuses one of 1 MiB + 1 byte.
 *
 * Every struct the library is given sits either at the start of a buffer of
 * guard bytes (a write past it changes them; a read past it reads them), or
 * alone in a heap block of exactly its size (ASan and valgrind see any
 * access past it). meson runs it plainly, under valgrind, and under ASan in
 * a -Db_sanitize=address build. */
#include <lifeline/lifeline.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUARD 0xA5
#define SLACK 256

static int failures;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                        \
        }                                                                      \
    } while (0)

#ifdef lifeline_config_init
#define HEADER "older (sizes passed by the macros)"
#else
#define HEADER "frozen at eef1c1a (the 0.1 functions)"
#endif

static void check_guard(const unsigned char *buf, size_t from, size_t to, const char *what)
{
    for (size_t i = from; i < to; i++) {
        if (buf[i] != GUARD) {
            fprintf(stderr, "%s: byte %zu, past the program's %zu-byte struct, was written\n",
                    what, i, from);
            failures++;
            return;
        }
    }
}

/* The defaults the program's own fields get. */
static void check_defaults(const lifeline_config *c)
{
    CHECK(c->struct_size == sizeof(lifeline_config));
    CHECK(c->url == NULL && c->health_url == NULL);
    CHECK(c->base_delay_ms == 5000);
    CHECK(c->max_delay_ms == 30000);
    CHECK(c->jitter_ms == 1000);
    CHECK(c->jitter_mode == LIFELINE_JITTER_ADDITIVE);
    CHECK(c->max_attempts == 5);
    CHECK(c->connect_timeout_ms == 10000);
    CHECK(c->ping_interval_ms == 30000);
    CHECK(c->ping_timeout_ms == 10000);
    CHECK(c->rtt_good_ms == 300 && c->rtt_poor_ms == 1000);
    CHECK(c->headers == NULL && c->header_count == 0);
    CHECK(c->ca_file == NULL && c->app_ping == 0);
}

static void config_in_guard_bytes(void)
{
    unsigned char buf[sizeof(lifeline_config) + SLACK];
    memset(buf, GUARD, sizeof(buf));
    lifeline_config *cfg = (lifeline_config *)(void *)buf;
    lifeline_config_init(cfg);
    check_guard(buf, sizeof(*cfg), sizeof(buf), "lifeline_config_init");
    check_defaults(cfg);

    cfg->url = "ws://127.0.0.1:1/ws";
    const char *field = "x";
    CHECK(lifeline_config_check(cfg, &field) == LIFELINE_OK);
    CHECK(field == NULL);
    CHECK(lifeline_config_validate(cfg) == LIFELINE_OK);
    cfg->ping_timeout_ms = 0;
    CHECK(lifeline_config_check(cfg, &field) == LIFELINE_ERR_CONFIG_PING_TIMEOUT);
    CHECK(field && strcmp(field, "ping_timeout_ms") == 0);
    check_guard(buf, sizeof(*cfg), sizeof(buf), "lifeline_config_check");
}

/* A client from an exactly-sized config; its defaults, seen through what it
 * does; its stats in exactly-sized and guarded structs. */
static void client_from_exact_structs(void)
{
    lifeline_config *cfg = malloc(sizeof(*cfg));
    lifeline_stats *st = malloc(sizeof(*st));
    unsigned char sbuf[sizeof(lifeline_stats) + SLACK];
    if (!cfg || !st) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    lifeline_config_init(cfg);
    check_defaults(cfg);
    cfg->url = "ws://127.0.0.1:1/ws";
    cfg->max_attempts = 2;

    lifeline_client *c = NULL;
    CHECK(lifeline_client_new(cfg, &c) == LIFELINE_OK);
    if (!c) {
        free(cfg);
        free(st);
        return;
    }
    /* never started: an idle client queues, within the default limits */
    static char big[1024 * 1024 + 1];
    memset(big, 'x', sizeof(big));
    CHECK(lifeline_client_send(c, big, sizeof(big), 1) == LIFELINE_ERR_MESSAGE_TOO_BIG);
    int accepted = 0;
    for (int i = 0; i < 1000; i++)
        accepted += lifeline_client_send_text(c, "m") == LIFELINE_OK;
    CHECK(accepted == 1000);
    CHECK(lifeline_client_send_text(c, "one too many") == LIFELINE_ERR_QUEUE_FULL);

    memset(st, GUARD, sizeof(*st));
    CHECK(lifeline_client_stats(c, st) == LIFELINE_OK);
    CHECK(st->struct_size == sizeof(*st));
    CHECK(st->state == LIFELINE_STATE_IDLE);
    CHECK(st->queued_messages == 1000 && st->queued_bytes == 1000);
    CHECK(st->messages_sent == 0 && st->since_last_pong_ms == -1);

    memset(sbuf, GUARD, sizeof(sbuf));
    lifeline_stats *gs = (lifeline_stats *)(void *)sbuf;
    CHECK(lifeline_client_stats(c, gs) == LIFELINE_OK);
    check_guard(sbuf, sizeof(*gs), sizeof(sbuf), "lifeline_client_stats");
    CHECK(gs->struct_size == sizeof(*gs));
    CHECK(gs->queued_messages == 1000);

    CHECK(lifeline_client_free(c) == LIFELINE_OK);
    free(cfg);
    free(st);
}

int main(void)
{
    config_in_guard_bytes();
    client_from_exact_structs();
    printf("%s: sizeof(lifeline_config) %zu, sizeof(lifeline_stats) %zu: %s\n", HEADER,
           sizeof(lifeline_config), sizeof(lifeline_stats), failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
