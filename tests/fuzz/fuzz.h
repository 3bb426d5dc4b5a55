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

/* Table 3-7 of the Unicode standard: for lead byte c, how many
 * continuation bytes follow (0: c cannot start a character) and the range
 * of the first of them; the others are 80..BF. */
static inline size_t fuzz_utf8_lead(unsigned char c, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        return 1;
    if (c >= 0xE0 && c <= 0xEF) {
        if (c == 0xE0)
            *lo = 0xA0; /* below: overlong */
        if (c == 0xED)
            *hi = 0x9F; /* above: surrogates */
        return 2;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (c == 0xF0)
            *lo = 0x90; /* below: overlong */
        if (c == 0xF4)
            *hi = 0x8F; /* above: past U+10FFFF */
        return 3;
    }
    return 0;
}

/* Where well-formedness ends: the offset of the first byte that no valid
 * text can have there (n when there is none), and *whole (if whole) = the
 * n bytes are a complete valid text, not cut inside a character. */
static inline size_t fuzz_utf8_first_bad(const void *data, size_t n, bool *whole)
{
    const unsigned char *s = data;
    size_t i = 0;
    if (whole)
        *whole = false;
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        unsigned char lo, hi;
        size_t k = fuzz_utf8_lead(s[i], &lo, &hi);
        if (!k)
            return i;
        for (size_t j = 1; j <= k; j++) {
            if (i + j == n)
                return n; /* cut short: not bad yet */
            if (s[i + j] < lo || s[i + j] > hi)
                return i + j;
            lo = 0x80;
            hi = 0xBF;
        }
        i += k + 1;
    }
    if (whole)
        *whole = true;
    return n;
}

/* Well-formed UTF-8 (table 3-7): no overlongs, no surrogates, nothing
 * above U+10FFFF, no truncated sequence. */
static inline bool fuzz_utf8_strict(const void *data, size_t n)
{
    bool whole;
    return fuzz_utf8_first_bad(data, n, &whole) == n && whole;
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
