/* The library's side of the growing public structs (lifeline.h,
 * "Configuration"): how much of an application's lifeline_config or
 * lifeline_stats the library may touch (client/sized.h, which the client
 * uses too), and the exported functions of the 0.1 headers. */
#ifndef LL_API_CONFIG_H
#define LL_API_CONFIG_H

#include <stddef.h>

#include "client/sized.h"
#include "lifeline/lifeline.h"

/* The exported functions of the 0.1 development headers, which the public
 * header now replaces with macros (hence the parentheses). */
LIFELINE_API void(lifeline_config_init)(lifeline_config *cfg);
LIFELINE_API int(lifeline_client_stats)(lifeline_client *client, lifeline_stats *out);

#endif
