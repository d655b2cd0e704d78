/* `roadlog info LOG... [--json]`: what a log holds. Opens each log with the
 * reader (which scans a file that was cut off), counts messages per channel,
 * lists markers (/roadlog/markers), metadata records and attachments, and
 * prints a human summary or the JSON document of cli.md (an array of them
 * for several logs). An incomplete log is not an error here: info says what
 * was salvaged and exits 0; problems met go to stderr as warnings. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "roadlog/jsonw.h"

#define CMD              "info"
#define JSON_LIMIT_BYTES ((size_t)256 << 20)
#define MAX_MARKERS      100000
#define NS_PER_S_D       1e9

static const char help_text[] =
    "usage: roadlog info LOG... [--json] [-q]\n"
    "\n"
    "Summarize MCAP logs: whether the file is complete (a cut-off recording is\n"
    "opened by scanning, and the salvaged chunks are counted), start, end and\n"
    "duration, messages, chunks, compression and sizes, a channel table (id,\n"
    "topic, messages, bytes, rate, pcap linktype, decoder, dropped frames), the\n"
    "markers on /roadlog/markers, metadata records and attachments.\n"
    "\n"
    "  --json     one JSON document on stdout (an array for several LOGs)\n"
    "  -q, --quiet  no progress line\n"
    "  -h, --help   show this help\n"
    "\n"
    "Exit codes: 0 ok (also for a cut-off log), 1 usage error, 2 a LOG cannot\n"
    "be read or is not MCAP.\n";

static const struct cli_opt options[] = {
    {"help", 'h', false, CLI_OPT_HELP},
    {"json", 0, false, CLI_OPT_JSON},
    {"quiet", 'q', false, CLI_OPT_QUIET},
    {NULL, 0, false, 0},
};

struct marker {
    uint64_t time_ns;
    char *label;
};

struct info_log {
    const char *path;
    struct rl_reader *r;
    struct rl_file_info fi;
    struct marker *markers;
    size_t n_markers, cap_markers;
    bool markers_truncated;
};

static void on_problem(void *ud, int code, uint64_t offset, const char *msg)
{
    const char *path = ud;
    (void)code;
    (void)offset;
    cli_err(CMD, "warning: %s: %s", path, msg);
}

static int add_marker(void *ud, uint64_t time_ns, const char *label)
{
    struct info_log *l = ud;
    if (l->n_markers == MAX_MARKERS) {
        l->markers_truncated = true;
        return 1;
    }
    if (l->n_markers == l->cap_markers) {
        size_t cap = l->cap_markers ? l->cap_markers * 2 : 16;
        struct marker *m = realloc(l->markers, cap * sizeof(*m));
        if (!m)
            return 1;
        l->markers = m;
        l->cap_markers = cap;
    }
    char *dup = strdup(label);
    if (!dup)
        return 1;
    l->markers[l->n_markers++] = (struct marker){time_ns, dup};
    return 0;
}

static void log_release(struct info_log *l)
{
    for (size_t i = 0; i < l->n_markers; i++)
        free(l->markers[i].label);
    free(l->markers);
    rl_reader_close(l->r);
    memset(l, 0, sizeof(*l));
}

/* Opens and reads everything info shows. CLI_EXIT_OK or CLI_EXIT_INPUT. */
static int log_load(struct info_log *l, const char *path)
{
    memset(l, 0, sizeof(*l));
    l->path = path;
    struct rl_reader_options ro;
    rl_reader_options_init(&ro);
    ro.problem = on_problem;
    ro.problem_ud = (void *)path;
    int rc = cli_open_reader(CMD, path, &ro, &l->r);
    if (rc != 0)
        return rc;
    rc = rl_reader_count_messages(l->r);
    if (rc < 0) {
        cli_err(CMD, "counting messages in '%s' failed: %s", path, rl_reader_errmsg(l->r));
        return CLI_EXIT_INPUT;
    }
    rc = cli_markers_foreach(l->r, add_marker, l);
    if (rc < 0) {
        cli_err(CMD, "reading markers of '%s' failed: %s", path, rl_reader_errmsg(l->r));
        return CLI_EXIT_INPUT;
    }
    if (l->markers_truncated)
        cli_err(CMD, "warning: %s: only the first %d markers are listed", path, MAX_MARKERS);
    rl_reader_file_info(l->r, &l->fi);
    return CLI_EXIT_OK;
}

static double duration_s(const struct rl_file_info *fi)
{
    return fi->end_ns > fi->start_ns ? (double)(fi->end_ns - fi->start_ns) / NS_PER_S_D : 0.0;
}

/* The channel's pcap linktype as a number, or -1 when absent or not numeric. */
static long long channel_linktype(const struct rl_channel *ch)
{
    const char *s = rl_channel_meta(ch, "linktype");
    uint64_t v;
    if (!s || cli_parse_u64(s, &v) < 0 || v > INT32_MAX)
        return -1;
    return (long long)v;
}

/* ---- JSON ---- */

static void json_log(struct rl_jw *w, const struct info_log *l)
{
    const struct rl_file_info *fi = &l->fi;
    rl_jw_obj_begin(w);
    rl_jw_kstr(w, "path", l->path);
    rl_jw_kbool(w, "complete", fi->complete);
    rl_jw_ku64(w, "salvaged_chunks", fi->salvaged_chunks);
    rl_jw_ku64(w, "lost_bytes", fi->lost_bytes);
    rl_jw_ku64(w, "start_ns", fi->start_ns);
    rl_jw_ku64(w, "end_ns", fi->end_ns);
    rl_jw_kdouble(w, "duration_s", duration_s(fi), 15);
    rl_jw_ku64(w, "messages", fi->message_count);
    rl_jw_ku64(w, "chunks", rl_reader_chunk_count(l->r));
    rl_jw_kstr(w, "compression", fi->compression ? fi->compression : "none");
    rl_jw_ku64(w, "bytes_compressed", fi->bytes_compressed);
    rl_jw_ku64(w, "bytes_uncompressed", fi->bytes_uncompressed);
    rl_jw_ku64(w, "file_bytes", fi->file_bytes);
    rl_jw_kstr(w, "profile", fi->profile ? fi->profile : "");
    rl_jw_kstr(w, "library", fi->library ? fi->library : "");

    double dur = duration_s(fi);
    rl_jw_key(w, "channels");
    rl_jw_arr_begin(w);
    size_t n = rl_reader_channel_count(l->r);
    for (size_t i = 0; i < n; i++) {
        const struct rl_channel *ch = rl_reader_channel_at(l->r, i);
        rl_jw_obj_begin(w);
        rl_jw_ku64(w, "id", ch->id);
        rl_jw_kstr(w, "topic", ch->topic);
        rl_jw_kstr(w, "message_encoding", ch->message_encoding);
        rl_jw_kstr(w, "schema", ch->schema ? ch->schema->name : "");
        rl_jw_ku64(w, "messages", ch->message_count);
        rl_jw_ku64(w, "bytes", ch->message_bytes);
        rl_jw_kdouble(w, "rate_hz", dur > 0 ? (double)ch->message_count / dur : 0.0, 6);
        long long lt = channel_linktype(ch);
        rl_jw_key(w, "linktype");
        if (lt >= 0)
            rl_jw_i64(w, lt);
        else
            rl_jw_null(w);
        const char *dec = rl_channel_meta(ch, "decoder");
        rl_jw_key(w, "decoder");
        if (dec)
            rl_jw_str(w, dec);
        else
            rl_jw_null(w);
        rl_jw_ku64(w, "dropped", 0);
        rl_jw_obj_end(w);
    }
    rl_jw_arr_end(w);

    rl_jw_key(w, "markers");
    rl_jw_arr_begin(w);
    for (size_t i = 0; i < l->n_markers; i++) {
        rl_jw_obj_begin(w);
        rl_jw_ku64(w, "time_ns", l->markers[i].time_ns);
        rl_jw_kstr(w, "label", l->markers[i].label);
        rl_jw_obj_end(w);
    }
    rl_jw_arr_end(w);

    /* Metadata by name; a repeated name gets "#2", "#3" so keys stay unique. */
    rl_jw_key(w, "metadata");
    rl_jw_obj_begin(w);
    n = rl_reader_metadata_count(l->r);
    for (size_t i = 0; i < n; i++) {
        const struct rl_metadata *md = rl_reader_metadata_at(l->r, i);
        unsigned dup = 1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(rl_reader_metadata_at(l->r, j)->name, md->name) == 0)
                dup++;
        if (dup == 1) {
            rl_jw_key(w, md->name);
        } else {
            char key[512];
            snprintf(key, sizeof(key), "%s#%u", md->name, dup);
            rl_jw_key(w, key);
        }
        rl_jw_obj_begin(w);
        for (size_t k = 0; k < md->n; k++)
            rl_jw_kstr(w, md->kv[k].key, md->kv[k].value);
        rl_jw_obj_end(w);
    }
    rl_jw_obj_end(w);

    rl_jw_key(w, "attachments");
    rl_jw_arr_begin(w);
    n = rl_reader_attachment_count(l->r);
    for (size_t i = 0; i < n; i++) {
        const struct rl_attachment_info *a = rl_reader_attachment_at(l->r, i);
        rl_jw_obj_begin(w);
        rl_jw_kstr(w, "name", a->name);
        rl_jw_kstr(w, "media_type", a->media_type);
        rl_jw_ku64(w, "size", a->data_size);
        rl_jw_ku64(w, "log_time_ns", a->log_time_ns);
        rl_jw_ku64(w, "create_time_ns", a->create_time_ns);
        rl_jw_obj_end(w);
    }
    rl_jw_arr_end(w);
    rl_jw_obj_end(w);
}

/* ---- text ---- */

static void text_log(const struct info_log *l)
{
    const struct rl_file_info *fi = &l->fi;
    char t0[CLI_ISO_LEN], t1[CLI_ISO_LEN], b0[32], b1[32], b2[32];
    size_t n_chunks = rl_reader_chunk_count(l->r);

    printf("path:         %s\n", l->path);
    if (fi->complete)
        printf("complete:     yes\n");
    else
        printf("complete:     no (no valid summary/footer: %llu chunks salvaged by scanning, "
               "%llu bytes lost at the end)\n",
               (unsigned long long)fi->salvaged_chunks, (unsigned long long)fi->lost_bytes);
    if (fi->message_count > 0) {
        printf("start:        %s\n", cli_format_iso(fi->start_ns, t0, sizeof(t0)));
        printf("end:          %s\n", cli_format_iso(fi->end_ns, t1, sizeof(t1)));
    }
    double dur = duration_s(fi);
    printf("duration:     %.3f s\n", dur);
    printf("messages:     %llu\n", (unsigned long long)fi->message_count);
    printf("chunks:       %zu (%s)\n", n_chunks, fi->compression ? fi->compression : "none");
    printf("size:         %s compressed, %s uncompressed",
           cli_format_bytes(fi->bytes_compressed, b0, sizeof(b0)),
           cli_format_bytes(fi->bytes_uncompressed, b1, sizeof(b1)));
    if (fi->bytes_compressed > 0)
        printf(" (ratio %.2f)", (double)fi->bytes_uncompressed / (double)fi->bytes_compressed);
    printf(", file %s\n", cli_format_bytes(fi->file_bytes, b2, sizeof(b2)));
    if (fi->library && fi->library[0])
        printf("library:      %s\n", fi->library);

    size_t n = rl_reader_channel_count(l->r);
    printf("channels:     %zu\n", n);
    if (n > 0)
        printf("  %5s  %-24s %10s %12s %9s %8s  %-16s %7s\n", "id", "topic", "messages", "bytes",
               "rate Hz", "linktype", "decoder", "dropped");
    for (size_t i = 0; i < n; i++) {
        const struct rl_channel *ch = rl_reader_channel_at(l->r, i);
        long long lt = channel_linktype(ch);
        const char *dec = rl_channel_meta(ch, "decoder");
        char ltbuf[24];
        if (lt >= 0)
            snprintf(ltbuf, sizeof(ltbuf), "%lld", lt);
        else
            snprintf(ltbuf, sizeof(ltbuf), "-");
        printf("  %5u  %-24s %10llu %12llu %9.2f %8s  %-16s %7d\n", ch->id, ch->topic,
               (unsigned long long)ch->message_count, (unsigned long long)ch->message_bytes,
               dur > 0 ? (double)ch->message_count / dur : 0.0, ltbuf, dec ? dec : "-", 0);
    }

    printf("markers:      %zu\n", l->n_markers);
    for (size_t i = 0; i < l->n_markers; i++) {
        const struct marker *m = &l->markers[i];
        double off =
            m->time_ns >= fi->start_ns ? (double)(m->time_ns - fi->start_ns) / NS_PER_S_D : 0.0;
        printf("  %+10.3f s  %s  %s\n", off, cli_format_iso(m->time_ns, t0, sizeof(t0)), m->label);
    }

    n = rl_reader_metadata_count(l->r);
    printf("metadata:     %zu\n", n);
    for (size_t i = 0; i < n; i++) {
        const struct rl_metadata *md = rl_reader_metadata_at(l->r, i);
        printf("  %s:", md->name);
        for (size_t k = 0; k < md->n; k++)
            printf(" %s=%s", md->kv[k].key, md->kv[k].value);
        printf("\n");
    }

    n = rl_reader_attachment_count(l->r);
    printf("attachments:  %zu\n", n);
    for (size_t i = 0; i < n; i++) {
        const struct rl_attachment_info *a = rl_reader_attachment_at(l->r, i);
        printf("  %s  %s  %s  %s\n", a->name, a->media_type[0] ? a->media_type : "-",
               cli_format_bytes(a->data_size, b0, sizeof(b0)),
               cli_format_iso(a->log_time_ns, t0, sizeof(t0)));
    }
}

int cmd_info(int argc, char **argv)
{
    const char **logs = calloc((size_t)argc + 1, sizeof(*logs));
    if (!logs) {
        cli_err(CMD, "out of memory");
        return CLI_EXIT_INPUT;
    }
    struct cli_parser p;
    cli_parser_init(&p, CMD, argc, argv, logs);
    bool json = false, quiet = false;
    int id, rc, exit_code = CLI_EXIT_OK;
    const char *val, *flag;
    struct rl_jw w;
    rl_jw_init(&w, JSON_LIMIT_BYTES);
    while ((rc = cli_parser_next(&p, options, &id, &val, &flag)) == 1) {
        switch (id) {
        case CLI_OPT_HELP:
            exit_code = cli_help(help_text);
            goto done;
        case CLI_OPT_JSON:
            json = true;
            break;
        case CLI_OPT_QUIET:
            quiet = true;
            break;
        default:
            break;
        }
    }
    if (rc < 0) {
        exit_code = CLI_EXIT_USAGE;
        goto done;
    }
    if (p.n_pos == 0) {
        exit_code = cli_usage_err(CMD, "no LOG given");
        goto done;
    }

    struct cli_progress prog;
    cli_progress_init(&prog, quiet);
    bool array = json && p.n_pos > 1;
    if (array)
        rl_jw_arr_begin(&w);
    for (int i = 0; i < p.n_pos; i++) {
        struct info_log l;
        if (p.n_pos > 1)
            cli_progress_show(&prog, "reading %s (%d/%d)", logs[i], i + 1, p.n_pos);
        else
            cli_progress_show(&prog, "reading %s", logs[i]);
        rc = log_load(&l, logs[i]);
        cli_progress_clear(&prog);
        if (rc != CLI_EXIT_OK) {
            exit_code = rc;
            log_release(&l);
            continue;
        }
        if (!l.fi.complete)
            cli_err(CMD,
                    "warning: %s: incomplete log (recording cut off?): %llu chunks salvaged, "
                    "%llu bytes lost; 'roadlog recover' rewrites it",
                    logs[i], (unsigned long long)l.fi.salvaged_chunks,
                    (unsigned long long)l.fi.lost_bytes);
        if (json) {
            json_log(&w, &l);
        } else {
            if (i > 0)
                printf("\n");
            text_log(&l);
        }
        log_release(&l);
    }
    if (array)
        rl_jw_arr_end(&w);
    if (json) {
        size_t len;
        const char *out = rl_jw_str_out(&w, &len);
        if (rl_jw_failed(&w)) {
            cli_err(CMD, "JSON output failed: out of memory or over %zu bytes", JSON_LIMIT_BYTES);
            exit_code = CLI_EXIT_INPUT;
        } else if (len > 0 && (fwrite(out, 1, len, stdout) != len || fputc('\n', stdout) == EOF)) {
            if (errno != EPIPE) {
                cli_err(CMD, "writing standard output failed: %s", strerror(errno));
                exit_code = CLI_EXIT_INPUT;
            }
        }
    }
done:
    rl_jw_release(&w);
    free(logs);
    return exit_code;
}
