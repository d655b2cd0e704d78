/* Test-only pcap/pcapng reader (see pcap_min.h). Formats: libpcap file
 * format (magic 0xA1B2C3D4 / 0xA1B23C4D, 24-byte file header, 16-byte
 * record headers) and pcapng (draft-ietf-opsawg-pcapng: blocks of type,
 * total length, body, total length). Every length is checked against the
 * bytes left before use. */
#include "pcap_min.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCAP_MAGIC_US          0xA1B2C3D4u
#define PCAP_MAGIC_NS          0xA1B23C4Du
#define PCAP_FILE_HEADER_LEN   24
#define PCAP_RECORD_HEADER_LEN 16
#define PCAPNG_SHB             0x0A0D0D0Au
#define PCAPNG_IDB             0x00000001u
#define PCAPNG_SPB             0x00000003u
#define PCAPNG_EPB             0x00000006u
#define PCAPNG_BOM             0x1A2B3C4Du
#define PCAPNG_MAX_IFACES      64
#define LINKTYPE_ETHERNET      1
#define ETH_LEN                14
#define ETHERTYPE_IPV4         0x0800
#define IPPROTO_UDP_NUM        17
#define UDP_LEN                8
#define MAX_FILE_BYTES         ((size_t)256 << 20)

static uint32_t rd32(const uint8_t *p, bool swap)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    if (swap)
        v = (v >> 24) | ((v >> 8) & 0xFF00u) | ((v << 8) & 0xFF0000u) | (v << 24);
    return v;
}

static uint16_t rd16(const uint8_t *p, bool swap)
{
    return swap ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[0] | p[1] << 8);
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Adds the UDP payload of an Ethernet frame, if it is one. */
static int add_frame(struct pcap_min *pc, size_t *cap, const uint8_t *f, size_t len)
{
    pc->frames++;
    if (len < ETH_LEN + 20 || be16(f + 12) != ETHERTYPE_IPV4)
        return 0;
    const uint8_t *ip = f + ETH_LEN;
    size_t ihl = (size_t)(ip[0] & 0x0F) * 4;
    size_t left = len - ETH_LEN;
    if ((ip[0] >> 4) != 4 || ihl < 20 || ihl + UDP_LEN > left || ip[9] != IPPROTO_UDP_NUM)
        return 0;
    if ((be16(ip + 6) & 0x3FFF) != 0) /* more fragments or an offset */
        return 0;
    const uint8_t *udp = ip + ihl;
    size_t udp_len = be16(udp + 4);
    if (udp_len < UDP_LEN)
        return 0;
    size_t plen = udp_len - UDP_LEN;
    if (plen > left - ihl - UDP_LEN)
        plen = left - ihl - UDP_LEN; /* snapped */
    if (pc->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        struct pcap_min_packet *np = realloc(pc->pkts, ncap * sizeof(*np));
        if (!np)
            return -1;
        pc->pkts = np;
        *cap = ncap;
    }
    pc->pkts[pc->n].payload = udp + UDP_LEN;
    pc->pkts[pc->n].len = plen;
    pc->pkts[pc->n].src_port = be16(udp);
    pc->pkts[pc->n].dst_port = be16(udp + 2);
    pc->n++;
    return 0;
}

static int read_pcap(struct pcap_min *pc, bool swap, char *err, size_t err_len)
{
    size_t off = PCAP_FILE_HEADER_LEN, cap = 0;
    if (pc->len < PCAP_FILE_HEADER_LEN) {
        snprintf(err, err_len, "pcap file header truncated");
        return -1;
    }
    if (rd32(pc->data + 20, swap) != LINKTYPE_ETHERNET) {
        snprintf(err, err_len, "pcap linktype %u, want Ethernet", rd32(pc->data + 20, swap));
        return -1;
    }
    while (off < pc->len) {
        if (pc->len - off < PCAP_RECORD_HEADER_LEN) {
            snprintf(err, err_len, "pcap record header truncated at offset %zu", off);
            return -1;
        }
        size_t incl = rd32(pc->data + off + 8, swap);
        off += PCAP_RECORD_HEADER_LEN;
        if (incl > pc->len - off) {
            snprintf(err, err_len, "pcap record truncated at offset %zu", off);
            return -1;
        }
        if (add_frame(pc, &cap, pc->data + off, incl) < 0) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        off += incl;
    }
    return 0;
}

static int read_pcapng(struct pcap_min *pc, char *err, size_t err_len)
{
    size_t off = 0, cap = 0, n_ifaces = 0;
    uint16_t linktype[PCAPNG_MAX_IFACES];
    bool swap = false;
    while (off < pc->len) {
        if (pc->len - off < 12) {
            snprintf(err, err_len, "pcapng block truncated at offset %zu", off);
            return -1;
        }
        const uint8_t *b = pc->data + off;
        uint32_t type = rd32(b, false);
        if (type == PCAPNG_SHB) {
            uint32_t bom = rd32(b + 8, false);
            if (bom != PCAPNG_BOM && rd32(b + 8, true) != PCAPNG_BOM) {
                snprintf(err, err_len, "pcapng byte-order magic bad at offset %zu", off);
                return -1;
            }
            swap = bom != PCAPNG_BOM;
            n_ifaces = 0;
        } else {
            type = rd32(b, swap);
        }
        size_t blen = rd32(b + 4, swap);
        if (blen < 12 || blen % 4 != 0 || blen > pc->len - off) {
            snprintf(err, err_len, "pcapng block length %zu bad at offset %zu", blen, off);
            return -1;
        }
        if (type == PCAPNG_IDB) {
            if (blen < 20 || n_ifaces == PCAPNG_MAX_IFACES) {
                snprintf(err, err_len, "pcapng interface block bad at offset %zu", off);
                return -1;
            }
            linktype[n_ifaces++] = rd16(b + 8, swap);
        } else if (type == PCAPNG_EPB || type == PCAPNG_SPB) {
            size_t hdr = type == PCAPNG_EPB ? 28 : 12;
            uint32_t iface = type == PCAPNG_EPB ? rd32(b + 8, swap) : 0;
            if (blen < hdr + 4) {
                snprintf(err, err_len, "pcapng packet block short at offset %zu", off);
                return -1;
            }
            size_t caplen = type == PCAPNG_EPB ? rd32(b + 20, swap) : rd32(b + 8, swap);
            if (type == PCAPNG_SPB && caplen > blen - hdr - 4)
                caplen = blen - hdr - 4;
            if (caplen > blen - hdr - 4 || iface >= n_ifaces) {
                snprintf(err, err_len, "pcapng packet block bad at offset %zu", off);
                return -1;
            }
            if (linktype[iface] == LINKTYPE_ETHERNET) {
                if (add_frame(pc, &cap, b + hdr, caplen) < 0) {
                    snprintf(err, err_len, "out of memory");
                    return -1;
                }
            } else {
                pc->frames++;
            }
        }
        off += blen;
    }
    return 0;
}

int pcap_min_load(const char *path, struct pcap_min *out, char *err, size_t err_len)
{
    FILE *f = NULL;
    int rc = -1;
    memset(out, 0, sizeof(*out));
    f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 0;
    for (;;) {
        if (out->len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            uint8_t *p = ncap <= MAX_FILE_BYTES ? realloc(out->data, ncap) : NULL;
            if (!p) {
                snprintf(err, err_len, "'%s' too large", path);
                goto fail;
            }
            out->data = p;
            cap = ncap;
        }
        size_t k = fread(out->data + out->len, 1, cap - out->len, f);
        out->len += k;
        if (k == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(err, err_len, "cannot read '%s'", path);
        goto fail;
    }
    if (out->len < 4) {
        snprintf(err, err_len, "'%s' is not a capture", path);
        goto fail;
    }
    uint32_t magic = rd32(out->data, false);
    if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS)
        rc = read_pcap(out, false, err, err_len);
    else if (rd32(out->data, true) == PCAP_MAGIC_US || rd32(out->data, true) == PCAP_MAGIC_NS)
        rc = read_pcap(out, true, err, err_len);
    else if (magic == PCAPNG_SHB)
        rc = read_pcapng(out, err, err_len);
    else
        snprintf(err, err_len, "'%s': unknown capture magic 0x%08x", path, magic);
    if (rc < 0)
        goto fail;
    if (fclose(f) != 0) {
        f = NULL;
        snprintf(err, err_len, "cannot close '%s'", path);
        rc = -1;
        goto fail;
    }
    return 0;
fail:
    if (f)
        (void)fclose(f);
    pcap_min_free(out);
    return -1;
}

void pcap_min_free(struct pcap_min *pc)
{
    free(pc->pkts);
    free(pc->data);
    memset(pc, 0, sizeof(*pc));
}
