/* See notifier.h. */
#include "notify/notifier.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lifeline/lifeline.h"
#include "notify/discord.h"
#include "notify/http_header.h"

#define BODY_MAX 16384
#define GONE_MAX 8

typedef struct job {
    struct job *next;
    int channel, kind;
    char *url, *bearer, *body;
} job;

struct ll_notifier {
    ll_notifier_opts o;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *head, *tail;
    size_t count;
    int stopping;
    int64_t deadline;          /* monotonic ms: abort after it, once stopping */
    char *gone[GONE_MAX];      /* webhook URLs Discord said are gone */
    size_t n_gone;
    CURL *curl;                /* worker only */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *ll_channel_name(int channel)
{
    return channel == LL_CHANNEL_DISCORD ? "discord" : channel == LL_CHANNEL_SENDGRID ? "email" : "?";
}

void ll_notifier_opts_init(ll_notifier_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->connect_timeout_ms = 5000;
    o->total_timeout_ms = 10000;
    o->queue_max = 16;
    o->retry.max_retries = 3;
    o->retry.max_rate_limited = 5;
    o->retry.base_ms = 1000;
    o->retry.max_wait_ms = 60000;
}

static void logf_(ll_notifier *n, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(ll_notifier *n, int level, const char *fmt, ...)
{
    if (!n->o.log)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    n->o.log(n->o.ud, level, line);
}

/* Where a job goes, for logs: the webhook id, never the token. */
static void target(const job *j, char *out, size_t len)
{
    if (j->channel == LL_CHANNEL_DISCORD) {
        char id[72];
        ll_discord_webhook_id(j->url, id, sizeof(id));
        snprintf(out, len, "discord webhook %s", id);
    } else {
        snprintf(out, len, "sendgrid");
    }
}

static void free_job(job *j)
{
    free(j->url);
    free(j->bearer);
    free(j->body);
    free(j);
}

static int is_gone_locked(ll_notifier *n, const char *url)
{
    for (size_t i = 0; i < n->n_gone; i++)
        if (strcmp(n->gone[i], url) == 0)
            return 1;
    return 0;
}

int ll_notifier_post(ll_notifier *n, int channel, int kind, const char *url,
                     const char *bearer, char *body)
{
    if (!n || !url || !body) {
        free(body);
        return LIFELINE_ERR_INVALID_ARGUMENT;
    }
    job *j = calloc(1, sizeof(*j));
    if (!j) {
        free(body);
        return LIFELINE_ERR_NO_MEMORY;
    }
    j->channel = channel;
    j->kind = kind;
    j->body = body;
    j->url = strdup(url);
    j->bearer = bearer ? strdup(bearer) : NULL;
    if (!j->url || (bearer && !j->bearer)) {
        free_job(j);
        return LIFELINE_ERR_NO_MEMORY;
    }
    int rc = LIFELINE_OK;
    pthread_mutex_lock(&n->mu);
    if (n->stopping)
        rc = LIFELINE_ERR_STOPPED;
    else if (is_gone_locked(n, url))
        rc = LIFELINE_ERR_NOTIFY_GONE;
    else if (n->count >= n->o.queue_max)
        rc = LIFELINE_ERR_QUEUE_FULL;
    if (rc == LIFELINE_OK) {
        if (n->tail)
            n->tail->next = j;
        else
            n->head = j;
        n->tail = j;
        n->count++;
        pthread_cond_broadcast(&n->cv);
    }
    pthread_mutex_unlock(&n->mu);
    if (rc != LIFELINE_OK)
        free_job(j);
    return rc;
}

/* ---- one HTTP attempt ------------------------------------------------------ */

typedef struct reply {
    char body[BODY_MAX + 1];
    size_t len;
    char retry_after[64];
    ll_notifier *n;
} reply;

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    reply *r = ud;
    size_t len = size * nmemb, room = BODY_MAX - r->len;
    size_t take = len < room ? len : room; /* bounded: the rest is dropped */
    memcpy(r->body + r->len, p, take);
    r->len += take;
    r->body[r->len] = 0;
    return len;
}

/* Each header line of the answer; the Retry-After is kept. A status line
 * starts another answer's headers (a "100 Continue" comes before the real
 * one): only the last answer's Retry-After counts. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    reply *r = ud;
    size_t len = size * nmemb;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0)
        r->retry_after[0] = '\0';
    else
        ll_http_header_value(p, len, "Retry-After", r->retry_after, sizeof(r->retry_after));
    return len;
}

/* Abort a transfer once the notifier is stopping and its deadline passed. */
static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    reply *r = ud;
    pthread_mutex_lock(&r->n->mu);
    int abort_now = r->n->stopping && mono_ms() >= r->n->deadline;
    pthread_mutex_unlock(&r->n->mu);
    return abort_now;
}

static int attempt(ll_notifier *n, const job *j, reply *r, long *status, char *err, size_t errlen)
{
    CURL *c = n->curl;
    curl_easy_reset(c);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    char auth[512];
    if (j->bearer) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", j->bearer);
        h = curl_slist_append(h, auth);
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, j->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, j->body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, n->o.connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, n->o.total_timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, r);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "lifeline/" LIFELINE_VERSION_STRING);
    CURLcode rc = curl_easy_perform(c);
    *status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(h);
    /* curl's own text names hosts and ports, never the path with the token */
    snprintf(err, errlen, "%s", rc == CURLE_OK ? "" : curl_easy_strerror(rc));
    return rc == CURLE_OK;
}

/* Wait ms, or less if the notifier is told to stop; returns 0 if stopping. */
static int pause_ms(ll_notifier *n, int64_t ms)
{
    int64_t until = mono_ms() + ms;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = (int64_t)ts.tv_nsec + ms * 1000000;
    ts.tv_sec += (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    pthread_mutex_lock(&n->mu);
    while (!n->stopping && mono_ms() < until)
        if (pthread_cond_timedwait(&n->cv, &n->mu, &ts) == ETIMEDOUT)
            break;
    int go_on = !n->stopping;
    pthread_mutex_unlock(&n->mu);
    return go_on;
}

static void deliver(ll_notifier *n, job *j)
{
    ll_notify_result res = {.channel = j->channel, .kind = j->kind};
    char where[128], err[CURL_ERROR_SIZE + 32];
    target(j, where, sizeof(where));
    int failures = 0, limited = 0;
    reply *rp = calloc(1, sizeof(*rp)); /* 16 KiB: off the stack */
    if (!rp) {
        res.detail = "out of memory";
        if (n->o.done)
            n->o.done(n->o.ud, &res);
        return;
    }
    rp->n = n;
    for (;;) {
        pthread_mutex_lock(&n->mu);
        int gone = is_gone_locked(n, j->url);
        pthread_mutex_unlock(&n->mu);
        if (gone) {
            res.gone = 1;
            res.detail = "webhook gone (404)";
            break;
        }
        rp->len = 0;
        rp->body[0] = 0;
        rp->retry_after[0] = 0;
        res.attempts++;
        long status = 0;
        int ok = attempt(n, j, rp, &status, err, sizeof(err));
        res.http_status = status;
        int64_t wait = 0;
        ll_verdict v = ll_notify_decide(&n->o.retry, j->channel == LL_CHANNEL_DISCORD, ok, status,
                                        rp->len ? rp->body : NULL,
                                        rp->retry_after[0] ? rp->retry_after : NULL, failures,
                                        limited, &wait);
        if (v == LL_VERDICT_OK) {
            res.ok = 1;
            res.detail = "delivered";
            logf_(n, LIFELINE_LOG_DEBUG, "%s: delivered (HTTP %ld)", where, status);
            break;
        }
        if (v == LL_VERDICT_GONE) {
            pthread_mutex_lock(&n->mu);
            if (n->n_gone < GONE_MAX && !is_gone_locked(n, j->url))
                n->gone[n->n_gone++] = strdup(j->url);
            pthread_mutex_unlock(&n->mu);
            logf_(n, LIFELINE_LOG_ERROR, "%s answered 404: the webhook is gone; not using it again",
                  where);
            res.gone = 1;
            res.detail = "webhook gone (404)";
            break;
        }
        if (v == LL_VERDICT_FAIL) {
            logf_(n, LIFELINE_LOG_WARN, "%s: giving up (HTTP %ld%s%s)", where, status,
                  ok ? "" : ", ", ok ? "" : err);
            res.detail = ok ? "refused" : "unreachable";
            break;
        }
        if (status == 429)
            limited++;
        else
            failures++;
        logf_(n, LIFELINE_LOG_INFO, "%s: %s%s, retrying in %lld ms", where,
              status == 429 ? "rate limited" : ok ? "server error" : "unreachable: ",
              ok ? "" : err, (long long)wait);
        if (!pause_ms(n, wait)) {
            res.detail = "shutdown";
            break;
        }
    }
    free(rp);
    if (n->o.done)
        n->o.done(n->o.ud, &res);
}

static void *worker(void *arg)
{
    ll_notifier *n = arg;
    for (;;) {
        pthread_mutex_lock(&n->mu);
        while (!n->head && !n->stopping)
            pthread_cond_wait(&n->cv, &n->mu);
        job *j = n->head;
        if (j) {
            n->head = j->next;
            if (!n->head)
                n->tail = NULL;
            n->count--;
        }
        int late = n->stopping && mono_ms() >= n->deadline;
        pthread_mutex_unlock(&n->mu);
        if (!j)
            break; /* stopping and nothing left */
        if (late) {
            ll_notify_result res = {.channel = j->channel, .kind = j->kind, .detail = "shutdown"};
            if (n->o.done)
                n->o.done(n->o.ud, &res);
        } else {
            deliver(n, j);
        }
        free_job(j);
    }
    return NULL;
}

int ll_notifier_new(const ll_notifier_opts *o, ll_notifier **out)
{
    *out = NULL;
    pthread_once(&curl_once, curl_init_once);
    ll_notifier *n = calloc(1, sizeof(*n));
    if (!n)
        return LIFELINE_ERR_NO_MEMORY;
    n->o = *o;
    n->curl = curl_easy_init();
    if (!n->curl) {
        free(n);
        return LIFELINE_ERR_NO_MEMORY;
    }
    pthread_mutex_init(&n->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&n->thread, NULL, worker, n) != 0) {
        curl_easy_cleanup(n->curl);
        pthread_cond_destroy(&n->cv);
        pthread_mutex_destroy(&n->mu);
        free(n);
        return LIFELINE_ERR_SYSTEM;
    }
    *out = n;
    return LIFELINE_OK;
}

void ll_notifier_free(ll_notifier *n, int wait_ms)
{
    if (!n)
        return;
    pthread_mutex_lock(&n->mu);
    n->stopping = 1;
    n->deadline = mono_ms() + (wait_ms > 0 ? wait_ms : 0);
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
    pthread_join(n->thread, NULL);
    curl_easy_cleanup(n->curl);
    for (size_t i = 0; i < n->n_gone; i++)
        free(n->gone[i]);
    pthread_cond_destroy(&n->cv);
    pthread_mutex_destroy(&n->mu);
    free(n);
}
