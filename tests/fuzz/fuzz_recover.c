/* Fuzz target: `roadlog recover` on arbitrary bytes. Whatever the reader can
 * open is copied with rl_recover_copy() into a memory writer; the result
 * must be a complete log that verifies clean and holds exactly the messages
 * the copy reported. */
#include <stdlib.h>

#include "fuzz_target.h"
#include "roadlog/io.h"
#include "roadlog/reader.h"
#include "roadlog/writer.h"

#define OUT_CAP ((size_t)256 << 20)

static void count_problem(void *ud, int code, uint64_t offset, const char *msg)
{
    (void)code;
    (void)offset;
    (void)msg;
    (*(int64_t *)ud)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rl_io *io, *out;
    struct rl_reader *r, *r2;
    struct rl_writer *w;
    struct rl_recover_report rep;
    char err[256];
    if (rl_io_mem_open(&io, data, size) < 0)
        return 0;
    if (rl_reader_open_io(&r, io, true, NULL, err, sizeof(err)) < 0)
        return 0;
    if (rl_io_membuf_open(&out, OUT_CAP) < 0)
        goto done;
    if (rl_writer_open_io(&w, out, false, NULL) < 0)
        goto done_out;
    int rc = rl_recover_copy(r, w, &rep);
    if (rc < 0) {
        rl_writer_abort(w);
        goto done_out;
    }
    FUZZ_CHECK(rl_writer_close(w) == 0);

    struct rl_reader_options o;
    int64_t problems = 0;
    rl_reader_options_init(&o);
    o.problem = count_problem;
    o.problem_ud = &problems;
    FUZZ_CHECK(rl_reader_open_io(&r2, out, false, &o, err, sizeof(err)) == 0);
    struct rl_file_info info;
    rl_reader_file_info(r2, &info);
    FUZZ_CHECK(info.complete);
    FUZZ_CHECK(rl_reader_verify(r2) == 0);
    FUZZ_CHECK(problems == 0);
    struct rl_iter *it;
    struct rl_message m;
    uint64_t n = 0;
    FUZZ_CHECK(rl_iter_new(r2, NULL, &it) == 0);
    while ((rc = rl_iter_next(it, &m)) == 1)
        n++;
    FUZZ_CHECK(rc == 0);
    /* The iterator's range is [start, end) with end at most UINT64_MAX, so
     * a message stamped UINT64_MAX is not returned. */
    FUZZ_CHECK(n == rep.messages || (n < rep.messages && info.end_ns == UINT64_MAX));
    FUZZ_CHECK(rl_reader_attachment_count(r2) == rep.attachments);
    FUZZ_CHECK(rl_reader_metadata_count(r2) == rep.metadata);
    rl_iter_free(it);
    rl_reader_close(r2);
done_out:
    (void)rl_io_close(out);
done:
    rl_reader_close(r);
    return 0;
}
