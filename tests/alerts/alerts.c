/* The alert tests' helpers. See alerts.h. */
#include "alerts.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- the fake services ------------------------------------------------------ */

it_proc *al_fake_start(const char *const *extra)
{
    const char *fakes = getenv("LIFELINE_FAKES");
    if (!fakes || access(fakes, R_OK) != 0)
        fail_msg("LIFELINE_FAKES does not name fake_services.py: %s", fakes ? fakes : "(unset)");
    const char *argv[48];
    int n = 0;
    const char *head[] = {"/usr/bin/python3", fakes, "--host", "127.0.0.1", "--port", "0",
                          "--webhook", AL_HOOK_ID "/" AL_HOOK_TOKEN, "--watch-stdin", NULL};
    for (int i = 0; head[i]; i++)
        argv[n++] = head[i];
    for (int i = 0; extra && extra[i] && n < 47; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    it_proc *p = it_proc_spawn(argv);
    if (!p)
        fail_msg("could not start %s", fakes);
    return p;
}

void al_webhook_url(char *buf, size_t n, const it_proc *fake, const char *id, const char *token)
{
    snprintf(buf, n, "http://127.0.0.1:%d/api/webhooks/%s/%s", it_proc_port(fake), id, token);
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int al_http(int port, const char *method, const char *path, const char *body, char **resp)
{
    if (resp)
        *resp = NULL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    size_t blen = body ? strlen(body) : 0;
    char head[512];
    int hn = snprintf(head, sizeof(head),
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                      method, path, port, blen);
    if (send_all(fd, head, (size_t)hn) != 0 || (blen && send_all(fd, body, blen) != 0)) {
        close(fd);
        return -1;
    }
    size_t cap = 8192, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 4096 > cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    int status = -1;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
        free(buf);
        return -1;
    }
    char *start = strstr(buf, "\r\n\r\n");
    if (resp) {
        *resp = strdup(start ? start + 4 : "");
    }
    free(buf);
    return status;
}

void al_fake_control(it_proc *fake, const char *body)
{
    int status = al_http(it_proc_port(fake), "POST", "/_control", body, NULL);
    if (status != 200)
        fail_msg("fake /_control %s: HTTP %d", body, status);
}

/* Parsed documents handed to the tests, freed at teardown: a failed
 * assertion (a longjmp) leaks nothing. */
static cJSON **kept;
static size_t n_kept, cap_kept;

static cJSON *keep(cJSON *doc)
{
    if (n_kept == cap_kept) {
        cap_kept = cap_kept ? cap_kept * 2 : 64;
        kept = realloc(kept, cap_kept * sizeof(*kept));
    }
    kept[n_kept++] = doc;
    return doc;
}

static void free_kept(void)
{
    for (size_t i = 0; i < n_kept; i++)
        cJSON_Delete(kept[i]);
    free(kept);
    kept = NULL;
    n_kept = cap_kept = 0;
}

static cJSON *fetch_requests(it_proc *fake)
{
    char *resp = NULL;
    int status = al_http(it_proc_port(fake), "GET", "/_requests", NULL, &resp);
    cJSON *doc = status == 200 && resp ? cJSON_Parse(resp) : NULL;
    free(resp);
    if (!cJSON_IsArray(doc)) {
        cJSON_Delete(doc);
        fail_msg("fake /_requests: HTTP %d, not a JSON array", status);
    }
    return doc;
}

cJSON *al_fake_requests(it_proc *fake)
{
    return keep(fetch_requests(fake));
}

size_t al_fake_count(it_proc *fake)
{
    cJSON *reqs = fetch_requests(fake);
    size_t n = (size_t)cJSON_GetArraySize(reqs);
    cJSON_Delete(reqs);
    return n;
}

int al_fake_wait_count(it_proc *fake, size_t n, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    for (;;) {
        if (al_fake_count(fake) >= n)
            return 1;
        if (it_now_ms() >= deadline)
            return 0;
        poll(NULL, 0, 10); /* a poll interval, not a wait for something */
    }
}

double al_req_arrival(const cJSON *reqs, int i)
{
    const cJSON *r = cJSON_GetArrayItem(reqs, i);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(r, "arrival_ms");
    if (!cJSON_IsNumber(a))
        fail_msg("delivery %d has no arrival_ms", i);
    return a->valuedouble;
}

int al_req_status(const cJSON *reqs, int i)
{
    const cJSON *r = cJSON_GetArrayItem(reqs, i);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(r, "status");
    if (!cJSON_IsNumber(s))
        fail_msg("delivery %d has no status", i);
    return s->valueint;
}

cJSON *al_req_body(const cJSON *reqs, int i)
{
    const cJSON *r = cJSON_GetArrayItem(reqs, i);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(r, "body");
    cJSON *doc = cJSON_IsString(b) ? cJSON_Parse(b->valuestring) : NULL;
    if (!doc)
        fail_msg("delivery %d has no JSON body", i);
    return keep(doc);
}

const char *al_req_answer(const cJSON *reqs, int i)
{
    const char *a = al_str(cJSON_GetArrayItem(reqs, i), "answer");
    return a ? a : "";
}

const char *al_req_outcome(const cJSON *reqs, int i)
{
    const char *o = al_str(cJSON_GetArrayItem(reqs, i), "outcome");
    return o ? o : "?";
}

int al_closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        fail_msg("no free port");
    close(fd);
    return ntohs(sa.sin_port);
}

/* ---- the payload -------------------------------------------------------------- */

const cJSON *al_embed(const cJSON *body)
{
    const cJSON *embeds = cJSON_GetObjectItemCaseSensitive(body, "embeds");
    const cJSON *e = cJSON_GetArrayItem(embeds, 0);
    if (!cJSON_IsObject(e))
        fail_msg("the body has no embed");
    return e;
}

const char *al_field(const cJSON *embed, const char *name)
{
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(embed, "fields");
    const cJSON *f;
    cJSON_ArrayForEach(f, fields)
    {
        const char *n = al_str(f, "name");
        if (n && strcmp(n, name) == 0)
            return al_str(f, "value");
    }
    return NULL;
}

const char *al_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

size_t al_chars(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* ---- the recorder of on_notify and on_log -------------------------------------- */

typedef struct al_line {
    int level;
    char *text;
    int64_t at;
} al_line;

/* Guarded by the harness recorder's mutex (rec->mu). */
static struct {
    it_rec *rec;
    al_note *notes;
    size_t n_notes, cap_notes;
    al_line *lines;
    size_t n_lines, cap_lines;
    int wrong_thread, overlaps, log_wrong_thread;
    int verbose;
} g;

/* The callback contract, as the harness checks it for the others: the
 * first callback's thread is the loop thread; none runs inside another. */
static void contract(it_rec *rec, int *wrong)
{
    if (!rec->cb_thread_known) {
        rec->cb_thread = pthread_self();
        rec->cb_thread_known = 1;
    } else if (!pthread_equal(rec->cb_thread, pthread_self())) {
        (*wrong)++;
    }
    if (rec->cb_depth > 0)
        g.overlaps++;
}

static void al_on_notify(lifeline_client *c, const lifeline_notify_info *info, void *ud)
{
    (void)c;
    it_rec *rec = ud;
    pthread_mutex_lock(&rec->mu);
    contract(rec, &g.wrong_thread);
    if (g.n_notes == g.cap_notes) {
        g.cap_notes = g.cap_notes ? g.cap_notes * 2 : 32;
        g.notes = realloc(g.notes, g.cap_notes * sizeof(*g.notes));
    }
    al_note *n = &g.notes[g.n_notes++];
    memset(n, 0, sizeof(*n));
    snprintf(n->channel, sizeof(n->channel), "%s", info->channel ? info->channel : "(NULL)");
    snprintf(n->kind, sizeof(n->kind), "%s", info->kind ? info->kind : "(NULL)");
    snprintf(n->detail, sizeof(n->detail), "%s", info->detail ? info->detail : "(NULL)");
    n->ok = info->ok;
    n->http_status = info->http_status;
    n->attempts = info->attempts;
    n->at = it_now_ms();
    if (g.verbose)
        it_log("notify: %s %s ok %d HTTP %d, %d attempts: %s", n->channel, n->kind, n->ok,
               n->http_status, n->attempts, n->detail);
    pthread_cond_broadcast(&rec->cv);
    pthread_mutex_unlock(&rec->mu);
}

static void al_on_log(lifeline_client *c, int level, const char *line, void *ud)
{
    (void)c;
    it_rec *rec = ud;
    pthread_mutex_lock(&rec->mu);
    contract(rec, &g.log_wrong_thread);
    if (g.n_lines == g.cap_lines) {
        g.cap_lines = g.cap_lines ? g.cap_lines * 2 : 256;
        g.lines = realloc(g.lines, g.cap_lines * sizeof(*g.lines));
    }
    g.lines[g.n_lines++] = (al_line){level, strdup(line ? line : "(NULL)"), it_now_ms()};
    if (g.verbose)
        it_log("log %d: %s", level, line);
    pthread_cond_broadcast(&rec->cv);
    pthread_mutex_unlock(&rec->mu);
}

static void forget(void)
{
    for (size_t i = 0; i < g.n_lines; i++)
        free(g.lines[i].text);
    free(g.lines);
    free(g.notes);
    memset(&g, 0, sizeof(g));
}

void al_attach(it_fix *f)
{
    forget();
    g.rec = &f->rec;
    g.verbose = it_env_int("LIFELINE_IT_VERBOSE", 0);
    f->cfg.on_notify = al_on_notify;
    f->cfg.on_log = al_on_log;
    f->cfg.log_level = LIFELINE_LOG_DEBUG;
    f->cfg.user_data = &f->rec;
}

size_t al_note_count(it_fix *f)
{
    pthread_mutex_lock(&f->rec.mu);
    size_t n = g.n_notes;
    pthread_mutex_unlock(&f->rec.mu);
    return n;
}

al_note al_note_at(it_fix *f, size_t i)
{
    al_note n = {0};
    pthread_mutex_lock(&f->rec.mu);
    int ok = i < g.n_notes;
    if (ok)
        n = g.notes[i];
    pthread_mutex_unlock(&f->rec.mu);
    if (!ok)
        AL_FAIL(f, "no on_notify result %zu", i);
    return n;
}

static int enough_notes(it_rec *rec, void *arg)
{
    (void)rec;
    return g.n_notes >= *(size_t *)arg;
}

int al_wait_notes(it_fix *f, size_t n, int timeout_ms)
{
    return it_wait_until(&f->rec, enough_notes, &n, timeout_ms);
}

size_t al_count_lines(it_fix *f, int max_level, const char *needle)
{
    size_t n = 0;
    pthread_mutex_lock(&f->rec.mu);
    for (size_t i = 0; i < g.n_lines; i++)
        if (g.lines[i].level <= max_level && (!needle || strstr(g.lines[i].text, needle)))
            n++;
    pthread_mutex_unlock(&f->rec.mu);
    return n;
}

static int has_line(it_rec *rec, void *arg)
{
    (void)rec;
    for (size_t i = 0; i < g.n_lines; i++)
        if (strstr(g.lines[i].text, arg))
            return 1;
    return 0;
}

int al_wait_line(it_fix *f, const char *needle, int timeout_ms)
{
    return it_wait_until(&f->rec, has_line, (void *)needle, timeout_ms);
}

void al_each_text(it_fix *f, void (*fn)(const char *where, const char *text, void *arg),
                  void *arg)
{
    pthread_mutex_lock(&f->rec.mu);
    for (size_t i = 0; i < g.n_lines; i++)
        fn("log line", g.lines[i].text, arg);
    for (size_t i = 0; i < g.n_notes; i++) {
        fn("on_notify channel", g.notes[i].channel, arg);
        fn("on_notify kind", g.notes[i].kind, arg);
        fn("on_notify detail", g.notes[i].detail, arg);
    }
    pthread_mutex_unlock(&f->rec.mu);
}

int al_contract_breaks(it_fix *f)
{
    pthread_mutex_lock(&f->rec.mu);
    int n = g.wrong_thread + g.overlaps + g.log_wrong_thread;
    pthread_mutex_unlock(&f->rec.mu);
    return n;
}

void al_dump(it_fix *f)
{
    pthread_mutex_lock(&f->rec.mu);
    it_log("alerts: %zu on_notify results, %zu log lines", g.n_notes, g.n_lines);
    for (size_t i = 0; i < g.n_notes; i++)
        fprintf(stderr, "#   notify %zu: %s %s ok %d HTTP %d, %d attempts: %s\n", i,
                g.notes[i].channel, g.notes[i].kind, g.notes[i].ok, g.notes[i].http_status,
                g.notes[i].attempts, g.notes[i].detail);
    size_t from = g.n_lines > 60 ? g.n_lines - 60 : 0;
    for (size_t i = from; i < g.n_lines; i++)
        fprintf(stderr, "#   log %d: %s\n", g.lines[i].level, g.lines[i].text);
    pthread_mutex_unlock(&f->rec.mu);
}

int al_setup(void **state)
{
    forget();
    free_kept();
    return it_fix_setup(state);
}

int al_teardown(void **state)
{
    it_fix *f = *state;
    /* the client goes first (in it_fix_teardown): read the counts after */
    int wrong, overlaps, log_wrong;
    int rc = 0;
    {
        /* free the client now so that no callback runs while we read */
        if (f->client) {
            int64_t t0 = it_now_ms();
            int err = lifeline_client_free(f->client);
            f->client = NULL;
            if (err) {
                it_log("teardown: lifeline_client_free: %s", lifeline_error_name(err));
                rc = -1;
            }
            if (it_now_ms() - t0 > 2000 + it_scaled(1000)) {
                it_log("teardown: lifeline_client_free took %lld ms",
                       (long long)(it_now_ms() - t0));
                rc = -1;
            }
        }
        wrong = g.wrong_thread;
        overlaps = g.overlaps;
        log_wrong = g.log_wrong_thread;
    }
    if (wrong || overlaps || log_wrong) {
        it_log("teardown: on_notify on another thread %d times, on_log %d times; %d overlapping",
               wrong, log_wrong, overlaps);
        rc = -1;
    }
    forget();
    free_kept();
    if (it_fix_teardown(state) != 0)
        rc = -1;
    return rc;
}
