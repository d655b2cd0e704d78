/* pcapng files: the reader and writer halves behind pcapio.h (the entry
 * points are in pcap_file.c).
 *
 * Implements draft-ietf-opsawg-pcapng ("PCAP Next Generation (pcapng)
 * Capture File Format"): section 3.1 general block structure (type, total
 * length, body padded to 32 bits, total length repeated), 3.5 options
 * (code, length, value padded to 32 bits, opt_endofopt), 4.1 Section Header
 * Block (byte-order magic 0x1A2B3C4D telling each section's byte order,
 * major version 1, shb_userappl), 4.2 Interface Description Block
 * (LinkType, SnapLen, if_name, if_description, if_tsresol as a power of 10
 * or, with the top bit set, of 2, if_tsoffset), 4.3 Enhanced Packet Block
 * (epb_flags), 4.4 Simple Packet Block (interface 0, no timestamp, captured
 * length min(original length, SnapLen)) and appendix "Packet Block
 * (obsolete)". Blocks of any other type are skipped by their length after
 * checking their trailing length. Interface ids are per section; the
 * reader numbers interfaces over the whole file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "pcapio_impl.h"

#define BT_SHB                   0x0A0D0D0Au
#define BT_IDB                   0x00000001u
#define BT_OPB                   0x00000002u /* obsolete Packet Block */
#define BT_SPB                   0x00000003u
#define BT_EPB                   0x00000006u
#define BYTE_ORDER_MAGIC         0x1A2B3C4Du
#define BYTE_ORDER_MAGIC_SWAPPED 0x4D3C2B1Au
#define PCAPNG_MAJOR             1
#define PCAPNG_MINOR             0

/* Fixed parts, trailing length included. */
#define BLOCK_MIN_LEN  12 /* type, length, length */
#define SHB_MIN_LEN    28 /* + magic, major, minor, section length */
#define IDB_MIN_LEN    20 /* + linktype, reserved, snaplen */
#define EPB_MIN_LEN    32 /* + iface, ts high, ts low, caplen, origlen */
#define OPB_MIN_LEN    32 /* + iface(16), drops(16), ts high, ts low, caplen, origlen */
#define SPB_MIN_LEN    16 /* + origlen */
#define OPT_HEADER_LEN 4

#define OPT_ENDOFOPT       0
#define OPT_IF_NAME        2
#define OPT_IF_DESCRIPTION 3
#define OPT_IF_TSRESOL     9
#define OPT_IF_TSOFFSET    14
#define OPT_EPB_FLAGS      2 /* also pack_flags of the obsolete block */
#define OPT_SHB_USERAPPL   4

#define TSRESOL_DEFAULT 6 /* microseconds when if_tsresol is absent */
#define TSRESOL_BINARY  0x80
#define TSRESOL_NS      9
/* Longest if_name the writer puts in an option. */
#define NAME_MAX_BYTES 1024

#define NS_PER_S 1000000000ull

#ifndef RL_VERSION
#define RL_VERSION "unknown"
#endif

_Static_assert(SHB_MIN_LEN == 4 + 4 + 4 + 2 + 2 + 8 + 4, "SHB fixed part");
_Static_assert(IDB_MIN_LEN == 4 + 4 + 2 + 2 + 4 + 4, "IDB fixed part");
_Static_assert(EPB_MIN_LEN == 4 + 4 + 4 + 4 + 4 + 4 + 4 + 4, "EPB fixed part");
_Static_assert(OPB_MIN_LEN == 4 + 4 + 2 + 2 + 4 + 4 + 4 + 4 + 4, "OPB fixed part");
_Static_assert(SPB_MIN_LEN == 4 + 4 + 4 + 4, "SPB fixed part");
_Static_assert(RL_PCAPNG_MAX_BLOCK_BYTES % 4 == 0, "block limit is 32-bit aligned");

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

static uint16_t r16(const struct rl_pcap_reader *r, const uint8_t *b)
{
    return r->big_endian ? (uint16_t)((uint16_t)b[0] << 8 | b[1]) : rl__get_u16le(b);
}

static uint32_t r32(const struct rl_pcap_reader *r, const uint8_t *b)
{
    if (!r->big_endian)
        return rl__get_u32le(b);
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint64_t r64(const struct rl_pcap_reader *r, const uint8_t *b)
{
    uint64_t hi = r32(r, r->big_endian ? b : b + 4), lo = r32(r, r->big_endian ? b + 4 : b);
    return hi << 32 | lo;
}

static unsigned long long ull(uint64_t v)
{
    return (unsigned long long)v;
}

/* Timestamp units (ts) of an interface to ns since the epoch, saturating. */
static uint64_t ts_to_ns(uint64_t ts, uint8_t tsresol, int64_t tsoffset_s)
{
    uint64_t ns;
    unsigned k = tsresol & 0x7Fu;
    if (tsresol & TSRESOL_BINARY) {
        uint64_t sec = k >= 64 ? 0 : ts >> k;
        uint64_t frac = k >= 64 ? ts : ts - (sec << k);
        uint64_t frac_ns;
        /* frac < 2^k: frac * 10^9 fits 64 bits while k <= 34; past that
         * drop the bits below 2^-34 s (58 ps) first. */
        if (k <= 34)
            frac_ns = (frac * NS_PER_S) >> k;
        else if (k - 34 >= 64)
            frac_ns = 0;
        else
            frac_ns = ((frac >> (k - 34)) * NS_PER_S) >> 34;
        ns = sec > UINT64_MAX / NS_PER_S ? UINT64_MAX : sec * NS_PER_S + frac_ns;
    } else if (k <= 9) {
        uint64_t mul = 1;
        for (unsigned i = k; i < 9; i++)
            mul *= 10;
        ns = ts > UINT64_MAX / mul ? UINT64_MAX : ts * mul;
    } else {
        uint64_t div = 1;
        for (unsigned i = 9; i < k && div <= UINT64_MAX / 10; i++)
            div *= 10;
        ns = k - 9 > 19 ? 0 : ts / div;
    }
    if (tsoffset_s > 0) {
        uint64_t add = (uint64_t)tsoffset_s > UINT64_MAX / NS_PER_S
                           ? UINT64_MAX
                           : (uint64_t)tsoffset_s * NS_PER_S;
        ns = ns > UINT64_MAX - add ? UINT64_MAX : ns + add;
    } else if (tsoffset_s < 0) {
        uint64_t mag = (uint64_t)(-(tsoffset_s + 1)) + 1;
        uint64_t sub = mag > UINT64_MAX / NS_PER_S ? UINT64_MAX : mag * NS_PER_S;
        ns = ns < sub ? 0 : ns - sub;
    }
    return ns;
}

/* ---- options ---- */

struct opt {
    uint16_t code, len;
    const uint8_t *val;
};

/* 1 with the next option, 0 at opt_endofopt or the end of the area, <0. */
static int next_opt(struct rl_pcap_reader *r, struct rl_cursor *c, uint64_t block_off,
                    struct opt *o)
{
    const uint8_t *h;
    o->code = o->len = 0;
    o->val = NULL;
    if (c->left < OPT_HEADER_LEN)
        return 0; /* the end-of-options marker may be left out */
    (void)rl__cursor_take(c, OPT_HEADER_LEN, &h);
    o->code = r16(r, h);
    o->len = r16(r, h + 2);
    if (o->code == OPT_ENDOFOPT)
        return 0;
    if (o->len > c->left)
        return rl__pcap_fail(r, RL_ECORRUPT,
                             "option %u of %u bytes runs past the end of the block at offset "
                             "%llu",
                             o->code, o->len, ull(block_off));
    (void)rl__cursor_take(c, o->len, &o->val);
    size_t pad = pad4(o->len) - o->len;
    const uint8_t *skip;
    (void)rl__cursor_take(c, pad < c->left ? pad : c->left, &skip);
    return 1;
}

/* ---- blocks ---- */

/* Reads the whole block at r->off of length len (already checked against
 * the file size) into memory, checking the limit and trailing length. */
static int fetch_block(struct rl_pcap_reader *r, uint32_t type, uint32_t len, const uint8_t **b)
{
    if (len > RL_PCAPNG_MAX_BLOCK_BYTES)
        return rl__pcap_fail(r, RL_ETOOBIG,
                             "block type 0x%08x at offset %llu has length %u, over the limit "
                             "of %u",
                             type, ull(r->off), len, RL_PCAPNG_MAX_BLOCK_BYTES);
    size_t got = 0;
    int rc = rl__pcap_fetch(r, r->off, len, b, &got);
    if (rc == RL_ETRUNC)
        return rl__pcap_fail(r, rc,
                             "file ends inside block type 0x%08x at offset %llu (%zu of %u "
                             "bytes)",
                             type, ull(r->off), got, len);
    if (rc != 0)
        return rl__pcap_fail(r, rc, "read failed at offset %llu: %s", ull(r->off), rl_strerror(rc));
    uint32_t trail = r32(r, *b + len - 4);
    if (trail != len)
        return rl__pcap_fail(r, RL_ECORRUPT,
                             "block type 0x%08x at offset %llu: trailing length %u differs "
                             "from %u",
                             type, ull(r->off), trail, len);
    return 0;
}

/* Checks a block length read from the file against its minimum, 32-bit
 * alignment, and the bytes left in the file. */
static int check_len(struct rl_pcap_reader *r, uint32_t type, uint32_t len, uint32_t min)
{
    if (len < min || len % 4 != 0)
        return rl__pcap_fail(r, RL_ECORRUPT, "block type 0x%08x at offset %llu has length %u", type,
                             ull(r->off), len);
    if (len > r->file_size - r->off)
        return rl__pcap_fail(r, RL_ETRUNC,
                             "file ends inside block type 0x%08x at offset %llu (%llu of %u "
                             "bytes)",
                             type, ull(r->off), ull(r->file_size - r->off), len);
    return 0;
}

static int read_shb(struct rl_pcap_reader *r)
{
    const uint8_t *h;
    size_t got = 0;
    int rc = rl__pcap_fetch(r, r->off, 12, &h, &got);
    if (rc == RL_ETRUNC)
        return rl__pcap_fail(r, rc,
                             "file ends inside the section header at offset %llu (%zu of 12 "
                             "bytes)",
                             ull(r->off), got);
    if (rc != 0)
        return rl__pcap_fail(r, rc, "read failed at offset %llu: %s", ull(r->off), rl_strerror(rc));
    uint32_t bom = rl__get_u32le(h + 8);
    if (bom == BYTE_ORDER_MAGIC)
        r->big_endian = false;
    else if (bom == BYTE_ORDER_MAGIC_SWAPPED)
        r->big_endian = true;
    else
        return rl__pcap_fail(r, RL_ECORRUPT,
                             "section header at offset %llu has byte-order magic 0x%08x",
                             ull(r->off), bom);
    uint32_t len = r32(r, h + 4);
    rc = check_len(r, BT_SHB, len, SHB_MIN_LEN);
    if (rc != 0)
        return rc;
    const uint8_t *b;
    rc = fetch_block(r, BT_SHB, len, &b);
    if (rc != 0)
        return rc;
    uint16_t major = r16(r, b + 12), minor = r16(r, b + 14);
    if (major != PCAPNG_MAJOR)
        return rl__pcap_fail(r, RL_EUNSUPPORTED,
                             "section header at offset %llu has pcapng version %u.%u", ull(r->off),
                             major, minor);
    r->section = r->section == UINT32_MAX ? 0 : r->section + 1;
    r->section_base = r->n_ifaces;
    r->off += len;
    return 0;
}

static int read_idb(struct rl_pcap_reader *r, const uint8_t *b, uint32_t len)
{
    struct rl_pcap_iface it = {0};
    it.linktype = r16(r, b + 8);
    it.snaplen = r32(r, b + 12);
    it.tsresol = TSRESOL_DEFAULT;
    it.section = r->section;
    const char *name = NULL, *desc = NULL;
    size_t name_len = 0, desc_len = 0;
    struct rl_cursor c;
    rl__cursor_init(&c, b + 16, len - IDB_MIN_LEN);
    struct opt o;
    int rc;
    while ((rc = next_opt(r, &c, r->off, &o)) == 1) {
        if (o.code == OPT_IF_NAME) {
            name = (const char *)o.val;
            name_len = strnlen(name, o.len);
        } else if (o.code == OPT_IF_DESCRIPTION) {
            desc = (const char *)o.val;
            desc_len = strnlen(desc, o.len);
        } else if (o.code == OPT_IF_TSRESOL && o.len >= 1) {
            it.tsresol = o.val[0];
        } else if (o.code == OPT_IF_TSOFFSET && o.len >= 8) {
            it.tsoffset_s = (int64_t)r64(r, o.val);
        }
    }
    if (rc < 0)
        return rc;
    rc = rl__pcap_add_iface(r, &it, name, name_len, desc, desc_len);
    if (rc == RL_ETOOBIG)
        return rl__pcap_fail(r, rc, "interface block at offset %llu: more than %u interfaces",
                             ull(r->off), RL_PCAP_MAX_IFACES);
    if (rc != 0)
        return rl__pcap_fail(r, rc, "out of memory");
    return 0;
}

/* The global index of the section's interface id, or an error. */
static int section_iface(struct rl_pcap_reader *r, uint32_t id, const char *what, size_t *out)
{
    if (r->n_ifaces - r->section_base <= id)
        return rl__pcap_fail(r, RL_ECORRUPT,
                             "%s at offset %llu names interface %u; the section has %zu", what,
                             ull(r->off), id, r->n_ifaces - r->section_base);
    *out = r->section_base + id;
    return 0;
}

static uint32_t packet_flags(struct rl_pcap_reader *r, const uint8_t *opts, size_t n, int *rc)
{
    struct rl_cursor c;
    rl__cursor_init(&c, opts, n);
    struct opt o;
    uint32_t flags = 0;
    while ((*rc = next_opt(r, &c, r->off, &o)) == 1)
        if (o.code == OPT_EPB_FLAGS && o.len >= 4)
            flags = r32(r, o.val);
    return flags;
}

/* Enhanced (fixed = EPB_MIN_LEN, 32-bit interface id) and obsolete
 * (OPB_MIN_LEN, 16-bit id and 16-bit drop count) packet blocks share the
 * layout from the timestamp on. */
static int read_packet(struct rl_pcap_reader *r, uint32_t type, const uint8_t *b, uint32_t len,
                       struct rl_pcap_packet *pkt)
{
    bool epb = type == BT_EPB;
    const char *what = epb ? "enhanced packet block" : "packet block";
    uint32_t id = epb ? r32(r, b + 8) : r16(r, b + 8);
    size_t gi = 0;
    int rc = section_iface(r, id, what, &gi);
    if (rc != 0)
        return rc;
    uint64_t ts = (uint64_t)r32(r, b + 12) << 32 | r32(r, b + 16);
    uint32_t caplen = r32(r, b + 20), origlen = r32(r, b + 24);
    if (caplen > RL_PCAP_MAX_CAPLEN)
        return rl__pcap_fail(r, RL_ETOOBIG,
                             "%s at offset %llu: captured length %u exceeds the limit of %u", what,
                             ull(r->off), caplen, RL_PCAP_MAX_CAPLEN);
    size_t room = len - EPB_MIN_LEN;
    if (pad4(caplen) > room)
        return rl__pcap_fail(r, RL_ECORRUPT,
                             "%s at offset %llu: captured length %u exceeds the block (%zu "
                             "bytes)",
                             what, ull(r->off), caplen, room);
    const struct rl_pcap_iface *it = r->ifaces[gi];
    memset(pkt, 0, sizeof *pkt);
    pkt->flags = packet_flags(r, b + 28 + pad4(caplen), room - pad4(caplen), &rc);
    if (rc < 0)
        return rc;
    pkt->iface = (uint32_t)gi;
    pkt->linktype = it->linktype;
    pkt->ts_ns = ts_to_ns(ts, it->tsresol, it->tsoffset_s);
    pkt->has_ts = true;
    pkt->caplen = caplen;
    pkt->origlen = origlen;
    pkt->data = b + 28;
    return 0;
}

static int read_spb(struct rl_pcap_reader *r, const uint8_t *b, uint32_t len,
                    struct rl_pcap_packet *pkt)
{
    size_t gi = 0;
    int rc = section_iface(r, 0, "simple packet block", &gi);
    if (rc != 0)
        return rc;
    const struct rl_pcap_iface *it = r->ifaces[gi];
    uint32_t origlen = r32(r, b + 8);
    size_t room = len - SPB_MIN_LEN;
    size_t caplen = origlen;
    if (it->snaplen != 0 && caplen > it->snaplen)
        caplen = it->snaplen;
    if (caplen > room)
        caplen = room;
    if (caplen > RL_PCAP_MAX_CAPLEN)
        return rl__pcap_fail(r, RL_ETOOBIG,
                             "simple packet block at offset %llu: %zu bytes exceed the limit "
                             "of %u",
                             ull(r->off), caplen, RL_PCAP_MAX_CAPLEN);
    memset(pkt, 0, sizeof *pkt);
    pkt->iface = (uint32_t)gi;
    pkt->linktype = it->linktype;
    pkt->has_ts = false;
    pkt->caplen = (uint32_t)caplen;
    pkt->origlen = origlen;
    pkt->data = b + 12;
    return 0;
}

int rl__pcapng_open(struct rl_pcap_reader *r)
{
    r->off = 0;
    return read_shb(r);
}

int rl__pcapng_next(struct rl_pcap_reader *r, struct rl_pcap_packet *pkt)
{
    for (;;) {
        const uint8_t *h;
        size_t got = 0;
        int rc = rl__pcap_fetch(r, r->off, 8, &h, &got);
        if (rc == RL_ETRUNC && got == 0)
            return 0;
        if (rc == RL_ETRUNC)
            return rl__pcap_fail(r, rc,
                                 "file ends inside a block header at offset %llu (%zu of 8 "
                                 "bytes)",
                                 ull(r->off), got);
        if (rc != 0)
            return rl__pcap_fail(r, rc, "read failed at offset %llu: %s", ull(r->off),
                                 rl_strerror(rc));
        if (rl__get_u32le(h) == BT_SHB) {
            rc = read_shb(r);
            if (rc != 0)
                return rc;
            continue;
        }
        uint32_t type = r32(r, h), len = r32(r, h + 4);
        const uint8_t *b;
        switch (type) {
        case BT_IDB:
        case BT_EPB:
        case BT_OPB:
        case BT_SPB: {
            uint32_t min = type == BT_IDB   ? IDB_MIN_LEN
                           : type == BT_SPB ? SPB_MIN_LEN
                           : type == BT_EPB ? EPB_MIN_LEN
                                            : OPB_MIN_LEN;
            rc = check_len(r, type, len, min);
            if (rc == 0)
                rc = fetch_block(r, type, len, &b);
            if (rc != 0)
                return rc;
            if (type == BT_IDB) {
                rc = read_idb(r, b, len);
                if (rc != 0)
                    return rc;
                r->off += len;
                continue;
            }
            rc = type == BT_SPB ? read_spb(r, b, len, pkt) : read_packet(r, type, b, len, pkt);
            if (rc != 0)
                return rc;
            pkt->offset = r->off;
            r->off += len;
            r->n_packets++;
            return 1;
        }
        default:
            /* Skipped unread, whatever its size: only its two lengths are
             * checked. */
            rc = check_len(r, type, len, BLOCK_MIN_LEN);
            if (rc != 0)
                return rc;
            rc = rl__pcap_fetch(r, r->off + len - 4, 4, &b, &got);
            if (rc != 0)
                return rl__pcap_fail(r, rc, "read failed at offset %llu: %s", ull(r->off + len - 4),
                                     rl_strerror(rc));
            if (r32(r, b) != len)
                return rl__pcap_fail(r, RL_ECORRUPT,
                                     "block type 0x%08x at offset %llu: trailing length %u "
                                     "differs from %u",
                                     type, ull(r->off), r32(r, b), len);
            r->off += len;
            continue;
        }
    }
}

/* ---- writer ---- */

static int put_opt(struct rl_pcap_writer *w, uint16_t code, const void *val, uint16_t len)
{
    uint8_t h[OPT_HEADER_LEN];
    static const uint8_t zero[4];
    rl__put_u16le(h, code);
    rl__put_u16le(h + 2, len);
    int rc = rl__pcapw_put(w, h, sizeof h);
    if (rc == 0 && len > 0)
        rc = rl__pcapw_put(w, val, len);
    if (rc == 0 && pad4(len) != len)
        rc = rl__pcapw_put(w, zero, pad4(len) - len);
    return rc;
}

static size_t opt_size(size_t len)
{
    return OPT_HEADER_LEN + pad4(len);
}

int rl__pcapng_write_shb(struct rl_pcap_writer *w)
{
    const char *app = w->opts.application ? w->opts.application : "roadlog " RL_VERSION;
    size_t alen = strnlen(app, NAME_MAX_BYTES);
    uint32_t len = (uint32_t)(SHB_MIN_LEN + opt_size(alen) + OPT_HEADER_LEN);
    uint8_t h[SHB_MIN_LEN - 4];
    rl__put_u32le(h, BT_SHB);
    rl__put_u32le(h + 4, len);
    rl__put_u32le(h + 8, BYTE_ORDER_MAGIC);
    rl__put_u16le(h + 12, PCAPNG_MAJOR);
    rl__put_u16le(h + 14, PCAPNG_MINOR);
    rl__put_u64le(h + 16, UINT64_MAX); /* section length not given */
    uint8_t t[4];
    rl__put_u32le(t, len);
    int rc = rl__pcapw_put(w, h, sizeof h);
    if (rc == 0)
        rc = put_opt(w, OPT_SHB_USERAPPL, app, (uint16_t)alen);
    if (rc == 0)
        rc = put_opt(w, OPT_ENDOFOPT, NULL, 0);
    if (rc == 0)
        rc = rl__pcapw_put(w, t, sizeof t);
    return rc;
}

int rl__pcapng_write_idb(struct rl_pcap_writer *w, int linktype, uint32_t snaplen, const char *name)
{
    if (linktype > UINT16_MAX)
        return rl__pcapw_fail(w, -EINVAL, "link type %d does not fit a pcapng interface", linktype);
    size_t nlen = name ? strnlen(name, NAME_MAX_BYTES) : 0;
    uint8_t tsresol = TSRESOL_NS;
    uint32_t len =
        (uint32_t)(IDB_MIN_LEN + (name ? opt_size(nlen) : 0) + opt_size(1) + OPT_HEADER_LEN);
    uint8_t h[IDB_MIN_LEN - 4];
    rl__put_u32le(h, BT_IDB);
    rl__put_u32le(h + 4, len);
    rl__put_u16le(h + 8, (uint16_t)linktype);
    rl__put_u16le(h + 10, 0);
    rl__put_u32le(h + 12, snaplen);
    uint8_t t[4];
    rl__put_u32le(t, len);
    int rc = rl__pcapw_put(w, h, sizeof h);
    if (rc == 0 && name)
        rc = put_opt(w, OPT_IF_NAME, name, (uint16_t)nlen);
    if (rc == 0)
        rc = put_opt(w, OPT_IF_TSRESOL, &tsresol, 1);
    if (rc == 0)
        rc = put_opt(w, OPT_ENDOFOPT, NULL, 0);
    if (rc == 0)
        rc = rl__pcapw_put(w, t, sizeof t);
    return rc;
}

int rl__pcapng_write_epb(struct rl_pcap_writer *w, uint32_t iface, uint64_t ts_ns,
                         const uint8_t *data, uint32_t caplen, uint32_t origlen)
{
    static const uint8_t zero[4];
    uint32_t len = (uint32_t)(EPB_MIN_LEN + pad4(caplen));
    uint8_t h[EPB_MIN_LEN - 4];
    rl__put_u32le(h, BT_EPB);
    rl__put_u32le(h + 4, len);
    rl__put_u32le(h + 8, iface);
    rl__put_u32le(h + 12, (uint32_t)(ts_ns >> 32));
    rl__put_u32le(h + 16, (uint32_t)ts_ns);
    rl__put_u32le(h + 20, caplen);
    rl__put_u32le(h + 24, origlen);
    uint8_t t[4];
    rl__put_u32le(t, len);
    int rc = rl__pcapw_put(w, h, sizeof h);
    if (rc == 0 && caplen > 0)
        rc = rl__pcapw_put(w, data, caplen);
    if (rc == 0 && pad4(caplen) != caplen)
        rc = rl__pcapw_put(w, zero, pad4(caplen) - caplen);
    if (rc == 0)
        rc = rl__pcapw_put(w, t, sizeof t);
    return rc;
}
