"""rawhttp.py - hostile HTTP clients against unsub-httpd on loopback, for
tests/campaign/hostile.sh.  Usage: rawhttp.py PORT TOKEN.  Each input
goes on its own connection (pipelining on one); prints "tried N" and
"acked ADDRESS" for every one-click POST answered 200, so the caller can
check each acknowledged unsubscribe is in the store."""
import re
import socket
import sys
import threading
import time

PORT, TOKEN = int(sys.argv[1]), sys.argv[2]
tried = 0


def send(data, src="127.0.0.1", wait=5.0, half_close=True):
    """One connection: send data, read until close or timeout."""
    global tried
    tried += 1
    s = socket.socket()
    s.settimeout(wait)
    try:
        s.bind((src, 0))
        s.connect(("127.0.0.1", PORT))
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        out = b""
        while len(out) < 1 << 20:
            b = s.recv(65536)
            if not b:
                break
            out += b
        return out
    except OSError:
        return b""
    finally:
        s.close()


def req(method, path, headers=(), body=b"", version=b"HTTP/1.1"):
    h = b"".join(k + b": " + v + b"\r\n" for k, v in headers)
    return (method + b" " + path + b" " + version + b"\r\nHost: x\r\n" +
            b"Connection: close\r\n" + h + b"\r\n" + body)


tok = TOKEN.encode()
oc = b"List-Unsubscribe=One-Click"
ct = (b"Content-Type", b"application/x-www-form-urlencoded")
methods = [b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"TRACE",
           b"CONNECT", b"PATCH", b"PROPFIND", b"get", b"G\x00ET", b"GET\x7f",
           b"X" * 10000, b""]
paths = [b"/u/" + tok, b"/u/" + tok + b"/", b"/u/" + tok + b"%00",
         b"/u/" + tok + b"?a=b", b"/u/../u/" + tok, b"//u/" + tok, b"/u/",
         b"/u/%0d%0aSet-Cookie:x", b"/u/" + b"A" * 100000, b"*",
         b"http://evil/u/" + tok, b"/u/" + tok[:-1] + b"%",
         b"/healthz", b"/metrics", b"/u/\xff\xfe", b""]
for m in methods:
    for p in paths:
        body = oc if m == b"POST" else b""
        send(req(m, p, [ct, (b"Content-Length", b"%d" % len(body))], body))
# broken framing
for data in [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 500,  # TLS
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        b"GET /u/" + tok + b"\r\n",                                   # 0.9
        b"GET /u/" + tok + b" HTTP/9.9\r\n\r\n",
        b"\r\n" * 10000,
        b"\x00" * 100000,
        req(b"POST", b"/u/" + tok, [ct, (b"Content-Length", b"-1")], oc),
        req(b"POST", b"/u/" + tok, [ct, (b"Content-Length", b"99999999999999999999")], oc),
        req(b"POST", b"/u/" + tok, [ct, (b"Content-Length", b"5"), (b"Content-Length", b"26")], oc),
        req(b"POST", b"/u/" + tok, [ct, (b"Transfer-Encoding", b"chunked")], b"zz\r\n" + oc + b"\r\n0\r\n\r\n"),
        req(b"POST", b"/u/" + tok, [ct, (b"Transfer-Encoding", b"chunked")], b"ffffffffffffffff\r\n" + oc),
        req(b"POST", b"/u/" + tok, [ct, (b"Transfer-Encoding", b"chunked, identity")], b"1a\r\n" + oc + b"\r\n0\r\n\r\n"),
        req(b"POST", b"/u/" + tok, [(b"Content-Type", b"multipart/form-data; boundary=")], b"--\r\n" * 1000),
        req(b"POST", b"/u/" + tok, [(b"Content-Type", b"multipart/form-data; boundary=" + b"b" * 5000)], b"x"),
        req(b"POST", b"/u/" + tok, [ct], b"&" * 100000),
        req(b"POST", b"/u/" + tok, [ct], b"List-Unsubscribe=" + b"%" * 5000),
        req(b"POST", b"/u/" + tok, [ct], b"List-Unsubscribe=One-Click%00"),
        req(b"GET", b"/u/" + tok, [(b"X-Big", b"a" * 1000000)]),
        req(b"GET", b"/u/" + tok, [(b"X-%d" % i, b"v") for i in range(20000)]),
        req(b"GET", b"/u/" + tok, [(b"Accept-Language", b"sv;q=" + b"9" * 5000 + b"," * 5000)]),
        req(b"GET", b"/u/" + tok, [(b"Accept-Language", b"../../../../etc/passwd")]),
        req(b"GET", b"/u/" + tok, [(b"Cookie", b"a=" + b"b" * 100000)]),
        req(b"GET", b"/u/" + tok, [(b"Host", b"")] * 50),
        req(b"GET", b"/u/" + tok, [(b"Bad\x00Name", b"v\r\x00")]),
        req(b"GET", b"/u/" + tok, [(b"Folded", b"a\r\n b\r\n\tc")])]:
    send(data)
# pipelining: one-click POSTs for the tokens on stdin, all on one connection
toks = [l.split() for l in sys.stdin.read().splitlines() if l.strip()]
pipe = b"".join(req(b"POST", b"/u/" + t.encode(), [ct, (b"Content-Length", b"%d" % len(oc))], oc)
                for _, t in toks).replace(b"Connection: close\r\n", b"")
out = send(pipe + req(b"GET", b"/healthz"), wait=15, half_close=False)
codes = re.findall(rb"HTTP/1\.1 (\d{3}) ", out)
for (addr, _), c in zip(toks, codes):
    if c == b"200":
        print("acked", addr)
print("pipelined", len(toks), "answered", [c.decode() for c in codes])
tried += len(toks) - 1
# slowloris: 60 connections from 127.0.0.2 each sending a byte a second,
# while a normal client on 127.0.0.1 must still be served
slow = []
for i in range(60):
    s = socket.socket()
    try:
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", PORT))
        s.sendall(b"GET /u/" + tok)
        slow.append(s)
    except OSError:
        s.close()
tried += len(slow)
t0 = time.time()
r = send(req(b"GET", b"/healthz"), wait=10)
print("slowloris_served", int(r.startswith(b"HTTP/1.1 200")), "in %.1fs" % (time.time() - t0))
for s in slow:
    s.close()
print("tried", tried)
