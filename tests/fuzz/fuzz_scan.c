/* Fuzz target: the reader in scan mode (force_scan), as it opens a log cut
 * off by a power loss: open, count messages, iterate everything in
 * log-time and in file order, verify. */
#include "fuzz_target.h"
#include "roadlog/io.h"
#include "roadlog/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rl_io *io;
    struct rl_reader *r;
    struct rl_reader_options o;
    char err[256];
    if (rl_io_mem_open(&io, data, size) < 0)
        return 0;
    rl_reader_options_init(&o);
    o.force_scan = true;
    o.chunk_cache = 1 + size % 3;
    if (rl_reader_open_io(&r, io, true, &o, err, sizeof(err)) < 0)
        return 0;

    struct rl_file_info info;
    rl_reader_file_info(r, &info);
    FUZZ_CHECK(info.valid_bytes <= size);
    FUZZ_CHECK(info.lost_bytes <= size);
    for (size_t i = 0; i < rl_reader_chunk_count(r); i++) {
        const struct rl_chunk_info *ci = rl_reader_chunk_at(r, i);
        FUZZ_CHECK(ci->offset <= size && ci->length <= size - ci->offset);
    }
    if (rl_reader_count_messages(r) < 0) {
        rl_reader_close(r);
        return 0;
    }

    for (int order = 0; order < 2; order++) {
        struct rl_iter_options opts;
        struct rl_iter *it;
        struct rl_message m;
        uint64_t last = 0;
        rl_iter_options_init(&opts);
        opts.order = order ? RL_ORDER_FILE : RL_ORDER_LOG_TIME;
        if (rl_iter_new(r, &opts, &it) < 0)
            continue;
        while (rl_iter_next(it, &m) == 1) {
            if (!order)
                FUZZ_CHECK(m.log_time_ns >= last);
            last = m.log_time_ns;
        }
        FUZZ_CHECK(rl_iter_peak_chunks(it) <= o.chunk_cache);
        rl_iter_free(it);
    }
    FUZZ_CHECK(rl_reader_verify(r) >= 0);
    rl_reader_close(r);
    return 0;
}
