/* What the fuzz targets share: the entry point libFuzzer (or replay.c)
 * calls, a property check that aborts with its line, pieces of the input as
 * exact-size heap strings (so AddressSanitizer sees any read past the end),
 * and a strict UTF-8 reference written from the Unicode standard's table
 * 3-7, independent of the validators under test. */
#ifndef LL_FUZZ_H
#define LL_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property of the code under test: aborts (a crash for libFuzzer, a
 * failed test for the replay) when it does not hold. */
#define FUZZ_CHECK(cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: property does not hold: %s\n", __FILE__,   \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* A case that must not happen. */
#define FUZZ_FAIL(why)                                                         \
    do {                                                                       \
        fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, why);               \
        abort();                                                               \
    } while (0)

/* n bytes of p as a NUL-terminated heap string of exactly n + 1 bytes. */
static inline char *fuzz_dup(const void *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* The input, taken apart piece by piece. */
typedef struct fuzz_in {
    const uint8_t *p; /* NULL once the last piece was taken */
    size_t n;
} fuzz_in;

static inline fuzz_in fuzz_input(const uint8_t *data, size_t size)
{
    return (fuzz_in){data ? data : (const uint8_t *)"", size};
}

/* The bytes up to the next sep (not included) or the end, as fuzz_dup()
 * makes them; *len (if len) their count. NULL when nothing is left: "a\n"
 * gives "a", then "", then NULL. */
static inline char *fuzz_take(fuzz_in *in, int sep, size_t *len)
{
    if (!in->p)
        return NULL;
    const uint8_t *at = memchr(in->p, sep, in->n);
    size_t k = at ? (size_t)(at - in->p) : in->n;
    char *s = fuzz_dup(in->p, k);
    if (len)
        *len = k;
    if (at) {
        in->p = at + 1;
        in->n -= k + 1;
    } else {
        in->p = NULL;
        in->n = 0;
    }
    return s;
}

/* What is left of the input, "" when nothing is, as fuzz_dup() makes it. */
static inline char *fuzz_rest(fuzz_in *in, size_t *len)
{
    size_t k = in->p ? in->n : 0;
    char *s = fuzz_dup(in->p, k);
    if (len)
        *len = k;
    in->p = NULL;
    in->n = 0;
    return s;
}

/* Up to 8 bytes as a little-endian number (0 past the end). */
static inline uint64_t fuzz_take_u64(fuzz_in *in, size_t bytes)
{
    uint64_t v = 0;
    for (size_t i = 0; i < bytes && i < 8; i++) {
        if (in->p && in->n) {
            v |= (uint64_t)in->p[0] << (8 * i);
            in->p++;
            in->n--;
        }
    }
    return v;
}

/* Well-formed UTF-8 (Unicode 15, table 3-7): no overlongs, no surrogates,
 * nothing above U+10FFFF, no truncated sequence. */
static inline bool fuzz_utf8_strict(const void *data, size_t n)
{
    const unsigned char *s = data;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        unsigned char lo = 0x80, hi = 0xBF;
        size_t k;
        if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
        } else if (c == 0xE0) {
            k = 2;
            lo = 0xA0;
        } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
            k = 2;
        } else if (c == 0xED) {
            k = 2;
            hi = 0x9F;
        } else if (c == 0xF0) {
            k = 3;
            lo = 0x90;
        } else if (c >= 0xF1 && c <= 0xF3) {
            k = 3;
        } else if (c == 0xF4) {
            k = 3;
            hi = 0x8F;
        } else {
            return false;
        }
        if (n - i <= k || s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t j = 2; j <= k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
        i += k + 1;
    }
    return true;
}

/* Code points in well-formed UTF-8 text. */
static inline size_t fuzz_utf8_count(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

#endif
