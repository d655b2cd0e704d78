/* Decoders: what is inside a raw frame. roadlog stores frames exactly as
 * captured; decoding happens on read (`cat --decode`, the viewer, the
 * simulator's self-check), never replacing the raw bytes.
 *
 * A frame is peeled in two steps:
 *   1. the link and network layers (net.h): by the channel's pcap linktype,
 *      Ethernet/VLAN/SLL/SLL2/NULL/raw IP -> IPv4 (reassembled)/IPv6 -> UDP,
 *      giving an application payload and its ports; frames recorded from a
 *      `udp:` or `serial:` source are already application payloads;
 *   2. the application decoder, chosen by the channel's `decoder` metadata,
 *      or detected from port, size and content.
 *
 * Every decoder file (velodyne.c, hesai.c, nmea.c, ...) provides one
 * struct rl_decoder with the same two functions. Decoders never allocate
 * per frame beyond what the JSON writer does, never print, and treat every
 * input byte as untrusted (cursor.h). */
#ifndef ROADLOG_DECODE_H
#define ROADLOG_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/error.h"
#include "roadlog/jsonw.h"

/* pcap LINKTYPE_* values roadlog knows (tcpdump.org link-layer header types). */
enum rl_linktype {
    RL_LINKTYPE_NULL = 0, /* BSD loopback: 4-byte host-order family */
    RL_LINKTYPE_ETHERNET = 1,
    RL_LINKTYPE_RAW = 101,  /* raw IPv4 or IPv6 */
    RL_LINKTYPE_LOOP = 108, /* OpenBSD loopback: network-order family */
    RL_LINKTYPE_LINUX_SLL = 113,
    RL_LINKTYPE_CAN_SOCKETCAN = 227,
    RL_LINKTYPE_IPV4 = 228,
    RL_LINKTYPE_IPV6 = 229,
    RL_LINKTYPE_LINUX_SLL2 = 276,
    /* Not a pcap type: the frame is an application payload already (udp:,
     * serial: sources, imported NMEA). Stored as channel metadata
     * linktype "payload" / absent. */
    RL_LINKTYPE_PAYLOAD = -1,
};

/* An application payload handed to a decoder. */
struct rl_payload {
    const uint8_t *data;
    size_t len;
    int linktype;      /* of the frame it came from */
    uint16_t src_port; /* UDP ports, 0 when not UDP or unknown */
    uint16_t dst_port;
    uint64_t log_time_ns;
    /* The channel's decoder hint as given ("velodyne.vlp16"), or NULL:
     * lets a decoder take a model the packet does not name. */
    const char *hint;
};

/* Configuration a decoder may need, built once per log from flags and
 * attachments (DBC files, LiDAR calibrations, V2X port mappings). Each
 * member may be NULL. Opaque types are defined by their decoder's header. */
struct rl_dbc;
struct rl_hesai_calib;
struct rl_v2x_config;
struct rl_ipfrag;
struct rl_decode_ctx {
    const struct rl_dbc *dbc;
    const struct rl_hesai_calib *hesai;
    const struct rl_v2x_config *v2x;
    /* IPv4 fragment reassembly across frames (net.h); NULL: fragments are
     * reported as such. The only mutable state a decode touches. */
    struct rl_ipfrag *ipfrag;
};

struct rl_decoder {
    /* Registry name, also the prefix of decoded types and the value of the
     * channel metadata key "decoder": "velodyne", "hesai", "robosense",
     * "nmea", "ubx", "can", "v2x.csae", "v2x.j2735". */
    const char *name;
    /* How likely the payload is this decoder's: 0 = not at all, 100 =
     * certain (magic bytes and exact size); ports and sizes give middling
     * scores. Must be cheap and never fail. */
    int (*detect)(const struct rl_payload *pl);
    /* Writes the decoded fields as members of the JSON object that the
     * caller has opened, starting with "type" (e.g. "velodyne.data"). On a
     * frame it cannot decode returns an RL_E* code and puts the reason in
     * err (what was wrong, at which byte); the caller discards partial
     * output. */
    int (*decode)(const struct rl_decode_ctx *ctx, const struct rl_payload *pl, struct rl_jw *out,
                  char *err, size_t err_len);
};

/* The built-in decoders, each defined in its own file. */
extern const struct rl_decoder rl_decoder_velodyne, rl_decoder_hesai, rl_decoder_robosense,
    rl_decoder_nmea, rl_decoder_ubx, rl_decoder_can, rl_decoder_v2x_csae, rl_decoder_v2x_j2735;

/* The built-in decoders, NULL-terminated. */
extern const struct rl_decoder *const rl_decoders[];

/* The decoder registered under name, or NULL. Also accepts model-qualified
 * names ("velodyne.vlp16" finds "velodyne"). */
const struct rl_decoder *rl_decoder_find(const char *name);

/* Decodes one recorded frame into a JSON object written to out:
 * {"type": "...", ...fields} or {"error": "..."}. linktype and hint come
 * from the channel metadata (hint may be NULL: detection). Returns 0 when
 * decoded, or the decoder's error code after writing {"error": ...}. */
int rl_decode_frame(const struct rl_decode_ctx *ctx, const char *hint, int linktype,
                    const uint8_t *frame, size_t len, uint64_t log_time_ns, struct rl_jw *out);

/* ---- decoding a log ----
 * A decode environment owns what a log's decoders need: the DBC and LiDAR
 * calibration attached to the log (or given by the user) and an IPv4
 * reassembler. Build one per log and reuse it for every frame. */
struct rl_reader;
struct rl_channel;
struct rl_decode_env;

/* Creates an environment; with a reader, the log's attachments are loaded:
 * a DBC (name ending ".dbc" or media type "application/x-dbc") and a Hesai
 * angle-correction file (media type "text/x-hesai-angle-correction" or a
 * name containing "angle" and ending ".csv"). An attachment that does not
 * parse is skipped with the reason in warn (when not NULL). */
int rl_decode_env_new(struct rl_decode_env **out, struct rl_reader *r, char *warn,
                      size_t warn_len) RL_WARN_UNUSED;
/* Adds (replacing any attached) a DBC or Hesai calibration from text. */
int rl_decode_env_set_dbc(struct rl_decode_env *env, const char *text, size_t len, char *err,
                          size_t err_len) RL_WARN_UNUSED;
int rl_decode_env_set_hesai(struct rl_decode_env *env, const char *text, size_t len, char *err,
                            size_t err_len) RL_WARN_UNUSED;
const struct rl_decode_ctx *rl_decode_env_ctx(const struct rl_decode_env *env);
void rl_decode_env_free(struct rl_decode_env *env);

/* The pcap linktype of a channel's frames, from its "linktype" metadata;
 * RL_LINKTYPE_PAYLOAD when absent or "payload". */
int rl_channel_linktype(const struct rl_channel *ch);
/* The channel's decoder hint ("decoder" metadata) or NULL. */
const char *rl_channel_decoder(const struct rl_channel *ch);

#endif
