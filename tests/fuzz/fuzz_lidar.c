/* Fuzz target: every LiDAR decoder (formats/src/velodyne.c, hesai.c,
 * robosense.c) on arbitrary bytes: detect and decode of the three
 * rl_decoder structs, the typed parse and point functions for every model,
 * and the Hesai angle-correction CSV parser. Invariants: detect scores stay
 * in 0..100, a decode that succeeds leaves well-formed JSON output, one
 * that fails says why, and point decoders never report more points than
 * fit. The seed corpus (corpus/fuzz_lidar/) holds packets built with the
 * encoders. */
#include <string.h>

#include "fuzz_target.h"
#include "roadlog/decode.h"
#include "roadlog/lidar.h"

#define JSON_LIMIT (1u << 20)

/* The UDP port a payload is presented with, taken from its size so every
 * input keeps all of its bytes. */
static uint16_t port_for(size_t size)
{
    static const uint16_t ports[] = {0, RL_VELODYNE_DATA_PORT, RL_VELODYNE_POSITION_PORT,
                                     RL_ROBOSENSE_MSOP_PORT, RL_ROBOSENSE_DIFOP_PORT};
    return ports[size % (sizeof(ports) / sizeof(ports[0]))];
}

static void run_decoder(const struct rl_decoder *dec, const struct rl_payload *pl)
{
    struct rl_decode_ctx ctx;
    struct rl_jw w;
    char err[256];
    memset(&ctx, 0, sizeof(ctx));
    err[0] = '\0';
    int score = dec->detect(pl);
    FUZZ_CHECK(score >= 0 && score <= 100);
    rl_jw_init(&w, JSON_LIMIT);
    rl_jw_obj_begin(&w);
    int rc = dec->decode(&ctx, pl, &w, err, sizeof(err));
    rl_jw_obj_end(&w);
    if (rc == 0) {
        size_t n;
        const char *s = rl_jw_str_out(&w, &n);
        FUZZ_CHECK(!rl_jw_failed(&w));
        FUZZ_CHECK(n >= 2 && s[0] == '{' && s[n - 1] == '}');
        FUZZ_CHECK(strncmp(s, "{\"type\":\"", 9) == 0);
    } else {
        FUZZ_CHECK(rc < 0);
        FUZZ_CHECK(err[0] != '\0');
    }
    rl_jw_release(&w);
}

static void check_points(int rc, size_t n, size_t cap, const struct rl_lidar_point *pts)
{
    FUZZ_CHECK(rc <= 0);
    FUZZ_CHECK(n <= cap);
    if (rc != 0 && rc != RL_ETOOBIG)
        FUZZ_CHECK(n == 0);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(pts[i].azimuth_deg >= 0.0f && pts[i].azimuth_deg < 360.0f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rl_lidar_point pts[RL_HESAI_MAX_POINTS];
    struct rl_payload pl;
    size_t n;
    int rc;
    memset(&pl, 0, sizeof(pl));
    pl.data = data;
    pl.len = size;
    pl.linktype = RL_LINKTYPE_PAYLOAD;
    pl.dst_port = port_for(size);
    pl.src_port = pl.dst_port;
    run_decoder(&rl_decoder_velodyne, &pl);
    run_decoder(&rl_decoder_hesai, &pl);
    run_decoder(&rl_decoder_robosense, &pl);

    for (int m = RL_VELODYNE_UNKNOWN; m <= RL_VELODYNE_HDL32E; m++) {
        rc = rl_velodyne_decode_points((enum rl_velodyne_model)m, data, size, pts,
                                       RL_VELODYNE_MAX_POINTS, &n);
        check_points(rc, n, RL_VELODYNE_MAX_POINTS, pts);
    }
    /* A small output array exercises the overflow path. */
    rc = rl_velodyne_decode_points(RL_VELODYNE_VLP16, data, size, pts, 7, &n);
    check_points(rc, n, 7, pts);
    struct rl_velodyne_position pos;
    rc = rl_velodyne_parse_position(data, size, &pos);
    FUZZ_CHECK(rc <= 0);
    if (rc == 0)
        FUZZ_CHECK(pos.nmea_len <= RL_VELODYNE_NMEA_MAX && strlen(pos.nmea) == pos.nmea_len);

    rc = rl_hesai_decode_points(NULL, data, size, pts, RL_HESAI_MAX_POINTS, &n);
    check_points(rc, n, RL_HESAI_MAX_POINTS, pts);
    struct rl_hesai_calib *cal = NULL;
    char err[128];
    rc = rl_hesai_calib_parse((const char *)data, size, &cal, err, sizeof(err));
    FUZZ_CHECK((rc == 0) == (cal != NULL));
    if (cal) {
        unsigned ch = rl_hesai_calib_channels(cal);
        FUZZ_CHECK(ch >= 1 && ch <= RL_HESAI_CALIB_MAX_CHANNELS);
        rc = rl_hesai_decode_points(cal, data, size, pts, RL_HESAI_MAX_POINTS, &n);
        check_points(rc, n, RL_HESAI_MAX_POINTS, pts);
        rl_hesai_calib_free(cal);
    }

    struct rl_robosense_calib rcal;
    memset(&rcal, 0, sizeof(rcal));
    rc = rl_robosense_calib_from_difop16(data, size, &rcal);
    FUZZ_CHECK(rc <= 0);
    rcal.channels = RL_ROBOSENSE_CHANNELS;
    for (int m = RL_ROBOSENSE_UNKNOWN; m <= RL_ROBOSENSE_RS32; m++) {
        for (int r = RL_ROBOSENSE_RES_5MM; r <= RL_ROBOSENSE_RES_10MM; r++) {
            rc = rl_robosense_decode_points((enum rl_robosense_model)m,
                                            (enum rl_robosense_resolution)r, &rcal, data, size, pts,
                                            RL_ROBOSENSE_MAX_POINTS, &n);
            check_points(rc, n, RL_ROBOSENSE_MAX_POINTS, pts);
        }
    }
    rc = rl_robosense_decode_points(RL_ROBOSENSE_RS16, RL_ROBOSENSE_RES_5MM, NULL, data, size, pts,
                                    RL_ROBOSENSE_MAX_POINTS, &n);
    check_points(rc, n, RL_ROBOSENSE_MAX_POINTS, pts);
    return 0;
}
