/* A bounds-checked little-endian cursor over untrusted bytes. Every read
 * checks the bytes remaining first; a failed read leaves the cursor in the
 * failed state, so a parser can do a run of reads and check once. */
#ifndef RL_CURSOR_H
#define RL_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rl_cursor {
    const uint8_t *p;
    size_t left;
    bool failed;
};

static inline void rl__cursor_init(struct rl_cursor *c, const void *p, size_t len)
{
    c->p = p;
    c->left = len;
    c->failed = false;
}

static inline bool rl__cursor_take(struct rl_cursor *c, size_t n, const uint8_t **out)
{
    if (c->failed || n > c->left) {
        c->failed = true;
        *out = NULL;
        return false;
    }
    *out = c->p;
    c->p += n;
    c->left -= n;
    return true;
}

static inline uint8_t rl__cursor_u8(struct rl_cursor *c)
{
    const uint8_t *b;
    return rl__cursor_take(c, 1, &b) ? b[0] : 0;
}

static inline uint16_t rl__cursor_u16(struct rl_cursor *c)
{
    const uint8_t *b;
    if (!rl__cursor_take(c, 2, &b))
        return 0;
    return (uint16_t)(b[0] | (uint16_t)b[1] << 8);
}

static inline uint16_t rl__get_u16le(const uint8_t *b)
{
    return (uint16_t)(b[0] | (uint16_t)b[1] << 8);
}

static inline uint32_t rl__get_u32le(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint64_t rl__get_u64le(const uint8_t *b)
{
    return (uint64_t)rl__get_u32le(b) | (uint64_t)rl__get_u32le(b + 4) << 32;
}

static inline uint32_t rl__cursor_u32(struct rl_cursor *c)
{
    const uint8_t *b;
    return rl__cursor_take(c, 4, &b) ? rl__get_u32le(b) : 0;
}

static inline uint64_t rl__cursor_u64(struct rl_cursor *c)
{
    const uint8_t *b;
    return rl__cursor_take(c, 8, &b) ? rl__get_u64le(b) : 0;
}

static inline void rl__put_u16le(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}

static inline void rl__put_u32le(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static inline void rl__put_u64le(uint8_t *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

#endif
