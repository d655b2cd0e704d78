"""Checks of recorded logs for the recorder tests (tests/cli/record_*.sh).

    record_check.py ROADLOG seq LOG TOPIC N [--offset K]
        the messages of TOPIC carry the sender's sequence numbers 0..N-1
        (little-endian u64 at byte K of the frame: 0 for udp: payloads, 42
        for Ethernet/IPv4/UDP frames), each exactly once and in order, and
        their MCAP sequence numbers count from 0 without gaps; --velodyne
        reads the number rl_udpsend --velodyne puts in a VLP-16 packet
    record_check.py ROADLOG account LOG TOPIC SENT [--offset K]
        overload: frames in the log + kernel drops + ring drops (the last
        /roadlog/health message) == SENT exactly; no frame twice; the MCAP
        sequence gaps add up to the ring drops
    record_check.py ROADLOG health LOG TOPIC
        prints the last health entry of TOPIC as JSON
    record_check.py ROADLOG count LOG TOPIC
        prints how many messages TOPIC has
    record_check.py ROADLOG meta LOG TOPIC
        prints the channel metadata of TOPIC (the first Channel record) as JSON
Exit 0 when the check holds, 1 with a message otherwise."""
import base64
import json
import struct
import subprocess
import sys


def messages(roadlog, log, topic):
    out = subprocess.run([roadlog, "cat", "--json", log], check=True, capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        m = json.loads(line)
        if m["topic"] == topic:
            yield m


def last_health(roadlog, log, topic):
    last = None
    for m in messages(roadlog, log, "/roadlog/health"):
        last = json.loads(base64.b64decode(m["data_b64"]))
    if last is None:
        sys.exit("no /roadlog/health message in %s" % log)
    for s in last["sources"]:
        if s["topic"] == topic:
            return s
    sys.exit("no health entry for %s in %s" % (topic, log))


VELODYNE = False


def channel_meta(log, topic):
    d = open(log, "rb").read()
    pos = 8

    def s(p):
        n = struct.unpack_from("<I", d, p)[0]
        return d[p + 4:p + 4 + n].decode(), p + 4 + n

    while pos + 9 <= len(d):
        op, n = d[pos], struct.unpack_from("<Q", d, pos + 1)[0]
        if op == 4:  # Channel
            p = pos + 9 + 4
            t, p = s(p)
            _, p = s(p)
            end = p + 4 + struct.unpack_from("<I", d, p)[0]
            p += 4
            kv = {}
            while p < end:
                k, p = s(p)
                v, p = s(p)
                kv[k] = v
            if t == topic:
                return kv
        pos += 9 + n
    sys.exit("no channel %s in %s" % (topic, log))


def payload_seq(m, offset):
    data = base64.b64decode(m["data_b64"])
    if VELODYNE:
        lo, hi = struct.unpack_from("<H", data, offset + 4)[0], struct.unpack_from("<H", data, offset + 7)[0]
        return lo | hi << 16
    return struct.unpack_from("<Q", data, offset)[0]


def main():
    global VELODYNE
    roadlog, cmd, log, topic = sys.argv[1:5]
    rest = sys.argv[5:]
    if "--velodyne" in rest:
        rest.remove("--velodyne")
        VELODYNE = True
    offset = 0
    if "--offset" in rest:
        i = rest.index("--offset")
        offset = int(rest[i + 1])
        del rest[i:i + 2]
    if cmd == "count":
        print(sum(1 for _ in messages(roadlog, log, topic)))
        return
    if cmd == "meta":
        print(json.dumps(channel_meta(log, topic), sort_keys=True))
        return
    if cmd == "health":
        print(json.dumps(last_health(roadlog, log, topic)))
        return
    if cmd == "seq":
        n = int(rest[0])
        got = [(m["sequence"], payload_seq(m, offset)) for m in messages(roadlog, log, topic)]
        if len(got) != n:
            sys.exit("%s: %d messages on %s, expected %d" % (log, len(got), topic, n))
        for i, (mseq, pseq) in enumerate(got):
            if mseq != i or pseq != i:
                sys.exit("%s: message %d has sequence %d and payload %d" % (log, i, mseq, pseq))
        print("%d frames, sequences 0..%d in order" % (n, n - 1))
        return
    if cmd == "account":
        sent = int(rest[0])
        h = last_health(roadlog, log, topic)
        seen = set()
        gaps = 0
        prev = -1
        n = 0
        for m in messages(roadlog, log, topic):
            p = payload_seq(m, offset)
            if p in seen:
                sys.exit("frame %d recorded twice" % p)
            if p >= sent:
                sys.exit("frame %d was never sent" % p)
            seen.add(p)
            if m["sequence"] <= prev:
                sys.exit("sequence numbers go back at %d" % m["sequence"])
            gaps += m["sequence"] - prev - 1
            prev = m["sequence"]
            n += 1
        gaps_tail = h["frames"] + h["ring_drops"] - (prev + 1)
        total = n + h["kernel_drops"] + h["ring_drops"]
        print("sent %d: recorded %d + kernel drops %d + ring drops %d = %d"
              % (sent, n, h["kernel_drops"], h["ring_drops"], total))
        if n != h["frames"]:
            sys.exit("health says %d frames, the log holds %d" % (h["frames"], n))
        if total != sent:
            sys.exit("%d frames unaccounted for" % (sent - total))
        if gaps + gaps_tail != h["ring_drops"]:
            sys.exit("sequence gaps %d != ring drops %d" % (gaps + gaps_tail, h["ring_drops"]))
        return
    sys.exit("unknown check " + cmd)


main()
