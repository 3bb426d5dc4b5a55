/* lifeline_version(): the version the library was built as. */
#include "lifeline/lifeline.h"

#define LL_STR2(x) #x
#define LL_STR(x) LL_STR2(x)

const char *lifeline_version(void)
{
    return LL_STR(LIFELINE_VERSION_MAJOR) "." LL_STR(LIFELINE_VERSION_MINOR)
        "." LL_STR(LIFELINE_VERSION_PATCH);
}

unsigned lifeline_version_number(void)
{
    return LIFELINE_VERSION_NUMBER;
}
