/* What an rtnetlink datagram says about the host's network, as far as a
 * client waiting to reconnect cares: did a link come up, an address or a
 * default route appear or go? Pure: no socket, no loop (the watcher that
 * reads the socket is netwatch.c). The input is untrusted bytes, read as
 * the kernel lays them out; tests/fuzz/fuzz_rtnl.c fuzzes it. */
#ifndef LL_TRANSPORT_RTNL_H
#define LL_TRANSPORT_RTNL_H

#include <stddef.h>

typedef enum ll_rtnl_kind {
    LL_RTNL_NONE = 0,
    LL_RTNL_LINK_UP,         /* RTM_NEWLINK of a link up and running
                                (IFF_UP | IFF_RUNNING: carrier), not
                                loopback */
    LL_RTNL_ADDR_ADDED,      /* RTM_NEWADDR of a usable address: scope
                                global or site, not tentative (IPv6 DAD
                                under way) nor failed DAD */
    LL_RTNL_ROUTE_ADDED,     /* RTM_NEWROUTE of a default route (prefix
                                length 0), IPv4 or IPv6 */
    LL_RTNL_ROUTE_REMOVED    /* RTM_DELROUTE of a default route */
} ll_rtnl_kind;

/* The first relevant change in one datagram. */
typedef struct ll_rtnl_change {
    int kind;                /* ll_rtnl_kind */
    int family;              /* AF_INET, AF_INET6, or AF_UNSPEC for a link */
    int ifindex;             /* the interface, 0 when unknown (a route) */
    int count;               /* relevant messages in the datagram */
} ll_rtnl_change;

/* Read the netlink messages in the len bytes at buf (one datagram from a
 * NETLINK_ROUTE socket) and fill *out with the first relevant change and
 * how many there were. A message shorter than its header, or whose length
 * runs past the datagram, ends the reading; a message too short for its
 * body is skipped. Returns out->count (0: nothing relevant). At most
 * len / 16 messages are looked at; nothing is allocated. On a system
 * without rtnetlink it returns 0. Threads: any. */
int ll_rtnl_parse(const void *buf, size_t len, ll_rtnl_change *out);

/* "link up", "address added", "default route added", "default route
 * removed", or "none". Static storage. */
const char *ll_rtnl_kind_name(int kind);

#endif
