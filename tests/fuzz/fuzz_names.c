/* Names and UTF-8 on the server (src/server/names.c): every store and user
 * name from a query, a token or a route goes through srv_name_valid. Input:
 * the bytes of a name.
 * Properties: srv_utf8_valid agrees with the strict reference in fuzz.h on
 * the input and on each of its prefixes; srv_name_valid is exactly "1..128
 * bytes of valid UTF-8 without a C0, DEL or C1 control character". */
#include "fuzz.h"
#include "server/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *s = (const uint8_t *)fuzz_dup(data, size);
    FUZZ_CHECK(srv_utf8_valid(s, size) == fuzz_utf8_strict(s, size));
    for (size_t n = size > 8 ? size - 8 : 0; n < size; n++) {
        char *cut = fuzz_dup(data, n); /* a sequence cut short must not pass */
        FUZZ_CHECK(srv_utf8_valid((const uint8_t *)cut, n) == fuzz_utf8_strict(cut, n));
        free(cut);
    }

    bool controls = false; /* C0, DEL, and C1 (U+0080..U+009F: C2 80..C2 9F) */
    for (size_t i = 0; i < size; i++)
        controls |= s[i] < 0x20 || s[i] == 0x7f ||
                    (s[i] == 0xC2 && i + 1 < size && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F);
    bool want = size >= 1 && size <= SRV_NAME_MAX && !controls && fuzz_utf8_strict(s, size);
    FUZZ_CHECK(srv_name_valid((const char *)s, size) == want);
    FUZZ_CHECK(!srv_name_valid(NULL, size));
    free((void *)s);
    return 0;
}
