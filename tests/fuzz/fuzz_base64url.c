/* base64url without padding (src/server/base64url.c), the outer layer of
 * every auth token.
 * Properties: decoding is strict, so whatever decodes encodes back to the
 * very same text; any bytes encode to encoded_len characters of the
 * alphabet and decode back; too small a buffer is refused, not overrun. */
#include "fuzz.h"
#include "server/base64url.h"

static bool in_alphabet(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the input as text */
    const char *text = (const char *)data;
    unsigned char *bytes = malloc(size ? size : 1);
    long n = srv_b64url_decode(text, size, bytes, size);
    if (n >= 0) {
        FUZZ_CHECK(size % 4 != 1);
        FUZZ_CHECK((size_t)n == size / 4 * 3 + (size % 4 ? size % 4 - 1 : 0));
        FUZZ_CHECK(srv_b64url_encoded_len((size_t)n) == size);
        char *again = malloc(size + 1);
        FUZZ_CHECK(srv_b64url_encode(bytes, (size_t)n, again, size + 1) == size);
        FUZZ_CHECK(!memcmp(again, text, size) && again[size] == '\0');
        free(again);
        if (n > 0) /* one byte short of room */
            FUZZ_CHECK(srv_b64url_decode(text, size, bytes, (size_t)n - 1) == -1);
    } else {
        bool all_in = true;
        for (size_t i = 0; i < size; i++)
            all_in &= in_alphabet(text[i]);
        /* refused although every character is in the alphabet: only for an
         * impossible length or non-zero trailing bits */
        if (all_in && size % 4 != 1) {
            FUZZ_CHECK(size % 4 == 2 || size % 4 == 3);
        }
    }
    free(bytes);

    /* the input as bytes */
    size_t elen = srv_b64url_encoded_len(size);
    char *enc = malloc(elen + 1);
    FUZZ_CHECK(srv_b64url_encode(data, size, enc, elen + 1) == elen);
    FUZZ_CHECK(strlen(enc) == elen);
    for (size_t i = 0; i < elen; i++)
        FUZZ_CHECK(in_alphabet(enc[i]));
    if (size) /* no room for the terminator: refused, out untouched */
        FUZZ_CHECK(srv_b64url_encode(data, size, enc, elen) == 0);
    unsigned char *dec = malloc(size ? size : 1);
    FUZZ_CHECK(srv_b64url_decode(enc, elen, dec, size) == (long)size);
    FUZZ_CHECK(!size || !memcmp(dec, data, size));
    free(dec);
    free(enc);
    return 0;
}
