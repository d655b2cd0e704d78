/* Chunk compression and decompression for the MCAP Chunk record's
 * `compression` field (MCAP Format Specification, "Chunk"): "zstd" (a zstd
 * frame), "lz4" (an LZ4 *frame*, lz4frame.h, not a raw block) and "" (none;
 * "none" is accepted on read as well). No globals: a one-shot call makes and
 * frees its own library contexts, and an rl__compressor keeps a ZSTD_CCtx
 * alive for a caller that compresses chunk after chunk (the writer keeps one
 * per chunk job, so parallel jobs never share one). Decompression insists on
 * exactly the announced number of bytes: a stream that yields fewer or more
 * is corrupt. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <lz4frame.h>
#include <zstd.h>

#include "compress.h"

struct rl__compressor {
    ZSTD_CCtx *zstd; /* made on first zstd use */
};

int rl__compressor_new(struct rl__compressor **out)
{
    struct rl__compressor *cz = calloc(1, sizeof(*cz));
    if (!cz)
        return -ENOMEM;
    *out = cz;
    return 0;
}

void rl__compressor_free(struct rl__compressor *cz)
{
    if (!cz)
        return;
    ZSTD_freeCCtx(cz->zstd);
    free(cz);
}

/* The frame settings used both for the bound and for compressing, so the
 * bound always matches. The content size is recorded in the frame header so
 * any lz4 tool can size its output. */
static void lz4_prefs(LZ4F_preferences_t *prefs, size_t len)
{
    memset(prefs, 0, sizeof(*prefs));
    prefs->frameInfo.contentSize = (unsigned long long)len;
    prefs->frameInfo.blockSizeID = LZ4F_max4MB;
}

size_t rl__compress_bound(enum rl_compression c, size_t len)
{
    LZ4F_preferences_t prefs;
    switch (c) {
    case RL_COMPRESS_ZSTD:
        return ZSTD_compressBound(len);
    case RL_COMPRESS_LZ4:
        lz4_prefs(&prefs, len);
        return LZ4F_compressFrameBound(len, &prefs);
    case RL_COMPRESS_NONE:
        break;
    }
    return len;
}

static int zstd_compress(struct rl__compressor *cz, int level, const void *src, size_t len,
                         void *dst, size_t dst_cap, size_t *dst_len)
{
    ZSTD_CCtx *own = NULL;
    ZSTD_CCtx *cctx;
    int rc = RL_ECOMPRESS;

    if (cz) {
        if (!cz->zstd)
            cz->zstd = ZSTD_createCCtx();
        cctx = cz->zstd;
    } else {
        own = ZSTD_createCCtx();
        cctx = own;
    }
    if (!cctx) {
        rc = -ENOMEM;
        goto fail;
    }
    size_t n = ZSTD_compressCCtx(cctx, dst, dst_cap, src, len, level);
    if (ZSTD_isError(n))
        goto fail;
    *dst_len = n;
    rc = 0;
fail:
    ZSTD_freeCCtx(own);
    return rc;
}

static int lz4_compress(const void *src, size_t len, void *dst, size_t dst_cap, size_t *dst_len)
{
    LZ4F_preferences_t prefs;
    lz4_prefs(&prefs, len);
    size_t n = LZ4F_compressFrame(dst, dst_cap, src, len, &prefs);
    if (LZ4F_isError(n))
        return RL_ECOMPRESS;
    *dst_len = n;
    return 0;
}

int rl__compress_ctx(struct rl__compressor *cz, enum rl_compression c, int level, const void *src,
                     size_t len, void *dst, size_t dst_cap, size_t *dst_len)
{
    switch (c) {
    case RL_COMPRESS_ZSTD:
        return zstd_compress(cz, level, src, len, dst, dst_cap, dst_len);
    case RL_COMPRESS_LZ4:
        return lz4_compress(src, len, dst, dst_cap, dst_len);
    case RL_COMPRESS_NONE:
        break;
    }
    if (dst_cap < len)
        return RL_ECOMPRESS;
    if (len > 0)
        memcpy(dst, src, len);
    *dst_len = len;
    return 0;
}

int rl__compress(enum rl_compression c, int level, const void *src, size_t len, void *dst,
                 size_t dst_cap, size_t *dst_len)
{
    return rl__compress_ctx(NULL, c, level, src, len, dst, dst_cap, dst_len);
}

static int zstd_decompress(const void *src, size_t len, void *dst, size_t dst_len)
{
    size_t n = ZSTD_decompress(dst, dst_len, src, len);
    if (ZSTD_isError(n) || n != dst_len)
        return RL_ECORRUPT;
    return 0;
}

/* Decodes one or more concatenated LZ4 frames. Once dst is full the decoder
 * gets a one-byte scratch buffer, so output beyond dst_len is detected
 * rather than silently cut off. */
static int lz4_decompress(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_len)
{
    LZ4F_dctx *dctx = NULL;
    uint8_t scratch[1];
    size_t in = 0, out = 0;
    int rc = RL_ECORRUPT;

    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) {
        rc = -ENOMEM;
        goto fail;
    }
    for (;;) {
        bool spill = out == dst_len;
        uint8_t *d = spill ? scratch : dst + out;
        size_t dn = spill ? sizeof(scratch) : dst_len - out;
        size_t sn = len - in;
        size_t hint = LZ4F_decompress(dctx, d, &dn, src + in, &sn, NULL);
        if (LZ4F_isError(hint))
            goto fail;
        if (spill && dn > 0)
            goto fail; /* more output than announced */
        in += sn;
        out += spill ? 0 : dn;
        if (hint == 0 && in == len)
            break; /* a frame ended exactly at the end of the input */
        if (hint != 0 && in == len && dn == 0)
            goto fail; /* input ends inside a frame */
        if (sn == 0 && dn == 0)
            goto fail; /* no progress */
    }
    if (out != dst_len)
        goto fail;
    rc = 0;
fail:
    LZ4F_freeDecompressionContext(dctx);
    return rc;
}

static bool name_is(struct rl_str s, const char *name)
{
    size_t n = strlen(name);
    return s.len == n && memcmp(s.ptr, name, n) == 0;
}

int rl__decompress(struct rl_str compression, const void *src, size_t len, void *dst,
                   size_t dst_len)
{
    if (compression.len == 0 || name_is(compression, "none")) {
        if (len != dst_len)
            return RL_ECORRUPT;
        if (len > 0)
            memcpy(dst, src, len);
        return 0;
    }
    if (name_is(compression, "zstd"))
        return zstd_decompress(src, len, dst, dst_len);
    if (name_is(compression, "lz4"))
        return lz4_decompress(src, len, dst, dst_len);
    return RL_EUNSUPPORTED;
}
