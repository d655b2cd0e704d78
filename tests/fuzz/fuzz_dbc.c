/* Fuzz target: the DBC parser, lenient and strict, and signal decode/pack
 * on every signal it keeps, with the input's own bytes as frame data.
 * Invariants: strict parsing succeeds only on input the lenient parser
 * finds no problem in; the lookup finds every indexed message; packing the
 * raw value just extracted leaves the frame unchanged. */
#include <errno.h>
#include <string.h>

#include "fuzz_target.h"
#include "roadlog/can.h"

static void exercise(const struct rl_dbc *d, const uint8_t *data, size_t size)
{
    uint8_t frame[RL_DBC_MAX_BYTES], copy[RL_DBC_MAX_BYTES];
    size_t n = size < sizeof(frame) ? size : sizeof(frame);
    memset(frame, 0, sizeof(frame));
    memcpy(frame, data, n);
    size_t total = 0;
    for (size_t i = 0; i < rl_dbc_message_count(d); i++) {
        const struct rl_dbc_message *m = rl_dbc_message_at(d, i);
        FUZZ_CHECK(m && m->name && m->transmitter && m->size <= RL_DBC_MAX_BYTES);
        const struct rl_dbc_message *found =
            rl_dbc_find(d, m->id | (m->extended ? RL_CAN_EFF_FLAG : 0));
        FUZZ_CHECK(found == NULL || found->id == m->id);
        total += m->n_signals;
        struct rl_dbc_decoded out[RL_DBC_MAX_MSG_SIGNALS];
        size_t k = rl_dbc_decode(m, frame, sizeof(frame), out, RL_DBC_MAX_MSG_SIGNALS);
        FUZZ_CHECK(k <= m->n_signals);
        for (size_t s = 0; s < m->n_signals; s++) {
            const struct rl_dbc_signal *sg = &m->signals[s];
            uint64_t raw;
            FUZZ_CHECK(sg->name && sg->unit && sg->bit_len >= 1 && sg->bit_len <= 64);
            if (rl_dbc_signal_raw(sg, frame, sizeof(frame), &raw) != 0)
                continue;
            memcpy(copy, frame, sizeof(copy));
            FUZZ_CHECK(rl_dbc_pack_raw(sg, raw, copy, sizeof(copy)) == 0);
            FUZZ_CHECK(memcmp(copy, frame, sizeof(copy)) == 0);
            double v = rl_dbc_signal_physical(sg, raw);
            int erc = rl_dbc_encode_signal(sg, v, copy, sizeof(copy));
            FUZZ_CHECK(erc == 0 || erc == -ERANGE || erc == -EINVAL);
        }
    }
    FUZZ_CHECK(total == rl_dbc_signal_count(d));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rl_dbc *d = NULL, *strict = NULL;
    char err[256];
    int rc = rl_dbc_parse((const char *)data, size, &d, err, sizeof(err));
    int src = rl_dbc_parse_ex((const char *)data, size, RL_DBC_STRICT, &strict, err, sizeof(err));
    if (rc == 0) {
        exercise(d, data, size);
        for (size_t i = 0; i < rl_dbc_problem_count(d) && i < RL_DBC_PROBLEMS_KEPT; i++)
            FUZZ_CHECK(strncmp(rl_dbc_problem(d, i), "line ", 5) == 0);
        if (src == 0)
            FUZZ_CHECK(rl_dbc_problem_count(d) == 0 &&
                       rl_dbc_message_count(strict) == rl_dbc_message_count(d));
        else if (src == RL_ECORRUPT)
            FUZZ_CHECK(rl_dbc_problem_count(d) > 0 && strncmp(err, "line ", 5) == 0);
    }
    rl_dbc_free(d);
    rl_dbc_free(strict);
    return 0;
}
