/* Fuzz target: the serial framer (NMEA / UBX / RTCM 3) fed the input in
 * chunks whose sizes come from the input itself, and the UBX parser and
 * decoder on every UBX frame. Invariants: every byte is either in exactly
 * one frame or counted as skipped; frames lie inside the framer's buffer
 * and are valid for their kind; the same frames come out whatever the
 * chunking. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "roadlog/decode.h"
#include "roadlog/framer.h"
#include "roadlog/gnss.h"

#define JSON_LIMIT 65536

struct totals {
    size_t frames, bytes;
    uint32_t digest; /* order-sensitive summary of the frames */
};

static void on_frame(const struct rl_framer *f, const struct rl_frame *fr, struct totals *t)
{
    FUZZ_CHECK(fr->data >= f->buf && fr->data + fr->len <= f->buf + sizeof(f->buf));
    FUZZ_CHECK(fr->len > 0);
    t->frames++;
    t->bytes += fr->len;
    t->digest = t->digest * 31u + (uint32_t)fr->kind * 7u + (uint32_t)fr->len;
    if (fr->kind == RL_FRAME_UBX) {
        struct rl_ubx_msg m;
        FUZZ_CHECK(rl_ubx_parse(fr->data, fr->len, &m) == 0);
        struct rl_payload pl = {.data = fr->data, .len = fr->len};
        FUZZ_CHECK(rl_decoder_ubx.detect(&pl) == 100);
        struct rl_jw w;
        char err[256];
        rl_jw_init(&w, JSON_LIMIT);
        rl_jw_obj_begin(&w);
        int rc = rl_decoder_ubx.decode(NULL, &pl, &w, err, sizeof(err));
        /* Only a NAV-PVT with a short payload may fail. */
        FUZZ_CHECK(rc == 0 || (m.cls == RL_UBX_CLASS_NAV && m.id == RL_UBX_ID_NAV_PVT));
        rl_jw_release(&w);
    } else if (fr->kind == RL_FRAME_RTCM3) {
        size_t n = fr->len - RL_RTCM3_CRC_LEN;
        const uint8_t *c = fr->data + n;
        FUZZ_CHECK(fr->data[0] == RL_RTCM3_PREAMBLE);
        FUZZ_CHECK(rl_rtcm3_crc24q(fr->data, n) ==
                   ((uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2]));
    } else {
        FUZZ_CHECK(fr->kind == RL_FRAME_NMEA);
        FUZZ_CHECK(fr->data[0] == '$' || fr->data[0] == '!');
        FUZZ_CHECK(fr->len <= RL_FRAMER_NMEA_MAX);
    }
}

static void run(const uint8_t *data, size_t size, const uint8_t *chunks, size_t n_chunks,
                struct totals *t, struct rl_framer *f)
{
    struct rl_frame fr;
    size_t off = 0, ci = 0;
    rl_framer_init(f);
    memset(t, 0, sizeof(*t));
    while (off < size) {
        size_t want = n_chunks ? (size_t)chunks[ci++ % n_chunks] * 37u + 1u : size;
        size_t k = want < size - off ? want : size - off;
        size_t took = rl_framer_push(f, data + off, k);
        FUZZ_CHECK(took > 0);
        off += took;
        while (rl_framer_next(f, &fr) == 1)
            on_frame(f, &fr, t);
    }
    rl_framer_finish(f);
    while (rl_framer_next(f, &fr) == 1)
        on_frame(f, &fr, t);
    FUZZ_CHECK(t->bytes + f->stats.skipped_bytes == size);
    FUZZ_CHECK(f->stats.nmea + f->stats.ubx + f->stats.rtcm3 == t->frames);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rl_framer *f = malloc(sizeof(*f));
    struct totals whole, chunked;
    if (!f)
        return 0;
    run(data, size, NULL, 0, &whole, f);
    /* The first bytes choose chunk sizes for a second pass over all bytes. */
    size_t n_chunks = size < 8 ? size : 8;
    run(data, size, data, n_chunks, &chunked, f);
    FUZZ_CHECK(whole.frames == chunked.frames && whole.digest == chunked.digest);
    free(f);

    struct rl_ubx_msg m;
    if (rl_ubx_parse(data, size, &m) == 0)
        FUZZ_CHECK(m.len + (size_t)RL_UBX_OVERHEAD == size);
    struct rl_ubx_nav_pvt pvt;
    if (rl_ubx_nav_pvt_parse(data, size, &pvt) == 0) {
        uint8_t out[RL_UBX_NAV_PVT_LEN];
        FUZZ_CHECK(rl_ubx_nav_pvt_encode(&pvt, out, sizeof(out)) == RL_UBX_NAV_PVT_LEN);
        /* The integer fields survive a round trip exactly. */
        FUZZ_CHECK(memcmp(out, data, 24) == 0);
    }
    return 0;
}
