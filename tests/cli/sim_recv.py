#!/usr/bin/env python3
"""UDP receiver for tests/cli/sim.sh: counts the datagrams and bytes that
`roadlog sim` sends to 127.0.0.1, per port.

It binds every port in --ports shifted by one offset it picks at random
(retrying until all of them are free), writes that offset to --ready, and
then counts until --done exists and the sockets have been quiet for a
moment (everything sent has been read), or until --timeout passes. The
counts go to --counts as JSON: {"offset": N, "ports": {"PORT": {"frames",
"bytes"}}, "timed_out": bool}. --ready and --first (written when the first
datagram arrives) may be FIFOs: each gets one line. Waits are select() timeouts on the sockets, bounded by the
deadline; nothing sleeps for a fixed time.
"""
import argparse
import json
import os
import random
import select
import socket
import sys
import time

OFFSET_MIN, OFFSET_MAX = 20000, 40000
BIND_ATTEMPTS = 200
RCVBUF_BYTES = 16 << 20
QUIET_S = 0.3


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def announce(path, text):
    """Writes one line to path, which may be a FIFO the test reads from."""
    with open(path, "w") as f:
        f.write(text + "\n")


def bind_all(ports):
    for _ in range(BIND_ATTEMPTS):
        off = random.randrange(OFFSET_MIN, OFFSET_MAX)
        if max(ports) + off > 65535:
            continue
        socks = {}
        try:
            for p in ports:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF_BYTES)
                s.bind(("127.0.0.1", p + off))
                s.setblocking(False)
                socks[s] = p + off
            return off, socks
        except OSError:
            for s in socks:
                s.close()
    sys.exit("sim_recv: no free set of ports")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ports", required=True, help="comma-separated base ports")
    ap.add_argument("--ready", required=True)
    ap.add_argument("--done", required=True)
    ap.add_argument("--counts", required=True)
    ap.add_argument("--first")
    ap.add_argument("--timeout", type=float, default=60.0)
    a = ap.parse_args()
    ports = [int(p) for p in a.ports.split(",")]
    off, socks = bind_all(ports)
    counts = {p: [0, 0] for p in socks.values()}
    announce(a.ready, str(off))
    deadline = time.monotonic() + a.timeout
    quiet_since = None
    timed_out = False
    first = False
    while True:
        now = time.monotonic()
        if now >= deadline:
            timed_out = True
            break
        r, _, _ = select.select(list(socks), [], [], min(QUIET_S, deadline - now))
        if not r:
            if os.path.exists(a.done):
                if quiet_since is None:
                    quiet_since = now
                elif now - quiet_since >= QUIET_S:
                    break
            continue
        quiet_since = None
        for s in r:
            while True:
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    break
                c = counts[socks[s]]
                c[0] += 1
                c[1] += len(data)
        if a.first and not first:
            announce(a.first, "first")
            first = True
    out = {"offset": off, "timed_out": timed_out,
           "ports": {str(p): {"frames": c[0], "bytes": c[1]} for p, c in counts.items()}}
    write_atomic(a.counts, json.dumps(out))
    return 1 if timed_out else 0


if __name__ == "__main__":
    sys.exit(main())
