/* Unit tests of pcapio.h on the memory backend: write -> read round trips
 * of pcap (microsecond and nanosecond) and multi-interface pcapng;
 * hand-built files in big-endian byte order, with several sections,
 * binary and decimal if_tsresol, if_tsoffset, Simple and obsolete Packet
 * Blocks, and unknown blocks; files cut at every offset (clean errors,
 * every packet before the cut returned); damaged headers and lengths; the
 * writer's limits and write failures. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "roadlog/io.h"
#include "roadlog/pcapio.h"

#define NPKT    40
#define MEM_CAP (8u << 20)

struct pkt_spec {
    uint32_t iface;
    uint64_t ts_ns;
    uint32_t caplen, origlen;
    uint8_t data[1600];
};

static void make_packets(struct pkt_spec *p, size_t n, uint32_t n_ifaces, uint64_t ts_unit)
{
    for (size_t i = 0; i < n; i++) {
        p[i].iface = (uint32_t)(i % n_ifaces);
        p[i].ts_ns = 1611284291000000000ull + i * 123457 * ts_unit;
        p[i].caplen = (uint32_t)((i * 37) % 1500);
        p[i].origlen = p[i].caplen + (i % 3 == 0 ? 100 : 0);
        for (size_t k = 0; k < p[i].caplen; k++)
            p[i].data[k] = (uint8_t)(i + k * 3);
    }
}

/* Writes the packets; returns the file in a malloc'd buffer. */
static uint8_t *write_file(const struct rl_pcap_writer_options *o, const int *linktypes,
                           const char *const *names, uint32_t n_ifaces, const struct pkt_spec *p,
                           size_t n, size_t *len)
{
    struct rl_io *io;
    assert_int_equal(rl_io_membuf_open(&io, MEM_CAP), 0);
    struct rl_pcap_writer *w;
    assert_int_equal(rl_pcap_writer_open_io(&w, io, false, o), 0);
    for (uint32_t i = 0; i < n_ifaces; i++) {
        uint32_t id = 99;
        assert_int_equal(
            rl_pcap_writer_add_iface(w, linktypes[i], 65535, names ? names[i] : NULL, &id), 0);
        assert_int_equal(id, i);
    }
    for (size_t i = 0; i < n; i++)
        assert_int_equal(
            rl_pcap_writer_write(w, p[i].iface, p[i].ts_ns, p[i].data, p[i].caplen, p[i].origlen),
            0);
    assert_int_equal(rl_pcap_writer_close(w), 0);
    const uint8_t *d = rl_io_membuf_data(io, len);
    uint8_t *copy = malloc(*len);
    assert_non_null(copy);
    memcpy(copy, d, *len);
    assert_int_equal(rl_io_close(io), 0);
    return copy;
}

static int open_mem(struct rl_pcap_reader **r, const uint8_t *d, size_t n, char *err, size_t errlen)
{
    struct rl_io *io;
    assert_int_equal(rl_io_mem_open(&io, d, n), 0);
    return rl_pcap_reader_open_io(r, io, true, err, errlen);
}

static void read_back(const uint8_t *d, size_t n, const struct pkt_spec *p, size_t np,
                      const int *linktypes, uint64_t ts_unit)
{
    struct rl_pcap_reader *r;
    char err[256];
    assert_int_equal(open_mem(&r, d, n, err, sizeof err), 0);
    struct rl_pcap_packet k;
    for (size_t i = 0; i < np; i++) {
        assert_int_equal(rl_pcap_reader_next(r, &k), 1);
        assert_int_equal(k.iface, p[i].iface);
        assert_int_equal(k.linktype, linktypes[p[i].iface]);
        assert_int_equal(k.ts_ns, p[i].ts_ns / ts_unit * ts_unit);
        assert_true(k.has_ts);
        assert_int_equal(k.caplen, p[i].caplen);
        assert_int_equal(k.origlen, p[i].origlen);
        assert_memory_equal(k.data, p[i].data, p[i].caplen);
    }
    assert_int_equal(rl_pcap_reader_next(r, &k), 0);
    assert_int_equal(rl_pcap_reader_next(r, &k), 0);
    rl_pcap_reader_close(r);
}

static void test_pcap_roundtrip(void **state)
{
    (void)state;
    struct pkt_spec *p = calloc(NPKT, sizeof *p);
    assert_non_null(p);
    const int lt[] = {1, 1};
    for (int ns = 0; ns < 2; ns++) {
        make_packets(p, NPKT, 1, 1);
        struct rl_pcap_writer_options o;
        rl_pcap_writer_options_init(&o);
        o.format = RL_PCAP_FORMAT_PCAP;
        o.pcap_nanosecond = ns;
        size_t n;
        uint8_t *d = write_file(&o, lt, NULL, 1, p, NPKT, &n);
        assert_int_equal(rl_pcap_detect(d, n), RL_PCAP_FORMAT_PCAP);
        read_back(d, n, p, NPKT, lt, ns ? 1 : 1000);
        struct rl_pcap_reader *r;
        assert_int_equal(open_mem(&r, d, n, NULL, 0), 0);
        assert_int_equal(rl_pcap_reader_format(r), RL_PCAP_FORMAT_PCAP);
        assert_int_equal(rl_pcap_reader_iface_count(r), 1);
        const struct rl_pcap_iface *it = rl_pcap_reader_iface(r, 0);
        assert_int_equal(it->linktype, 1);
        assert_int_equal(it->snaplen, 65535);
        assert_int_equal(it->tsresol, ns ? 9 : 6);
        assert_null(it->name);
        assert_null(rl_pcap_reader_iface(r, 1));
        rl_pcap_reader_close(r);
        free(d);
    }
    /* Two interfaces of one link type share the file. */
    make_packets(p, NPKT, 2, 1);
    struct rl_pcap_writer_options o;
    rl_pcap_writer_options_init(&o);
    o.format = RL_PCAP_FORMAT_PCAP;
    size_t n;
    uint8_t *d = write_file(&o, lt, NULL, 2, p, NPKT, &n);
    for (size_t i = 0; i < NPKT; i++)
        p[i].iface = 0;
    read_back(d, n, p, NPKT, lt, 1);
    free(d);
    free(p);
}

/* A pcap file in big-endian order, microseconds. */
static void test_pcap_big_endian(void **state)
{
    (void)state;
    uint8_t f[24 + 16 + 4 + 16 + 2] = {
        0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x04, 0, 0, 0, 0, 101,
        /* packet 1: ts 1.000002, 4 bytes of 6 */
        0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 6, 0x45, 0, 0, 6,
        /* packet 2: ts 2.5, 2 bytes */
        0, 0, 0, 2, 0, 0x07, 0xa1, 0x20, 0, 0, 0, 2, 0, 0, 0, 2, 0xAB, 0xCD};
    struct rl_pcap_reader *r;
    assert_int_equal(open_mem(&r, f, sizeof f, NULL, 0), 0);
    assert_int_equal(rl_pcap_reader_iface(r, 0)->linktype, 101);
    assert_int_equal(rl_pcap_reader_iface(r, 0)->snaplen, 1024);
    struct rl_pcap_packet k;
    assert_int_equal(rl_pcap_reader_next(r, &k), 1);
    assert_int_equal(k.ts_ns, 1000002000ull);
    assert_int_equal(k.caplen, 4);
    assert_int_equal(k.origlen, 6);
    assert_int_equal(k.data[0], 0x45);
    assert_int_equal(rl_pcap_reader_next(r, &k), 1);
    assert_int_equal(k.ts_ns, 2500000000ull);
    assert_int_equal(k.data[1], 0xCD);
    assert_int_equal(rl_pcap_reader_next(r, &k), 0);
    rl_pcap_reader_close(r);
    /* Nanosecond magic, big-endian. */
    f[2] = 0x3c;
    f[3] = 0x4d;
    assert_int_equal(open_mem(&r, f, sizeof f, NULL, 0), 0);
    assert_int_equal(rl_pcap_reader_next(r, &k), 1);
    assert_int_equal(k.ts_ns, 1000000002ull);
    rl_pcap_reader_close(r);
}

static void test_pcapng_roundtrip(void **state)
{
    (void)state;
    struct pkt_spec *p = calloc(NPKT, sizeof *p);
    assert_non_null(p);
    make_packets(p, NPKT, 3, 1);
    const int lt[] = {1, 227, 101};
    const char *names[] = {"/lidar/top", "can0", NULL};
    size_t n;
    uint8_t *d = write_file(NULL, lt, names, 3, p, NPKT, &n);
    assert_int_equal(rl_pcap_detect(d, n), RL_PCAP_FORMAT_PCAPNG);
    read_back(d, n, p, NPKT, lt, 1);
    struct rl_pcap_reader *r;
    assert_int_equal(open_mem(&r, d, n, NULL, 0), 0);
    assert_int_equal(rl_pcap_reader_format(r), RL_PCAP_FORMAT_PCAPNG);
    struct rl_pcap_packet k;
    while (rl_pcap_reader_next(r, &k) == 1)
        ;
    assert_int_equal(rl_pcap_reader_iface_count(r), 3);
    assert_string_equal(rl_pcap_reader_iface(r, 0)->name, "/lidar/top");
    assert_string_equal(rl_pcap_reader_iface(r, 1)->name, "can0");
    assert_null(rl_pcap_reader_iface(r, 2)->name);
    assert_int_equal(rl_pcap_reader_iface(r, 1)->linktype, 227);
    assert_int_equal(rl_pcap_reader_iface(r, 1)->tsresol, 9);
    assert_int_equal(rl_pcap_reader_iface(r, 1)->snaplen, 65535);
    rl_pcap_reader_close(r);
    free(d);
    free(p);
}

/* ---- hand-built pcapng ---- */

struct buf {
    uint8_t b[4096];
    size_t n;
    bool be;
};

static void put(struct buf *f, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) {
        int sh = f->be ? 8 * (bytes - 1 - i) : 8 * i;
        f->b[f->n++] = (uint8_t)(v >> sh);
    }
}

static void put_bytes(struct buf *f, const void *p, size_t n)
{
    memcpy(f->b + f->n, p, n);
    f->n += n;
    while (f->n % 4)
        f->b[f->n++] = 0;
}

/* Starts a block; returns where it begins (finish with end_block). */
static size_t begin_block(struct buf *f, uint32_t type)
{
    size_t at = f->n;
    put(f, type, 4);
    put(f, 0, 4);
    return at;
}

static void end_block(struct buf *f, size_t at)
{
    uint32_t len = (uint32_t)(f->n - at + 4);
    put(f, len, 4);
    size_t save = f->n;
    f->n = at + 4;
    put(f, len, 4);
    f->n = save;
}

static void shb(struct buf *f)
{
    size_t at = begin_block(f, 0x0A0D0D0A);
    put(f, 0x1A2B3C4D, 4);
    put(f, 1, 2);
    put(f, 0, 2);
    put(f, UINT64_MAX, 8);
    end_block(f, at);
}

static void idb(struct buf *f, uint16_t lt, uint32_t snaplen, int tsresol, bool offset,
                const char *name)
{
    size_t at = begin_block(f, 1);
    put(f, lt, 2);
    put(f, 0, 2);
    put(f, snaplen, 4);
    if (name) {
        put(f, 2, 2);
        put(f, strlen(name), 2);
        put_bytes(f, name, strlen(name));
    }
    if (tsresol >= 0) {
        put(f, 9, 2);
        put(f, 1, 2);
        uint8_t v = (uint8_t)tsresol;
        put_bytes(f, &v, 1);
    }
    if (offset) {
        put(f, 14, 2);
        put(f, 8, 2);
        put(f, 100, 8);
    }
    put(f, 0, 4);
    end_block(f, at);
}

static void epb(struct buf *f, uint32_t iface, uint64_t ts, const void *d, uint32_t n,
                uint32_t flags)
{
    size_t at = begin_block(f, 6);
    put(f, iface, 4);
    put(f, ts >> 32, 4);
    put(f, ts & 0xFFFFFFFF, 4);
    put(f, n, 4);
    put(f, n + 10, 4);
    put_bytes(f, d, n);
    if (flags) {
        put(f, 2, 2);
        put(f, 4, 2);
        put(f, flags, 4);
        put(f, 0, 4);
    }
    end_block(f, at);
}

static void test_pcapng_handmade(void **state)
{
    (void)state;
    struct buf *f = calloc(1, sizeof *f);
    assert_non_null(f);
    const uint8_t data[] = {1, 2, 3, 4, 5, 6, 7};
    /* Section 0, big-endian: microseconds by default, then 2^-20 s with
     * an offset of 100 s. */
    f->be = true;
    shb(f);
    idb(f, 1, 0, -1, false, "eth0");
    size_t at = begin_block(f, 0x00000004); /* Name Resolution Block: skipped */
    put(f, 0, 4);
    end_block(f, at);
    epb(f, 0, 1500000, data, 7, 0x1);
    idb(f, 101, 0, 0x80 | 20, true, NULL);
    epb(f, 1, (3ull << 20) | (1u << 19), data, 3, 0);
    /* Section 1, little-endian: milliseconds; SPB, obsolete PB, custom block. */
    f->be = false;
    shb(f);
    idb(f, 227, 4, 3, false, "can0");
    at = begin_block(f, 3); /* SPB: origlen 7, snaplen 4 -> 4 bytes */
    put(f, 7, 4);
    put_bytes(f, data, 7);
    end_block(f, at);
    at = begin_block(f, 0x40000BAD); /* custom block */
    put(f, 12345, 4);
    end_block(f, at);
    at = begin_block(f, 2); /* obsolete Packet Block */
    put(f, 0, 2);
    put(f, 0, 2);
    put(f, 0, 4);
    put(f, 2500, 4);
    put(f, 2, 4);
    put(f, 2, 4);
    put_bytes(f, data, 2);
    end_block(f, at);

    struct rl_pcap_reader *r;
    char err[256];
    assert_int_equal(open_mem(&r, f->b, f->n, err, sizeof err), 0);
    struct rl_pcap_packet k;
    assert_int_equal(rl_pcap_reader_next(r, &k), 1);
    assert_int_equal(k.iface, 0);
    assert_int_equal(k.linktype, 1);
    assert_int_equal(k.ts_ns, 1500000000ull);
    assert_int_equal(k.caplen, 7);
    assert_int_equal(k.origlen, 17);
    assert_int_equal(k.flags, 1);
    assert_memory_equal(k.data, data, 7);
    assert_int_equal(rl_pcap_reader_next(r, &k), 1);
    assert_int_equal(k.iface, 1);
    assert_int_equal(k.linktype, 101);
    assert_int_equal(k.ts_ns, 103500000000ull);
    assert_int_equal(k.flags, 0);
    assert_int_equal(rl_pcap_reader_next(r, &k), 1);
    assert_int_equal(k.iface, 2);
    assert_int_equal(k.linktype, 227);
    assert_false(k.has_ts);
    assert_int_equal(k.caplen, 4);
    assert_int_equal(k.origlen, 7);
    assert_int_equal(rl_pcap_reader_next(r, &k), 1);
    assert_int_equal(k.iface, 2);
    assert_int_equal(k.ts_ns, 2500000000ull);
    assert_int_equal(k.caplen, 2);
    assert_int_equal(rl_pcap_reader_next(r, &k), 0);
    assert_int_equal(rl_pcap_reader_iface_count(r), 3);
    assert_string_equal(rl_pcap_reader_iface(r, 0)->name, "eth0");
    assert_int_equal(rl_pcap_reader_iface(r, 0)->section, 0);
    assert_int_equal(rl_pcap_reader_iface(r, 1)->tsoffset_s, 100);
    assert_int_equal(rl_pcap_reader_iface(r, 2)->section, 1);
    rl_pcap_reader_close(r);

    /* Damage: each case gets its own code and a message. */
    struct {
        size_t at;
        uint8_t val;
        int want;
    } cases[] = {
        {8, 0x00, RL_ECORRUPT},      /* byte-order magic */
        {12, 0x00, RL_EUNSUPPORTED}, /* major version 0 (big-endian high byte + low) */
        {7, 0x1D, RL_ECORRUPT},      /* SHB length not a multiple of 4 */
        {4, 0x7F, RL_ETRUNC},        /* SHB length past the end of the file */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *c = malloc(f->n);
        assert_non_null(c);
        memcpy(c, f->b, f->n);
        c[cases[i].at] = cases[i].val;
        if (cases[i].at == 12)
            c[13] = 0;
        err[0] = 0;
        int rc = open_mem(&r, c, f->n, err, sizeof err);
        if (rc != cases[i].want)
            fail_msg("case %zu: %d (%s)", i, rc, err);
        assert_null(r);
        assert_true(strlen(err) > 0);
        free(c);
    }
    free(f);
}

static void test_pcapng_damage(void **state)
{
    (void)state;
    const uint8_t data[8] = {0};
    struct buf *f = calloc(1, sizeof *f);
    assert_non_null(f);
    struct {
        int what;
        int want;
    } cases[] = {{0, RL_ECORRUPT}, {1, RL_ETOOBIG},  {2, RL_ECORRUPT}, {3, RL_ECORRUPT},
                 {4, RL_ECORRUPT}, {5, RL_ECORRUPT}, {6, RL_ECORRUPT}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(f, 0, sizeof *f);
        shb(f);
        idb(f, 1, 0, 9, false, "x");
        size_t epb_at = f->n;
        epb(f, 0, 1, data, 8, 0);
        switch (cases[i].what) {
        case 0: /* interface id out of range */
            f->b[epb_at + 8] = 1;
            break;
        case 1: /* caplen past the limit */
            f->b[epb_at + 22] = 0x10;
            break;
        case 2: /* caplen past the block */
            f->b[epb_at + 20] = 40;
            break;
        case 3: /* trailing length differs */
            f->b[f->n - 4] ^= 4;
            break;
        case 4: /* option length past the block */
            f->n = epb_at;
            epb(f, 0, 1, data, 8, 5);
            f->b[epb_at + 28 + 8 + 2] = 200;
            break;
        case 5: /* a packet before any interface */
            f->n = 0;
            shb(f);
            epb(f, 0, 1, data, 8, 0);
            break;
        case 6: /* block shorter than its fixed part */
            f->b[epb_at + 4] = 16;
            break;
        }
        struct rl_pcap_reader *r;
        assert_int_equal(open_mem(&r, f->b, f->n, NULL, 0), 0);
        struct rl_pcap_packet k;
        int rc = rl_pcap_reader_next(r, &k);
        if (rc != cases[i].want)
            fail_msg("case %zu: %d (%s)", i, rc, rl_pcap_reader_errmsg(r));
        assert_true(strlen(rl_pcap_reader_errmsg(r)) > 0);
        assert_int_equal(rl_pcap_reader_next(r, &k), rc); /* sticky */
        rl_pcap_reader_close(r);
    }
    free(f);

    /* Neither format; a pcap of an unknown version; a huge pcap record. */
    uint8_t junk[64] = "GIF89a not a capture at all.....";
    struct rl_pcap_reader *r;
    char err[128];
    assert_int_equal(open_mem(&r, junk, sizeof junk, err, sizeof err), RL_ECORRUPT);
    assert_non_null(strstr(err, "not a pcap"));
    assert_int_equal(open_mem(&r, junk, 3, err, sizeof err), RL_ETRUNC);
    uint8_t pc[24 + 16] = {0xd4, 0xc3, 0xb2, 0xa1, 3, 0, 4, 0};
    assert_int_equal(open_mem(&r, pc, 24, err, sizeof err), RL_EUNSUPPORTED);
    uint8_t kz[24] = {0x34, 0xcd, 0xb2, 0xa1, 2, 0, 4, 0};
    assert_int_equal(open_mem(&r, kz, sizeof kz, err, sizeof err), RL_EUNSUPPORTED);
    assert_non_null(strstr(err, "Kuznetzov"));
    pc[4] = 2;
    pc[24 + 10] = 0x10; /* caplen 0x100000 */
    assert_int_equal(open_mem(&r, pc, sizeof pc, err, sizeof err), 0);
    struct rl_pcap_packet k;
    assert_int_equal(rl_pcap_reader_next(r, &k), RL_ETOOBIG);
    rl_pcap_reader_close(r);
}

/* Block or record ends of a file written by us (all little-endian). */
static size_t boundaries(const uint8_t *d, size_t n, bool ng, size_t *ends, bool *is_pkt)
{
    size_t k = 0, off = ng ? 0 : 24;
    if (!ng) {
        ends[k] = 24;
        is_pkt[k++] = false;
    }
    while (off < n) {
        size_t len;
        bool pkt;
        if (ng) {
            len = (size_t)d[off + 4] | (size_t)d[off + 5] << 8 | (size_t)d[off + 6] << 16;
            pkt = d[off] == 6;
        } else {
            len = 16 + ((size_t)d[off + 8] | (size_t)d[off + 9] << 8);
            pkt = true;
        }
        off += len;
        ends[k] = off;
        is_pkt[k++] = pkt;
    }
    assert_int_equal(off, n);
    return k;
}

static void cut_everywhere(const uint8_t *d, size_t n, bool ng)
{
    size_t ends[NPKT + 8];
    bool is_pkt[NPKT + 8];
    size_t nb = boundaries(d, n, ng, ends, is_pkt);
    for (size_t cut = 0; cut <= n; cut++) {
        /* An exact-size copy, so ASan catches any read past the cut. */
        uint8_t *c = malloc(cut ? cut : 1);
        assert_non_null(c);
        memcpy(c, d, cut);
        size_t whole_pkts = 0;
        bool at_boundary = false;
        for (size_t b = 0; b < nb; b++) {
            if (ends[b] <= cut && is_pkt[b])
                whole_pkts++;
            if (ends[b] == cut)
                at_boundary = true;
        }
        struct rl_pcap_reader *r;
        char err[256];
        int rc = open_mem(&r, c, cut, err, sizeof err);
        if (cut < ends[0]) {
            assert_int_equal(rc, RL_ETRUNC);
            assert_true(strlen(err) > 0);
            free(c);
            continue;
        }
        assert_int_equal(rc, 0);
        struct rl_pcap_packet k;
        size_t got = 0;
        while ((rc = rl_pcap_reader_next(r, &k)) == 1)
            got++;
        if (got != whole_pkts)
            fail_msg("cut %zu: %zu packets, expected %zu", cut, got, whole_pkts);
        if (at_boundary) {
            assert_int_equal(rc, 0);
        } else {
            if (rc != RL_ETRUNC)
                fail_msg("cut %zu: rc %d (%s)", cut, rc, rl_pcap_reader_errmsg(r));
            assert_true(strlen(rl_pcap_reader_errmsg(r)) > 0);
        }
        rl_pcap_reader_close(r);
        free(c);
    }
}

static void test_truncated_everywhere(void **state)
{
    (void)state;
    struct pkt_spec *p = calloc(NPKT, sizeof *p);
    assert_non_null(p);
    const int lt[] = {1, 1, 1};
    const char *names[] = {"a", "bb", "ccc"};
    make_packets(p, 12, 3, 1);
    struct rl_pcap_writer_options o;
    rl_pcap_writer_options_init(&o);
    size_t n;
    uint8_t *d = write_file(&o, lt, names, 3, p, 12, &n);
    cut_everywhere(d, n, true);
    free(d);
    o.format = RL_PCAP_FORMAT_PCAP;
    make_packets(p, 12, 1, 1);
    d = write_file(&o, lt, NULL, 1, p, 12, &n);
    cut_everywhere(d, n, false);
    free(d);
    free(p);
}

static void test_writer_limits(void **state)
{
    (void)state;
    struct rl_io *io;
    struct rl_pcap_writer *w;
    struct rl_pcap_writer_options o;
    rl_pcap_writer_options_init(&o);
    o.format = RL_PCAP_FORMAT_PCAP;
    uint8_t big[RL_PCAP_MAX_CAPLEN + 1];
    memset(big, 0, sizeof big);

    assert_int_equal(rl_io_membuf_open(&io, MEM_CAP), 0);
    assert_int_equal(rl_pcap_writer_open_io(&w, io, true, &o), 0);
    assert_int_equal(rl_pcap_writer_add_iface(w, 1, 0, NULL, NULL), 0);
    assert_int_equal(rl_pcap_writer_add_iface(w, 227, 0, NULL, NULL), RL_EUNSUPPORTED);
    assert_true(strlen(rl_pcap_writer_errmsg(w)) > 0);
    assert_int_equal(rl_pcap_writer_close(w), RL_EUNSUPPORTED);

    assert_int_equal(rl_io_membuf_open(&io, MEM_CAP), 0);
    assert_int_equal(rl_pcap_writer_open_io(&w, io, true, &o), 0);
    assert_int_equal(rl_pcap_writer_add_iface(w, 1, 100, NULL, NULL), 0);
    assert_int_equal(rl_pcap_writer_write(w, 1, 0, big, 10, 10), -EINVAL);
    assert_int_equal(rl_pcap_writer_close(w), -EINVAL);

    assert_int_equal(rl_io_membuf_open(&io, MEM_CAP), 0);
    assert_int_equal(rl_pcap_writer_open_io(&w, io, true, &o), 0);
    assert_int_equal(rl_pcap_writer_add_iface(w, 1, 100, NULL, NULL), 0);
    assert_int_equal(rl_pcap_writer_write(w, 0, 0, big, 101, 101), RL_ETOOBIG);
    assert_int_equal(rl_pcap_writer_close(w), RL_ETOOBIG);

    o.format = RL_PCAP_FORMAT_PCAPNG;
    assert_int_equal(rl_io_membuf_open(&io, MEM_CAP), 0);
    assert_int_equal(rl_pcap_writer_open_io(&w, io, true, &o), 0);
    assert_int_equal(rl_pcap_writer_add_iface(w, 1, 0, NULL, NULL), 0);
    assert_int_equal(rl_pcap_writer_write(w, 0, 0, big, sizeof big, sizeof big), RL_ETOOBIG);
    assert_int_equal(rl_pcap_writer_close(w), RL_ETOOBIG);

    /* An empty pcap file is still a valid file. */
    o.format = RL_PCAP_FORMAT_PCAP;
    assert_int_equal(rl_io_membuf_open(&io, MEM_CAP), 0);
    assert_int_equal(rl_pcap_writer_open_io(&w, io, false, &o), 0);
    assert_int_equal(rl_pcap_writer_close(w), 0);
    size_t n;
    const uint8_t *d = rl_io_membuf_data(io, &n);
    assert_int_equal(n, 24);
    struct rl_pcap_reader *r;
    assert_int_equal(open_mem(&r, d, n, NULL, 0), 0);
    struct rl_pcap_packet k;
    assert_int_equal(rl_pcap_reader_next(r, &k), 0);
    rl_pcap_reader_close(r);
    assert_int_equal(rl_io_close(io), 0);

    /* A disk that fills up: the error comes back, at the latest on close. */
    for (int ng = 0; ng < 2; ng++) {
        o.format = ng ? RL_PCAP_FORMAT_PCAPNG : RL_PCAP_FORMAT_PCAP;
        struct rl_io *inner, *fault;
        assert_int_equal(rl_io_membuf_open(&inner, MEM_CAP), 0);
        assert_int_equal(rl_io_fault_open(&fault, inner, 5000, -ENOSPC), 0);
        assert_int_equal(rl_pcap_writer_open_io(&w, fault, true, &o), 0);
        assert_int_equal(rl_pcap_writer_add_iface(w, 1, 0, "x", NULL), 0);
        int rc = 0;
        for (int i = 0; i < 1000 && rc == 0; i++)
            rc = rl_pcap_writer_write(w, 0, (uint64_t)i, big, 1000, 1000);
        int crc = rl_pcap_writer_close(w);
        assert_true(rc == -ENOSPC || crc == -ENOSPC);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcap_roundtrip),   cmocka_unit_test(test_pcap_big_endian),
        cmocka_unit_test(test_pcapng_roundtrip), cmocka_unit_test(test_pcapng_handmade),
        cmocka_unit_test(test_pcapng_damage),    cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_writer_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
