#!/usr/bin/env node
// A plain `ws` WebSocket echo server: the peer for sockway's Rust WebSocket
// client tests. Every text message is echoed as text and every binary one as
// binary; when the client closes, ws answers with the same close code and
// reason (1005, "no status", is answered with an empty close frame). Pings are
// answered with pongs by ws itself. Protocol errors make ws close with the
// matching code (1002, 1007, 1009, ...).
//
// Usage: node ws-echo-server.js [--listen HOST:PORT]   (PORT 0 = any free)
// Env:   WS_MAX_PAYLOAD  largest accepted message in bytes (default 64 MiB)
//
// When ready it prints exactly one line to stdout:
//   listening on ws://HOST:PORT
'use strict';

const http = require('http');
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
      process.stdout.write('usage: ws-echo-server.js [--listen HOST:PORT]\n');
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
const maxPayload = Number(process.env.WS_MAX_PAYLOAD || 64 * 1024 * 1024);

const server = http.createServer((req, res) => {
  res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' });
  res.end('WebSocket only\n');
});
server.on('connection', (socket) => socket.on('error', () => {}));
const wss = new WebSocketServer({ server, maxPayload });

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    ws.send(data, { binary: isBinary });
  });
  // ws has already sent the right close frame for a protocol error.
  ws.on('error', () => {});
});

server.listen(port, host, () => {
  const addr = server.address();
  const shownHost = addr.family === 'IPv6' || addr.family === 6 ? `[${addr.address}]` : addr.address;
  process.stdout.write(`listening on ws://${shownHost}:${addr.port}\n`);
});

function shutdown() {
  for (const ws of wss.clients) ws.terminate();
  server.close();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
