/* Names of the core's events and actions, for the tests' traces and
 * failure messages: the library itself never prints them. */
#ifndef LL_TEST_MACHINE_NAMES_H
#define LL_TEST_MACHINE_NAMES_H

#include "core/machine.h"

static inline const char *sim_event_name(int type)
{
    static const char *const names[] = {
        "start", "stop", "reconnect_now", "network_changed", "tick", "opened",
        "connect_failed", "closed", "pong", "probe_ok", "probe_failed",
    };
    _Static_assert(sizeof(names) / sizeof(names[0]) == LL_EV_COUNT, "a name per ll_event_type");
    return type >= 0 && type < LL_EV_COUNT ? names[type] : "unknown";
}

static inline const char *sim_action_name(int type)
{
    static const char *const names[] = {
        "connect", "probe_http", "close", "send_ping", "state",
        "retry", "pong", "quality", "server_down", "recovered",
    };
    _Static_assert(sizeof(names) / sizeof(names[0]) == LL_ACT_COUNT, "a name per ll_action_type");
    return type >= 0 && type < LL_ACT_COUNT ? names[type] : "unknown";
}

#endif
