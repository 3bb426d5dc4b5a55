/* The rtnetlink reader of the network watcher (src/transport/rtnl.c).
 * Input: one datagram, as a NETLINK_ROUTE socket would deliver it (nothing
 * stops a bug in the kernel, or in this reading of it, from giving any
 * bytes). Properties: it reads within the datagram (ASan), looks at no
 * more than len / 16 messages, says nothing relevant exactly when the
 * count is 0, names a known kind, and reads the same again (pure). */
#include "fuzz.h"
#include "transport/rtnl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ll_rtnl_change a, b;
    int n = ll_rtnl_parse(data, size, &a);
    FUZZ_CHECK(n == a.count && n >= 0);
    FUZZ_CHECK((size_t)n <= size / 16);
    FUZZ_CHECK((n == 0) == (a.kind == LL_RTNL_NONE));
    FUZZ_CHECK(a.kind >= LL_RTNL_NONE && a.kind <= LL_RTNL_ROUTE_REMOVED);
    FUZZ_CHECK(strcmp(ll_rtnl_kind_name(a.kind), "none") != 0 || n == 0);
    FUZZ_CHECK(ll_rtnl_parse(data, size, &b) == n && memcmp(&a, &b, sizeof(a)) == 0);
    return 0;
}
