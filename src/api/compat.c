/* Binary compatibility with programs built against the 0.1 development
 * headers, which declared lifeline_config_init() and lifeline_client_stats()
 * as functions: such a program calls these symbols, and its structs are
 * laid out as those headers declared them. So these fill exactly the 0.1
 * sizes, however the structs grow; the public header now makes both names
 * macros passing the caller's size to the _sized functions, and does not
 * declare these. */
#include "api/config.h"

void(lifeline_config_init)(lifeline_config *cfg)
{
    lifeline_config_init_sized(cfg, LL_CONFIG_SIZE_0_1);
}

int(lifeline_client_stats)(lifeline_client *client, lifeline_stats *out)
{
    return lifeline_client_stats_sized(client, out, LL_STATS_SIZE_0_1);
}
