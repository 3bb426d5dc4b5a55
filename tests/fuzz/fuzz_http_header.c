/* A header line of a webhook's answer (src/notify/http_header.c), as libcurl
 * hands it to the notifier, and the Retry-After read from it
 * (src/notify/policy.c). Input: a byte for the room in out (0..79), a byte
 * picking the field's name, then the line.
 * Properties: a value is given exactly when the line is that field and its
 * value, trimmed of SP, HTAB and the line end, has no control byte and fits;
 * it is then exactly those bytes, read from the given ones only; otherwise
 * out is left as it was. A value of 1 to 9 digits is that many seconds. */
#include "fuzz.h"
#include "notify/http_header.h"
#include "notify/policy.h"

#define ROOM_MAX 80

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

/* the rule, written apart from the code: name ':' OWS value OWS [CR LF]... */
static bool model(const uint8_t *s, size_t n, const char *name, size_t room, char *want)
{
    size_t k = strlen(name);
    if (n < k + 1 || s[k] != ':')
        return false;
    for (size_t i = 0; i < k; i++)
        if (lower(s[i]) != lower((unsigned char)name[i]))
            return false;
    const uint8_t *v = s + k + 1, *end = s + n;
    while (end > v && (end[-1] == '\n' || end[-1] == '\r'))
        end--;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    for (const uint8_t *p = v; p < end; p++)
        if (*p == 0x7f || (*p < 0x20 && *p != '\t'))
            return false;
    if ((size_t)(end - v) + 1 > room)
        return false;
    memcpy(want, v, (size_t)(end - v));
    want[end - v] = '\0';
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"Retry-After", "retry-after", "Content-Type", "X"};
    fuzz_in in = fuzz_input(data, size);
    size_t room = (size_t)(fuzz_take_u64(&in, 1) % ROOM_MAX);
    const char *name = names[fuzz_take_u64(&in, 1) % 4];
    size_t n;
    char *line = fuzz_rest(&in, &n);
    char *exact = calloc(n ? n : 1, 1); /* not NUL-terminated: a read past n is ASan's */
    if (!exact)
        abort();
    memcpy(exact, line, n);

    char out[ROOM_MAX + 1], want[ROOM_MAX + 1];
    memset(out, '#', sizeof(out));
    bool got = ll_http_header_value(exact, n, name, out, room);
    FUZZ_CHECK(got == model((const uint8_t *)line, n, name, room, want));
    if (got) {
        FUZZ_CHECK(strlen(out) < room);
        FUZZ_CHECK(strcmp(out, want) == 0);
        size_t len = strlen(out);
        FUZZ_CHECK(len == 0 || (out[0] != ' ' && out[0] != '\t' && out[len - 1] != ' ' &&
                                out[len - 1] != '\t'));
        /* what the notifier makes of it */
        int64_t ms = ll_retry_after_ms(NULL, out);
        FUZZ_CHECK(ms >= -1);
        if (len >= 1 && len <= 9 && strspn(out, "0123456789") == len)
            FUZZ_CHECK(ms == strtoll(out, NULL, 10) * 1000);
    } else {
        for (size_t i = 0; i < sizeof(out); i++)
            FUZZ_CHECK(out[i] == '#'); /* left as it was */
    }
    free(exact);
    free(line);
    return 0;
}
