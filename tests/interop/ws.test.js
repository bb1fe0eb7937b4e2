// The `ws` library (and hand-made frames over a raw TCP socket) as a client
// of a raw WebSocket echo endpoint.
//
// Env:
//   SOCKWAY_WS_URL  the raw WebSocket echo, e.g. ws://127.0.0.1:8081/ws
//   SOCKWAY_URL     the SockJS base URL, for the SockJS raw websocket test
//                   (/echo/websocket); that test is skipped when unset, so
//                   this file can also check a plain echo (ws-echo-server.js)
//
// Run: node --test --test-concurrency=1 ws.test.js
'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const net = require('node:net');
const WebSocket = require('ws');

const WS_URL = process.env.SOCKWAY_WS_URL || 'ws://127.0.0.1:8081/ws';
const SOCKJS_URL = (process.env.SOCKWAY_URL || '').replace(/\/+$/, '');
const T = 10_000;

// ---------------------------------------------------------------- helpers

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// A ws client whose messages are queued; `next()` resolves with the next one.
class Conn {
  constructor(url, opts) {
    this.ws = new WebSocket(url, opts);
    this.queue = [];
    this.waiting = [];
    this.closeInfo = null;
    this.error = null;
    this.ws.on('message', (data, isBinary) => this._push({ data, isBinary }));
    this.ws.on('error', (err) => {
      this.error = err;
    });
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        for (const w of this.waiting.splice(0)) w.reject(new Error(`closed ${code} ${reason}`));
        resolve(this.closeInfo);
      });
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    });
  }

  _push(m) {
    const w = this.waiting.shift();
    if (w) w.resolve(m);
    else this.queue.push(m);
  }

  next(ms = 5000) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.closeInfo) return Promise.reject(new Error(`closed ${this.closeInfo.code}`));
    const p = new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
    return withTimeout(p, ms, 'a message');
  }

  send(data, opts) {
    return new Promise((resolve, reject) => this.ws.send(data, opts || {}, (err) => (err ? reject(err) : resolve())));
  }

  terminate() {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }
}

async function connect(t, url = WS_URL, opts) {
  const c = new Conn(url, opts);
  t.after(() => c.terminate());
  await withTimeout(c.opened, 5000, `open ${url}`);
  return c;
}

// Raw TCP client: does the opening handshake by hand so tests can then write
// arbitrary (invalid) frames, and reads the server's frames back.
async function rawConnect(t, url = WS_URL) {
  const u = new URL(url);
  const socket = net.connect(Number(u.port || 80), u.hostname);
  t.after(() => socket.destroy());
  let buf = Buffer.alloc(0);
  let ended = false;
  let wake = null;
  socket.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    if (wake) wake();
  });
  const onEnd = () => {
    ended = true;
    if (wake) wake();
  };
  socket.on('end', onEnd);
  socket.on('close', onEnd);
  socket.on('error', onEnd);
  const waitFor = (pred, what, ms = 5000) =>
    withTimeout(
      new Promise((resolve) => {
        const check = () => {
          if (pred() || ended) {
            wake = null;
            resolve();
          }
        };
        wake = check;
        check();
      }),
      ms,
      what,
    );

  await withTimeout(new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  }), 5000, 'TCP connect');
  const key = crypto.randomBytes(16).toString('base64');
  socket.write(
    `GET ${u.pathname}${u.search} HTTP/1.1\r\n` +
      `Host: ${u.host}\r\n` +
      'Upgrade: websocket\r\n' +
      'Connection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${key}\r\n` +
      'Sec-WebSocket-Version: 13\r\n\r\n',
  );
  await waitFor(() => buf.indexOf('\r\n\r\n') !== -1, 'handshake response');
  const headEnd = buf.indexOf('\r\n\r\n');
  assert.notEqual(headEnd, -1, 'got a handshake response');
  const head = buf.subarray(0, headEnd).toString('latin1');
  buf = buf.subarray(headEnd + 4);
  assert.match(head, /^HTTP\/1\.1 101 /);
  const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  assert.match(head, new RegExp(`\\r\\nsec-websocket-accept: *${accept.replace(/[+/=]/g, '\\$&')}`, 'i'));

  return {
    socket,
    write: (b) => socket.write(b),
    // Resolves with every whole frame the server sent until it closed the TCP
    // connection (or `ms` passed).
    async framesUntilEnd(ms = 5000) {
      await waitFor(() => false, 'server to close the TCP connection', ms);
      return parseFrames(buf);
    },
  };
}

// Builds one frame as a client would (masked unless `mask` is false).
function frame({ fin = true, rsv = 0, opcode, payload = Buffer.alloc(0), mask = true }) {
  payload = Buffer.from(payload);
  const len = payload.length;
  const head = [((fin ? 0x80 : 0) | (rsv << 4) | opcode) & 0xff];
  const m = mask ? 0x80 : 0;
  if (len < 126) head.push(m | len);
  else if (len < 65536) head.push(m | 126, len >> 8, len & 0xff);
  else throw new Error('test frames stay small');
  const parts = [Buffer.from(head)];
  if (mask) {
    const key = crypto.randomBytes(4);
    const masked = Buffer.alloc(len);
    for (let i = 0; i < len; i++) masked[i] = payload[i] ^ key[i & 3];
    parts.push(key, masked);
  } else {
    parts.push(payload);
  }
  return Buffer.concat(parts);
}

// Parses unmasked server frames (payloads < 64 KiB are all these tests see).
function parseFrames(b) {
  const out = [];
  let i = 0;
  while (i + 2 <= b.length) {
    const opcode = b[i] & 0x0f;
    const masked = (b[i + 1] & 0x80) !== 0;
    let len = b[i + 1] & 0x7f;
    let p = i + 2;
    if (len === 126) {
      if (p + 2 > b.length) break;
      len = b.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      if (p + 8 > b.length) break;
      len = Number(b.readBigUInt64BE(p));
      p += 8;
    }
    if (masked) p += 4;
    if (p + len > b.length) break;
    out.push({ fin: (b[i] & 0x80) !== 0, rsv: (b[i] >> 4) & 7, opcode, masked, payload: b.subarray(p, p + len) });
    i = p + len;
  }
  return out;
}

function closeCodeOf(frames) {
  const close = frames.find((f) => f.opcode === 0x8);
  assert.ok(close, `server sent a close frame (frames: ${frames.map((f) => f.opcode).join(',') || 'none'})`);
  assert.equal(close.masked, false, 'server frames are unmasked');
  assert.ok(close.payload.length >= 2, 'close frame carries a status code');
  return close.payload.readUInt16BE(0);
}

// --------------------------------------------------------------------- tests

describe(`ws client against ${WS_URL}`, { concurrency: false }, () => {
  it('echoes text messages, in order, as text', { timeout: T }, async (t) => {
    const c = await connect(t);
    const msgs = ['hello', '', 'é € 𝄞 😀👍🏽', 'x'.repeat(70_000), '{"a":[1,2]}'];
    for (const m of msgs) await c.send(m);
    for (const m of msgs) {
      const got = await c.next();
      assert.equal(got.isBinary, false);
      assert.equal(got.data.toString('utf8'), m);
    }
  });

  it('echoes binary messages as binary', { timeout: T }, async (t) => {
    const c = await connect(t);
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const invalidUtf8 = Buffer.from([0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80]);
    const msgs = [all, Buffer.alloc(0), invalidUtf8, crypto.randomBytes(200_000)];
    for (const m of msgs) await c.send(m, { binary: true });
    for (const m of msgs) {
      const got = await c.next();
      assert.equal(got.isBinary, true);
      assert.ok(Buffer.compare(got.data, m) === 0, `binary of ${m.length} bytes echoed identical`);
    }
  });

  it('echoes a 10 MB binary message', { timeout: 30_000 }, async (t) => {
    const c = await connect(t);
    const big = crypto.randomBytes(10 * 1024 * 1024);
    await c.send(big, { binary: true });
    const got = await c.next(20_000);
    assert.equal(got.isBinary, true);
    assert.equal(got.data.length, big.length);
    assert.ok(Buffer.compare(got.data, big) === 0, '10 MB echoed identical');
  });

  it('reassembles a fragmented text message with a ping between fragments', { timeout: T }, async (t) => {
    const c = await connect(t);
    const pong = new Promise((resolve) => c.ws.once('pong', resolve));
    // ws writes one frame per send() with `fin: false` (continuation frames
    // after the first), and the ping as a control frame between them.
    await c.send('frag-', { fin: false });
    c.ws.ping(Buffer.from('mid'));
    await c.send('men', { fin: false });
    await c.send('ted ✓', { fin: true });
    const got = await c.next();
    assert.equal(got.isBinary, false);
    assert.equal(got.data.toString('utf8'), 'frag-mented ✓');
    assert.equal((await withTimeout(pong, 5000, 'pong')).toString(), 'mid');
  });

  it('answers a ping with a pong carrying the same payload', { timeout: T }, async (t) => {
    const c = await connect(t);
    for (const payload of [Buffer.from('ping-1'), Buffer.alloc(0), crypto.randomBytes(125)]) {
      const pong = new Promise((resolve) => c.ws.once('pong', resolve));
      c.ws.ping(payload);
      const got = await withTimeout(pong, 5000, 'pong');
      assert.ok(Buffer.compare(got, payload) === 0, `pong echoes a ${payload.length}-byte payload`);
    }
    // The connection still works afterwards.
    await c.send('after ping');
    assert.equal((await c.next()).data.toString(), 'after ping');
  });

  it('close handshake: code 4000 and its reason are echoed back', { timeout: T }, async (t) => {
    const c = await connect(t);
    await c.send('bye soon');
    assert.equal((await c.next()).data.toString(), 'bye soon');
    c.ws.close(4000, 'done here ✓');
    const info = await withTimeout(c.closed, 5000, 'close');
    assert.equal(info.code, 4000);
    assert.equal(info.reason, 'done here ✓');
    assert.equal(c.ws.readyState, WebSocket.CLOSED);
  });

  it('a frame with RSV1 set (no extension negotiated) gets close 1002', { timeout: T }, async (t) => {
    const raw = await rawConnect(t);
    raw.write(frame({ rsv: 0b100, opcode: 0x1, payload: 'compressed?' }));
    const frames = await raw.framesUntilEnd();
    assert.equal(closeCodeOf(frames), 1002);
    assert.ok(!frames.some((f) => f.opcode === 0x1), 'the message was not echoed');
  });

  it('an unmasked client frame gets close 1002', { timeout: T }, async (t) => {
    const raw = await rawConnect(t);
    raw.write(frame({ opcode: 0x1, payload: 'not masked', mask: false }));
    const frames = await raw.framesUntilEnd();
    assert.equal(closeCodeOf(frames), 1002);
    assert.ok(!frames.some((f) => f.opcode === 0x1), 'the message was not echoed');
  });

  it('a text message that is not UTF-8 gets close 1007', { timeout: T }, async (t) => {
    const raw = await rawConnect(t);
    raw.write(frame({ opcode: 0x1, payload: Buffer.from([0x61, 0xff, 0x62]) }));
    const frames = await raw.framesUntilEnd();
    assert.equal(closeCodeOf(frames), 1007);
    assert.ok(!frames.some((f) => f.opcode === 0x1), 'the message was not echoed');
  });

  it('a hand-made valid frame is echoed (raw socket sanity check)', { timeout: T }, async (t) => {
    const raw = await rawConnect(t);
    raw.write(frame({ opcode: 0x1, payload: 'raw hello' }));
    raw.write(frame({ opcode: 0x8, payload: Buffer.from([0x03, 0xe8]) })); // close 1000
    const frames = await raw.framesUntilEnd();
    const text = frames.find((f) => f.opcode === 0x1);
    assert.ok(text, 'the text frame was echoed');
    assert.equal(text.masked, false);
    assert.equal(text.payload.toString(), 'raw hello');
    assert.equal(closeCodeOf(frames), 1000);
  });
});

describe(`SockJS raw websocket ${SOCKJS_URL}/echo/websocket`, { concurrency: false, skip: !SOCKJS_URL && 'SOCKWAY_URL unset' }, () => {
  it('echoes text with no SockJS framing', { timeout: T }, async (t) => {
    const c = await connect(t, SOCKJS_URL.replace(/^http/, 'ws') + '/echo/websocket');
    for (const m of ['raw sockjs', 'é € 😀', '["not","framed"]']) {
      await c.send(m);
      const got = await c.next();
      assert.equal(got.isBinary, false);
      assert.equal(got.data.toString('utf8'), m);
    }
  });
});
