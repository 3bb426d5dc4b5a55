/* Every state against every event: each pair has a defined outcome (the
 * return code and the state after), written out here as a table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sim.h"

enum { I = LIFELINE_STATE_IDLE, CG = LIFELINE_STATE_CONNECTING, CD = LIFELINE_STATE_CONNECTED,
       D = LIFELINE_STATE_DISCONNECTED, E = LIFELINE_STATE_ERROR,
       SD = LIFELINE_STATE_SERVER_DOWN, CL = LIFELINE_STATE_CLOSED };
#define BAD (-1) /* refused with LIFELINE_ERR_STATE, state unchanged */

/* rows: states in enum order; columns: ll_event_type in enum order.
 * Transport events carry the id of the attempt or connection in flight. */
static const int table[LIFELINE_STATE_COUNT][LL_EV_COUNT] = {
    /*            START STOP RECONN NET TICK OPENED FAILED CLOSED PONG PR_OK PR_FAIL */
    /* idle    */ {CG,  CL,  BAD,   I,  I,   I,     I,     I,     I,   I,    I},
    /* connecting */ {BAD, CL, CG,  CG, D,   CD,    D,     D,     CG,  CG,   CG},
    /* connected */ {BAD, CL,  CD,  CD, D,   CD,    CD,    D,     CD,  CD,   CD},
    /* disconnected */ {BAD, CL, CG, CG, CG, D,     D,     D,     D,   D,    D},
    /* error   */ {CG,  CL,  CG,    E,  E,   E,     E,     E,     E,   E,    E},
    /* server_down */ {BAD, CL, SD, SD, SD,  SD,    SD,    SD,    SD,  SD,   SD},
    /* closed  */ {CG,  CL,  BAD,   CL, CL,  CL,    CL,    CL,    CL,  CL,   CL},
};

static sim S;

static void drive_to(int state)
{
    lifeline_config cfg;
    sim_config(&cfg);
    cfg.max_attempts = 1;
    sim_init(&S, &cfg, 1);
    S.server = SIM_MANUAL;
    uint32_t id;
    switch (state) {
    case I:
        return;
    case CG:
        sim_app(&S, LL_EV_START);
        return;
    case CD:
        sim_app(&S, LL_EV_START);
        sim_event(&S, (ll_event){.type = LL_EV_OPENED, .conn_id = S.core.conn_id});
        return;
    case D:
        sim_app(&S, LL_EV_START);
        sim_event(&S, (ll_event){.type = LL_EV_CONNECT_FAILED, .conn_id = S.core.conn_id});
        return;
    case E:
        sim_app(&S, LL_EV_START);
        sim_event(&S, (ll_event){.type = LL_EV_CONNECT_FAILED, .conn_id = S.core.conn_id,
                                 .permanent = 1, .http_status = 403,
                                 .error = LIFELINE_ERR_HTTP_STATUS});
        return;
    case SD:
        sim_app(&S, LL_EV_START);
        sim_event(&S, (ll_event){.type = LL_EV_CONNECT_FAILED, .conn_id = S.core.conn_id});
        S.now = ll_core_deadline(&S.core);
        sim_app(&S, LL_EV_TICK);
        id = S.core.conn_id;
        sim_event(&S, (ll_event){.type = LL_EV_CONNECT_FAILED, .conn_id = id});
        return;
    case CL:
        sim_app(&S, LL_EV_START);
        sim_app(&S, LL_EV_STOP);
        return;
    }
}

static void every_state_and_event_pair_has_its_outcome(void **state)
{
    (void)state;
    for (int st = 0; st < LIFELINE_STATE_COUNT; st++) {
        for (int ev = 0; ev < LL_EV_COUNT; ev++) {
            drive_to(st);
            assert_int_equal(S.core.state, st);
            S.now += 1;
            if (ev == LL_EV_TICK && ll_core_deadline(&S.core) != LL_NO_DEADLINE)
                S.now = ll_core_deadline(&S.core);
            ll_event e = {.type = (ll_event_type)ev, .conn_id = S.core.conn_id,
                          .seq = S.core.ping_seq, .error = LIFELINE_ERR_CONNECTION_RESET};
            int rc = sim_event(&S, e);
            int want = table[st][ev];
            if (want == BAD) {
                if (rc != LIFELINE_ERR_STATE || S.core.state != st || S.core.n_actions != 0)
                    fail_msg("%s + %s: want refused, got rc %d, state %s",
                             lifeline_state_name(st), sim_event_name(ev), rc,
                             lifeline_state_name(S.core.state));
                continue;
            }
            if (rc != LIFELINE_OK || S.core.state != want)
                fail_msg("%s + %s: want %s, got rc %d, state %s", lifeline_state_name(st),
                         sim_event_name(ev), lifeline_state_name(want), rc,
                         lifeline_state_name(S.core.state));
            int64_t d = ll_core_deadline(&S.core);
            if (d != LL_NO_DEADLINE && d < S.now)
                fail_msg("%s + %s: deadline in the past", lifeline_state_name(st),
                         sim_event_name(ev));
            if (S.core.n_actions > LL_MAX_ACTIONS)
                fail_msg("%s + %s: %zu actions", lifeline_state_name(st), sim_event_name(ev),
                         S.core.n_actions);
        }
    }
}

static void events_about_an_abandoned_attempt_change_nothing(void **state)
{
    (void)state;
    for (int st = 0; st < LIFELINE_STATE_COUNT; st++) {
        for (int ev = LL_EV_OPENED; ev < LL_EV_COUNT; ev++) {
            drive_to(st);
            S.now += 1;
            ll_event e = {.type = (ll_event_type)ev, .conn_id = S.core.conn_id + 100};
            assert_int_equal(sim_event(&S, e), LIFELINE_OK);
            assert_int_equal(S.core.state, st);
            assert_int_equal(S.core.n_actions, 0);
        }
    }
}

static void stop_from_every_state_ends_closed_and_closes_what_is_open(void **state)
{
    (void)state;
    for (int st = 0; st < LIFELINE_STATE_COUNT; st++) {
        drive_to(st);
        int open = S.core.in_flight || st == CD;
        size_t from = S.n_log;
        assert_int_equal(sim_app(&S, LL_EV_STOP), LIFELINE_OK);
        assert_int_equal(S.core.state, CL);
        assert_int_equal(sim_count(&S, LL_ACT_CLOSE, from), (size_t)open);
        if (open)
            assert_int_equal(S.log[sim_find(&S, LL_ACT_CLOSE, 0)].act.close_code, 1000);
        assert_int_equal(ll_core_deadline(&S.core), LL_NO_DEADLINE);
    }
}

static void reconnect_now_from_every_state(void **state)
{
    (void)state;
    /* what it does, state by state: nothing to skip while an attempt or a
     * connection is live; an immediate attempt or probe while waiting */
    const ll_action_type want[LIFELINE_STATE_COUNT] = {
        LL_ACT_COUNT,   /* idle: refused */
        LL_ACT_COUNT,   /* connecting: nothing */
        LL_ACT_COUNT,   /* connected: nothing */
        LL_ACT_CONNECT, /* disconnected: the pending attempt, now */
        LL_ACT_CONNECT, /* error: a fresh start */
        LL_ACT_CONNECT, /* server_down: a probe, now */
        LL_ACT_COUNT,   /* closed: refused */
    };
    for (int st = 0; st < LIFELINE_STATE_COUNT; st++) {
        drive_to(st);
        size_t from = S.n_log;
        sim_app(&S, LL_EV_RECONNECT_NOW);
        size_t connects = sim_count(&S, LL_ACT_CONNECT, from);
        assert_int_equal(connects, want[st] == LL_ACT_CONNECT);
        if (st == SD)
            assert_true(S.log[S.n_log - 1].act.probe);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_state_and_event_pair_has_its_outcome),
        cmocka_unit_test(events_about_an_abandoned_attempt_change_nothing),
        cmocka_unit_test(stop_from_every_state_ends_closed_and_closes_what_is_open),
        cmocka_unit_test(reconnect_now_from_every_state),
    };
    return cmocka_run_group_tests_name("machine_table", tests, NULL, NULL);
}
