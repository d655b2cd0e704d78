/* The I/O vtable every log reader and writer goes through (like SQLite's VFS
 * or redis' rio): a plain file, a memory buffer (tests, fuzzers), and a
 * fault-injecting wrapper (short write, ENOSPC at byte N) for the tests of
 * what happens when a disk fills up or a write fails.
 *
 * Reads are positional (pread); writes always append at the end. A handle is
 * used by one thread at a time. */
#ifndef ROADLOG_IO_H
#define ROADLOG_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/error.h"

struct rl_io;

struct rl_io_ops {
    /* Reads up to len bytes at off into buf; *got receives the count, which
     * is short only at end of file. Returns 0 or -errno. */
    int (*pread)(struct rl_io *io, void *buf, size_t len, uint64_t off, size_t *got);
    /* Appends all len bytes or fails: returns 0 or -errno (-ENOSPC, ...). */
    int (*write)(struct rl_io *io, const void *buf, size_t len);
    /* Current size in bytes. */
    int (*size)(struct rl_io *io, uint64_t *size);
    /* Makes written data durable (fdatasync for files). */
    int (*sync)(struct rl_io *io);
    /* Releases the handle; returns the first deferred error (close(2)). */
    int (*close)(struct rl_io *io);
};

struct rl_io {
    const struct rl_io_ops *ops;
};

enum rl_io_mode {
    RL_IO_READ,     /* existing file, read only */
    RL_IO_CREATE,   /* create or truncate, write (appends) and read */
    RL_IO_EXCLUSIVE /* create, fail with -EEXIST if it exists */
};

/* Opens a file. On success *out owns the descriptor until rl_io_close(). */
int rl_io_file_open(struct rl_io **out, const char *path, enum rl_io_mode mode) RL_WARN_UNUSED;

/* A read-only view of caller memory; the memory must outlive the handle. */
int rl_io_mem_open(struct rl_io **out, const void *data, size_t len) RL_WARN_UNUSED;

/* A growable in-memory file, readable and appendable, capped at cap_bytes
 * (writes past the cap fail with -ENOSPC). */
int rl_io_membuf_open(struct rl_io **out, size_t cap_bytes) RL_WARN_UNUSED;
/* The bytes written so far to a membuf handle; valid until the next write
 * or close. */
const uint8_t *rl_io_membuf_data(struct rl_io *io, size_t *len);

/* Wraps inner: the write that would take the total written bytes past
 * fail_at_bytes writes only the part below that limit (a short write) and
 * then fails with err (for example -ENOSPC); every later write fails too.
 * The wrapper owns inner and closes it. */
int rl_io_fault_open(struct rl_io **out, struct rl_io *inner, uint64_t fail_at_bytes,
                     int err) RL_WARN_UNUSED;

static inline int rl_io_pread(struct rl_io *io, void *buf, size_t len, uint64_t off, size_t *got)
{
    return io->ops->pread(io, buf, len, off, got);
}
static inline int rl_io_write(struct rl_io *io, const void *buf, size_t len)
{
    return io->ops->write(io, buf, len);
}
static inline int rl_io_size(struct rl_io *io, uint64_t *size)
{
    return io->ops->size(io, size);
}
static inline int rl_io_sync(struct rl_io *io)
{
    return io->ops->sync(io);
}
/* Closes and frees the handle (NULL is fine). Returns 0 or -errno. */
int rl_io_close(struct rl_io *io);

/* Reads exactly len bytes at off: returns 0, RL_ETRUNC when the file ends
 * first, or -errno. */
int rl_io_pread_full(struct rl_io *io, void *buf, size_t len, uint64_t off) RL_WARN_UNUSED;

#endif
