/* Decode environments (decode.h): the per-log state decoders share — the
 * DBC and LiDAR calibration a log carries as attachments, and an IPv4
 * reassembler — and the channel metadata that chooses a decoder. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roadlog/can.h"
#include "roadlog/decode.h"
#include "roadlog/lidar.h"
#include "roadlog/net.h"
#include "roadlog/reader.h"

/* Attachments larger than this are not taken as DBC or calibration text. */
#define ENV_MAX_ATTACHMENT_BYTES ((size_t)16 << 20)

struct rl_decode_env {
    struct rl_decode_ctx ctx;
    struct rl_dbc *dbc;
    struct rl_hesai_calib *hesai;
    struct rl_ipfrag *ipfrag;
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

int rl_decode_env_set_dbc(struct rl_decode_env *env, const char *text, size_t len, char *err,
                          size_t err_len)
{
    struct rl_dbc *dbc;
    int rc = rl_dbc_parse(text, len, &dbc, err, err_len);
    if (rc < 0)
        return rc;
    rl_dbc_free(env->dbc);
    env->dbc = dbc;
    env->ctx.dbc = dbc;
    return 0;
}

int rl_decode_env_set_hesai(struct rl_decode_env *env, const char *text, size_t len, char *err,
                            size_t err_len)
{
    struct rl_hesai_calib *cal;
    int rc = rl_hesai_calib_parse(text, len, &cal, err, err_len);
    if (rc < 0)
        return rc;
    rl_hesai_calib_free(env->hesai);
    env->hesai = cal;
    env->ctx.hesai = cal;
    return 0;
}

static void load_attachments(struct rl_decode_env *env, struct rl_reader *r, char *warn,
                             size_t warn_len)
{
    size_t n = rl_reader_attachment_count(r);
    for (size_t i = 0; i < n; i++) {
        const struct rl_attachment_info *ai = rl_reader_attachment_at(r, i);
        bool dbc = ends_with(ai->name, ".dbc") || strcmp(ai->media_type, "application/x-dbc") == 0;
        bool hesai = strcmp(ai->media_type, "text/x-hesai-angle-correction") == 0 ||
                     (strstr(ai->name, "ngle") && ends_with(ai->name, ".csv"));
        if ((!dbc && !hesai) || ai->data_size > ENV_MAX_ATTACHMENT_BYTES)
            continue;
        uint8_t *data;
        size_t len;
        char why[200] = "";
        int rc = rl_reader_read_attachment(r, i, &data, &len);
        if (rc == 0) {
            rc = dbc ? rl_decode_env_set_dbc(env, (const char *)data, len, why, sizeof(why))
                     : rl_decode_env_set_hesai(env, (const char *)data, len, why, sizeof(why));
            free(data);
        } else {
            snprintf(why, sizeof(why), "%s", rl_reader_errmsg(r));
        }
        if (rc < 0 && warn && warn_len)
            snprintf(warn, warn_len, "attachment '%s' not used: %s", ai->name, why);
    }
}

int rl_decode_env_new(struct rl_decode_env **out, struct rl_reader *r, char *warn, size_t warn_len)
{
    *out = NULL;
    if (warn && warn_len)
        warn[0] = '\0';
    struct rl_decode_env *env = calloc(1, sizeof(*env));
    if (!env)
        return -ENOMEM;
    int rc = rl_ipfrag_new(&env->ipfrag, 0, 0);
    if (rc < 0) {
        free(env);
        return rc;
    }
    env->ctx.ipfrag = env->ipfrag;
    if (r)
        load_attachments(env, r, warn, warn_len);
    *out = env;
    return 0;
}

const struct rl_decode_ctx *rl_decode_env_ctx(const struct rl_decode_env *env)
{
    return &env->ctx;
}

void rl_decode_env_free(struct rl_decode_env *env)
{
    if (!env)
        return;
    rl_dbc_free(env->dbc);
    rl_hesai_calib_free(env->hesai);
    rl_ipfrag_free(env->ipfrag);
    free(env);
}

int rl_channel_linktype(const struct rl_channel *ch)
{
    const char *lt = rl_channel_meta(ch, "linktype");
    if (!lt || !*lt || strcmp(lt, "payload") == 0)
        return RL_LINKTYPE_PAYLOAD;
    char *end;
    errno = 0;
    long v = strtol(lt, &end, 10);
    if (errno || *end || v < 0 || v > 65535)
        return RL_LINKTYPE_PAYLOAD;
    return (int)v;
}

const char *rl_channel_decoder(const struct rl_channel *ch)
{
    const char *d = rl_channel_meta(ch, "decoder");
    return d && *d ? d : NULL;
}
