/* Fuzz target: LINKTYPE_CAN_SOCKETCAN frames (rl_socketcan_parse/format),
 * candump lines (rl_candump_parse/format) and the "can" decoder with a
 * small DBC of its own. Invariants: what parses formats again and parses
 * back to the same frame; the decoder accepts every frame the parser does. */
#include <string.h>

#include "fuzz_target.h"
#include "roadlog/can.h"
#include "roadlog/decode.h"

#define JSON_LIMIT 65536

static const char dbc_text[] = "BO_ 291 M: 8 N\n"
                               " SG_ Mux M : 0|4@1+ (1,0) [0|15] \"\" N\n"
                               " SG_ A m1 : 8|12@1- (0.5,-3) [0|0] \"u\" N\n"
                               " SG_ B m2 : 15|16@0+ (1,0) [0|0] \"\" N\n"
                               " SG_ C : 63|64@0- (1,0) [0|0] \"\" N\n"
                               "BO_ 2147483649 E: 64 N\n"
                               " SG_ F : 511|32@0+ (1,0) [0|0] \"\" N\n"
                               " SG_ G : 32|32@1- (1,0) [0|0] \"\" N\n"
                               "VAL_ 291 Mux 1 \"one\" 2 \"two\";\n"
                               "SIG_VALTYPE_ 2147483649 G : 1;\n";

static bool same_frame(const struct rl_can_frame *a, const struct rl_can_frame *b)
{
    return a->id == b->id && a->extended == b->extended && a->rtr == b->rtr &&
           a->error == b->error && a->fd == b->fd && a->fd_flags == b->fd_flags &&
           a->len == b->len && a->len8_dlc == b->len8_dlc &&
           (a->rtr || memcmp(a->data, b->data, a->len) == 0);
}

static void decode(const struct rl_dbc *dbc, const uint8_t *p, size_t n, int linktype)
{
    struct rl_payload pl = {.data = p, .len = n, .linktype = linktype};
    struct rl_decode_ctx ctx = {.dbc = dbc};
    struct rl_can_frame f;
    struct rl_jw w;
    char err[256];
    int score = rl_decoder_can.detect(&pl);
    FUZZ_CHECK(score >= 0 && score <= 100);
    rl_jw_init(&w, JSON_LIMIT);
    rl_jw_obj_begin(&w);
    int rc = rl_decoder_can.decode(&ctx, &pl, &w, err, sizeof(err));
    FUZZ_CHECK((rc == 0) == (rl_socketcan_parse(p, n, &f) == 0));
    if (rc == 0)
        FUZZ_CHECK(!rl_jw_failed(&w));
    rl_jw_release(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rl_dbc *dbc = NULL;
    char err[256];
    if (rl_dbc_parse(dbc_text, sizeof(dbc_text) - 1, &dbc, err, sizeof(err)) != 0)
        __builtin_trap();

    struct rl_can_frame f, back;
    uint8_t buf[RL_SOCKETCAN_FD_MTU];
    if (rl_socketcan_parse(data, size, &f) == 0) {
        int n = rl_socketcan_format(&f, buf, sizeof(buf));
        if (n > 0) {
            FUZZ_CHECK(rl_socketcan_parse(buf, (size_t)n, &back) == 0);
            FUZZ_CHECK(same_frame(&f, &back));
        }
    }
    decode(dbc, data, size, RL_LINKTYPE_CAN_SOCKETCAN);
    decode(dbc, data, size, RL_LINKTYPE_PAYLOAD);

    struct rl_candump_line l, l2;
    char line[RL_CANDUMP_LINE_MAX + 1];
    if (rl_candump_parse((const char *)data, size, &l) == 0) {
        int n = rl_candump_format(&l, line, sizeof(line));
        FUZZ_CHECK(n > 0);
        FUZZ_CHECK(rl_candump_parse(line, (size_t)n, &l2) == 0);
        FUZZ_CHECK(same_frame(&l.frame, &l2.frame));
        FUZZ_CHECK(strcmp(l.iface, l2.iface) == 0 && l.direction == l2.direction);
        FUZZ_CHECK(l2.time_ns == l.time_ns / 1000 * 1000);
        n = rl_socketcan_format(&l.frame, buf, sizeof(buf));
        FUZZ_CHECK(n > 0);
        decode(dbc, buf, (size_t)n, RL_LINKTYPE_CAN_SOCKETCAN);
    }
    rl_dbc_free(dbc);
    return 0;
}
