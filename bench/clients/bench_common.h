/* Small helpers shared by the C bench programs: clocks, CPU time, heap,
 * option parsing, sample files. Header-only: each program is one file. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <malloc.h>
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

/* User + system CPU seconds of the whole process (every thread). */
static inline double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Bytes of heap in use (glibc mallinfo2: every arena). */
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

#endif
