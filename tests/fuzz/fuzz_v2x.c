/* libFuzzer target for the C-V2X code (v2x.h): the two registered decoders
 * (v2x.csae, v2x.j2735) with detection; every framing (vendor header and
 * batch, DSMP, raw) through rl_v2x_unframe; each frame through
 * rl_v2x_decode and rl_v2x_to_json; and for every frame that decodes, the
 * round trip encode -> decode, which must succeed (unless the message holds
 * an unknown CHOICE extension, which cannot be re-encoded) and give the
 * same JSON, with a second encoding byte-identical to the first. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "roadlog/v2x.h"

#define OUT_BYTES  65536
#define JSON_LIMIT ((size_t)1 << 22)

static void run_decoder(const struct rl_decoder *dec, const struct rl_payload *pl)
{
    struct rl_jw jw;
    char err[256];
    (void)dec->detect(pl);
    rl_jw_init(&jw, JSON_LIMIT);
    rl_jw_obj_begin(&jw);
    int rc = dec->decode(NULL, pl, &jw, err, sizeof(err));
    FUZZ_CHECK(rc <= 0);
    if (rc == 0) {
        rl_jw_obj_end(&jw);
        FUZZ_CHECK(!rl_jw_failed(&jw));
    }
    rl_jw_release(&jw);
}

/* JSON text of m (malloc'd), or NULL when out of memory. */
static char *json_of(const struct rl_v2x_msg *m)
{
    struct rl_jw jw;
    char err[256];
    rl_jw_init(&jw, JSON_LIMIT);
    rl_jw_obj_begin(&jw);
    FUZZ_CHECK(rl_v2x_to_json(m, &jw, err, sizeof(err)) == 0);
    rl_jw_obj_end(&jw);
    FUZZ_CHECK(!rl_jw_failed(&jw));
    char *s = strdup(rl_jw_str_out(&jw, NULL));
    rl_jw_release(&jw);
    return s;
}

static void round_trip(const uint8_t *p, size_t len, struct rl_v2x_msg *m, struct rl_v2x_msg *d,
                       uint8_t *out, uint8_t *out2)
{
    char err[512];
    size_t n, n2;
    if (rl_v2x_decode(p, len, m, err, sizeof(err)) != 0) {
        FUZZ_CHECK(err[0] != '\0');
        return;
    }
    m->ext_skipped = 0; /* skipped additions are not re-encoded */
    char *j1 = json_of(m);
    int rc = rl_v2x_encode(m, out, OUT_BYTES, &n, err, sizeof(err));
    if (rc != 0) {
        FUZZ_CHECK(rc == -EINVAL && strstr(err, "unknown extension") != NULL);
        free(j1);
        return;
    }
    FUZZ_CHECK(rl_v2x_decode(out, n, d, err, sizeof(err)) == 0);
    char *j2 = json_of(d);
    FUZZ_CHECK(j1 && j2 && strcmp(j1, j2) == 0);
    FUZZ_CHECK(rl_v2x_encode(d, out2, OUT_BYTES, &n2, err, sizeof(err)) == 0);
    FUZZ_CHECK(n2 == n && memcmp(out, out2, n) == 0);
    free(j1);
    free(j2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rl_payload pl = {.data = data, .len = size, .linktype = RL_LINKTYPE_PAYLOAD};
    run_decoder(&rl_decoder_v2x_csae, &pl);
    run_decoder(&rl_decoder_v2x_j2735, &pl);

    struct rl_v2x_msg *m = malloc(sizeof(*m)), *d = malloc(sizeof(*d));
    uint8_t *out = malloc(OUT_BYTES), *out2 = malloc(OUT_BYTES);
    if (!m || !d || !out || !out2)
        goto done;
    struct rl_v2x_frames fr;
    char err[256];
    if (rl_v2x_unframe(NULL, 0, data, size, &fr, err, sizeof(err)) == 0) {
        FUZZ_CHECK(fr.n >= 1 && fr.n <= RL_V2X_MAX_FRAMES);
        for (int i = 0; i < fr.n; i++) {
            FUZZ_CHECK(fr.f[i].p >= data && fr.f[i].p + fr.f[i].len <= data + size);
            round_trip(fr.f[i].p, fr.f[i].len, m, d, out, out2);
        }
    }
    if (fr.framing != RL_V2X_FRAMING_RAW)
        round_trip(data, size, m, d, out, out2);

    size_t off, fl;
    uint32_t id;
    struct rl_j2735_bsm_core core;
    if (rl_j2735_find_frame(data, size, &off, &fl, &id) == 0) {
        FUZZ_CHECK(off + fl <= size);
        int rc = rl_j2735_decode(data + off, fl, &id, &core, err, sizeof(err));
        FUZZ_CHECK(rc <= 0);
    }
done:
    free(m);
    free(d);
    free(out);
    free(out2);
    return 0;
}
