// The demo page at `/` used as a person would: two windows on /broadcast,
// messages typed into each and seen in both; then a screenshot.
'use strict';

const assert = require('node:assert/strict');

const WAIT = 15000;

async function join(browser, url, name, transport) {
  const context = await browser.newContext({ viewport: { width: 960, height: 700 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${url}/`);
  await page.fill('#name', name);
  if (transport) await page.selectOption('#transport', transport);
  await page.click('#connect');
  await page.waitForSelector('#status.open', { timeout: WAIT });
  return { context, page, errors };
}

async function say(page, text) {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

// The bubbles in the log: [{mine, who, text}].
function bubbles(page) {
  return page.$$eval('#log .msg', (nodes) =>
    nodes.map((n) => ({
      mine: n.classList.contains('mine'),
      who: n.querySelector('.who').textContent,
      text: n.childNodes[1].textContent,
    })),
  );
}

async function runDemo(browser, url, screenshot) {
  const ada = await join(browser, url, 'Ada', '');
  const grace = await join(browser, url, 'Grace', 'xhr-streaming');
  try {
    assert.match(await ada.page.textContent('#status'), /^connected · websocket$/);
    assert.match(await grace.page.textContent('#status'), /^connected · xhr-streaming$/);

    await say(ada.page, 'Hello from Chromium! Anyone on a slower transport?');
    await ada.page.waitForSelector('#log .msg.mine', { timeout: WAIT });
    await grace.page.waitForSelector('#log .msg.theirs', { timeout: WAIT });
    await say(grace.page, 'Here, over xhr-streaming. Zażółć gęślą jaźń, and Ελληνικά too.');
    await ada.page.waitForFunction(() => document.querySelectorAll('#log .msg').length === 2, null, {
      timeout: WAIT,
    });
    await say(ada.page, 'Both echoed back in order, quotes "and" \\ backslashes intact.');
    await ada.page.waitForFunction(() => document.querySelectorAll('#log .msg').length === 3, null, {
      timeout: WAIT,
    });
    await grace.page.waitForFunction(() => document.querySelectorAll('#log .msg').length === 3, null, {
      timeout: WAIT,
    });

    assert.deepEqual(await bubbles(ada.page), [
      { mine: true, who: 'you', text: 'Hello from Chromium! Anyone on a slower transport?' },
      { mine: false, who: 'Grace', text: 'Here, over xhr-streaming. Zażółć gęślą jaźń, and Ελληνικά too.' },
      { mine: true, who: 'you', text: 'Both echoed back in order, quotes "and" \\ backslashes intact.' },
    ]);
    assert.deepEqual(
      (await bubbles(grace.page)).map((b) => [b.mine, b.who]),
      [
        [false, 'Ada'],
        [true, 'you'],
        [false, 'Ada'],
      ],
    );
    assert.equal(await ada.page.inputValue('#text'), '', 'the input is cleared after sending');
    await ada.page.screenshot({ path: screenshot, fullPage: true });

    await grace.page.click('#connect');
    await grace.page.waitForSelector('#status:not(.open)', { timeout: WAIT });
    assert.equal(await grace.page.textContent('#status'), 'disconnected');
    assert.deepEqual([...ada.errors, ...grace.errors], [], 'page errors');
  } finally {
    await ada.context.close();
    await grace.context.close();
  }
}

module.exports = { runDemo };
