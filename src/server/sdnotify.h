/* systemd's notify protocol (sd_notify(3)) without libsystemd: a unit with
 * Type=notify learns that the server listens (READY=1) and that it is
 * stopping (STOPPING=1) from one datagram each, sent to the AF_UNIX socket
 * that systemd names in $NOTIFY_SOCKET. Any thread; no state. */
#ifndef SRV_SDNOTIFY_H
#define SRV_SDNOTIFY_H

/* Sends state, newline-separated "KEY=value" lines ("READY=1"), in one
 * datagram to the socket named socket_name: a path, or with a leading '@'
 * a name in the abstract namespace. Returns 1 when sent; 0 when
 * socket_name is NULL or empty (not started by systemd: nothing to do); -1
 * with errno set when it could not be sent (EINVAL: not a socket name). */
int srv_sd_notify(const char *socket_name, const char *state);

#endif
