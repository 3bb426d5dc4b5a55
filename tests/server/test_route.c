/* HTTP routes, the admin rule and the loopback test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/route.h"

static void each_route_matches_its_method_and_path(void **state)
{
    (void)state;
    assert_int_equal(srv_route_match("GET", "/api/v1/websockets/health").id, SRV_ROUTE_HEALTH);
    assert_int_equal(srv_route_match("GET", "/api/v1/websockets/stats").id, SRV_ROUTE_STATS);
    assert_int_equal(srv_route_match("POST", "/api/v1/admin/fault").id, SRV_ROUTE_FAULT_SET);
    assert_int_equal(srv_route_match("GET", "/api/v1/admin/fault").id, SRV_ROUTE_FAULT_GET);
    assert_int_equal(srv_route_match("GET", "/ws").id, SRV_ROUTE_WS_PLAIN);
    srv_route r = srv_route_match("GET", "/metrics");
    assert_int_equal(r.id, SRV_ROUTE_METRICS);
    assert_true(r.admin);
    assert_false(r.has_body);
    assert_int_equal(srv_route_match("POST", "/metrics").id, SRV_ROUTE_BAD_METHOD);
    assert_int_equal(srv_route_match("GET", "/metrics/").id, SRV_ROUTE_NOT_FOUND);
    r = srv_route_match("GET", "/api/v1/users/alice");
    assert_int_equal(r.id, SRV_ROUTE_USER);
    assert_int_equal(r.param_len, 5);
    assert_memory_equal(r.param, "alice", 5);
    assert_false(r.admin);
    r = srv_route_match("POST", "/api/v1/stores/s-1/broadcast");
    assert_int_equal(r.id, SRV_ROUTE_STORE_BROADCAST);
    assert_memory_equal(r.param, "s-1", 3);
    assert_true(r.admin);
    assert_true(r.has_body);
}

static void unknown_paths_are_not_found(void **state)
{
    (void)state;
    const char *paths[] = {"/api", "/api/v1/users/", "/api/v1/stores/broadcast",
                           "/api/v1/stores//broadcast", "/api/v1/stores/s/broadcastx",
                           "/api/v1/websockets/health/", "/wss", "/status/", "/statusx",
                           "/index.html", NULL};
    for (size_t i = 0; paths[i]; i++)
        assert_int_equal(srv_route_match("GET", paths[i]).id, SRV_ROUTE_NOT_FOUND);
}

static void the_status_page_is_public_and_its_data_route_is_admin(void **state)
{
    (void)state;
    const char *page[] = {"/", "/status", "/status/status.js", "/status/nope", NULL};
    for (size_t i = 0; page[i]; i++) {
        srv_route r = srv_route_match("GET", page[i]);
        assert_int_equal(r.id, SRV_ROUTE_PAGE);
        assert_false(r.admin);
        assert_false(r.has_body);
    }
    srv_route r = srv_route_match("GET", "/status/status.css");
    assert_int_equal(r.param_len, strlen("status.css"));
    assert_memory_equal(r.param, "status.css", r.param_len);
    assert_null(srv_route_match("GET", "/").param);
    assert_int_equal(srv_route_match("POST", "/").id, SRV_ROUTE_BAD_METHOD);
    r = srv_route_match("GET", "/api/v1/websockets/history");
    assert_int_equal(r.id, SRV_ROUTE_HISTORY);
    assert_false(r.admin);
    r = srv_route_match("GET", "/api/v1/admin/status");
    assert_int_equal(r.id, SRV_ROUTE_ADMIN_STATUS);
    assert_true(r.admin);
    assert_int_equal(srv_route_match("POST", "/api/v1/admin/status").id, SRV_ROUTE_BAD_METHOD);
}

/* libwebsockets decodes %2F before routing: a parameter is everything
 * between the route's fixed parts */
static void a_parameter_may_contain_slashes(void **state)
{
    (void)state;
    srv_route r = srv_route_match("GET", "/api/v1/users/a/b");
    assert_int_equal(r.id, SRV_ROUTE_USER);
    assert_int_equal(r.param_len, 3);
    assert_memory_equal(r.param, "a/b", 3);
    r = srv_route_match("GET", "/api/v1/users/a/");
    assert_int_equal(r.param_len, 2);
    r = srv_route_match("POST", "/api/v1/stores/north/east/broadcast");
    assert_int_equal(r.id, SRV_ROUTE_STORE_BROADCAST);
    assert_int_equal(r.param_len, 10);
    assert_memory_equal(r.param, "north/east", 10);
    r = srv_route_match("POST", "/api/v1/stores/x/broadcast/broadcast");
    assert_int_equal(r.id, SRV_ROUTE_STORE_BROADCAST);
    assert_int_equal(r.param_len, 11);
    assert_memory_equal(r.param, "x/broadcast", 11);
}

static void a_wrong_method_is_405_with_the_allowed_ones(void **state)
{
    (void)state;
    srv_route r = srv_route_match("POST", "/api/v1/websockets/health");
    assert_int_equal(r.id, SRV_ROUTE_BAD_METHOD);
    assert_string_equal(r.allow, "GET");
    r = srv_route_match("GET", "/api/v1/stores/s/broadcast");
    assert_int_equal(r.id, SRV_ROUTE_BAD_METHOD);
    assert_string_equal(r.allow, "POST");
    r = srv_route_match("DELETE", "/api/v1/admin/fault");
    assert_int_equal(r.id, SRV_ROUTE_BAD_METHOD);
    assert_string_equal(r.allow, "GET, POST");
}

static void with_a_token_admin_needs_the_bearer(void **state)
{
    (void)state;
    assert_int_equal(srv_admin_check("t0k", NULL, true), 401);
    assert_int_equal(srv_admin_check("t0k", "Basic abc", true), 401);
    assert_int_equal(srv_admin_check("t0k", "Bearer ", true), 401);
    assert_int_equal(srv_admin_check("t0k", "Bearer nope", true), 403);
    assert_int_equal(srv_admin_check("t0k", "Bearer t0k2", true), 403);
    assert_int_equal(srv_admin_check("t0k", "Bearer t0", true), 403);
    assert_int_equal(srv_admin_check("t0k", "Bearer t0k", false), 0);
    assert_int_equal(srv_admin_check("t0k", "bearer t0k ", false), 0);
}

static void without_a_token_admin_is_loopback_only(void **state)
{
    (void)state;
    assert_int_equal(srv_admin_check(NULL, NULL, true), 0);
    assert_int_equal(srv_admin_check(NULL, "Bearer x", false), 403);
    assert_int_equal(srv_admin_check(NULL, NULL, false), 403);
}

static void loopback_addresses_are_recognised(void **state)
{
    (void)state;
    assert_true(srv_addr_is_loopback("127.0.0.1"));
    assert_true(srv_addr_is_loopback("127.8.9.10"));
    assert_true(srv_addr_is_loopback("::1"));
    assert_true(srv_addr_is_loopback("::ffff:127.0.0.1"));
    assert_false(srv_addr_is_loopback("10.0.0.1"));
    assert_false(srv_addr_is_loopback("::ffff:10.0.0.1"));
    assert_false(srv_addr_is_loopback("128.0.0.1"));
    assert_false(srv_addr_is_loopback("localhost"));
    assert_false(srv_addr_is_loopback(""));
    assert_false(srv_addr_is_loopback(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_route_matches_its_method_and_path),
        cmocka_unit_test(unknown_paths_are_not_found),
        cmocka_unit_test(the_status_page_is_public_and_its_data_route_is_admin),
        cmocka_unit_test(a_parameter_may_contain_slashes),
        cmocka_unit_test(a_wrong_method_is_405_with_the_allowed_ones),
        cmocka_unit_test(with_a_token_admin_needs_the_bearer),
        cmocka_unit_test(without_a_token_admin_is_loopback_only),
        cmocka_unit_test(loopback_addresses_are_recognised),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
