/* The public header compiles alone, with nothing before it, and links
 * against the shared library's exported symbols only. */
#include <lifeline/lifeline.h>

#include <string.h>

int main(void)
{
    lifeline_config cfg;
    lifeline_config_init(&cfg);
    cfg.url = "ws://127.0.0.1:1/ws";
    if (lifeline_config_validate(&cfg) != LIFELINE_OK)
        return 1;
    if (strcmp(lifeline_version(), LIFELINE_VERSION_STRING) != 0)
        return 1;
    return lifeline_version_number() == LIFELINE_VERSION_NUMBER ? 0 : 1;
}
