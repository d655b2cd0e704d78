/* What the reader shares with the other parts of formats/ that work on an
 * open reader (verify.c, recover.c). Not a public API. */
#ifndef RL_READER_INTERNAL_H
#define RL_READER_INTERNAL_H

#include <stdarg.h>
#include <stdint.h>

#include "roadlog/reader.h"

/* The reader's I/O handle (borrowed). */
struct rl_io *rl__reader_io(struct rl_reader *r);

/* Reports a non-fatal problem to the reader's problem callback (if any). */
void rl__reader_problem(struct rl_reader *r, int code, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reads chunk i (see rl_reader_chunk_at) and decompresses it, checking its
 * CRC when crc is true. *records points to the decompressed records (or the
 * raw message bytes for raw_messages chunks), valid until the next call
 * with the same reader or rl_reader_close(). Returns 0, -errno, RL_ECRC,
 * RL_ECORRUPT, RL_ETRUNC. Detail goes to rl_reader_errmsg(). */
int rl__reader_load_chunk(struct rl_reader *r, size_t i, bool crc, const uint8_t **records,
                          size_t *len) RL_WARN_UNUSED;

/* Where the reader found the Summary: footer values and the data section's
 * extent. All zero when the file has no valid footer. */
struct rl__reader_layout {
    bool has_footer;
    bool has_data_end;
    uint64_t data_end_offset;  /* offset of the DataEnd record, if any */
    uint32_t data_section_crc; /* as stored in DataEnd */
    uint64_t summary_start, summary_offset_start, footer_offset;
    uint32_t summary_crc; /* as stored in the Footer */
};
void rl__reader_layout(const struct rl_reader *r, struct rl__reader_layout *out);

#endif
