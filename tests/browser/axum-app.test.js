// The axum example application (sockway/examples/axum_app.rs) in headless
// Chromium: its chat page, as two people use it. Each logs in (the axum
// route sets the session cookie), opens a SockJS session on /chat (the
// axum middleware checks the cookie; the endpoint's interceptor takes the
// user from the request's extensions), and they talk, over every transport
// sockjs-client has in a browser, forced with the page's `?transport=`.
// Without a session cookie, the chat refuses sockjs-client.
//
// The page and the SockJS iframe page load sockjs-client from a CDN: the
// browser contexts answer those requests with the pinned copy from
// node_modules, so nothing leaves the machine.
//
// Env: AXUM_APP_BIN (the example's binary), CHROMIUM (default
// /usr/bin/chromium), BROWSER_PID_FILE. Started by
// scripts/browser-axum-app.sh.
'use strict';

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { chromium } = require('playwright-core');

const harness = require('./harness');
const { TRANSPORTS } = harness;
const WAIT = 15000;
const SOCKJS = fs.readFileSync(require.resolve('sockjs-client/dist/sockjs.min.js'));
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'];

const stack = {};

before(async () => {
  assert.ok(process.env.AXUM_APP_BIN, 'AXUM_APP_BIN names the example binary');
  const child = harness.startChild(process.env.AXUM_APP_BIN, ['127.0.0.1:0']);
  stack.url = await harness.poll(
    () => (child.output.match(/^listening on (http:\/\/[0-9.:]+)$/m) || [])[1],
    10000,
    'axum_app',
    child,
  );
  stack.app = child;
  stack.browserServer = await chromium.launchServer({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: LAUNCH_ARGS,
  });
  harness.recordPid(stack.browserServer.process().pid);
  stack.browser = await chromium.connect(stack.browserServer.wsEndpoint());
  console.log(`# axum_app ${stack.url}, Chromium ${stack.browser.version()}`);
});

after(async () => {
  if (stack.browser) await stack.browser.close();
  if (stack.browserServer) await stack.browserServer.close();
  if (stack.app) await harness.stopChild(stack.app);
});

// A person: a browser context of their own (their own cookies), the CDN
// answered locally, the chat page open.
async function person(transport) {
  const context = await stack.browser.newContext();
  await context.route(/^https:\/\/cdn\.jsdelivr\.net\/.*sockjs.*\.js$/, (route) =>
    route.fulfill({ status: 200, contentType: 'application/javascript', body: SOCKJS }),
  );
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${stack.url}/${transport ? `?transport=${transport}` : ''}`);
  await page.waitForFunction(() => window.SockJS, null, { timeout: WAIT });
  return { context, page, errors };
}

const log = (page) => page.locator('#log').textContent();

async function waitForLine(who, line) {
  try {
    await who.page.waitForFunction(
      (l) => document.getElementById('log').textContent.split('\n').includes(l),
      line,
      { timeout: WAIT },
    );
  } catch (e) {
    throw new Error(`no line ${JSON.stringify(line)}; the log: ${JSON.stringify(await log(who.page))}; page errors: ${who.errors.join('; ')}`);
  }
}

async function login(who, name) {
  await who.page.fill('#name', name);
  await who.page.click('#login button');
}

async function say(who, text) {
  await who.page.fill('#text', text);
  await who.page.click('#say button');
}

describe('the axum example application in Chromium', { concurrency: 2 }, () => {
  for (const transport of TRANSPORTS) {
    test(`two people chat over ${transport}`, { timeout: 60000 }, async () => {
      const alice = await person(transport);
      const bob = await person(transport);
      try {
        await login(alice, 'alice');
        await waitForLine(alice, `(connected over ${transport})`);
        await waitForLine(alice, '* alice joined');
        await login(bob, 'bob');
        await waitForLine(bob, `(connected over ${transport})`);
        await waitForLine(alice, '* bob joined');
        await say(alice, 'hello from alice');
        await waitForLine(bob, 'alice: hello from alice');
        await waitForLine(alice, 'alice: hello from alice');
        await say(bob, 'hi alice');
        await waitForLine(alice, 'bob: hi alice');
        await bob.context.close();
        await waitForLine(alice, '* bob left');
        assert.deepEqual(alice.errors, []);
      } finally {
        await alice.context.close();
        await bob.context.close().catch(() => {});
      }
    });
  }

  test('without a session cookie the chat refuses sockjs-client', { timeout: 30000 }, async () => {
    const who = await person(null);
    try {
      const closed = await who.page.evaluate(
        () =>
          new Promise((resolve) => {
            const sock = new SockJS('/chat');
            sock.onopen = () => resolve({ opened: true });
            sock.onclose = (e) => resolve({ code: e.code, reason: e.reason });
          }),
      );
      assert.equal(closed.opened, undefined, 'no session opened');
      assert.equal(closed.code, 1002, JSON.stringify(closed));
      // The REST route says the same.
      const me = await who.page.evaluate(async () => (await fetch('/api/me')).status);
      assert.equal(me, 401);
    } finally {
      await who.context.close();
    }
  });
});
