/* Fuzz target: the pcap and pcapng readers on a memory image. Opens the
 * input, reads every packet (touching every byte, so reads past what the
 * reader fetched trip ASan), checks what it reports against the limits,
 * writes the packets to a pcapng on memory and reads that back: the copy
 * must hold the same packets. Errors must come with a message. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "roadlog/io.h"
#include "roadlog/pcapio.h"

#define MAX_PACKETS 512
#define COPY_CAP    (64u << 20)

struct seen {
    uint64_t ts_ns;
    uint32_t caplen, sum;
};

static uint32_t checksum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = s * 31 + p[i];
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rl_io *io, *copy = NULL;
    struct rl_pcap_reader *r;
    struct rl_pcap_writer *w = NULL;
    char err[256];
    if (rl_io_mem_open(&io, data, size) < 0)
        return 0;
    err[0] = '\0';
    if (rl_pcap_reader_open_io(&r, io, true, err, sizeof err) < 0) {
        FUZZ_CHECK(err[0] != '\0');
        return 0;
    }
    struct seen *seen = calloc(MAX_PACKETS, sizeof *seen);
    if (!seen)
        goto done;
    if (rl_io_membuf_open(&copy, COPY_CAP) < 0 || rl_pcap_writer_open_io(&w, copy, false, NULL) < 0)
        goto done;

    struct rl_pcap_packet k;
    int rc;
    size_t n = 0, n_ifaces_added = 0;
    while (n < MAX_PACKETS && (rc = rl_pcap_reader_next(r, &k)) == 1) {
        FUZZ_CHECK(k.caplen <= RL_PCAP_MAX_CAPLEN);
        FUZZ_CHECK(k.iface < rl_pcap_reader_iface_count(r));
        const struct rl_pcap_iface *it = rl_pcap_reader_iface(r, k.iface);
        FUZZ_CHECK(it && it->linktype == k.linktype);
        seen[n].ts_ns = k.ts_ns;
        seen[n].caplen = k.caplen;
        seen[n].sum = checksum(k.data, k.caplen);
        /* Mirror the interfaces seen so far into the copy. */
        size_t ni = rl_pcap_reader_iface_count(r);
        while (n_ifaces_added < ni) {
            const struct rl_pcap_iface *a = rl_pcap_reader_iface(r, n_ifaces_added);
            if (rl_pcap_writer_add_iface(w, a->linktype, a->snaplen, a->name, NULL) < 0)
                goto done;
            n_ifaces_added++;
        }
        if (rl_pcap_writer_write(w, k.iface, k.ts_ns, k.data, k.caplen, k.origlen) < 0)
            goto done;
        n++;
    }
    if (n < MAX_PACKETS && rc < 0)
        FUZZ_CHECK(rl_pcap_reader_errmsg(r)[0] != '\0');
    int wrc = rl_pcap_writer_close(w);
    w = NULL;
    if (wrc < 0)
        goto done;

    /* The copy reads back with the same packets. */
    size_t clen = 0;
    const uint8_t *cdata = rl_io_membuf_data(copy, &clen);
    struct rl_io *cio;
    struct rl_pcap_reader *cr;
    FUZZ_CHECK(rl_io_mem_open(&cio, cdata, clen) == 0);
    FUZZ_CHECK(rl_pcap_reader_open_io(&cr, cio, true, err, sizeof err) == 0);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(rl_pcap_reader_next(cr, &k) == 1);
        FUZZ_CHECK(k.ts_ns == seen[i].ts_ns);
        FUZZ_CHECK(k.caplen == seen[i].caplen);
        FUZZ_CHECK(checksum(k.data, k.caplen) == seen[i].sum);
    }
    FUZZ_CHECK(rl_pcap_reader_next(cr, &k) == 0);
    rl_pcap_reader_close(cr);
done:
    if (w) {
        int crc = rl_pcap_writer_close(w);
        (void)crc;
    }
    if (copy) {
        int crc = rl_io_close(copy);
        (void)crc;
    }
    free(seen);
    rl_pcap_reader_close(r);
    return 0;
}
