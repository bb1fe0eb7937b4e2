// The checks of one transport in one setup, run in a page that has
// sockjs-client and driver.js loaded. A failure names its step.
'use strict';

const assert = require('node:assert/strict');

// sockjs-client's transport timeout (its `timeout` option): long enough for
// a loaded 2-core machine, short enough that a held stream fails fast.
const TRANSPORT_TIMEOUT = 5000;
// Each wait for an event in the page.
const WAIT = 15000;

// The last path segment of each transport's receiving requests.
const RECEIVER = {
  websocket: 'websocket',
  'xhr-streaming': 'xhr_streaming',
  'xhr-polling': 'xhr',
  eventsource: 'eventsource',
  'iframe-eventsource': 'eventsource',
  'iframe-htmlfile': 'htmlfile',
  'iframe-xhr-polling': 'xhr',
  'jsonp-polling': 'jsonp',
  htmlfile: 'htmlfile',
};
const RECEIVING = new Set(Object.values(RECEIVER));
const STREAMING = new Set(['xhr_streaming', 'eventsource', 'htmlfile']);

// /echo's streamBytesLimit in `sockway serve`.
const STREAM_BYTES_LIMIT = 4096;

// Every character that SockJS escapes or that JSON quotes.
function escapedRanges() {
  let s = '';
  for (let c = 0; c < 0x20; c++) s += String.fromCharCode(c);
  return `${s}\u2028\u2029\u200c\u200d\u200e\u200f\ufeff"'\\/\u007f\u0080\u009f\u0300\ufffe\uffff end`;
}

const MESSAGES = {
  ascii: ['hello', 'The quick brown fox jumps over the lazy dog 0123456789 !#$%&()*+,-./:;<=>?@[]^_`{|}~'],
  multiByte: ['żółć 日本 🎉', 'Ελληνικά русский עברית العربية 한국어 😀🚀'],
  escaped: [escapedRanges(), '\u2028', '\u2029', '\ufeff', '\u0000', '"', '\\', '\\"', ''],
  // 100 KiB, not one repeated character: a lost or shifted chunk shows.
  big: Array.from({ length: 100 * 1024 / 16 }, (_, i) => `${String(i).padStart(6, '0')}:abcd\u00e9"\\xyz`)
    .join('')
    .slice(0, 100 * 1024),
  fifty: Array.from({ length: 50 }, (_, i) => `message ${i} of 50`),
  // 5 rounds of 10 × 250 characters.
  rounds: Array.from({ length: 5 }, (_, r) =>
    Array.from({ length: 10 }, (_, i) => `#${r}.${i} `.padEnd(250, String.fromCharCode(97 + r * 5 + (i % 5)))),
  ),
};

function describeDifference(got, want) {
  if (got.length !== want.length) return `${got.length} messages instead of ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    if (got[i] === want[i]) continue;
    const g = String(got[i]);
    const w = want[i];
    let at = 0;
    while (at < g.length && g[at] === w[at]) at++;
    return (
      `message ${i} (${w.length} chars) came back as ${g.length} chars, differing at ${at}: ` +
      `${JSON.stringify(g.slice(at, at + 20))} instead of ${JSON.stringify(w.slice(at, at + 20))}`
    );
  }
  return null;
}

// The session and kind of each SockJS receiving request under `prefix`.
function receivingRequests(urls, prefix) {
  const out = [];
  for (const url of urls) {
    const m = new URL(url).pathname.match(/^(\/[^/]+)\/[^/.]+\/([^/.]+)\/([a-z_]+)$/);
    if (m && m[1] === prefix && RECEIVING.has(m[3])) out.push({ session: m[2], kind: m[3] });
  }
  return out;
}

class Combo {
  // `page` has sockjs-client and driver.js; `base` is the server (or
  // proxy) URL; `seen` returns {requests, websockets}: the URLs of the HTTP
  // requests and WebSockets made so far.
  constructor(page, base, seen, label) {
    this.page = page;
    this.base = base;
    this.seen = seen;
    this.label = label;
    this.failedStep = null;
  }

  call(name, ...args) {
    return this.page.evaluate(([n, a]) => window.sockwayTest[n](...a), [name, args]);
  }

  async step(name, fn) {
    const started = Date.now();
    try {
      const value = await fn();
      if (process.env.BROWSER_DEBUG) console.log(`# ${this.label}: ${name}: ${Date.now() - started} ms`);
      return value;
    } catch (err) {
      this.failedStep = name;
      err.message = `${this.label}: ${name}: ${err.message}`;
      throw err;
    }
  }

  async exchange(id, messages) {
    const got = await this.call('exchange', id, messages, WAIT);
    const difference = describeDifference(got, messages);
    assert.ok(difference === null, difference);
  }

  options(transport) {
    return transport === 'auto'
      ? { timeout: TRANSPORT_TIMEOUT }
      : { transports: [transport], timeout: TRANSPORT_TIMEOUT };
  }

  async open(path, transport, expected) {
    const opened = await this.call('open', `${this.base}${path}`, this.options(transport), WAIT);
    assert.ok(!opened.closed, `closed before opening: ${JSON.stringify(opened.closed)}`);
    assert.equal(opened.transport, expected, 'the transport in use');
    return opened.id;
  }

  // Resolves once `count` receiving requests of /echo have been seen.
  async receiving(count) {
    const deadline = Date.now() + 3000;
    for (;;) {
      const requests = receivingRequests(this.seen().requests, '/echo');
      if (requests.length >= count || Date.now() > deadline) return requests;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  // Everything a working transport must do.
  async works(transport, expected) {
    const kind = RECEIVER[expected];
    const streaming = STREAMING.has(kind);
    const echo = await this.step('open', () => this.open('/echo', transport, expected));
    let sent = 0;
    const exchange = async (messages) => {
      await this.exchange(echo, messages);
      sent += messages.length;
    };
    await this.step('echo ASCII', () => exchange(MESSAGES.ascii));
    await this.step('echo multi-byte text', () => exchange(MESSAGES.multiByte));
    await this.step('echo the escaped ranges', () => exchange(MESSAGES.escaped));
    await this.step('echo 100 KB', () => exchange([MESSAGES.big]));
    await this.step('50 messages in order', () => exchange(MESSAGES.fifty));
    await this.step(streaming ? 'stream cut and resumed' : '5 rounds of 10 messages', async () => {
      // Five rounds of 2.5 KB frames: every other one passes the
      // streamBytesLimit, which ends the response; the client must open
      // the next one and get every message once.
      const before = receivingRequests(this.seen().requests, '/echo').length;
      for (const round of MESSAGES.rounds) await exchange(round);
      if (streaming) {
        const after = (await this.receiving(before + 2)).length;
        assert.ok(
          after >= before + 2,
          `${after - before} new ${kind} requests for 5 frames of 2.5 KB ` +
            `with streamBytesLimit ${STREAM_BYTES_LIMIT}`,
        );
      }
    });
    await this.step('nothing lost or repeated', async () => {
      await exchange(['last']);
      assert.equal(await this.call('messageCount', echo), sent, 'messages received in all');
    });
    await this.step(`only ${kind} used`, async () => {
      const { requests, websockets } = this.seen();
      const receiving = receivingRequests(requests, '/echo');
      const echoSockets = websockets.filter((u) => /\/echo\/[^/]+\/[^/]+\/websocket$/.test(u));
      if (kind === 'websocket') {
        assert.deepEqual(receiving, [], 'HTTP receiving requests');
        assert.equal(echoSockets.length, 1, 'WebSockets opened');
      } else {
        // Picking a transport itself, sockjs-client tries websocket first:
        // the one refused attempt before falling back.
        assert.equal(echoSockets.length, transport === 'auto' ? 1 : 0, 'WebSocket attempts');
        assert.deepEqual([...new Set(receiving.map((r) => r.kind))], [kind], 'receiving kinds');
        assert.equal(new Set(receiving.map((r) => r.session)).size, 1, 'sessions');
        // The iframe transports run sockjs-client in the server's iframe
        // page, which loads it from clientLibraryUrl.
        if (expected.startsWith('iframe-')) {
          assert.ok(requests.includes(`${this.base}/echo/iframe.html`), 'the iframe page loaded');
        }
        // The 100 KB message cut a stream, and so did the rounds, twice.
        if (streaming) assert.ok(receiving.length >= 4, `${receiving.length} ${kind} requests`);
      }
    });
    await this.call('dispose', echo);

    await this.step('client close', async () => {
      const a = await this.open('/broadcast', transport, expected);
      const b = await this.open('/broadcast', 'xhr-polling', 'xhr-polling');
      const marker = `${this.label} ${Math.random()}`;
      await this.call('send', b, `before ${marker}`);
      await this.call('waitMessage', a, `before ${marker}`, WAIT);
      const closed = await this.call('close', a, WAIT);
      assert.deepEqual(
        [closed.code, closed.reason, closed.wasClean],
        [1000, 'Normal closure', true],
        'close event',
      );
      // A message sent after the close reaches every open session; once
      // the second client has its own, none may reach the closed one.
      await this.call('send', b, `after ${marker}`);
      await this.call('waitMessage', b, `after ${marker}`, WAIT);
      const after = await this.call('afterClose', a);
      assert.deepEqual(after.events, [], 'events after the close event');
      await this.call('dispose', a);
      await this.call('dispose', b);
    });

    await this.step('server close', async () => {
      const id = await this.open('/close', transport, expected);
      const closed = await this.call('waitClose', id, WAIT);
      assert.deepEqual([closed.code, closed.reason], [3000, 'Go away!'], 'close event');
      assert.deepEqual(await this.call('eventTypes', id), ['open', 'close'], 'events');
      await this.call('dispose', id);
    });
  }

  // The websocket transport through a proxy that drops Upgrade: refused at
  // once (not a time-out), and sockjs-client has nothing to fall back to.
  async refused(transport) {
    await this.step('refused', async () => {
      const opened = await this.call('open', `${this.base}/echo`, this.options(transport), WAIT);
      assert.ok(opened.closed, `opened over ${opened.transport}`);
      assert.deepEqual([opened.closed.code, opened.closed.reason], [2000, 'All transports failed']);
      assert.ok(
        opened.closed.elapsed < TRANSPORT_TIMEOUT,
        `failed after ${opened.closed.elapsed} ms: a time-out, not a refusal`,
      );
      const attempts = this.seen().websockets.filter((u) => /\/echo\/[^/]+\/[^/]+\/websocket$/.test(u));
      assert.equal(attempts.length, 1, 'WebSocket attempts');
    });
  }

  // A transport that sockjs-client offers only on the same origin
  // (htmlfile): not tried at all from another one.
  async unavailable(transport) {
    await this.step('not offered', async () => {
      const opened = await this.call('open', `${this.base}/echo`, this.options(transport), WAIT);
      assert.ok(opened.closed, `opened over ${opened.transport}`);
      assert.deepEqual([opened.closed.code, opened.closed.reason], [2000, 'All transports failed']);
      assert.deepEqual(receivingRequests(this.seen().requests, '/echo'), [], 'receiving requests');
    });
  }
}

module.exports = { Combo, MESSAGES, RECEIVER };
