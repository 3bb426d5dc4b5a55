/* The delay_pongs gate; see gate.h. */
#include "server/gate.h"

bool ll_gate_step(ll_gate *g, int64_t now, bool data_waiting, bool busy, int64_t delay_ms)
{
    if (g->state == LL_GATE_OPEN && busy)
        return true;
    if (g->state != LL_GATE_WAITING) {
        /* held, or open for its one step: wait afresh for what is there */
        if (!data_waiting) {
            g->state = LL_GATE_HELD;
            return false;
        }
        g->state = LL_GATE_WAITING;
        g->since_ms = now;
    }
    if (now - g->since_ms >= delay_ms) {
        g->state = LL_GATE_OPEN;
        g->since_ms = now;
        return true;
    }
    return false;
}
