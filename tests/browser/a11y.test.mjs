// WCAG 2.1 AA rules of axe-core in headless Chromium, on the demo page, the
// open widget at 1280 and 320 px, and the privacy, login, console and
// editor pages. Every check must find zero violations. What axe cannot
// decide alone ("incomplete") is printed for a person to review.
// The desk's CSP allows no inline script, so axe is added as an init
// script, which the browser runs outside the page's CSP.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
    Desk, countReplies, freePort, launchBrowser, newPage, openWidget, repoRoot,
    sel, sendText, tempDir, waitForReply, walkOrientation,
} from './harness.mjs';
import { addUser, PASSWORD } from '../console/accounts.mjs';

const axePath = path.join(repoRoot, 'node_modules', 'axe-core', 'axe.min.js');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

let dir;
let desk;
let browser;

before(async () => {
    dir = tempDir();
    const dbPath = path.join(dir, 'stemdesk.db');
    addUser(dbPath, 'an', 'advisor');
    addUser(dbPath, 'ed', 'editor');
    desk = new Desk({ port: await freePort(), dbPath });
    await desk.start();
    browser = await launchBrowser();
});

after(async () => {
    await browser?.close();
    await desk?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
});

// Opens a page with axe-core available on every document it loads.
async function axePage(viewport) {
    const page = await newPage(browser, viewport);
    await page.addInitScript({ path: axePath });
    return page;
}

// Describes axe violations one node per line, for the failure message.
function formatViolations(violations) {
    const lines = [];
    for (const v of violations) {
        for (const node of v.nodes) {
            lines.push(`${v.id} (${v.impact}) ${JSON.stringify(node.target)}`
                       + `\n    ${node.failureSummary.replace(/\n/g,
                                                            '\n    ')}`);
        }
    }
    return lines.join('\n');
}

// Runs axe on the whole document and fails on any violation.
async function assertAccessible(page, scene) {
    const result = await page.evaluate((tags) => window.axe.run(document, {
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations', 'incomplete'],
    }), TAGS);
    for (const item of result.incomplete) {
        console.log(`${scene}: to review: ${item.id} ` +
                    item.nodes.map((n) => JSON.stringify(n.target)).join(' '));
    }
    assert.ok(result.passes.length > 0 || result.violations.length > 0,
              `axe checked nothing on ${scene}`);
    assert.equal(result.violations.length, 0,
                 `${scene}: ${result.violations.length} axe violations\n` +
                 formatViolations(result.violations));
    assert.deepEqual(page.problems.csp, [], `${scene}: CSP reports`);
    assert.deepEqual(page.problems.errors, [], `${scene}: page errors`);
    assert.deepEqual(page.problems.failed, [], `${scene}: failed requests`);
}

test('axe-core is installed', () => {
    assert.ok(fs.existsSync(axePath),
              `${axePath} not found; run npm ci in the repository root`);
});

test('demo page with the widget closed', async () => {
    const page = await axePage();
    await page.goto(desk.url + '/');
    await page.waitForSelector(sel.launcher);
    await assertAccessible(page, 'demo page, widget closed');
    await page.context().close();
});

for (const [name, viewport] of [
    ['1280 px', { width: 1280, height: 800 }],
    ['320 px', { width: 320, height: 640 }],
]) {
    test(`open widget at ${name}`, async () => {
        const page = await axePage(viewport);
        await openWidget(page, desk.url);
        await page.waitForSelector(sel.quick, { timeout: 10000 });
        await assertAccessible(page, `widget open, quick replies, ${name}`);
        await walkOrientation(page);
        await page.waitForSelector(sel.card);
        await assertAccessible(page, `widget open, cards, ${name}`);
        await page.context().close();
    });
}

test('privacy page', async () => {
    const page = await axePage();
    await page.goto(desk.url + '/privacy.html');
    await page.waitForSelector('h1');
    await assertAccessible(page, 'privacy page');
    await page.context().close();
});

test('login page', async () => {
    const page = await axePage();
    await page.goto(desk.url + '/login');
    await page.waitForSelector('#login-name');
    await assertAccessible(page, 'login page');
    await page.fill('#login-name', 'an');
    await page.fill('#login-password', 'wrong password!');
    await page.click('.cs-login-form button');
    await page.waitForSelector('#login-error:not([hidden])');
    await assertAccessible(page, 'login page with an error');
    await page.context().close();
});

test('console with waiting and taken conversation', async () => {
    const page = await axePage();
    await page.goto(desk.url + '/login');
    await page.fill('#login-name', 'an');
    await page.fill('#login-password', PASSWORD);
    await page.click('.cs-login-form button');
    await page.waitForURL(/\/console$/);
    await page.waitForSelector('#presence:not([disabled])');
    await assertAccessible(page, 'console, empty queue');

    const visitor = await newPage(browser, { width: 420, height: 800 });
    await openWidget(visitor, desk.url);
    const replies = await countReplies(visitor);
    await sendText(visitor, 'ik wil een persoon spreken');
    await waitForReply(visitor, replies);
    await page.locator('.cs-queue-item[data-state="waiting"]')
        .waitFor({ timeout: 10000 });
    await assertAccessible(page, 'console, visitor waiting');

    await page.click('.cs-queue-item[data-state="waiting"] .cs-take');
    await page.waitForSelector('#reply-form:not([hidden])');
    await assertAccessible(page, 'console, conversation taken');
    await visitor.context().close();
    await page.context().close();
});

test('editor page with questions', async () => {
    const visitor = await newPage(browser, { width: 420, height: 800 });
    await openWidget(visitor, desk.url);
    const replies = await countReplies(visitor);
    await sendText(visitor, 'wat wordt het weer morgen in Oostende?');
    await waitForReply(visitor, replies);
    await visitor.context().close();

    const page = await axePage();
    await page.goto(desk.url + '/login');
    await page.fill('#login-name', 'ed');
    await page.fill('#login-password', PASSWORD);
    await page.click('.cs-login-form button');
    await page.waitForURL(/\/editor$/);
    await page.waitForSelector('#unanswered tbody tr');
    await assertAccessible(page, 'editor page');
    await page.context().close();
});
