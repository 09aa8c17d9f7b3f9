// A visitor widget and the advisor console side by side in headless
// Chromium: the visitor asks for a person, the advisor takes over, they
// write to each other live, the advisor keeps an internal note, hands back
// to the bot, takes over again and closes. The bot stays silent while the
// advisor holds the conversation. The takeover message and the visitor's
// status line show the advisor's display name while the advisor holds it,
// and the console shows display names too, or the login name of an
// account without one. The desk is open the whole
// week (the Desk default), so the test passes at any time. What the bot
// collected is shown with its Dutch labels, not with the facet ids.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
    Desk, freePort, tempDir, launchBrowser, newPage, openWidget, sendText,
    waitForReply, countReplies, screenshot, sleep, sel,
} from '../browser/harness.mjs';
import { addUser, login, PASSWORD } from './accounts.mjs';

let dir;
let desk;
let browser;

before(async () => {
    dir = tempDir();
    const dbPath = path.join(dir, 'stemdesk.db');
    addUser(dbPath, 'an', 'advisor', 'Anja Peeters');
    addUser(dbPath, 'bert', 'advisor');
    addUser(dbPath, 'root', 'admin');
    desk = new Desk({ port: await freePort(), dbPath });
    await desk.start();
    browser = await launchBrowser();
});

after(async () => {
    await browser?.close();
    await desk?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
});

// Logs `name` in to the console; `shown` is the name its header shows.
async function loginConsole(page, name = 'an', shown = 'Anja Peeters') {
    await page.goto(desk.url + '/console');
    await page.waitForURL(/\/login$/);
    await page.fill('#login-name', name);
    await page.fill('#login-password', 'wrong password!');
    await page.click('.cs-login-form button');
    await page.waitForSelector('#login-error:not([hidden])');
    assert.match(await page.textContent('#login-error'), /wachtwoord/);

    await page.fill('#login-password', PASSWORD);
    await page.click('.cs-login-form button');
    await page.waitForURL(/\/console$/);
    await page.waitForSelector('#presence:not([disabled])');
    assert.equal(await page.textContent('#advisor-name'), shown);
}

async function escalate(visitor, console) {
    const before = await countReplies(visitor);
    await sendText(visitor, 'ik wil een persoon spreken');
    await waitForReply(visitor, before);
    const item = console.locator('.cs-queue-item[data-state="waiting"]');
    await item.waitFor({ timeout: 10000 });
    assert.match(await item.textContent(), /De bezoeker vraagt een persoon/);
    assert.match(await item.textContent(), /wacht/);
}

async function takeOver(visitor, console) {
    await console.click('.cs-queue-item[data-state="waiting"] .cs-take');
    await console.waitForSelector(
        '.cs-queue-item[data-state="taken"] >> text=Overgenomen door u');
    await console.waitForSelector('#reply-form:not([hidden])');
    await visitor.waitForFunction(() => [...document.querySelectorAll(
        '.sdw-log .sdw-msg')].some((n) =>
        /Anja Peeters neemt het gesprek over\./.test(n.textContent)),
    null, { timeout: 10000 });
    await visitor.waitForFunction((selector) => document.querySelector(
        selector).textContent === 'Anja Peeters', sel.status,
    { timeout: 10000 });
}

test('advisor takes over, talks live, hands back and closes', async () => {
    const consolePage = await newPage(browser);
    const visitor = await newPage(browser, { width: 420, height: 800 });
    await loginConsole(consolePage);
    await openWidget(visitor, desk.url);

    await escalate(visitor, consolePage);
    await takeOver(visitor, consolePage);
    assert.ok(await consolePage.locator(
        '#transcript .cs-msg--visitor >> text=ik wil een persoon spreken')
        .count() > 0, 'the transcript shows what the visitor wrote');

    // Advisor to visitor, live.
    const reply = 'Goedemiddag, ik help u graag verder.';
    await consolePage.fill('#reply-text', reply);
    await consolePage.click('#reply-form button');
    await visitor.waitForSelector(`.sdw-msg--advisor >> text=${reply}`);
    assert.equal(await visitor.locator('.sdw-msg--advisor .sdw-sender')
        .last().textContent(), 'Anja Peeters: ',
                 'the advisor\'s message is signed with the display name');

    // Visitor to advisor, live, and the bot stays silent.
    const botBefore = await visitor.locator('.sdw-msg--bot').count();
    const line = 'Wij zoeken stageplaatsen voor <b>leerlingen</b>.';
    await sendText(visitor, line);
    await consolePage.waitForFunction((text) => [...document
        .querySelectorAll('#transcript .cs-msg--visitor .cs-msg-text')]
        .some((n) => n.textContent === text), line, { timeout: 10000 });
    assert.equal(await consolePage.locator('#transcript b').count(), 0,
                 'visitor text is never inserted as HTML');
    await sleep(1500);
    assert.equal(await visitor.locator('.sdw-msg--bot').count(), botBefore,
                 'the bot must not answer while the advisor holds it');

    // An internal note stays in the console.
    const note = 'Interne notitie: metaalbedrijf, terugbellen na 14 uur.';
    await consolePage.fill('#note-text', note);
    await consolePage.click('#note-form button');
    await consolePage.waitForSelector(`#notes .cs-note >> text=${note}`);
    assert.equal(await consolePage.textContent('#notes .cs-note-by'),
                 'Anja Peeters');
    await sleep(500);
    assert.ok(!(await visitor.textContent('body')).includes('Interne'),
              'the visitor never sees a note');

    // A reload of the console shows the same conversation again.
    await consolePage.reload();
    await consolePage.waitForSelector('#conversation:not([hidden])');
    await consolePage.waitForFunction((text) => [...document
        .querySelectorAll('#transcript .cs-msg--visitor .cs-msg-text')]
        .some((n) => n.textContent === text), line, { timeout: 10000 });
    await consolePage.waitForSelector('#reply-form:not([hidden])');

    // Hand back to the bot: the queue entry disappears.
    await consolePage.click('#release');
    await consolePage.waitForSelector('.cs-queue-item', { state: 'detached' });
    await consolePage.waitForSelector('#queue-empty:not([hidden])');

    // Escalate again, take over again and close with an outcome.
    await escalate(visitor, consolePage);
    await takeOver(visitor, consolePage);
    await consolePage.selectOption('#close-outcome', 'answered');
    await consolePage.click('#close');
    await consolePage.waitForSelector('#queue-empty:not([hidden])');
    await consolePage.waitForSelector(
        '#conversation-state >> text=Afgesloten');
    await visitor.waitForFunction((selector) => document.querySelector(
        selector).textContent === 'Gesprek afgesloten', sel.status,
        { timeout: 10000 });
    await screenshot(consolePage, 'console-closed');
    await screenshot(visitor, 'console-visitor-closed');

    for (const page of [consolePage, visitor]) {
        assert.deepEqual(page.problems.errors, []);
        assert.deepEqual(page.problems.csp, []);
        assert.deepEqual(page.problems.dialogs, []);
    }

    // The audit log lists every action by id, without message text.
    const admin = await login(desk.url, 'root');
    const res = await fetch(desk.url + '/api/audit',
                            { headers: { Cookie: admin.cookie } });
    const entries = (await res.json()).entries;
    const actions = entries.filter((e) => e.name === 'an')
        .map((e) => e.action);
    for (const action of ['login', 'take', 'reply', 'note', 'release',
                          'close'])
        assert.ok(actions.includes(action), `audit has ${action}`);
    const raw = JSON.stringify(entries);
    assert.ok(!raw.includes('Goedemiddag'), 'no reply text in the audit log');
    assert.ok(!raw.includes('Interne'), 'no note text in the audit log');
});

test('a second advisor sees the conversation taken', async () => {
    // bert has no display name, so every console shows his login name.
    const first = await newPage(browser);
    const second = await newPage(browser);
    const visitor = await newPage(browser, { width: 420, height: 800 });
    await loginConsole(first);
    await loginConsole(second, 'bert', 'bert');
    for (const page of [first, second]) {
        await page.waitForSelector('#advisors >> text=Anja Peeters: beschikbaar');
        await page.waitForSelector('#advisors >> text=bert: beschikbaar');
    }
    await openWidget(visitor, desk.url);
    await escalate(visitor, first);
    await second.waitForSelector('.cs-queue-item[data-state="waiting"]');
    await takeOver(visitor, first);
    await second.waitForSelector(
        '.cs-queue-item[data-state="taken"] >> text=Overgenomen door Anja Peeters');
    assert.equal(await second.locator('.cs-queue-item .cs-take').count(), 0);
});

test('collected facts show Dutch labels', async () => {
    const consolePage = await newPage(browser);
    const visitor = await newPage(browser, { width: 420, height: 800 });
    await loginConsole(consolePage);
    await openWidget(visitor, desk.url);
    const before = await countReplies(visitor);
    await sendText(visitor,
                   'ons bedrijf ligt in Brugge en we hebben 4 uur per maand');
    await waitForReply(visitor, before);
    await escalate(visitor, consolePage);

    const facts = consolePage.locator(
        '.cs-queue-item[data-state="waiting"] .cs-facts');
    await consolePage.waitForFunction(() => /West-Vlaanderen/.test(
        document.querySelector('.cs-queue-item .cs-facts')?.textContent),
        null, { timeout: 10000 });
    assert.match(await facts.textContent(), /Regio: West-Vlaanderen/);
    assert.match(await facts.textContent(), /Tijd: 4 uur per maand/);
    assert.doesNotMatch(await facts.textContent(), /west-vlaanderen/);

    await takeOver(visitor, consolePage);
    await consolePage.waitForSelector('#slots dd >> text=West-Vlaanderen');
    assert.doesNotMatch(await consolePage.textContent('#slots'),
                        /west-vlaanderen/);
    assert.deepEqual(consolePage.problems.errors, []);
});
