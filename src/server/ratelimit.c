/* Token buckets for messages and bytes; see ratelimit.h.
 *
 * Tokens are kept in thousandths, so that a rate per second refills
 * rate thousandths per millisecond: integers throughout, exact. */
#include "server/ratelimit.h"

void srv_rl_cfg_init(srv_rl_cfg *cfg)
{
    cfg->msgs_per_s = 0;
    cfg->bytes_per_s = 0;
    cfg->burst_ms = SRV_RL_DEFAULT_BURST_MS;
    cfg->close_after_ms = SRV_RL_DEFAULT_CLOSE_AFTER_MS;
}

bool srv_rl_enabled(const srv_rl_cfg *cfg)
{
    return cfg->msgs_per_s > 0;
}

/* A bucket's size in thousandths: burst_ms of its rate, at least one
 * message (or byte). */
static int64_t capacity(int64_t rate, int64_t burst_ms)
{
    int64_t c = rate * burst_ms;
    return c < 1000 ? 1000 : c;
}

/* len in thousandths of a byte, bounded so that no sum overflows (a
 * message is at most --max-message-bytes, 256 MiB, anyway). */
static int64_t cost_bytes(size_t len)
{
    const uint64_t max = (uint64_t)1 << 40;
    return (int64_t)(len > max ? max : len) * 1000;
}

/* Adds dt ms of rate to *tokens, up to cap. */
static void refill(int64_t *tokens, int64_t rate, int64_t cap, int64_t dt)
{
    if (*tokens >= cap)
        return;
    int64_t need = cap - *tokens;
    if (dt >= need / rate + 1)
        *tokens = cap; /* no product that could overflow after a long idle */
    else
        *tokens += dt * rate;
    if (*tokens > cap)
        *tokens = cap;
}

static void refill_all(srv_rl *rl, const srv_rl_cfg *cfg, int64_t now)
{
    int64_t dt = now - rl->at_ms;
    if (dt <= 0)
        return;
    rl->at_ms = now;
    refill(&rl->msgs, cfg->msgs_per_s, capacity(cfg->msgs_per_s, cfg->burst_ms), dt);
    if (cfg->bytes_per_s > 0)
        refill(&rl->bytes, cfg->bytes_per_s, capacity(cfg->bytes_per_s, cfg->burst_ms), dt);
}

void srv_rl_init(srv_rl *rl, const srv_rl_cfg *cfg, int64_t now)
{
    *rl = (srv_rl){0};
    rl->at_ms = now;
    rl->msgs = capacity(cfg->msgs_per_s, cfg->burst_ms);
    rl->bytes = cfg->bytes_per_s > 0 ? capacity(cfg->bytes_per_s, cfg->burst_ms) : 0;
}

srv_rl_verdict srv_rl_take(srv_rl *rl, const srv_rl_cfg *cfg, size_t len, int64_t now)
{
    if (!srv_rl_enabled(cfg))
        return SRV_RL_PASS;
    refill_all(rl, cfg, now);
    int64_t bytes = cost_bytes(len);
    bool pass = rl->msgs >= 1000;
    if (cfg->bytes_per_s > 0) {
        int64_t cap = capacity(cfg->bytes_per_s, cfg->burst_ms);
        pass = pass && rl->bytes >= (bytes < cap ? bytes : cap);
    }
    if (pass) {
        rl->msgs -= 1000;
        if (cfg->bytes_per_s > 0)
            rl->bytes -= bytes;
        return SRV_RL_PASS;
    }
    rl->dropped++;
    if (!rl->streak || now - rl->drop_ms >= SRV_RL_STREAK_GAP_MS) {
        rl->streak = true;
        rl->streak_ms = now;
    }
    rl->drop_ms = now;
    if (cfg->close_after_ms > 0 && now - rl->streak_ms >= cfg->close_after_ms)
        return SRV_RL_ABUSE;
    if (!rl->told || now - rl->error_ms >= SRV_RL_ERROR_EVERY_MS) {
        rl->told = true;
        rl->error_ms = now;
        return SRV_RL_DROP_NOTIFY;
    }
    return SRV_RL_DROP;
}

/* ceil(deficit / rate) for a positive deficit in thousandths. */
static int64_t wait_ms(int64_t deficit, int64_t rate)
{
    return deficit <= 0 ? 0 : (deficit + rate - 1) / rate;
}

int64_t srv_rl_wait(srv_rl *rl, const srv_rl_cfg *cfg, int64_t now)
{
    if (!srv_rl_enabled(cfg))
        return 0;
    refill_all(rl, cfg, now);
    int64_t wait = wait_ms(1000 - rl->msgs, cfg->msgs_per_s);
    if (cfg->bytes_per_s > 0) {
        int64_t wb = wait_ms(-rl->bytes, cfg->bytes_per_s);
        if (wb > wait)
            wait = wb;
    }
    return wait;
}

int64_t srv_rl_charge(srv_rl *rl, const srv_rl_cfg *cfg, size_t len, int64_t now)
{
    if (!srv_rl_enabled(cfg))
        return 0;
    refill_all(rl, cfg, now);
    rl->msgs -= 1000;
    if (cfg->bytes_per_s > 0)
        rl->bytes -= cost_bytes(len);
    return srv_rl_wait(rl, cfg, now);
}
