/* Unit tests of the CAN formats: LINKTYPE_CAN_SOCKETCAN frames and candump
 * lines (socketcan.c), DBC parsing, signal decode/encode (dbc.c) and the
 * "can" decoder. The DBC below is written for these tests; every expected
 * signal value is computed by hand in the comment next to it. */
#include <errno.h>
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

#define JSON_LIMIT 65536
#define EXT_ID     0x01020304u

static const char test_dbc[] =
    "VERSION \"roadlog-test 1\"\n"
    "\n"
    "NS_ :\n"
    "\tNS_DESC_\n"
    "\tCM_\n"
    "\tBA_DEF_\n"
    "\tVAL_\n"
    "\tSIG_VALTYPE_\n"
    "\n"
    "BS_:\n"
    "\n"
    "BU_: ECU1 ECU2 GW\n"
    "\n"
    "BO_ 256 Chassis: 8 ECU1\n"
    " SG_ Speed : 0|16@1+ (0.01,0) [0|655.35] \"km/h\" GW\n"
    " SG_ Accel : 16|12@1- (0.01,-1) [-21.48|19.47] \"m/s2\" GW\n"
    " SG_ Gear : 28|4@1+ (1,0) [0|15] \"\" GW\n"
    " SG_ Yaw : 39|16@0- (0.001,0) [-32.768|32.767] \"rad/s\" GW,ECU2\n"
    " SG_ Odd : 51|11@0+ (1,0) [0|2047] \"\" GW\n"
    " SG_ Counter : 56|1@1+ (1,0) [0|1] \"\" GW\n"
    "\n"
    "BO_ 2164392708 ExtMsg: 8 ECU2\n"
    " SG_ Temperature : 0|32@1- (1,0) [-1E9|1E9] \"degC\" GW\n"
    " SG_ Big : 32|32@1+ (0.5,100) [0|0] \"\" GW\n"
    "\n"
    "BO_ 512 Diag: 8 GW\n"
    " SG_ Service M : 7|8@0+ (1,0) [0|255] \"\" ECU1\n"
    " SG_ RpmA m1 : 15|16@0+ (0.25,0) [0|16383.75] \"rpm\" ECU1\n"
    " SG_ TempB m2 : 15|8@0+ (1,-40) [-40|215] \"degC\" ECU1\n"
    " SG_ Status : 56|8@1+ (1,0) [0|255] \"\" ECU1\n"
    "\n"
    "BO_ 1792 FdFrame: 64 GW\n"
    " SG_ First : 0|8@1+ (1,0) [0|255] \"\" ECU1\n"
    " SG_ Dbl : 64|64@1- (1,0) [0|0] \"\" ECU1\n"
    " SG_ Wide : 447|64@0+ (1,0) [0|0] \"\" ECU1\n"
    " SG_ Last : 504|8@1+ (1,0) [0|255] \"\" ECU1\n"
    "\n"
    "BO_ 256 ChassisAgain: 8 ECU1\n"
    "\n"
    "CM_ \"Test database\n"
    "over two lines; with a semicolon\";\n"
    "CM_ BO_ 256 \"Chassis state\";\n"
    "CM_ SG_ 256 Speed \"Vehicle speed; not wheel speed\";\n"
    "BA_DEF_ BO_ \"VFrameFormat\" ENUM \"StandardCAN\",\"ExtendedCAN\",\"reserved\","
    "\"J1939PG\",\"reserved\",\"reserved\",\"reserved\",\"reserved\",\"reserved\",\"reserved\","
    "\"reserved\",\"reserved\",\"reserved\",\"reserved\",\"StandardCAN_FD\",\"ExtendedCAN_FD\";\n"
    "BA_DEF_DEF_ \"VFrameFormat\" \"StandardCAN\";\n"
    "BA_ \"VFrameFormat\" BO_ 1792 14;\n"
    "VAL_ 256 Gear 0 \"P\" 1 \"R\" 2 \"N\" 3 \"D\" ;\n"
    "VAL_ 512 Service 1 \"CurrentData\" 2 \"FreezeFrame\";\n"
    "SIG_VALTYPE_ 2164392708 Temperature : 1;\n"
    "SIG_VALTYPE_ 1792 Dbl : 2;\n";

static struct rl_dbc *load(const char *text)
{
    struct rl_dbc *d = NULL;
    char err[256];
    int rc = rl_dbc_parse(text, strlen(text), &d, err, sizeof(err));
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    return d;
}

static const struct rl_dbc_signal *sig(const struct rl_dbc_message *m, const char *name)
{
    for (size_t i = 0; i < m->n_signals; i++)
        if (strcmp(m->signals[i].name, name) == 0)
            return &m->signals[i];
    fail_msg("no signal %s", name);
    abort(); /* not reached: fail_msg leaves the test */
}

static double phys(const struct rl_dbc_message *m, const char *name, const uint8_t *d, size_t len)
{
    uint64_t raw;
    const struct rl_dbc_signal *s = sig(m, name);
    assert_int_equal(rl_dbc_signal_raw(s, d, len, &raw), 0);
    return rl_dbc_signal_physical(s, raw);
}

/* ---- SocketCAN ----------------------------------------------------------- */

static void test_socketcan_parse(void **state)
{
    (void)state;
    struct rl_can_frame f;
    /* Classic, id 0x123 in network byte order, 3 data bytes, padding. */
    static const uint8_t c1[16] = {0x00, 0x00, 0x01, 0x23, 3, 0, 0, 0, 0xDE, 0xAD, 0xBE};
    assert_int_equal(rl_socketcan_parse(c1, sizeof(c1), &f), 0);
    assert_int_equal(f.id, 0x123);
    assert_false(f.extended);
    assert_false(f.fd);
    assert_int_equal(f.len, 3);
    assert_memory_equal(f.data, c1 + 8, 3);
    /* Extended: bit 31. */
    static const uint8_t c2[16] = {0x81, 0x02, 0x03, 0x04, 8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(rl_socketcan_parse(c2, sizeof(c2), &f), 0);
    assert_true(f.extended);
    assert_int_equal(f.id, EXT_ID);
    assert_int_equal(f.len, 8);
    /* Remote request: no data needed. */
    static const uint8_t c3[8] = {0x40, 0x00, 0x07, 0xFF, 4, 0, 0, 0};
    assert_int_equal(rl_socketcan_parse(c3, sizeof(c3), &f), 0);
    assert_true(f.rtr);
    assert_int_equal(f.id, 0x7FF);
    assert_int_equal(f.len, 4);
    /* Error frame: the id carries the error class. */
    static const uint8_t c4[16] = {0x20, 0x00, 0x00, 0x04, 8};
    assert_int_equal(rl_socketcan_parse(c4, sizeof(c4), &f), 0);
    assert_true(f.error);
    assert_int_equal(f.id, 4);
    /* len8_dlc of a classic frame. */
    uint8_t c5[16] = {0x00, 0x00, 0x01, 0x00, 8, 0, 0, 13};
    assert_int_equal(rl_socketcan_parse(c5, sizeof(c5), &f), 0);
    assert_int_equal(f.len8_dlc, 13);
    /* CAN FD: FDF flag, BRS, 12 bytes in a 72-byte frame. */
    uint8_t fd[72] = {0x00, 0x00, 0x07, 0x00, 12, RL_CANFD_FDF | RL_CANFD_BRS};
    for (int i = 0; i < 12; i++)
        fd[8 + i] = (uint8_t)(0xA0 + i);
    assert_int_equal(rl_socketcan_parse(fd, sizeof(fd), &f), 0);
    assert_true(f.fd);
    assert_int_equal(f.fd_flags, RL_CANFD_BRS);
    assert_int_equal(f.len, 12);
    assert_int_equal(f.data[11], 0xAB);
    /* Old writers leave FDF clear: 72 bytes means FD. */
    fd[5] = 0;
    assert_int_equal(rl_socketcan_parse(fd, sizeof(fd), &f), 0);
    assert_true(f.fd);
    /* Errors. */
    assert_int_equal(rl_socketcan_parse(c1, 7, &f), RL_ETRUNC);
    assert_int_equal(rl_socketcan_parse(c1, 10, &f), RL_ETRUNC);
    uint8_t bad[16] = {0, 0, 1, 0x23, 9};
    assert_int_equal(rl_socketcan_parse(bad, sizeof(bad), &f), RL_ECORRUPT);
    fd[4] = 65;
    assert_int_equal(rl_socketcan_parse(fd, sizeof(fd), &f), RL_ECORRUPT);
    uint8_t std_hi[16] = {0x00, 0x00, 0x08, 0x00, 1};
    assert_int_equal(rl_socketcan_parse(std_hi, sizeof(std_hi), &f), RL_ECORRUPT);
    uint8_t xl[16] = {0, 0, 1, 0x23, 0x80};
    assert_int_equal(rl_socketcan_parse(xl, sizeof(xl), &f), RL_EUNSUPPORTED);
}

static void test_socketcan_format(void **state)
{
    (void)state;
    struct rl_can_frame f = {.id = EXT_ID, .extended = true, .len = 2, .data = {0xCA, 0xFE}};
    uint8_t out[72];
    assert_int_equal(rl_socketcan_format(&f, out, sizeof(out)), 16);
    static const uint8_t want[16] = {0x81, 0x02, 0x03, 0x04, 2, 0, 0, 0, 0xCA, 0xFE};
    assert_memory_equal(out, want, sizeof(want));
    struct rl_can_frame g;
    assert_int_equal(rl_socketcan_parse(out, 16, &g), 0);
    assert_int_equal(g.id, EXT_ID);
    f.fd = true;
    f.fd_flags = RL_CANFD_ESI;
    f.len = 64;
    assert_int_equal(rl_socketcan_format(&f, out, sizeof(out)), 72);
    assert_int_equal(out[5], RL_CANFD_FDF | RL_CANFD_ESI);
    assert_int_equal(rl_socketcan_format(&f, out, 71), -ENOBUFS);
    f.fd = false;
    assert_int_equal(rl_socketcan_format(&f, out, sizeof(out)), -EINVAL); /* 64 bytes classic */
    f.len = 1;
    f.extended = false;
    assert_int_equal(rl_socketcan_format(&f, out, sizeof(out)), -EINVAL); /* id > 0x7FF */
}

/* ---- candump ------------------------------------------------------------- */

static void test_candump_lines(void **state)
{
    (void)state;
    static const char *const canonical[] = {
        "(1611284291.562086) can0 340#0000000000000000 R",
        "(1611323891.123456) can0 123#DEADBEEF",
        "(0.000001) vcan0 12345678#",
        "(1.000000) can1 123##1DEADBEEF",
        "(1.000000) can1 123##3",
        "(2.500000) can0 7FF#R",
        "(2.500000) can0 7FF#R5 T",
        "(3.000000) can0 20000080#0000000000000000",
        "(4.000000) can0 123#1122334455667788_C",
    };
    struct rl_candump_line l;
    char out[RL_CANDUMP_LINE_MAX + 1];
    for (size_t i = 0; i < sizeof(canonical) / sizeof(canonical[0]); i++) {
        assert_int_equal(rl_candump_parse(canonical[i], strlen(canonical[i]), &l), 0);
        int n = rl_candump_format(&l, out, sizeof(out));
        assert_int_equal(n, (int)strlen(canonical[i]));
        assert_string_equal(out, canonical[i]);
    }
    const char *s = "(1611284291.562086) can0 340#0102030405060708 R\n";
    assert_int_equal(rl_candump_parse(s, strlen(s), &l), 0);
    assert_int_equal(l.time_ns, 1611284291562086000ULL);
    assert_string_equal(l.iface, "can0");
    assert_int_equal(l.direction, 'R');
    assert_int_equal(l.frame.id, 0x340);
    assert_int_equal(l.frame.len, 8);
    assert_int_equal(l.frame.data[7], 8);
    s = "(1.5) can0 1ABCDEF0#11.22.33";
    assert_int_equal(rl_candump_parse(s, strlen(s), &l), 0);
    assert_true(l.frame.extended);
    assert_int_equal(l.frame.id, 0x1ABCDEF0);
    assert_int_equal(l.frame.len, 3);
    assert_int_equal(l.time_ns, 1500000000ULL);
    s = "(1.000000) can1 123##1DEADBEEF";
    assert_int_equal(rl_candump_parse(s, strlen(s), &l), 0);
    assert_true(l.frame.fd);
    assert_int_equal(l.frame.fd_flags, RL_CANFD_BRS);
    assert_int_equal(l.frame.len, 4);
    s = "(3.000000) can0 20000080#0000000000000000";
    assert_int_equal(rl_candump_parse(s, strlen(s), &l), 0);
    assert_true(l.frame.error);
    assert_false(l.frame.extended);
    assert_int_equal(l.frame.id, 0x80);

    static const char *const bad[] = {
        "",
        "1.0 can0 123#00",
        "(1.0 can0 123#00",
        "(1.) can0 123#00",
        "(.5) can0 123#00",
        "(1.0)can0 123#00",
        "(1.0) can0",
        "(1.0) can0 1234#00",
        "(1.0) can0 800#00",
        "(1.0) can0 123#ABC",
        "(1.0) can0 123#112233445566778899",
        "(1.0) can0 123#00 X",
        "(1.0) can0 123#00 R R",
        "(1.0) can0 123#00 RT",
        "(1.0) a_very_long_interface_name 123#00",
        "(1.0) can0 123##",
        "(1.0) can0 123##G00",
        "(1.0) can0 123#R9",
        "(1.0) can0 123#0011_C",
        "(1.0) can0 123#1122334455667788_3",
        "(1.0) can0 C0000000#00",
        "(1.1234567891) can0 123#00",
        "(1.0) can0 123#0G",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = rl_candump_parse(bad[i], strlen(bad[i]), &l);
        if (rc != RL_ECORRUPT)
            fail_msg("'%s' parsed (%d)", bad[i], rc);
    }
    char big[RL_CANDUMP_LINE_MAX + 10];
    memset(big, 'A', sizeof(big));
    assert_int_equal(rl_candump_parse(big, sizeof(big), &l), RL_ETOOBIG);
    /* Format errors. */
    memset(&l, 0, sizeof(l));
    l.frame.id = 0x123;
    assert_int_equal(rl_candump_format(&l, out, sizeof(out)), -EINVAL); /* no interface */
    strcpy(l.iface, "can0");
    l.direction = 'x';
    assert_int_equal(rl_candump_format(&l, out, sizeof(out)), -EINVAL);
    l.direction = 0;
    assert_int_equal(rl_candump_format(&l, out, 5), -ENOBUFS);
}

/* ---- DBC ------------------------------------------------------------------ */

static void test_dbc_parse(void **state)
{
    (void)state;
    struct rl_dbc *d = load(test_dbc);
    assert_string_equal(rl_dbc_version(d), "roadlog-test 1");
    assert_int_equal(rl_dbc_message_count(d), 5);
    assert_int_equal(rl_dbc_signal_count(d), 16);
    assert_int_equal(rl_dbc_problem_count(d), 0);
    assert_null(rl_dbc_problem(d, 0));
    const struct rl_dbc_message *m = rl_dbc_find(d, 256);
    assert_non_null(m);
    assert_string_equal(m->name, "Chassis"); /* the first of two definitions */
    assert_int_equal(m->line, 14);
    assert_int_equal(m->size, 8);
    assert_string_equal(m->transmitter, "ECU1");
    assert_false(m->fd);
    const struct rl_dbc_signal *s = sig(m, "Yaw");
    assert_int_equal(s->start_bit, 39);
    assert_int_equal(s->bit_len, 16);
    assert_true(s->big_endian);
    assert_true(s->is_signed);
    assert_float_equal(s->factor, 0.001, 0);
    assert_float_equal(s->min, -32.768, 0);
    assert_string_equal(s->unit, "rad/s");
    assert_int_equal(sig(m, "Gear")->n_values, 4);
    assert_string_equal(sig(m, "Gear")->values[3].label, "D");
    /* Extended ids: bit 31 in the file, RL_CAN_EFF_FLAG in the lookup key. */
    assert_null(rl_dbc_find(d, EXT_ID));
    m = rl_dbc_find(d, EXT_ID | RL_CAN_EFF_FLAG);
    assert_non_null(m);
    assert_true(m->extended);
    assert_int_equal(m->id, EXT_ID);
    assert_int_equal(sig(m, "Temperature")->value_type, RL_DBC_FLOAT32);
    m = rl_dbc_find(d, 1792);
    assert_true(m->fd);
    assert_int_equal(m->size, 64);
    assert_int_equal(sig(m, "Dbl")->value_type, RL_DBC_FLOAT64);
    m = rl_dbc_find(d, 512);
    assert_true(sig(m, "Service")->is_multiplexer);
    assert_true(sig(m, "RpmA")->is_multiplexed);
    assert_int_equal(sig(m, "TempB")->mux_value, 2);
    assert_null(rl_dbc_find(d, 257));
    assert_null(rl_dbc_find(d, 0));
    assert_null(rl_dbc_message_at(d, 5));
    rl_dbc_free(d);
    rl_dbc_free(NULL);
}

static void test_dbc_decode(void **state)
{
    (void)state;
    struct rl_dbc *d = load(test_dbc);
    const struct rl_dbc_message *m = rl_dbc_find(d, 256);
    /* Speed 0|16@1+: 0x2710 = 10000 * 0.01 = 100 km/h.
     * Accel 16|12@1-: byte 2 0x9C + low nibble of byte 3 0xF = 0xF9C = -100
     *   as 12-bit two's complement; -100 * 0.01 - 1 = -2.
     * Gear 28|4@1+: high nibble of byte 3 = 3 -> "D".
     * Yaw 39|16@0-: Motorola, MSB at byte 4 bit 7: 0xFE0C = -500; * 0.001 = -0.5.
     * Odd 51|11@0+: byte 6 bits 3..0 = 0101, byte 7 bits 7..1 = 1111000:
     *   0b01011111000 = 760.
     * Counter 56|1@1+: byte 7 bit 0 = 1. */
    static const uint8_t data[8] = {0x10, 0x27, 0x9C, 0x3F, 0xFE, 0x0C, 0xA5, 0xF1};
    assert_float_equal(phys(m, "Speed", data, 8), 100.0, 1e-9);
    assert_float_equal(phys(m, "Accel", data, 8), -2.0, 1e-9);
    assert_float_equal(phys(m, "Gear", data, 8), 3.0, 0);
    assert_float_equal(phys(m, "Yaw", data, 8), -0.5, 1e-12);
    assert_float_equal(phys(m, "Odd", data, 8), 760.0, 0);
    assert_float_equal(phys(m, "Counter", data, 8), 1.0, 0);
    struct rl_dbc_decoded out[16];
    assert_int_equal(rl_dbc_decode(m, data, 8, out, 16), 6);
    assert_string_equal(out[2].signal->name, "Gear");
    assert_string_equal(out[2].label, "D");
    assert_null(out[0].label);
    assert_int_equal(out[1].raw, (uint64_t)-100);
    assert_int_equal(rl_dbc_decode(m, data, 8, out, 2), 2);
    /* A short frame holds only the signals inside it. */
    assert_int_equal(rl_dbc_decode(m, data, 2, out, 16), 1);
    uint64_t raw;
    assert_int_equal(rl_dbc_signal_raw(sig(m, "Yaw"), data, 5, &raw), RL_ETRUNC);

    /* Float32 and a 32-bit unsigned with factor and offset. */
    m = rl_dbc_find(d, EXT_ID | RL_CAN_EFF_FLAG);
    static const uint8_t ext[8] = {0x00, 0x00, 0xAC, 0x41, 0xFF, 0xFF, 0xFF, 0xFF};
    assert_float_equal(phys(m, "Temperature", ext, 8), 21.5, 0); /* 0x41AC0000 */
    assert_float_equal(phys(m, "Big", ext, 8), 4294967295.0 * 0.5 + 100, 0);

    /* Multiplexing: Service selects RpmA (1) or TempB (2). */
    m = rl_dbc_find(d, 512);
    static const uint8_t mux1[8] = {0x01, 0x1A, 0xF8, 0, 0, 0, 0, 0x07};
    static const uint8_t mux2[8] = {0x02, 0x5A, 0, 0, 0, 0, 0, 0x07};
    static const uint8_t mux3[8] = {0x03, 0x5A, 0, 0, 0, 0, 0, 0x07};
    size_t n = rl_dbc_decode(m, mux1, 8, out, 16);
    assert_int_equal(n, 3);
    assert_string_equal(out[0].label, "CurrentData");
    assert_string_equal(out[1].signal->name, "RpmA");
    assert_float_equal(out[1].value, 0x1AF8 * 0.25, 0); /* 1726 rpm */
    n = rl_dbc_decode(m, mux2, 8, out, 16);
    assert_int_equal(n, 3);
    assert_string_equal(out[1].signal->name, "TempB");
    assert_float_equal(out[1].value, 0x5A - 40, 0); /* 50 degC */
    assert_int_equal(rl_dbc_decode(m, mux3, 8, out, 16), 2);
    assert_int_equal(rl_dbc_decode_signal(m, 99, mux3, 8, out), RL_ECORRUPT);

    /* 64 bytes: the last byte, a 64-bit Motorola signal, a double. */
    m = rl_dbc_find(d, 1792);
    uint8_t fd[64] = {0x11};
    fd[63] = 0x99;
    for (int i = 0; i < 8; i++)
        fd[55 + i] = (uint8_t)(i + 1);
    double dv = -1.25;
    uint64_t bits;
    memcpy(&bits, &dv, sizeof(bits));
    for (int i = 0; i < 8; i++)
        fd[8 + i] = (uint8_t)(bits >> (8 * i));
    assert_float_equal(phys(m, "First", fd, 64), 0x11, 0);
    assert_float_equal(phys(m, "Last", fd, 64), 0x99, 0);
    assert_float_equal(phys(m, "Dbl", fd, 64), -1.25, 0);
    assert_int_equal(rl_dbc_signal_raw(sig(m, "Wide"), fd, 64, &raw), 0);
    assert_int_equal(raw, 0x0102030405060708ULL);
    assert_int_equal(rl_dbc_signal_raw(sig(m, "Last"), fd, 63, &raw), RL_ETRUNC);
    rl_dbc_free(d);
}

static void test_dbc_encode(void **state)
{
    (void)state;
    struct rl_dbc *d = load(test_dbc);
    const struct rl_dbc_message *m = rl_dbc_find(d, 256);
    uint8_t data[8] = {0};
    assert_int_equal(rl_dbc_encode_signal(sig(m, "Speed"), 100.0, data, 8), 0);
    assert_int_equal(rl_dbc_encode_signal(sig(m, "Accel"), -2.0, data, 8), 0);
    assert_int_equal(rl_dbc_encode_signal(sig(m, "Gear"), 3, data, 8), 0);
    assert_int_equal(rl_dbc_encode_signal(sig(m, "Yaw"), -0.5, data, 8), 0);
    assert_int_equal(rl_dbc_encode_signal(sig(m, "Odd"), 760, data, 8), 0);
    assert_int_equal(rl_dbc_encode_signal(sig(m, "Counter"), 1, data, 8), 0);
    static const uint8_t want[8] = {0x10, 0x27, 0x9C, 0x3F, 0xFE, 0x0C, 0x05, 0xF1};
    assert_memory_equal(data, want, 8);
    /* Out of range for the bits, beyond the frame, bad inputs. */
    assert_int_equal(rl_dbc_encode_signal(sig(m, "Gear"), 16, data, 8), -ERANGE);
    assert_int_equal(rl_dbc_encode_signal(sig(m, "Gear"), -1, data, 8), -ERANGE);
    assert_int_equal(rl_dbc_encode_signal(sig(m, "Accel"), 19.48, data, 8), -ERANGE);
    assert_int_equal(rl_dbc_encode_signal(sig(m, "Accel"), -21.48, data, 8), 0);
    assert_int_equal(rl_dbc_encode_signal(sig(m, "Yaw"), NAN, data, 8), -EINVAL);
    assert_int_equal(rl_dbc_encode_signal(sig(m, "Yaw"), 1.0, data, 4), RL_ETRUNC);
    assert_int_equal(rl_dbc_pack_raw(sig(m, "Gear"), 16, data, 8), -ERANGE);
    assert_int_equal(rl_dbc_pack_raw(sig(m, "Accel"), (uint64_t)-5, data, 8), 0);
    uint64_t raw;
    assert_int_equal(rl_dbc_signal_raw(sig(m, "Accel"), data, 8, &raw), 0);
    assert_int_equal((int64_t)raw, -5);
    /* Floats and 64-bit signals round-trip. */
    m = rl_dbc_find(d, 1792);
    uint8_t fd[64] = {0};
    assert_int_equal(rl_dbc_encode_signal(sig(m, "Dbl"), 3.141592653589793, fd, 64), 0);
    assert_float_equal(phys(m, "Dbl", fd, 64), 3.141592653589793, 0);
    assert_int_equal(rl_dbc_pack_raw(sig(m, "Wide"), 0xFEDCBA9876543210ULL, fd, 64), 0);
    assert_int_equal(rl_dbc_signal_raw(sig(m, "Wide"), fd, 64, &raw), 0);
    assert_int_equal(raw, 0xFEDCBA9876543210ULL);
    assert_int_equal(fd[55], 0xFE);
    assert_int_equal(fd[62], 0x10);
    m = rl_dbc_find(d, EXT_ID | RL_CAN_EFF_FLAG);
    uint8_t ext[8] = {0};
    assert_int_equal(rl_dbc_encode_signal(sig(m, "Temperature"), -40.25, ext, 8), 0);
    assert_float_equal(phys(m, "Temperature", ext, 8), -40.25, 0);
    assert_int_equal(rl_dbc_encode_signal(sig(m, "Big"), 100 + 0.5 * 4294967295.0, ext, 8), 0);
    assert_memory_equal(ext + 4, "\xFF\xFF\xFF\xFF", 4);
    assert_int_equal(rl_dbc_encode_signal(sig(m, "Big"), 99, ext, 8), -ERANGE);
    rl_dbc_free(d);
}

static const char broken_dbc[] =
    "VERSION \"x\"\n"                          /* 1 */
    "BO_ 100 Ok: 8 N\n"                        /* 2 */
    " SG_ A : 0|8@1+ (1,0) [0|255] \"\" N\n"   /* 3 */
    " SG_ A : 8|8@1+ (1,0) [0|255] \"\" N\n"   /* 4: defined twice */
    " SG_ B : 0|8@2+ (1,0) [0|255] \"\" N\n"   /* 5: byte order 2 */
    " SG_ C : 510|8@1+ (1,0) [0|255] \"\" N\n" /* 6: beyond 64 bytes */
    " SG_ D : 60|8@1+ (1,0) [0|255] \"\" N\n"  /* 7: past 8 bytes, kept */
    "BO_ 101 : 8 N\n"                          /* 8: no name */
    " SG_ E : 0|8@1+ (1,0) [0|255] \"\" N\n"   /* 9: no message */
    "garbage here\n"                           /* 10 */
    "VAL_ 100 A 1 \"one\" 2 \"two\"\n"         /* 11: no ';' */
    "VAL_ 100 Zzz 1 \"x\";\n"                  /* 12: unknown signal */
    "BO_ 3000 TooBigStd: 8 N\n"                /* 13: kept as extended */
    "BO_ 103 Huge: 65 N\n"                     /* 14: size */
    "BO_ 104 Fine: 8 N | junk\n";              /* 15: trailing text, kept */

static void test_dbc_problems(void **state)
{
    (void)state;
    struct rl_dbc *d = NULL;
    char err[256];
    assert_int_equal(rl_dbc_parse(broken_dbc, strlen(broken_dbc), &d, err, sizeof(err)), 0);
    assert_int_equal(rl_dbc_message_count(d), 3);
    assert_int_equal(rl_dbc_signal_count(d), 2);
    assert_int_equal(rl_dbc_problem_count(d), 12);
    /* Problems are kept in file order, the VAL_ reference last. */
    static const char *const lines[] = {
        "line 4:",  "line 5:",  "line 6:",  "line 7:",  "line 8:",  "line 9:",
        "line 10:", "line 11:", "line 13:", "line 14:", "line 15:", "line 12:"};
    for (size_t i = 0; i < 12; i++) {
        const char *p = rl_dbc_problem(d, i);
        assert_non_null(p);
        if (strncmp(p, lines[i], strlen(lines[i])) != 0)
            fail_msg("problem %zu: '%s', want '%s'", i, p, lines[i]);
    }
    const struct rl_dbc_message *m = rl_dbc_find(d, 3000 | RL_CAN_EFF_FLAG);
    assert_non_null(m);
    assert_true(m->extended);
    assert_non_null(rl_dbc_find(d, 104));
    rl_dbc_free(d);

    /* Strict: the first problem is the error, with its line. */
    d = NULL;
    assert_int_equal(
        rl_dbc_parse_ex(broken_dbc, strlen(broken_dbc), RL_DBC_STRICT, &d, err, sizeof(err)),
        RL_ECORRUPT);
    assert_null(d);
    assert_true(strncmp(err, "line 4:", 7) == 0);

    /* Bounds: a name past RL_DBC_MAX_NAME is not an identifier. */
    char longname[RL_DBC_MAX_NAME + 64];
    int n = snprintf(longname, sizeof(longname), "BO_ 1 ");
    memset(longname + n, 'x', RL_DBC_MAX_NAME + 1);
    strcpy(longname + n + RL_DBC_MAX_NAME + 1, ": 8 N\n");
    assert_int_equal(rl_dbc_parse(longname, strlen(longname), &d, err, sizeof(err)), 0);
    assert_int_equal(rl_dbc_message_count(d), 0);
    assert_int_equal(rl_dbc_problem_count(d), 1);
    rl_dbc_free(d);
    /* An unterminated comment stops at the end of the text. */
    const char *t = "CM_ \"no end\nBO_ 1 A: 8 N\n";
    assert_int_equal(rl_dbc_parse(t, strlen(t), &d, err, sizeof(err)), 0);
    assert_int_equal(rl_dbc_problem_count(d), 1);
    rl_dbc_free(d);
    /* Empty text: an empty database. */
    assert_int_equal(rl_dbc_parse("", 0, &d, err, sizeof(err)), 0);
    assert_int_equal(rl_dbc_message_count(d), 0);
    rl_dbc_free(d);
}

/* ---- the decoder --------------------------------------------------------- */

static struct json_value *decode(const struct rl_decode_ctx *ctx, const uint8_t *p, size_t len,
                                 int *rc)
{
    struct rl_jw w;
    struct rl_payload pl = {.data = p, .len = len, .linktype = RL_LINKTYPE_CAN_SOCKETCAN};
    char err[256], jerr[128];
    rl_jw_init(&w, JSON_LIMIT);
    rl_jw_obj_begin(&w);
    *rc = rl_decoder_can.decode(ctx, &pl, &w, err, sizeof(err));
    rl_jw_obj_end(&w);
    struct json_value *v = NULL;
    if (*rc == 0) {
        size_t n;
        const char *s = rl_jw_str_out(&w, &n);
        v = json_parse(s, n, jerr, sizeof(jerr));
        assert_non_null(v);
    } else {
        assert_true(err[0] != '\0');
    }
    rl_jw_release(&w);
    return v;
}

static void test_can_decoder(void **state)
{
    (void)state;
    struct rl_dbc *d = load(test_dbc);
    struct rl_decode_ctx ctx = {.dbc = d};
    static const uint8_t frame[16] = {0x00, 0x00, 0x01, 0x00, 8,    0,    0,    0,
                                      0x10, 0x27, 0x9C, 0x3F, 0xFE, 0x0C, 0xA5, 0xF1};
    int rc;
    struct json_value *v = decode(&ctx, frame, sizeof(frame), &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(json_get(v, "type")->text, "can.frame");
    assert_string_equal(json_get(v, "id")->text, "256");
    assert_false(json_get(v, "extended")->boolean);
    assert_false(json_get(v, "fd")->boolean);
    assert_string_equal(json_get(v, "len")->text, "8");
    assert_string_equal(json_get(v, "data")->text, "10279c3ffe0ca5f1");
    assert_string_equal(json_get(v, "message")->text, "Chassis");
    const struct json_value *sg = json_get(v, "signals");
    assert_int_equal(sg->n, 6);
    assert_string_equal(json_get(sg, "Speed")->text, "100");
    assert_string_equal(json_get(sg, "Accel")->text, "-2");
    assert_int_equal(json_get(sg, "Gear")->type, JSON_STRING);
    assert_string_equal(json_get(sg, "Gear")->text, "D");
    assert_string_equal(json_get(sg, "Yaw")->text, "-0.5");
    const struct json_value *un = json_get(v, "units");
    assert_string_equal(json_get(un, "Speed")->text, "km/h");
    assert_string_equal(json_get(un, "Yaw")->text, "rad/s");
    assert_null(json_get(un, "Gear"));
    json_free(v);
    /* Without a DBC, or an id it lacks: the frame only. */
    struct rl_decode_ctx none = {0};
    v = decode(&none, frame, sizeof(frame), &rc);
    assert_null(json_get(v, "message"));
    json_free(v);
    /* Remote frames are not decoded against the DBC. */
    static const uint8_t rtr[16] = {0x40, 0x00, 0x01, 0x00, 8};
    v = decode(&ctx, rtr, sizeof(rtr), &rc);
    assert_true(json_get(v, "rtr")->boolean);
    assert_string_equal(json_get(v, "data")->text, "");
    assert_null(json_get(v, "signals"));
    json_free(v);
    /* Errors and detection. */
    v = decode(&ctx, frame, 5, &rc);
    assert_null(v);
    assert_int_equal(rc, RL_ETRUNC);
    struct rl_payload pl = {
        .data = frame, .len = sizeof(frame), .linktype = RL_LINKTYPE_CAN_SOCKETCAN};
    assert_int_equal(rl_decoder_can.detect(&pl), 100);
    pl.linktype = RL_LINKTYPE_PAYLOAD;
    assert_true(rl_decoder_can.detect(&pl) > 0 && rl_decoder_can.detect(&pl) < 50);
    pl.len = 15;
    assert_int_equal(rl_decoder_can.detect(&pl), 0);
    rl_dbc_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_socketcan_parse), cmocka_unit_test(test_socketcan_format),
        cmocka_unit_test(test_candump_lines),   cmocka_unit_test(test_dbc_parse),
        cmocka_unit_test(test_dbc_decode),      cmocka_unit_test(test_dbc_encode),
        cmocka_unit_test(test_dbc_problems),    cmocka_unit_test(test_can_decoder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
