/* A tiny pcap/pcapng reader for the LiDAR tests only (never for the
 * library or the CLI; formats/ has the real one): loads a whole file and
 * lists the UDP payloads of its Ethernet II + IPv4 + UDP frames. Classic
 * pcap in either byte order (microsecond or nanosecond stamps) and pcapng
 * (Section Header, Interface Description, Enhanced and Simple Packet
 * blocks, either byte order) with LINKTYPE_ETHERNET interfaces. Frames
 * that are not Ethernet/IPv4/UDP, or are IP fragments, are counted and
 * skipped. */
#ifndef RL_TEST_PCAP_MIN_H
#define RL_TEST_PCAP_MIN_H

#include <stddef.h>
#include <stdint.h>

struct pcap_min_packet {
    const uint8_t *payload; /* into pcap_min.data */
    size_t len;
    uint16_t src_port, dst_port;
};

struct pcap_min {
    uint8_t *data; /* the whole file */
    size_t len;
    struct pcap_min_packet *pkts;
    size_t n;      /* UDP payloads found */
    size_t frames; /* all packet records read */
};

/* Loads path. 0, or -1 with a message in err. */
int pcap_min_load(const char *path, struct pcap_min *out, char *err, size_t err_len);
void pcap_min_free(struct pcap_min *pc);

#endif
