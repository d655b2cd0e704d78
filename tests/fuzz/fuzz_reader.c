/* Fuzz target: the reader in indexed mode (Summary first, scan as the
 * fallback) on a memory image: open, iterate everything in log-time order,
 * seek to a time derived from the input and iterate again, read every
 * attachment. Messages must come out in time order and within the file's
 * reported range. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "roadlog/io.h"
#include "roadlog/reader.h"

static void consume(struct rl_reader *r, const struct rl_iter_options *opts, uint64_t seek_ns)
{
    struct rl_iter *it;
    struct rl_message m;
    uint64_t last = 0;
    int rc;
    if (rl_iter_new(r, opts, &it) < 0)
        return;
    if (seek_ns != UINT64_MAX && rl_iter_seek(it, seek_ns) < 0)
        goto done;
    while ((rc = rl_iter_next(it, &m)) == 1) {
        if (opts->order == RL_ORDER_LOG_TIME) {
            FUZZ_CHECK(m.log_time_ns >= last);
            FUZZ_CHECK(m.log_time_ns >= opts->start_ns &&
                       (m.log_time_ns < opts->end_ns || opts->end_ns == UINT64_MAX));
            if (seek_ns != UINT64_MAX)
                FUZZ_CHECK(m.log_time_ns >= seek_ns);
        }
        last = m.log_time_ns;
        FUZZ_CHECK(m.channel != NULL);
        volatile uint8_t sink = 0;
        for (size_t i = 0; i < m.len; i++)
            sink ^= m.data[i];
        (void)sink;
    }
done:
    rl_iter_free(it);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rl_io *io;
    struct rl_reader *r;
    char err[256];
    if (rl_io_mem_open(&io, data, size) < 0)
        return 0;
    if (rl_reader_open_io(&r, io, true, NULL, err, sizeof(err)) < 0)
        return 0;

    struct rl_file_info info;
    rl_reader_file_info(r, &info);
    struct rl_iter_options opts;
    rl_iter_options_init(&opts);
    consume(r, &opts, UINT64_MAX);

    /* A seek inside the file's range, picked by the input's last bytes. */
    uint64_t pick = 0;
    for (size_t i = size > 8 ? size - 8 : 0; i < size; i++)
        pick = pick << 8 | data[i];
    uint64_t span = info.end_ns - info.start_ns;
    uint64_t seek = info.start_ns + (span == UINT64_MAX ? pick : pick % (span + 1));
    consume(r, &opts, seek);

    /* A time window on every other channel, and file order. */
    static uint8_t set[65536 / 8];
    memset(set, 0x55, sizeof(set));
    opts.channel_set = set;
    opts.start_ns = info.start_ns + span / 4;
    opts.end_ns = info.start_ns + span / 2 + 1;
    consume(r, &opts, UINT64_MAX);
    rl_iter_options_init(&opts);
    opts.order = RL_ORDER_FILE;
    consume(r, &opts, UINT64_MAX);

    for (size_t i = 0; i < rl_reader_attachment_count(r); i++) {
        uint8_t *a = NULL;
        size_t len = 0;
        if (rl_reader_read_attachment(r, i, &a, &len) == 0)
            FUZZ_CHECK(len == rl_reader_attachment_at(r, i)->data_size);
        free(a);
    }
    rl_reader_close(r);
    return 0;
}
