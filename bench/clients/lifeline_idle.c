/* One lifeline client with every default (30 s ping, 10 s timeout),
 * connected and idle: prints {"event":"connected"} once connected, then
 * sleeps until --seconds pass or stdin closes, and prints its pong count.
 * The driver reads the process's context switches, CPU and RSS from /proc
 * around the idle window. */
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <lifeline/lifeline.h>

#include "bench_common.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int connected;

static void on_state(lifeline_client *c, const lifeline_state_info *i, void *ud)
{
    (void)c, (void)ud;
    pthread_mutex_lock(&mu);
    connected = i->new_state == LIFELINE_STATE_CONNECTED;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

int main(int argc, char **argv)
{
    const char *url = opt_str(argc, argv, "--url", NULL);
    double seconds = opt_num(argc, argv, "--seconds", 130);
    if (!url) {
        fprintf(stderr, "usage: lifeline_idle --url URL [--seconds S]\n");
        return 2;
    }
    lifeline_config cfg;
    lifeline_config_init(&cfg);
    cfg.url = url;
    cfg.on_state = on_state;
    lifeline_client *c;
    if (lifeline_client_new(&cfg, &c) || lifeline_client_start(c))
        return 1;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&mu);
    while (!connected)
        if (pthread_cond_timedwait(&cv, &mu, &until))
            break;
    int ok = connected;
    pthread_mutex_unlock(&mu);
    if (!ok) {
        fprintf(stderr, "lifeline_idle: not connected\n");
        return 1;
    }
    printf("{\"event\":\"connected\"}\n");
    fflush(stdout);
    /* one wait: this thread wakes only when the window ends */
    struct pollfd p = {.fd = 0, .events = POLLIN};
    poll(&p, 1, (int)(seconds * 1000));
    lifeline_stats st;
    lifeline_client_stats(c, &st);
    printf("{\"event\":\"done\",\"pongs\":%llu,\"state\":\"%s\"}\n", (unsigned long long)st.pongs,
           lifeline_state_name(st.state));
    fflush(stdout);
    lifeline_client_free(c);
    return 0;
}
