/* The incremental UTF-8 check of WebSocket text messages
 * (src/proto/ws_utf8.c), fed the way frames arrive: in pieces, a character
 * possibly split between two. Input: one byte whose bits pick the piece
 * lengths, then the text.
 * Properties: fed in any pieces, the check agrees with the table 3-7
 * reference in fuzz.h on the whole text, on where it first goes wrong
 * (the offset feed returns, counted across pieces) and on whether it ends
 * on a whole character; after a bad byte every feed returns 0; the one-shot
 * ll_utf8_stream_valid says the same. (fuzz_names checks the server's
 * srv_utf8_valid against the same reference.) */
#include "fuzz.h"
#include "proto/ws_utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = fuzz_input(data, size);
    unsigned cuts = (unsigned)fuzz_take_u64(&in, 1);
    size_t len;
    char *text = fuzz_rest(&in, &len);

    bool whole;
    size_t want_bad = fuzz_utf8_first_bad(text, len, &whole);
    bool valid = want_bad == len && whole;
    FUZZ_CHECK(!!ll_utf8_stream_valid(text, len) == valid);

    /* piece lengths 1, 2, 3, 7, ... from the bits of cuts, cycling */
    static const size_t lengths[4] = {1, 2, 3, 7};
    ll_utf8_stream u;
    ll_utf8_stream_init(&u);
    size_t at = 0, bad_at = len;
    bool bad = false;
    for (unsigned k = 0; at < len || k == 0; k++) {
        size_t n = lengths[(cuts >> (2 * (k % 4))) & 3];
        if (n > len - at)
            n = len - at;
        char *piece = fuzz_dup(text + at, n); /* exact size: no reading past */
        size_t r = ll_utf8_stream_feed(&u, piece, n);
        free(piece);
        if (bad) {
            FUZZ_CHECK(r == 0);
        } else if (r != n) {
            FUZZ_CHECK(r < n);
            bad = true;
            bad_at = at + r;
        }
        at += n;
    }
    FUZZ_CHECK(bad == (want_bad < len));
    FUZZ_CHECK(bad_at == want_bad);
    FUZZ_CHECK(!!ll_utf8_stream_complete(&u) == valid);
    FUZZ_CHECK(!!u.bad == bad);
    free(text);
    return 0;
}
