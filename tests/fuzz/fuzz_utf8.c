/* Cutting text for Discord (src/notify/utf8.c): alert titles, descriptions
 * and field values carry text the app or the server sent. Input: two bytes
 * for the limit, then the text.
 * Properties (utf8.h): the cut is always valid UTF-8 and at most max
 * characters; text that is valid and short enough comes back unchanged;
 * longer text keeps max - 1 characters of its start and an ellipsis. */
#include "fuzz.h"
#include "notify/utf8.h"

static const char ellipsis[] = "\xE2\x80\xA6";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = fuzz_input(data, size);
    size_t max = 1 + (size_t)(fuzz_take_u64(&in, 2) % 300);
    char *text = fuzz_rest(&in, NULL);
    size_t shown = strlen(text); /* a C string ends at the first NUL */
    bool valid = fuzz_utf8_strict(text, shown);
    size_t chars = ll_utf8_chars(text);
    if (valid)
        FUZZ_CHECK(chars == fuzz_utf8_count(text));

    char *cut = ll_utf8_cut(text, max);
    FUZZ_CHECK(cut != NULL);
    size_t clen = strlen(cut);
    FUZZ_CHECK(fuzz_utf8_strict(cut, clen));
    FUZZ_CHECK(fuzz_utf8_count(cut) <= max);
    FUZZ_CHECK(ll_utf8_chars(cut) == fuzz_utf8_count(cut));
    if (chars <= max) {
        if (valid)
            FUZZ_CHECK(!strcmp(cut, text));
    } else {
        FUZZ_CHECK(fuzz_utf8_count(cut) == max);
        FUZZ_CHECK(clen >= 3 && !strcmp(cut + clen - 3, ellipsis));
        if (valid)
            FUZZ_CHECK(!strncmp(cut, text, clen - 3));
    }
    /* cutting again to the same limit changes nothing */
    char *again = ll_utf8_cut(cut, max);
    FUZZ_CHECK(again && !strcmp(again, cut));
    free(again);
    free(cut);

    char *empty = ll_utf8_cut(NULL, max);
    FUZZ_CHECK(empty && !*empty);
    free(empty);
    free(text);
    return 0;
}
