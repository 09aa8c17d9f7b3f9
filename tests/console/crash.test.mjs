// The console across a crash of the server, in headless Chromium: an
// advisor who has taken over a conversation writes a reply while the
// server is down. The reply waits, goes out once the console is connected
// again and reaches the visitor, and the offline notice goes away. A reply
// typed while the first one is on its way stays in the box.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
    Desk, freePort, tempDir, launchBrowser, newPage, openWidget, sendText,
    waitForReply, countReplies, screenshot,
} from '../browser/harness.mjs';
import { addUser, loginPage } from './accounts.mjs';

let dir;
let desk;
let browser;

before(async () => {
    dir = tempDir();
    const dbPath = path.join(dir, 'stemdesk.db');
    addUser(dbPath, 'an', 'advisor', 'Anja Peeters');
    desk = new Desk({ port: await freePort(), dbPath });
    await desk.start();
    browser = await launchBrowser();
});

after(async () => {
    await browser?.close();
    await desk?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
});

async function visitorSees(visitor, text, timeout) {
    await visitor.waitForFunction((wanted) => [...document.querySelectorAll(
        '.sdw-msg--advisor')].some((n) => n.textContent.includes(wanted)),
    text, { timeout });
}

test('offline reply reaches the visitor', async () => {
    const advisor = await newPage(browser);
    const visitor = await newPage(browser, { width: 420, height: 800 });
    await loginPage(advisor, desk.url, 'an');

    await openWidget(visitor, desk.url);
    const before = await countReplies(visitor);
    await sendText(visitor, 'ik wil een persoon spreken');
    await waitForReply(visitor, before);
    await advisor.click('.cs-queue-item[data-state="waiting"] .cs-take');
    await advisor.waitForSelector('#reply-form:not([hidden])');
    await advisor.fill('#reply-text', 'Goedemiddag, ik kijk even mee.');
    await advisor.click('#reply-form button');
    await visitorSees(visitor, 'ik kijk even mee', 10000);

    await desk.kill();
    await advisor.waitForSelector('#presence[disabled]');
    const offline = 'Dit schreef ik terwijl de server weg was.';
    await advisor.fill('#reply-text', offline);
    await advisor.click('#reply-form button');
    await advisor.waitForSelector('#notice:not([hidden])');
    assert.match(await advisor.textContent('#notice'), /zodra de verbinding/);
    assert.equal(await advisor.inputValue('#reply-text'), offline,
                 'the reply stays in the box until it is sent');
    await screenshot(advisor, 'console-offline');

    await desk.start();
    await advisor.waitForSelector('#presence:not([disabled])',
                                  { timeout: 20000 });
    await visitorSees(visitor, offline, 30000);
    await advisor.waitForFunction(() =>
        document.querySelector('#reply-text').value === '');
    assert.equal(await advisor.isHidden('#notice'), true,
                 'the offline notice is gone');
    assert.equal(await visitor.locator('.sdw-msg--advisor').filter(
        { hasText: offline }).count(), 1, 'the reply arrives once');

    // A reply typed after one is sent, before its result, stays.
    await advisor.fill('#reply-text', 'Eerste.');
    await advisor.click('#reply-form button');
    await advisor.fill('#reply-text', 'Tweede, nog niet verstuurd.');
    await visitorSees(visitor, 'Eerste.', 10000);
    await advisor.waitForTimeout(500);
    assert.equal(await advisor.inputValue('#reply-text'),
                 'Tweede, nog niet verstuurd.');
});
