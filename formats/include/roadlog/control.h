/* The control socket shared by `roadlog record`, `roadlog replay` and the
 * viewer: a Unix-domain stream socket (mode 0600, in a 0700 directory of
 * the user's runtime directory) taking one command per line and answering
 * one line per command. docs/control.md is the protocol's reference:
 *
 *   mark LABEL [NOTE...]   a marker (recorder: stored on /roadlog/markers)
 *   pause | resume | toggle
 *   step [N]               N frames forward (default 1; negative: back)
 *   seek TIME              TIME as on the command line (12.5, 1m30s, @label)
 *   rate X                 playback rate (0 < X <= 1000)
 *   ack [N]                lockstep acknowledgement of frame N
 *   status                 a JSON object describing the process
 *   quit                   stop cleanly
 * Replies: "ok[ JSON]\n" or "error MESSAGE\n".
 *
 * The server is poll-driven and never blocks: the owner calls
 * rl_ctl_server_poll() from its loop. No threads, no globals. */
#ifndef ROADLOG_CONTROL_H
#define ROADLOG_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/error.h"

#define RL_CTL_MAX_LINE    4096
#define RL_CTL_MAX_LABEL   128
#define RL_CTL_MAX_NOTE    1024
#define RL_CTL_MAX_CLIENTS 16

enum rl_ctl_op {
    RL_CTL_MARK = 1,
    RL_CTL_PAUSE,
    RL_CTL_RESUME,
    RL_CTL_TOGGLE,
    RL_CTL_STEP,
    RL_CTL_SEEK,
    RL_CTL_RATE,
    RL_CTL_ACK,
    RL_CTL_STATUS,
    RL_CTL_QUIT,
};

struct rl_ctl_cmd {
    enum rl_ctl_op op;
    char label[RL_CTL_MAX_LABEL]; /* mark */
    char note[RL_CTL_MAX_NOTE];   /* mark */
    char time[64];                /* seek: the TIME text, parsed by the caller */
    double rate;                  /* rate */
    int64_t count;                /* step (default 1), ack (default -1: any) */
    int client;                   /* who asked: pass to rl_ctl_server_reply() */
};

/* Parses one command line (without the newline). Returns 0, or -EINVAL
 * with the reason in err ("unknown command 'foo'"). */
int rl_ctl_parse(const char *line, size_t len, struct rl_ctl_cmd *out, char *err,
                 size_t err_len) RL_WARN_UNUSED;

/* The default socket path of a role ("record", "replay", "view"):
 * $XDG_RUNTIME_DIR/roadlog/ROLE.sock, or /tmp/roadlog-UID/ROLE.sock when
 * XDG_RUNTIME_DIR is unset. Creates the directory (0700) when create is
 * true. Returns 0 or -errno / -ENAMETOOLONG. */
int rl_ctl_default_path(const char *role, bool create, char *buf, size_t len) RL_WARN_UNUSED;

struct rl_ctl_server;

/* Listens on path (non-blocking, mode 0600). A stale socket file (nobody
 * listening) is replaced; a live one is -EADDRINUSE. */
int rl_ctl_server_open(struct rl_ctl_server **out, const char *path) RL_WARN_UNUSED;
/* Waits up to timeout_ms (0: do not wait, -1: forever) for a command.
 * Returns 1 with *cmd filled, 0 when none arrived, <0 on error. Malformed
 * lines are answered "error ..." by the server itself. */
int rl_ctl_server_poll(struct rl_ctl_server *s, int timeout_ms,
                       struct rl_ctl_cmd *cmd) RL_WARN_UNUSED;
/* Sends one reply line (a newline is added) to the client of a command. */
int rl_ctl_server_reply(struct rl_ctl_server *s, int client, const char *line);
/* Closes every connection and removes the socket file. NULL is fine. */
void rl_ctl_server_close(struct rl_ctl_server *s);

/* Client: connects to path, sends line, and reads one reply line into
 * reply (without the newline), waiting at most timeout_ms. Returns 0 when
 * the reply starts with "ok", 1 when it starts with "error", or -errno
 * (-ENOENT / -ECONNREFUSED: nobody listening; -ETIMEDOUT). */
int rl_ctl_request(const char *path, const char *line, char *reply, size_t reply_len,
                   int timeout_ms) RL_WARN_UNUSED;

#endif
