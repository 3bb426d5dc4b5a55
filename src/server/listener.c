/* The listening socket; see listener.h. */
#include "server/listener.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "server/clock.h"

/* At most this many waiting connections are closed per failed accept: a
 * flood of them is not served in one go, at the other connections' cost
 * (the socket stays readable, and the next pass of the loop goes on). */
#define SRV_REFUSE_BATCH 256

/* The guarded listener of the service thread; NULL on every other thread. */
static _Thread_local srv_listener *guarded;

typedef int (*accept_fn)(int, __SOCKADDR_ARG, socklen_t *__restrict);

static accept_fn real_accept(void)
{
    static accept_fn fn;
    if (!fn)
        fn = (accept_fn)dlsym(RTLD_NEXT, "accept");
    return fn;
}

int srv_listener_find(int port)
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return -1;
    int found = -1;
    for (struct dirent *e; found < 0 && (e = readdir(dir));) {
        int fd = atoi(e->d_name), on = 0;
        struct sockaddr_storage ss;
        socklen_t len = sizeof(on), sslen = sizeof(ss);
        if (fd <= STDERR_FILENO || fd == dirfd(dir) ||
            getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) || !on ||
            getsockname(fd, (struct sockaddr *)&ss, &sslen))
            continue;
        int p = ss.ss_family == AF_INET    ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                : ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                           : -1;
        if (p == port)
            found = fd;
    }
    closedir(dir);
    return found;
}

static int open_spare(void)
{
    return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void srv_listener_guard(srv_listener *l, int fd, const srv_log *log)
{
    l->fd = fd;
    l->spare = fd >= 0 ? open_spare() : -1;
    l->log = log;
    srv_nofd_init(&l->nofd);
    guarded = fd >= 0 ? l : NULL;
    if (fd >= 0 && l->spare < 0)
        srv_log_msg(log, SRV_LOG_WARN, "out_of_descriptors",
                    "cannot open /dev/null as a spare descriptor (%s): out of descriptors, "
                    "waiting connections cannot be closed",
                    strerror(errno));
}

int srv_listener_close(srv_listener *l, struct lws_context *ctx)
{
    /* wsi_from_fd and lws_close_free_wsi: lws-eventlib-exports.h */
    struct lws *w = l->fd >= 0 ? wsi_from_fd(ctx, l->fd) : NULL;
    if (!w)
        return -1;
    l->fd = -1; /* its number may come back as a connection's */
    lws_close_free_wsi(w, LWS_CLOSE_STATUS_NOSTATUS, "drain");
    return 0;
}

void srv_listener_unguard(srv_listener *l)
{
    if (guarded == l)
        guarded = NULL;
    if (l->spare >= 0)
        close(l->spare);
    l->spare = -1;
    l->fd = -1;
}

/* Gives up the spare to accept and close up to SRV_REFUSE_BATCH waiting
 * connections, then takes it back. Returns how many were closed. */
static uint64_t refuse_waiting(srv_listener *l)
{
    if (l->spare < 0)
        return 0;
    close(l->spare);
    uint64_t n = 0;
    while (n < SRV_REFUSE_BATCH) {
        int c = real_accept()(l->fd, NULL, NULL);
        if (c < 0) {
            if (errno == ECONNABORTED || errno == EINTR)
                continue;
            break; /* EAGAIN: none left; EMFILE: another thread took the descriptor */
        }
        close(c); /* a FIN, or an RST if its request came already: not a hang */
        n++;
    }
    l->spare = open_spare();
    return n;
}

static unsigned long long nofile_limit(void)
{
    struct rlimit rl;
    return getrlimit(RLIMIT_NOFILE, &rl) ? 0 : (unsigned long long)rl.rlim_cur;
}

static void log_report(const srv_listener *l, srv_nofd_report r, int err)
{
    switch (r.line) {
    case SRV_NOFD_BEGAN:
        srv_log_msg(l->log, SRV_LOG_WARN, "out_of_descriptors",
                    "out of descriptors (accept: %s; RLIMIT_NOFILE %llu): new connections are "
                    "closed at once until descriptors are free; %llu closed",
                    strerror(err), nofile_limit(), (unsigned long long)r.refused);
        break;
    case SRV_NOFD_GOES_ON:
        srv_log_msg(l->log, SRV_LOG_WARN, "out_of_descriptors",
                    "out of descriptors: %llu connections refused in the last %.1f s",
                    (unsigned long long)r.refused, (double)r.over_ms / 1000.0);
        break;
    case SRV_NOFD_ENDED:
        srv_log_msg(l->log, SRV_LOG_INFO, "descriptors_free",
                    "accepting again: %llu connections refused in the last %.1f s (out of "
                    "descriptors)",
                    (unsigned long long)r.refused, (double)r.over_ms / 1000.0);
        break;
    case SRV_NOFD_QUIET:
        break;
    }
}

/* libwebsockets' accept (rops_handle_POLLIN_listen). Anything but the
 * guarded socket on its thread passes straight through. */
int accept(int fd, __SOCKADDR_ARG addr, socklen_t *__restrict len)
{
    srv_listener *l = guarded;
    if (!l || fd != l->fd || fd < 0)
        return real_accept()(fd, addr, len);
    if (l->spare < 0) /* lost to another thread: taken back first, when one is free */
        l->spare = open_spare();
    int c = real_accept()(fd, addr, len);
    if (c >= 0) {
        int saved = errno;
        log_report(l, srv_nofd_accepted(&l->nofd, srv_clock_mono_ms()), 0);
        errno = saved;
        return c;
    }
    int err = errno;
    if (err != EMFILE && err != ENFILE)
        return -1;
    uint64_t n = refuse_waiting(l);
    log_report(l, srv_nofd_failed(&l->nofd, srv_clock_mono_ms(), n), err);
    errno = EAGAIN; /* libwebsockets stops accepting for this pass, quietly */
    return -1;
}
