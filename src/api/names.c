/* Names of the public enums, as used in logs, the CLI's JSON and the
 * bindings. These strings are part of the API: never change one. */
#include "lifeline/lifeline.h"

static const char *name_at(const char *const *names, int count, int value)
{
    return (value >= 0 && value < count) ? names[value] : "unknown";
}

const char *lifeline_state_name(int state)
{
    static const char *const names[LIFELINE_STATE_COUNT] = {
        "idle", "connecting", "connected", "disconnected",
        "error", "server_down", "closed",
    };
    return name_at(names, LIFELINE_STATE_COUNT, state);
}

const char *lifeline_quality_name(int quality)
{
    static const char *const names[] = {"unknown", "excellent", "good", "poor"};
    return name_at(names, 4, quality);
}

const char *lifeline_jitter_mode_name(int mode)
{
    static const char *const names[] = {"additive", "full"};
    return name_at(names, 2, mode);
}

const char *lifeline_queue_policy_name(int policy)
{
    /* REJECT_NEW is "reject": the name the CLI and the bindings have used */
    static const char *const names[] = {"reject", "drop_oldest", "off"};
    return name_at(names, 3, policy);
}

const char *lifeline_delivery_name(int delivery)
{
    static const char *const names[] = {"best_effort", "reliable"};
    return name_at(names, 2, delivery);
}

const char *lifeline_durability_name(int durability)
{
    static const char *const names[] = {"normal", "full"};
    return name_at(names, 2, durability);
}

const char *lifeline_log_level_name(int level)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    return name_at(names, 4, level);
}
