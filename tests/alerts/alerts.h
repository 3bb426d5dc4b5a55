/* Helpers for the alert tests, on top of the integration harness
 * (tests/integration/harness.h): the fake services process
 * (tests/fakes/fake_services.py, $LIFELINE_FAKES), a tiny HTTP client for
 * its control API, and a recorder of on_notify and on_log that shares the
 * harness recorder's lock and condition variable, so that the tests wait on
 * alert results exactly as they wait on state changes.
 *
 * One client at a time records here (the tests of a program run one after
 * another); al_attach() starts a fresh record. */
#ifndef LL_AL_ALERTS_H
#define LL_AL_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "harness.h"

/* The webhook the fake knows. The token looks like Discord's (68 characters
 * of [A-Za-z0-9_-]) and appears nowhere else, so a search for it (or for its
 * first 16 characters) finds any leak. */
#define AL_HOOK_ID "1203344556677889900"
#define AL_HOOK_TOKEN "Qx7vT2mKp9Lw_R4sZ8bN1cY6hJ3dF5gU0aE-iO7qWkX2tVnB9mCyH4rL8sPzD1eGfAa"
#define AL_TOKEN_PREFIX "Qx7vT2mKp9Lw_R4s"

/* Discord's embed colours lifeline uses (0xE74C3C, 0x2ECC71, 0x3498DB). */
#define AL_RED 15158332
#define AL_GREEN 3066993
#define AL_BLUE 3447003

/* ---- the fake services ------------------------------------------------------ */

/* Start fake_services.py on port 0 knowing AL_HOOK_ID/AL_HOOK_TOKEN, with
 * extra arguments (NULL-terminated, or NULL). Fails the test when
 * $LIFELINE_FAKES is unset or the fake does not start. */
it_proc *al_fake_start(const char *const *extra);

/* http://127.0.0.1:PORT/api/webhooks/ID/TOKEN of the fake. */
void al_webhook_url(char *buf, size_t n, const it_proc *fake, const char *id,
                    const char *token);

/* One HTTP/1.1 request to 127.0.0.1:port (Connection: close). Returns the
 * status (-1 on failure); *resp (may be NULL) gets the body, malloc'd. */
int al_http(int port, const char *method, const char *path, const char *body, char **resp);

/* POST /_control with body; fails the test unless it answers 200. */
void al_fake_control(it_proc *fake, const char *body);

/* GET /_requests, parsed: a cJSON array, freed at teardown (never
 * cJSON_Delete() it). Fails the test when the fake does not answer. */
cJSON *al_fake_requests(it_proc *fake);
size_t al_fake_count(it_proc *fake);

/* Poll /_requests until it holds at least n deliveries; 0 at the deadline. */
int al_fake_wait_count(it_proc *fake, size_t n, int timeout_ms);

/* Delivery i of a /_requests array: its arrival (ms, CLOCK_MONOTONIC like
 * it_now_ms()), the status answered, and its body parsed (freed at
 * teardown, like al_fake_requests()'s). */
double al_req_arrival(const cJSON *reqs, int i);
int al_req_status(const cJSON *reqs, int i);
cJSON *al_req_body(const cJSON *reqs, int i);
/* What the fake answered to delivery i ("" when nothing). */
const char *al_req_answer(const cJSON *reqs, int i);
/* How the fake dealt with delivery i: "answered", "closed", "hung" or
 * "hanging". */
const char *al_req_outcome(const cJSON *reqs, int i);

/* A TCP port on 127.0.0.1 where nothing listens (bound, then closed). */
int al_closed_port(void);

/* ---- the payload -------------------------------------------------------------- */

/* The first embed of a Discord body, and the value of its field named name
 * (NULL when absent). */
const cJSON *al_embed(const cJSON *body);
const char *al_field(const cJSON *embed, const char *name);
const char *al_str(const cJSON *obj, const char *key);
/* Unicode code points in a UTF-8 string. */
size_t al_chars(const char *s);

/* ---- the recorder of on_notify and on_log -------------------------------------- */

typedef struct al_note {
    char channel[24], kind[24], detail[160];
    int ok, http_status, attempts;
    int64_t at;
} al_note;

/* Route f->cfg's on_notify and on_log here, at LIFELINE_LOG_DEBUG, and
 * start a fresh record for f->rec. Call after it_config(). */
void al_attach(it_fix *f);

/* Results reported to on_notify so far. */
size_t al_note_count(it_fix *f);
/* Copy result i; fails the test when out of range. */
al_note al_note_at(it_fix *f, size_t i);
/* Wait until at least n results were reported; 0 at the deadline. */
int al_wait_notes(it_fix *f, size_t n, int timeout_ms);

/* Log lines at level <= max_level containing needle (NULL: any). */
size_t al_count_lines(it_fix *f, int max_level, const char *needle);
/* Wait for a log line containing needle; 0 at the deadline. */
int al_wait_line(it_fix *f, const char *needle, int timeout_ms);
/* Apply fn to every log line (level, text), and to every note's strings. */
void al_each_text(it_fix *f, void (*fn)(const char *where, const char *text, void *arg),
                  void *arg);
/* on_notify or on_log calls seen on another thread than the other
 * callbacks, or while another callback ran. */
int al_contract_breaks(it_fix *f);

/* Print the record (notes and log lines) on stderr. */
void al_dump(it_fix *f);

/* cmocka setup/teardown: it_fix_setup()/it_fix_teardown(), and a failure
 * when on_notify or on_log broke the callback contract. */
int al_setup(void **state);
int al_teardown(void **state);

#define AL_TEST(fn) {#fn, fn, al_setup, al_teardown, NULL}
#define AL_PEER(fn) {#fn, fn, al_setup, al_teardown, (void *)&it_peer_target}
#define AL_SERVER(fn) {#fn, fn, al_setup, al_teardown, (void *)&it_server_target}
#define AL_BOTH(fn)                                                                \
    {#fn "_against_lifeline_server", fn, al_setup, al_teardown,                    \
     (void *)&it_server_target},                                                   \
    {                                                                              \
        #fn "_against_websockets_peer", fn, al_setup, al_teardown,                 \
            (void *)&it_peer_target                                                \
    }

#define AL_FAIL(f, ...)                                                        \
    do {                                                                       \
        al_dump(f);                                                            \
        IT_FAIL(&(f)->rec, __VA_ARGS__);                                       \
    } while (0)

#define AL_ASSERT(f, cond, ...)                                               \
    do {                                                                       \
        if (!(cond)) {                                                         \
            it_log("assertion failed: %s", #cond);                             \
            AL_FAIL(f, __VA_ARGS__);                                           \
        }                                                                      \
    } while (0)

#endif
