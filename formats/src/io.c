/* The I/O backends of io.h: a POSIX file, a read-only memory view, a
 * growable memory file, and a fault-injecting wrapper. Each backend embeds
 * struct rl_io first, so a handle pointer converts to its backend struct. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roadlog/io.h"

/* ---- file ---- */

struct io_file {
    struct rl_io base;
    int fd;
};

static int file_pread(struct rl_io *io, void *buf, size_t len, uint64_t off, size_t *got)
{
    struct io_file *f = (struct io_file *)io;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(f->fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *got = done;
            return -errno;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    *got = done;
    return 0;
}

static int file_write(struct rl_io *io, const void *buf, size_t len)
{
    struct io_file *f = (struct io_file *)io;
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(f->fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int file_size(struct rl_io *io, uint64_t *size)
{
    struct io_file *f = (struct io_file *)io;
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        return -errno;
    *size = (uint64_t)st.st_size;
    return 0;
}

static int file_sync(struct rl_io *io)
{
    struct io_file *f = (struct io_file *)io;
    if (fdatasync(f->fd) != 0)
        return -errno;
    return 0;
}

static int file_close(struct rl_io *io)
{
    struct io_file *f = (struct io_file *)io;
    int rc = close(f->fd) != 0 ? -errno : 0;
    free(f);
    return rc;
}

static const struct rl_io_ops file_ops = {file_pread, file_write, file_size, file_sync, file_close};

int rl_io_file_open(struct rl_io **out, const char *path, enum rl_io_mode mode)
{
    int flags = O_RDONLY;
    if (mode == RL_IO_CREATE)
        flags = O_RDWR | O_CREAT | O_TRUNC | O_APPEND;
    else if (mode == RL_IO_EXCLUSIVE)
        flags = O_RDWR | O_CREAT | O_EXCL | O_APPEND;
    *out = NULL;
    struct io_file *f = malloc(sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->fd = open(path, flags | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        int err = -errno;
        free(f);
        return err;
    }
    if (mode == RL_IO_READ) {
        struct stat st;
        if (fstat(f->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
            close(f->fd);
            free(f);
            return -EISDIR;
        }
    }
    f->base.ops = &file_ops;
    *out = &f->base;
    return 0;
}

/* ---- read-only memory view ---- */

struct io_mem {
    struct rl_io base;
    const uint8_t *data;
    size_t len;
};

static int mem_pread(struct rl_io *io, void *buf, size_t len, uint64_t off, size_t *got)
{
    struct io_mem *m = (struct io_mem *)io;
    if (off >= m->len) {
        *got = 0;
        return 0;
    }
    size_t n = m->len - (size_t)off;
    if (n > len)
        n = len;
    memcpy(buf, m->data + off, n);
    *got = n;
    return 0;
}

static int mem_write(struct rl_io *io, const void *buf, size_t len)
{
    (void)io;
    (void)buf;
    (void)len;
    return -EBADF;
}

static int mem_size(struct rl_io *io, uint64_t *size)
{
    *size = ((struct io_mem *)io)->len;
    return 0;
}

static int mem_sync(struct rl_io *io)
{
    (void)io;
    return 0;
}

static int mem_close(struct rl_io *io)
{
    free(io);
    return 0;
}

static const struct rl_io_ops mem_ops = {mem_pread, mem_write, mem_size, mem_sync, mem_close};

int rl_io_mem_open(struct rl_io **out, const void *data, size_t len)
{
    struct io_mem *m = malloc(sizeof(*m));
    *out = NULL;
    if (!m)
        return -ENOMEM;
    m->base.ops = &mem_ops;
    m->data = data;
    m->len = len;
    *out = &m->base;
    return 0;
}

/* ---- growable memory file ---- */

struct io_membuf {
    struct rl_io base;
    uint8_t *data;
    size_t len, cap, limit;
};

static int membuf_pread(struct rl_io *io, void *buf, size_t len, uint64_t off, size_t *got)
{
    struct io_membuf *m = (struct io_membuf *)io;
    if (off >= m->len) {
        *got = 0;
        return 0;
    }
    size_t n = m->len - (size_t)off;
    if (n > len)
        n = len;
    memcpy(buf, m->data + off, n);
    *got = n;
    return 0;
}

static int membuf_write(struct rl_io *io, const void *buf, size_t len)
{
    struct io_membuf *m = (struct io_membuf *)io;
    if (len > m->limit - m->len)
        return -ENOSPC;
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap < m->len + len)
            cap = cap > m->limit / 2 ? m->limit : cap * 2;
        uint8_t *p = realloc(m->data, cap);
        if (!p)
            return -ENOMEM;
        m->data = p;
        m->cap = cap;
    }
    if (len)
        memcpy(m->data + m->len, buf, len);
    m->len += len;
    return 0;
}

static int membuf_size(struct rl_io *io, uint64_t *size)
{
    *size = ((struct io_membuf *)io)->len;
    return 0;
}

static int membuf_close(struct rl_io *io)
{
    struct io_membuf *m = (struct io_membuf *)io;
    free(m->data);
    free(m);
    return 0;
}

static const struct rl_io_ops membuf_ops = {membuf_pread, membuf_write, membuf_size, mem_sync,
                                            membuf_close};

int rl_io_membuf_open(struct rl_io **out, size_t cap_bytes)
{
    struct io_membuf *m = calloc(1, sizeof(*m));
    *out = NULL;
    if (!m)
        return -ENOMEM;
    m->base.ops = &membuf_ops;
    m->limit = cap_bytes;
    *out = &m->base;
    return 0;
}

const uint8_t *rl_io_membuf_data(struct rl_io *io, size_t *len)
{
    struct io_membuf *m = (struct io_membuf *)io;
    *len = m->len;
    return m->data;
}

/* ---- fault injection ---- */

struct io_fault {
    struct rl_io base;
    struct rl_io *inner;
    uint64_t written, fail_at;
    int err;
    bool failed;
};

static int fault_pread(struct rl_io *io, void *buf, size_t len, uint64_t off, size_t *got)
{
    struct io_fault *f = (struct io_fault *)io;
    return rl_io_pread(f->inner, buf, len, off, got);
}

static int fault_write(struct rl_io *io, const void *buf, size_t len)
{
    struct io_fault *f = (struct io_fault *)io;
    if (f->failed)
        return f->err;
    if (len > f->fail_at - f->written) {
        size_t part = (size_t)(f->fail_at - f->written);
        f->failed = true;
        if (part > 0) {
            int rc = rl_io_write(f->inner, buf, part);
            if (rc < 0)
                return rc;
            f->written += part;
        }
        return f->err;
    }
    int rc = rl_io_write(f->inner, buf, len);
    if (rc == 0)
        f->written += len;
    return rc;
}

static int fault_size(struct rl_io *io, uint64_t *size)
{
    return rl_io_size(((struct io_fault *)io)->inner, size);
}

static int fault_sync(struct rl_io *io)
{
    struct io_fault *f = (struct io_fault *)io;
    if (f->failed)
        return f->err;
    return rl_io_sync(f->inner);
}

static int fault_close(struct rl_io *io)
{
    struct io_fault *f = (struct io_fault *)io;
    int rc = rl_io_close(f->inner);
    free(f);
    return rc;
}

static const struct rl_io_ops fault_ops = {fault_pread, fault_write, fault_size, fault_sync,
                                           fault_close};

int rl_io_fault_open(struct rl_io **out, struct rl_io *inner, uint64_t fail_at_bytes, int err)
{
    struct io_fault *f = calloc(1, sizeof(*f));
    *out = NULL;
    if (!f) {
        (void)rl_io_close(inner);
        return -ENOMEM;
    }
    f->base.ops = &fault_ops;
    f->inner = inner;
    f->fail_at = fail_at_bytes;
    f->err = err < 0 ? err : -ENOSPC;
    *out = &f->base;
    return 0;
}

/* ---- helpers ---- */

int rl_io_close(struct rl_io *io)
{
    if (!io)
        return 0;
    return io->ops->close(io);
}

int rl_io_pread_full(struct rl_io *io, void *buf, size_t len, uint64_t off)
{
    size_t got = 0;
    int rc = rl_io_pread(io, buf, len, off, &got);
    if (rc < 0)
        return rc;
    return got == len ? 0 : RL_ETRUNC;
}
