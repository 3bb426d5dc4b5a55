/* The integration tests' harness: real processes on loopback, and a recorder
 * of everything the lifeline callbacks report.
 *
 * Processes: lifeline-server ($LIFELINE_SERVER_BIN) or the Python peer
 * ($LIFELINE_PEER, run with /usr/bin/python3) started with --port 0; the
 * harness reads the first line ({"event":"listening","port":N}) to learn the
 * port, keeps reading stdout in a thread (tests wait on the lines it prints),
 * and can kill and restart the process on the same port.
 *
 * Recorder: the callbacks of one client append to it under a mutex and
 * broadcast a condition variable; the tests block on that condition with a
 * deadline. A deadline is a failure limit, never a way to synchronise: no
 * test sleeps for a fixed time to let something happen. The only waits
 * that run to their deadline are those asserting that something does NOT
 * happen within a window (it_no_state_within()).
 *
 * Every process and temporary folder is removed by the test's teardown, and
 * by an atexit() handler if a test aborts. */
#ifndef LL_IT_HARNESS_H
#define LL_IT_HARNESS_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <lifeline/lifeline.h>

/* ---- time and environment ------------------------------------------------ */

/* Monotonic milliseconds. */
int64_t it_now_ms(void);

/* The integer in environment variable name, or dflt. */
int it_env_int(const char *name, int dflt);

/* Deadlines (failure limits) are multiplied by $LIFELINE_IT_TIME_SCALE
 * (default 1) so that slow runs (valgrind, ThreadSanitizer) do not fail on
 * them. Bounds that the library promises (a schedule, a detection time) are
 * not scaled; only their margins are. */
int it_scaled(int ms);

/* Print a diagnostic line on stderr, prefixed with the time. */
void it_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The entries of a /proc/self folder ("/proc/self/fd": descriptors,
 * "/proc/self/task": threads), or -1 when it cannot be read. */
int it_count_entries(const char *path);

/* ---- temporary folders ---------------------------------------------------- */

/* A new folder under $TMPDIR (or /tmp); NULL on failure. */
char *it_tmpdir_new(void);
/* Remove the folder and everything in it, and free the string. */
void it_tmpdir_remove(char *dir);

/* Run argv to completion (stdout and stderr to /dev/null unless verbose);
 * returns its exit status, or -1 when it could not be started. */
int it_run(const char *const *argv);

/* A self-signed certificate for 127.0.0.1 and localhost, made with
 * openssl req -x509: dir/NAME.pem and dir/NAME.key. Fails the test if
 * openssl fails. */
void it_make_cert(const char *dir, const char *name);

/* ---- processes ------------------------------------------------------------- */

typedef struct it_proc it_proc;

/* Start argv[0] with argv (which must contain "--port", "0"); wait for its
 * first line and read the port from it. NULL on failure (reason logged). */
it_proc *it_proc_spawn(const char *const *argv);
int it_proc_port(const it_proc *p);
pid_t it_proc_pid(const it_proc *p);
int it_proc_running(const it_proc *p);
/* The folder the process may use (its --db lives there); removed by free. */
const char *it_proc_dir(const it_proc *p);

/* Wait for an output line containing needle, among lines not yet matched
 * by a previous wait (each wait moves a cursor past the line it matched).
 * Returns 1 when found, 0 at the deadline or when the process has exited. */
int it_proc_wait_line(it_proc *p, const char *needle, int timeout_ms);
/* Lines printed so far that contain needle. */
size_t it_proc_count_lines(it_proc *p, const char *needle);
/* Write line and a newline to the process's stdin (peer.py takes "read"
 * there: see its raw_no_read mode). Returns 1 when all of it was written. */
int it_proc_tell(it_proc *p, const char *line);

/* Send sig and wait until the process has exited (SIGKILL after 5 s).
 * Returns 1 once it has exited. */
int it_proc_kill(it_proc *p, int sig);
/* Start the process again with the same arguments on the same port.
 * Returns 1 when it listens again on that port. */
int it_proc_restart(it_proc *p);
/* Kill (if running), reap, remove its folder, free. NULL is a no-op. */
void it_proc_free(it_proc *p);

/* ---- the two kinds of server the tests run against ------------------------ */

typedef enum it_kind {
    IT_SERVER = 0,  /* lifeline-server, the companion server */
    IT_PEER = 1     /* peer.py, the websockets library's server */
} it_kind;

typedef struct it_target {
    it_kind kind;
    const char *name;
} it_target;

extern const it_target it_server_target;
extern const it_target it_peer_target;

/* 1 when $LIFELINE_SERVER_BIN names an executable. */
int it_server_available(void);

/* lifeline-server on 127.0.0.1, port 0, its database in its own folder;
 * extra arguments appended (NULL-terminated list, or NULL). */
it_proc *it_start_server(const char *const *extra);
/* peer.py in mode, port 0; extra arguments appended (or NULL). */
it_proc *it_start_peer(const char *mode, const char *const *extra);

/* Start target behaving as behaviour: "echo", "accept_close", "silent" (no
 * pongs) or "reject_401". The server gets the matching admin fault (for
 * ten minutes); the peer the matching mode. */
it_proc *it_start(const it_target *t, const char *behaviour);

/* POST body to lifeline-server's /api/v1/admin/fault. Returns the HTTP
 * status, or -1 when the request failed. */
int it_server_fault(it_proc *srv, const char *body);

/* The ws:// URL of the process for user (the server's /ws?store=S&user=U;
 * the peer ignores the query). */
void it_url(char *buf, size_t size, const it_target *t, const it_proc *p,
            const char *user);

/* ---- the recorder ---------------------------------------------------------- */

typedef enum it_ev_kind {
    IT_EV_STATE = 0,
    IT_EV_RETRY,
    IT_EV_PONG,
    IT_EV_QUALITY,
    IT_EV_DROPPED,
    IT_EV_ACKED,            /* reliable delivery: on_acked */
    IT_EV_RESUMED,          /* reliable delivery: on_resumed */
    IT_EV_DROPPED_ID        /* reliable delivery: on_dropped_id (id,
                               drop_reason) */
} it_ev_kind;

typedef struct it_ev {
    int kind;               /* it_ev_kind */
    int64_t at;             /* it_now_ms() when the callback ran */
    int old_state, new_state, attempt, error, http_status; /* STATE */
    char reason[160];       /* STATE: info->reason */
    int url_index;          /* STATE: info->url_index */
    char url[160];          /* STATE: info->url */
    int retry_attempt;      /* RETRY */
    int64_t delay_ms;       /* RETRY */
    int probe;              /* RETRY */
    int64_t rtt_ms;         /* PONG */
    int quality;            /* PONG, QUALITY */
    int drop_reason;        /* DROPPED */
    size_t len;             /* DROPPED */
    uint64_t id;            /* ACKED: every id up to it */
    int recovered;          /* RESUMED */
    uint64_t replayed;      /* RESUMED */
} it_ev;

typedef struct it_msg {
    char *data;             /* NUL-terminated copy */
    size_t len;
    int is_binary;
    int64_t at;
} it_msg;

typedef struct it_rec it_rec;

/* Optional hooks, called from the callback (on the loop thread) after the
 * recorder has recorded the fact, without the recorder's lock held. */
typedef void (*it_message_hook)(it_rec *rec, lifeline_client *c, const void *data,
                                size_t len, int is_binary);
typedef void (*it_state_hook)(it_rec *rec, lifeline_client *c,
                              const lifeline_state_info *info);

struct it_rec {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    it_ev *ev;
    size_t n_ev, cap_ev, ev_cursor;
    it_msg *msg;
    size_t n_msg, cap_msg, msg_cursor;
    int keep_messages;           /* 1 (default): keep a copy of each message */
    uint64_t messages, message_bytes; /* every message, kept or not */
    uint64_t dropped, pongs;
    it_message_hook on_message_hook;
    it_state_hook on_state_hook;
    void *hook_data;
    /* the callback contract: one thread, one at a time */
    pthread_t cb_thread;
    int cb_thread_known;
    int cb_wrong_thread;         /* callbacks seen on another thread */
    int cb_depth, cb_overlaps;   /* callbacks running at once */
    int null_reasons;            /* state changes with reason NULL */
    int log_events;              /* $LIFELINE_IT_VERBOSE: log each event */
    const char *name;
};

void it_rec_init(it_rec *rec, const char *name);
void it_rec_destroy(it_rec *rec);
/* Print every recorded event on stderr (after a failed wait). */
void it_rec_dump(it_rec *rec);

/* Short timings for loopback, every callback feeding rec:
 * base 100 ms, max 400 ms, jitter 20 ms, 3 attempts, stable after 1000 ms,
 * down ping 100 ms, connect timeout 1000 ms (scaled), ping 300 ms / timeout
 * 150 ms. */
void it_config(lifeline_config *cfg, it_rec *rec, const char *url);

/* Wait for a state change to state after the cursor; on success move the
 * cursor past it, copy it to *out (may be NULL) and return 1; 0 at the
 * deadline. */
int it_wait_state(it_rec *rec, int state, int timeout_ms, it_ev *out);
/* Wait for a state change to any state in mask (1 << state | ...). */
int it_wait_state_in(it_rec *rec, int mask, int timeout_ms, it_ev *out);
#define IT_STATE_BIT(s) (1 << (s))
/* Let ms pass while the client runs, for assertions over a window of time
 * (how often something happened): never used to wait for something. */
void it_observe(it_rec *rec, int ms);
/* Wait for an event of kind after the cursor (moved past it on success). */
int it_wait_event(it_rec *rec, int kind, int timeout_ms, it_ev *out);
/* 1 when no state change to state happens after the cursor within ms
 * (waits the whole window: for asserting that something does not happen). */
int it_no_state_within(it_rec *rec, int state, int ms);
/* Wait for a message equal to text after the message cursor (moved past it
 * on success). */
int it_wait_message(it_rec *rec, const char *text, int timeout_ms);
/* Wait for a message equal to data (len bytes, text or binary). */
int it_wait_message_bytes(it_rec *rec, const void *data, size_t len, int is_binary,
                          int timeout_ms);
/* Wait for a text message containing needle after the message cursor. Copies it
 * into buf (NUL-terminated, truncated to size) when buf is not NULL. */
int it_wait_message_containing(it_rec *rec, const char *needle, int timeout_ms,
                               char *buf, size_t size);
/* Wait until at least n messages have arrived in all. */
int it_wait_message_count(it_rec *rec, uint64_t n, int timeout_ms);
/* Wait until pred(rec, arg) is true; pred runs with the lock held. */
int it_wait_until(it_rec *rec, int (*pred)(it_rec *rec, void *arg), void *arg,
                  int timeout_ms);

/* Counts over every recorded event (not only after the cursor). */
size_t it_count_states(it_rec *rec, int state);
size_t it_count_events(it_rec *rec, int kind);
/* Copy event i (0-based over every recorded event); 0 if out of range. */
int it_event_at(it_rec *rec, size_t i, it_ev *out);
size_t it_event_count(it_rec *rec);
/* The event cursor, to look back over what a wait walked past. */
size_t it_cursor(it_rec *rec);

/* ---- a fixture for most tests ------------------------------------------- */

typedef struct it_fix {
    const it_target *target; /* from the test's initial state; may be NULL */
    it_proc *proc;           /* the server or peer, if started */
    it_proc *proc2;          /* a second one, if the test needs it */
    it_rec rec;
    lifeline_config cfg;
    lifeline_client *client;
    lifeline_loop *loop;
    char url[256];
    char *tmpdir;            /* created on demand: it_fix_tmpdir() */
    char ca_file[600];       /* a test's CA file, if any */
} it_fix;

/* cmocka setup/teardown: *state is the it_target (initial state) on entry,
 * the it_fix afterwards. Teardown frees the client, the loop, the
 * processes and the folder, and fails if a callback broke the contract
 * (ran on another thread than the first, or while another one ran). */
int it_fix_setup(void **state);
int it_fix_teardown(void **state);

/* Start the fixture's target as behaviour (see it_start()), set f->url for
 * user, and f->cfg from it_config(). Skips the test when the target is
 * lifeline-server and it is not available. */
void it_fix_start(it_fix *f, const char *behaviour, const char *user);
/* Create f->client from f->cfg and start it; fails the test on error. */
void it_fix_client(it_fix *f);
/* Free the client and the target, for the next round of a table: the next
 * client has its own loop, so its callbacks come from another thread. */
void it_fix_next_client(it_fix *f);
/* The fixture's folder, created on first use. */
const char *it_fix_tmpdir(it_fix *f);

/* Fail the test unless lifeline-server is available. */
void it_require_server(void);

/* Run the group. When $LIFELINE_SERVER_BIN is unset (a build without
 * lifeline-server), the tests against it are left out, with a TAP comment
 * saying so: cmocka 1.1's "not ok # SKIP" reads as a failure to meson. */
struct CMUnitTest;
int it_run_group(const char *name, const struct CMUnitTest *tests, size_t n);
#define IT_RUN(tests) it_run_group(__FILE__, tests, sizeof(tests) / sizeof((tests)[0]))

/* Fail the test with a message and the recorder's events. */
#define IT_FAIL(rec, ...)                                                     \
    do {                                                                       \
        it_rec_dump(rec);                                                      \
        fail_msg(__VA_ARGS__);                                                 \
    } while (0)

#define IT_ASSERT(rec, cond, ...)                                             \
    do {                                                                       \
        if (!(cond)) {                                                         \
            it_log("assertion failed: %s", #cond);                             \
            IT_FAIL(rec, __VA_ARGS__);                                         \
        }                                                                      \
    } while (0)

/* Wait for state or fail with the events so far. */
#define IT_EXPECT_STATE(rec, state, timeout_ms, out)                          \
    IT_ASSERT(rec, it_wait_state(rec, state, timeout_ms, out),                 \
              "state %s not reached within %d ms", lifeline_state_name(state), \
              (int)(timeout_ms))

/* cmocka test entries run against both targets, or one. */
#define IT_BOTH(fn)                                                                \
    {#fn "_against_lifeline_server", fn, it_fix_setup, it_fix_teardown,            \
     (void *)&it_server_target},                                                   \
    {                                                                              \
        #fn "_against_websockets_peer", fn, it_fix_setup, it_fix_teardown,         \
            (void *)&it_peer_target                                                \
    }
#define IT_PEER(fn) {#fn, fn, it_fix_setup, it_fix_teardown, (void *)&it_peer_target}
#define IT_SERVER(fn) {#fn, fn, it_fix_setup, it_fix_teardown, (void *)&it_server_target}
/* A test that starts what it needs itself (target NULL). */
#define IT_TEST(fn) {#fn, fn, it_fix_setup, it_fix_teardown, NULL}

/* The base deadline for a wait that should succeed quickly on loopback. */
#define IT_QUICK it_scaled(5000)

#endif
