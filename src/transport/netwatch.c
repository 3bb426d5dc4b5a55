/* The loop's network watcher: one NETLINK_ROUTE socket per loop, shared by
 * the connections that ask (ll_conn_watch_network()), opened with the
 * first and kept until the loop ends (what it reads while no member
 * watches is dropped). libwebsockets watches it as a raw file
 * descriptor (LWS_ADOPT_RAW_FILE_DESC: any event library it runs on, the
 * own thread's poll() included); when it is readable this reads what is
 * queued (bounded), asks rtnl.c whether any of it matters, and reports one
 * LL_EV_NETWORK_CHANGED to each watching connection: one event per
 * reading, however many messages came together (the core's window does
 * the rest). Loop thread only. Linux only: elsewhere watching is a no-op. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transport/conn.h"
#include "transport/rtnl.h"

#ifdef __linux__
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#endif

/* One reading takes at most this many datagrams (the rest, if any, at the
 * next), of at most this many bytes each (a longer one is cut: its first
 * messages are read, the rest dropped). */
#define LL_NETWATCH_READS 32
#define LL_NETWATCH_DATAGRAM 16384
/* The most watching connections one report reaches without allocating. */
#define LL_NETWATCH_BATCH 64

#ifdef __linux__

static int open_socket(void)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    if (fd < 0)
        return -1;
    struct sockaddr_nl sa;
    memset(&sa, 0, sizeof(sa));
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
                   RTMGRP_IPV6_ROUTE;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Read what is queued: 1 and *ch when something relevant came (a lost
 * message, the socket's buffer overrun, counts: it may have been one). */
static int drain_socket(int fd, ll_rtnl_change *ch)
{
    static __thread unsigned char buf[LL_NETWATCH_DATAGRAM];
    int relevant = 0;
    memset(ch, 0, sizeof(*ch));
    for (int i = 0; i < LL_NETWATCH_READS; i++) {
        struct sockaddr_nl from;
        socklen_t fl = sizeof(from);
        ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
        if (n < 0) {
            if (errno == ENOBUFS) { /* the kernel dropped some: assume a change */
                relevant = 1;
                continue;
            }
            break; /* EAGAIN: all read */
        }
        if (fl < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
            continue; /* the kernel's messages only */
        ll_rtnl_change one;
        if (ll_rtnl_parse(buf, (size_t)n, &one) && !relevant) {
            *ch = one;
            relevant = 1;
        } else if (one.count) {
            ch->count += one.count;
        }
    }
    return relevant;
}

/* Tell each watching member, in their own words: a log line and the core
 * event. The list is taken under the lock; a member is not freed
 * meanwhile (another thread frees a connection only once this thread has
 * abandoned it, and abandoning clears its watch under the lock). */
static void report(ll_loop *l, const ll_rtnl_change *ch)
{
    ll_conn *small[LL_NETWATCH_BATCH], **list = small;
    size_t n = 0;
    pthread_mutex_lock(&l->mu);
    for (ll_conn *c = l->members; c; c = c->next_member)
        n += c->net_watch;
    if (n > LL_NETWATCH_BATCH && !(list = malloc(n * sizeof(*list)))) {
        list = small; /* out of memory: these now */
        n = LL_NETWATCH_BATCH;
    }
    size_t k = 0;
    for (ll_conn *c = l->members; c && k < n; c = c->next_member)
        if (c->net_watch)
            list[k++] = c;
    pthread_mutex_unlock(&l->mu);
    for (size_t i = 0; i < k; i++) {
        ll_conn *c = list[i];
        if (c->abandoned || !c->net_watch)
            continue;
        if (ch->kind)
            ll_conn_log(c, LIFELINE_LOG_INFO, "network changed: %s (interface %d, %d message%s)",
                        ll_rtnl_kind_name(ch->kind), ch->ifindex, ch->count,
                        ch->count == 1 ? "" : "s");
        else
            ll_conn_log(c, LIFELINE_LOG_INFO, "network changed: netlink messages lost");
        ll_conn_report(c, &(ll_event){.type = LL_EV_NETWORK_CHANGED}, 0);
    }
    if (list != small)
        free(list);
}

int ll_netwatch_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                         void *in, size_t len)
{
    (void)user;
    (void)in;
    (void)len;
    ll_loop *l = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE: {
        if (!l || l->netwatch != wsi)
            return -1; /* let go of: close it */
        ll_rtnl_change ch;
        if (drain_socket(lws_get_socket_fd(wsi), &ch) && l->n_watching)
            report(l, &ch);
        break;
    }
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if (l && l->netwatch == wsi) /* closed under us (the context ends) */
            l->netwatch = NULL;
        break;
    default:
        break;
    }
    return 0;
}

static int start(ll_loop *l, ll_conn *c)
{
    int fd = open_socket();
    if (fd < 0) {
        ll_conn_log(c, LIFELINE_LOG_WARN,
                    "network watch off: no rtnetlink socket (%s); reconnection waits run "
                    "their course unless the app calls lifeline_client_network_changed()",
                    strerror(errno));
        return -1;
    }
    ll_conn_opts plain;
    memset(&plain, 0, sizeof(plain));
    struct lws_vhost *vh = ll_loop_vhost(l, &plain); /* the default one */
    lws_sock_file_fd_type desc;
    desc.filefd = fd;
    l->netwatch = vh ? lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, desc,
                                                  ll_protocols[2].name, NULL)
                     : NULL;
    if (!l->netwatch) {
        close(fd); /* not adopted: still ours */
        ll_conn_log(c, LIFELINE_LOG_WARN, "network watch off: libwebsockets would not watch it");
        return -1;
    }
    return 0;
}

#else

int ll_netwatch_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                         void *in, size_t len)
{
    (void)wsi;
    (void)reason;
    (void)user;
    (void)in;
    (void)len;
    return 0;
}

static int start(ll_loop *l, ll_conn *c)
{
    (void)l;
    (void)c;
    return -1;
}

#endif

void ll_conn_watch_network(ll_conn *c, int on)
{
    ll_loop *l = c->loop;
    on = on != 0;
    if (c->net_watch == on)
        return;
    /* once open, the socket stays until the loop ends (libwebsockets
     * closes it with the context): clients that come and go on a shared
     * loop do not open and close one each */
    if (on && !l->netwatch && start(l, c) != 0)
        return; /* no watcher: the connection simply hears nothing */
    pthread_mutex_lock(&l->mu);
    c->net_watch = on;
    pthread_mutex_unlock(&l->mu);
    if (on)
        l->n_watching++;
    else
        l->n_watching--;
}
