"""RFC 6455 framing rules the server enforces beyond libwebsockets 4.1:
close frames are checked before they are echoed (1002, 1007), a failed
connection is dropped as soon as the close frame is out (RFC 6455 7.1.7),
replies owed before a protocol error go out before the close frame,
invalid UTF-8 fails the connection at the first piece of text that holds
it, not at the end of the message, a frame without a mask fails it (1002),
and every ping gets its pong, however many come at once.

The servers here run without fast heartbeats: a ping timeout would close
the connections these tests watch close for other reasons."""

import base64
import os
import shutil
import socket
import struct
import subprocess
from pathlib import Path

import pytest

from llserver import OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, RawWS, insecure_ssl

# RSV1 set on a text frame: no extension is negotiated, so libwebsockets
# fails the connection with 1002 ("rsv bits").
OP_TEXT_RSV1 = OP_TEXT | 0x40


def close_payload(code, reason=b""):
    return struct.pack("!H", code) + reason


def open_raw(server, user="frames"):
    raw = RawWS(server.port, f"/ws?store=s&user={user}")
    assert raw.status == 101
    return raw


def first_frame(raw, timeout=5.0):
    """The next frame the server sends (pings skipped: none are due)."""
    return raw.recv_frame(timeout)


def assert_closed(raw, code, within=1.0):
    """The server's next frame is a close with code; then it drops TCP
    within `within` seconds."""
    op, payload = first_frame(raw)
    assert op == OP_CLOSE, (op, payload)
    assert len(payload) >= 2 and struct.unpack("!H", payload[:2])[0] == code, payload
    raw.wait_eof(within)
    return payload[2:]


# -- close frames ------------------------------------------------------------

def test_a_one_byte_close_is_answered_1002_and_dropped(start_server):
    server = start_server(fast=False)
    raw = open_raw(server)
    raw.send_frame(OP_CLOSE, b"\x03")  # half a code: not echoed
    assert_closed(raw, 1002)
    raw.close()
    server.wait_active(0)


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
def test_a_close_code_that_may_not_be_sent_is_answered_1002(start_server, code):
    # libwebsockets rewrites those below 3000 itself; 5000 and up are ours
    server = start_server(fast=False)
    raw = open_raw(server)
    raw.send_frame(OP_CLOSE, close_payload(code, b"bye"))
    assert_closed(raw, 1002)
    raw.close()


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                                  3000, 3999, 4000, 4999])
def test_a_valid_close_is_echoed_and_the_connection_dropped(start_server, code):
    server = start_server(fast=False)
    raw = open_raw(server)
    raw.send_frame(OP_CLOSE, close_payload(code, "né".encode()))
    assert assert_closed(raw, code) == "né".encode()
    raw.close()


def test_an_empty_close_is_echoed(start_server):
    server = start_server(fast=False)
    raw = open_raw(server)
    raw.send_frame(OP_CLOSE, b"")
    op, payload = first_frame(raw)
    assert (op, payload) == (OP_CLOSE, b"")
    raw.wait_eof(1.0)
    raw.close()


@pytest.mark.parametrize("reason", [b"\xff", b"ok\xc3", b"\xed\xa0\x80", b"\xc0\xaf"])
def test_a_close_reason_that_is_not_utf8_is_answered_1007(start_server, reason):
    server = start_server(fast=False)
    raw = open_raw(server)
    raw.send_frame(OP_CLOSE, close_payload(1000, reason))
    assert_closed(raw, 1007)
    raw.close()


# -- failing: the close frame, then TCP dropped at once ------------------------

def test_after_a_protocol_error_tcp_is_dropped_once_the_close_handshake_is_done(start_server):
    # libwebsockets fails the connection (1002, "rsv bits") mid-frame: its
    # parser then never recognised the peer's close and waited 5 s
    server = start_server(fast=False)
    raw = open_raw(server)
    raw.send_frame(OP_TEXT_RSV1, b"Hello, world!")
    op, payload = first_frame(raw)
    assert op == OP_CLOSE and payload[:2] == b"\x03\xea", payload
    raw.send_frame(OP_CLOSE, close_payload(1000))
    raw.wait_eof(1.0)
    raw.close()
    server.wait_active(0)


def test_after_a_protocol_error_tcp_is_dropped_without_waiting_for_the_peer(start_server):
    server = start_server(fast=False)
    raw = open_raw(server)
    raw.send_frame(OP_TEXT_RSV1, b"x")
    assert_closed(raw, 1002)  # and no close from us was needed
    raw.close()


def test_replies_owed_before_a_protocol_error_go_out_before_the_close(start_server):
    # a message, then a frame with a reserved bit, in one write: the echo of
    # the message comes first, then the close, and nothing after it
    server = start_server(fast=False)
    raw = open_raw(server)
    frames = []
    for op, data in ((OP_TEXT, b"first"), (OP_TEXT_RSV1, b"second")):
        key = b"\x01\x02\x03\x04"
        frames.append(bytes([0x80 | op, 0x80 | len(data)]) + key
                      + bytes(b ^ key[i % 4] for i, b in enumerate(data)))
    raw.sock.sendall(b"".join(frames))
    assert first_frame(raw) == (OP_TEXT, b"first")
    assert_closed(raw, 1002)
    raw.close()


# -- UTF-8, checked as it arrives ----------------------------------------------

def test_invalid_utf8_fails_at_the_fragment_that_holds_it(start_server):
    # the message is never finished: the server must not wait for its end
    server = start_server(fast=False)
    raw = open_raw(server)
    raw.send_frame(OP_TEXT, "κόσμε".encode(), fin=False)
    raw.send_frame(OP_CONT, b"ok \xf4\x90\x80\x80", fin=False)  # above U+10FFFF
    assert_closed(raw, 1007)
    raw.close()
    server.wait_active(0)


def test_invalid_utf8_fails_within_a_frame_still_arriving(start_server):
    # a 100-byte text frame of which only the first 10 bytes are sent
    server = start_server(fast=False)
    raw = open_raw(server)
    key = b"\x11\x22\x33\x44"
    part = b"abcd\xed\xa0\x80xyz"  # a surrogate, U+D800
    raw.sock.sendall(bytes([0x80 | OP_TEXT, 0x80 | 100]) + key
                     + bytes(b ^ key[i % 4] for i, b in enumerate(part)))
    assert_closed(raw, 1007)
    raw.close()


def test_a_character_whose_second_byte_is_wrong_fails_at_that_byte(start_server):
    # E0 then 80: an overlong form, known at its second byte, which comes
    # in the next fragment; nothing completes the message
    server = start_server(fast=False)
    raw = open_raw(server)
    raw.send_frame(OP_TEXT, b"ab\xe0", fin=False)
    raw.send_frame(OP_CONT, b"\x80", fin=False)
    assert_closed(raw, 1007)
    raw.close()


def test_valid_text_split_anywhere_still_round_trips(start_server):
    server = start_server(fast=False)
    raw = open_raw(server)
    text = "a€𝄞é".encode()
    pieces = [text[:2], text[2:3], text[3:7], text[7:]]  # cut inside characters
    raw.send_frame(OP_TEXT, pieces[0], fin=False)
    for p in pieces[1:-1]:
        raw.send_frame(OP_CONT, p, fin=False)
    raw.send_frame(OP_CONT, pieces[-1])
    assert first_frame(raw) == (OP_TEXT, text)
    raw.send_frame(OP_CLOSE, close_payload(1000))
    assert_closed(raw, 1000)
    raw.close()


def test_a_binary_message_is_not_checked_as_text(start_server):
    server = start_server(fast=False)
    raw = open_raw(server)
    raw.send_frame(0x2, b"\xff\xfe", fin=False)
    raw.send_frame(OP_CONT, b"\xc0")
    op, payload = first_frame(raw)
    assert (op, payload) == (0x2, b"\xff\xfe\xc0")
    raw.close()


def test_a_failed_connection_is_gone_from_the_counts(start_server):
    server = start_server(fast=False)
    raws = []
    for i, frame in enumerate(([OP_CLOSE, b"\x03"], [OP_TEXT, b"\xff"], [OP_TEXT_RSV1, b"x"])):
        raw = open_raw(server, f"u{i}")
        raw.send_frame(*frame)
        raws.append(raw)
    server.wait_active(0)
    for raw in raws:
        raw.wait_eof(1.0)
        raw.close()


# -- the mask rule (RFC 6455 5.1) ----------------------------------------------

def client_frame(op, payload, masked=True, fin=True):
    """A frame as bytes: masked with a fixed key, or not masked at all."""
    key = b"\x5a\x0f\xc3\x81"
    head = bytes([(0x80 if fin else 0) | op, (0x80 if masked else 0) | len(payload)])
    if not masked:
        return head + payload
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def test_an_unmasked_frame_is_answered_1002_after_what_came_before(start_server):
    server = start_server(fast=False)
    raw = open_raw(server)
    raw.sock.sendall(client_frame(OP_TEXT, b"masked") + client_frame(OP_TEXT, b"bare", False)
                     + client_frame(OP_TEXT, b"never read"))
    assert first_frame(raw) == (OP_TEXT, b"masked")
    assert assert_closed(raw, 1002) == b"unmasked frame"
    raw.close()
    server.wait_active(0)


@pytest.mark.parametrize("op", [OP_PING, OP_CLOSE, OP_PONG])
def test_an_unmasked_control_frame_is_answered_1002(start_server, op):
    # an unmasked ping gets no pong, an unmasked close no echo
    server = start_server(fast=False)
    raw = open_raw(server)
    payload = b"\x03\xe8" if op == OP_CLOSE else b"x"
    raw.sock.sendall(client_frame(op, payload, masked=False))
    assert assert_closed(raw, 1002) == b"unmasked frame"
    raw.close()


def test_an_unmasked_frame_sent_in_pieces_is_caught_too(start_server):
    # its first byte alone, then the rest (the reads may split it so)
    server = start_server(fast=False)
    raw = open_raw(server)
    raw.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    raw.send_frame(OP_TEXT, b"one")
    assert first_frame(raw) == (OP_TEXT, b"one")
    frame = client_frame(OP_TEXT, b"two", masked=False)
    raw.sock.sendall(frame[:1])
    raw.sock.sendall(frame[1:])
    assert assert_closed(raw, 1002) == b"unmasked frame"
    raw.close()


# -- pings: each one answered -------------------------------------------------

def test_every_ping_of_a_burst_gets_its_pong_in_order(start_server):
    # libwebsockets 4.1 answered only the first: it drops a ping while the
    # pong of an earlier one waits (Autobahn 2.10)
    server = start_server(fast=False)
    raw = open_raw(server)
    raw.sock.sendall(b"".join(client_frame(OP_PING, f"payload-{i}".encode())
                              for i in range(10)))
    for i in range(10):
        assert first_frame(raw) == (OP_PONG, f"payload-{i}".encode())
    raw.send_frame(OP_CLOSE, close_payload(1000))
    assert_closed(raw, 1000)
    raw.close()


def test_pings_sent_a_byte_at_a_time_are_answered(start_server):
    # Autobahn 2.11's slow motion: a ping arrives over several reads
    server = start_server(fast=False)
    raw = open_raw(server)
    raw.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    data = b"".join(client_frame(OP_PING, f"slow-{i}".encode()) for i in range(3))
    for b in data:
        raw.sock.sendall(bytes([b]))
    for i in range(3):
        assert first_frame(raw) == (OP_PONG, f"slow-{i}".encode())
    raw.close()


def test_a_ping_inside_a_fragmented_message_is_answered_first(start_server):
    server = start_server(fast=False)
    raw = open_raw(server)
    raw.sock.sendall(client_frame(OP_TEXT, b"frag", fin=False) + client_frame(OP_PING, b"mid")
                     + client_frame(OP_CONT, b"ment"))
    assert first_frame(raw) == (OP_PONG, b"mid")
    assert first_frame(raw) == (OP_TEXT, b"fragment")
    raw.close()


def test_frames_sent_with_the_handshake_are_still_served(start_server):
    # RFC 6455 4.1 forbids it; libwebsockets serves them: the server then
    # cannot tell where that client's frames begin and leaves them alone
    server = start_server(fast=False)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ws?store=s&user=eager HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\n\r\n").encode()
                 + client_frame(OP_TEXT, b"eager"))
    raw = RawWS.__new__(RawWS)
    raw.sock, raw.buf = sock, b""
    assert raw._read_until(b"\r\n\r\n").startswith(b"HTTP/1.1 101")
    assert first_frame(raw) == (OP_TEXT, b"eager")
    raw.send_frame(OP_PING, b"p")
    assert first_frame(raw) == (OP_PONG, b"p")
    raw.close()


# -- the same over TLS ---------------------------------------------------------

@pytest.fixture
def cert(workdir):
    if not shutil.which("openssl"):
        pytest.skip("no openssl command to make a certificate")
    key, crt = Path(workdir) / "key.pem", Path(workdir) / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return str(crt), str(key)


def open_raw_tls(server, user="frames-tls"):
    sock = insecure_ssl().wrap_socket(
        socket.create_connection(("127.0.0.1", server.port), timeout=5),
        server_hostname="127.0.0.1")
    raw = RawWS.__new__(RawWS)
    raw.sock, raw.buf = sock, b""
    assert raw.handshake(f"/ws?store=s&user={user}") == 101
    return raw


def test_over_tls_every_ping_gets_its_pong_and_an_unmasked_frame_1002(start_server, cert):
    server = start_server(fast=False, tls=cert)
    raw = open_raw_tls(server)
    raw.sock.sendall(b"".join(client_frame(OP_PING, f"tls-{i}".encode()) for i in range(10))
                     + client_frame(OP_TEXT, b"echo me"))
    for i in range(10):
        assert first_frame(raw) == (OP_PONG, f"tls-{i}".encode())
    assert first_frame(raw) == (OP_TEXT, b"echo me")
    raw.sock.sendall(client_frame(OP_TEXT, b"bare", masked=False))
    op, payload = first_frame(raw)
    assert (op, payload[:2]) == (OP_CLOSE, b"\x03\xea"), payload
    raw.close()
    server.wait_active(0)

