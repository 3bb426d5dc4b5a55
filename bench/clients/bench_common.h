/* Small helpers shared by the C bench programs: clocks, CPU time, heap,
 * option parsing, sample files. Header-only: each program is one file. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* CLOCK_MONOTONIC in microseconds: the same clock as Python's
 * time.monotonic(), so the driver can compare timestamps across processes. */
static inline int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Wait on cv (mu held) for a change, 10 ms at most, while now_us() is
 * before deadline_us; -1 once past it. */
static inline int bench_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline_us)
{
    if (now_us() >= deadline_us)
        return -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 10 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(cv, mu, &ts);
    return 0;
}

/* User + system CPU seconds of the whole process (every thread). */
static inline double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Bytes of heap in use (glibc mallinfo2: every arena). */
/* The echo clients' measurement: a warm-up, then a timed window of
 * replies, with the RTT of each when one message is in flight. */
typedef struct bench_meter {
    size_t window;            /* messages in flight */
    double warmup_s, seconds; /* warm-up, then the measured window */
    long max;                 /* or this many replies, whichever first */
    int64_t first_send, t0, t1, last_send;
    double cpu0, cpu1;
    long recv, n0, n1;
    int64_t *rtt;
    size_t n_rtt, cap_rtt;
} bench_meter;

/* A reply arrived. Returns 1 when the run is over. */
static inline int bench_account(bench_meter *m)
{
    int64_t now = now_us();
    m->recv++;
    if (m->window == 1 && m->t0 && m->n_rtt < m->cap_rtt)
        m->rtt[m->n_rtt++] = now - m->last_send;
    if (!m->t0 && now - m->first_send >= (int64_t)(m->warmup_s * 1e6)) {
        m->t0 = now;
        m->cpu0 = cpu_s();
        m->n0 = m->recv;
    }
    if (m->t0 && (now - m->t0 >= (int64_t)(m->seconds * 1e6) || m->recv - m->n0 >= m->max)) {
        m->t1 = now;
        m->cpu1 = cpu_s();
        m->n1 = m->recv;
        return 1;
    }
    return 0;
}

static inline size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* Resident set size in KiB, from /proc/self/status. */
static inline long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmRSS:", 6))
            v = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

/* --name value options: returns the value of --name or def. */
static inline const char *opt_str(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return def;
}

static inline double opt_num(int argc, char **argv, const char *name, double def)
{
    const char *v = opt_str(argc, argv, name, NULL);
    return v ? atof(v) : def;
}

/* Write n samples (one integer per line) to path; NULL path: nothing. */
static inline void write_samples(const char *path, const int64_t *v, size_t n)
{
    if (!path)
        return;
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%lld\n", (long long)v[i]);
    fclose(f);
}

/* The measurement options every echo client takes: --window, --seconds,
 * --warmup, --max. */
static inline void bench_meter_args(bench_meter *m, int argc, char **argv)
{
    m->window = (size_t)opt_num(argc, argv, "--window", 1);
    m->seconds = opt_num(argc, argv, "--seconds", 3);
    m->warmup_s = opt_num(argc, argv, "--warmup", 0.5);
    m->max = (long)opt_num(argc, argv, "--max", 1e9);
}

#endif
