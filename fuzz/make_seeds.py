#!/usr/bin/env python3
"""Writes the hand-made seeds of the fuzz corpus (fuzz/corpus/<target>/seed-*).

Run from anywhere: python3 fuzz/make_seeds.py. The files it writes are
committed; the fuzzer's own finds (named by their SHA-1) sit beside them.
Frame targets take [setup, chunking, bytes...] (see fuzz/src/frames.rs);
handshake targets take [setup, chunking, bytes...] (fuzz/src/handshake.rs).
"""
import os
import struct

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
    # allowed stalled with capacity 0 (fixed in Config's input limit).
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


frames_seeds("ws_frames_server", masked=True)
frames_seeds("ws_frames_client", masked=False)
server_handshake_seeds()
client_handshake_seeds()
http_responses_seeds()

# ws_pair_ops decodes its input with `arbitrary`, which has no encoder: its
# corpus is the fuzzer's (minimized with cargo fuzz cmin), plus these two.
write("ws_pair_ops", "zeros", bytes(64))
write("ws_pair_ops", "counting", bytes(range(256)))
