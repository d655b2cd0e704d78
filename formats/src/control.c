/* The control socket of control.h: command-line parsing, the poll-driven
 * Unix-domain server, and the one-shot client used by `roadlog mark`.
 *
 * Server state: one listening socket plus up to RL_CTL_MAX_CLIENTS
 * connections, each with a line buffer. A connection's bytes are split at
 * newlines; a line longer than RL_CTL_MAX_LINE closes that connection. At
 * most one parsed command is handed out per poll call; the rest stay
 * buffered for the next call. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "roadlog/control.h"

/* ---- parsing ---- */

static const char *skip_spaces(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static const char *word_end(const char *p, const char *end)
{
    while (p < end && *p != ' ' && *p != '\t')
        p++;
    return p;
}

static bool word_is(const char *p, const char *e, const char *w)
{
    size_t n = strlen(w);
    return (size_t)(e - p) == n && memcmp(p, w, n) == 0;
}

static int copy_text(char *dst, size_t cap, const char *p, const char *e)
{
    size_t n = (size_t)(e - p);
    if (n >= cap)
        return -EINVAL;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return 0;
}

int rl_ctl_parse(const char *line, size_t len, struct rl_ctl_cmd *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    const char *end = line + len;
    while (end > line && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    const char *p = skip_spaces(line, end);
    const char *w = word_end(p, end);
    const char *a = skip_spaces(w, end); /* argument text */
    const char *ae = word_end(a, end);
    bool has_arg = a < end;
    char num[64];

    for (const char *q = p; q < end; q++)
        if ((unsigned char)*q < 0x20 && *q != '\t') {
            snprintf(err, err_len, "control characters in command");
            return -EINVAL;
        }
    if (word_is(p, w, "mark")) {
        out->op = RL_CTL_MARK;
        if (!has_arg) {
            snprintf(err, err_len, "mark needs a LABEL");
            return -EINVAL;
        }
        if (copy_text(out->label, sizeof(out->label), a, ae) < 0) {
            snprintf(err, err_len, "label longer than %d bytes", RL_CTL_MAX_LABEL - 1);
            return -EINVAL;
        }
        const char *n = skip_spaces(ae, end);
        if (copy_text(out->note, sizeof(out->note), n, end) < 0) {
            snprintf(err, err_len, "note longer than %d bytes", RL_CTL_MAX_NOTE - 1);
            return -EINVAL;
        }
        return 0;
    }
    static const struct {
        const char *name;
        enum rl_ctl_op op;
    } simple[] = {{"pause", RL_CTL_PAUSE},
                  {"resume", RL_CTL_RESUME},
                  {"toggle", RL_CTL_TOGGLE},
                  {"status", RL_CTL_STATUS},
                  {"quit", RL_CTL_QUIT}};
    for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
        if (word_is(p, w, simple[i].name)) {
            out->op = simple[i].op;
            if (has_arg) {
                snprintf(err, err_len, "%s takes no argument", simple[i].name);
                return -EINVAL;
            }
            return 0;
        }
    if (word_is(p, w, "step") || word_is(p, w, "ack")) {
        bool step = word_is(p, w, "step");
        out->op = step ? RL_CTL_STEP : RL_CTL_ACK;
        out->count = step ? 1 : -1;
        if (!has_arg)
            return 0;
        if (copy_text(num, sizeof(num), a, ae) < 0 || ae != end)
            goto bad_number;
        char *ep;
        errno = 0;
        long long v = strtoll(num, &ep, 10);
        if (errno || *ep || ep == num)
            goto bad_number;
        out->count = v;
        return 0;
    }
    if (word_is(p, w, "rate")) {
        out->op = RL_CTL_RATE;
        if (!has_arg || copy_text(num, sizeof(num), a, ae) < 0 || ae != end)
            goto bad_number;
        char *ep;
        errno = 0;
        double v = strtod(num, &ep);
        if (errno || *ep || ep == num || !(v > 0.0 && v <= 1000.0)) {
            snprintf(err, err_len, "rate must be a number in (0, 1000]");
            return -EINVAL;
        }
        out->rate = v;
        return 0;
    }
    if (word_is(p, w, "seek")) {
        out->op = RL_CTL_SEEK;
        if (!has_arg || ae != end || copy_text(out->time, sizeof(out->time), a, ae) < 0) {
            snprintf(err, err_len, "seek needs one TIME");
            return -EINVAL;
        }
        return 0;
    }
    snprintf(err, err_len, "unknown command '%.*s'", (int)(w - p > 32 ? 32 : w - p), p);
    return -EINVAL;
bad_number:
    snprintf(err, err_len, "%.*s needs a whole number", (int)(w - p), p);
    return -EINVAL;
}

int rl_ctl_default_path(const char *role, bool create, char *buf, size_t len)
{
    const char *rt = getenv("XDG_RUNTIME_DIR");
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int n;
    if (rt && *rt == '/')
        n = snprintf(dir, sizeof(dir), "%s/roadlog", rt);
    else
        n = snprintf(dir, sizeof(dir), "/tmp/roadlog-%u", (unsigned)getuid());
    if (n < 0 || (size_t)n >= sizeof(dir))
        return -ENAMETOOLONG;
    if (create && mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -errno;
    if (create) {
        /* A directory someone else made is not ours to use. */
        struct stat st;
        if (lstat(dir, &st) != 0)
            return -errno;
        if (!S_ISDIR(st.st_mode) || st.st_uid != getuid())
            return -EPERM;
    }
    n = snprintf(buf, len, "%s/%s.sock", dir, role);
    if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof(dir))
        return -ENAMETOOLONG;
    return 0;
}

/* ---- server ---- */

struct conn {
    int fd;
    size_t len;
    char buf[RL_CTL_MAX_LINE + 1];
};

struct rl_ctl_server {
    int lfd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct conn conns[RL_CTL_MAX_CLIENTS];
};

static int make_addr(const char *path, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa->sun_path))
        return -ENAMETOOLONG;
    strcpy(sa->sun_path, path);
    return 0;
}

int rl_ctl_server_open(struct rl_ctl_server **out, const char *path)
{
    *out = NULL;
    struct sockaddr_un sa;
    int rc = make_addr(path, &sa);
    if (rc < 0)
        return rc;
    struct rl_ctl_server *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    for (int i = 0; i < RL_CTL_MAX_CLIENTS; i++)
        s->conns[i].fd = -1;
    snprintf(s->path, sizeof(s->path), "%s", path);
    s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->lfd < 0) {
        rc = -errno;
        goto fail;
    }
    /* A socket file nobody answers on is left over from a crash. */
    char reply[8];
    int probe = rl_ctl_request(path, "status", reply, sizeof(reply), 200);
    if (probe == 0 || probe == 1) {
        rc = -EADDRINUSE;
        goto fail;
    }
    if (probe == -ECONNREFUSED)
        (void)unlink(path);
    mode_t old = umask(0177);
    rc = bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
    umask(old);
    if (rc < 0)
        goto fail;
    if (chmod(path, 0600) != 0 || listen(s->lfd, 8) != 0) {
        rc = -errno;
        (void)unlink(path);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    if (s->lfd >= 0)
        close(s->lfd);
    free(s);
    return rc;
}

static void drop(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->len = 0;
}

int rl_ctl_server_reply(struct rl_ctl_server *s, int client, const char *line)
{
    if (client < 0 || client >= RL_CTL_MAX_CLIENTS || s->conns[client].fd < 0)
        return -EBADF;
    struct conn *c = &s->conns[client];
    size_t n = strlen(line);
    char *msg = malloc(n + 1);
    if (!msg)
        return -ENOMEM;
    memcpy(msg, line, n);
    msg[n] = '\n';
    /* Replies are short; a client that does not read them is dropped
     * rather than allowed to block the owner's loop. */
    ssize_t w = send(c->fd, msg, n + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    free(msg);
    if (w != (ssize_t)(n + 1)) {
        drop(c);
        return -EPIPE;
    }
    return 0;
}

/* Takes the first complete line out of c, if any. Returns 1 with a
 * command, 0 when there is none yet. */
static int take_line(struct rl_ctl_server *s, int idx, struct rl_ctl_cmd *cmd)
{
    struct conn *c = &s->conns[idx];
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (!nl)
            return 0;
        size_t n = (size_t)(nl - c->buf);
        char err[160];
        int rc = rl_ctl_parse(c->buf, n, cmd, err, sizeof(err));
        memmove(c->buf, nl + 1, c->len - n - 1);
        c->len -= n + 1;
        if (rc == 0) {
            cmd->client = idx;
            return 1;
        }
        char reply[200];
        snprintf(reply, sizeof(reply), "error %s", err);
        (void)rl_ctl_server_reply(s, idx, reply);
        if (c->fd < 0)
            return 0;
    }
}

int rl_ctl_server_poll(struct rl_ctl_server *s, int timeout_ms, struct rl_ctl_cmd *cmd)
{
    for (int i = 0; i < RL_CTL_MAX_CLIENTS; i++)
        if (s->conns[i].fd >= 0 && take_line(s, i, cmd) == 1)
            return 1;
    struct pollfd pf[RL_CTL_MAX_CLIENTS + 1];
    int map[RL_CTL_MAX_CLIENTS + 1];
    nfds_t n = 0;
    pf[n].fd = s->lfd;
    pf[n].events = POLLIN;
    map[n++] = -1;
    for (int i = 0; i < RL_CTL_MAX_CLIENTS; i++)
        if (s->conns[i].fd >= 0) {
            pf[n].fd = s->conns[i].fd;
            pf[n].events = POLLIN;
            map[n++] = i;
        }
    int r = poll(pf, n, timeout_ms);
    if (r < 0)
        return errno == EINTR ? 0 : -errno;
    if (r == 0)
        return 0;
    if (pf[0].revents & POLLIN) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd >= 0 &&
            (fcntl(fd, F_SETFL, O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)) {
            close(fd);
            fd = -1;
        }
        if (fd >= 0) {
            int slot = -1;
            for (int i = 0; i < RL_CTL_MAX_CLIENTS && slot < 0; i++)
                if (s->conns[i].fd < 0)
                    slot = i;
            if (slot < 0) {
                static const char busy[] = "error too many control connections\n";
                (void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                close(fd);
            } else {
                s->conns[slot].fd = fd;
                s->conns[slot].len = 0;
            }
        }
    }
    for (nfds_t k = 1; k < n; k++) {
        if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        struct conn *c = &s->conns[map[k]];
        ssize_t got = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
        if (got <= 0) {
            if (got == 0 || (errno != EAGAIN && errno != EINTR))
                drop(c);
            continue;
        }
        c->len += (size_t)got;
        if (c->len >= sizeof(c->buf) - 1 && !memchr(c->buf, '\n', c->len)) {
            (void)rl_ctl_server_reply(s, map[k], "error line too long");
            drop(c);
        }
    }
    for (int i = 0; i < RL_CTL_MAX_CLIENTS; i++)
        if (s->conns[i].fd >= 0 && take_line(s, i, cmd) == 1)
            return 1;
    return 0;
}

void rl_ctl_server_close(struct rl_ctl_server *s)
{
    if (!s)
        return;
    for (int i = 0; i < RL_CTL_MAX_CLIENTS; i++)
        drop(&s->conns[i]);
    close(s->lfd);
    (void)unlink(s->path);
    free(s);
}

/* ---- client ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rl_ctl_request(const char *path, const char *line, char *reply, size_t reply_len,
                   int timeout_ms)
{
    struct sockaddr_un sa;
    int rc = make_addr(path, &sa);
    if (rc < 0)
        return rc;
    if (reply_len)
        reply[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    char buf[RL_CTL_MAX_LINE + 2];
    size_t n = strlen(line);
    if (n > RL_CTL_MAX_LINE) {
        rc = -EMSGSIZE;
        goto done;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        rc = -errno;
        goto done;
    }
    memcpy(buf, line, n);
    buf[n] = '\n';
    if (send(fd, buf, n + 1, MSG_NOSIGNAL) != (ssize_t)(n + 1)) {
        rc = -errno;
        goto done;
    }
    size_t got = 0;
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            rc = -ETIMEDOUT;
            goto done;
        }
        struct pollfd pf = {fd, POLLIN, 0};
        int r = poll(&pf, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = r == 0 ? -ETIMEDOUT : -errno;
            goto done;
        }
        ssize_t k = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
        if (k <= 0) {
            rc = k == 0 ? -ECONNRESET : -errno;
            goto done;
        }
        got += (size_t)k;
        char *nl = memchr(buf, '\n', got);
        if (nl || got == sizeof(buf) - 1) {
            size_t ln = nl ? (size_t)(nl - buf) : got;
            if (reply_len)
                snprintf(reply, reply_len, "%.*s", (int)ln, buf);
            rc = ln >= 2 && memcmp(buf, "ok", 2) == 0 ? 0 : 1;
            goto done;
        }
    }
done:
    close(fd);
    return rc;
}
