/* CRC-32 (ISO-HDLC: reflected polynomial 0xEDB88320, init and final XOR
 * 0xFFFFFFFF, as zlib and MCAP use) for rl_crc32() in roadlog/mcap.h. MCAP
 * (Format Specification v0x30, "Chunk", "Attachment", "Data End", "Footer")
 * puts it over every chunk, attachment, the data section and the summary, so
 * the writer and the reader run it over every byte. Two implementations
 * compute the same function: slicing-by-16 with the tables of crc32_table.h
 * (portable; also used for short inputs and for the last 0..15 bytes), and on
 * x86-64 CPUs with PCLMULQDQ and SSE4.1 the carry-less-multiplication
 * folding of Intel's white paper "Fast CRC Computation for Generic
 * Polynomials Using PCLMULQDQ Instruction" (Gopal et al., 2009). The choice
 * is made on every call with __builtin_cpu_supports(), which only reads a
 * word libgcc filled in at start-up, so there is no state of our own; only
 * the folding function is compiled for pclmul/sse4.1 (target attribute), so
 * the rest of the build keeps the default flags and runs on any x86-64.
 *
 * The folding method, in the bit-reflected form used here. A 16-byte block
 * loaded little-endian is a polynomial of degree < 128 whose bit i is the
 * coefficient of x^(127-i) (byte 0, bit 0 is the highest power, as the CRC
 * sees the stream), and the CRC of a message M (with the running CRC XORed
 * into its first 4 bytes) is M(x) * x^32 mod P(x), P = 0x104C11DB7. Four
 * 128-bit accumulators take 64 bytes per step: an accumulator A = H x^64 + L
 * (H its low 8 bytes, the higher powers) moves 512 bits on, onto the block
 * that is 64 bytes further, as H * (x^576 mod P) + L * (x^512 mod P), which
 * is congruent mod P and fits in 128 bits. PCLMULQDQ on reflected operands
 * yields the reflected product one bit low, and an operand whose bit j is the
 * coefficient of x^(32-j) adds a factor x^32 of its own, so a shift by s bits
 * uses the 33-bit constant k(s - 32) = reflect32(x^(s-32) mod P) << 1.
 * After the loop the four accumulators fold into one (16 bytes apart:
 * k(160), k(96)), the remaining whole blocks fold in the same way, and the
 * 128-bit remainder R becomes a 64-bit W congruent to R x^32 in two steps
 * (k(96) and k(64)), which a Barrett reduction takes to W mod P with
 * mu = floor(x^64 / P) and P itself, both reflected over 33 bits.
 *
 * The constants, k(n) = reflect32(x^n mod P) << 1, were computed from the
 * polynomial with a small GF(2) program (x^n mod P by n shift-and-XOR steps,
 * mu by long division of x^64 by P) and match the published fold-by-4
 * constants of Intel's paper as used in zlib-ng (arch/x86, crc32_fold) and
 * the Linux kernel (arch/x86/crypto/crc32-pclmul_asm.S). test_crc32 checks
 * this code against a bitwise CRC at every length 0..4096 and alignment
 * 0..15, so a wrong constant cannot pass. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crc32_table.h"
#include "cursor.h"
#include "roadlog/mcap.h"

/* Shortest input worth the folding path: it needs four 16-byte blocks to
 * start, and below that slicing-by-16 is as fast. */
#define CRC32_CLMUL_MIN_BYTES 64

/* Slicing-by-16 on the inverted running CRC s; returns it inverted. */
static uint32_t crc32_slice16(uint32_t s, const uint8_t *p, size_t len)
{
    while (len >= 16) {
        uint32_t a = s ^ rl__get_u32le(p);
        uint32_t b = rl__get_u32le(p + 4);
        uint32_t c = rl__get_u32le(p + 8);
        uint32_t d = rl__get_u32le(p + 12);
        s = rl_crc32_table[15][a & 0xff] ^ rl_crc32_table[14][(a >> 8) & 0xff] ^
            rl_crc32_table[13][(a >> 16) & 0xff] ^ rl_crc32_table[12][a >> 24] ^
            rl_crc32_table[11][b & 0xff] ^ rl_crc32_table[10][(b >> 8) & 0xff] ^
            rl_crc32_table[9][(b >> 16) & 0xff] ^ rl_crc32_table[8][b >> 24] ^
            rl_crc32_table[7][c & 0xff] ^ rl_crc32_table[6][(c >> 8) & 0xff] ^
            rl_crc32_table[5][(c >> 16) & 0xff] ^ rl_crc32_table[4][c >> 24] ^
            rl_crc32_table[3][d & 0xff] ^ rl_crc32_table[2][(d >> 8) & 0xff] ^
            rl_crc32_table[1][(d >> 16) & 0xff] ^ rl_crc32_table[0][d >> 24];
        p += 16;
        len -= 16;
    }
    while (len--)
        s = (s >> 8) ^ rl_crc32_table[0][(s ^ *p++) & 0xff];
    return s;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* k(n) = reflect32(x^n mod P) << 1; see the top of the file. */
#define K_544 0x154442bd4u /* fold by 64 bytes, low half (x^576 in all) */
#define K_480 0x1c6e41596u /* fold by 64 bytes, high half (x^512) */
#define K_160 0x1751997d0u /* fold by 16 bytes, low half (x^192) */
#define K_96  0x0ccaa009eu /* fold by 16 bytes, high half (x^128); also 128 -> 64 bits */
#define K_64  0x163cd6124u /* 96 -> 64 bits */
#define MU    0x1f7011641u /* reflect33(floor(x^64 / P)) */
#define POLY  0x1db710641u /* reflect33(P) */

static bool clmul_usable(void)
{
    return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
}

/* Moves accumulator a on by the distance the constants in k encode (low
 * half times k's low half, high half times its high half) and adds the
 * block d that lies there. */
__attribute__((target("pclmul,sse4.1"))) static inline __m128i fold(__m128i a, __m128i k, __m128i d)
{
    __m128i lo = _mm_clmulepi64_si128(a, k, 0x00);
    __m128i hi = _mm_clmulepi64_si128(a, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(lo, hi), d);
}

__attribute__((target("pclmul,sse4.1"))) static inline __m128i load(const uint8_t *p)
{
    return _mm_loadu_si128((const void *)p);
}

/* Folding on the inverted running CRC s over len bytes, len a multiple of
 * 16 and at least CRC32_CLMUL_MIN_BYTES; returns the new s. */
__attribute__((target("pclmul,sse4.1"))) static uint32_t crc32_clmul(uint32_t s, const uint8_t *p,
                                                                     size_t len)
{
    const __m128i k64 = _mm_set_epi64x(K_480, K_544);
    const __m128i k16 = _mm_set_epi64x(K_96, K_160);
    const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);
    __m128i a0 = _mm_xor_si128(load(p), _mm_cvtsi32_si128((int)s));
    __m128i a1 = load(p + 16);
    __m128i a2 = load(p + 32);
    __m128i a3 = load(p + 48);
    p += 64;
    len -= 64;
    while (len >= 64) {
        a0 = fold(a0, k64, load(p));
        a1 = fold(a1, k64, load(p + 16));
        a2 = fold(a2, k64, load(p + 32));
        a3 = fold(a3, k64, load(p + 48));
        p += 64;
        len -= 64;
    }
    a0 = fold(a0, k16, a1);
    a0 = fold(a0, k16, a2);
    a0 = fold(a0, k16, a3);
    while (len >= 16) {
        a0 = fold(a0, k16, load(p));
        p += 16;
        len -= 16;
    }

    /* R = H x^64 + L -> H (x^96 mod P) x^32 + L x^64, congruent to R x^64;
     * its low 32 powers are zero, so it is T x^32 with T congruent to
     * R x^32, the CRC still to be reduced. */
    __m128i t = _mm_xor_si128(_mm_clmulepi64_si128(a0, k16, 0x10), _mm_srli_si128(a0, 8));
    /* T = A x^64 + B (A its 32 highest powers) -> W = A (x^64 mod P) + B,
     * congruent to T and of degree < 64: the low 64 bits. */
    __m128i k5 = _mm_set_epi64x(0, K_64);
    __m128i w = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(t, mask32), k5, 0x00),
                              _mm_srli_si128(t, 4));
    /* Barrett: q = floor(floor(W / x^32) * mu / x^32), crc = (W + q P) mod
     * x^32, which in reflected form sits in bits 32..63. */
    __m128i mp = _mm_set_epi64x(MU, POLY);
    __m128i q = _mm_clmulepi64_si128(_mm_and_si128(w, mask32), mp, 0x10);
    __m128i qp = _mm_clmulepi64_si128(_mm_and_si128(q, mask32), mp, 0x00);
    return (uint32_t)_mm_extract_epi32(_mm_xor_si128(w, qp), 1);
}
#else
static bool clmul_usable(void)
{
    return false;
}

static uint32_t crc32_clmul(uint32_t s, const uint8_t *p, size_t len)
{
    (void)p;
    (void)len;
    return s;
}
#endif

uint32_t rl_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t s = ~crc;
    if (len >= CRC32_CLMUL_MIN_BYTES && clmul_usable()) {
        size_t whole = len & ~(size_t)15;
        s = crc32_clmul(s, p, whole);
        p += whole;
        len -= whole;
    }
    return ~crc32_slice16(s, p, len);
}
