/* Capture files: readers and writers of classic pcap and of pcapng, our own
 * (formats/ does not link libpcap), through the rl_io vtable so tests and
 * fuzzers run them on memory. Used by `roadlog import`/`export` and by the
 * replay engine's pcap sinks.
 *
 * Reading: one iterator for both formats; the format is told by the magic.
 * Classic pcap in either byte order with microsecond or nanosecond
 * timestamps; pcapng with any number of sections (each in its own byte
 * order), Interface Description Blocks anywhere in a section, Enhanced,
 * Simple and obsolete Packet Blocks; other blocks are skipped. Every length
 * read from the file is checked against the limits below and against the
 * bytes left in the file before memory is allocated for it. A file cut
 * short returns every packet before the cut and then RL_ETRUNC.
 *
 * Writing: classic pcap (one link type) or pcapng (a Section Header, one
 * Interface Description Block per interface with if_name and if_tsresol=9,
 * Enhanced Packet Blocks with nanosecond timestamps), little-endian.
 *
 * Readers and writers are used by one thread at a time. */
#ifndef ROADLOG_PCAPIO_H
#define ROADLOG_PCAPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/error.h"
#include "roadlog/io.h"

/* Largest captured packet accepted: libpcap's and Wireshark's maximum
 * snapshot length. A larger length in a file is damage. */
#define RL_PCAP_MAX_CAPLEN 262144u
/* Largest pcapng block read into memory (packet blocks, interface and
 * section headers with their options); other blocks are skipped unread
 * whatever their size. */
#define RL_PCAPNG_MAX_BLOCK_BYTES (16u << 20)
/* Interfaces over all sections of a file. */
#define RL_PCAP_MAX_IFACES 4096u

enum rl_pcap_format {
    RL_PCAP_FORMAT_PCAP = 1,
    RL_PCAP_FORMAT_PCAPNG = 2,
};

/* Which format the first bytes of a file are (len >= 4), or 0. */
int rl_pcap_detect(const uint8_t *head, size_t len);

/* An interface: the single implicit one of a pcap file, or one IDB. */
struct rl_pcap_iface {
    int linktype;            /* LINKTYPE_* */
    uint32_t snaplen;        /* 0: no limit given */
    const char *name;        /* if_name option, or NULL */
    const char *description; /* if_description option, or NULL */
    uint8_t tsresol;         /* if_tsresol as in the file (6 = µs; bit 7 set: 2^-n) */
    int64_t tsoffset_s;      /* if_tsoffset */
    uint32_t section;        /* pcapng section number, from 0 */
};

struct rl_pcap_packet {
    uint32_t iface;      /* index into the reader's interfaces (all sections) */
    int linktype;        /* of that interface */
    uint64_t ts_ns;      /* ns since the Unix epoch */
    bool has_ts;         /* false for a Simple Packet Block (ts_ns is 0) */
    uint32_t caplen;     /* bytes in data */
    uint32_t origlen;    /* length on the wire */
    uint32_t flags;      /* pcapng epb_flags (direction, ...), else 0 */
    const uint8_t *data; /* valid until the next rl_pcap_reader_next()/close */
    uint64_t offset;     /* file offset of the record or block */
};

struct rl_pcap_reader;

/* Opens a capture on io (with own_io the reader closes it, also when open
 * fails) or on a file path, reading the file header (pcap) or the first
 * Section Header Block (pcapng). Returns 0; RL_ETRUNC when the file ends
 * inside that header; RL_ECORRUPT when it is neither format or the header
 * is damaged; RL_EUNSUPPORTED for a version we do not read; -errno. On
 * failure *out is NULL and errbuf (may be NULL) receives the detail. */
int rl_pcap_reader_open_io(struct rl_pcap_reader **out, struct rl_io *io, bool own_io, char *errbuf,
                           size_t errbuf_len) RL_WARN_UNUSED;
int rl_pcap_reader_open(struct rl_pcap_reader **out, const char *path, char *errbuf,
                        size_t errbuf_len) RL_WARN_UNUSED;

/* The next packet: 1 with *pkt filled, 0 at the clean end of the file,
 * <0 on error (RL_ETRUNC when the file ends inside a record, RL_ECORRUPT,
 * RL_ETOOBIG for a length past the limits, -errno), with the detail in
 * rl_pcap_reader_errmsg(). Errors are sticky. */
int rl_pcap_reader_next(struct rl_pcap_reader *r, struct rl_pcap_packet *pkt) RL_WARN_UNUSED;

enum rl_pcap_format rl_pcap_reader_format(const struct rl_pcap_reader *r);
/* Interfaces seen so far (pcapng files may add more as reading goes on).
 * Pointers stay valid until rl_pcap_reader_close(). */
size_t rl_pcap_reader_iface_count(const struct rl_pcap_reader *r);
const struct rl_pcap_iface *rl_pcap_reader_iface(const struct rl_pcap_reader *r, size_t i);
/* Detail of the last failure: "file ends inside packet 12 at offset 4096". */
const char *rl_pcap_reader_errmsg(const struct rl_pcap_reader *r);
/* Closes io if owned and frees the reader. NULL is fine. */
void rl_pcap_reader_close(struct rl_pcap_reader *r);

/* ---- writing ---- */

struct rl_pcap_writer;

struct rl_pcap_writer_options {
    enum rl_pcap_format format; /* default pcapng */
    bool pcap_nanosecond;       /* pcap: nanosecond magic 0xa1b23c4d (default true) */
    const char *application;    /* pcapng shb_userappl; default "roadlog <version>" */
};
void rl_pcap_writer_options_init(struct rl_pcap_writer_options *opts);

/* Opens a writer on io (closed by the writer when own_io, also on
 * failure) or creates path. pcapng writes its Section Header at once;
 * pcap writes its file header with the first packet (or at close), when
 * the interfaces are known. opts may be NULL for the defaults. */
int rl_pcap_writer_open_io(struct rl_pcap_writer **out, struct rl_io *io, bool own_io,
                           const struct rl_pcap_writer_options *opts) RL_WARN_UNUSED;
int rl_pcap_writer_open(struct rl_pcap_writer **out, const char *path,
                        const struct rl_pcap_writer_options *opts) RL_WARN_UNUSED;

/* Adds an interface; *id_out (may be NULL) receives the id to pass to
 * rl_pcap_writer_write(). snaplen 0 means no limit (pcap writes 262144).
 * name may be NULL. pcap files hold one link type: adding an interface of
 * another type fails with RL_EUNSUPPORTED, and so does adding one after the
 * first packet. Returns 0, RL_ETOOBIG past RL_PCAP_MAX_IFACES, -errno. */
int rl_pcap_writer_add_iface(struct rl_pcap_writer *w, int linktype, uint32_t snaplen,
                             const char *name, uint32_t *id_out) RL_WARN_UNUSED;

/* Writes one packet of caplen bytes; origlen below caplen is raised to
 * caplen. Returns 0, -EINVAL for an unknown interface, RL_ETOOBIG for
 * caplen past RL_PCAP_MAX_CAPLEN (or the pcap snaplen), -errno. */
int rl_pcap_writer_write(struct rl_pcap_writer *w, uint32_t iface, uint64_t ts_ns,
                         const uint8_t *data, uint32_t caplen, uint32_t origlen) RL_WARN_UNUSED;

/* Writes what is buffered, closes io if owned, frees the writer (also on
 * failure). Returns 0 or the first error met. */
int rl_pcap_writer_close(struct rl_pcap_writer *w) RL_WARN_UNUSED;
/* Detail of the last failure. */
const char *rl_pcap_writer_errmsg(const struct rl_pcap_writer *w);

#endif
