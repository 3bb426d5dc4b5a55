/* The status page's files as compiled in (embed.py), the paths that name
 * them, and If-None-Match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/page.h"

static void the_page_and_its_files_are_compiled_in(void **state)
{
    (void)state;
    const char *names[] = {"index.html", "status.js", "status.css", "favicon.svg"};
    const char *types[] = {"text/html; charset=utf-8", "text/javascript; charset=utf-8",
                           "text/css; charset=utf-8", "image/svg+xml"};
    assert_int_equal(srv_asset_count, 4);
    for (size_t i = 0; i < 4; i++) {
        const srv_asset *a = srv_page_asset(names[i]);
        assert_non_null(a);
        assert_string_equal(a->ctype, types[i]);
        assert_true(a->len > 100);
        assert_int_equal(strlen(a->etag), 18); /* 16 hex digits, quoted */
        assert_int_equal(a->etag[0], '"');
    }
}

static void paths_name_the_page_or_a_file(void **state)
{
    (void)state;
    const srv_asset *index = srv_page_asset("index.html");
    assert_ptr_equal(srv_page_find("/"), index);
    assert_ptr_equal(srv_page_find("/status"), index);
    assert_ptr_equal(srv_page_asset(""), index);
    assert_ptr_equal(srv_page_asset(NULL), index);
    assert_ptr_equal(srv_page_find("/status/status.js"), srv_page_asset("status.js"));
    assert_null(srv_page_find("/status/"));
    assert_null(srv_page_find("/status/nope.js"));
    assert_null(srv_page_find("/status/../status.js"));
    assert_null(srv_page_find("/index.html"));
    assert_null(srv_page_asset("embed.py"));
}

/* Does html have an attribute such as onclick= (inline script)? */
static bool has_event_attribute(const char *html)
{
    for (const char *p = html; (p = strstr(p, " on")); p++) {
        const char *q = p + 3;
        while (*q >= 'a' && *q <= 'z')
            q++;
        if (q > p + 3 && *q == '=')
            return true;
    }
    return false;
}

/* The Content-Security-Policy allows no inline script: the page's only
 * script is its own file. */
static void the_html_has_no_inline_script_or_style(void **state)
{
    (void)state;
    const srv_asset *a = srv_page_asset("index.html");
    char *html = test_malloc(a->len + 1);
    memcpy(html, a->data, a->len);
    html[a->len] = '\0';
    size_t scripts = 0;
    for (const char *p = html; (p = strstr(p, "<script")); p++) {
        assert_non_null(strstr(p, "src=\"/status/status.js\""));
        assert_true(strstr(p, "src=") < strchr(p, '>'));
        scripts++;
    }
    assert_int_equal(scripts, 1);
    assert_null(strstr(html, "<style"));
    assert_null(strstr(html, "style=\""));
    assert_false(has_event_attribute(html));
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    test_free(html);
    assert_non_null(strstr(SRV_PAGE_CSP, "script-src 'self'"));
    assert_null(strstr(SRV_PAGE_CSP, "unsafe"));
}

static void if_none_match_compares_entity_tags_weakly(void **state)
{
    (void)state;
    const char *etag = "\"0123456789abcdef\"";
    assert_true(srv_page_not_modified("\"0123456789abcdef\"", etag));
    assert_true(srv_page_not_modified("W/\"0123456789abcdef\"", etag));
    assert_true(srv_page_not_modified("\"x\", \"0123456789abcdef\"", etag));
    assert_true(srv_page_not_modified("\"x\",W/\"0123456789abcdef\" ", etag));
    assert_true(srv_page_not_modified("*", etag));
    assert_false(srv_page_not_modified(NULL, etag));
    assert_false(srv_page_not_modified("", etag));
    assert_false(srv_page_not_modified("\"0123456789abcde\"", etag));
    assert_false(srv_page_not_modified("\"0123456789abcdef", etag)); /* unterminated */
    assert_false(srv_page_not_modified("0123456789abcdef", etag));   /* not quoted */
    assert_false(srv_page_not_modified("junk, \"0123456789abcdef\"", etag));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_page_and_its_files_are_compiled_in),
        cmocka_unit_test(paths_name_the_page_or_a_file),
        cmocka_unit_test(the_html_has_no_inline_script_or_style),
        cmocka_unit_test(if_none_match_compares_entity_tags_weakly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
