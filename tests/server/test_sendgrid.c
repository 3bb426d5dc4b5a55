/* lifeline-server's SendGrid body (server/sendgrid.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "server/sendgrid.h"

static void sendgrid_body_has_the_v3_shape(void **state)
{
    (void)state;
    ll_alert a = {.title = "No clients connected", .description = "for 60 s", .unix_ms = 0};
    a.fields[a.n_fields++] = (ll_alert_field){"Server", "127.0.0.1:8080", 0};
    char *json = srv_sendgrid_payload(&a, "ops@example.com", "lifeline@example.com");
    cJSON *r = cJSON_Parse(json);
    assert_non_null(r);
    cJSON *to = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "personalizations"), 0), "to"), 0);
    assert_string_equal(cJSON_GetObjectItem(to, "email")->valuestring, "ops@example.com");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "from"), "email")->valuestring,
                        "lifeline@example.com");
    assert_string_equal(cJSON_GetObjectItem(r, "subject")->valuestring, "No clients connected");
    cJSON *part = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "content"), 0);
    assert_string_equal(cJSON_GetObjectItem(part, "type")->valuestring, "text/plain");
    assert_non_null(strstr(cJSON_GetObjectItem(part, "value")->valuestring, "Server: 127.0.0.1:8080"));
    cJSON_Delete(r);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sendgrid_body_has_the_v3_shape),
    };
    return cmocka_run_group_tests_name("sendgrid", tests, NULL, NULL);
}
