#!/usr/bin/env python3
"""Writes the seed corpus, tests/fuzz/corpus/<target>/: real requests,
URLs, tokens and JSON in the layout each fuzz_<target>.c reads (see the
comment at its top). Rerun after changing a layout or the token secret;
scripts/fuzz never writes here. Inputs that once broke a property are not
seeds: they live in tests/fuzz/regressions/<target>/, kept as found.

    python3 tests/fuzz/seeds.py
"""
import base64
import hashlib
import hmac
import json
import pathlib
import shutil
import struct

HERE = pathlib.Path(__file__).resolve().parent
SECRET = b"fuzz-secret"  # fuzz_query.c and fuzz_token.c
LATER = 4102444800  # 2100-01-01, after fuzz_*.c's now (1700000000)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def token(user, store, exp, secret=SECRET):
    claims = json.dumps({"u": user, "s": store, "exp": exp}, separators=(",", ":"),
                        ensure_ascii=False).encode()
    head = b64url(claims)
    return head + b"." + b64url(hmac.new(secret, head, hashlib.sha256).digest())


def u16(n):
    return struct.pack("<H", n)


def discord(unix_ms, color, texts, n_fields=None, inline=0):
    """fuzz_discord.c: time, colour, field count, inline bits, then texts,
    each a repeat byte (times - 1) and the text, NUL-separated."""
    if n_fields is None:
        n_fields = max(0, (len(texts) - 4) // 2)
    head = struct.pack("<q", unix_ms + 10000000000000) + struct.pack("<I", color)[:3]
    head += bytes([n_fields]) + struct.pack("<I", inline)
    return head + b"\0".join(bytes([times - 1]) + text.encode() for times, text in texts)


def frame(opcode, payload, fin=True, masked=True, key=b"\x37\xfa\x21\x3d"):
    """A client's WebSocket frame (RFC 6455 5.2), for fuzz_rxscan.c."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    m = 0x80 if masked else 0
    if n < 126:
        head += bytes([m | n])
    elif n < 65536:
        head += bytes([m | 126]) + struct.pack(">H", n)
    else:
        head += bytes([m | 127]) + struct.pack(">Q", n)
    if not masked:
        return head + payload
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


ok = token("alice", "store-1", LATER)
def nlmsg(mtype, body, pad=True):
    """fuzz_rtnl.c: one netlink message as the kernel lays it out
    (little-endian host): nlmsghdr (len, type, flags, seq, pid), the body,
    padding to 4."""
    n = 16 + len(body)
    msg = struct.pack("<IHHII", n, mtype, 0, 0, 0) + body
    return msg + b"\0" * ((-n) % 4 if pad else 0)


RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE, RTM_DELROUTE = 16, 20, 24, 25
IFF_UP, IFF_LOOPBACK, IFF_RUNNING = 0x1, 0x8, 0x40


def ifinfo(flags, index):
    return struct.pack("<BxHiII", 0, 1, index, flags, 0xFFFFFFFF)


def ifaddr(family, scope, flags, index, prefix=24):
    return struct.pack("<BBBBI", family, prefix, flags, scope, index)


def rtmsg(family, dst_len, rtype, flags=0):
    # family, dst_len, src_len, tos, table, protocol, scope, type, flags
    return struct.pack("<BBBBBBBBI", family, dst_len, 0, 0, 254, 4, 0, rtype, flags)


SEEDS = {
    "url": [
        b"ws://127.0.0.1:8080/ws?store=s1&user=u",
        b"wss://pos.example.com",
        b"ws://user:pw@[::1]:9000/a#frag",
        b"https://h/api/v1/websockets/health",
        b"ws://h?x=1",
        b"http://example.com:65535/",
        b"WSS://Example.COM:443/path/to?a=1&b=2",
        b"https://discord.com/api/webhooks/123456/abc-TOKEN_x",
        b"ws://[fe80::1%25eth0]:1/ws",
        b"ws://host:0/",
        b"ws://host:65536/",
        b"ftp://host/",
    ],
    "redact": [
        b"wss://user:p@ss@pos.example.com:8443/ws?store=s1&token=abc.def#frag",
        b"https://discord.com/api/webhooks/123456/abc-TOKEN_x?wait=true",
        b"https://example.com/redirected?token=secret&x",
        b"ws://h/?a=1&&b=&=c&token",
        b"/relative?key=value",
        b"http://a@b/c://d@e?f=g",
        b"ws://abc@abc/abc?abc=abcdef",
    ],
    "classify": [
        u16(503) + b"120",
        u16(429) + b" 30 ",
        u16(429) + b"Wed, 21 Oct 2015 07:28:00 GMT",
        u16(503) + b"999999999",
        u16(401) + b"",
        u16(408) + b"5",
        u16(200) + b"getaddrinfo (ipv4) failed",
        u16(200) + b"HS: ACCEPT hash mismatch",
        u16(200) + b"ssl: certificate verify failed",
        u16(200) + b"connect failed",
        u16(200) + b"timed out",
        u16(200) + b"HS: ws upgrade unauthorized",
        u16(200) + b"closed before established",
        u16(101) + b"101 Switching Protocols",
        u16(302) + b"302",
        u16(0) + b"999999999999",
        u16(0) + b"-401",
        u16(0) + b"101abc",
    ],
    "pong": [
        b'{"type":"pong","ts":12345}',
        b'{"ts": 5, "type": "pong"}',
        b'{"type":"echo","data":"pong"}',
        b'{"type":"pong","ts":"x"}',
        b'{"type":"pong","ts":-9223372036854775809}',
    ],
    "policy": [
        bytes([6]) + b"1.5\n" + b'{"message": "You are being rate limited.", "retry_after": 0.25, "global": false}',
        bytes([6]) + b"2\n",
        bytes([9]) + b"120\n",
        bytes([7]) + b"\n" + b'{"retry_after": -1}',
        bytes([0]) + b"\n{}",
        bytes([4]) + b"\n" + b'{"message": "Unknown Webhook", "code": 10015}',
    ],
    # a byte of room, a byte picking the name (0: Retry-After), the line
    "http_header": [
        bytes([64, 0]) + b"Retry-After: 5\r\n",
        bytes([64, 0]) + b"retry-after:0.25\n",
        bytes([64, 0]) + b"Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n",
        bytes([64, 0]) + b"Retry-After: \t 3 \t\r\n",
        bytes([3, 0]) + b"Retry-After: 12345\r\n",
        bytes([64, 0]) + b"Retry-After: 5\r6\r\n",
        bytes([64, 0]) + b"Retry-After : 5\r\n",
        bytes([64, 0]) + b"HTTP/1.1 429 Too Many Requests\r\n",
        bytes([64, 2]) + b"Content-Type: application/json\r\n",
        bytes([64, 0]) + b"Retry-After: 1e400\r\n",
        bytes([64, 0]) + b"Retry-After: -0\r\n",
    ],
    "utf8": [
        u16(9) + "héllo wörld — ✓ 😀".encode(),
        u16(0) + b"ab",
        u16(4) + b"abc\xffdef",
        u16(2) + b"\xe2\x82",
        u16(299) + "Ünïcödé ".encode() * 40,
    ],
    "discord": [
        discord(1700000000123, 0xE74C3C, [
            (1, "Server down"), (1, "No answer from wss://pos.example.com for 5m 00s"),
            (1, "lifeline 0.1.0"), (1, "pos-7"),
            (1, "Attempt"), (1, "12"), (1, "Error"), (1, "connection refused")], inline=1),
        discord(0, 0x2ECC71, [(1, "Recovered ✓"), (1, ""), (1, ""), (1, "")]),
        discord(1700000000000, 0x3498DB, [(256, "Ω long title "), (200, "描述 "), (100, "footer "),
                                          (40, "name ")] + [(60, "field value ")] * 50, n_fields=32),
        discord(1700000000000, 0, [(1, "t"), (1, "https://discord.com/api/webhooks/123/token")]),
    ],
    "ws_utf8": [
        bytes([0x00]) + "héllo wörld".encode(),
        bytes([0xff]) + "κόσμε 😀 €".encode(),
        bytes([0x1b]) + b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
        bytes([0x00]) + b"\xf4\x90\x80\x80",
        bytes([0x55]) + b"\xc0\xaf",
        bytes([0xaa]) + b"ok \xe2\x82",
        bytes([0x00]) + b"ascii only, long enough for the eight-byte steps " * 3,
    ],
    "ws_close": [
        b"", b"\x03", b"\x03\xe8", b"\x03\xe8bye", b"\x03\xe8" + "κόσμε".encode(),
        b"\x03\xed", b"\x03\xee", b"\x0b\xb8ok", b"\x13\x88", b"\x03\xe8\xff",
        b"\x03\xe8" + b"a" * 123, b"\x03\xe8" + b"a" * 124, b"\x03\xf1\xed\xa0\x80",
    ],
    "rxscan": [
        bytes([0x00]) + frame(1, b"Hello"),
        bytes([0x55]) + frame(1, b"Hi") + frame(9, b"") + frame(9, b"ping!") + frame(2, b"\x00\x01"),
        bytes([0xaa]) + frame(2, b"x" * 300) + frame(9, b"p" * 125) + frame(8, b"\x03\xe8bye"),
        bytes([0xff]) + frame(1, b"frag", fin=False) + frame(9, b"mid") + frame(0, b"ment"),
        bytes([0x00]) + frame(1, b"Hello", masked=False),
        bytes([0x1b]) + frame(9, b"p" * 126),
        # pings that pass on: without FIN, with RSV1
        bytes([0x00]) + frame(9, b"not fin", fin=False) + frame(0x40 | 9, b"rsv1"),
        bytes([0xe4]) + frame(2, b"y" * 70000)[:200],
        bytes([0x00]) + frame(1, b"cut sh")[:5],
    ],
    "route": [
        b"GET /api/v1/websockets/health\n\n127.0.0.1",
        b"GET /metrics\nBearer s3cret-admin-token\n10.0.0.9",
        b"GET /api/v1/websockets/stats\n\n10.1.2.3",
        b"GET /api/v1/users/alice\n\n::1",
        b"POST /api/v1/stores/store-1/broadcast\nBearer s3cret-admin-token\n::ffff:127.0.0.1",
        b"POST /api/v1/admin/fault\nbearer   s3cret-admin-token \t\n192.168.0.1",
        b"GET /api/v1/admin/fault\nBearer wrong\n127.255.255.255",
        b"PUT /api/v1/admin/fault\nBasic abc\n::2",
        b"DELETE /api/v1/users/a/b\n\n",
        b"GET /ws\n\n",
        b"POST /api/v1/stores//broadcast\nBearer \n",
        # the status page and its data
        b"GET /\n\n10.0.0.1", b"GET /status\n\n", b"GET /status/status.js\n\n",
        b"GET /status/\n\n", b"POST /status\n\n", b"GET /api/v1/websockets/history\n\n",
        b"GET /api/v1/admin/status\nBearer s3cret-admin-token\n10.0.0.9",
    ],
    "query": [
        b"store=s1&user=u1",
        b"store=%C3%A9&user=\xc3\xa9t\xc3\xa9",
        b"token=" + ok,
        b"token=" + ok + b"&store=store-1&user=alice",
        b"token=" + ok + b"&user=mallory",
        b"token=" + token("alice", "store-1", 1000),
        b"token=" + token("alice", "store-1", LATER, b"other"),
        b"store=s1&store=s2",
        b"user&store",
        b"store=s1&user=u1&x=1&y=2&z=3&w=4&v=5&u=6",
    ],
    "token": [
        ok,
        token("\u00e9l\u00e8ve", "\u5e97-1", LATER),
        token("bob", "s", 1000),
        token("a\"b\\c", "s", LATER),
        ok[:-1] + b"A",
        b"alice\nstore-1\n4102444800",
        "é\n店\n-5".encode(),
        b"a\nb\n8999999999999999",
        b"\n\n0",
    ],
    "base64url": [b"", b"QQ", b"QUI", b"QUJD", b"eyJ1IjoiYSJ9", b"_-_-", b"QR", b"Q", b"QQ==",
                  b"\x00\xff\x10"],
    "protocol": [
        b'{"type":"echo","data":{"a":[1,2.5,"x",null,true]}}',
        b'{"type":"ping","ts":1700000000000}',
        b'{"type":"broadcast","data":"hi"}',
        b'{"type":"broadcast"}',
        b'{"type":"nope"}',
        b"[1,2]",
        b"plain text",
        b'{"type":5}',
        ('{"type":"' + "é" * 30 + '"}').encode(),
        b'{} trailing',
        b' {"type":"echo"}\r\n\t',
        b'{"type":"echo","data":"\\ud83d\\ude00 \\u00e9"}',
    ],
    "sniff": [
        b"GET /ws?store=s1&user=u HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n",
        b"GET /ws HTTP/1.1\r\n",
        b"GET /ws/ HTTP/1.1\r\n",
        b"GET /wsx HTTP/1.1\r\n",
        b"GET /api/v1/websockets/health HTTP/1.1\r\n\r\n",
        b"POST /ws HTTP/1.1\r\n",
        b"GET /w",
    ],
    "names": [
        b"alice", "店舗-1".encode(), b"a" * 128, b"a" * 129, b"\xc2\x85", b"a\x7f", b"\xed\xa0\x80",
        b"\xf4\x90\x80\x80", "😀".encode(), b"\xe0\x80\xaf", b"tab\there",
    ],
    # a method byte (1: POST, PUT or PATCH), then the value
    "cluster": [
        b"\x00lf1\ni1\nstore-1\nt\n{\"type\":\"broadcast\",\"data\":1}",
        b"\x00lf1\na:8080\ns\nb\n\x00\x01\n\xff",
        b"\x00lf1\na\ns\nt\n",
        b"\x00lf2\na\ns\nt\nx",
        b"\x01{\"instance\":\"i1\",\"at_ms\":1,\"connections\":3,\"stores\":{\"s\":2,\"t\":1}}",
        b"\x01{\"connections\":-1,\"stores\":{}}",
        b"\x01{\"connections\":1e300,\"stores\":{\"s\":1e300}}",
        # a lifeline.v1 ring entry: "<seq> <wall ms> <t|b> <payload>"
        b"\x0212 1764500000000 t n=12",
        b"\x021 0 b \x00\xff",
        b"\x0218446744073709551615 9223372036854775807 t ",
        b"\x0218446744073709551616 1 t x",
        b"\x0201 1 t x",
        b"\x020 1 t x",
    ],
    "content_length": [
        b"\x01" + b"16", b"\x00" + b"0", b"\x01" + b" 1048576\t", b"\x00" + b"-1",
        b"\x01" + b"+5", b"\x01" + b"5, 5", b"\x01" + b"0" * 28 + b"16",
        b"\x01" + b"0" * 29 + b"16", b"\x00" + b"99999999999999999999", b"\x01" + b"",
        b"\x00" + b"abc", b"\x01" + b"1e3", b"\x00" + b"9223372036854775808",
    ],
    "rtnl": [
        nlmsg(RTM_NEWLINK, ifinfo(IFF_UP | IFF_RUNNING, 2)),
        nlmsg(RTM_NEWLINK, ifinfo(IFF_UP, 2)) + nlmsg(RTM_NEWLINK, ifinfo(IFF_UP | IFF_RUNNING | IFF_LOOPBACK, 1)),
        nlmsg(RTM_NEWADDR, ifaddr(2, 0, 0, 3)),
        nlmsg(RTM_NEWADDR, ifaddr(10, 0, 0x40, 3, 64)) + nlmsg(RTM_NEWADDR, ifaddr(10, 253, 0, 3, 64)),
        nlmsg(RTM_NEWROUTE, rtmsg(2, 0, 1)),
        nlmsg(RTM_DELROUTE, rtmsg(10, 0, 1)),
        nlmsg(RTM_NEWROUTE, rtmsg(2, 24, 1)) + nlmsg(RTM_NEWROUTE, rtmsg(10, 0, 1, 0x200)),
        nlmsg(RTM_NEWADDR, ifaddr(10, 253, 0, 4, 64)) + nlmsg(RTM_NEWLINK, ifinfo(IFF_UP | IFF_RUNNING, 4))
        + nlmsg(RTM_NEWADDR, ifaddr(2, 0, 0, 4)) + nlmsg(RTM_NEWROUTE, rtmsg(2, 0, 1)),
        nlmsg(RTM_NEWLINK, b"ab") + nlmsg(3, b"\0" * 4) + nlmsg(RTM_NEWLINK, ifinfo(IFF_UP | IFF_RUNNING, 5)),
        nlmsg(RTM_NEWLINK, ifinfo(IFF_UP | IFF_RUNNING, 6) + b"x", pad=False),
        struct.pack("<IHHII", 4096, RTM_NEWLINK, 0, 0, 0) + ifinfo(IFF_UP | IFF_RUNNING, 7),
        struct.pack("<IHHII", 8, RTM_NEWLINK, 0, 0, 0),
    ],
    "fault": [
        b'{"mode":"refuse","duration_ms":5000,"retry_after_s":7}',
        b'{"mode":"delay_pongs","delay_ms":1500}',
        b'{"mode":"blackhole"}',
        b'{"mode":"close_all"}',
        b'{"mode":"none","duration_ms":null}',
        b'{"mode":"reject_401","duration_ms":1}',
        b'{"mode":"accept_then_close","duration_ms":86400000}',
        b'{"mode":"refuse","duration_ms":1.5}',
        b'{"mode":"delay_pongs"}',
        b'{"mode":"bogus"}',
        b'{"mode":"refuse","retry_after_s":86401}',
        b'[]',
    ],
}


def main():
    for target, seeds in SEEDS.items():
        d = HERE / "corpus" / target
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        for i, seed in enumerate(seeds):
            (d / "seed-{:02d}".format(i)).write_bytes(seed)
    print("wrote", sum(len(s) for s in SEEDS.values()), "seeds for", len(SEEDS), "targets")


if __name__ == "__main__":
    main()
