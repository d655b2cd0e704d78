/* The decoder registry and the frame-to-JSON path of decode.h: peel the
 * link/network layers by linktype (net.c), then pick the application
 * decoder by the channel's hint or by detection, and let it write its
 * fields. A decoder that fails leaves no partial output: the JSON writer is
 * rewound and {"error": "..."} written instead. */
#include <stdio.h>
#include <string.h>

#include "roadlog/decode.h"
#include "roadlog/net.h"

/* Lowest detection score taken as a match when a channel has no hint. */
#define DETECT_MIN_SCORE 50

const struct rl_decoder *const rl_decoders[] = {
    &rl_decoder_velodyne, &rl_decoder_hesai,     &rl_decoder_robosense,
    &rl_decoder_nmea,     &rl_decoder_ubx,       &rl_decoder_can,
    &rl_decoder_v2x_csae, &rl_decoder_v2x_j2735, NULL,
};

const struct rl_decoder *rl_decoder_find(const char *name)
{
    if (!name || !*name)
        return NULL;
    const struct rl_decoder *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; rl_decoders[i]; i++) {
        const char *n = rl_decoders[i]->name;
        size_t len = strlen(n);
        /* Exact, or a model-qualified name: "velodyne.vlp16" -> "velodyne". */
        if (strncmp(name, n, len) == 0 && (name[len] == '\0' || name[len] == '.') &&
            len > best_len) {
            best = rl_decoders[i];
            best_len = len;
        }
    }
    return best;
}

static const struct rl_decoder *detect(const struct rl_payload *pl)
{
    const struct rl_decoder *best = NULL;
    int best_score = DETECT_MIN_SCORE - 1;
    for (size_t i = 0; rl_decoders[i]; i++) {
        int s = rl_decoders[i]->detect(pl);
        if (s > best_score) {
            best_score = s;
            best = rl_decoders[i];
        }
    }
    return best;
}

static int write_error(struct rl_jw *out, const struct rl_jw_mark *m, int rc, const char *why)
{
    rl_jw_rewind(out, m);
    rl_jw_obj_begin(out);
    rl_jw_kstr(out, "error", why);
    rl_jw_obj_end(out);
    return rc;
}

int rl_decode_frame(const struct rl_decode_ctx *ctx, const char *hint, int linktype,
                    const uint8_t *frame, size_t len, uint64_t log_time_ns, struct rl_jw *out)
{
    struct rl_jw_mark mark;
    rl_jw_mark(out, &mark);
    struct rl_payload pl = {frame, len, linktype, 0, 0, log_time_ns, hint};
    char why[256];
    size_t claimed = 0; /* IP length claimed by a frame captured short */

    if (linktype != RL_LINKTYPE_PAYLOAD && linktype != RL_LINKTYPE_CAN_SOCKETCAN) {
        struct rl_net_frame nf;
        int rc = rl_net_parse(linktype, frame, len, &nf);
        if (rc < 0) {
            snprintf(why, sizeof(why), "%s (at byte %zu)", nf.reason, nf.reason_offset);
            return write_error(out, &mark, rc, why);
        }
        if ((nf.layers & RL_NET_L_FRAGMENT) && ctx && ctx->ipfrag) {
            rc = rl_ipfrag_feed(ctx->ipfrag, &nf, log_time_ns);
            if (rc < 0)
                return write_error(out, &mark, rc, nf.reason);
            if (rc == 0) {
                rl_jw_obj_begin(out);
                rl_jw_kstr(out, "type", "ip.fragment");
                rl_jw_ku64(out, "offset", nf.frag_offset);
                rl_jw_kbool(out, "more", nf.frag_more);
                rl_jw_obj_end(out);
                return 0;
            }
        } else if (nf.layers & RL_NET_L_FRAGMENT) {
            return write_error(out, &mark, RL_EUNSUPPORTED,
                               "IP fragment (no reassembly for this read)");
        }
        if (!(nf.layers & RL_NET_L_UDP)) {
            snprintf(why, sizeof(why), "not a UDP frame (ethertype 0x%04x, ip protocol %u)",
                     nf.ethertype, nf.ip_proto);
            return write_error(out, &mark, RL_EUNSUPPORTED, why);
        }
        pl.data = nf.payload;
        pl.len = nf.payload_len;
        if (nf.truncated)
            claimed = nf.claimed_len;
        pl.src_port = nf.src_port;
        pl.dst_port = nf.dst_port;
    }

    const struct rl_decoder *d = hint && *hint ? rl_decoder_find(hint) : detect(&pl);
    if (!d) {
        if (hint && *hint)
            snprintf(why, sizeof(why), "no decoder named '%s'", hint);
        else
            snprintf(why, sizeof(why), "no decoder recognises this %zu-byte payload", pl.len);
        return write_error(out, &mark, RL_ENOTFOUND, why);
    }
    static const struct rl_decode_ctx empty_ctx;
    why[0] = '\0';
    rl_jw_obj_begin(out);
    int rc = d->decode(ctx ? ctx : &empty_ctx, &pl, out, why, sizeof(why));
    if (rc < 0) {
        if (!why[0])
            snprintf(why, sizeof(why), "%s: %s", d->name, rl_strerror(rc));
        return write_error(out, &mark, rc, why);
    }
    if (claimed)
        rl_jw_ku64(out, "ip_claimed_length", claimed);
    rl_jw_obj_end(out);
    return 0;
}
