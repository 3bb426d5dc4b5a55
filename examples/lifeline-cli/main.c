/* lifeline-cli: a websocat-like terminal client on the lifeline SDK.
 *
 * The main thread reads stdin and sends each line; the library's loop thread
 * delivers the events (events.c), printed through output.c. The callbacks
 * wake the main thread through a pipe when the CLI must end, and so do
 * SIGINT and SIGTERM. See --help and README.md for the exit codes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config_json.h"
#include "events.h"
#include "input.h"
#include "options.h"
#include "output.h"

static int wake_pipe[2] = {-1, -1};
static volatile sig_atomic_t got_signal;
static volatile sig_atomic_t got_usr1; /* SIGUSR1: the network changed */
static lifeline_client *usr1_client;   /* who hears it (the main thread) */

static void on_usr1(int sig)
{
    (void)sig;
    int saved = errno;
    got_usr1 = 1;
    char byte = 'u';
    ssize_t n = write(wake_pipe[1], &byte, 1);
    (void)n;
    errno = saved;
}

static void on_signal(int sig)
{
    int saved = errno;
    got_signal = sig;
    char byte = 's';
    ssize_t n = write(wake_pipe[1], &byte, 1);
    (void)n;
    errno = saved;
}

static int setup_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    /* a closed stdout must not kill the CLI before it closes the connection */
    if (sigaction(SIGPIPE, &sa, NULL))
        return -1;
    sa.sa_handler = on_signal;
    /* a second Ctrl-C during the graceful close ends the CLI at once */
    sa.sa_flags = (int)SA_RESETHAND | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
        return -1;
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGUSR1, &sa, NULL))
        return -1;
    return 0;
}

/* Block (how = SIG_BLOCK) or unblock SIGINT and SIGTERM in this thread. The
 * library's thread is created while they are blocked and inherits that, so
 * they reach the main thread only. */
static void mask_signals(int how)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(how, &set, NULL);
}

static int make_wake_pipe(void)
{
    if (pipe(wake_pipe))
        return -1;
    for (int i = 0; i < 2; i++)
        if (fcntl(wake_pipe[i], F_SETFL, O_NONBLOCK) ||
            fcntl(wake_pipe[i], F_SETFD, FD_CLOEXEC))
            return -1;
    return 0;
}

typedef struct session {
    lifeline_client *client;
    events *events;
    size_t max_message_bytes;
    int reliable;             /* delivery is LIFELINE_DELIVERY_RELIABLE */
} session;

/* One stdin line: into the offline queue, or with --reliable into the
 * outbox under the next id (the acked events name ids). Nothing is printed
 * for a line sent, only for one refused. */
static void send_line(const char *line, size_t len, int too_long, void *user_data)
{
    session *s = user_data;
    int err = too_long      ? LIFELINE_ERR_MESSAGE_TOO_BIG
              : s->reliable ? lifeline_client_send_id(s->client, line, len, 0, NULL)
                            : lifeline_client_send(s->client, line, len, 0);
    if (err)
        events_send_refused(s->events, err);
}

/* Nothing left to do but end: a callback or a signal asked for it. */
static int must_end(const session *s)
{
    return got_signal || atomic_load(&s->events->exit_code) >= 0;
}

static void drain_wake_pipe(void)
{
    char sink[64];
    while (read(wake_pipe[0], sink, sizeof(sink)) > 0)
        ;
    if (got_usr1 && usr1_client) { /* not from the handler: it locks */
        got_usr1 = 0;
        lifeline_client_network_changed(usr1_client);
    }
}

/* Read stdin and send its lines until it ends or the CLI must end.
 * Returns 0, or -1 on a read error (reported). */
static int pump_stdin(session *s)
{
    line_reader reader;
    line_reader_init(&reader, s->max_message_bytes);
    int rc = 0;
    struct pollfd fds[2] = {
        {.fd = STDIN_FILENO, .events = POLLIN},
        {.fd = wake_pipe[0], .events = POLLIN},
    };
    char chunk[65536];
    while (!must_end(s)) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("lifeline-cli: poll");
            rc = -1;
            break;
        }
        if (fds[1].revents)
            drain_wake_pipe();
        if (fds[0].revents & POLLNVAL) {
            /* stdin is not open at all: as good as empty */
            line_reader_finish(&reader, send_line, s);
            break;
        }
        if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR)) || must_end(s))
            continue;
        ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            perror("lifeline-cli: stdin");
            rc = -1;
            break;
        }
        if (n == 0) {
            line_reader_finish(&reader, send_line, s);
            break;
        }
        if (line_reader_feed(&reader, chunk, (size_t)n, send_line, s)) {
            fprintf(stderr, "lifeline-cli: out of memory\n");
            rc = -1;
            break;
        }
    }
    line_reader_free(&reader);
    return rc;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep until the wake pipe has news (then drained) or deadline (now_ms()
 * time). Returns 1 when the deadline has passed or poll() failed (said on
 * stderr), 0 to look again. */
static int wait_for_wake(int64_t deadline)
{
    struct pollfd fd = {.fd = wake_pipe[0], .events = POLLIN};
    int64_t left = deadline - now_ms();
    if (left <= 0)
        return 1;
    int n = poll(&fd, 1, left > INT_MAX ? INT_MAX : (int)left);
    if (n < 0 && errno != EINTR) {
        perror("lifeline-cli: poll");
        return 1;
    }
    if (n > 0)
        drain_wake_pipe();
    return 0;
}

/* At the end of stdin, while the client is connecting (the first time, or
 * a reconnection under way), wait until the connection opens or the client
 * gives up on it: connected, disconnected or server_down ends the wait, and
 * error ends the CLI (must_end()). At most one connect timeout plus one
 * ping timeout. Each state change wakes this thread through the pipe
 * (events.c). What was sent is not waited for here: lifeline_client_stop()
 * writes what is queued before it closes. */
static void linger(session *s, const lifeline_config *cfg)
{
    int64_t deadline = now_ms() + cfg->connect_timeout_ms + cfg->ping_timeout_ms;
    while (!must_end(s)) {
        int state = atomic_load(&s->events->state);
        if (state != LIFELINE_STATE_IDLE && state != LIFELINE_STATE_CONNECTING)
            return;
        if (wait_for_wake(deadline))
            return;
    }
}

/* The messages in the outbox, not yet acknowledged: this run's lines and
 * those an outbox file kept from an earlier run. */
static uint64_t outbox_messages(lifeline_client *client)
{
    lifeline_stats st;
    if (lifeline_client_stats(client, &st))
        return 0;
    return st.outbox_messages;
}

/* At the end of stdin with --reliable: wait until the server has
 * acknowledged everything in the outbox and a session has been resumed (so
 * that an empty stdin still shows that the server speaks lifeline.v1), or
 * until the client gives up: error ends the CLI (must_end()), server_down
 * ends the wait. Disconnections do not: the client reconnects and sends
 * again what is not acknowledged. The wait also ends after one connect
 * timeout plus one ping timeout without progress (an ack, a resume or a
 * connection opening), the time one attempt and its first answer may take.
 * Acks, resumes and state changes wake this thread through the pipe. */
static void wait_acked(session *s, const lifeline_config *cfg)
{
    const int64_t quiet_ms = (int64_t)cfg->connect_timeout_ms + cfg->ping_timeout_ms;
    unsigned seen = atomic_load(&s->events->progress);
    int64_t deadline = now_ms() + quiet_ms;
    while (!must_end(s)) {
        if (atomic_load(&s->events->state) == LIFELINE_STATE_SERVER_DOWN)
            return;
        if (atomic_load(&s->events->resumed) && outbox_messages(s->client) == 0)
            return;
        unsigned progress = atomic_load(&s->events->progress);
        if (progress != seen) {
            seen = progress;
            deadline = now_ms() + quiet_ms;
        }
        if (wait_for_wake(deadline))
            return;
    }
}

/* How long the stop may take to write what is still queued and to get the
 * server's answer to the close: as long as the answer to a ping may take
 * (--ping-timeout-ms, 10 s by default), and never less than the library's
 * own 2000 ms. The stop returns as soon as the server answers, so the
 * bound costs time only with a server that reads slowly or not at all;
 * what it leaves unwritten is reported as dropped. */
static int stop_timeout_ms(const lifeline_config *cfg)
{
    enum { LIBRARY_DEFAULT_MS = 2000 };
    return cfg->ping_timeout_ms > LIBRARY_DEFAULT_MS ? cfg->ping_timeout_ms : LIBRARY_DEFAULT_MS;
}

static const char *plural(uint64_t n)
{
    return n == 1 ? "" : "s";
}

/* With --reliable, once the client is stopped and freed: say what the
 * server has not acknowledged, whatever ends the CLI. An outbox file keeps
 * it (kept: what it still holds) for the next run with the same --outbox;
 * an outbox in memory has reported it as dropped (STOPPED), lost. Returns
 * how many of the dropped messages were those. */
static int report_unacked(const events *ev, uint64_t kept, const char *outbox)
{
    if (kept)
        fprintf(stderr,
                "lifeline-cli: %llu message%s not acknowledged: kept in the outbox file %s; "
                "the next run with --outbox %s sends them\n",
                (unsigned long long)kept, plural(kept), outbox, outbox);
    int lost = outbox ? 0 : atomic_load(&ev->dropped_stopped);
    if (lost)
        fprintf(stderr, "lifeline-cli: %d message%s not acknowledged, lost (no --outbox)\n",
                lost, plural((uint64_t)lost));
    return lost;
}

/* The exit status once stdin has ended and the client is stopped and freed
 * (every callback has run): 0 only when every line was written (with
 * --reliable: acknowledged) and the connection opened (with --reliable: a
 * session resumed, the server answered the hello). unacked: the
 * messages report_unacked() spoke of, lost: those of them among the
 * dropped. */
static int eof_status(const events *ev, int reliable, uint64_t unacked, int lost)
{
    int dropped = atomic_load(&ev->dropped) - lost;
    if (dropped) {
        fprintf(stderr, "lifeline-cli: %d message%s not delivered\n", dropped,
                plural((uint64_t)dropped));
        return CLI_EXIT_UNDELIVERED;
    }
    if (unacked)
        return CLI_EXIT_UNDELIVERED;
    if (!atomic_load(&ev->connected)) {
        fprintf(stderr, "lifeline-cli: the connection never opened\n");
        return CLI_EXIT_UNDELIVERED;
    }
    if (reliable && !atomic_load(&ev->resumed)) {
        fprintf(stderr, "lifeline-cli: the server never answered the session's hello\n");
        return CLI_EXIT_UNDELIVERED;
    }
    return CLI_EXIT_OK;
}

static int print_config(const cli_options *o)
{
    char *json = config_to_json(o);
    if (!json) {
        fprintf(stderr, "lifeline-cli: out of memory\n");
        return 1;
    }
    puts(json);
    cJSON_free(json);
    return fflush(stdout) ? 1 : CLI_EXIT_OK;
}

static int run(cli_options *o)
{
    output out;
    events ev;
    int code = 1;
    /* --messages-only: stdout carries the messages alone (a pipe to jq),
     * the events and the status line go to stderr */
    int init = o->messages_only
                   ? output_init(&out, stderr, stdout, o->json, isatty(STDERR_FILENO))
                   : output_init(&out, stdout, NULL, o->json, isatty(STDOUT_FILENO));
    if (init) {
        fprintf(stderr, "lifeline-cli: cannot set up the output\n");
        return 1;
    }
    if (make_wake_pipe() || setup_signals()) {
        perror("lifeline-cli: pipe or signals");
        goto out;
    }
    out.show_url = o->cfg.fallback_url_count > 0;
    events_attach(&ev, &o->cfg, &out, o->verbose, o->exit_on_server_down, wake_pipe[1]);

    lifeline_client *client = NULL;
    mask_signals(SIG_BLOCK);
    int err = lifeline_client_new(&o->cfg, &client);
    if (!err) {
        err = lifeline_client_start(client);
        if (err) {
            fprintf(stderr, "lifeline-cli: cannot start the client: %s\n",
                    lifeline_strerror(err));
            lifeline_client_free(client);
            mask_signals(SIG_UNBLOCK);
            goto out;
        }
    }
    usr1_client = err ? NULL : client;
    mask_signals(SIG_UNBLOCK);
    if (err) {
        /* the transport fields are checked here, not by validate */
        if (strncmp(lifeline_error_name(err), "CONFIG_", 7) == 0) {
            cli_report_config_error(o, err);
            code = CLI_EXIT_USAGE;
        } else if (err == LIFELINE_ERR_OUTBOX_OPEN || err == LIFELINE_ERR_OUTBOX_CORRUPT) {
            /* the library's words for what is wrong with the file (its path
             * included); the error's own if the check finds nothing now */
            char why[512];
            if (!o->cfg.outbox_path ||
                lifeline_outbox_check(o->cfg.outbox_path, why, sizeof(why)) == LIFELINE_OK)
                snprintf(why, sizeof(why), "%s (%s)", lifeline_strerror(err),
                         lifeline_error_name(err));
            fprintf(stderr, "lifeline-cli: --outbox: %s\n", why);
            code = CLI_EXIT_USAGE;
        } else {
            fprintf(stderr, "lifeline-cli: cannot create the client: %s (%s)\n",
                    lifeline_strerror(err), lifeline_error_name(err));
        }
        goto out;
    }

    int reliable = o->cfg.delivery == LIFELINE_DELIVERY_RELIABLE;
    session s = {client, &ev, o->cfg.max_message_bytes, reliable};
    int read_failed = pump_stdin(&s);
    if (!must_end(&s) && reliable)
        wait_acked(&s, &o->cfg);
    else if (!must_end(&s))
        linger(&s, &o->cfg);

    /* what is queued is written first, then the close (a second Ctrl-C
     * ends the CLI at once); an outbox file keeps what is not acknowledged
     * for the next run, one in memory reports it as dropped */
    lifeline_client_stop(client, stop_timeout_ms(&o->cfg));
    uint64_t kept = reliable && o->cfg.outbox_path ? outbox_messages(client) : 0;
    usr1_client = NULL;
    lifeline_client_free(client);
    int lost = reliable ? report_unacked(&ev, kept, o->cfg.outbox_path) : 0;

    if (got_signal)
        code = 128 + got_signal;
    else if (atomic_load(&ev.exit_code) >= 0)
        code = atomic_load(&ev.exit_code);
    else
        code = read_failed ? 1 : eof_status(&ev, reliable, kept + (uint64_t)lost, lost);
out:
    output_finish(&out);
    output_destroy(&out);
    return code;
}

/* A closed stdin, stdout or stderr would be reused by the first file the
 * CLI or the library opens (a pipe becoming "stdin"): give it /dev/null. */
static void ensure_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int null = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
            if (null >= 0 && null != fd) {
                dup2(null, fd);
                close(null);
            }
        }
    }
}

int main(int argc, char **argv)
{
    cli_options o;
    int code;
    ensure_std_fds();
    switch (cli_parse(&o, argc, argv)) {
    case CLI_HELP:
        cli_usage(stdout);
        code = CLI_EXIT_OK;
        break;
    case CLI_VERSION:
        printf("lifeline-cli %s (built with lifeline %d.%d.%d)\n", lifeline_version(),
               LIFELINE_VERSION_MAJOR, LIFELINE_VERSION_MINOR, LIFELINE_VERSION_PATCH);
        code = CLI_EXIT_OK;
        break;
    case CLI_RUN:
        code = o.print_config ? print_config(&o) : run(&o);
        break;
    default:
        code = CLI_EXIT_USAGE;
        break;
    }
    cli_free(&o);
    return code;
}
