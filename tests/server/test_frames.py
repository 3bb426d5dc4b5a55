"""RFC 6455 framing rules the server enforces beyond libwebsockets 4.1: a
failed connection is dropped as soon as the close frame is out (RFC 6455
7.1.7), and replies owed before a protocol error go out before the close
frame.

The servers here run without fast heartbeats: a ping timeout would close
the connections these tests watch close for other reasons."""

import struct

from llserver import OP_CLOSE, OP_TEXT, RawWS

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
