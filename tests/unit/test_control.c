/* Control socket: command parsing (table-driven) and a real server/client
 * exchange over a Unix socket in a private temporary directory. Waits are
 * bounded by deadlines; nothing sleeps. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "roadlog/control.h"

struct parse_case {
    const char *line;
    int rc;
    enum rl_ctl_op op;
    const char *label, *note, *time;
    double rate;
    int64_t count;
};

static const struct parse_case cases[] = {
    {"mark takeover-3", 0, RL_CTL_MARK, "takeover-3", "", "", 0, 0},
    {"mark hard-brake pedestrian stepped out  ", 0, RL_CTL_MARK, "hard-brake",
     "pedestrian stepped out", "", 0, 0},
    {"  pause", 0, RL_CTL_PAUSE, "", "", "", 0, 0},
    {"resume\r", 0, RL_CTL_RESUME, "", "", "", 0, 0},
    {"toggle", 0, RL_CTL_TOGGLE, "", "", "", 0, 0},
    {"step", 0, RL_CTL_STEP, "", "", "", 0, 1},
    {"step -5", 0, RL_CTL_STEP, "", "", "", 0, -5},
    {"ack", 0, RL_CTL_ACK, "", "", "", 0, -1},
    {"ack 42", 0, RL_CTL_ACK, "", "", "", 0, 42},
    {"seek 1m30s", 0, RL_CTL_SEEK, "", "", "1m30s", 0, 0},
    {"seek @takeover-3", 0, RL_CTL_SEEK, "", "", "@takeover-3", 0, 0},
    {"rate 2.5", 0, RL_CTL_RATE, "", "", "", 2.5, 0},
    {"status", 0, RL_CTL_STATUS, "", "", "", 0, 0},
    {"quit", 0, RL_CTL_QUIT, "", "", "", 0, 0},
    {"mark", -22, 0, NULL, NULL, NULL, 0, 0},
    {"rate 0", -22, 0, NULL, NULL, NULL, 0, 0},
    {"rate fast", -22, 0, NULL, NULL, NULL, 0, 0},
    {"rate 1e9", -22, 0, NULL, NULL, NULL, 0, 0},
    {"step 2x", -22, 0, NULL, NULL, NULL, 0, 0},
    {"pause now", -22, 0, NULL, NULL, NULL, 0, 0},
    {"seek", -22, 0, NULL, NULL, NULL, 0, 0},
    {"seek 1 2", -22, 0, NULL, NULL, NULL, 0, 0},
    {"launch", -22, 0, NULL, NULL, NULL, 0, 0},
    {"", -22, 0, NULL, NULL, NULL, 0, 0},
    {"mark a\x01b", -22, 0, NULL, NULL, NULL, 0, 0},
};

static void test_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct parse_case *c = &cases[i];
        struct rl_ctl_cmd cmd;
        char err[160] = "";
        int rc = rl_ctl_parse(c->line, strlen(c->line), &cmd, err, sizeof(err));
        if (rc != c->rc)
            fail_msg("'%s': rc %d, want %d (%s)", c->line, rc, c->rc, err);
        if (rc < 0) {
            assert_true(err[0] != '\0');
            continue;
        }
        assert_int_equal(cmd.op, c->op);
        assert_string_equal(cmd.label, c->label);
        assert_string_equal(cmd.note, c->note);
        assert_string_equal(cmd.time, c->time);
        if (c->op == RL_CTL_RATE)
            assert_true(cmd.rate == c->rate);
        if (c->op == RL_CTL_STEP || c->op == RL_CTL_ACK)
            assert_int_equal(cmd.count, c->count);
    }
    /* Too long a label is refused, not cut. */
    char line[400] = "mark ";
    memset(line + 5, 'x', 300);
    struct rl_ctl_cmd cmd;
    char err[160];
    assert_int_equal(rl_ctl_parse(line, strlen(line), &cmd, err, sizeof(err)), -22);
}

static void test_server_client(void **state)
{
    (void)state;
    char dir[] = "/tmp/rl-ctl-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/test.sock", dir);
    struct rl_ctl_server *s;
    assert_int_equal(rl_ctl_server_open(&s, path), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* A second server on the same live socket is refused. */
    struct rl_ctl_server *s2;
    assert_int_equal(rl_ctl_server_open(&s2, path), -EADDRINUSE);

    /* The client runs in a child; the parent serves until both requests
     * are answered (each poll waits at most 5 s: a deadline, not a sleep). */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char reply[256];
        int a =
            rl_ctl_request(path, "mark takeover-3 driver took over", reply, sizeof(reply), 5000);
        int ok1 = a == 0 && strcmp(reply, "ok {\"label\":\"takeover-3\"}") == 0;
        int b = rl_ctl_request(path, "bogus", reply, sizeof(reply), 5000);
        int ok2 = b == 1 && strncmp(reply, "error unknown command", 21) == 0;
        _exit(ok1 && ok2 ? 0 : 1);
    }
    /* The refused second server's probe ("status") is queued first. */
    struct rl_ctl_cmd cmd;
    bool marked = false;
    for (int i = 0; i < 10 && !marked; i++) {
        int rc = rl_ctl_server_poll(s, 5000, &cmd);
        assert_true(rc >= 0);
        if (rc == 1 && cmd.op == RL_CTL_STATUS)
            (void)rl_ctl_server_reply(s, cmd.client, "ok {}");
        marked = rc == 1 && cmd.op == RL_CTL_MARK;
    }
    assert_true(marked);
    assert_int_equal(cmd.op, RL_CTL_MARK);
    assert_string_equal(cmd.label, "takeover-3");
    assert_string_equal(cmd.note, "driver took over");
    assert_int_equal(rl_ctl_server_reply(s, cmd.client, "ok {\"label\":\"takeover-3\"}"), 0);
    /* The bad command is answered by the server itself; keep polling
     * until the child has exited. */
    int status = 0;
    for (int i = 0; i < 50; i++) {
        int rc = rl_ctl_server_poll(s, 100, &cmd);
        assert_true(rc >= 0);
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    rl_ctl_server_close(s);
    assert_int_equal(access(path, F_OK), -1);

    /* Nobody listening: a clear error, no hang. */
    char reply[64];
    assert_true(rl_ctl_request(path, "status", reply, sizeof(reply), 1000) < 0);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_server_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
