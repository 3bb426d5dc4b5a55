/* lifeline_strerror() and lifeline_error_name(), both generated from
 * LIFELINE_ERROR_MAP so the enum and its texts cannot drift apart. */
#include "lifeline/lifeline.h"

const char *lifeline_strerror(int err)
{
    switch (err) {
#define XX(name, value, msg)                                                   \
    case value:                                                                \
        return msg;
        LIFELINE_ERROR_MAP(XX)
#undef XX
    default:
        return "unknown error";
    }
}

const char *lifeline_error_name(int err)
{
    switch (err) {
#define XX(name, value, msg)                                                   \
    case value:                                                                \
        return #name;
        LIFELINE_ERROR_MAP(XX)
#undef XX
    default:
        return "UNKNOWN";
    }
}
