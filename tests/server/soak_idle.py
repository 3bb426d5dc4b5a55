"""Opens N idle WebSocket connections to a fresh lifeline-server and prints
its resident memory (the design target: 10 000 idle connections in at most
100 MB). Not part of the pytest suite (it needs N + a few file descriptors
on this side too):

    /usr/bin/python3 tests/server/soak_idle.py [N]
"""

import base64
import os
import resource
import socket
import sys
import tempfile

from llserver import Server


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < n + 64:
        sys.exit(f"need {n + 64} file descriptors here, the hard limit is {hard}")
    with tempfile.TemporaryDirectory(prefix="lifeline-soak-") as d:
        server = Server(d).start()
        try:
            base = rss_mb(server.proc.pid)
            socks = []
            for i in range(n):
                s = socket.create_connection(("127.0.0.1", server.port))
                key = base64.b64encode(os.urandom(16)).decode()
                s.sendall((f"GET /ws?store=store{i % 100}&user=user{i} HTTP/1.1\r\n"
                           f"Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
                head = b""
                while b"\r\n\r\n" not in head:
                    head += s.recv(4096)
                assert head.startswith(b"HTTP/1.1 101"), head
                socks.append(s)
            stats = server.stats()
            assert stats["active_connections"] == n, stats["active_connections"]
            full = rss_mb(server.proc.pid)
            print(f"{n} idle connections: RSS {full:.1f} MB "
                  f"(empty server {base:.1f} MB, {(full - base) * 1024 * 1024 / n:.0f} B each)")
            for s in socks:
                s.close()
            server.wait_active(0, timeout=60)
        finally:
            print("exit status", server.stop())


if __name__ == "__main__":
    main()
