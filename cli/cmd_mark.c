/* `roadlog mark LABEL [NOTE...]` (cli.md): sets a marker in the running
 * recorder (or player, or viewer) through its control socket (control.h,
 * docs/control.md), stored on /roadlog/markers as {"label","note","by"}. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "roadlog/control.h"

#define CMD        "mark"
#define TIMEOUT_MS 5000

enum { OPT_CONTROL = CLI_OPT_LOCAL };

static const char help_text[] =
    "usage: roadlog mark [--control PATH] LABEL [NOTE...]\n"
    "\n"
    "Set a marker in the running 'roadlog record': it is stored in the log on\n"
    "/roadlog/markers at the current time, and 'cut --around @LABEL', '--start\n"
    "@LABEL' and 'info' find it. LABEL has no spaces (at most 127 bytes); the NOTE\n"
    "words are joined with spaces.\n"
    "\n"
    "  --control PATH  the recorder's control socket (default\n"
    "                  $XDG_RUNTIME_DIR/roadlog/record.sock, or\n"
    "                  /tmp/roadlog-UID/record.sock)\n"
    "  -h, --help      show this help\n"
    "\n"
    "Exit codes: 0 marker set, 1 usage error, 2 no recorder listening or it\n"
    "refused the marker.\n";

static const struct cli_opt options[] = {
    {"help", 'h', false, CLI_OPT_HELP},
    {"control", 0, true, OPT_CONTROL},
    {NULL, 0, false, 0},
};

static bool bad_char(const char *s, bool allow_space)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f || (!allow_space && *s == ' '))
            return true;
    return false;
}

int cmd_mark(int argc, char **argv)
{
    const char *pos[256];
    const char **posp = argc < 256 ? pos : NULL;
    if (!posp)
        return cli_usage_err(CMD, "too many arguments");
    struct cli_parser p;
    cli_parser_init(&p, CMD, argc, argv, posp);
    const char *control = NULL, *val, *flag;
    int id, r;
    while ((r = cli_parser_next(&p, options, &id, &val, &flag)) == 1) {
        if (id == CLI_OPT_HELP)
            return cli_help(help_text);
        if (id == OPT_CONTROL)
            control = val;
    }
    if (r < 0)
        return CLI_EXIT_USAGE;
    if (p.n_pos < 1)
        return cli_usage_err(CMD, "give a LABEL");
    const char *label = pos[0];
    if (!label[0] || strlen(label) >= RL_CTL_MAX_LABEL || bad_char(label, false))
        return cli_usage_err(CMD, "bad label '%s' (no spaces, at most %d bytes)", label,
                             RL_CTL_MAX_LABEL - 1);
    char line[RL_CTL_MAX_LINE];
    size_t n = (size_t)snprintf(line, sizeof(line), "mark %s", label);
    size_t note = 0;
    for (int i = 1; i < p.n_pos; i++) {
        if (bad_char(pos[i], true))
            return cli_usage_err(CMD, "the note may not hold control characters");
        size_t k = strlen(pos[i]);
        note += k + (i > 1);
        if (note >= RL_CTL_MAX_NOTE || n + k + 2 >= sizeof(line))
            return cli_usage_err(CMD, "note too long (at most %d bytes)", RL_CTL_MAX_NOTE - 1);
        line[n++] = ' ';
        memcpy(line + n, pos[i], k + 1);
        n += k;
    }
    char path[4096];
    int rc;
    if (control) {
        snprintf(path, sizeof(path), "%s", control);
    } else if ((rc = rl_ctl_default_path("record", false, path, sizeof(path))) < 0) {
        cli_err(CMD, "no control socket path: %s", strerror(-rc));
        return CLI_EXIT_INPUT;
    }
    char reply[RL_CTL_MAX_LINE];
    rc = rl_ctl_request(path, line, reply, sizeof(reply), TIMEOUT_MS);
    if (rc == 0)
        return CLI_EXIT_OK;
    if (rc == 1) {
        const char *why = strncmp(reply, "error", 5) == 0 ? reply + 5 : reply;
        while (*why == ' ')
            why++;
        cli_err(CMD, "the recorder refused the marker: %s", why);
        return CLI_EXIT_INPUT;
    }
    if (rc == -ENOENT || rc == -ECONNREFUSED)
        cli_err(CMD,
                "no recorder is listening on '%s' (is 'roadlog record' running? "
                "--control PATH)",
                path);
    else
        cli_err(CMD, "cannot reach '%s': %s", path, strerror(-rc));
    return CLI_EXIT_INPUT;
}
