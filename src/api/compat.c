/* Binary compatibility with programs built against the 0.1 development
 * headers, which declared lifeline_config_init() and lifeline_client_stats()
 * as functions: such a program calls these symbols, and its structs are
 * laid out as those headers declared them. So these fill exactly the 0.1
 * sizes, however the structs grow; the public header now makes both names
 * macros passing the caller's size to the _sized functions, and does not
 * declare these. */
#include "api/config.h"

/* A field appended after 0.1 must not land in the tail padding of a 0.1
 * struct: the library would take the padding bytes of a 0.1 program's
 * struct for that field. Neither struct has tail padding (both end with an
 * 8-byte field), so whatever is appended starts at or past the 0.1 size.
 * Each later release's boundary needs the same assertion. */
_Static_assert(LL_CONFIG_SIZE_0_1 % _Alignof(lifeline_config) == 0,
               "lifeline_config of 0.1 ends in tail padding");
_Static_assert(LL_STATS_SIZE_0_1 % _Alignof(lifeline_stats) == 0,
               "lifeline_stats of 0.1 ends in tail padding");

void(lifeline_config_init)(lifeline_config *cfg)
{
    lifeline_config_init_sized(cfg, LL_CONFIG_SIZE_0_1);
}

int(lifeline_client_stats)(lifeline_client *client, lifeline_stats *out)
{
    return lifeline_client_stats_sized(client, out, LL_STATS_SIZE_0_1);
}
