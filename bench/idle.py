#!/usr/bin/python3
"""idle.py SOCKET N PID - open N milter connections to SOCKET (unix path),
negotiate and send connection info on each as an MTA does, leave them idle,
and print the filter's resident memory (VmRSS of PID) before and after."""
import socket, struct, sys, time

def status(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0

def packet(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data

path, n, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
before = status(pid, "VmRSS")
conns = []
for i in range(n):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(packet(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff)))
    s.recv(4096)
    s.sendall(packet(b"C", b"client.example\x004\x00\x19127.0.0.1\x00"))
    conns.append(s)
time.sleep(1)
after = status(pid, "VmRSS")
threads = status(pid, "Threads")
print(f"milter RSS: {before / 1024:.1f} MiB before, {after / 1024:.1f} MiB "
      f"with {n} idle connections ({threads} threads)")
for s in conns:
    s.close()
