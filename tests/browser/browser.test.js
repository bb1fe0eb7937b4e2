// sockjs-client 1.6.1 in headless Chromium against `sockway serve`, directly
// and through nginx, from the server's own origin and from another one;
// then the demo page. Started by scripts/browser.sh (see README.md here).
//
// Env: SOCKWAY_BIN (the sockway binary), SOCKWAY_STACK (axum or hyper:
// `sockway serve --stack` it; unset or empty: sockway's own stack), CHROMIUM
// (default /usr/bin/chromium), NGINX (default nginx), BROWSER_OUT (where the
// matrix and the screenshot go), BROWSER_CONCURRENCY (combinations at once,
// default 4), BROWSER_PID_FILE.
'use strict';

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const harness = require('./harness');
const { Combo } = require('./checks');
const { runDemo } = require('./demo');

const SETUPS = ['direct', 'nginx-websocket', 'nginx-no-upgrade', 'nginx-buffering', 'nginx-defaults'];
// nginx setups and the config file (in nginx/) of each.
const NGINX = {
  'nginx-websocket': 'websocket',
  'nginx-no-upgrade': 'no-upgrade',
  'nginx-buffering': 'buffering',
  'nginx-defaults': 'defaults',
};
const ORIGINS = ['same-origin', 'cross-origin'];
// Every transport, and sockjs-client's own choice.
const TRANSPORTS = [...harness.TRANSPORTS, 'auto'];
const UPGRADES = new Set(['direct', 'nginx-websocket', 'nginx-buffering']);

// What each combination must do: work over a transport, be refused, or not
// be offered by sockjs-client at all.
function expectation(setup, origin, transport) {
  if (transport === 'auto') {
    // With the websocket transport out, sockjs-client's next choice:
    // xhr-streaming, which must make it through every proxy setup.
    return { works: UPGRADES.has(setup) ? 'websocket' : 'xhr-streaming' };
  }
  if (transport === 'websocket' && !UPGRADES.has(setup)) return { refused: true };
  if (transport === 'htmlfile' && origin === 'cross-origin') return { unavailable: true };
  return { works: transport };
}

const out = process.env.BROWSER_OUT || path.join(__dirname, '..', '..', 'target', 'browser');
// The HTTP stack that sockway serves the endpoints with ('': its own).
const STACK = process.env.SOCKWAY_STACK || '';
const CONCURRENCY = Number(process.env.BROWSER_CONCURRENCY || 4);
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const stack = {};
const results = new Map();

function readModule(file) {
  return fs.readFileSync(require.resolve(file));
}

before(async () => {
  fs.mkdirSync(out, { recursive: true });
  // nginx's config, logs and temp files; kept after the run for a look.
  stack.nginxDir = path.join(out, 'nginx');
  fs.rmSync(stack.nginxDir, { recursive: true, force: true });
  fs.mkdirSync(stack.nginxDir);
  stack.static = await harness.startStaticServer({
    '/sockjs.min.js': {
      type: 'application/javascript',
      body: readModule('sockjs-client/dist/sockjs.min.js'),
    },
    '/driver.js': { type: 'application/javascript', body: readModule('./driver.js') },
    '/client.html': {
      type: 'text/html; charset=utf-8',
      body:
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>sockway browser tests</title>' +
        '<script src="/sockjs.min.js"></script><script src="/driver.js"></script>' +
        '</head><body></body></html>',
    },
  });
  assert.ok(process.env.SOCKWAY_BIN, 'SOCKWAY_BIN names the sockway binary');
  stack.sockway = await harness.startSockway({
    bin: process.env.SOCKWAY_BIN,
    clientLibraryUrl: `${stack.static.url}/sockjs.min.js`,
    heartbeat: '2s',
    stack: STACK,
  });
  stack.nginx = await harness.startNginx({
    dir: stack.nginxDir,
    setups: Object.values(NGINX),
    sockwayUrl: stack.sockway.url,
  });
  stack.bases = { direct: stack.sockway.url };
  for (const [setup, file] of Object.entries(NGINX)) stack.bases[setup] = stack.nginx.urls[file];
  // launchServer, for the browser's PID (recorded like the others'; it
  // also exits by itself when this process goes).
  stack.browserServer = await chromium.launchServer({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: LAUNCH_ARGS,
  });
  harness.recordPid(stack.browserServer.process().pid);
  stack.browser = await chromium.connect(stack.browserServer.wsEndpoint());
  console.log(
    `# sockway ${stack.sockway.url}${STACK ? ` (--stack ${STACK})` : ''}, other origin ${stack.static.url}, ` +
      `${stack.nginx.version}, Chromium ${stack.browser.version()}`,
  );
});

after(async () => {
  writeMatrix();
  if (stack.browser) await stack.browser.close();
  if (stack.browserServer) await stack.browserServer.close();
  if (stack.nginx) await harness.stopChild(stack.nginx.child);
  if (stack.sockway) await harness.stopChild(stack.sockway.child);
  if (stack.static) await stack.static.close();
});

// A fresh browser context (its own connection pool, so that the
// combinations running at once do not queue behind each other's streams)
// with a page ready to drive sockjs-client.
async function openPage(setup, origin) {
  const context = await stack.browser.newContext();
  const page = await context.newPage();
  const seen = { requests: [], websockets: [], console: [] };
  context.on('request', (r) => seen.requests.push(r.url()));
  page.on('websocket', (ws) => seen.websockets.push(ws.url()));
  page.on('console', (m) => seen.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => seen.console.push(`pageerror: ${e.message}`));
  const base = stack.bases[setup];
  if (origin === 'same-origin') {
    // The demo page, served by sockway (through the proxy, if any).
    await page.goto(`${base}/`);
    await page.addScriptTag({ content: readModule('./driver.js').toString() });
  } else {
    await page.goto(`${stack.static.url}/client.html`);
  }
  await page.waitForFunction(() => window.SockJS && window.sockwayTest, null, { timeout: 10000 });
  return { context, page, base, seen };
}

describe('sockjs-client 1.6.1 in Chromium', { concurrency: CONCURRENCY }, () => {
  for (const setup of SETUPS) {
    for (const origin of ORIGINS) {
      for (const transport of TRANSPORTS) {
        const label = `${setup} ${origin} ${transport}`;
        const expected = expectation(setup, origin, transport);
        const what = expected.works
          ? `works${transport === 'auto' ? ` over ${expected.works}` : ''}`
          : expected.refused
            ? 'is refused'
            : 'is not offered';
        test(`${label} ${what}`, { timeout: 120000 }, async () => {
          const started = Date.now();
          const { context, page, base, seen } = await openPage(setup, origin);
          const combo = new Combo(page, base, () => seen, label);
          try {
            if (expected.works) await combo.works(transport, expected.works);
            else if (expected.refused) await combo.refused(transport);
            else await combo.unavailable(transport);
            results.set(label, { ok: true, expected, ms: Date.now() - started });
          } catch (err) {
            results.set(label, { ok: false, step: combo.failedStep || 'setup', expected });
            if (seen.console.length) err.message += `\npage console:\n${seen.console.slice(-10).join('\n')}`;
            throw err;
          } finally {
            await context.close();
          }
        });
      }
    }
  }
});

test('the README shows the nginx configs that these tests use', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const map = fs.readFileSync(path.join(__dirname, 'nginx', 'upgrade-map.conf'), 'utf8');
  assert.ok(readme.includes(map), 'nginx/upgrade-map.conf is in README.md');
  for (const file of ['websocket', 'no-upgrade']) {
    const block = harness.nginxServerBlock(file, '80', '127.0.0.1:8081');
    assert.ok(readme.includes(block), `nginx/${file}.conf (listen 80, upstream 127.0.0.1:8081) is in README.md`);
  }
});

test('through nginx, a session stays with the client that X-Forwarded-For names', async () => {
  const base = stack.bases['nginx-websocket'];
  const session = `${base}/echo/000/xff${Date.now()}`;
  const post = (path, client, body) =>
    fetch(`${session}/${path}`, {
      method: 'POST',
      headers: { 'X-Forwarded-For': client, 'Content-Type': 'text/plain' },
      body,
      signal: AbortSignal.timeout(10000),
    }).then(async (r) => [r.status, await r.text()]);
  assert.deepEqual(await post('xhr', '192.0.2.1'), [200, 'o\n'], 'opened by 192.0.2.1');
  assert.equal((await post('xhr_send', '192.0.2.2', '["from 2"]'))[0], 404, '192.0.2.2 sends');
  assert.equal((await post('xhr', '192.0.2.2'))[0], 404, '192.0.2.2 polls');
  assert.deepEqual(await post('xhr_send', '192.0.2.1', '["from 1"]'), [204, ''], '192.0.2.1 sends');
  assert.deepEqual(await post('xhr', '192.0.2.1'), [200, 'a["from 1"]\n'], '192.0.2.1 polls');
});

test('the demo page: connect, type, see the echo, screenshot', { timeout: 60000 }, async () => {
  const screenshot = path.join(out, 'demo.png');
  await runDemo(stack.browser, stack.sockway.url, screenshot);
  console.log(`# demo page screenshot: ${screenshot}`);
});

// transport × setup × origin, to matrix.txt in BROWSER_OUT (target/browser/).
function writeMatrix() {
  const columns = SETUPS.flatMap((s) => ORIGINS.map((o) => [s, o]));
  const width = 19;
  const pad = (s, n = width) => {
    const text = String(s);
    return text.length < n ? text.padEnd(n) : `${text.slice(0, n - 2)}… `;
  };
  const lines = [
    `sockjs-client 1.6.1 in Chromium: transport × setup × origin${STACK ? ` (sockway serve --stack ${STACK})` : ''}`,
    '  ok        every check passed',
    '  refused   websocket refused at once, as it must be without Upgrade (asserted)',
    '  n/a       sockjs-client offers htmlfile on the same origin only (asserted)',
    '  FAIL: x   failed at step x (see run.log); -- did not run',
    '',
    pad('', 20) + SETUPS.map((s) => pad(s, width * 2)).join(''),
    pad('', 20) + columns.map(([, o]) => pad(o.replace('-origin', ''))).join(''),
  ];
  for (const transport of TRANSPORTS) {
    const cells = columns.map(([setup, origin]) => {
      const r = results.get(`${setup} ${origin} ${transport}`);
      if (!r) return '--';
      if (!r.ok) return `FAIL: ${r.step}`;
      if (r.expected.refused) return 'refused';
      if (r.expected.unavailable) return 'n/a';
      return transport === 'auto' ? `ok (${r.expected.works})` : 'ok';
    });
    lines.push(pad(transport, 20) + cells.map((c) => pad(c)).join(''));
  }
  const passed = [...results.values()].filter((r) => r.ok).length;
  lines.push('', `${passed} of ${SETUPS.length * ORIGINS.length * TRANSPORTS.length} combinations passed`);
  fs.writeFileSync(path.join(out, 'matrix.txt'), `${lines.join('\n')}\n`);
}
