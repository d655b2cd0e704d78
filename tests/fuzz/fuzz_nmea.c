/* Fuzz target: the NMEA 0183 parser (rl_nmea_parse), the "nmea" decoder and
 * the encoders. Invariants: a sentence that parses also decodes; decoded
 * positions are in range; fields lie inside the input; what the encoders
 * write from a parsed GGA/RMC/VTG/HDT parses again as the same kind. */
#include <math.h>
#include <string.h>

#include "fuzz_target.h"
#include "roadlog/decode.h"
#include "roadlog/gnss.h"

#define JSON_LIMIT 65536

static void check_reencode(const struct rl_nmea *m)
{
    char out[RL_NMEA_MAX_LEN];
    struct rl_nmea back;
    int n = -1;
    const char *talker = m->talker[0] ? m->talker : "GP";
    switch (m->kind) {
    case RL_NMEA_GGA:
        n = rl_nmea_format_gga(out, sizeof(out), talker, &m->u.gga);
        break;
    case RL_NMEA_RMC:
        n = rl_nmea_format_rmc(out, sizeof(out), talker, &m->u.rmc);
        break;
    case RL_NMEA_VTG:
        n = rl_nmea_format_vtg(out, sizeof(out), talker, &m->u.vtg);
        break;
    case RL_NMEA_HDT:
        n = rl_nmea_format_hdt(out, sizeof(out), talker, &m->u.hdt);
        break;
    default:
        return;
    }
    if (n < 0) /* values the standard's field widths cannot carry */
        return;
    FUZZ_CHECK((size_t)n == strlen(out) && n <= RL_NMEA_STD_MAX_LEN);
    FUZZ_CHECK(rl_nmea_parse(out, (size_t)n, &back) == 0);
    FUZZ_CHECK(back.kind == m->kind && back.checksum_present);
    if (m->kind == RL_NMEA_GGA) {
        FUZZ_CHECK(back.u.gga.fix_quality == m->u.gga.fix_quality);
        FUZZ_CHECK(isnan(back.u.gga.lat_deg) == isnan(m->u.gga.lat_deg));
        if (!isnan(m->u.gga.lat_deg))
            FUZZ_CHECK(fabs(back.u.gga.lat_deg - m->u.gga.lat_deg) < 1e-6);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rl_nmea m;
    const char *s = (const char *)data;
    int rc = rl_nmea_parse(s, size, &m);
    for (size_t i = 0; i < m.n_fields; i++)
        FUZZ_CHECK((size_t)m.fields[i].off + m.fields[i].len <= size);
    if (rc == 0) {
        /* Absent (NaN) or in range. */
        if (m.kind == RL_NMEA_GGA)
            FUZZ_CHECK(!(fabs(m.u.gga.lat_deg) > 90.0) && !(fabs(m.u.gga.lon_deg) > 180.0));
        if (m.kind == RL_NMEA_RMC)
            FUZZ_CHECK(!(fabs(m.u.rmc.lat_deg) > 90.0) && !(fabs(m.u.rmc.lon_deg) > 180.0));
        check_reencode(&m);
    } else if (rc == RL_ECORRUPT && m.bad_field >= 0) {
        FUZZ_CHECK((size_t)m.bad_field < m.n_fields);
    }
    struct rl_payload pl = {.data = data, .len = size, .linktype = RL_LINKTYPE_PAYLOAD};
    int score = rl_decoder_nmea.detect(&pl);
    FUZZ_CHECK(score >= 0 && score <= 100);
    struct rl_jw w;
    char err[256];
    rl_jw_init(&w, JSON_LIMIT);
    rl_jw_obj_begin(&w);
    int drc = rl_decoder_nmea.decode(NULL, &pl, &w, err, sizeof(err));
    rl_jw_obj_end(&w);
    FUZZ_CHECK((drc == 0) == (rc == 0));
    if (drc == 0)
        FUZZ_CHECK(!rl_jw_failed(&w));
    else
        FUZZ_CHECK(strlen(err) > 0);
    rl_jw_release(&w);
    return 0;
}
