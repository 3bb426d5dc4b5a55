/* The status page's rings (connections, monitor changes, alert
 * deliveries), the monitor's state as the page shows it, and their JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/status.h"

static srv_status *new_status(void)
{
    srv_status *st = test_malloc(sizeof(*st));
    srv_status_init(st);
    return st;
}

static void samples_keep_the_last_ten_minutes_oldest_first(void **state)
{
    (void)state;
    srv_status *st = new_status();
    for (int i = 0; i < SRV_STATUS_SAMPLES + 25; i++)
        srv_status_sample_add(st, 1000 * i, (uint64_t)i);
    assert_int_equal(st->sring.count, SRV_STATUS_SAMPLES);
    assert_int_equal(st->samples[srv_status_index(&st->sring, 0)].active, 25);
    assert_int_equal(st->samples[srv_status_index(&st->sring, SRV_STATUS_SAMPLES - 1)].active,
                     SRV_STATUS_SAMPLES + 24);
    cJSON *o = srv_status_history_json(st, 5);
    cJSON *a = cJSON_GetObjectItem(o, "samples");
    assert_int_equal(cJSON_GetArraySize(a), SRV_STATUS_SAMPLES);
    cJSON *first = cJSON_GetArrayItem(a, 0);
    assert_int_equal(cJSON_GetArrayItem(first, 0)->valuedouble, 25000);
    assert_int_equal(cJSON_GetArrayItem(first, 1)->valuedouble, 25);
    assert_int_equal(cJSON_GetObjectItem(o, "interval_ms")->valuedouble, 1000);
    assert_int_equal(cJSON_GetObjectItem(o, "now_ms")->valuedouble, 5);
    cJSON_Delete(o);
    test_free(st);
}

static void an_empty_history_is_an_empty_list(void **state)
{
    (void)state;
    srv_status *st = new_status();
    cJSON *o = srv_status_history_json(st, 7);
    char *text = cJSON_PrintUnformatted(o);
    assert_string_equal(text, "{\"interval_ms\":1000,\"now_ms\":7,\"samples\":[]}");
    cJSON_free(text);
    cJSON_Delete(o);
    test_free(st);
}

static void the_monitor_view_follows_the_monitor(void **state)
{
    (void)state;
    srv_monitor m;
    srv_monitor_init(&m, 60000, 0); /* empty from monotonic 0 */
    /* wall = mono + 1 000 000 */
    srv_status_view v = srv_status_monitor_view(&m, 1000, 1001000);
    assert_int_equal(v.state, SRV_STATUS_EMPTY);
    assert_int_equal(v.since_ms, 1000000);
    assert_int_equal(v.due_ms, 1060000);
    srv_monitor_update(&m, 60000, 0);
    v = srv_status_monitor_view(&m, 70000, 1070000);
    assert_int_equal(v.state, SRV_STATUS_NO_CLIENTS);
    assert_int_equal(v.since_ms, 1000000);
    assert_int_equal(v.due_ms, 0);
    srv_monitor_update(&m, 80000, 2);
    v = srv_status_monitor_view(&m, 80000, 1080000);
    assert_int_equal(v.state, SRV_STATUS_CLIENTS);
    assert_int_equal(v.since_ms, 0);
    assert_string_equal(srv_status_state_name(SRV_STATUS_CLIENTS), "clients");
    assert_string_equal(srv_status_state_name(SRV_STATUS_EMPTY), "empty");
    assert_string_equal(srv_status_state_name(SRV_STATUS_NO_CLIENTS), "no_clients");
}

static void admin_json_lists_changes_and_deliveries_newest_first(void **state)
{
    (void)state;
    srv_status *st = new_status();
    for (int i = 0; i < SRV_STATUS_EVENTS + 3; i++)
        srv_status_event_add(st, i % 2 ? "no_clients" : "clients_back", 1000 * i, i);
    srv_status_deliveries *d = test_malloc(sizeof(*d));
    srv_status_deliveries_init(d);
    srv_status_delivery one = {.at_ms = 5000, .channel = "discord", .kind = "no_clients",
                               .ok = true, .http_status = 204, .attempts = 1};
    srv_status_delivery two = {.at_ms = 6000, .channel = "email", .kind = "clients_back",
                               .ok = false, .http_status = 500, .attempts = 4};
    memset(two.detail, 'x', sizeof(two.detail)); /* not terminated: cut to fit */
    srv_status_delivery_add(d, &one);
    srv_status_delivery_add(d, &two);
    srv_status_view v = {SRV_STATUS_NO_CLIENTS, 3000, 0};
    cJSON *o = srv_status_admin_json(st, &v, 1500, 0, d, 9000);
    assert_non_null(o);
    cJSON *m = cJSON_GetObjectItem(o, "monitor");
    assert_string_equal(cJSON_GetObjectItem(m, "state")->valuestring, "no_clients");
    assert_string_equal(cJSON_GetObjectItem(m, "since")->valuestring, "1970-01-01T00:00:03.000Z");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(m, "due")));
    assert_int_equal(cJSON_GetObjectItem(m, "down_after_ms")->valuedouble, 1500);
    cJSON *h = cJSON_GetObjectItem(o, "history");
    assert_int_equal(cJSON_GetArraySize(h), SRV_STATUS_EVENTS);
    cJSON *newest = cJSON_GetArrayItem(h, 0);
    assert_string_equal(cJSON_GetObjectItem(newest, "event")->valuestring, "clients_back");
    assert_int_equal(cJSON_GetObjectItem(newest, "duration_ms")->valuedouble,
                     SRV_STATUS_EVENTS + 2);
    cJSON *recent = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "alerts"), "recent");
    assert_int_equal(cJSON_GetArraySize(recent), 2);
    cJSON *r0 = cJSON_GetArrayItem(recent, 0);
    assert_string_equal(cJSON_GetObjectItem(r0, "channel")->valuestring, "email");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(r0, "ok")));
    assert_int_equal(strlen(cJSON_GetObjectItem(r0, "detail")->valuestring),
                     SRV_STATUS_DETAIL_LEN - 1);
    cJSON *r1 = cJSON_GetArrayItem(recent, 1);
    assert_string_equal(cJSON_GetObjectItem(r1, "kind")->valuestring, "no_clients");
    assert_int_equal(cJSON_GetObjectItem(r1, "status")->valuedouble, 204);
    cJSON_Delete(o);
    /* no deliveries ring: an empty list */
    o = srv_status_admin_json(st, &v, 1500, 0, NULL, 9000);
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "alerts"), "recent")), 0);
    cJSON_Delete(o);
    test_free(d);
    test_free(st);
}

static void deliveries_keep_the_most_recent(void **state)
{
    (void)state;
    srv_status_deliveries *d = test_malloc(sizeof(*d));
    srv_status_deliveries_init(d);
    for (int i = 0; i < SRV_STATUS_DELIVERIES * 2 + 1; i++) {
        srv_status_delivery x = {.at_ms = i, .channel = "discord", .kind = "no_clients"};
        srv_status_delivery_add(d, &x);
    }
    assert_int_equal(d->ring.count, SRV_STATUS_DELIVERIES);
    assert_int_equal(d->items[srv_status_index(&d->ring, 0)].at_ms, SRV_STATUS_DELIVERIES + 1);
    assert_int_equal(d->items[srv_status_index(&d->ring, SRV_STATUS_DELIVERIES - 1)].at_ms,
                     SRV_STATUS_DELIVERIES * 2);
    test_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(samples_keep_the_last_ten_minutes_oldest_first),
        cmocka_unit_test(an_empty_history_is_an_empty_list),
        cmocka_unit_test(the_monitor_view_follows_the_monitor),
        cmocka_unit_test(admin_json_lists_changes_and_deliveries_newest_first),
        cmocka_unit_test(deliveries_keep_the_most_recent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
