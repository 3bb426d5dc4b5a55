/* The listening socket; see listener.h. */
#include "server/listener.h"

#include <dirent.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

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

int srv_listener_close(struct lws_context *ctx, int fd)
{
    /* wsi_from_fd and lws_close_free_wsi: lws-eventlib-exports.h */
    struct lws *l = fd >= 0 ? wsi_from_fd(ctx, fd) : NULL;
    if (!l)
        return -1;
    lws_close_free_wsi(l, LWS_CLOSE_STATUS_NOSTATUS, "drain");
    return 0;
}
