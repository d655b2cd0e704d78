/* Chunk compression and decompression (zstd, lz4 frame, none), internal to
 * formats/. Functions on caller buffers: no state kept between calls except
 * in an rl__compressor the caller owns; safe to call from several threads on
 * different buffers (and different compressors). */
#ifndef RL_COMPRESS_H
#define RL_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "roadlog/error.h"
#include "roadlog/mcap.h"

/* Upper bound of the compressed size of len bytes. */
size_t rl__compress_bound(enum rl_compression c, size_t len);

/* Compresses src into dst (dst_cap >= rl__compress_bound()); *dst_len gets
 * the compressed size. Returns 0, RL_ECOMPRESS or -ENOMEM. */
int rl__compress(enum rl_compression c, int level, const void *src, size_t len, void *dst,
                 size_t dst_cap, size_t *dst_len) RL_WARN_UNUSED;

/* A reusable compression context (it keeps a ZSTD_CCtx between calls, so
 * compressing chunk after chunk allocates nothing). Used by one thread at a
 * time. rl__compressor_new() returns 0 or -ENOMEM; free accepts NULL. */
struct rl__compressor;
int rl__compressor_new(struct rl__compressor **out) RL_WARN_UNUSED;
void rl__compressor_free(struct rl__compressor *cz);

/* rl__compress() reusing cz's contexts; cz may be NULL (one-shot contexts).
 * Returns 0, RL_ECOMPRESS or -ENOMEM. */
int rl__compress_ctx(struct rl__compressor *cz, enum rl_compression c, int level, const void *src,
                     size_t len, void *dst, size_t dst_cap, size_t *dst_len) RL_WARN_UNUSED;

/* Decompresses src into dst, which must receive exactly dst_len bytes (the
 * chunk's uncompressed_size). Returns 0, RL_ECORRUPT (bad stream or wrong
 * size), RL_EUNSUPPORTED (unknown compression name) or -ENOMEM. */
int rl__decompress(struct rl_str compression, const void *src, size_t len, void *dst,
                   size_t dst_len) RL_WARN_UNUSED;

#endif
