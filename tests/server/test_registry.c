/* Stores, users and connections, and the batched writes of activity to a
 * real (in-memory) SQLite database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/registry.h"

static int setup(void **state)
{
    srv_db *db = NULL;
    char err[256];
    if (srv_db_open(":memory:", &db, err, sizeof(err)))
        return -1;
    *state = db;
    return 0;
}

static int teardown(void **state)
{
    srv_db_close(*state);
    return 0;
}

static void members_join_and_leave_their_store(void **state)
{
    (void)state;
    srv_registry r;
    srv_registry_init(&r);
    srv_conn *a = srv_registry_open(&r, NULL, 0);
    srv_conn *b = srv_registry_open(&r, NULL, 0);
    srv_conn *c = srv_registry_open(&r, NULL, 0);
    assert_int_equal(srv_registry_join(&r, a, "s1", "alice"), 0);
    assert_int_equal(srv_registry_join(&r, b, "s1", "bob"), 0);
    assert_int_equal(srv_registry_join(&r, c, "s2", "carol"), 0);
    srv_store *s1 = srv_registry_store(&r, "s1");
    assert_non_null(s1);
    assert_int_equal(s1->count, 2);
    assert_int_equal(r.stats.active, 3);
    srv_registry_close(&r, b, 10);
    assert_int_equal(s1->count, 1);
    assert_ptr_equal(s1->members, a);
    assert_null(a->snext);
    srv_registry_close(&r, a, 10);
    assert_null(srv_registry_store(&r, "s1")); /* empty stores are forgotten */
    assert_non_null(srv_registry_store(&r, "s2"));
    srv_registry_close(&r, c, 10);
    assert_int_equal(r.stats.active, 0);
    assert_int_equal(r.stats.total, 3);
    assert_null(r.conns);
    srv_registry_free(&r);
}

static void connections_are_numbered_from_1_in_the_order_opened(void **state)
{
    (void)state;
    srv_registry r;
    srv_registry_init(&r);
    srv_conn *a = srv_registry_open(&r, NULL, 0);
    srv_conn *b = srv_registry_open(&r, NULL, 0);
    assert_int_equal(a->id, 1);
    assert_int_equal(b->id, 2);
    srv_registry_close(&r, a, 1);
    srv_conn *c = srv_registry_open(&r, NULL, 1); /* ids are never reused */
    assert_int_equal(c->id, 3);
    /* what a connection keeps for its log lines is freed with it */
    c->names = malloc(4);
    assert_non_null(c->names);
    memcpy(c->names, "u\0s", 4);
    srv_registry_close(&r, b, 2);
    srv_registry_close(&r, c, 2);
    srv_registry_free(&r);
}

static void activity_is_written_in_one_batch(void **state)
{
    srv_db *db = *state;
    srv_registry r;
    srv_registry_init(&r);
    srv_conn *a = srv_registry_open(&r, NULL, 0);
    srv_conn *b = srv_registry_open(&r, NULL, 0);
    srv_registry_join(&r, a, "s1", "alice");
    srv_registry_join(&r, b, "s1", "bob");
    for (int i = 0; i < 100; i++) {
        srv_registry_touch(&r, a, 1000 + i);
        srv_registry_touch(&r, b, 2000 + i);
    }
    assert_int_equal(r.dirty_count, 2); /* 200 touches, two rows to write */
    assert_int_equal(srv_registry_flush(&r, db), 2);
    assert_int_equal(srv_registry_flush(&r, db), 0);
    char store[SRV_NAME_MAX + 1];
    int64_t last = 0;
    assert_int_equal(srv_db_get_user(db, "alice", store, sizeof(store), &last), 1);
    assert_string_equal(store, "s1");
    assert_int_equal(last, 1099);
    assert_int_equal(srv_db_get_user(db, "nobody", store, sizeof(store), &last), 0);
    srv_registry_close(&r, a, 5);
    srv_registry_close(&r, b, 5);
    srv_registry_free(&r);
}

static void a_departed_user_is_kept_until_written(void **state)
{
    srv_db *db = *state;
    srv_registry r;
    srv_registry_init(&r);
    srv_conn *a = srv_registry_open(&r, NULL, 0);
    srv_registry_join(&r, a, "s9", "dora");
    srv_registry_touch(&r, a, 777);
    srv_registry_close(&r, a, 1);
    const srv_user *u = srv_registry_user(&r, "dora");
    assert_non_null(u);
    assert_int_equal(u->last_active_ms, 777);
    assert_int_equal(srv_registry_flush(&r, db), 1);
    assert_null(srv_registry_user(&r, "dora"));
    char store[SRV_NAME_MAX + 1];
    int64_t last = 0;
    assert_int_equal(srv_db_get_user(db, "dora", store, sizeof(store), &last), 1);
    assert_int_equal(last, 777);
    srv_registry_free(&r);
}

static void last_active_never_moves_backwards(void **state)
{
    srv_db *db = *state;
    assert_int_equal(srv_db_begin(db), 0);
    assert_int_equal(srv_db_put_user(db, "eve", "s1", 5000), 0);
    assert_int_equal(srv_db_put_user(db, "eve", "s2", 4000), 0);
    assert_int_equal(srv_db_commit(db), 0);
    char store[SRV_NAME_MAX + 1];
    int64_t last = 0;
    assert_int_equal(srv_db_get_user(db, "eve", store, sizeof(store), &last), 1);
    assert_int_equal(last, 5000);
    assert_string_equal(store, "s2"); /* the latest store seen */
}

static void a_failed_write_keeps_its_message_through_the_rollback(void **state)
{
    srv_db *db = *state;
    assert_int_equal(srv_db_error_count(db), 0);
    assert_int_equal(srv_db_begin(db), 0);
    assert_int_equal(srv_db_put_user(db, "gus", NULL, 1), -1); /* store is NOT NULL */
    srv_db_rollback(db);
    assert_string_equal(srv_db_error(db), "NOT NULL constraint failed: users.store");
    assert_int_equal(srv_db_error_count(db), 1); /* the failure counts once */
    srv_db_rollback(db); /* no transaction left: changes nothing */
    assert_string_equal(srv_db_error(db), "NOT NULL constraint failed: users.store");
    assert_int_equal(srv_db_commit(db), -1);
    assert_string_equal(srv_db_error(db), "cannot commit - no transaction is active");
    assert_int_equal(srv_db_error_count(db), 2);
    assert_int_equal(srv_db_error_count(NULL), 0);
}

/* A user who connects to s1 at wall time `at` and leaves (not yet written). */
static void visit(srv_registry *r, const char *user, int64_t at)
{
    srv_conn *c = srv_registry_open(r, NULL, 0);
    assert_int_equal(srv_registry_join(r, c, "s1", user), 0);
    srv_registry_touch(r, c, at);
    srv_registry_close(r, c, 0);
}

static bool has_user(srv_db *db, const char *user)
{
    char store[SRV_NAME_MAX + 1];
    int64_t last = 0;
    return srv_db_get_user(db, user, store, sizeof(store), &last) == 1;
}

static void past_max_users_the_least_recently_active_are_evicted(void **state)
{
    srv_db *db = *state;
    srv_registry r;
    srv_registry_init(&r);
    r.max_users = 3;
    visit(&r, "ann", 500);
    visit(&r, "ben", 100);
    visit(&r, "cid", 300);
    assert_int_equal(srv_registry_flush(&r, db), 3);
    assert_int_equal(srv_db_user_count(db), 3);
    assert_int_equal(r.evicted, 0);
    visit(&r, "dan", 400);
    visit(&r, "eva", 200);
    visit(&r, "ben", 600); /* ben is back: now the most recent */
    assert_int_equal(srv_registry_flush(&r, db), 3);
    assert_int_equal(srv_db_user_count(db), 3);
    assert_int_equal(r.evicted, 2);
    assert_false(has_user(db, "eva")); /* 200 */
    assert_false(has_user(db, "cid")); /* 300 */
    assert_true(has_user(db, "dan") && has_user(db, "ann") && has_user(db, "ben"));
    srv_registry_free(&r);
}

static void connected_users_are_evicted_last(void **state)
{
    srv_db *db = *state;
    srv_registry r;
    srv_registry_init(&r);
    r.max_users = 2;
    srv_conn *old = srv_registry_open(&r, NULL, 0);
    srv_registry_join(&r, old, "s1", "old-but-here");
    srv_registry_touch(&r, old, 1);
    visit(&r, "b", 2);
    visit(&r, "c", 3);
    visit(&r, "d", 4);
    assert_int_equal(srv_registry_flush(&r, db), 4);
    assert_true(has_user(db, "old-but-here"));
    assert_true(has_user(db, "d"));
    assert_int_equal(srv_db_user_count(db), 2);
    /* more users connected than the limit: they all stay */
    r.max_users = 1;
    srv_conn *other = srv_registry_open(&r, NULL, 0);
    srv_registry_join(&r, other, "s1", "e");
    srv_registry_touch(&r, other, 5);
    assert_int_equal(srv_registry_flush(&r, db), 1);
    assert_false(has_user(db, "d"));
    assert_int_equal(srv_db_user_count(db), 2);
    assert_true(has_user(db, "old-but-here") && has_user(db, "e"));
    assert_int_equal(r.evicted, 3);
    srv_registry_close(&r, old, 1);
    srv_registry_close(&r, other, 1);
    srv_registry_free(&r);
}

static void a_table_over_the_limit_is_trimmed_with_nothing_to_write(void **state)
{
    srv_db *db = *state;
    assert_int_equal(srv_db_begin(db), 0);
    const char *names[] = {"u1", "u2", "u3", "u4", "u5"};
    for (int i = 0; i < 5; i++)
        assert_int_equal(srv_db_put_user(db, names[i], "s", 10 * i), 0);
    assert_int_equal(srv_db_commit(db), 0);
    srv_registry r;
    srv_registry_init(&r);
    r.max_users = 2; /* a lower --max-users than last time */
    assert_int_equal(srv_registry_flush(&r, db), 0);
    assert_int_equal(srv_db_user_count(db), 2);
    assert_true(has_user(db, "u4") && has_user(db, "u5"));
    assert_int_equal(r.evicted, 3);
    srv_registry_free(&r);
}

static void the_user_count_follows_commits_and_rollbacks(void **state)
{
    srv_db *db = *state;
    assert_int_equal(srv_db_user_count(db), 0);
    assert_int_equal(srv_db_begin(db), 0);
    assert_int_equal(srv_db_put_user(db, "a", "s", 1), 0);
    assert_int_equal(srv_db_put_user(db, "a", "s", 2), 0); /* the same row */
    assert_int_equal(srv_db_put_user(db, "b", "s", 3), 0);
    assert_int_equal(srv_db_user_count(db), 2);
    srv_db_rollback(db);
    assert_int_equal(srv_db_user_count(db), 0);
    assert_false(has_user(db, "a"));
    assert_int_equal(srv_db_begin(db), 0);
    assert_int_equal(srv_db_put_user(db, "a", "s", 1), 0);
    assert_int_equal(srv_db_evict(db, 5, NULL, NULL), 1);
    assert_int_equal(srv_db_commit(db), 0);
    assert_int_equal(srv_db_user_count(db), 0);
    assert_int_equal(srv_db_begin(db), 0);
    assert_int_equal(srv_db_put_user(db, "c", "s", 1), 0);
    assert_int_equal(srv_db_commit(db), 0);
    srv_db_rollback(db); /* none open: changes nothing */
    assert_int_equal(srv_db_user_count(db), 1);
}

static void evictions_are_reported_at_most_once_a_minute(void **state)
{
    (void)state;
    srv_registry r;
    srv_registry_init(&r);
    assert_int_equal(srv_registry_take_evicted(&r, 0, false), 0); /* none yet */
    r.evicted = 5;
    assert_int_equal(srv_registry_take_evicted(&r, 1000, false), 5); /* the first at once */
    r.evicted += 3;
    assert_int_equal(srv_registry_take_evicted(&r, 1000 + SRV_EVICT_REPORT_EVERY_MS - 1, false),
                     0);
    r.evicted += 1;
    assert_int_equal(srv_registry_take_evicted(&r, 1000 + SRV_EVICT_REPORT_EVERY_MS, false), 4);
    r.evicted += 2;
    assert_int_equal(srv_registry_take_evicted(&r, 2000 + SRV_EVICT_REPORT_EVERY_MS, false), 0);
    assert_int_equal(srv_registry_take_evicted(&r, 2000 + SRV_EVICT_REPORT_EVERY_MS, true), 2);
    assert_int_equal(srv_registry_take_evicted(&r, 3000 + SRV_EVICT_REPORT_EVERY_MS, true), 0);
    srv_registry_free(&r);
}

static void the_same_user_in_two_connections_is_one_row(void **state)
{
    (void)state;
    srv_registry r;
    srv_registry_init(&r);
    srv_conn *a = srv_registry_open(&r, NULL, 0);
    srv_conn *b = srv_registry_open(&r, NULL, 0);
    srv_registry_join(&r, a, "s1", "fay");
    srv_registry_join(&r, b, "s2", "fay");
    assert_ptr_equal(a->user, b->user);
    assert_int_equal(a->user->refs, 2);
    srv_registry_touch(&r, b, 10);
    assert_string_equal(b->user->store, "s2");
    srv_registry_close(&r, a, 1);
    assert_non_null(srv_registry_user(&r, "fay"));
    srv_registry_close(&r, b, 1);
    srv_registry_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(members_join_and_leave_their_store),
        cmocka_unit_test(connections_are_numbered_from_1_in_the_order_opened),
        cmocka_unit_test_setup_teardown(activity_is_written_in_one_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(a_departed_user_is_kept_until_written, setup, teardown),
        cmocka_unit_test_setup_teardown(last_active_never_moves_backwards, setup, teardown),
        cmocka_unit_test_setup_teardown(a_failed_write_keeps_its_message_through_the_rollback,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(past_max_users_the_least_recently_active_are_evicted,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(connected_users_are_evicted_last, setup, teardown),
        cmocka_unit_test_setup_teardown(a_table_over_the_limit_is_trimmed_with_nothing_to_write,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(the_user_count_follows_commits_and_rollbacks, setup,
                                        teardown),
        cmocka_unit_test(evictions_are_reported_at_most_once_a_minute),
        cmocka_unit_test(the_same_user_in_two_connections_is_one_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
