// The processes and servers behind the browser tests: `sockway serve`, a
// static server for the other origin (and for sockjs-client itself), and
// nginx with one server block per proxy setup. Every child is stopped by
// PID when the test process exits; its PID is also appended to
// $BROWSER_PID_FILE, so that scripts/browser.sh can stop what a killed test
// process left behind.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

// Every transport sockjs-client 1.6.1 has in a browser.
const TRANSPORTS = [
  'websocket',
  'xhr-streaming',
  'xhr-polling',
  'eventsource',
  'iframe-eventsource',
  'iframe-htmlfile',
  'iframe-xhr-polling',
  'jsonp-polling',
  'htmlfile',
];

const children = new Set();

function stopAll() {
  for (const child of children) {
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  children.clear();
}
process.on('exit', stopAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopAll();
    process.exit(130);
  });
}

// Appends "PID START" to $BROWSER_PID_FILE, START being the process's start
// time (field 22 of /proc/PID/stat): the script stops a PID only while it
// still names the same process.
function recordPid(pid) {
  if (!process.env.BROWSER_PID_FILE || !pid) return;
  let start = '';
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return; // already gone
  }
  fs.appendFileSync(process.env.BROWSER_PID_FILE, `${pid} ${start}\n`);
}

function startChild(command, args, options) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.add(child);
  recordPid(child.pid);
  child.output = '';
  const keep = (chunk) => {
    child.output = (child.output + chunk).slice(-20000);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  child.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  return child;
}

// Stops a child by its PID and waits for it to go (SIGKILL after 5 s).
async function stopChild(child) {
  if (!children.has(child)) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await child.exited;
  clearTimeout(timer);
}

// Resolves with `what`'s value once it returns one; rejects after ms.
async function poll(what, ms, description, child) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await what();
    if (value) return value;
    if (child && !children.has(child)) {
      throw new Error(`${description}: the process exited; its output:\n${child.output}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${description}: not after ${ms} ms; output:\n${child ? child.output : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// `sockway serve` on a free loopback port, with `--stack <stack>` when
// `stack` is set (axum, hyper; none: sockway's own); resolves with its base
// URL.
async function startSockway({ bin, clientLibraryUrl, heartbeat, stack }) {
  const child = startChild(
    bin,
    [
      'serve',
      ...(stack ? ['--stack', stack] : []),
      '--listen',
      '127.0.0.1:0',
      '--heartbeat-time',
      heartbeat,
      '--client-library-url',
      clientLibraryUrl,
      // nginx, on loopback.
      '--trusted-proxies',
      '127.0.0.1',
    ],
    { env: { ...process.env, SOCKWAY_LOG: process.env.SOCKWAY_LOG || 'warn' } },
  );
  const url = await poll(
    () => (child.output.match(/^listening on (http:\/\/[0-9.:]+)$/m) || [])[1],
    10000,
    `${bin} serve${stack ? ` --stack ${stack}` : ''}`,
    child,
  );
  return { url, child };
}

// An HTTP server on a free loopback port serving `files`
// ({path: {type, body}}); resolves with {url, close}.
async function startStaticServer(files) {
  const server = http.createServer((req, res) => {
    const file = files[new URL(req.url, 'http://x').pathname];
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': file.type, 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

const NGINX = process.env.NGINX || 'nginx';
const NGINX_DIR = path.join(__dirname, 'nginx');

// One proxy setup's server block: nginx/<name>.conf with its placeholders
// filled in.
function nginxServerBlock(name, listen, sockway) {
  return fs
    .readFileSync(path.join(NGINX_DIR, `${name}.conf`), 'utf8')
    .replaceAll('@LISTEN@', listen)
    .replaceAll('@SOCKWAY@', sockway);
}

// nginx in the foreground with a config written to `dir`: one server block
// per setup in `setups` (names of files in nginx/), each on its own free
// loopback port, all proxying to `sockwayUrl`. Resolves with {urls: {setup:
// url}, child, version}.
async function startNginx({ dir, setups, sockwayUrl }) {
  const upstream = new URL(sockwayUrl).host;
  const version = await new Promise((resolve) => {
    const v = spawn(NGINX, ['-v'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let out = '';
    v.stderr.on('data', (d) => (out += d));
    v.on('exit', () => resolve(out.trim()));
  });
  for (let attempt = 1; ; attempt++) {
    const urls = {};
    const blocks = [];
    for (const setup of setups) {
      const port = await freePort();
      urls[setup] = `http://127.0.0.1:${port}`;
      blocks.push(`# ${setup}\n${nginxServerBlock(setup, `127.0.0.1:${port}`, upstream)}`);
    }
    const temp = (name) => `${name}_temp_path ${path.join(dir, name)};`;
    const conf = [
      // The workers of a master started as root run as `nobody`, which
      // cannot write to the temp dirs in `dir`.
      process.getuid && process.getuid() === 0 ? 'user root root;' : '',
      'worker_processes 1;',
      'daemon off;',
      `pid ${path.join(dir, 'nginx.pid')};`,
      `error_log ${path.join(dir, 'error.log')} warn;`,
      'events { worker_connections 1024; }',
      'http {',
      `  access_log ${path.join(dir, 'access.log')};`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((n) => `  ${temp(n)}`),
      fs.readFileSync(path.join(NGINX_DIR, 'upgrade-map.conf'), 'utf8'),
      ...blocks,
      '}',
      '',
    ].join('\n');
    const file = path.join(dir, 'nginx.conf');
    fs.writeFileSync(file, conf);
    const child = startChild(NGINX, ['-p', dir, '-c', file, '-e', path.join(dir, 'error.log')]);
    try {
      await poll(
        async () => {
          for (const url of Object.values(urls)) {
            if (!(await accepts(Number(new URL(url).port)))) return false;
          }
          return true;
        },
        10000,
        'nginx',
        child,
      );
      return { urls, child, version };
    } catch (err) {
      await stopChild(child);
      // A free port taken by someone else in between: try new ones.
      const log = fs.existsSync(path.join(dir, 'error.log'))
        ? fs.readFileSync(path.join(dir, 'error.log'), 'utf8')
        : '';
      if (attempt >= 3 || !/Address already in use/.test(log + err.message)) {
        throw new Error(`${err.message}\nerror.log:\n${log}`);
      }
    }
  }
}

module.exports = {
  TRANSPORTS,
  poll,
  recordPid,
  startChild,
  stopChild,
  stopAll,
  startSockway,
  startStaticServer,
  startNginx,
  nginxServerBlock,
};
