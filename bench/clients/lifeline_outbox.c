/* The client's outbox (src/store/outbox.h) on this machine's disk: appends
 * per second from 1 and from 8 threads, at synchronous=NORMAL and FULL
 * (each append returns once committed; concurrent appends share a
 * commit), the commits they took and the append latency; then the bytes a
 * queued message costs in the file. Linked with the static store library
 * (the outbox is internal). Prints a table on stderr and one JSON object.
 *   --dir FOLDER (on the disk to measure)  --seconds 2  --size 256
 *   --threads 1,8  --kinds normal,full,memory  --no-sizes */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_common.h"
#include "lifeline/lifeline.h"
#include "store/outbox.h"

#define MAX_THREADS 64
#define MAX_SAMPLES 2000000

typedef struct worker {
    ll_outbox *o;
    atomic_int *stop;
    size_t size;
    long appends, failures;
    int64_t *lat; /* microseconds, one per append (up to cap) */
    size_t n_lat, cap_lat;
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    unsigned char payload[65536];
    memset(payload, 'p', sizeof(payload));
    while (!atomic_load(w->stop)) {
        uint64_t seq;
        int64_t t = now_us();
        if (ll_outbox_append(w->o, 1, payload, w->size, &seq, NULL, NULL) != LIFELINE_OK) {
            w->failures++;
            continue;
        }
        if (w->n_lat < w->cap_lat)
            w->lat[w->n_lat++] = now_us() - t;
        w->appends++;
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static long long fsize(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static void remove_outbox(const char *path)
{
    char p[1100];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

static ll_outbox *open_outbox(const char *path, int durability)
{
    ll_outbox_options opt;
    memset(&opt, 0, sizeof(opt));
    opt.path = path;
    opt.durability = durability;
    opt.policy = LL_OUTBOX_REJECT_NEW;
    opt.max_messages = 100000000;
    opt.max_bytes = (size_t)1 << 40;
    memset(opt.new_session, 7, sizeof(opt.new_session));
    int err;
    char why[512];
    ll_outbox *o = ll_outbox_open(&opt, &err, why, sizeof(why));
    if (!o) {
        fprintf(stderr, "lifeline_outbox: %s\n", why);
        exit(1);
    }
    return o;
}

/* One run: threads appending size-byte messages for seconds; one JSON
 * object to out. */
static void run_appends(const char *dir, const char *backend, int durability, int threads,
                        size_t size, double seconds, FILE *out, int first)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/outbox-bench.db", dir);
    remove_outbox(path);
    int on_file = strcmp(backend, "file") == 0;
    ll_outbox *o = on_file ? open_outbox(path, durability) : NULL;
    if (!on_file) {
        ll_outbox_options opt;
        memset(&opt, 0, sizeof(opt));
        opt.max_messages = 100000000;
        opt.max_bytes = (size_t)1 << 40;
        int err;
        o = ll_outbox_open(&opt, &err, NULL, 0);
    }
    atomic_int stop = 0;
    worker w[MAX_THREADS];
    pthread_t t[MAX_THREADS];
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){.o = o, .stop = &stop, .size = size, .cap_lat = MAX_SAMPLES / threads};
        w[i].lat = malloc(w[i].cap_lat * sizeof(int64_t));
    }
    double cpu0 = cpu_s();
    int64_t t0 = now_us();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, run_worker, &w[i]);
    usleep((useconds_t)(seconds * 1e6));
    atomic_store(&stop, 1);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    int64_t t1 = now_us();
    double cpu = cpu_s() - cpu0;
    long appends = 0, failures = 0;
    size_t n_lat = 0;
    for (int i = 0; i < threads; i++) {
        appends += w[i].appends;
        failures += w[i].failures;
        n_lat += w[i].n_lat;
    }
    int64_t *lat = malloc((n_lat ? n_lat : 1) * sizeof(int64_t));
    size_t k = 0;
    for (int i = 0; i < threads; i++) {
        memcpy(lat + k, w[i].lat, w[i].n_lat * sizeof(int64_t));
        k += w[i].n_lat;
        free(w[i].lat);
    }
    qsort(lat, n_lat, sizeof(int64_t), cmp_i64);
    ll_outbox_stats st;
    ll_outbox_get_stats(o, &st);
    ll_outbox_close(o);
    remove_outbox(path);
    double secs = (double)(t1 - t0) / 1e6;
    const char *dur = !on_file ? "-" : durability == LL_OUTBOX_FULL ? "FULL" : "NORMAL";
    double per_commit = st.batches ? (double)st.appended / (double)st.batches : 0;
    long long p50 = n_lat ? (long long)lat[n_lat / 2] : 0;
    long long p99 = n_lat ? (long long)lat[n_lat * 99 / 100] : 0;
    fprintf(stderr, "%-6s %-6s %2d thread(s) %5zu B: %9.0f appends/s, %8llu commits "
                    "(%.1f appends each), latency p50 %lld us p99 %lld us, CPU %.2f s%s\n",
            backend, dur, threads, size, (double)appends / secs, (unsigned long long)st.commits,
            per_commit, p50, p99, cpu, failures ? " (FAILURES)" : "");
    fprintf(out,
            "%s{\"backend\": \"%s\", \"durability\": \"%s\", \"threads\": %d, \"size\": %zu, "
            "\"seconds\": %.3f, \"appends\": %ld, \"appends_per_s\": %.0f, \"commits\": %llu, "
            "\"appends_per_commit\": %.2f, \"largest_batch\": %llu, \"latency_p50_us\": %lld, "
            "\"latency_p99_us\": %lld, \"cpu_s\": %.3f, \"failures\": %ld}",
            first ? "" : ", ", backend, dur, threads, size, secs, appends,
            (double)appends / secs, (unsigned long long)st.commits, per_commit,
            (unsigned long long)st.largest_batch, p50, p99, cpu, failures);
    free(lat);
}

/* Bytes per queued message: n messages of size bytes held (none acked),
 * the file and its WAL while open, then the file alone once closed (the
 * WAL checkpointed into it and removed). */
static void run_size(const char *dir, size_t size, long n, FILE *out, int first)
{
    char path[1024], wal[1100];
    snprintf(path, sizeof(path), "%s/outbox-size.db", dir);
    snprintf(wal, sizeof(wal), "%s-wal", path);
    remove_outbox(path);
    ll_outbox *o = open_outbox(path, LL_OUTBOX_NORMAL);
    long long empty = fsize(path) + fsize(wal);
    unsigned char payload[65536];
    memset(payload, 's', sizeof(payload));
    for (long i = 0; i < n; i++) {
        uint64_t seq;
        if (ll_outbox_append(o, 1, payload, size, &seq, NULL, NULL) != LIFELINE_OK) {
            fprintf(stderr, "lifeline_outbox: append failed\n");
            exit(1);
        }
    }
    long long open_bytes = fsize(path) + fsize(wal);
    ll_outbox_close(o);
    long long rest = fsize(path) + fsize(wal);
    remove_outbox(path);
    fprintf(stderr, "size %5zu B x %ld held: %.0f B per message in the file at rest "
                    "(%.0f with the WAL while open; empty outbox %lld B)\n",
            size, n, (double)(rest - empty) / (double)n,
            (double)(open_bytes - empty) / (double)n, empty);
    fprintf(out,
            "%s{\"size\": %zu, \"messages\": %ld, \"empty_bytes\": %lld, \"open_bytes\": %lld, "
            "\"rest_bytes\": %lld, \"bytes_per_message_rest\": %.1f, "
            "\"bytes_per_message_open\": %.1f}",
            first ? "" : ", ", size, n, empty, open_bytes, rest,
            (double)(rest - empty) / (double)n, (double)(open_bytes - empty) / (double)n);
}

int main(int argc, char **argv)
{
    const char *dir = "/tmp";
    double seconds = 2;
    size_t size = 256;
    char threads_list[64] = "1,8";
    const char *kinds_list = "normal,full,memory";
    int sizes_too = 1;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--no-sizes"))
            sizes_too = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--no-sizes")) {
            i--;
            continue;
        }
        if (!strcmp(argv[i], "--dir"))
            dir = argv[i + 1];
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--size"))
            size = (size_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--kinds"))
            kinds_list = argv[i + 1];
        else if (!strcmp(argv[i], "--threads"))
            snprintf(threads_list, sizeof(threads_list), "%s", argv[i + 1]);
    }
    if (size > 65536)
        size = 65536;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    fprintf(out, "{\"dir\": \"%s\", \"runs\": [", dir);
    int first = 1;
    static const struct {
        const char *name, *backend;
        int durability;
    } kinds[] = {{"normal", "file", LL_OUTBOX_NORMAL},
                 {"full", "file", LL_OUTBOX_FULL},
                 {"memory", "memory", 0}};
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        if (!strstr(kinds_list, kinds[k].name))
            continue;
        char list[64];
        snprintf(list, sizeof(list), "%s", threads_list);
        for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
            int n = atoi(tok);
            if (n < 1 || n > MAX_THREADS)
                continue;
            run_appends(dir, kinds[k].backend, kinds[k].durability, n, size, seconds, out, first);
            first = 0;
        }
    }
    fprintf(out, "], \"sizes\": [");
    const size_t sizes[] = {64, 256, 1024};
    for (size_t i = 0; sizes_too && i < sizeof(sizes) / sizeof(sizes[0]); i++)
        run_size(dir, sizes[i], 10000, out, i == 0);
    fprintf(out, "]}\n");
    fclose(out);
    fputs(buf, stdout);
    free(buf);
    return 0;
}
