/* The delay_pongs gate; see gate.h. */
#include "server/gate.h"

bool srv_gate_step(srv_gate *g, int64_t now, bool data_waiting, bool busy, int64_t delay_ms)
{
    if (g->state == SRV_GATE_OPEN && busy)
        return true;
    if (g->state != SRV_GATE_WAITING) {
        /* held, or open for its one step: wait afresh for what is there */
        if (!data_waiting) {
            g->state = SRV_GATE_HELD;
            return false;
        }
        g->state = SRV_GATE_WAITING;
        g->since_ms = now;
    }
    if (now - g->since_ms >= delay_ms) {
        g->state = SRV_GATE_OPEN;
        g->since_ms = now;
        return true;
    }
    return false;
}
