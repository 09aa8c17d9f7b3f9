// The desk crashes mid-conversation (SIGKILL) and comes back on the same
// port and database: the widget reconnects, resumes with its token, and
// the line typed while the desk was down arrives exactly once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import {
    countReplies, launchBrowser, newPage, openWidget, screenshot, sel,
    sendText, sleep, startDesk, tempDir, transcript, waitForAcks,
    waitForReply,
} from './harness.mjs';

let dir;
let desk;
let browser;

before(async () => {
    dir = tempDir();
    desk = await startDesk(dir);
    browser = await launchBrowser();
});

after(async () => {
    await browser?.close();
    await desk?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
});

// Returns the widget's stored state from sessionStorage.
function storedState(page) {
    return page.evaluate(() => {
        const key = Object.keys(sessionStorage)
            .find((k) => k.startsWith('stemdesk:'));
        return key ? JSON.parse(sessionStorage.getItem(key)) : null;
    });
}

test('line typed while desk is down arrives once', async () => {
    const page = await newPage(browser);
    await openWidget(page, desk.url);
    let replies = await countReplies(page);
    await sendText(page, 'Wij willen leerlingen warm maken voor techniek');
    await waitForAcks(page);
    await waitForReply(page, replies);
    const tokenBefore = (await storedState(page)).token;
    assert.ok(tokenBefore, 'a token is stored');

    await desk.kill();
    await page.waitForSelector('.sdw-connection', { state: 'visible' });

    const offline = 'Dit typte ik terwijl de server weg was';
    await sendText(page, offline);
    const pending = await storedState(page);
    assert.equal(pending.outbox.length, 1, 'the line waits in the outbox');
    assert.equal(pending.outbox[0].text, offline);
    assert.equal(await page.locator('.sdw-msg.sdw-pending').count(), 1);
    await screenshot(page, 'widget-offline');

    // Wait long enough for at least one failed reconnect, then restart.
    await sleep(1500);
    replies = await countReplies(page);
    await desk.start();
    await waitForAcks(page, 40000);
    await waitForReply(page, replies, 20000);
    await page.waitForSelector('.sdw-connection', { state: 'hidden' });

    const after = await storedState(page);
    assert.equal(after.token, tokenBefore, 'the conversation resumed');
    assert.equal(after.outbox.length, 0, 'the outbox is empty');
    const shown = (await transcript(page))
        .filter(([from, text]) => from === 'visitor' && text === offline);
    assert.equal(shown.length, 1, 'the line is shown once');

    // Forget the local transcript and replay everything from the desk:
    // the server stored the line once.
    await page.evaluate(() => {
        const key = Object.keys(sessionStorage)
            .find((k) => k.startsWith('stemdesk:'));
        const state = JSON.parse(sessionStorage.getItem(key));
        state.transcript = [];
        state.lastSeq = 0;
        sessionStorage.setItem(key, JSON.stringify(state));
    });
    await page.reload();
    await page.waitForFunction(
        (text) => [...document.querySelectorAll('.sdw-msg--visitor')]
            .some((n) => n.textContent.includes(text)),
        offline, { timeout: 10000 });
    await sleep(500);
    const replayed = (await transcript(page))
        .filter(([from, text]) => from === 'visitor' && text === offline);
    assert.equal(replayed.length, 1, 'the desk stored the line once');
    const seqs = await page.$$eval('.sdw-msg[data-seq]',
                                   (n) => n.map((m) => m.dataset.seq));
    assert.equal(new Set(seqs).size, seqs.length, 'no seq is shown twice');
    assert.deepEqual(page.problems.errors, []);
    await page.context().close();
});

test('unknown token starts a new conversation', async () => {
    const page = await newPage(browser);
    await page.goto(desk.url + '/');
    await page.evaluate(() => {
        sessionStorage.setItem('stemdesk:' + location.origin.replace(
            /^http/, 'ws') + '/chat', JSON.stringify({
            v: 1, token: 'no-such-token', lastSeq: 7, status: 'bot',
            transcript: [{ seq: 3, from: 'bot', text: 'Oud bericht' }],
            outbox: [], open: true,
        }));
    });
    await page.reload();
    await page.waitForSelector('.sdw-msg--system', { timeout: 10000 });
    const notice = await page.locator('.sdw-msg--system .sdw-bubble')
        .first().textContent();
    assert.match(notice, /niet meer beschikbaar/);
    await page.waitForSelector('.sdw-msg--bot', { timeout: 10000 });
    await page.waitForFunction(() => {
        const key = Object.keys(sessionStorage)
            .find((k) => k.startsWith('stemdesk:'));
        const state = JSON.parse(sessionStorage.getItem(key));
        return state.token && state.token !== 'no-such-token';
    }, null, { timeout: 10000 });
    const texts = (await transcript(page)).map(([, text]) => text);
    assert.ok(!texts.includes('Oud bericht'), 'the old transcript is gone');
    await page.context().close();
});
