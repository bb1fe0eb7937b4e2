#!/usr/bin/env python3
"""Writes the hand-made seeds of the fuzz corpus (fuzz/corpus/<target>/seed-*).

Run from anywhere: python3 fuzz/make_seeds.py [TARGET...] (every target
without arguments; python3 fuzz/make_seeds.py sockjs_client for one). The
files it writes are committed; the fuzzer's own finds (named by their SHA-1)
sit beside them.
Frame targets take [setup, chunking, bytes...] (see fuzz/src/frames.rs);
handshake targets take [setup, chunking, bytes...] (fuzz/src/handshake.rs);
sockjs_client takes a Setup and Ops decoded with `arbitrary`, which the
a_* functions below encode.
"""
import os
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

# Frame target setup bits: streaming, limits (<<1), auto-pong off, RSV1+RSV3
# allowed, a close before the input (<<5), eof.
STREAM, SMALL, TINY, MEDIUM, NO_PONG, EOF = 0x01, 0x02, 0x04, 0x06, 0x08, 0x80
RSV13 = 0x10
CLOSE_NORMAL, CLOSE_EMPTY, CLOSE_LONG = 0x20, 0x40, 0x60
KEY = bytes([0x37, 0xFA, 0x21, 0x3D])


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(bytes(data))


def frame(opcode, payload=b"", fin=True, masked=False, rsv=0, key=KEY):
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    m = 0x80 if masked else 0
    if n < 126:
        head = bytes([b0, m | n])
    elif n < 65536:
        head = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if masked:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        head += key
    return head + payload


def close_payload(code, reason=b""):
    return struct.pack(">H", code) + reason


def frames_seeds(target, masked):
    """Frames as the peer of `target` sends them (masked towards a server)."""
    f = lambda *a, **k: frame(*a, masked=masked, **k)
    seeds = {
        # RFC 6455 section 5.7 examples.
        "rfc-hello": f(0x1, b"Hello"),
        "rfc-fragmented-hello": f(0x1, b"Hel", fin=False) + f(0x0, b"lo"),
        "rfc-ping-hello": f(0x9, b"Hello"),
        "rfc-pong-hello": f(0xA, b"Hello"),
        "rfc-binary-256": f(0x2, bytes(range(256))),
        "rfc-binary-64k": f(0x2, bytes(i * 7 & 0xFF for i in range(65536))),
        # Valid traffic.
        "ping-between-fragments": f(0x2, b"ab", fin=False) + f(0x9, b"p")
        + f(0x0, b"cd", fin=False) + f(0x0, b"", fin=True),
        "utf8-cut-across-fragments": f(0x1, "a€".encode()[:2], fin=False)
        + f(0x0, "a€".encode()[2:] + "𝄞".encode()[:1], fin=False)
        + f(0x0, "𝄞".encode()[1:]),
        "empty-text": f(0x1),
        "close-normal-bye": f(0x8, close_payload(1000, b"bye")),
        "close-empty": f(0x8),
        "close-4999-utf8-reason": f(0x8, close_payload(4999, "κόσμε".encode())),
        "close-then-data": f(0x8, close_payload(1001)) + f(0x1, b"late"),
        "ping-125": f(0x9, bytes(125)),
        "many-pings": b"".join(f(0x9, bytes([i]) * i) for i in range(0, 40, 3)),
        "text-then-close": f(0x1, "héllo wörld".encode()) + f(0x8, close_payload(1000)),
        # Violations.
        "reserved-opcode-3": f(0x3, b"x"),
        "reserved-opcode-b": f(0xB),
        "rsv1-without-extension": f(0x1, b"x", rsv=4),
        "ping-126": f(0x9, bytes(126)),
        "fragmented-ping": f(0x9, b"x", fin=False),
        "unexpected-continuation": f(0x0, b"x"),
        "expected-continuation": f(0x1, b"a", fin=False) + f(0x1, b"b"),
        "kind-switch-mid-message": f(0x2, b"a", fin=False) + f(0x2, b"b"),
        "invalid-utf8-ff": f(0x1, b"ok\xff"),
        "invalid-utf8-surrogate": f(0x1, b"\xed\xa0\x80"),
        "unfinished-utf8-at-fin": f(0x1, b"\xe2\x82"),
        "invalid-utf8-across-fragments": f(0x1, b"\xf0\x90", fin=False) + f(0x0, b"A"),
        "close-one-byte": f(0x8, b"\x03"),
        "close-code-1005": f(0x8, close_payload(1005)),
        "close-code-2999": f(0x8, close_payload(2999)),
        "close-reason-not-utf8": f(0x8, close_payload(1000, b"\xc3")),
        # Mid-frame, then the stream ends (setup bit EOF picks it up).
        "truncated-frame": f(0x2, b"0123456789")[:-3],
    }
    # Length encodings.
    m = 0x80 if masked else 0
    mk = KEY if masked else b""
    seeds["non-minimal-16"] = bytes([0x82, m | 126, 0, 5]) + mk + b"12345"
    seeds["non-minimal-64"] = bytes([0x82, m | 127]) + struct.pack(">Q", 200) + mk
    seeds["length-top-bit"] = bytes([0x82, m | 127, 0x80, 0, 0, 0, 0, 0, 0, 0]) + mk
    seeds["length-huge-announced"] = bytes([0x82, m | 127]) + struct.pack(">Q", 1 << 40) + mk
    seeds["length-16m-plus-one"] = bytes([0x82, m | 127]) + struct.pack(">Q", (16 << 20) + 1) + mk
    # The wrong masking for the role.
    seeds["wrong-masking"] = frame(0x1, b"Hello", masked=not masked)

    for name, data in seeds.items():
        write(target, name, [0x00, 0x00] + list(data))
    # A few under other setups and cuttings.
    variants = [
        ("stream", STREAM, 1), ("small", SMALL, 3), ("tiny", TINY, 1),
        ("medium", MEDIUM | STREAM, 7), ("eof", EOF, 2), ("nopong", NO_PONG, 5),
        ("closing", CLOSE_NORMAL, 0),
    ]
    for name in ["rfc-fragmented-hello", "utf8-cut-across-fragments", "ping-125",
                 "rfc-binary-256", "many-pings", "truncated-frame", "close-normal-bye"]:
        for vname, setup, chunking in variants:
            write(target, f"{name}-{vname}", [setup, chunking] + list(seeds[name]))
    # Extensions: RSV1 and RSV3 allowed, RSV2 still not.
    write(target, "rsv1-allowed", [RSV13, 0x00] + list(frame(0x1, b"x", rsv=4, masked=masked)))
    write(target, "rsv3-allowed", [RSV13, 0x00] + list(frame(0x2, b"x", rsv=1, masked=masked)))
    write(target, "rsv2-not-allowed", [RSV13, 0x00] + list(frame(0x2, b"x", rsv=2, masked=masked)))
    # A close sent before the input: data still arrives, pings get no pong,
    # and the peer's close completes the handshake without an echo.
    closing = f(0x1, b"still here") + f(0x9, b"no pong") + f(0x8, close_payload(1000))
    write(target, "close-sent-then-peer-close", [CLOSE_NORMAL, 0] + list(closing))
    write(target, "close-sent-empty", [CLOSE_EMPTY, 3] + list(closing))
    write(target, "close-sent-long-reason", [CLOSE_LONG | STREAM, 1] + list(closing))
    write(target, "close-sent-then-violation", [CLOSE_NORMAL, 0] + list(f(0x3)))
    write(target, "close-sent-then-eof", [CLOSE_NORMAL | EOF, 0] + list(f(0x1, b"x")))
    # Messages over the small limits: a frame of 65, and 3 fragments of 40.
    write(target, "frame-over-small-limit", [SMALL, 0] + list(f(0x2, bytes(65))))
    write(target, "frame-at-small-limit", [SMALL, 0] + list(f(0x2, bytes(64))))
    write(target, "message-at-small-limit", [SMALL, 0] + list(
        f(0x2, bytes(64), fin=False) + f(0x0, bytes(36))))
    write(target, "message-one-over-small-limit", [SMALL, 0] + list(
        f(0x2, bytes(64), fin=False) + f(0x0, bytes(37))))
    write(target, "message-one-over-small-limit-streaming", [SMALL | STREAM, 0] + list(
        f(0x2, bytes(64), fin=False) + f(0x0, bytes(37))))
    write(target, "message-at-medium-limit", [MEDIUM, 0] + list(
        f(0x1, b"a" * 300, fin=False) + f(0x0, b"b" * 300, fin=False)
        + f(0x0, b"c" * 300, fin=False) + f(0x0, b"d" * 100)))
    write(target, "message-one-over-medium-limit", [MEDIUM, 0] + list(
        f(0x1, b"a" * 300, fin=False) + f(0x0, b"b" * 300, fin=False)
        + f(0x0, b"c" * 300, fin=False) + f(0x0, b"d" * 101)))
    # Regression: with max_frame_size below 111, the input limit was below
    # one maximal control frame; a 125-byte ping fed as receive_capacity
    # allowed stalled with capacity 0 (fixed in WebSocketConfig's input limit).
    write(target, "regression-ping-125-tiny-limits", [TINY, 1] + list(f(0x9, bytes(125))))
    write(target, "regression-close-123-reason-small-limits", [SMALL, 0] + list(
        f(0x8, close_payload(1000, b"r" * 123))))
    write(target, "message-over-small-limit", [SMALL, 4] + list(
        f(0x2, bytes(40), fin=False) + f(0x0, bytes(40), fin=False) + f(0x0, bytes(40))))


SAMPLE_REQUEST = (
    b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)


def request(lines, method=b"GET", version=b"HTTP/1.1"):
    return method + b" /chat " + version + b"\r\n" + b"".join(l + b"\r\n" for l in lines) + b"\r\n"


BASE = [
    b"Host: server.example.com", b"Upgrade: websocket", b"Connection: Upgrade",
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", b"Sec-WebSocket-Version: 13",
]


def without(prefix, extra=()):
    return [l for l in BASE if not l.startswith(prefix)] + list(extra)


def server_handshake_seeds():
    t = "ws_server_handshake"
    seeds = {
        "rfc-sample-request": SAMPLE_REQUEST,
        "rfc-sample-request-with-frame": SAMPLE_REQUEST + frame(0x1, b"Hello", masked=True),
        "minimal": request(BASE),
        "case-and-lists": request([
            b"host: a", b"UPGRADE: WebSocket", b"connection: keep-alive, Upgrade",
            b"sec-websocket-key:   dGhlIHNhbXBsZSBub25jZQ==  ", b"SEC-WEBSOCKET-VERSION: 13",
            b"Sec-WebSocket-Protocol: chat", b"Sec-WebSocket-Protocol: v2.chat, , x",
        ]),
        "http-1.0": request(BASE, version=b"HTTP/1.0"),
        "post": request(BASE, method=b"POST"),
        "no-host": request(without(b"Host")),
        "two-hosts": request(BASE + [b"Host: b"]),
        "no-upgrade": request(without(b"Upgrade")),
        "upgrade-h2c": request(without(b"Upgrade", [b"Upgrade: h2c"])),
        "no-connection": request(without(b"Connection")),
        "version-8": request(without(b"Sec-WebSocket-Version", [b"Sec-WebSocket-Version: 8"])),
        "two-versions": request(BASE + [b"Sec-WebSocket-Version: 13"]),
        "no-key": request(without(b"Sec-WebSocket-Key")),
        "two-keys": request(BASE + [b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]),
        "key-15-bytes": request(without(b"Sec-WebSocket-Key", [b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ="])),
        "key-non-canonical": request(without(b"Sec-WebSocket-Key", [b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR=="])),
        "key-unpadded": request(without(b"Sec-WebSocket-Key", [b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ"])),
        "protocol-not-token": request(BASE + [b"Sec-WebSocket-Protocol: chat, bad/name"]),
        "bare-lf": SAMPLE_REQUEST.replace(b"\r\n", b"\n"),
        "partial": SAMPLE_REQUEST[:40],
        "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        "obs-text-value": request(BASE + [b"X-Name: caf\xe9"]),
        "leading-crlf": b"\r\n" + SAMPLE_REQUEST,
    }
    for name, data in seeds.items():
        write(t, name, [0, 0] + list(data))
    write(t, "rfc-sample-request-bytewise", [0, 1] + list(SAMPLE_REQUEST))
    # Regression: polling (or feeding) a handshake again after it accepted
    # sliced its emptied buffer at the old scan offset and panicked.
    write(t, "regression-poll-after-accept", [0, 0] + list(SAMPLE_REQUEST + b"GET / HTTP/1.1\r\n"))
    write(t, "rfc-sample-request-cut-5", [0, 5] + list(SAMPLE_REQUEST))
    write(t, "too-many-headers-small", [1, 0] + list(request(BASE + [b"X-%d: y" % i for i in range(5)])))
    write(t, "head-too-large-small", [1, 9] + list(request(BASE + [b"X-Pad: " + b"p" * 300])))
    write(t, "no-blank-line-too-large-small", [1, 64] + list(b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 60))


SAMPLE_RESPONSE_LINES = [
    b"Upgrade: websocket", b"Connection: Upgrade",
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
]


def response(lines, status=b"101 Switching Protocols", version=b"HTTP/1.1"):
    return version + b" " + status + b"\r\n" + b"".join(l + b"\r\n" for l in lines) + b"\r\n"


def rwithout(prefix, extra=()):
    return [l for l in SAMPLE_RESPONSE_LINES if not l.startswith(prefix)] + list(extra)


def client_handshake_seeds():
    t = "ws_client_handshake"
    rfc = response(SAMPLE_RESPONSE_LINES + [b"Sec-WebSocket-Protocol: chat"])
    seeds = {
        "rfc-sample-response": rfc,
        "rfc-sample-response-with-frames": rfc + frame(0x1, b"Hello") + frame(0x9, b"p"),
        "no-protocol": response(SAMPLE_RESPONSE_LINES),
        "protocol-superchat": response(SAMPLE_RESPONSE_LINES + [b"sec-websocket-protocol: superchat"]),
        "protocol-not-offered": response(SAMPLE_RESPONSE_LINES + [b"Sec-WebSocket-Protocol: other"]),
        "two-protocols": response(SAMPLE_RESPONSE_LINES + [b"Sec-WebSocket-Protocol: chat, superchat"]),
        "extension": response(SAMPLE_RESPONSE_LINES + [b"Sec-WebSocket-Extensions: permessage-deflate"]),
        "wrong-accept": response(rwithout(b"Sec-WebSocket-Accept", [b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo"])),
        "two-accepts": response(SAMPLE_RESPONSE_LINES + [SAMPLE_RESPONSE_LINES[2]]),
        "no-accept": response(rwithout(b"Sec-WebSocket-Accept")),
        "no-upgrade": response(rwithout(b"Upgrade")),
        "no-connection": response(rwithout(b"Connection")),
        "case-and-lists": response([b"upgrade: WebSocket", b"connection: keep-alive,upgrade",
                                    b"SEC-WEBSOCKET-ACCEPT:  s3pPLMBiTxaQ9kYGzzhZRbK+xOo=  "]),
        "status-200": response(SAMPLE_RESPONSE_LINES, status=b"200 OK"),
        "status-426": response([b"Sec-WebSocket-Version: 13"], status=b"426 Upgrade Required"),
        "http-1.0": response(SAMPLE_RESPONSE_LINES, version=b"HTTP/1.0"),
        "bare-lf": rfc.replace(b"\r\n", b"\n"),
        "partial": rfc[:50],
        "garbage": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    }
    for name, data in seeds.items():
        write(t, name, [0, 0] + list(data))
    write(t, "rfc-sample-response-bytewise", [0, 1] + list(rfc))
    # Regression: see ws_server_handshake's regression-poll-after-accept.
    write(t, "regression-poll-after-accept", [0, 7] + list(rfc + b"\x81\x02hi"))
    write(t, "rfc-sample-response-cut-6", [0, 6] + list(rfc))
    write(t, "head-too-large-small", [1, 11] + list(response(SAMPLE_RESPONSE_LINES + [b"X-Pad: " + b"p" * 300])))
    write(t, "too-many-headers-small", [1, 0] + list(response(SAMPLE_RESPONSE_LINES + [b"X-%d: y" % i for i in range(6)])))


# http_responses setup bits: limits (0-1), requests sent (<<2), the second
# one HEAD, the last one Connection: close, the first an upgrade, EOF.
R_SMALL, R_TINY = 0x01, 0x02
def R_REQS(n):
    return n << 2
R_HEAD2, R_CLOSE, R_UPGRADE, R_EOF = 0x10, 0x20, 0x40, 0x80


def http_responses_seeds():
    t = "http_responses"
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\n")
    write(t, "length", [R_REQS(1), 0] + list(ok))
    write(t, "length-bytewise", [R_REQS(1), 1] + list(ok))
    write(t, "chunked-extensions-trailers", [R_REQS(1), 5] + list(chunked))
    write(t, "sockjs-stream-open", [R_REQS(1), 3] + list(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n801\r\n" + b"h" * 2048 + b"\n\r\n2\r\no\n\r\n"))
    write(t, "close-delimited-eof", [R_REQS(1) | R_EOF, 4] + list(b"HTTP/1.1 200 OK\r\n\r\nuntil the end"))
    write(t, "http10-close-delimited", [R_REQS(2) | R_EOF, 0] + list(b"HTTP/1.0 200 OK\r\n\r\nbody"))
    write(t, "pipelined-head", [R_REQS(3) | R_HEAD2, 7] + list(
        ok + b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n" + chunked))
    write(t, "pipelined-last-closes", [R_REQS(2) | R_CLOSE | R_EOF, 2] + list(ok + ok + ok))
    write(t, "response-closes-pipelined", [R_REQS(3), 0] + list(
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na" + ok))
    write(t, "interim-then-no-content", [R_REQS(1), 1] + list(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        b"HTTP/1.1 204 No Content\r\n\r\n"))
    write(t, "not-modified-length", [R_REQS(1), 0] + list(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"))
    write(t, "upgrade-trailing-bytes", [R_UPGRADE, 6] + list(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello"))
    write(t, "upgrade-declined", [R_UPGRADE | R_EOF, 0] + list(ok))
    write(t, "conflicting-framing", [R_REQS(1), 0] + list(
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"))
    write(t, "bad-chunk", [R_REQS(1), 1] + list(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nzX"))
    write(t, "version-2", [R_REQS(1), 0] + list(b"HTTP/2 200 OK\r\n\r\n"))
    write(t, "truncated-length", [R_REQS(1) | R_EOF, 2] + list(ok[:-2]))
    write(t, "eof-idle", [R_EOF, 0])
    write(t, "unsolicited", [0, 0] + list(ok))
    write(t, "tiny-head-too-large", [R_REQS(1) | R_TINY, 3] + list(
        b"HTTP/1.1 200 OK\r\nX-Long: " + b"x" * 60 + b"\r\n\r\n"))
    write(t, "small-chunk-line-too-long", [R_REQS(1) | R_SMALL, 0] + list(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + b"e" * 20 + b"\r\nx\r\n0\r\n\r\n"))
    write(t, "custom-limits", [3 | R_REQS(1), 0, 80, 4, 6] + list(chunked))


# ---- sockjs_client: `arbitrary`-decoded Setup and Ops ----------------------
#
# An encoder for the subset of `arbitrary` (1.x) that the target's types use:
# integers little-endian, a bool as one byte, an enum as a u32 whose
# `(v * variants) >> 32` is the variant's index, an Option as a bool and the
# value, a Vec (and the ops after the setup) as one byte 1 before each
# element and a 0 after the last. Keep the variant lists in the order of the
# enums in fuzz/src/sockjs_client.rs.

def a_u8(v):
    return bytes([v & 0xFF])


def a_u16(v):
    return struct.pack("<H", v)


def a_bool(v):
    return bytes([1 if v else 0])


def a_enum(index, count):
    return struct.pack("<I", ((2 * index + 1) << 32) // (2 * count))


def a_vec(items):
    return b"".join(b"\x01" + item for item in items) + b"\x00"


def a_opt(value):
    return b"\x00" if value is None else b"\x01" + value


def a_bytes(data):
    return a_vec([bytes([b]) for b in data])


TRANSPORTS = ["websocket", "xhr_streaming", "xhr"]


def c_setup(transports=(), max_frame_size=0, max_buffered_messages=0, send_buffer_limit=0,
            info_timeout=0, transport_timeout=0, close_timeout=None, connect_timeout=None,
            ping_interval=None, ws_close_timeout=0, tls_and_query=False, cookie=False,
            auto_connect=True, piece=0):
    """Sizes in bytes (0: the default), multiples of 16 (8 for the send
    buffer); `connect_timeout`: None (the default 30 s), "unbounded", or ms."""
    assert max_frame_size % 16 == 0 and max_buffered_messages % 16 == 0
    assert send_buffer_limit % 8 == 0
    if connect_timeout is None:
        ct = a_enum(0, 3)
    elif connect_timeout == "unbounded":
        ct = a_enum(1, 3)
    else:
        ct = a_enum(2, 3) + a_u16(connect_timeout)
    return (a_vec([a_enum(TRANSPORTS.index(t), 3) for t in transports])
            + a_u8(max_frame_size // 16) + a_u8(max_buffered_messages // 16)
            + a_u8(send_buffer_limit // 8)
            + a_u16(info_timeout) + a_u16(transport_timeout)
            + a_opt(None if close_timeout is None else a_u16(close_timeout))
            + ct + a_opt(None if ping_interval is None else a_u16(ping_interval))
            + a_u16(ws_close_timeout) + a_bool(tls_and_query) + a_bool(cookie)
            + a_bool(auto_connect) + a_u8(piece))


def t_word(i):
    return a_enum(0, 3) + a_u8(i)


def t_bytes(data):
    return a_enum(1, 3) + a_bytes(data)


def t_repeat(ch, n):
    return a_enum(2, 3) + a_u8(ch) + a_u16(n)


def f_open():
    return a_enum(0, 7)


def f_heartbeat():
    return a_enum(1, 7)


def f_messages(texts):
    return a_enum(2, 7) + a_vec(texts)


def f_echo():
    return a_enum(3, 7)


def f_close(code, reason):
    return a_enum(4, 7) + a_u16(code) + reason


def f_long(n):
    return a_enum(5, 7) + a_u16(n)


def f_raw(data):
    return a_enum(6, 7) + a_bytes(data)


INFO_BODIES = ["json", "chunked", "not-json", "no-websocket", "huge"]
STATUSES = [200, 204, 404, 500, 101, 100, 302]


def r_answer():
    return a_enum(0, 7)


def r_info(websocket=True, cookie=False, body="json"):
    return a_enum(1, 7) + a_bool(websocket) + a_bool(cookie) + a_enum(INFO_BODIES.index(body), 5)


def r_head(status, chunked=False, set_cookie=False):
    return a_enum(2, 7) + a_enum(STATUSES.index(status), 7) + a_bool(chunked) + a_bool(set_cookie)


def r_prelude():
    return a_enum(3, 7)


def r_frames(frames):
    return a_enum(4, 7) + a_vec(frames)


def r_end():
    return a_enum(5, 7)


def r_ws(frame):
    return a_enum(6, 7) + frame


def w_ping(n):
    return a_enum(0, 8) + a_u8(n)


def w_pong():
    return a_enum(1, 8)


def w_close(code, n=0):
    return a_enum(2, 8) + a_u16(code) + a_u8(n)


def w_binary(data):
    return a_enum(4, 8) + a_bytes(data)


def w_text(data):
    return a_enum(5, 8) + a_bytes(data)


def w_fragmented(frame):
    return a_enum(6, 8) + frame


def w_masked():
    return a_enum(7, 8)


OPS = 13


def o_connected(conn):
    return a_enum(0, OPS) + a_u8(conn)


def o_fail(conn):
    return a_enum(1, OPS) + a_u8(conn)


def o_receive(conn, data):
    return a_enum(2, OPS) + a_u8(conn) + a_bytes(data)


def o_reply(conn, reply):
    return a_enum(3, OPS) + a_u8(conn) + reply


def o_accept_upgrade(conn):
    return a_enum(4, OPS) + a_u8(conn)


def o_eof(conn):
    return a_enum(5, OPS) + a_u8(conn)


def o_piece(n):
    return a_enum(6, OPS) + a_u8(n)


def o_advance(ms):
    return a_enum(7, OPS) + a_u16(ms)


def o_leap(ms):
    return a_enum(8, OPS) + a_u16(ms)


def o_to_deadline():
    return a_enum(9, OPS)


def o_send(text):
    return a_enum(10, OPS) + text


def o_close(code, reason):
    return a_enum(11, OPS) + a_u16(code) + reason


def o_drain():
    return a_enum(12, OPS)


def client_seed(name, setup, ops):
    write("sockjs_client", name, setup + a_vec(ops))


def sockjs_client_seeds():
    """Connections are numbered as the client asks for them: 0 is /info;
    the first transport request reuses it when it was kept alive (xhr
    transports), the WebSocket and xhr_send take new ones."""
    hello, tricky, xs = t_word(1), t_word(2), t_repeat(0, 300)
    # /info, then the WebSocket opens (the 101 with the accept of the
    # client's key, and `o`), messages go out and are echoed, heartbeats,
    # the application's close answered by the server's close frame.
    client_seed("websocket-echo", c_setup(), [
        o_reply(0, r_answer()), o_reply(1, r_answer()), o_drain(),
        o_send(hello), o_send(tricky), o_send(xs), o_reply(1, r_frames([f_echo()])),
        o_reply(1, r_frames([f_heartbeat(), f_messages([t_word(3), t_word(6)])])),
        o_reply(1, r_ws(w_ping(4))), o_drain(),
        o_close(3001, t_word(1)), o_reply(1, r_ws(w_close(3001))), o_eof(1), o_drain(),
    ])
    # The same with the upgrade answered by AcceptUpgrade and `o` as a
    # frame, a message in two fragments, and the server's close frame.
    client_seed("websocket-accept-upgrade", c_setup(transports=["websocket"]), [
        o_reply(0, r_answer()), o_accept_upgrade(1), o_reply(1, r_frames([f_open()])),
        o_send(hello), o_reply(1, r_ws(w_fragmented(f_echo()))), o_drain(),
        o_reply(1, r_frames([f_close(3000, t_bytes(b"Go away!"))])), o_drain(), o_eof(1),
    ])
    # xhr-streaming: the prelude, frames cut into 3-byte reads, sends
    # acknowledged with 204, the stream ended by the server (its
    # streamBytesLimit) and reopened on the same session.
    client_seed("xhr-streaming-reopened", c_setup(transports=["xhr_streaming"], piece=3), [
        o_reply(0, r_answer()), o_reply(0, r_answer()), o_drain(),
        o_send(hello), o_reply(1, r_answer()), o_reply(0, r_frames([f_echo()])), o_drain(),
        o_reply(0, r_frames([f_messages([tricky, t_word(4)]), f_heartbeat()])),
        o_reply(0, r_end()), o_reply(0, r_answer()), o_send(tricky), o_send(xs),
        o_reply(1, r_answer()), o_reply(1, r_answer()), o_reply(0, r_frames([f_echo()])),
        o_piece(0), o_reply(0, r_end()), o_reply(0, r_head(200, chunked=True, set_cookie=True)),
        o_reply(0, r_prelude()), o_reply(0, r_frames([f_heartbeat()])), o_drain(),
    ])
    # The stream cut in the middle of a frame: the session is lost (1006).
    client_seed("xhr-streaming-cut", c_setup(transports=["xhr_streaming"], piece=5), [
        o_reply(0, r_answer()), o_reply(0, r_answer()),
        o_receive(0, b"9\r\na[\"cut"), o_eof(0), o_drain(),
    ])
    # xhr polling: `o`, sends batched while one is in flight, the echo, a
    # heartbeat, then the server's close frame.
    client_seed("xhr-polling", c_setup(transports=["xhr"], cookie=True), [
        o_reply(0, r_answer()), o_reply(0, r_answer()), o_drain(),
        o_send(hello), o_send(tricky), o_send(t_word(6)),
        o_reply(1, r_answer()), o_reply(1, r_answer()), o_reply(0, r_answer()),
        o_drain(), o_reply(0, r_answer()), o_drain(),
        o_reply(0, r_frames([f_close(3000, t_bytes(b"Go away!"))])), o_drain(),
    ])
    # A frame over a 64-byte max_frame_size, on each transport: 1009.
    client_seed("frame-too-long-streaming",
                c_setup(transports=["xhr_streaming"], max_frame_size=64), [
        o_reply(0, r_answer()), o_reply(0, r_answer()), o_reply(0, r_frames([f_long(100)])),
        o_drain(),
    ])
    client_seed("frame-too-long-websocket",
                c_setup(transports=["websocket"], max_frame_size=64), [
        o_reply(0, r_answer()), o_reply(1, r_answer()), o_reply(1, r_frames([f_long(100)])),
        o_drain(), o_advance(6000),
    ])
    client_seed("frame-too-long-polling", c_setup(transports=["xhr"], max_frame_size=64), [
        o_reply(0, r_answer()), o_reply(0, r_answer()), o_reply(0, r_frames([f_long(100)])),
        o_drain(),
    ])
    # A server that never answers: /info times out (1002); with /info
    # answered, every transport times out in turn (2000); the connect
    # timeout cuts that short (2007).
    client_seed("silent-info", c_setup(), [o_advance(5000), o_advance(5000), o_drain()])
    client_seed("silent-transports", c_setup(), [
        o_reply(0, r_answer()), o_advance(700), o_to_deadline(), o_to_deadline(), o_drain(),
    ])
    client_seed("silent-connect-timeout",
                c_setup(transport_timeout=5000, connect_timeout=1500), [
        o_reply(0, r_answer()), o_advance(1000), o_advance(1000), o_drain(),
    ])
    # Connections made only when an op says so, one that fails.
    client_seed("connect-by-hand", c_setup(auto_connect=False), [
        o_connected(0), o_reply(0, r_answer()), o_fail(1), o_connected(2),
        o_reply(2, r_answer()), o_drain(),
    ])
    # An application that does not take its events: reading stops at
    # max_buffered_messages (100 bytes), then resumes.
    client_seed("not-draining", c_setup(transports=["xhr_streaming"], max_buffered_messages=96), [
        o_reply(0, r_answer()), o_reply(0, r_answer()),
        o_reply(0, r_frames([f_messages([t_word(10)])] * 4)),
        o_reply(0, r_frames([f_messages([t_word(10), t_word(10)])] * 3)), o_drain(),
        o_reply(0, r_frames([f_messages([xs])])), o_drain(),
    ])
    # The same with small reads and frames, on the WebSocket and streaming.
    for transport, conn in [("websocket", 1), ("xhr_streaming", 0)]:
        client_seed(f"not-draining-small-reads-{transport}",
                    c_setup(transports=[transport], max_buffered_messages=96,
                            max_frame_size=128, piece=10), [
            o_reply(0, r_answer()), o_reply(conn, r_answer()),
            o_reply(conn, r_frames([f_messages([t_word(10)])] * 8)),
            o_reply(conn, r_frames([f_messages([t_word(1)] * 6)] * 8)), o_drain(),
            o_reply(conn, r_frames([f_messages([t_word(10)])] * 8)), o_drain(), o_drain(),
        ])
    # Odd answers: /info not JSON, a huge /info, a 404 to the stream, a
    # wrong accept key, a masked frame, small send buffer full.
    client_seed("info-not-json", c_setup(), [o_reply(0, r_info(body="not-json")), o_drain()])
    client_seed("info-huge", c_setup(), [o_reply(0, r_info(body="huge")), o_drain()])
    client_seed("info-chunked-no-websocket", c_setup(), [
        o_reply(0, r_info(websocket=False, cookie=True, body="chunked")), o_reply(0, r_answer()),
        o_drain(),
    ])
    client_seed("stream-404-then-polling", c_setup(transports=["xhr_streaming", "xhr"]), [
        o_reply(0, r_answer()), o_reply(0, r_head(404)), o_reply(1, r_answer()), o_drain(),
        o_reply(1, r_answer()), o_drain(),
    ])
    wrong_101 = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
    client_seed("websocket-wrong-accept", c_setup(), [
        o_reply(0, r_answer()), o_receive(1, wrong_101), o_reply(2, r_answer()), o_drain(),
    ])
    client_seed("websocket-masked-frame", c_setup(transports=["websocket"]), [
        o_reply(0, r_answer()), o_reply(1, r_answer()), o_reply(1, r_ws(w_masked())), o_drain(),
        o_leap(6000),
    ])
    client_seed("send-buffer-full", c_setup(transports=["xhr"], send_buffer_limit=8), [
        o_reply(0, r_answer()), o_reply(0, r_answer()), o_drain(),
        o_send(hello), o_send(hello), o_send(hello), o_reply(1, r_answer()), o_send(hello),
    ])
    # WebSocket pings and a close timeout under short timers, over TLS
    # with a query.
    client_seed("websocket-pings", c_setup(transports=["websocket"], ping_interval=50,
                                           ws_close_timeout=100, close_timeout=200,
                                           tls_and_query=True), [
        o_reply(0, r_answer()), o_reply(1, r_answer()), o_advance(60), o_reply(1, r_ws(w_pong())),
        o_advance(40), o_send(hello), o_close(1000, t_word(0)), o_advance(1000), o_drain(),
    ])
    # Regressions, fixed in sockjs-proto's client (see server-proto's
    # tests/sockjs_client.rs for a test of each): a close reason longer than
    # a WebSocket close frame takes sent no close frame; the handshake and
    # the WebSocket asked for reads over 16 KiB (any WebSocket seed shows
    # it; this one reads a 20 KiB message); a close queued outside
    # handle_timeout left poll_timeout at the WebSocket's last clock reading.
    client_seed("regression-websocket-close-reason-over-123", c_setup(transports=["websocket"]), [
        o_reply(0, r_answer()), o_reply(1, r_answer()), o_drain(),
        o_close(3000, t_repeat(2, 100)), o_drain(),
    ])
    client_seed("regression-websocket-read-over-16k", c_setup(transports=["websocket"]), [
        o_reply(0, r_answer()), o_reply(1, r_answer()),
        o_reply(1, r_frames([f_long(20000)])), o_drain(),
    ])
    client_seed("regression-websocket-close-deadline-in-the-past",
                c_setup(transports=["websocket"]), [
        o_reply(0, r_answer()), o_reply(1, r_answer()), o_advance(10000), o_drain(),
        o_close(3000, t_word(1)), o_drain(),
    ])
    write("sockjs_client", "zeros", bytes(64))
    write("sockjs_client", "counting", bytes(range(256)))


def pair_ops_seeds():
    # ws_pair_ops decodes its input with `arbitrary`; its corpus is the
    # fuzzer's (minimized with cargo fuzz cmin), plus these two.
    write("ws_pair_ops", "zeros", bytes(64))
    write("ws_pair_ops", "counting", bytes(range(256)))


TARGETS = {
    "ws_frames_server": lambda: frames_seeds("ws_frames_server", masked=True),
    "ws_frames_client": lambda: frames_seeds("ws_frames_client", masked=False),
    "ws_server_handshake": server_handshake_seeds,
    "ws_client_handshake": client_handshake_seeds,
    "http_responses": http_responses_seeds,
    "ws_pair_ops": pair_ops_seeds,
    "sockjs_client": sockjs_client_seeds,
}

if __name__ == "__main__":
    chosen = sys.argv[1:] or list(TARGETS)
    for target in chosen:
        if target not in TARGETS:
            sys.exit(f"no seeds for {target}: one of {', '.join(TARGETS)}")
        TARGETS[target]()
