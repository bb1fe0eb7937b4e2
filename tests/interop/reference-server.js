#!/usr/bin/env node
// Reference SockJS + WebSocket server for the interop tests, built on
// sockjs-node 0.3.24 and ws. It serves the standard SockJS test endpoints
// (as sockjs-protocol's test server does) plus a raw `ws` echo at /ws, with
// the same options `sockway serve` uses:
//
//   /echo                     echo; response_limit (streamBytesLimit) 4096
//   /disabled_websocket_echo  echo; websocket transports disabled
//   /cookie_needed_echo       echo; jsessionid (JSESSIONID cookie) on
//   /close                    closes every session at once: c[3000,"Go away!"]
//   /amplify                  message "n" -> 2^n "x" (n clamped to 0..=19)
//   /broadcast                every message goes to every open session
//   /ws                       raw WebSocket echo (text and binary; the close
//                             code and reason are echoed by ws)
//
// Usage: node reference-server.js [--listen HOST:PORT]   (PORT 0 = any free)
// Env:   HEARTBEAT_MS  heartbeat interval (default 25000)
//        REFERENCE_LOG=1  print sockjs-node's own log lines to stderr
//        REFERENCE_WS_PING_HEARTBEAT=1  keep sockjs-node's native websocket
//          heartbeat (a WebSocket ping frame) instead of a SockJS `h` frame;
//          see the note below.
//
// When ready it prints exactly one line to stdout:
//   listening on http://HOST:PORT
'use strict';

const http = require('http');
const path = require('path');
const sockjs = require('sockjs');
const { WebSocketServer } = require('ws');

function parseArgs(argv) {
  let listen = '127.0.0.1:0';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--listen') {
      listen = argv[++i];
    } else if (a.startsWith('--listen=')) {
      listen = a.slice('--listen='.length);
    } else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: reference-server.js [--listen HOST:PORT]\n');
      process.exit(0);
    } else {
      process.stderr.write(`unknown argument: ${a}\n`);
      process.exit(2);
    }
  }
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen || '');
  if (!m) {
    process.stderr.write(`--listen wants HOST:PORT, got ${JSON.stringify(listen)}\n`);
    process.exit(2);
  }
  return { host: m[1] || m[2], port: Number(m[3]) };
}

const { host, port } = parseArgs(process.argv.slice(2));
const heartbeatMs = Number(process.env.HEARTBEAT_MS || 25000);
if (!Number.isFinite(heartbeatMs) || heartbeatMs <= 0) {
  process.stderr.write(`bad HEARTBEAT_MS: ${process.env.HEARTBEAT_MS}\n`);
  process.exit(2);
}

// sockjs-node 0.3.x deviates from the SockJS protocol on the `websocket`
// transport: instead of writing `h` heartbeat frames it sends a WebSocket
// ping (faye-websocket's `ping()` returns true) and only falls back to `h`
// when ping is unsupported. sockjs-client never sees such a ping, so its
// `heartbeat` event would not fire. The protocol (and sockway) send `h` on
// every transport, so by default make ping report "unsupported" on the
// server-side faye WebSocket sockjs-node uses; sockjs-node then sends `h`.
if (!process.env.REFERENCE_WS_PING_HEARTBEAT) {
  const fayePath = require.resolve('faye-websocket', {
    paths: [path.dirname(require.resolve('sockjs/package.json'))],
  });
  const FayeServerWebSocket = require(fayePath);
  FayeServerWebSocket.prototype.ping = function () {
    return false;
  };
}

const log = process.env.REFERENCE_LOG
  ? (severity, line) => process.stderr.write(`[sockjs ${severity}] ${line}\n`)
  : () => {};

const common = {
  heartbeat_delay: heartbeatMs,
  disconnect_delay: 5000,
  log,
};

const server = http.createServer();
// A client resetting a connection must not crash the server: once a socket
// is upgraded (WebSocket, or sockjs-node answering 404 on an upgrade) the http
// module no longer handles its errors.
server.on('connection', (socket) => socket.on('error', () => {}));

// Raw WebSocket echo at /ws (registered before sockjs, which passes unknown
// paths on to earlier 'upgrade' listeners).
const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    ws.send(data, { binary: isBinary });
  });
  // Protocol errors: ws has already sent the close frame (1002, 1007, ...).
  ws.on('error', () => {});
});
server.on('upgrade', (req, socket, head) => {
  const pathname = (req.url || '').split('?')[0];
  if (pathname === '/ws') {
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  } else {
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  }
});
server.on('request', (req, res) => {
  // Only reached for paths no sockjs prefix claims.
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=UTF-8' });
  res.end('404 Error: Page not found\n');
});

function echo(conn) {
  conn.on('data', (m) => conn.write(m));
}

const endpoints = [
  ['/echo', { response_limit: 4096 }, echo],
  ['/disabled_websocket_echo', { websocket: false }, echo],
  ['/cookie_needed_echo', { jsessionid: true }, echo],
  [
    '/close',
    {},
    (conn) => {
      conn.close(3000, 'Go away!');
    },
  ],
  [
    '/amplify',
    {},
    (conn) => {
      conn.on('data', (m) => {
        let n = Math.floor(Number(m));
        if (!Number.isFinite(n)) n = 1;
        n = Math.min(19, Math.max(0, n));
        conn.write('x'.repeat(2 ** n));
      });
    },
  ],
];

for (const [prefix, opts, onConnection] of endpoints) {
  const s = sockjs.createServer({ ...common, ...opts });
  s.on('connection', onConnection);
  s.installHandlers(server, { prefix });
}

{
  const open = new Set();
  const s = sockjs.createServer(common);
  s.on('connection', (conn) => {
    open.add(conn);
    conn.on('data', (m) => {
      for (const c of open) c.write(m);
    });
    conn.on('close', () => open.delete(conn));
  });
  s.installHandlers(server, { prefix: '/broadcast' });
}

server.listen(port, host, () => {
  const addr = server.address();
  const shownHost = addr.family === 'IPv6' || addr.family === 6 ? `[${addr.address}]` : addr.address;
  process.stdout.write(`listening on http://${shownHost}:${addr.port}\n`);
});

function shutdown() {
  server.close();
  for (const ws of wss.clients) ws.terminate();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
