/* Classic pcap files, and the entry points shared with pcapng (pcapio.h).
 *
 * Implements the file format of draft-ietf-opsawg-pcap ("PCAP Capture File
 * Format"), section 4 (File Header: magic, major 2 / minor 4, reserved,
 * SnapLen, LinkType and FCS bits) and section 5 (Packet Record: timestamp
 * seconds, microseconds or nanoseconds, captured and original length), with
 * the magic 0xA1B2C3D4 (microseconds) or 0xA1B23C4D (nanoseconds) telling
 * both the resolution and, by how it reads, the byte order of the file.
 * Link types are the tcpdump.org LINKTYPE_* registry. The reader walks the
 * file through a window of it held in memory; the writer buffers its
 * appends. Both go through rl_io. pcapng lives in pcapng_file.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "pcapio_impl.h"

#define PCAP_MAGIC_US         0xA1B2C3D4u
#define PCAP_MAGIC_NS         0xA1B23C4Du
#define PCAP_MAGIC_US_SWAPPED 0xD4C3B2A1u
#define PCAP_MAGIC_NS_SWAPPED 0x4D3CB2A1u
/* Alexey Kuznetzov's modified pcap, with longer record headers: not read. */
#define PCAP_MAGIC_KUZNETZOV         0xA1B2CD34u
#define PCAP_MAGIC_KUZNETZOV_SWAPPED 0x34CDB2A1u
#define PCAPNG_SHB_TYPE              0x0A0D0D0Au
#define PCAP_VERSION_MAJOR           2
#define PCAP_VERSION_MINOR           4
#define PCAP_FILE_HEADER_LEN         24
#define PCAP_RECORD_HEADER_LEN       16
/* LinkType field: the low 26 bits (the FCS bits sit above them). */
#define PCAP_LINKTYPE_MASK   0x03FFFFFFu
#define PCAP_DEFAULT_SNAPLEN RL_PCAP_MAX_CAPLEN

#define NS_PER_S   1000000000ull
#define NS_PER_US  1000ull
#define TSRESOL_US 6
#define TSRESOL_NS 9

/* Read window and write buffer sizes. */
#define WINDOW_BYTES       (256u << 10)
#define WRITE_BUFFER_BYTES (256u << 10)

_Static_assert(PCAP_FILE_HEADER_LEN == 4 + 2 + 2 + 4 + 4 + 4 + 4, "pcap file header");
_Static_assert(PCAP_RECORD_HEADER_LEN == 4 * 4, "pcap record header");
_Static_assert(RL_PCAP_MAX_CAPLEN <= RL_PCAPNG_MAX_BLOCK_BYTES, "limits");

/* ---- shared reader plumbing ---- */

int rl__pcap_fail(struct rl_pcap_reader *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errmsg, sizeof r->errmsg, fmt, ap);
    va_end(ap);
    r->err = code;
    return code;
}

int rl__pcap_fetch(struct rl_pcap_reader *r, uint64_t off, size_t n, const uint8_t **p, size_t *got)
{
    if (off >= r->win_off && off - r->win_off <= r->win_len &&
        n <= r->win_len - (off - r->win_off)) {
        *p = r->win + (off - r->win_off);
        return 0;
    }
    size_t want = n > WINDOW_BYTES ? n : WINDOW_BYTES;
    if (want > r->win_cap) {
        uint8_t *nb = realloc(r->win, want);
        if (!nb)
            return -ENOMEM;
        r->win = nb;
        r->win_cap = want;
    }
    size_t have = 0;
    r->win_len = 0;
    r->win_off = off;
    int rc = rl_io_pread(r->io, r->win, want, off, &have);
    if (rc != 0)
        return rc;
    r->win_len = have;
    if (got)
        *got = have < n ? have : n;
    if (have < n)
        return RL_ETRUNC;
    *p = r->win;
    return 0;
}

int rl__pcap_add_iface(struct rl_pcap_reader *r, const struct rl_pcap_iface *iface,
                       const char *name, size_t name_len, const char *desc, size_t desc_len)
{
    if (r->n_ifaces >= RL_PCAP_MAX_IFACES)
        return RL_ETOOBIG;
    if (r->n_ifaces == r->cap_ifaces) {
        size_t nc = r->cap_ifaces ? r->cap_ifaces * 2 : 4;
        struct rl_pcap_iface **na = realloc(r->ifaces, nc * sizeof *na);
        if (!na)
            return -ENOMEM;
        r->ifaces = na;
        r->cap_ifaces = nc;
    }
    /* One allocation: the struct, then the two strings. */
    size_t extra = (name ? name_len + 1 : 0) + (desc ? desc_len + 1 : 0);
    struct rl_pcap_iface *it = malloc(sizeof *it + extra);
    if (!it)
        return -ENOMEM;
    *it = *iface;
    char *s = (char *)(it + 1);
    it->name = NULL;
    it->description = NULL;
    if (name) {
        memcpy(s, name, name_len);
        s[name_len] = '\0';
        it->name = s;
        s += name_len + 1;
    }
    if (desc) {
        memcpy(s, desc, desc_len);
        s[desc_len] = '\0';
        it->description = s;
    }
    r->ifaces[r->n_ifaces++] = it;
    return 0;
}

int rl_pcap_detect(const uint8_t *head, size_t len)
{
    if (len < 4)
        return 0;
    uint32_t m = rl__get_u32le(head);
    switch (m) {
    case PCAP_MAGIC_US:
    case PCAP_MAGIC_NS:
    case PCAP_MAGIC_US_SWAPPED:
    case PCAP_MAGIC_NS_SWAPPED:
        return RL_PCAP_FORMAT_PCAP;
    case PCAPNG_SHB_TYPE:
        return RL_PCAP_FORMAT_PCAPNG;
    default:
        return 0;
    }
}

static uint32_t rd32(const struct rl_pcap_reader *r, const uint8_t *b)
{
    uint32_t v = rl__get_u32le(b);
    if (r->swapped)
        v = (v >> 24) | ((v >> 8) & 0xFF00u) | ((v << 8) & 0xFF0000u) | (v << 24);
    return v;
}

static uint16_t rd16(const struct rl_pcap_reader *r, const uint8_t *b)
{
    uint16_t v = rl__get_u16le(b);
    return r->swapped ? (uint16_t)(v >> 8 | v << 8) : v;
}

/* ---- classic pcap reader ---- */

static int pcap_open(struct rl_pcap_reader *r)
{
    const uint8_t *h;
    size_t got = 0;
    int rc = rl__pcap_fetch(r, 0, PCAP_FILE_HEADER_LEN, &h, &got);
    if (rc == RL_ETRUNC)
        return rl__pcap_fail(r, rc, "file ends inside the pcap file header (%zu of %d bytes)", got,
                             PCAP_FILE_HEADER_LEN);
    if (rc != 0)
        return rl__pcap_fail(r, rc, "cannot read the pcap file header: %s", rl_strerror(rc));
    uint32_t magic = rl__get_u32le(h);
    r->swapped = magic == PCAP_MAGIC_US_SWAPPED || magic == PCAP_MAGIC_NS_SWAPPED;
    r->nanosecond = magic == PCAP_MAGIC_NS || magic == PCAP_MAGIC_NS_SWAPPED;
    uint16_t major = rd16(r, h + 4);
    if (major != PCAP_VERSION_MAJOR)
        return rl__pcap_fail(r, RL_EUNSUPPORTED, "pcap version %u.%u is not read", major,
                             rd16(r, h + 6));
    struct rl_pcap_iface it = {0};
    it.snaplen = rd32(r, h + 16);
    it.linktype = (int)(rd32(r, h + 20) & PCAP_LINKTYPE_MASK);
    it.tsresol = r->nanosecond ? TSRESOL_NS : TSRESOL_US;
    rc = rl__pcap_add_iface(r, &it, NULL, 0, NULL, 0);
    if (rc != 0)
        return rl__pcap_fail(r, rc, "out of memory");
    r->off = PCAP_FILE_HEADER_LEN;
    return 0;
}

static int pcap_next(struct rl_pcap_reader *r, struct rl_pcap_packet *pkt)
{
    const uint8_t *h;
    size_t got = 0;
    uint64_t n = r->n_packets + 1;
    int rc = rl__pcap_fetch(r, r->off, PCAP_RECORD_HEADER_LEN, &h, &got);
    if (rc == RL_ETRUNC && got == 0)
        return 0;
    if (rc == RL_ETRUNC)
        return rl__pcap_fail(r, rc,
                             "file ends inside the header of packet %llu at offset %llu "
                             "(%zu of %d bytes)",
                             (unsigned long long)n, (unsigned long long)r->off, got,
                             PCAP_RECORD_HEADER_LEN);
    if (rc != 0)
        return rl__pcap_fail(r, rc, "read failed at offset %llu: %s", (unsigned long long)r->off,
                             rl_strerror(rc));
    uint32_t sec = rd32(r, h), frac = rd32(r, h + 4);
    uint32_t caplen = rd32(r, h + 8), origlen = rd32(r, h + 12);
    if (caplen > RL_PCAP_MAX_CAPLEN)
        return rl__pcap_fail(r, RL_ETOOBIG,
                             "packet %llu at offset %llu: captured length %u exceeds the "
                             "limit of %u",
                             (unsigned long long)n, (unsigned long long)r->off, caplen,
                             RL_PCAP_MAX_CAPLEN);
    rc = rl__pcap_fetch(r, r->off, PCAP_RECORD_HEADER_LEN + (size_t)caplen, &h, &got);
    if (rc == RL_ETRUNC)
        return rl__pcap_fail(r, rc,
                             "file ends inside packet %llu at offset %llu (%zu of %u data "
                             "bytes)",
                             (unsigned long long)n, (unsigned long long)r->off,
                             got - PCAP_RECORD_HEADER_LEN, caplen);
    if (rc != 0)
        return rl__pcap_fail(r, rc, "read failed at offset %llu: %s", (unsigned long long)r->off,
                             rl_strerror(rc));
    memset(pkt, 0, sizeof *pkt);
    pkt->iface = 0;
    pkt->linktype = r->ifaces[0]->linktype;
    pkt->ts_ns = (uint64_t)sec * NS_PER_S + (r->nanosecond ? frac : (uint64_t)frac * NS_PER_US);
    pkt->has_ts = true;
    pkt->caplen = caplen;
    pkt->origlen = origlen;
    pkt->data = h + PCAP_RECORD_HEADER_LEN;
    pkt->offset = r->off;
    r->off += PCAP_RECORD_HEADER_LEN + (uint64_t)caplen;
    r->n_packets++;
    return 1;
}

/* ---- common reader entry points ---- */

int rl_pcap_reader_open_io(struct rl_pcap_reader **out, struct rl_io *io, bool own_io, char *errbuf,
                           size_t errbuf_len)
{
    *out = NULL;
    int rc;
    struct rl_pcap_reader *r = calloc(1, sizeof *r);
    if (!r) {
        rc = -ENOMEM;
        if (errbuf && errbuf_len)
            snprintf(errbuf, errbuf_len, "out of memory");
        if (own_io)
            (void)rl_io_close(io);
        return rc;
    }
    r->io = io;
    r->own_io = own_io;
    r->section = UINT32_MAX;
    rc = rl_io_size(io, &r->file_size);
    if (rc != 0) {
        rl__pcap_fail(r, rc, "cannot get the file size: %s", rl_strerror(rc));
        goto fail;
    }
    const uint8_t *h;
    size_t got = 0;
    rc = rl__pcap_fetch(r, 0, 4, &h, &got);
    if (rc == RL_ETRUNC) {
        rl__pcap_fail(r, rc, "file of %zu bytes is too short for a capture file", got);
        goto fail;
    }
    if (rc != 0) {
        rl__pcap_fail(r, rc, "cannot read the file: %s", rl_strerror(rc));
        goto fail;
    }
    r->format = (enum rl_pcap_format)rl_pcap_detect(h, 4);
    if (r->format == RL_PCAP_FORMAT_PCAP) {
        rc = pcap_open(r);
    } else if (r->format == RL_PCAP_FORMAT_PCAPNG) {
        rc = rl__pcapng_open(r);
    } else if (rl__get_u32le(h) == PCAP_MAGIC_KUZNETZOV ||
               rl__get_u32le(h) == PCAP_MAGIC_KUZNETZOV_SWAPPED) {
        rc = rl__pcap_fail(r, RL_EUNSUPPORTED, "modified (Kuznetzov) pcap files are not read");
    } else {
        rc = rl__pcap_fail(r, RL_ECORRUPT,
                           "not a pcap or pcapng file (first bytes %02x %02x %02x %02x)", h[0],
                           h[1], h[2], h[3]);
    }
    if (rc != 0)
        goto fail;
    *out = r;
    return 0;

fail:
    if (errbuf && errbuf_len)
        snprintf(errbuf, errbuf_len, "%s", r->errmsg);
    rl_pcap_reader_close(r);
    return rc;
}

int rl_pcap_reader_open(struct rl_pcap_reader **out, const char *path, char *errbuf,
                        size_t errbuf_len)
{
    struct rl_io *io = NULL;
    *out = NULL;
    int rc = rl_io_file_open(&io, path, RL_IO_READ);
    if (rc != 0) {
        if (errbuf && errbuf_len)
            snprintf(errbuf, errbuf_len, "cannot open '%s': %s", path, rl_strerror(rc));
        return rc;
    }
    return rl_pcap_reader_open_io(out, io, true, errbuf, errbuf_len);
}

int rl_pcap_reader_next(struct rl_pcap_reader *r, struct rl_pcap_packet *pkt)
{
    if (r->err != 0)
        return r->err;
    if (r->format == RL_PCAP_FORMAT_PCAP)
        return pcap_next(r, pkt);
    return rl__pcapng_next(r, pkt);
}

enum rl_pcap_format rl_pcap_reader_format(const struct rl_pcap_reader *r)
{
    return r->format;
}

size_t rl_pcap_reader_iface_count(const struct rl_pcap_reader *r)
{
    return r->n_ifaces;
}

const struct rl_pcap_iface *rl_pcap_reader_iface(const struct rl_pcap_reader *r, size_t i)
{
    return i < r->n_ifaces ? r->ifaces[i] : NULL;
}

const char *rl_pcap_reader_errmsg(const struct rl_pcap_reader *r)
{
    return r->errmsg;
}

void rl_pcap_reader_close(struct rl_pcap_reader *r)
{
    if (!r)
        return;
    if (r->own_io)
        (void)rl_io_close(r->io);
    for (size_t i = 0; i < r->n_ifaces; i++)
        free(r->ifaces[i]);
    free(r->ifaces);
    free(r->win);
    free(r);
}

/* ---- writer ---- */

int rl__pcapw_fail(struct rl_pcap_writer *w, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->errmsg, sizeof w->errmsg, fmt, ap);
    va_end(ap);
    if (w->err == 0)
        w->err = code;
    return code;
}

static int pcapw_flush(struct rl_pcap_writer *w)
{
    if (w->err != 0)
        return w->err;
    if (w->len == 0)
        return 0;
    int rc = rl_io_write(w->io, w->buf, w->len);
    w->len = 0;
    if (rc != 0)
        return rl__pcapw_fail(w, rc, "write failed: %s", rl_strerror(rc));
    return 0;
}

int rl__pcapw_put(struct rl_pcap_writer *w, const void *p, size_t n)
{
    if (w->err != 0)
        return w->err;
    if (n > w->cap - w->len) {
        int rc = pcapw_flush(w);
        if (rc != 0)
            return rc;
        if (n > w->cap) {
            rc = rl_io_write(w->io, p, n);
            if (rc != 0)
                return rl__pcapw_fail(w, rc, "write failed: %s", rl_strerror(rc));
            return 0;
        }
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
    return 0;
}

void rl_pcap_writer_options_init(struct rl_pcap_writer_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->format = RL_PCAP_FORMAT_PCAPNG;
    opts->pcap_nanosecond = true;
}

int rl_pcap_writer_open_io(struct rl_pcap_writer **out, struct rl_io *io, bool own_io,
                           const struct rl_pcap_writer_options *opts)
{
    *out = NULL;
    int rc = -ENOMEM;
    struct rl_pcap_writer *w = calloc(1, sizeof *w);
    if (!w)
        goto fail;
    w->io = io;
    w->own_io = own_io;
    if (opts)
        w->opts = *opts;
    else
        rl_pcap_writer_options_init(&w->opts);
    if (w->opts.format != RL_PCAP_FORMAT_PCAP && w->opts.format != RL_PCAP_FORMAT_PCAPNG) {
        rc = -EINVAL;
        goto fail;
    }
    w->cap = WRITE_BUFFER_BYTES;
    w->buf = malloc(w->cap);
    if (!w->buf)
        goto fail;
    if (w->opts.format == RL_PCAP_FORMAT_PCAPNG) {
        rc = rl__pcapng_write_shb(w);
        if (rc != 0)
            goto fail;
    }
    *out = w;
    return 0;

fail:
    if (w) {
        free(w->buf);
        free(w);
    }
    if (own_io)
        (void)rl_io_close(io);
    return rc;
}

int rl_pcap_writer_open(struct rl_pcap_writer **out, const char *path,
                        const struct rl_pcap_writer_options *opts)
{
    struct rl_io *io = NULL;
    *out = NULL;
    int rc = rl_io_file_open(&io, path, RL_IO_CREATE);
    if (rc != 0)
        return rc;
    return rl_pcap_writer_open_io(out, io, true, opts);
}

static int pcap_write_header(struct rl_pcap_writer *w)
{
    uint8_t h[PCAP_FILE_HEADER_LEN];
    rl__put_u32le(h, w->opts.pcap_nanosecond ? PCAP_MAGIC_NS : PCAP_MAGIC_US);
    rl__put_u16le(h + 4, PCAP_VERSION_MAJOR);
    rl__put_u16le(h + 6, PCAP_VERSION_MINOR);
    rl__put_u32le(h + 8, 0);  /* reserved (was thiszone) */
    rl__put_u32le(h + 12, 0); /* reserved (was sigfigs) */
    rl__put_u32le(h + 16, w->snaplen ? w->snaplen : PCAP_DEFAULT_SNAPLEN);
    rl__put_u32le(h + 20, (uint32_t)w->linktype & PCAP_LINKTYPE_MASK);
    w->header_written = true;
    return rl__pcapw_put(w, h, sizeof h);
}

int rl_pcap_writer_add_iface(struct rl_pcap_writer *w, int linktype, uint32_t snaplen,
                             const char *name, uint32_t *id_out)
{
    if (w->err != 0)
        return w->err;
    if (w->n_ifaces >= RL_PCAP_MAX_IFACES)
        return rl__pcapw_fail(w, RL_ETOOBIG, "more than %u interfaces", RL_PCAP_MAX_IFACES);
    if (linktype < 0 || (uint32_t)linktype > PCAP_LINKTYPE_MASK)
        return rl__pcapw_fail(w, -EINVAL, "link type %d cannot be written", linktype);
    if (w->opts.format == RL_PCAP_FORMAT_PCAP) {
        if (w->n_ifaces > 0 && linktype != w->linktype)
            return rl__pcapw_fail(w, RL_EUNSUPPORTED,
                                  "a pcap file holds one link type: %d, not also %d", w->linktype,
                                  linktype);
        if (w->header_written)
            return rl__pcapw_fail(w, RL_EUNSUPPORTED,
                                  "pcap interfaces must be added before the first packet");
        w->linktype = linktype;
        uint32_t s = snaplen ? snaplen : PCAP_DEFAULT_SNAPLEN;
        if (s > w->snaplen)
            w->snaplen = s;
    } else {
        int rc = rl__pcapng_write_idb(w, linktype, snaplen, name);
        if (rc != 0)
            return rc;
    }
    if (id_out)
        *id_out = w->n_ifaces;
    w->n_ifaces++;
    return 0;
}

int rl_pcap_writer_write(struct rl_pcap_writer *w, uint32_t iface, uint64_t ts_ns,
                         const uint8_t *data, uint32_t caplen, uint32_t origlen)
{
    if (w->err != 0)
        return w->err;
    if (iface >= w->n_ifaces)
        return rl__pcapw_fail(w, -EINVAL, "packet for unknown interface %u", iface);
    if (caplen > RL_PCAP_MAX_CAPLEN)
        return rl__pcapw_fail(w, RL_ETOOBIG, "packet of %u bytes exceeds the limit of %u", caplen,
                              RL_PCAP_MAX_CAPLEN);
    if (origlen < caplen)
        origlen = caplen;
    w->wrote_packet = true;
    if (w->opts.format == RL_PCAP_FORMAT_PCAPNG)
        return rl__pcapng_write_epb(w, iface, ts_ns, data, caplen, origlen);

    int rc;
    if (!w->header_written) {
        rc = pcap_write_header(w);
        if (rc != 0)
            return rc;
    }
    if (caplen > w->snaplen)
        return rl__pcapw_fail(w, RL_ETOOBIG, "packet of %u bytes exceeds the snapshot length %u",
                              caplen, w->snaplen);
    uint64_t sec = ts_ns / NS_PER_S, frac = ts_ns % NS_PER_S;
    if (sec > UINT32_MAX)
        return rl__pcapw_fail(w, -ERANGE, "timestamp %llu ns does not fit a pcap file",
                              (unsigned long long)ts_ns);
    uint8_t h[PCAP_RECORD_HEADER_LEN];
    rl__put_u32le(h, (uint32_t)sec);
    rl__put_u32le(h + 4, (uint32_t)(w->opts.pcap_nanosecond ? frac : frac / NS_PER_US));
    rl__put_u32le(h + 8, caplen);
    rl__put_u32le(h + 12, origlen);
    rc = rl__pcapw_put(w, h, sizeof h);
    if (rc == 0 && caplen > 0)
        rc = rl__pcapw_put(w, data, caplen);
    return rc;
}

int rl_pcap_writer_close(struct rl_pcap_writer *w)
{
    if (!w)
        return 0;
    int rc = w->err;
    if (rc == 0 && w->opts.format == RL_PCAP_FORMAT_PCAP && !w->header_written) {
        if (w->n_ifaces == 0)
            w->linktype = 1; /* an empty file still needs a link type: Ethernet */
        rc = pcap_write_header(w);
    }
    if (rc == 0)
        rc = pcapw_flush(w);
    if (w->own_io) {
        int crc = rl_io_close(w->io);
        if (rc == 0)
            rc = crc;
    }
    free(w->buf);
    free(w);
    return rc;
}

const char *rl_pcap_writer_errmsg(const struct rl_pcap_writer *w)
{
    return w->errmsg;
}
