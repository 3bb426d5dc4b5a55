/* The library's side of the growing public structs (lifeline.h,
 * "Configuration"): how much of an application's lifeline_config or
 * lifeline_stats the library may touch. The client reads the config and
 * fills the stats with these; api/ checks and initialises with them. */
#ifndef LL_CLIENT_SIZED_H
#define LL_CLIENT_SIZED_H

#include <stddef.h>

#include "lifeline/lifeline.h"

/* The end of a field: its offset plus its size. */
#define LL_END_OF(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/* The smallest structs an application may have: struct_size and the first
 * field (url, the one the config needs; state). What a struct lacks after
 * that gets its default (config) or is not written (stats). */
#define LL_CONFIG_SIZE_MIN LL_END_OF(lifeline_config, url)
#define LL_STATS_SIZE_MIN LL_END_OF(lifeline_stats, state)

/* The structs as the 0.1 development headers declared them, which is what
 * the exported functions lifeline_config_init() and lifeline_client_stats()
 * of those headers fill (api/compat.c). Fields appended later are not in
 * them: these sizes never change. */
#define LL_CONFIG_SIZE_0_1 LL_END_OF(lifeline_config, user_data)
#define LL_STATS_SIZE_0_1 LL_END_OF(lifeline_stats, downtime_ms)

/* *full = the library's defaults, overwritten by the struct_size bytes of
 * *cfg (the fields the application's struct has); full->struct_size is then
 * the library's own size. Returns LIFELINE_OK,
 * LIFELINE_ERR_INVALID_ARGUMENT (cfg NULL) or LIFELINE_ERR_CONFIG_STRUCT_SIZE
 * (struct_size below LL_CONFIG_SIZE_MIN or above the library's size; then
 * nothing past struct_size itself is read). */
int ll_config_widen(const lifeline_config *cfg, lifeline_config *full);

#endif
