/* What pcap_file.c and pcapng_file.c share: the reader and writer handles,
 * the windowed reading of the file, and the pcapng halves that the common
 * entry points in pcap_file.c dispatch to. Not a public API. */
#ifndef RL_PCAPIO_IMPL_H
#define RL_PCAPIO_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/pcapio.h"

#define RL__PCAP_ERRMSG_LEN 256

struct rl_pcap_reader {
    struct rl_io *io;
    bool own_io;
    enum rl_pcap_format format;
    uint64_t file_size;
    uint64_t off;       /* offset of the next record or block */
    uint64_t n_packets; /* packets returned so far */
    int err;            /* sticky error */

    /* Window of the file held in memory: [win_off, win_off + win_len). */
    uint8_t *win;
    size_t win_cap, win_len;
    uint64_t win_off;

    /* pcap */
    bool swapped; /* file is big-endian */
    bool nanosecond;

    /* pcapng */
    bool big_endian;     /* of the current section */
    uint32_t section;    /* current section number; UINT32_MAX before the first */
    size_t section_base; /* global index of the current section's interface 0 */

    struct rl_pcap_iface **ifaces;
    size_t n_ifaces, cap_ifaces;

    char errmsg[RL__PCAP_ERRMSG_LEN];
};

struct rl_pcap_writer {
    struct rl_io *io;
    bool own_io;
    struct rl_pcap_writer_options opts;
    int err;             /* sticky */
    bool header_written; /* pcap */
    bool wrote_packet;
    int linktype;     /* pcap: of every interface */
    uint32_t snaplen; /* pcap: largest of the interfaces */
    uint32_t n_ifaces;
    uint8_t *buf; /* write buffer */
    size_t len, cap;
    char errmsg[RL__PCAP_ERRMSG_LEN];
};

/* Formats the reader's errmsg and returns code. */
int rl__pcap_fail(struct rl_pcap_reader *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Makes [off, off+n) available: *p points at it until the next fetch.
 * Returns 0, RL_ETRUNC when the file ends first (*got then says how many
 * bytes there are, if got is not NULL), or -errno. n must already be
 * checked against a limit. */
int rl__pcap_fetch(struct rl_pcap_reader *r, uint64_t off, size_t n, const uint8_t **p,
                   size_t *got) RL_WARN_UNUSED;
/* Appends an interface; returns 0, RL_ETOOBIG past the limit, -ENOMEM.
 * name and description are copied (either may be NULL). */
int rl__pcap_add_iface(struct rl_pcap_reader *r, const struct rl_pcap_iface *iface,
                       const char *name, size_t name_len, const char *desc,
                       size_t desc_len) RL_WARN_UNUSED;

/* pcapng reader halves: open reads the first Section Header Block at
 * offset 0. */
int rl__pcapng_open(struct rl_pcap_reader *r) RL_WARN_UNUSED;
int rl__pcapng_next(struct rl_pcap_reader *r, struct rl_pcap_packet *pkt) RL_WARN_UNUSED;

/* Writer: buffered append; errors are sticky in w->err. */
int rl__pcapw_put(struct rl_pcap_writer *w, const void *p, size_t n) RL_WARN_UNUSED;
int rl__pcapw_fail(struct rl_pcap_writer *w, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* pcapng writer halves. */
int rl__pcapng_write_shb(struct rl_pcap_writer *w) RL_WARN_UNUSED;
int rl__pcapng_write_idb(struct rl_pcap_writer *w, int linktype, uint32_t snaplen,
                         const char *name) RL_WARN_UNUSED;
int rl__pcapng_write_epb(struct rl_pcap_writer *w, uint32_t iface, uint64_t ts_ns,
                         const uint8_t *data, uint32_t caplen, uint32_t origlen) RL_WARN_UNUSED;

#endif
