/* How C-V2X MessageFrames travel in a UDP datagram, and the "v2x.csae"
 * decoder of decode.h built on it. Three framings:
 * - vendor header (Hisense RSU/OBU output): id_len ASCII id bytes ("u_id_123"),
 *   8-byte LE epoch milliseconds, 2-byte LE length of the one frame that
 *   follows; or, in place of the length, a count byte and count x (2-byte LE
 *   length, frame) - the layout of the OBU's BSM output, worked out from the
 *   vendor's sample (its lengths add up exactly to the datagram);
 * - DSMP, the DSM message of YD/T 3707-2020 4.3 (network layer of LTE-V2X):
 *   3-bit version (0), 1-bit option indicator, 4 reserved bits, extension
 *   fields when the indicator is set, the AID, a 2-octet big-endian length,
 *   the data. The field layout is from the standard's table as published;
 *   the AID's variable-length form is taken to be the p-encoding of IEEE
 *   1609.12 / ISO 17419 (1..4 octets), and extension fields are refused, as
 *   their layout could not be verified;
 * - raw: the datagram is one UPER MessageFrame.
 * Which framing a port uses and which AIDs are accepted is configuration
 * (struct rl_v2x_config), never a constant in the decoder. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "roadlog/v2x.h"

#define DSMP_VERSION    0
#define VENDOR_TIME_LEN 8
#define VENDOR_LEN_LEN  2

void rl_v2x_config_default(struct rl_v2x_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->vendor_id_len = RL_V2X_VENDOR_ID_LEN;
    cfg->vendor_batches = true;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* The vendor id: printable ASCII, NUL padding allowed after it. */
static bool vendor_id_ok(const uint8_t *p, size_t n)
{
    bool seen_nul = false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == 0) {
            seen_nul = true;
        } else if (seen_nul || p[i] < 0x20 || p[i] > 0x7e) {
            return false;
        }
    }
    return n > 0 && p[0] != 0;
}

/* Vendor header, single frame or batch. Returns 1 matched, 0 not this framing. */
static int try_vendor(const struct rl_v2x_config *cfg, const uint8_t *p, size_t len,
                      struct rl_v2x_frames *out)
{
    size_t idl = cfg->vendor_id_len;
    if (idl == 0 || idl > RL_V2X_VENDOR_ID_LEN || len < idl + VENDOR_TIME_LEN + VENDOR_LEN_LEN ||
        !vendor_id_ok(p, idl))
        return 0;
    size_t hdr = idl + VENDOR_TIME_LEN;
    memset(out->vendor_id, 0, sizeof(out->vendor_id));
    memcpy(out->vendor_id, p, idl);
    out->vendor_time_ms = rl__get_u64le(p + idl);
    size_t n = rl__get_u16le(p + hdr);
    if (n > 0 && n == len - hdr - VENDOR_LEN_LEN) {
        out->framing = RL_V2X_FRAMING_VENDOR;
        out->n = 1;
        out->f[0].p = p + hdr + VENDOR_LEN_LEN;
        out->f[0].len = n;
        return 1;
    }
    if (!cfg->vendor_batches)
        return 0;
    struct rl_cursor cur;
    rl__cursor_init(&cur, p + hdr, len - hdr);
    unsigned count = rl__cursor_u8(&cur);
    if (count == 0 || count > RL_V2X_MAX_FRAMES)
        return 0;
    for (unsigned i = 0; i < count; i++) {
        size_t fl = rl__cursor_u16(&cur);
        const uint8_t *f;
        if (fl == 0 || !rl__cursor_take(&cur, fl, &f))
            return 0;
        out->f[i].p = f;
        out->f[i].len = fl;
    }
    if (cur.failed || cur.left != 0)
        return 0;
    out->framing = RL_V2X_FRAMING_VENDOR;
    out->batch = true;
    out->n = (int)count;
    return 1;
}

/* p-encoded AID (IEEE 1609.12 PSID form): value and octets used, or 0. */
static size_t aid_decode(const uint8_t *p, size_t len, uint32_t *aid)
{
    if (len < 1)
        return 0;
    uint8_t b = p[0];
    if ((b & 0x80) == 0) {
        *aid = b;
        return 1;
    }
    if ((b & 0xc0) == 0x80 && len >= 2) {
        *aid = 0x80u + (((uint32_t)(b & 0x3f) << 8) | p[1]);
        return 2;
    }
    if ((b & 0xe0) == 0xc0 && len >= 3) {
        *aid = 0x4080u + (((uint32_t)(b & 0x1f) << 16) | (uint32_t)p[1] << 8 | p[2]);
        return 3;
    }
    if ((b & 0xf0) == 0xe0 && len >= 4) {
        *aid = 0x204080u +
               (((uint32_t)(b & 0x0f) << 24) | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
        return 4;
    }
    return 0;
}

#define AID_MAX (0x204080u + 0x0fffffffu)

static size_t aid_encode(uint32_t aid, uint8_t *p)
{
    if (aid < 0x80u) {
        p[0] = (uint8_t)aid;
        return 1;
    }
    if (aid < 0x4080u) {
        uint32_t x = aid - 0x80u;
        p[0] = (uint8_t)(0x80 | (x >> 8));
        p[1] = (uint8_t)x;
        return 2;
    }
    if (aid < 0x204080u) {
        uint32_t x = aid - 0x4080u;
        p[0] = (uint8_t)(0xc0 | (x >> 16));
        p[1] = (uint8_t)(x >> 8);
        p[2] = (uint8_t)x;
        return 3;
    }
    uint32_t x = aid - 0x204080u;
    p[0] = (uint8_t)(0xe0 | (x >> 24));
    p[1] = (uint8_t)(x >> 16);
    p[2] = (uint8_t)(x >> 8);
    p[3] = (uint8_t)x;
    return 4;
}

/* DSM message. Returns 1 matched, 0 not DSMP, or (when the port is
 * configured as DSMP) a negative error for extension fields. Detection
 * treats them as "not DSMP": a raw MapData frame without timeStamp starts
 * with the same octet 0x10. */
static int try_dsmp(const uint8_t *p, size_t len, bool configured, struct rl_v2x_frames *out,
                    char *err, size_t errlen)
{
    if (len < 4)
        return 0;
    unsigned version = p[0] >> 5, has_ext = (p[0] >> 4) & 1, reserved = p[0] & 0x0f;
    if (version != DSMP_VERSION || reserved != 0)
        return 0;
    if (has_ext) {
        if (!configured)
            return 0;
        set_err(err, errlen, "DSMP extension fields (option indicator set) are not supported");
        return RL_EUNSUPPORTED;
    }
    uint32_t aid;
    size_t an = aid_decode(p + 1, len - 1, &aid);
    if (an == 0 || len < 1 + an + 2)
        return 0;
    size_t n = (size_t)p[1 + an] << 8 | p[2 + an];
    if (n == 0 || n != len - 3 - an)
        return 0;
    out->framing = RL_V2X_FRAMING_DSMP;
    out->aid = aid;
    out->n = 1;
    out->f[0].p = p + 3 + an;
    out->f[0].len = n;
    return 1;
}

int rl_v2x_unframe(const struct rl_v2x_config *cfg, uint16_t port, const uint8_t *p, size_t len,
                   struct rl_v2x_frames *out, char *err, size_t errlen)
{
    struct rl_v2x_config def;
    if (!cfg) {
        rl_v2x_config_default(&def);
        cfg = &def;
    }
    memset(out, 0, sizeof(*out));
    int32_t framing = RL_V2X_FRAMING_AUTO;
    for (int i = 0; port && i < cfg->n_ports && i < RL_V2X_CONFIG_MAX_PORTS; i++)
        if (cfg->ports[i].port == port)
            framing = cfg->ports[i].framing;
    if (framing == RL_V2X_FRAMING_AUTO || framing == RL_V2X_FRAMING_VENDOR) {
        if (try_vendor(cfg, p, len, out))
            return 0;
        if (framing == RL_V2X_FRAMING_VENDOR) {
            set_err(err, errlen, "no vendor header with a matching length in %zu bytes", len);
            return len < cfg->vendor_id_len + VENDOR_TIME_LEN + VENDOR_LEN_LEN ? RL_ETRUNC
                                                                               : RL_ECORRUPT;
        }
    }
    if (framing == RL_V2X_FRAMING_AUTO || framing == RL_V2X_FRAMING_DSMP) {
        int rc = try_dsmp(p, len, framing == RL_V2X_FRAMING_DSMP, out, err, errlen);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            bool ok = cfg->n_aids == 0;
            for (int i = 0; i < cfg->n_aids && i < RL_V2X_CONFIG_MAX_AIDS; i++)
                ok = ok || cfg->aids[i] == out->aid;
            if (!ok) {
                set_err(err, errlen, "DSMP AID %lu is not configured as C-V2X",
                        (unsigned long)out->aid);
                return RL_ENOTFOUND;
            }
            return 0;
        }
        if (framing == RL_V2X_FRAMING_DSMP) {
            set_err(err, errlen, "not a DSM message (version 0, matching length) in %zu bytes",
                    len);
            return RL_ECORRUPT;
        }
    }
    if (len == 0) {
        set_err(err, errlen, "empty datagram");
        return RL_ETRUNC;
    }
    out->framing = RL_V2X_FRAMING_RAW;
    out->n = 1;
    out->f[0].p = p;
    out->f[0].len = len;
    return 0;
}

int rl_v2x_vendor_build(const char *id, uint64_t time_ms, const uint8_t *frame, size_t frame_len,
                        uint8_t *out, size_t cap, size_t *len)
{
    size_t hdr = RL_V2X_VENDOR_ID_LEN + VENDOR_TIME_LEN + VENDOR_LEN_LEN;
    *len = 0;
    if (frame_len > 0xffff || cap < hdr || frame_len > cap - hdr)
        return RL_ETOOBIG;
    memset(out, 0, RL_V2X_VENDOR_ID_LEN);
    memcpy(out, id, strnlen(id, RL_V2X_VENDOR_ID_LEN));
    rl__put_u64le(out + RL_V2X_VENDOR_ID_LEN, time_ms);
    rl__put_u16le(out + RL_V2X_VENDOR_ID_LEN + VENDOR_TIME_LEN, (uint16_t)frame_len);
    memcpy(out + hdr, frame, frame_len);
    *len = hdr + frame_len;
    return 0;
}

int rl_v2x_dsmp_build(uint32_t aid, const uint8_t *frame, size_t frame_len, uint8_t *out,
                      size_t cap, size_t *len)
{
    uint8_t a[4];
    *len = 0;
    if (aid > AID_MAX || frame_len == 0)
        return -EINVAL;
    size_t an = aid_encode(aid, a);
    size_t hdr = 1 + an + 2;
    if (frame_len > 0xffff || cap < hdr || frame_len > cap - hdr)
        return RL_ETOOBIG;
    out[0] = DSMP_VERSION << 5;
    memcpy(out + 1, a, an);
    out[1 + an] = (uint8_t)(frame_len >> 8);
    out[2 + an] = (uint8_t)frame_len;
    memcpy(out + hdr, frame, frame_len);
    *len = hdr + frame_len;
    return 0;
}

/* ---- the "v2x.csae" decoder ---------------------------------------------- */

/* Both ports are tried against the configuration: the destination first. */
static int unframe_payload(const struct rl_v2x_config *cfg, const struct rl_payload *pl,
                           struct rl_v2x_frames *fr, char *err, size_t errlen)
{
    uint16_t port = pl->dst_port;
    bool dst_known = false;
    for (int i = 0; cfg && i < cfg->n_ports && i < RL_V2X_CONFIG_MAX_PORTS; i++)
        dst_known = dst_known || cfg->ports[i].port == pl->dst_port;
    if (!dst_known)
        port = pl->src_port;
    return rl_v2x_unframe(cfg, port, pl->data, pl->len, fr, err, errlen);
}

static int csae_detect(const struct rl_payload *pl)
{
    struct rl_v2x_frames fr;
    struct rl_v2x_msg m;
    char err[8];
    if (!pl->data || pl->len < 4 || rl_v2x_unframe(NULL, 0, pl->data, pl->len, &fr, err, 0))
        return 0;
    if (rl_v2x_decode(fr.f[0].p, fr.f[0].len, &m, err, 0) || m.kind >= RL_V2X_KIND_EXT)
        return 0;
    switch (fr.framing) {
    case RL_V2X_FRAMING_VENDOR:
        return 95;
    case RL_V2X_FRAMING_DSMP:
        return 85;
    default:
        /* A whole datagram that parses as a MessageFrame to its last octet. */
        return pl->len >= 16 ? 60 : 30;
    }
}

/* Decodes one frame into the open JSON object. */
static int decode_one(const uint8_t *p, size_t len, struct rl_jw *out, char *err, size_t errlen)
{
    struct rl_v2x_msg m;
    int rc = rl_v2x_decode(p, len, &m, err, errlen);
    if (rc)
        return rc;
    return rl_v2x_to_json(&m, out, err, errlen);
}

static int csae_decode(const struct rl_decode_ctx *ctx, const struct rl_payload *pl,
                       struct rl_jw *out, char *err, size_t err_len)
{
    struct rl_v2x_frames fr;
    const struct rl_v2x_config *cfg = ctx ? ctx->v2x : NULL;
    int rc = unframe_payload(cfg, pl, &fr, err, err_len);
    if (rc)
        return rc;
    if (!fr.batch)
        return decode_one(fr.f[0].p, fr.f[0].len, out, err, err_len);
    rl_jw_kstr(out, "type", "v2x.csae53.batch");
    rl_jw_key(out, "messages");
    rl_jw_arr_begin(out);
    for (int i = 0; i < fr.n; i++) {
        char e[256];
        rl_jw_obj_begin(out);
        /* A bad frame in a batch is reported in its place; the others stand. */
        if (decode_one(fr.f[i].p, fr.f[i].len, out, e, sizeof(e)))
            rl_jw_kstr(out, "error", e);
        rl_jw_obj_end(out);
    }
    rl_jw_arr_end(out);
    return 0;
}

const struct rl_decoder rl_decoder_v2x_csae = {
    .name = "v2x.csae",
    .detect = csae_detect,
    .decode = csae_decode,
};
