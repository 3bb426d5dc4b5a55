/* A fake of src/transport/transport.h: no socket, no libwebsockets. Its
 * loop is a plain thread that runs what the client posts (events->wake) and
 * what the test hands it; its connections record every call down as one
 * line of text; its clock is virtual. With it the client layer (queue,
 * commands, callbacks, stop and free) is tested on its own:
 * tests/unit/test_client_layer.c. */
#ifndef LL_TEST_FAKE_TRANSPORT_H
#define LL_TEST_FAKE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "transport/transport.h"

/* The virtual clock ll_now_ms() reads. */
void fake_set_now(int64_t ms);

/* The newest connection made, and how many are alive (made, not freed). */
ll_conn *fake_conn_last(void);
int fake_conns_alive(void);
/* How many fake loops are alive (a loop that frees itself counts until its
 * thread has freed it). */
int fake_loops_alive(void);

/* The calls down made on c so far, each as a line: "connect 1" (to
 * url; "connect 3 url 2" to fallback_urls[1]), "probe 2", "close 1 1000", "want_write", "ping 3", "abandon",
 * "timer 5000" ("timer none"). Cleared by fake_clear_calls(). */
const char *fake_calls(ll_conn *c);
void fake_clear_calls(ll_conn *c);
/* 1 while c watches the network (ll_conn_watch_network()). */
int fake_watching(ll_conn *c);
/* The id of the last connect or probe. */
uint32_t fake_last_id(ll_conn *c);

/* Run fn(arg) on c's loop thread, as the loop would, and wait for it;
 * work posted before is run first, work fn posts after it (call
 * fake_settle() to wait for that). */
void fake_on_loop(ll_conn *c, void (*fn)(ll_conn *c, void *arg), void *arg);
/* Wait until the loop has run everything posted so far. */
void fake_settle(ll_conn *c);

/* On the loop thread (through fake_on_loop()), the calls up: */
void fake_event(ll_conn *c, ll_event ev, const char *detail);
void fake_message(ll_conn *c, const char *text);
void fake_timer(ll_conn *c);
void fake_log(ll_conn *c, int level, const char *line);
/* Pull every queued message as the socket would (next_out, then written
 * with ok), their payloads joined by '|' in out. Returns how many. */
int fake_write_all(ll_conn *c, int ok, char *out, size_t size);

#endif
