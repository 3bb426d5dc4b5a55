"""A WebSocket client that floods lifeline-server with broadcasts as fast as
its socket takes them, for tests/server/test_rate_limit.py. It runs in a
process of its own, so that the flood does not slow the test's clients.

    flooder.py PORT STORE USER MAX_SECONDS

Prints JSON lines on stdout: {"event":"open"} after the handshake,
{"event":"first_error"} when the first rate-limit error arrives, and at the
end {"event":"done", "sent":N, "errors":N, "other":N, "close_code":C|null,
"first_error_s":T|null, "closed_s":T|null} (times from the first frame
sent). It stops at the server's close frame (and answers it), when the
connection ends, or after MAX_SECONDS.
"""

import base64
import json
import os
import socket
import struct
import sys
import threading
import time

ERROR = {"type": "error", "error": "rate limited"}


def frame(opcode, payload):
    """A masked client frame."""
    key = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack("!H", n)
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack("!Q", n)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + key + masked


def handshake(sock, path):
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed during the handshake")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ", 2)[1])
    if status != 101:
        raise ConnectionError(f"handshake answered {status}")
    return rest


class Reader(threading.Thread):
    """Reads the server's frames: counts the rate-limit errors and the
    rest, and notes the close frame."""

    def __init__(self, sock, buf, t0, say):
        super().__init__(daemon=True)
        self.sock, self.buf, self.t0, self.say = sock, buf, t0, say
        self.errors = self.other = 0
        self.close_code = None
        self.first_error_s = self.closed_s = None
        self.done = threading.Event()
        self.stop = threading.Event()  # the flood is over: read no more

    def _exact(self, n):
        while len(self.buf) < n:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                if self.stop.is_set():
                    raise ConnectionError("stopped") from None
                continue  # quiet: the server tells it at most once a second
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def run(self):
        try:
            while True:
                b0, b1 = self._exact(2)
                n = b1 & 0x7F
                if n == 126:
                    n = struct.unpack("!H", self._exact(2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", self._exact(8))[0]
                op, payload = b0 & 0x0F, self._exact(n)
                if op == 8:
                    self.close_code = struct.unpack("!H", payload[:2])[0] if n >= 2 else None
                    self.closed_s = time.monotonic() - self.t0
                    return
                if op == 1 and json.loads(payload) == ERROR:
                    self.errors += 1
                    if self.first_error_s is None:
                        self.first_error_s = time.monotonic() - self.t0
                        self.say({"event": "first_error"})
                elif op in (1, 2):
                    self.other += 1
        except (ConnectionError, OSError):
            if self.closed_s is None and not self.stop.is_set():
                self.closed_s = time.monotonic() - self.t0
        finally:
            self.done.set()


def main():
    port, store, user, max_s = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])

    def say(obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    rest = handshake(sock, f"/ws?store={store}&user={user}")
    sock.settimeout(2)  # a write the server no longer reads ends the flood
    say({"event": "open"})
    message = frame(1, json.dumps({"type": "broadcast", "data": "flood"}).encode())
    chunk = message * 500
    t0 = time.monotonic()
    reader = Reader(sock, rest, t0, say)
    reader.start()
    sent = 0
    while not reader.done.is_set() and time.monotonic() - t0 < max_s:
        try:
            sock.sendall(chunk)
        except OSError:
            break
        sent += 500
    if reader.close_code is not None:
        try:
            sock.sendall(frame(8, struct.pack("!H", reader.close_code)))
        except OSError:
            pass
    reader.stop.set()
    reader.done.wait(5)
    sock.close()
    say({"event": "done", "sent": sent, "errors": reader.errors, "other": reader.other,
         "close_code": reader.close_code, "first_error_s": reader.first_error_s,
         "closed_s": reader.closed_s})


if __name__ == "__main__":
    main()
