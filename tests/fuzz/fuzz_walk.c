/* Fuzz target: the streaming record walk (rl_record_walk) over arbitrary
 * bytes, chunks expanded. Every record it hands out must lie inside the
 * input (or the decompressed chunk) it came from. */
#include <string.h>

#include "fuzz_target.h"
#include "roadlog/io.h"
#include "roadlog/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rl_io *io;
    struct rl_record_walk *w;
    char err[256];
    if (rl_io_mem_open(&io, data, size) < 0)
        return 0;
    if (rl_record_walk_new(io, &w, err, sizeof(err)) == 0) {
        struct rl_walk_item item;
        int rc;
        while ((rc = rl_record_walk_next(w, &item)) == 1) {
            if (!item.in_chunk)
                FUZZ_CHECK(item.offset < size);
            /* Touch every byte of the record so ASan sees any overrun. */
            volatile uint8_t sink = 0;
            for (size_t i = 0; i < item.rec.content.len; i++)
                sink ^= item.rec.content.ptr[i];
            (void)sink;
        }
        if (rc < 0)
            FUZZ_CHECK(strlen(rl_record_walk_errmsg(w)) > 0);
        rl_record_walk_free(w);
    }
    (void)rl_io_close(io);
    return 0;
}
