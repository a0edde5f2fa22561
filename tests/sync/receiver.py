#!/usr/bin/env python3
"""A webhook receiver for tests/sync/t-webhook.sh and the bench.

receiver.py PORTFILE SECRETFILE LOG MODEFILE: listens on 127.0.0.1 (an
ephemeral port, written to PORTFILE, or the one PORTFILE already holds),
verifies each POST's X-Unsub-Signature as a real receiver would (see
unsub-sync(8)), and appends one line a request to LOG:
  ok ID        answered 204 (signature good, mode "ok")
  refused ID   answered 500 or 404 (mode "500" or "404")
  badsig ID    the signature did not verify: answered 401
  hang ID      mode "hang": no answer for 60 s
MODEFILE holds the mode, read at every request ("wrongsecret": verify
with another secret, which must fail; "slow": answer after 20 ms)."""
import hashlib
import hmac
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORTFILE, SECRETFILE, LOG, MODEFILE = sys.argv[1:5]
with open(SECRETFILE, "rb") as f:
    SECRET = f.readline().rstrip(b"\r\n")


def verify(secret, headers, body):
    """The check a receiver makes: HMAC-SHA256(secret, ts "." body)."""
    ts = headers.get("X-Unsub-Timestamp", "")
    sig = headers.get("X-Unsub-Signature", "")
    want = "sha256=" + hmac.new(secret, ts.encode() + b"." + body,
                                hashlib.sha256).hexdigest()
    fresh = ts.isdigit() and abs(time.time() - int(ts)) < 300
    return fresh and hmac.compare_digest(want, sig)


class Hook(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, as unsub-sync uses it

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        eid = self.headers.get("X-Unsub-Event-Id", "?")
        try:
            with open(MODEFILE) as f:
                mode = f.read().strip() or "ok"
        except OSError:
            mode = "ok"
        secret = SECRET + b"x" if mode == "wrongsecret" else SECRET
        if not verify(secret, self.headers, body):
            self.record("badsig", eid)
            return self.answer(401)
        if mode == "hang":
            self.record("hang", eid)
            time.sleep(60)
            return
        if mode in ("500", "404"):
            self.record("refused", eid)
            return self.answer(int(mode))
        if mode == "slow":
            time.sleep(0.02)
        self.record("ok", eid)
        self.answer(204)

    def record(self, what, eid):
        with open(LOG, "a") as f:
            f.write(f"{what} {eid}\n")

    def answer(self, code):
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


port = 0
if os.path.exists(PORTFILE):
    with open(PORTFILE) as f:
        port = int(f.read())
srv = ThreadingHTTPServer(("127.0.0.1", port), Hook)
srv.daemon_threads = True
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
