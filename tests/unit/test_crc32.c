/* Unit tests of rl_crc32() (formats/src/crc32.c) against a bitwise CRC-32
 * written here from the definition (reflected polynomial 0xEDB88320, init
 * and final XOR 0xFFFFFFFF): the standard check values, every length
 * 0..4096 at every alignment 0..15 (which covers the slicing-by-16 path, the
 * PCLMULQDQ folding path on CPUs that have it, and the switch between them),
 * continuing a CRC across a split at every point, long buffers with odd
 * lengths, and the slicing tables of crc32_table.h re-derived bit by bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "crc32_table.h"
#include "roadlog/mcap.h"

#define POLY_REFLECTED 0xEDB88320u
#define MAX_LEN        4096
#define MAX_ALIGN      16

/* One bit of the reflected CRC register. */
static uint32_t bit_step(uint32_t reg)
{
    return (reg >> 1) ^ ((reg & 1) ? POLY_REFLECTED : 0);
}

/* Reference CRC-32: one bit at a time, no tables. */
static uint32_t ref_crc32(uint32_t crc, const uint8_t *p, size_t len)
{
    uint32_t reg = ~crc;
    for (size_t i = 0; i < len; i++) {
        reg ^= p[i];
        for (int b = 0; b < 8; b++)
            reg = bit_step(reg);
    }
    return ~reg;
}

/* Deterministic test bytes (xorshift32). */
static void fill(uint8_t *p, size_t len, uint32_t seed)
{
    uint32_t x = seed ? seed : 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)(x >> 24);
    }
}

static void test_known_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t len;
        uint32_t crc;
    } cases[] = {
        {"", 0, 0x00000000u},     {"123456789", 9, 0xCBF43926u},
        {"a", 1, 0xE8B7BE43u},    {"\0", 1, 0xD202EF8Du},
        {"\xff", 1, 0xFF000000u}, {"The quick brown fox jumps over the lazy dog", 43, 0x414FA339u},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(rl_crc32(0, cases[i].s, cases[i].len), cases[i].crc);
        assert_int_equal(ref_crc32(0, (const uint8_t *)cases[i].s, cases[i].len), cases[i].crc);
    }
    /* An empty buffer leaves any running CRC as it is, also with NULL. */
    assert_int_equal(rl_crc32(0xCBF43926u, "", 0), 0xCBF43926u);
    assert_int_equal(rl_crc32(0x12345678u, NULL, 0), 0x12345678u);
}

/* Every length 0..MAX_LEN at every start alignment, against the reference
 * over the same bytes; run for random bytes, all zeros and all ones. */
static void test_lengths_alignments(void **state)
{
    (void)state;
    uint8_t *src = malloc(MAX_LEN);
    uint8_t *buf = malloc(MAX_LEN + MAX_ALIGN);
    uint32_t *want = malloc((MAX_LEN + 1) * sizeof(*want));
    assert_non_null(src);
    assert_non_null(buf);
    assert_non_null(want);
    for (int pattern = 0; pattern < 3; pattern++) {
        if (pattern == 0)
            fill(src, MAX_LEN, 0x2545F491u);
        else
            memset(src, pattern == 1 ? 0x00 : 0xff, MAX_LEN);
        /* want[n] is the CRC of src[0..n), built a byte at a time. */
        want[0] = 0;
        for (size_t n = 0; n < MAX_LEN; n++)
            want[n + 1] = ref_crc32(want[n], src + n, 1);
        for (size_t align = 0; align < MAX_ALIGN; align++) {
            memset(buf, 0xA5, MAX_LEN + MAX_ALIGN);
            memcpy(buf + align, src, MAX_LEN);
            for (size_t n = 0; n <= MAX_LEN; n++) {
                uint32_t got = rl_crc32(0, buf + align, n);
                if (got != want[n])
                    fail_msg("pattern %d, length %zu, alignment %zu: got %08x, want %08x", pattern,
                             n, align, (unsigned)got, (unsigned)want[n]);
            }
        }
    }
    free(want);
    free(buf);
    free(src);
}

/* Continuing a CRC over two pieces equals one call over the whole, for a
 * split at every point, including a non-zero running CRC into each path. */
static void test_incremental(void **state)
{
    (void)state;
    uint8_t *buf = malloc(MAX_LEN);
    assert_non_null(buf);
    fill(buf, MAX_LEN, 0x9E3779B9u);
    uint32_t whole = rl_crc32(0, buf, MAX_LEN);
    assert_int_equal(whole, ref_crc32(0, buf, MAX_LEN));
    for (size_t k = 0; k <= MAX_LEN; k++) {
        uint32_t two = rl_crc32(rl_crc32(0, buf, k), buf + k, MAX_LEN - k);
        if (two != whole)
            fail_msg("split at %zu: got %08x, want %08x", k, (unsigned)two, (unsigned)whole);
    }
    /* Three pieces, the middle one crossing the folding threshold. */
    for (size_t k = 0; k + 200 <= MAX_LEN; k += 37) {
        uint32_t c = rl_crc32(0, buf, k);
        c = rl_crc32(c, buf + k, 200);
        c = rl_crc32(c, buf + k + 200, MAX_LEN - k - 200);
        assert_int_equal(c, whole);
    }
    free(buf);
}

/* Long buffers (many folding steps) with lengths that leave every tail. */
static void test_long(void **state)
{
    (void)state;
    const size_t max = ((size_t)1 << 20) + 64;
    uint8_t *buf = malloc(max);
    assert_non_null(buf);
    fill(buf, max, 0xDEADBEEFu);
    const size_t lens[] = {65536, 65537, 100000 + 15, (size_t)1 << 20, ((size_t)1 << 20) + 63};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        for (size_t off = 0; off < 2; off++) {
            uint32_t seed = (uint32_t)(i * 0x01000193u);
            assert_int_equal(rl_crc32(seed, buf + off, lens[i]),
                             ref_crc32(seed, buf + off, lens[i]));
        }
    }
    free(buf);
}

/* table[k][n] is the CRC register after byte n followed by k zero bytes,
 * starting from 0, with no init or final XOR: 8 (k + 1) bit steps. */
static void test_table(void **state)
{
    (void)state;
    for (size_t k = 0; k < 16; k++) {
        for (uint32_t n = 0; n < 256; n++) {
            uint32_t reg = n;
            for (size_t b = 0; b < 8 * (k + 1); b++)
                reg = bit_step(reg);
            if (rl_crc32_table[k][n] != reg)
                fail_msg("table[%zu][%u] is %08x, want %08x", k, (unsigned)n,
                         (unsigned)rl_crc32_table[k][n], (unsigned)reg);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_vectors), cmocka_unit_test(test_lengths_alignments),
        cmocka_unit_test(test_incremental),   cmocka_unit_test(test_long),
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
