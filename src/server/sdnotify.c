/* systemd's notify protocol; see sdnotify.h. */
#include "server/sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int srv_sd_notify(const char *socket_name, const char *state)
{
    if (!socket_name || !*socket_name)
        return 0;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    size_t n = strlen(socket_name);
    if ((socket_name[0] != '/' && socket_name[0] != '@') || n < 2 || n >= sizeof(sa.sun_path)) {
        errno = EINVAL;
        return -1;
    }
    memcpy(sa.sun_path, socket_name, n);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract: the name's length counts, no NUL after it */
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    size_t size = strlen(state);
    ssize_t sent = sendto(fd, state, size, MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
    int err = errno;
    close(fd);
    if (sent != (ssize_t)size) {
        errno = sent < 0 ? err : EMSGSIZE;
        return -1;
    }
    return 1;
}
