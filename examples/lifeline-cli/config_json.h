/* --print-config: the effective configuration as one JSON object. */
#ifndef LIFELINE_CLI_CONFIG_JSON_H
#define LIFELINE_CLI_CONFIG_JSON_H

#include "options.h"

/* The configuration o describes, as unformatted JSON whose keys are the
 * option names with '_' for '-'; secrets as *** (lifeline_redact_url()).
 * The caller frees it with cJSON_free(). NULL when out of memory. */
char *config_to_json(const cli_options *o);

#endif
