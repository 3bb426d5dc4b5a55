/* The client's log: lines from inside lifeline, redacted and cut, to
 * on_log; lines made where on_log cannot be called (another thread, under a
 * lock) kept for the loop thread; the transport's lines. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_impl.h"

/* A log line's longest, NUL included: longer lines are cut, after their
 * redaction (a secret cut in half would escape it). */
#define LL_LOG_LINE_MAX 1024

void ll_client_log(lifeline_client *c, int level, const char *fmt, ...)
{
    if (!c->cfg.on_log || level > c->cfg.log_level || ll_client_quiet(c))
        return;
    /* redact the whole line first, then cut it: a secret cut in half by
     * the length limit would escape the redaction */
    char small[LL_LOG_LINE_MAX], clean[LL_LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    char *raw = small;
    if (n >= (int)sizeof(small)) {
        raw = malloc((size_t)n + 1);
        if (!raw)
            return;
        va_start(ap, fmt);
        vsnprintf(raw, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    char *full = raw == small ? clean : malloc((size_t)n + 1);
    if (!full) {
        free(raw);
        return;
    }
    ll_redact(raw, full, (size_t)n + 1 > sizeof(clean) ? (size_t)n + 1 : sizeof(clean),
              c->secrets.list, c->secrets.count);
    if (full != clean) {
        snprintf(clean, sizeof(clean), "%s", full);
        free(full);
        free(raw);
    }
    c->cfg.on_log(c, level, clean, c->cfg.user_data);
}

void ll_client_log_later(lifeline_client *c, int level, const char *line)
{
    if (!c->cfg.on_log || level > c->cfg.log_level)
        return;
    pthread_mutex_lock(&c->mu);
    int post = !c->notify_closing && !c->free_by;
    if (c->n_pending_logs < LL_PENDING_LOG_LINES) {
        snprintf(c->pending_logs[c->n_pending_logs], sizeof(c->pending_logs[0]), "%s", line);
        c->pending_log_levels[c->n_pending_logs++] = level;
    } else {
        c->pending_logs_dropped++; /* said when there is room again */
    }
    pthread_mutex_unlock(&c->mu);
    if (post)
        ll_client_post(c, LL_CMD_NOTIFY);
}

void ll_client_flush_logs(lifeline_client *c)
{
    char lines[LL_PENDING_LOG_LINES][LL_PENDING_LOG_MAX];
    int levels[LL_PENDING_LOG_LINES];
    pthread_mutex_lock(&c->mu);
    size_t n = c->n_pending_logs, dropped = c->pending_logs_dropped;
    memcpy(lines, c->pending_logs, n * sizeof(lines[0]));
    memcpy(levels, c->pending_log_levels, n * sizeof(levels[0]));
    c->n_pending_logs = 0;
    c->pending_logs_dropped = 0;
    pthread_mutex_unlock(&c->mu);
    for (size_t i = 0; i < n; i++)
        ll_client_log(c, levels[i], "%s", lines[i]);
    if (dropped)
        ll_client_log(c, LIFELINE_LOG_WARN, "%zu log lines dropped (more than %d waiting)",
                      dropped, LL_PENDING_LOG_LINES);
}

void ll_client_on_log(void *owner, int level, const char *line)
{
    ll_client_log(owner, level, "%s", line);
}
