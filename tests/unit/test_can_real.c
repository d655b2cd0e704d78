/* Golden checks of the CAN formats on real data from ../shared/data/real:
 * the Ford FG Falcon candump log with the car's (hand-edited, partly
 * malformed) DBC, and the Great Wall Haval H6 PHEV CAN FD DBC of opendbc.
 *
 * Usage: test_can_real [SHARED_DATA_DIR] (or env RL_SHARED_DATA); exits 77
 * when the data is not there.
 *
 * Expected figures, established with Python over the same files (regular
 * expressions, int(x, 16), bytes.fromhex), independently of this code:
 *   candump-2021-01-22_135811.log: 11,694 lines "(s.us) can0 ID#DATA R",
 *     all 11-bit ids, all 8 data bytes, 37 distinct ids, most frequent 0x353
 *     (1,478 frames) and 0x330 (1,232); first 1611284291.562086, last
 *     1611284365.482109.
 *   falcon.dbc: 73 BO_ lines, 70 of them well formed (the others have the id
 *     "XXX", no size, no name); 263 well-formed SG_ lines inside those
 *     messages (the same grammar as a regular expression: byte order 0/1,
 *     within 64 bytes, first definition of a name per message). The log's
 *     ids hit 38 BO_ entries (the file defines some ids more than once),
 *     32 distinct ids, 10,732 frames.
 *   gwm_haval_h6_phev_2024.dbc: 27 BO_ (16 of 64 bytes, 5 of 16, 6 of 8),
 *     135 SG_, no malformed line.
 * Hand-computed signal values (falcon.dbc):
 *   0x30F 0a0a0a0a0a060000: MSG8.BatteryVoltage 24|8@1+ (0.1,0) = byte 3
 *     0x0A * 0.1 = 1.0 "Volts".
 *   0x313 8f00000000000000: IntActTemp.InteriorActualTemperature 7|8@0+
 *     (0.166667,0) = 0x8F * 0.166667 = 23.833381 "Degrees_C" (Motorola).
 *   0x353 029c01011bb46780: HvacData.VentStatus byte 0 = 2,
 *     PassengerTargetTemp byte 3 = 1, DriverTargetTemp byte 4 = 27,
 *     FanSpeedTarget byte 7 = 128.
 *   0x2F2 0a12110e09494500: SWCMediaControlBtns.AudioVolumeLevel byte 0 =
 *     10 -> VAL_ label "Vol_Lvl_20"; AudioCurrentMediaMode byte 6 = 69 ->
 *     "FM_AM_MODE_ACTIVE"; SteeringWheelControlsLeft_ms byte 7 = 0 ->
 *     "No Description". */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_min.h"
#include "roadlog/can.h"
#include "roadlog/decode.h"

#define EXIT_SKIP      77
#define MAX_FILE_BYTES ((size_t)16 << 20)
#define JSON_LIMIT     65536
#define FORD_FRAMES    11694
#define CAN_IDS        2048

static const char *data_root;

struct blob {
    char *p;
    size_t n;
};

static struct blob read_file(const char *rel)
{
    char path[4096];
    struct blob b = {0};
    (void)snprintf(path, sizeof(path), "%s/real/%s", data_root, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    b.p = malloc(MAX_FILE_BYTES);
    assert_non_null(b.p);
    b.n = fread(b.p, 1, MAX_FILE_BYTES, f);
    assert_int_equal(ferror(f), 0);
    assert_int_equal(fclose(f), 0);
    return b;
}

static struct rl_dbc *load_dbc(const char *rel)
{
    struct blob b = read_file(rel);
    struct rl_dbc *d;
    char err[256];
    int rc = rl_dbc_parse(b.p, b.n, &d, err, sizeof(err));
    if (rc != 0)
        fail_msg("%s: %s", rel, err);
    free(b.p);
    return d;
}

/* The "can" decoder's JSON for a frame. */
static struct json_value *decode(const struct rl_dbc *dbc, const struct rl_can_frame *f)
{
    uint8_t buf[RL_SOCKETCAN_FD_MTU];
    int n = rl_socketcan_format(f, buf, sizeof(buf));
    assert_true(n > 0);
    struct rl_payload pl = {.data = buf, .len = (size_t)n, .linktype = RL_LINKTYPE_CAN_SOCKETCAN};
    struct rl_decode_ctx ctx = {.dbc = dbc};
    struct rl_jw w;
    char err[256], jerr[128];
    rl_jw_init(&w, JSON_LIMIT);
    rl_jw_obj_begin(&w);
    assert_int_equal(rl_decoder_can.decode(&ctx, &pl, &w, err, sizeof(err)), 0);
    rl_jw_obj_end(&w);
    size_t len;
    const char *s = rl_jw_str_out(&w, &len);
    struct json_value *v = json_parse(s, len, jerr, sizeof(jerr));
    if (!v)
        fail_msg("invalid JSON (%s): %s", jerr, s);
    rl_jw_release(&w);
    return v;
}

static double num(const struct json_value *o, const char *key)
{
    const struct json_value *v = json_get(o, key);
    if (!v || v->type != JSON_NUMBER)
        fail_msg("no number '%s'", key);
    return strtod(v->text, NULL);
}

static const char *str(const struct json_value *o, const char *key)
{
    const struct json_value *v = json_get(o, key);
    if (!v || v->type != JSON_STRING)
        fail_msg("no string '%s'", key);
    return v->text;
}

static void test_falcon_dbc(void **state)
{
    (void)state;
    struct rl_dbc *d = load_dbc("candump-ford-falcon/falcon.dbc");
    assert_string_equal(rl_dbc_version(d), "0.1");
    assert_int_equal(rl_dbc_message_count(d), 70);
    assert_int_equal(rl_dbc_signal_count(d), 263);
    /* The statements this parser skipped (its own count, kept as a
     * regression figure: mostly the file's hundreds of "VAL_ Name" lines
     * without ';'). The first ones name their lines. */
    assert_int_equal(rl_dbc_problem_count(d), 716);
    assert_true(strncmp(rl_dbc_problem(d, 0), "line 35: ", 9) == 0);
    assert_true(strncmp(rl_dbc_problem(d, 7), "line 54: ", 9) == 0);
    /* Duplicated ids: the first definition is found. */
    const struct rl_dbc_message *m = rl_dbc_find(d, 864);
    assert_string_equal(m->name, "ReverseParkingSenseSystem");
    assert_int_equal(m->n_signals, 11);
    m = rl_dbc_find(d, 0x70); /* written "0x70" in the file */
    assert_non_null(m);
    assert_string_equal(m->name, "AbsYaw_");
    m = rl_dbc_find(d, 2024);
    /* OBD-II: 148 SG_ lines (awk), 145 of them "mN", one "M" multiplexer. */
    assert_int_equal(m->n_signals, 148);
    size_t muxed = 0, muxer = 0;
    for (size_t i = 0; i < m->n_signals; i++) {
        muxed += m->signals[i].is_multiplexed;
        muxer += m->signals[i].is_multiplexer;
    }
    assert_int_equal(muxed, 145);
    assert_int_equal(muxer, 1);
    rl_dbc_free(d);
}

static void test_gwm_dbc(void **state)
{
    (void)state;
    struct rl_dbc *d = load_dbc("dbc-opendbc/gwm_haval_h6_phev_2024.dbc");
    assert_int_equal(rl_dbc_message_count(d), 27);
    assert_int_equal(rl_dbc_signal_count(d), 135);
    assert_int_equal(rl_dbc_problem_count(d), 0);
    size_t by_size[RL_DBC_MAX_BYTES + 1] = {0}, fd = 0;
    for (size_t i = 0; i < rl_dbc_message_count(d); i++) {
        const struct rl_dbc_message *m = rl_dbc_message_at(d, i);
        by_size[m->size]++;
        fd += m->fd;
    }
    assert_int_equal(by_size[64], 16);
    assert_int_equal(by_size[16], 5);
    assert_int_equal(by_size[8], 6);
    assert_int_equal(fd, 21);
    /* A 64-byte frame built with the encoder and decoded back. BO_ 96
     * REQ_REVIEW_POWER_CONSUMPTION : 144|9@0+ (1,-175): MSB at byte 18 bit
     * 0, then byte 19 bits 7..0; bytes 18 = 0x01, 19 = 0x2C give raw 0x12C =
     * 300, physical 125. BO_ 259 SPEED : 239|8@0+ (1,0) is byte 29. */
    const struct rl_dbc_message *m = rl_dbc_find(d, 96);
    assert_non_null(m);
    struct rl_can_frame f = {.id = 96, .fd = true, .len = 64};
    f.data[18] = 0x01;
    f.data[19] = 0x2C;
    struct json_value *v = decode(d, &f);
    assert_string_equal(str(v, "message"), "CAR_OVERALL_SIGNALS2");
    assert_true(json_get(v, "fd")->boolean);
    assert_float_equal(num(json_get(v, "signals"), "REQ_REVIEW_POWER_CONSUMPTION"), 125, 0);
    json_free(v);
    const struct rl_dbc_message *sp = rl_dbc_find(d, 259);
    memset(f.data, 0, sizeof(f.data));
    f.id = 259;
    for (size_t i = 0; i < sp->n_signals; i++)
        if (strcmp(sp->signals[i].name, "SPEED") == 0)
            assert_int_equal(rl_dbc_encode_signal(&sp->signals[i], 100, f.data, f.len), 0);
    assert_int_equal(f.data[29], 100);
    v = decode(d, &f);
    assert_float_equal(num(json_get(v, "signals"), "SPEED"), 100, 0);
    assert_string_equal(str(json_get(v, "units"), "SPEED"), "Khp");
    json_free(v);
    rl_dbc_free(d);
}

static void test_ford_candump(void **state)
{
    (void)state;
    struct blob b = read_file("candump-ford-falcon/candump-2021-01-22_135811.log");
    struct rl_dbc *d = load_dbc("candump-ford-falcon/falcon.dbc");
    static size_t per_id[CAN_IDS];
    memset(per_id, 0, sizeof(per_id));
    size_t lines = 0, with_msg = 0, distinct = 0, distinct_found = 0;
    uint64_t first_ns = 0, last_ns = 0;
    char out[RL_CANDUMP_LINE_MAX + 1];
    const char *p = b.p, *end = b.p + b.n;
    bool seen_check[4] = {false};
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        size_t n = e ? (size_t)(e - p) : (size_t)(end - p);
        struct rl_candump_line l;
        int rc = rl_candump_parse(p, n, &l);
        if (rc != 0)
            fail_msg("line %zu: '%.*s' (%d)", lines + 1, (int)n, p, rc);
        assert_string_equal(l.iface, "can0");
        assert_int_equal(l.direction, 'R');
        assert_false(l.frame.extended || l.frame.fd || l.frame.rtr || l.frame.error);
        assert_int_equal(l.frame.len, 8);
        /* Writing the parsed line gives the line back. */
        assert_int_equal(rl_candump_format(&l, out, sizeof(out)), (int)n);
        assert_memory_equal(out, p, n);
        /* And the SocketCAN form round-trips. */
        uint8_t sc[RL_SOCKETCAN_MTU];
        struct rl_can_frame back;
        assert_int_equal(rl_socketcan_format(&l.frame, sc, sizeof(sc)), RL_SOCKETCAN_MTU);
        assert_int_equal(rl_socketcan_parse(sc, sizeof(sc), &back), 0);
        assert_memory_equal(&back, &l.frame, sizeof(back));
        if (lines == 0)
            first_ns = l.time_ns;
        last_ns = l.time_ns;
        if (per_id[l.frame.id]++ == 0) {
            distinct++;
            distinct_found += rl_dbc_find(d, l.frame.id) != NULL;
        }
        if (rl_dbc_find(d, l.frame.id)) {
            with_msg++;
            struct json_value *v = decode(d, &l.frame);
            assert_non_null(json_get(v, "message"));
            const struct json_value *sg = json_get(v, "signals");
            if (l.frame.id == 0x30F && !seen_check[0]) {
                assert_string_equal(str(v, "data"), "0a0a0a0a0a060000");
                assert_float_equal(num(sg, "BatteryVoltage"), 1.0, 1e-12);
                assert_string_equal(str(json_get(v, "units"), "BatteryVoltage"), "Volts");
                seen_check[0] = true;
            } else if (l.frame.id == 0x313 && !seen_check[1]) {
                assert_string_equal(str(v, "data"), "8f00000000000000");
                assert_float_equal(num(sg, "InteriorActualTemperature"), 23.833381, 1e-9);
                seen_check[1] = true;
            } else if (l.frame.id == 0x353 && !seen_check[2]) {
                assert_string_equal(str(v, "message"), "HvacData");
                assert_string_equal(str(v, "data"), "029c01011bb46780");
                assert_float_equal(num(sg, "VentStatus"), 2, 0);
                assert_float_equal(num(sg, "PassengerTargetTemp"), 1, 0);
                assert_float_equal(num(sg, "DriverTargetTemp"), 27, 0);
                assert_float_equal(num(sg, "FanSpeedTarget"), 128, 0);
                seen_check[2] = true;
            } else if (l.frame.id == 0x2F2 && !seen_check[3]) {
                assert_string_equal(str(v, "data"), "0a12110e09494500");
                assert_string_equal(str(sg, "AudioVolumeLevel"), "Vol_Lvl_20");
                assert_string_equal(str(sg, "AudioCurrentMediaMode"), "FM_AM_MODE_ACTIVE");
                assert_string_equal(str(sg, "SteeringWheelControlsLeft_ms"), "No Description");
                seen_check[3] = true;
            }
            json_free(v);
        }
        lines++;
        p = e ? e + 1 : end;
    }
    assert_int_equal(lines, FORD_FRAMES);
    assert_int_equal(distinct, 37);
    assert_int_equal(per_id[0x353], 1478);
    assert_int_equal(per_id[0x330], 1232);
    assert_int_equal(first_ns, 1611284291562086000ULL);
    assert_int_equal(last_ns, 1611284365482109000ULL);
    assert_int_equal(with_msg, 10732);
    assert_int_equal(distinct_found, 32);
    for (size_t i = 0; i < 4; i++)
        assert_true(seen_check[i]);
    /* BO_ entries (duplicates counted) whose id occurs in the log. */
    size_t entries = 0;
    for (size_t i = 0; i < rl_dbc_message_count(d); i++) {
        const struct rl_dbc_message *m = rl_dbc_message_at(d, i);
        entries += !m->extended && m->id < CAN_IDS && per_id[m->id] > 0;
    }
    assert_int_equal(entries, 38);
    rl_dbc_free(d);
    free(b.p);
}

int main(int argc, char **argv)
{
    data_root = argc > 1 ? argv[1] : getenv("RL_SHARED_DATA");
    char probe[4096];
    FILE *f = NULL;
    if (data_root) {
        (void)snprintf(probe, sizeof(probe), "%s/real/candump-ford-falcon/falcon.dbc", data_root);
        f = fopen(probe, "rb");
    }
    if (!f) {
        printf("SKIP: ../shared/data not found\n");
        return EXIT_SKIP;
    }
    (void)fclose(f);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_falcon_dbc),
        cmocka_unit_test(test_gwm_dbc),
        cmocka_unit_test(test_ford_candump),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
