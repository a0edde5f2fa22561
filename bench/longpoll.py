#!/usr/bin/env python3
"""longpoll.py BASE SECRET N CTL CONF: the wake latency of GET
/api/v1/events?wait= (bench/events.sh).  N times: a long-poll past the
feed's end is sent and given 20 ms to be suspended, then an unsubscribe
is committed, through the API (POST /api/v1/unsubscribe, timed from its
answer: the commit is synced) or by another process (unsubctl add CTL -c
CONF, timed from its exit); the figure is the time from then until the
long-poll's answer is in (0 when it came first).  Prints p50 and p99 of
each in ms."""
import json
import subprocess
import sys
import threading
import time
import urllib.request

BASE, SECRET, N, CTL, CONF = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    sys.argv[4], sys.argv[5]
HDR = {"Authorization": "Bearer " + SECRET}


def call(path, body=None):
    req = urllib.request.Request(BASE + path, headers=dict(HDR))
    if body is not None:
        req.data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def rounds(commit):
    nxt = call("/api/v1/events?limit=1000")["next"]
    while True:
        page = call(f"/api/v1/events?after={nxt}&limit=1000")
        if not page["events"]:
            break
        nxt = page["next"]
    lat = []
    for i in range(N):
        got = {}

        def poll():
            r = call(f"/api/v1/events?after={nxt}&wait=10")
            got["t"] = time.monotonic()
            got["r"] = r
        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.02)
        commit(i)
        done = time.monotonic()
        t.join(15)
        assert got["r"]["events"], "long-poll answered without the event"
        nxt = got["r"]["next"]
        lat.append(max(0.0, got["t"] - done) * 1000)
    lat.sort()
    return lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]


def api_commit(i):
    call("/api/v1/unsubscribe", {"address": f"lp{i}@bench.example",
                                 "list": "news"})


def ctl_commit(i):
    subprocess.run([CTL, "-c", CONF, "add", f"lq{i}@bench.example",
                    "--list", "news"], check=True, stdout=subprocess.DEVNULL)


a50, a99 = rounds(api_commit)
c50, c99 = rounds(ctl_commit)
print(f"events long-poll wake: p50 {a50:.1f} ms, p99 {a99:.1f} ms after an "
      f"API commit; p50 {c50:.1f} ms, p99 {c99:.1f} ms after unsubctl's "
      f"(n={N} each; goal p99 <= 50 ms)")
