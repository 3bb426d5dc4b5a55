/* See sized.h. */
#include "client/sized.h"

#include <string.h>

int ll_config_widen(const lifeline_config *cfg, lifeline_config *full)
{
    if (!cfg)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    size_t size = cfg->struct_size;
    /* larger: a lifeline.h newer than this library, whose fields past ours
     * this library cannot honour (or a config never initialised) */
    if (size < LL_CONFIG_SIZE_MIN || size > sizeof(*full))
        return LIFELINE_ERR_CONFIG_STRUCT_SIZE;
    lifeline_config_init_sized(full, sizeof(*full));
    memcpy(full, cfg, size);
    full->struct_size = sizeof(*full);
    return LIFELINE_OK;
}
