/* The integration tests' harness. See harness.h. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---- time and environment ------------------------------------------------ */

int64_t it_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int it_env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    long n = strtol(v, &end, 10);
    return *end ? dflt : (int)n;
}

int it_scaled(int ms)
{
    int scale = it_env_int("LIFELINE_IT_TIME_SCALE", 1);
    return ms * (scale < 1 ? 1 : scale);
}

static int64_t t0_ms;

void it_log(const char *fmt, ...)
{
    if (!t0_ms)
        t0_ms = it_now_ms();
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "# [%6lld ms] %s\n", (long long)(it_now_ms() - t0_ms), line);
}

/* Wait on cv until *abs (CLOCK_MONOTONIC); returns ETIMEDOUT at the end. */
static int cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline_ms)
{
    struct timespec ts = {.tv_sec = deadline_ms / 1000,
                          .tv_nsec = (long)(deadline_ms % 1000) * 1000000L};
    return pthread_cond_timedwait(cv, mu, &ts);
}

static void cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
}

/* ---- temporary folders ---------------------------------------------------- */

char *it_tmpdir_new(void)
{
    const char *base = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/lifeline-it-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(path)) {
        it_log("mkdtemp %s: %s", path, strerror(errno));
        return NULL;
    }
    return strdup(path);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0)
        it_log("remove %s: %s", path, strerror(errno));
    return 0;
}

void it_tmpdir_remove(char *dir)
{
    if (!dir)
        return;
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

int it_run(const char *const *argv)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (!it_env_int("LIFELINE_IT_VERBOSE", 0)) {
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    }
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        it_log("spawn %s: %s", argv[0], strerror(rc));
        return -1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void it_make_cert(const char *dir, const char *name)
{
    char cert[600], key[600];
    snprintf(cert, sizeof(cert), "%s/%s.pem", dir, name);
    snprintf(key, sizeof(key), "%s/%s.key", dir, name);
    const char *argv[] = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                          "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                          "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", NULL};
    if (it_run(argv) != 0)
        fail_msg("openssl req -x509 failed");
}

/* ---- processes ------------------------------------------------------------- */

#define IT_MAX_ARGS 64
#define IT_MAX_PROCS 32

struct it_proc {
    char *argv[IT_MAX_ARGS];
    int port_arg;            /* index of the value after "--port" */
    int port;
    pid_t pid;               /* 0 when not running */
    int stdin_w;             /* our end of its stdin: closing it ends the peer */
    int stdout_r;
    pthread_t reader;
    int reader_running;
    char *dir;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char **lines;
    size_t n_lines, cap_lines, cursor;
    int eof;                 /* the current run's stdout is closed */
    char partial[4096];
    size_t n_partial;
};

/* Every live process, so that an aborted test does not leave one behind. */
static pthread_mutex_t procs_mu = PTHREAD_MUTEX_INITIALIZER;
static it_proc *procs[IT_MAX_PROCS];
static int atexit_done;

static void kill_all_at_exit(void)
{
    pthread_mutex_lock(&procs_mu);
    for (int i = 0; i < IT_MAX_PROCS; i++)
        if (procs[i] && procs[i]->pid > 0) {
            kill(procs[i]->pid, SIGKILL);
            waitpid(procs[i]->pid, NULL, 0);
            procs[i]->pid = 0;
        }
    pthread_mutex_unlock(&procs_mu);
}

/* A test that dies of a signal (a crash, an abort, meson's timeout) takes
 * its processes with it: kill() is async-signal-safe, the lock is not
 * taken (best effort at that point). */
static void kill_all_on_signal(int sig)
{
    for (int i = 0; i < IT_MAX_PROCS; i++) {
        it_proc *p = procs[i];
        if (p && p->pid > 0)
            kill(p->pid, SIGKILL);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void register_proc(it_proc *p, int add)
{
    pthread_mutex_lock(&procs_mu);
    if (!atexit_done) {
        atexit(kill_all_at_exit);
        static const int fatal[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTERM, SIGINT};
        for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
            struct sigaction sa;
            memset(&sa, 0, sizeof(sa));
            sa.sa_handler = kill_all_on_signal;
            sigaction(fatal[i], &sa, NULL);
        }
        atexit_done = 1;
    }
    for (int i = 0; i < IT_MAX_PROCS; i++) {
        if (add && !procs[i]) {
            procs[i] = p;
            break;
        }
        if (!add && procs[i] == p) {
            procs[i] = NULL;
            break;
        }
    }
    pthread_mutex_unlock(&procs_mu);
}

static void add_line(it_proc *p, const char *s, size_t n)
{
    if (p->n_lines == p->cap_lines) {
        p->cap_lines = p->cap_lines ? p->cap_lines * 2 : 64;
        p->lines = realloc(p->lines, p->cap_lines * sizeof(*p->lines));
    }
    char *line = malloc(n + 1);
    memcpy(line, s, n);
    line[n] = '\0';
    p->lines[p->n_lines++] = line;
    if (it_env_int("LIFELINE_IT_VERBOSE", 0))
        it_log("pid %d: %s", (int)p->pid, line);
}

static void *reader_main(void *arg)
{
    it_proc *p = arg;
    char buf[4096];
    for (;;) {
        ssize_t n = read(p->stdout_r, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        pthread_mutex_lock(&p->mu);
        if (n <= 0) {
            if (p->n_partial)
                add_line(p, p->partial, p->n_partial);
            p->n_partial = 0;
            p->eof = 1;
            pthread_cond_broadcast(&p->cv);
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                add_line(p, p->partial, p->n_partial);
                p->n_partial = 0;
            } else if (p->n_partial < sizeof(p->partial) - 1) {
                p->partial[p->n_partial++] = buf[i];
            }
        }
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

/* Spawn the current argv; wait for the listening line. */
static int proc_launch(it_proc *p)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0)
        return 0;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return 0;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    pid_t pid;
    int rc = posix_spawn(&pid, p->argv[0], &fa, NULL, p->argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
        it_log("spawn %s: %s", p->argv[0], strerror(rc));
        close(in[1]);
        close(out[0]);
        return 0;
    }
    pthread_mutex_lock(&p->mu);
    p->pid = pid;
    p->stdin_w = in[1];
    p->stdout_r = out[0];
    p->eof = 0;
    size_t first = p->n_lines;
    pthread_mutex_unlock(&p->mu);
    pthread_create(&p->reader, NULL, reader_main, p);
    p->reader_running = 1;

    /* The first line says where it listens. */
    int64_t deadline = it_now_ms() + it_scaled(15000);
    int port = -1;
    pthread_mutex_lock(&p->mu);
    while (p->n_lines == first && !p->eof)
        if (cond_wait_until(&p->cv, &p->mu, deadline) == ETIMEDOUT)
            break;
    if (p->n_lines > first) {
        const char *l = p->lines[first];
        const char *k = strstr(l, "\"port\":");
        if (strstr(l, "listening") && k)
            port = atoi(k + 7);
        else
            it_log("%s: unexpected first line: %s", p->argv[0], l);
        p->cursor = first + 1;
    }
    pthread_mutex_unlock(&p->mu);
    if (port <= 0) {
        it_log("%s did not report a port", p->argv[0]);
        return 0;
    }
    p->port = port;
    return 1;
}

it_proc *it_proc_spawn(const char *const *argv)
{
    it_proc *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    cond_init_monotonic(&p->cv);
    p->stdin_w = p->stdout_r = -1;
    p->port_arg = -1;
    for (int i = 0; argv[i] && i < IT_MAX_ARGS - 1; i++) {
        p->argv[i] = strdup(argv[i]);
        if (i > 0 && strcmp(argv[i - 1], "--port") == 0)
            p->port_arg = i;
    }
    register_proc(p, 1);
    if (!proc_launch(p)) {
        it_proc_free(p);
        return NULL;
    }
    if (p->port_arg >= 0) {
        free(p->argv[p->port_arg]);
        char port[16];
        snprintf(port, sizeof(port), "%d", p->port);
        p->argv[p->port_arg] = strdup(port);
    }
    return p;
}

int it_proc_port(const it_proc *p)
{
    return p->port;
}

pid_t it_proc_pid(const it_proc *p)
{
    return p->pid;
}

int it_proc_running(const it_proc *p)
{
    return p->pid > 0;
}

const char *it_proc_dir(const it_proc *p)
{
    return p->dir;
}

int it_proc_wait_line(it_proc *p, const char *needle, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    int found = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        for (size_t i = p->cursor; i < p->n_lines; i++)
            if (strstr(p->lines[i], needle)) {
                p->cursor = i + 1;
                found = 1;
                break;
            }
        if (found || p->eof)
            break;
        if (cond_wait_until(&p->cv, &p->mu, deadline) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&p->mu);
    return found;
}

size_t it_proc_count_lines(it_proc *p, const char *needle)
{
    size_t n = 0;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->n_lines; i++)
        if (strstr(p->lines[i], needle))
            n++;
    pthread_mutex_unlock(&p->mu);
    return n;
}

int it_proc_tell(it_proc *p, const char *line)
{
    if (p->pid <= 0 || p->stdin_w < 0)
        return 0;
    char buf[256];
    int n = snprintf(buf, sizeof(buf), "%s\n", line);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return 0;
    for (int done = 0; done < n;) {
        ssize_t w = write(p->stdin_w, buf + done, (size_t)(n - done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return 0;
        done += (int)w;
    }
    return 1;
}

static void proc_reap(it_proc *p)
{
    if (p->reader_running) {
        pthread_join(p->reader, NULL);
        p->reader_running = 0;
    }
    if (p->stdout_r >= 0)
        close(p->stdout_r);
    if (p->stdin_w >= 0)
        close(p->stdin_w);
    p->stdout_r = p->stdin_w = -1;
}

int it_proc_kill(it_proc *p, int sig)
{
    if (p->pid <= 0)
        return 1;
    kill(p->pid, sig);
    /* Its stdout closes when it exits: wait for that, then reap. */
    int64_t deadline = it_now_ms() + it_scaled(5000);
    pthread_mutex_lock(&p->mu);
    while (!p->eof)
        if (cond_wait_until(&p->cv, &p->mu, deadline) == ETIMEDOUT)
            break;
    int eof = p->eof;
    pthread_mutex_unlock(&p->mu);
    if (!eof) {
        it_log("pid %d ignored signal %d: killing it", (int)p->pid, sig);
        kill(p->pid, SIGKILL);
    }
    int status;
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&p->mu);
    p->pid = 0;
    pthread_mutex_unlock(&p->mu);
    proc_reap(p);
    return 1;
}

int it_proc_restart(it_proc *p)
{
    if (p->pid > 0)
        it_proc_kill(p, SIGKILL);
    int want = p->port;
    if (!proc_launch(p))
        return 0;
    if (p->port != want) {
        it_log("restarted on port %d, wanted %d", p->port, want);
        return 0;
    }
    return 1;
}

void it_proc_free(it_proc *p)
{
    if (!p)
        return;
    if (p->pid > 0)
        it_proc_kill(p, SIGKILL);
    proc_reap(p);
    register_proc(p, 0);
    for (size_t i = 0; i < p->n_lines; i++)
        free(p->lines[i]);
    free(p->lines);
    for (int i = 0; i < IT_MAX_ARGS; i++)
        free(p->argv[i]);
    it_tmpdir_remove(p->dir);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

/* ---- targets ---------------------------------------------------------------- */

const it_target it_server_target = {IT_SERVER, "lifeline_server"};
const it_target it_peer_target = {IT_PEER, "websockets_peer"};

int it_server_available(void)
{
    const char *bin = getenv("LIFELINE_SERVER_BIN");
    return bin && *bin && access(bin, X_OK) == 0;
}

void it_require_server(void)
{
    if (!it_server_available()) {
        const char *bin = getenv("LIFELINE_SERVER_BIN");
        fail_msg("lifeline-server is not available (LIFELINE_SERVER_BIN=%s)",
                 bin ? bin : "(unset)");
    }
}

int it_run_group(const char *name, const struct CMUnitTest *tests, size_t n)
{
    const char *filter = getenv("LIFELINE_IT_FILTER"); /* e.g. "*oversize*" */
    if (filter && *filter)
        cmocka_set_test_filter(filter);
    const char *bin = getenv("LIFELINE_SERVER_BIN");
    if (bin && *bin)
        return _cmocka_run_group_tests(name, tests, n, NULL, NULL);
    struct CMUnitTest *kept = calloc(n, sizeof(*kept));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (tests[i].initial_state != &it_server_target)
            kept[k++] = tests[i];
    printf("# LIFELINE_SERVER_BIN is unset (a build without lifeline-server): "
           "%zu tests against it are not run\n", n - k);
    fflush(stdout);
    int rc = _cmocka_run_group_tests(name, kept, k, NULL, NULL);
    free(kept);
    return rc;
}

static it_proc *spawn_with(const char *const *head, const char *const *extra, char *dir)
{
    const char *argv[IT_MAX_ARGS];
    int n = 0;
    for (int i = 0; head[i] && n < IT_MAX_ARGS - 1; i++)
        argv[n++] = head[i];
    for (int i = 0; extra && extra[i] && n < IT_MAX_ARGS - 1; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    it_proc *p = it_proc_spawn(argv);
    if (p)
        p->dir = dir;
    else
        it_tmpdir_remove(dir);
    return p;
}

it_proc *it_start_server(const char *const *extra)
{
    if (!it_server_available())
        return NULL;
    char *dir = it_tmpdir_new();
    if (!dir)
        return NULL;
    char db[600];
    snprintf(db, sizeof(db), "%s/lifeline.db", dir);
    const char *head[] = {getenv("LIFELINE_SERVER_BIN"), "--host", "127.0.0.1",
                          "--port", "0", "--db", db, NULL};
    return spawn_with(head, extra, dir);
}

it_proc *it_start_peer(const char *mode, const char *const *extra)
{
    const char *peer = getenv("LIFELINE_PEER");
    if (!peer || access(peer, R_OK) != 0) {
        it_log("LIFELINE_PEER does not name peer.py: %s", peer ? peer : "(unset)");
        return NULL;
    }
    const char *head[] = {"/usr/bin/python3", peer, "--mode", mode, "--host",
                          "127.0.0.1", "--port", "0", NULL};
    return spawn_with(head, extra, NULL);
}

it_proc *it_start(const it_target *t, const char *behaviour)
{
    if (t->kind == IT_PEER)
        return it_start_peer(behaviour, NULL);
    it_proc *p = it_start_server(NULL);
    if (!p || strcmp(behaviour, "echo") == 0)
        return p;
    const char *mode = strcmp(behaviour, "accept_close") == 0 ? "accept_then_close"
                     : strcmp(behaviour, "silent") == 0       ? "delay_pongs"
                                                              : behaviour;
    char body[256];
    snprintf(body, sizeof(body),
             "{\"mode\":\"%s\",\"duration_ms\":600000,\"delay_ms\":600000}", mode);
    int status = it_server_fault(p, body);
    if (status < 200 || status > 299) {
        it_log("fault %s: HTTP %d", body, status);
        it_proc_free(p);
        return NULL;
    }
    return p;
}

int it_server_fault(it_proc *srv, const char *body)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    char req[1024];
    int n = snprintf(req, sizeof(req),
                     "POST /api/v1/admin/fault HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     srv->port, strlen(body), body);
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        close(fd);
        return -1;
    }
    char resp[512];
    size_t got = 0;
    while (got < sizeof(resp) - 1) {
        ssize_t r = recv(fd, resp + got, sizeof(resp) - 1 - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
        if (memchr(resp, '\n', got))
            break;
    }
    close(fd);
    resp[got] = '\0';
    int status = -1;
    if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    return status;
}

void it_url(char *buf, size_t size, const it_target *t, const it_proc *p, const char *user)
{
    if (t->kind == IT_SERVER)
        snprintf(buf, size, "ws://127.0.0.1:%d/ws?store=it&user=%s", p->port,
                 user ? user : "u");
    else
        snprintf(buf, size, "ws://127.0.0.1:%d/ws", p->port);
}

/* ---- the recorder ---------------------------------------------------------- */

void it_rec_init(it_rec *rec, const char *name)
{
    memset(rec, 0, sizeof(*rec));
    pthread_mutex_init(&rec->mu, NULL);
    cond_init_monotonic(&rec->cv);
    rec->keep_messages = 1;
    rec->log_events = it_env_int("LIFELINE_IT_VERBOSE", 0);
    rec->name = name ? name : "client";
}

void it_rec_destroy(it_rec *rec)
{
    for (size_t i = 0; i < rec->n_msg; i++)
        free(rec->msg[i].data);
    free(rec->msg);
    free(rec->ev);
    pthread_mutex_destroy(&rec->mu);
    pthread_cond_destroy(&rec->cv);
}

static void describe(const it_ev *e, char *buf, size_t size)
{
    switch (e->kind) {
    case IT_EV_STATE:
        snprintf(buf, size, "state %s -> %s attempt %d error %s http %d (%s)",
                 lifeline_state_name(e->old_state), lifeline_state_name(e->new_state),
                 e->attempt, lifeline_error_name(e->error), e->http_status, e->reason);
        break;
    case IT_EV_RETRY:
        snprintf(buf, size, "retry attempt %d in %lld ms%s", e->retry_attempt,
                 (long long)e->delay_ms, e->probe ? " (probe)" : "");
        break;
    case IT_EV_PONG:
        snprintf(buf, size, "pong rtt %lld ms quality %s", (long long)e->rtt_ms,
                 lifeline_quality_name(e->quality));
        break;
    case IT_EV_QUALITY:
        snprintf(buf, size, "quality %s", lifeline_quality_name(e->quality));
        break;
    case IT_EV_DROPPED:
        snprintf(buf, size, "dropped %zu bytes: %s", e->len, lifeline_error_name(e->drop_reason));
        break;
    case IT_EV_DROPPED_ID:
        snprintf(buf, size, "dropped id %llu: %s", (unsigned long long)e->id,
                 lifeline_error_name(e->drop_reason));
        break;
    case IT_EV_ACKED:
        snprintf(buf, size, "acked up to %llu", (unsigned long long)e->id);
        break;
    case IT_EV_RESUMED:
        snprintf(buf, size, "resumed %s, %llu replayed",
                 e->recovered ? "recovered" : "not recovered", (unsigned long long)e->replayed);
        break;
    default:
        snprintf(buf, size, "event %d", e->kind);
    }
}

void it_rec_dump(it_rec *rec)
{
    pthread_mutex_lock(&rec->mu);
    int64_t base = rec->n_ev ? rec->ev[0].at : 0;
    it_log("%s: %zu events, %llu messages, cursor %zu", rec->name, rec->n_ev,
           (unsigned long long)rec->messages, rec->ev_cursor);
    for (size_t i = 0; i < rec->n_ev; i++) {
        char d[256];
        describe(&rec->ev[i], d, sizeof(d));
        fprintf(stderr, "#   %3zu +%5lld ms %s\n", i, (long long)(rec->ev[i].at - base), d);
    }
    pthread_mutex_unlock(&rec->mu);
}

/* Enter and leave a callback: check the contract, take the lock. */
static void cb_enter(it_rec *rec)
{
    pthread_mutex_lock(&rec->mu);
    if (!rec->cb_thread_known) {
        rec->cb_thread = pthread_self();
        rec->cb_thread_known = 1;
    } else if (!pthread_equal(rec->cb_thread, pthread_self())) {
        rec->cb_wrong_thread++;
    }
    if (rec->cb_depth > 0)
        rec->cb_overlaps++;
    rec->cb_depth++;
}

static void cb_leave(it_rec *rec)
{
    rec->cb_depth--;
}

static it_ev *push_event(it_rec *rec, int kind)
{
    if (rec->n_ev == rec->cap_ev) {
        rec->cap_ev = rec->cap_ev ? rec->cap_ev * 2 : 256;
        rec->ev = realloc(rec->ev, rec->cap_ev * sizeof(*rec->ev));
    }
    it_ev *e = &rec->ev[rec->n_ev++];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->at = it_now_ms();
    return e;
}

static void pushed(it_rec *rec, const it_ev *e)
{
    if (rec->log_events) {
        char d[256];
        describe(e, d, sizeof(d));
        it_log("%s: %s", rec->name, d);
    }
    pthread_cond_broadcast(&rec->cv);
}

static void rec_on_state(lifeline_client *c, const lifeline_state_info *info, void *ud)
{
    it_rec *rec = ud;
    cb_enter(rec);
    it_ev *e = push_event(rec, IT_EV_STATE);
    e->old_state = info->old_state;
    e->new_state = info->new_state;
    e->attempt = info->attempt;
    e->error = info->error;
    e->http_status = info->http_status;
    snprintf(e->reason, sizeof(e->reason), "%s", info->reason ? info->reason : "(NULL reason)");
    e->url_index = info->url_index;
    snprintf(e->url, sizeof(e->url), "%s", info->url ? info->url : "(NULL url)");
    if (!info->reason)
        rec->null_reasons++; /* the header promises never NULL */
    pushed(rec, e);
    it_state_hook hook = rec->on_state_hook;
    pthread_mutex_unlock(&rec->mu);
    if (hook)
        hook(rec, c, info);
    pthread_mutex_lock(&rec->mu);
    cb_leave(rec);
    pthread_mutex_unlock(&rec->mu);
}

static void rec_on_message(lifeline_client *c, const void *data, size_t len, int is_binary,
                           void *ud)
{
    it_rec *rec = ud;
    cb_enter(rec);
    rec->messages++;
    rec->message_bytes += len;
    if (rec->keep_messages) {
        if (rec->n_msg == rec->cap_msg) {
            rec->cap_msg = rec->cap_msg ? rec->cap_msg * 2 : 256;
            rec->msg = realloc(rec->msg, rec->cap_msg * sizeof(*rec->msg));
        }
        it_msg *m = &rec->msg[rec->n_msg++];
        m->data = malloc(len + 1);
        memcpy(m->data, data, len);
        m->data[len] = '\0';
        m->len = len;
        m->is_binary = is_binary;
        m->at = it_now_ms();
    }
    if (rec->log_events)
        it_log("%s: message %zu bytes%s: %.60s", rec->name, len, is_binary ? " binary" : "",
               is_binary ? "" : (const char *)data);
    pthread_cond_broadcast(&rec->cv);
    it_message_hook hook = rec->on_message_hook;
    pthread_mutex_unlock(&rec->mu);
    if (hook)
        hook(rec, c, data, len, is_binary);
    pthread_mutex_lock(&rec->mu);
    cb_leave(rec);
    pthread_mutex_unlock(&rec->mu);
}

static void rec_on_pong(lifeline_client *c, int64_t rtt_ms, int quality, void *ud)
{
    (void)c;
    it_rec *rec = ud;
    cb_enter(rec);
    it_ev *e = push_event(rec, IT_EV_PONG);
    e->rtt_ms = rtt_ms;
    e->quality = quality;
    rec->pongs++;
    pushed(rec, e);
    cb_leave(rec);
    pthread_mutex_unlock(&rec->mu);
}

static void rec_on_quality(lifeline_client *c, int quality, void *ud)
{
    (void)c;
    it_rec *rec = ud;
    cb_enter(rec);
    it_ev *e = push_event(rec, IT_EV_QUALITY);
    e->quality = quality;
    pushed(rec, e);
    cb_leave(rec);
    pthread_mutex_unlock(&rec->mu);
}

static void rec_on_retry(lifeline_client *c, int attempt, int64_t delay_ms, int probe, void *ud)
{
    (void)c;
    it_rec *rec = ud;
    cb_enter(rec);
    it_ev *e = push_event(rec, IT_EV_RETRY);
    e->retry_attempt = attempt;
    e->delay_ms = delay_ms;
    e->probe = probe;
    pushed(rec, e);
    cb_leave(rec);
    pthread_mutex_unlock(&rec->mu);
}

static void rec_on_dropped(lifeline_client *c, const void *data, size_t len, int is_binary,
                           int reason, void *ud)
{
    (void)c;
    (void)data;
    (void)is_binary;
    it_rec *rec = ud;
    cb_enter(rec);
    it_ev *e = push_event(rec, IT_EV_DROPPED);
    e->drop_reason = reason;
    e->len = len;
    rec->dropped++;
    pushed(rec, e);
    cb_leave(rec);
    pthread_mutex_unlock(&rec->mu);
}

static void rec_on_acked(lifeline_client *c, uint64_t id, void *ud)
{
    (void)c;
    it_rec *rec = ud;
    cb_enter(rec);
    it_ev *e = push_event(rec, IT_EV_ACKED);
    e->id = id;
    pushed(rec, e);
    cb_leave(rec);
    pthread_mutex_unlock(&rec->mu);
}

static void rec_on_resumed(lifeline_client *c, int recovered, uint64_t replayed, void *ud)
{
    (void)c;
    it_rec *rec = ud;
    cb_enter(rec);
    it_ev *e = push_event(rec, IT_EV_RESUMED);
    e->recovered = recovered;
    e->replayed = replayed;
    pushed(rec, e);
    cb_leave(rec);
    pthread_mutex_unlock(&rec->mu);
}

static void rec_on_dropped_id(lifeline_client *c, uint64_t id, int reason, void *ud)
{
    (void)c;
    it_rec *rec = ud;
    cb_enter(rec);
    it_ev *e = push_event(rec, IT_EV_DROPPED_ID);
    e->id = id;
    e->drop_reason = reason;
    pushed(rec, e);
    cb_leave(rec);
    pthread_mutex_unlock(&rec->mu);
}

static void rec_on_log(lifeline_client *c, int level, const char *line, void *ud)
{
    (void)c;
    it_rec *rec = ud;
    if (rec->log_events)
        it_log("%s log %d: %s", rec->name, level, line);
}

void it_config(lifeline_config *cfg, it_rec *rec, const char *url)
{
    lifeline_config_init(cfg);
    cfg->url = url;
    cfg->base_delay_ms = 100;
    cfg->max_delay_ms = 400;
    cfg->jitter_ms = 20;
    cfg->max_attempts = 3;
    cfg->stable_after_ms = 1000;
    cfg->down_ping_interval_ms = 100;
    cfg->connect_timeout_ms = it_scaled(1000); /* slow runs make TLS set-up slow */
    cfg->ping_interval_ms = 300;
    cfg->ping_timeout_ms = 150;
    cfg->on_state = rec_on_state;
    cfg->on_message = rec_on_message;
    cfg->on_pong = rec_on_pong;
    cfg->on_quality = rec_on_quality;
    cfg->on_retry = rec_on_retry;
    cfg->on_dropped = rec_on_dropped;
    cfg->on_acked = rec_on_acked;
    cfg->on_resumed = rec_on_resumed;
    cfg->on_dropped_id = rec_on_dropped_id;
    cfg->on_log = rec_on_log;
    cfg->log_level = rec->log_events ? LIFELINE_LOG_DEBUG : LIFELINE_LOG_WARN;
    cfg->user_data = rec;
}

/* Find an event matching (kind, state) from the cursor; -1 if none. A state
 * below -1 is a mask: -(1 << s1 | 1 << s2 ...) - 2. */
static long find_event(it_rec *rec, int kind, int state)
{
    for (size_t i = rec->ev_cursor; i < rec->n_ev; i++) {
        if (rec->ev[i].kind != kind)
            continue;
        if (state == -1 || rec->ev[i].new_state == state)
            return (long)i;
        if (state < -1 && ((-state - 2) & (1 << rec->ev[i].new_state)))
            return (long)i;
    }
    return -1;
}

static int wait_event(it_rec *rec, int kind, int state, int timeout_ms, it_ev *out)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    long i;
    pthread_mutex_lock(&rec->mu);
    while ((i = find_event(rec, kind, state)) < 0)
        if (cond_wait_until(&rec->cv, &rec->mu, deadline) == ETIMEDOUT) {
            i = find_event(rec, kind, state);
            break;
        }
    if (i >= 0) {
        if (out)
            *out = rec->ev[i];
        rec->ev_cursor = (size_t)i + 1;
    }
    pthread_mutex_unlock(&rec->mu);
    return i >= 0;
}

int it_wait_state(it_rec *rec, int state, int timeout_ms, it_ev *out)
{
    return wait_event(rec, IT_EV_STATE, state, timeout_ms, out);
}

int it_wait_state_in(it_rec *rec, int mask, int timeout_ms, it_ev *out)
{
    return wait_event(rec, IT_EV_STATE, -mask - 2, timeout_ms, out);
}

void it_observe(it_rec *rec, int ms)
{
    int64_t deadline = it_now_ms() + ms;
    pthread_mutex_lock(&rec->mu);
    while (cond_wait_until(&rec->cv, &rec->mu, deadline) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&rec->mu);
}

int it_wait_event(it_rec *rec, int kind, int timeout_ms, it_ev *out)
{
    return wait_event(rec, kind, -1, timeout_ms, out);
}

int it_no_state_within(it_rec *rec, int state, int ms)
{
    int64_t deadline = it_now_ms() + ms;
    long i;
    pthread_mutex_lock(&rec->mu);
    while ((i = find_event(rec, IT_EV_STATE, state)) < 0)
        if (cond_wait_until(&rec->cv, &rec->mu, deadline) == ETIMEDOUT) {
            i = find_event(rec, IT_EV_STATE, state);
            break;
        }
    pthread_mutex_unlock(&rec->mu);
    return i < 0;
}

/* exact: 0 substring of a text message, 1 equal text message, 2 equal
 * binary message. */
static long find_message(it_rec *rec, const char *data, size_t len, int exact)
{
    for (size_t i = rec->msg_cursor; i < rec->n_msg; i++) {
        const it_msg *m = &rec->msg[i];
        if (exact == 0 ? !m->is_binary && strstr(m->data, data) != NULL
                       : m->is_binary == (exact == 2) && m->len == len &&
                             memcmp(m->data, data, len) == 0)
            return (long)i;
    }
    return -1;
}

static int wait_message(it_rec *rec, const char *data, size_t len, int exact, int timeout_ms,
                        char *buf, size_t size)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    long i;
    pthread_mutex_lock(&rec->mu);
    while ((i = find_message(rec, data, len, exact)) < 0)
        if (cond_wait_until(&rec->cv, &rec->mu, deadline) == ETIMEDOUT) {
            i = find_message(rec, data, len, exact);
            break;
        }
    if (i >= 0) {
        rec->msg_cursor = (size_t)i + 1;
        if (buf && size)
            snprintf(buf, size, "%s", rec->msg[i].data);
    }
    pthread_mutex_unlock(&rec->mu);
    return i >= 0;
}

int it_wait_message(it_rec *rec, const char *text, int timeout_ms)
{
    return wait_message(rec, text, strlen(text), 1, timeout_ms, NULL, 0);
}

int it_wait_message_bytes(it_rec *rec, const void *data, size_t len, int is_binary,
                          int timeout_ms)
{
    return wait_message(rec, data, len, is_binary ? 2 : 1, timeout_ms, NULL, 0);
}

int it_wait_message_containing(it_rec *rec, const char *needle, int timeout_ms, char *buf,
                               size_t size)
{
    return wait_message(rec, needle, 0, 0, timeout_ms, buf, size);
}

static int enough_messages(it_rec *rec, void *arg)
{
    return rec->messages >= *(uint64_t *)arg;
}

int it_wait_message_count(it_rec *rec, uint64_t n, int timeout_ms)
{
    return it_wait_until(rec, enough_messages, &n, timeout_ms);
}

int it_wait_until(it_rec *rec, int (*pred)(it_rec *rec, void *arg), void *arg, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    int ok;
    pthread_mutex_lock(&rec->mu);
    while (!(ok = pred(rec, arg)))
        if (cond_wait_until(&rec->cv, &rec->mu, deadline) == ETIMEDOUT) {
            ok = pred(rec, arg);
            break;
        }
    pthread_mutex_unlock(&rec->mu);
    return ok;
}

size_t it_count_states(it_rec *rec, int state)
{
    size_t n = 0;
    pthread_mutex_lock(&rec->mu);
    for (size_t i = 0; i < rec->n_ev; i++)
        if (rec->ev[i].kind == IT_EV_STATE && rec->ev[i].new_state == state)
            n++;
    pthread_mutex_unlock(&rec->mu);
    return n;
}

size_t it_count_events(it_rec *rec, int kind)
{
    size_t n = 0;
    pthread_mutex_lock(&rec->mu);
    for (size_t i = 0; i < rec->n_ev; i++)
        if (rec->ev[i].kind == kind)
            n++;
    pthread_mutex_unlock(&rec->mu);
    return n;
}

int it_event_at(it_rec *rec, size_t i, it_ev *out)
{
    pthread_mutex_lock(&rec->mu);
    int ok = i < rec->n_ev;
    if (ok)
        *out = rec->ev[i];
    pthread_mutex_unlock(&rec->mu);
    return ok;
}

size_t it_event_count(it_rec *rec)
{
    pthread_mutex_lock(&rec->mu);
    size_t n = rec->n_ev;
    pthread_mutex_unlock(&rec->mu);
    return n;
}

size_t it_cursor(it_rec *rec)
{
    pthread_mutex_lock(&rec->mu);
    size_t n = rec->ev_cursor;
    pthread_mutex_unlock(&rec->mu);
    return n;
}

/* ---- the fixture ----------------------------------------------------------- */

int it_fix_setup(void **state)
{
    it_fix *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->target = *state;
    it_rec_init(&f->rec, "client");
    *state = f;
    return 0;
}

int it_fix_teardown(void **state)
{
    it_fix *f = *state;
    int rc = 0;
    if (f->client) {
        int err = lifeline_client_free(f->client);
        if (err) {
            it_log("teardown: lifeline_client_free: %s", lifeline_error_name(err));
            rc = -1;
        }
        f->client = NULL;
    }
    if (f->loop) {
        int err = lifeline_loop_free(f->loop);
        if (err) {
            it_log("teardown: lifeline_loop_free: %s", lifeline_error_name(err));
            rc = -1;
        }
        f->loop = NULL;
    }
    it_proc_free(f->proc);
    it_proc_free(f->proc2);
    it_tmpdir_remove(f->tmpdir);
    if (f->rec.cb_wrong_thread || f->rec.cb_overlaps || f->rec.null_reasons) {
        it_log("teardown: callback contract broken: %d on another thread, %d overlapping, "
               "%d state changes with a NULL reason",
               f->rec.cb_wrong_thread, f->rec.cb_overlaps, f->rec.null_reasons);
        it_rec_dump(&f->rec);
        rc = -1;
    }
    it_rec_destroy(&f->rec);
    free(f);
    return rc;
}

void it_fix_start(it_fix *f, const char *behaviour, const char *user)
{
    if (f->target->kind == IT_SERVER)
        it_require_server();
    f->proc = it_start(f->target, behaviour);
    if (!f->proc)
        fail_msg("could not start %s as %s", f->target->name, behaviour);
    it_url(f->url, sizeof(f->url), f->target, f->proc, user);
    it_config(&f->cfg, &f->rec, f->url);
}

void it_fix_client(it_fix *f)
{
    int err = lifeline_client_new(&f->cfg, &f->client);
    if (err)
        fail_msg("lifeline_client_new: %s", lifeline_error_name(err));
    err = lifeline_client_start(f->client);
    if (err)
        fail_msg("lifeline_client_start: %s", lifeline_error_name(err));
}

void it_fix_next_client(it_fix *f)
{
    assert_int_equal(lifeline_client_free(f->client), LIFELINE_OK);
    f->client = NULL;
    it_proc_free(f->proc);
    f->proc = NULL;
    pthread_mutex_lock(&f->rec.mu);
    f->rec.cb_thread_known = 0;
    pthread_mutex_unlock(&f->rec.mu);
}

const char *it_fix_tmpdir(it_fix *f)
{
    if (!f->tmpdir)
        f->tmpdir = it_tmpdir_new();
    if (!f->tmpdir)
        fail_msg("no temporary folder");
    return f->tmpdir;
}

int it_count_entries(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}
