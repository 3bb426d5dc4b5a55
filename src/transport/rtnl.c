/* See rtnl.h. The layouts are the kernel's (linux/netlink.h,
 * linux/rtnetlink.h, linux/if_addr.h); every read is bounds-checked
 * against the datagram, and struct fields are copied out (memcpy), never
 * read through a misaligned pointer. */
#include "transport/rtnl.h"

#include <string.h>

#ifdef __linux__
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#endif

const char *ll_rtnl_kind_name(int kind)
{
    switch (kind) {
    case LL_RTNL_LINK_UP:
        return "link up";
    case LL_RTNL_ADDR_ADDED:
        return "address added";
    case LL_RTNL_ROUTE_ADDED:
        return "default route added";
    case LL_RTNL_ROUTE_REMOVED:
        return "default route removed";
    default:
        return "none";
    }
}

#ifdef __linux__

/* The kind of one message whose body (len bytes at body) follows a header
 * of type type; fills family and ifindex. */
static int judge(int type, const unsigned char *body, size_t len, int *family, int *ifindex)
{
    switch (type) {
    case RTM_NEWLINK: {
        struct ifinfomsg ifi;
        if (len < sizeof(ifi))
            return LL_RTNL_NONE;
        memcpy(&ifi, body, sizeof(ifi));
        unsigned up = IFF_UP | IFF_RUNNING;
        if ((ifi.ifi_flags & up) != up || (ifi.ifi_flags & IFF_LOOPBACK))
            return LL_RTNL_NONE;
        *family = AF_UNSPEC;
        *ifindex = ifi.ifi_index;
        return LL_RTNL_LINK_UP;
    }
    case RTM_NEWADDR: {
        struct ifaddrmsg ifa;
        if (len < sizeof(ifa))
            return LL_RTNL_NONE;
        memcpy(&ifa, body, sizeof(ifa));
        if (ifa.ifa_family != AF_INET && ifa.ifa_family != AF_INET6)
            return LL_RTNL_NONE;
        /* link-local and host (loopback) addresses reach no server; a
         * tentative IPv6 address is not usable yet (another NEWADDR comes
         * when DAD is done) */
        if (ifa.ifa_scope != RT_SCOPE_UNIVERSE && ifa.ifa_scope != RT_SCOPE_SITE)
            return LL_RTNL_NONE;
        if (ifa.ifa_flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED))
            return LL_RTNL_NONE;
        *family = ifa.ifa_family;
        *ifindex = (int)ifa.ifa_index;
        return LL_RTNL_ADDR_ADDED;
    }
    case RTM_NEWROUTE:
    case RTM_DELROUTE: {
        struct rtmsg rtm;
        if (len < sizeof(rtm))
            return LL_RTNL_NONE;
        memcpy(&rtm, body, sizeof(rtm));
        if (rtm.rtm_family != AF_INET && rtm.rtm_family != AF_INET6)
            return LL_RTNL_NONE;
        /* a default route; cached clones are not the table changing */
        if (rtm.rtm_dst_len != 0 || rtm.rtm_type != RTN_UNICAST || (rtm.rtm_flags & RTM_F_CLONED))
            return LL_RTNL_NONE;
        *family = rtm.rtm_family;
        *ifindex = 0;
        return type == RTM_NEWROUTE ? LL_RTNL_ROUTE_ADDED : LL_RTNL_ROUTE_REMOVED;
    }
    default:
        return LL_RTNL_NONE;
    }
}

int ll_rtnl_parse(const void *buf, size_t len, ll_rtnl_change *out)
{
    memset(out, 0, sizeof(*out));
    const unsigned char *p = buf;
    size_t off = 0;
    while (len - off >= sizeof(struct nlmsghdr)) {
        struct nlmsghdr h;
        memcpy(&h, p + off, sizeof(h));
        size_t mlen = h.nlmsg_len;
        if (mlen < sizeof(h) || mlen > len - off)
            break; /* malformed: nothing after it can be trusted */
        if (h.nlmsg_type == NLMSG_DONE || h.nlmsg_type == NLMSG_ERROR ||
            h.nlmsg_type == NLMSG_OVERRUN)
            break;
        size_t hdr = NLMSG_HDRLEN; /* the body starts aligned */
        if (mlen >= hdr) {
            int family = 0, ifindex = 0;
            int kind = judge(h.nlmsg_type, p + off + hdr, mlen - hdr, &family, &ifindex);
            if (kind != LL_RTNL_NONE) {
                if (out->count++ == 0) {
                    out->kind = kind;
                    out->family = family;
                    out->ifindex = ifindex;
                }
            }
        }
        size_t step = NLMSG_ALIGN(mlen);
        if (step > len - off)
            break; /* the last message, unpadded */
        off += step; /* at least sizeof(h): the loop ends */
    }
    return out->count;
}

#else

int ll_rtnl_parse(const void *buf, size_t len, ll_rtnl_change *out)
{
    (void)buf;
    (void)len;
    memset(out, 0, sizeof(*out));
    return 0;
}

#endif
