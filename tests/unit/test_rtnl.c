/* The rtnetlink reader (src/transport/rtnl.c): datagrams laid out as the
 * kernel sends them, relevant or not, and broken ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include "transport/rtnl.h"

static unsigned char buf[4096];
static size_t used;

/* Append one message of type with body (blen bytes) to buf. */
static void add(int type, const void *body, size_t blen)
{
    struct nlmsghdr h = {.nlmsg_len = (uint32_t)NLMSG_LENGTH(blen), .nlmsg_type = (uint16_t)type};
    memcpy(buf + used, &h, sizeof(h));
    memcpy(buf + used + NLMSG_HDRLEN, body, blen);
    used += NLMSG_SPACE(blen);
}

static void link_msg(unsigned flags, int index)
{
    struct ifinfomsg m = {.ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = flags};
    add(RTM_NEWLINK, &m, sizeof(m));
}

static void addr_msg(int family, int scope, int flags, int index)
{
    struct ifaddrmsg m = {.ifa_family = (uint8_t)family, .ifa_scope = (uint8_t)scope,
                          .ifa_flags = (uint8_t)flags, .ifa_index = (uint32_t)index};
    add(RTM_NEWADDR, &m, sizeof(m));
}

static void route_msg(int type, int family, int dst_len, int rtype, unsigned flags)
{
    struct rtmsg m = {.rtm_family = (uint8_t)family, .rtm_dst_len = (uint8_t)dst_len,
                      .rtm_type = (uint8_t)rtype, .rtm_flags = flags};
    add(type, &m, sizeof(m));
}

static int parse(ll_rtnl_change *ch)
{
    int n = ll_rtnl_parse(buf, used, ch);
    used = 0;
    return n;
}

static void a_link_up_and_running_is_a_change(void **state)
{
    (void)state;
    ll_rtnl_change ch;
    link_msg(IFF_UP | IFF_RUNNING | IFF_BROADCAST, 3);
    assert_int_equal(parse(&ch), 1);
    assert_int_equal(ch.kind, LL_RTNL_LINK_UP);
    assert_int_equal(ch.ifindex, 3);
    link_msg(IFF_UP, 3); /* up, no carrier yet */
    link_msg(0, 3);      /* down */
    link_msg(IFF_UP | IFF_RUNNING | IFF_LOOPBACK, 1);
    assert_int_equal(parse(&ch), 0);
    assert_int_equal(ch.kind, LL_RTNL_NONE);
}

static void a_usable_address_is_a_change(void **state)
{
    (void)state;
    ll_rtnl_change ch;
    addr_msg(AF_INET, RT_SCOPE_UNIVERSE, 0, 2);
    assert_int_equal(parse(&ch), 1);
    assert_int_equal(ch.kind, LL_RTNL_ADDR_ADDED);
    assert_int_equal(ch.family, AF_INET);
    addr_msg(AF_INET6, RT_SCOPE_UNIVERSE, 0, 2);
    assert_int_equal(parse(&ch), 1);
    addr_msg(AF_INET6, RT_SCOPE_LINK, 0, 2);           /* fe80:: */
    addr_msg(AF_INET, RT_SCOPE_HOST, 0, 1);            /* 127.0.0.1 */
    addr_msg(AF_INET6, RT_SCOPE_UNIVERSE, IFA_F_TENTATIVE, 2);
    addr_msg(AF_INET6, RT_SCOPE_UNIVERSE, IFA_F_DADFAILED, 2);
    addr_msg(AF_PACKET, RT_SCOPE_UNIVERSE, 0, 2);
    assert_int_equal(parse(&ch), 0);
}

static void a_default_route_added_or_removed_is_a_change(void **state)
{
    (void)state;
    ll_rtnl_change ch;
    route_msg(RTM_NEWROUTE, AF_INET, 0, RTN_UNICAST, 0);
    assert_int_equal(parse(&ch), 1);
    assert_int_equal(ch.kind, LL_RTNL_ROUTE_ADDED);
    route_msg(RTM_DELROUTE, AF_INET6, 0, RTN_UNICAST, 0);
    assert_int_equal(parse(&ch), 1);
    assert_int_equal(ch.kind, LL_RTNL_ROUTE_REMOVED);
    route_msg(RTM_NEWROUTE, AF_INET, 24, RTN_UNICAST, 0);  /* a prefix route */
    route_msg(RTM_NEWROUTE, AF_INET, 0, RTN_LOCAL, 0);
    route_msg(RTM_NEWROUTE, AF_INET6, 0, RTN_UNICAST, RTM_F_CLONED);
    assert_int_equal(parse(&ch), 0);
}

static void a_burst_in_one_datagram_is_counted_and_the_first_named(void **state)
{
    (void)state;
    ll_rtnl_change ch;
    addr_msg(AF_INET6, RT_SCOPE_LINK, 0, 4);
    link_msg(IFF_UP | IFF_RUNNING, 4);
    addr_msg(AF_INET, RT_SCOPE_UNIVERSE, 0, 4);
    route_msg(RTM_NEWROUTE, AF_INET, 0, RTN_UNICAST, 0);
    assert_int_equal(parse(&ch), 3);
    assert_int_equal(ch.kind, LL_RTNL_LINK_UP);
    assert_int_equal(ch.ifindex, 4);
}

static void broken_datagrams_end_the_reading(void **state)
{
    (void)state;
    ll_rtnl_change ch;
    /* too short for a header */
    assert_int_equal(ll_rtnl_parse(buf, 15, &ch), 0);
    /* a length past the end, then one below the header's */
    link_msg(IFF_UP | IFF_RUNNING, 2);
    struct nlmsghdr h;
    memcpy(&h, buf, sizeof(h));
    h.nlmsg_len = 4096;
    memcpy(buf, &h, sizeof(h));
    assert_int_equal(parse(&ch), 0);
    link_msg(IFF_UP | IFF_RUNNING, 2);
    memcpy(&h, buf, sizeof(h));
    h.nlmsg_len = 8;
    memcpy(buf, &h, sizeof(h));
    assert_int_equal(parse(&ch), 0);
    /* a body too short for its type is skipped, the next read */
    add(RTM_NEWLINK, "ab", 2);
    link_msg(IFF_UP | IFF_RUNNING, 5);
    assert_int_equal(parse(&ch), 1);
    assert_int_equal(ch.ifindex, 5);
    /* NLMSG_DONE ends it */
    add(NLMSG_DONE, "\0\0\0\0", 4);
    link_msg(IFF_UP | IFF_RUNNING, 5);
    assert_int_equal(parse(&ch), 0);
    /* the last message unpadded (its length not a multiple of 4) */
    struct ifinfomsg m = {.ifi_index = 6, .ifi_flags = IFF_UP | IFF_RUNNING};
    add(RTM_NEWLINK, &m, sizeof(m));
    memcpy(&h, buf, sizeof(h));
    h.nlmsg_len += 1;
    memcpy(buf, &h, sizeof(h));
    assert_int_equal(ll_rtnl_parse(buf, h.nlmsg_len, &ch), 1);
    used = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_link_up_and_running_is_a_change),
        cmocka_unit_test(a_usable_address_is_a_change),
        cmocka_unit_test(a_default_route_added_or_removed_is_a_change),
        cmocka_unit_test(a_burst_in_one_datagram_is_counted_and_the_first_named),
        cmocka_unit_test(broken_datagrams_end_the_reading),
    };
    return cmocka_run_group_tests_name("rtnl", tests, NULL, NULL);
}
