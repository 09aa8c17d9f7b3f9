// Outside office hours no advisor takes conversations, even one who is
// online: an escalation offers a callback, and only after the visitor's
// explicit consent in the chat does the request appear in the console's
// list of callback requests. The office hours have no open day, so the
// test passes at any time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
    Desk, freePort, tempDir, launchBrowser, newPage, openWidget, sendText,
    waitForReply, countReplies, sleep,
} from '../browser/harness.mjs';
import { addUser, login, loginPage } from './accounts.mjs';

let dir;
let desk;
let browser;

before(async () => {
    dir = tempDir();
    const dbPath = path.join(dir, 'stemdesk.db');
    addUser(dbPath, 'an', 'advisor');
    desk = new Desk({ port: await freePort(), dbPath,
                      args: ['--office-hours', '{}'] });
    await desk.start();
    browser = await launchBrowser();
});

after(async () => {
    await browser?.close();
    await desk?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
});

// Sends a line and returns the text of the bot's replies to it, joined.
async function say(visitor, text) {
    const before = await countReplies(visitor);
    await sendText(visitor, text);
    await waitForReply(visitor, before);
    await sleep(500);
    const replies = await visitor.$$eval(
        '.sdw-msg--bot .sdw-bubble, .sdw-msg--advisor .sdw-bubble',
        (nodes) => nodes.map((n) => n.textContent));
    return replies.slice(before).join('\n');
}

async function callbackCount(cookie) {
    const res = await fetch(desk.url + '/api/callbacks',
                            { headers: { Cookie: cookie } });
    assert.equal(res.status, 200);
    return (await res.json()).items.length;
}

test('outside office hours: callback after consent', async () => {
    // The advisor is online in the console all along.
    const consolePage = await newPage(browser);
    await loginPage(consolePage, desk.url, 'an');
    assert.equal(await consolePage.inputValue('#presence'), 'online');
    await consolePage.waitForSelector('#callbacks-empty:not([hidden])');
    const api = await login(desk.url, 'an');

    const visitor = await newPage(browser, { width: 420, height: 800 });
    await openWidget(visitor, desk.url);
    assert.match(await say(visitor, 'Met een adviseur praten'),
                 /geen adviseur beschikbaar/);
    assert.notEqual(await visitor.textContent('.sdw-status'),
                    'We zoeken een adviseur voor u',
                    'the visitor does not wait for an advisor');
    assert.match(await say(visitor, 'Ja, graag'), /Mogen we uw naam/);
    assert.match(await say(visitor, 'Ja, dat mag'), /uw naam/);
    await say(visitor, 'An Peeters');
    assert.equal(await callbackCount(api.cookie), 0,
                 'no request before the contact details are complete');
    assert.match(await say(visitor, 'an.peeters@example.be'), /contact/);

    const item = consolePage.locator('#callbacks .cs-list-item');
    await item.waitFor({ timeout: 10000 });
    assert.match(await item.textContent(),
                 /An Peeters · an\.peeters@example\.be/);
    assert.equal(await callbackCount(api.cookie), 1);

    // Marking it handled empties the list.
    await item.locator('button').click();
    await consolePage.waitForSelector('#callbacks-empty:not([hidden])');
    assert.equal(await callbackCount(api.cookie), 0);
    for (const page of [consolePage, visitor]) {
        assert.deepEqual(page.problems.errors, []);
        assert.deepEqual(page.problems.csp, []);
    }
});

test('outside office hours: no consent, no callback request', async () => {
    const api = await login(desk.url, 'an');
    const before = await callbackCount(api.cookie);
    const visitor = await newPage(browser, { width: 420, height: 800 });
    await openWidget(visitor, desk.url);
    assert.match(await say(visitor, 'Met een adviseur praten'),
                 /geen adviseur beschikbaar/);
    assert.match(await say(visitor, 'Ja, graag'), /Mogen we uw naam/);
    assert.match(await say(visitor, 'Nee'), /geen gegevens/);
    await sleep(500);
    assert.equal(await callbackCount(api.cookie), before);
});
