// The editor page and its routes: the questions the bot could not answer
// (newest first, identical questions counted once) and "Inhoud herladen",
// which reloads the content as SIGHUP does and keeps the running version
// when a file has an error. Editors and admins only: advisors get 403 on
// the editor routes, editors get 403 on the queue.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
    Desk, freePort, tempDir, launchBrowser, newPage, repoRoot, screenshot,
} from '../browser/harness.mjs';
import { hello } from '../protocol/helpers.mjs';
import { addUser, login, PASSWORD } from './accounts.mjs';

let dir;
let dialogs;
let desk;
let browser;

before(async () => {
    dir = tempDir();
    const dbPath = path.join(dir, 'stemdesk.db');
    // A copy of the dialogues that the test can break.
    dialogs = path.join(dir, 'dialogs');
    fs.cpSync(path.join(repoRoot, 'dialogs'), dialogs, { recursive: true });
    addUser(dbPath, 'an', 'advisor');
    addUser(dbPath, 'ed', 'editor');
    addUser(dbPath, 'root', 'admin');
    desk = new Desk({ port: await freePort(), dbPath,
                      args: ['--dialogs-dir', dialogs] });
    await desk.start();
    browser = await launchBrowser();
});

after(async () => {
    await browser?.close();
    await desk?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
});

// Sends one line as a new visitor and waits for the bot's reply.
async function ask(text) {
    const chat = desk.url.replace('http', 'ws') + '/chat';
    const { visitor } = await hello(chat);
    await visitor.next((f) => f.type === 'status');
    visitor.send({ type: 'message', text, client_id: 'q-1' });
    await visitor.next((f) => f.type === 'ack', 10000);
    const reply = await visitor.next((f) => f.type === 'message' &&
                                     f.from === 'bot', 10000);
    await visitor.close();
    return reply;
}

function get(route, cookie) {
    return fetch(desk.url + route, {
        headers: cookie ? { Cookie: cookie } : {},
        redirect: 'manual',
    });
}

function post(route, cookie) {
    return fetch(desk.url + route, {
        method: 'POST',
        headers: { Cookie: cookie, 'Content-Type': 'application/json' },
        body: '{}',
    });
}

// Breaks welcome.json with a comma after the opening brace of "texts";
// returns its line and column.
function breakWelcome() {
    const file = path.join(dialogs, 'welcome.json');
    const text = fs.readFileSync(file, 'utf8');
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.includes('"texts": {')) + 1;
    fs.writeFileSync(file, text.replace('"texts": {', '"texts": {,'));
    return { file, text, line };
}

test('unanswered questions, newest first, with counts', async () => {
    const weather = 'wat wordt het weer morgen in Oostende?';
    const reply = await ask(weather);
    assert.match(reply.text, /niet mee helpen/);
    await ask('Wat wordt het weer morgen in Oostende?');
    await ask('Hoe laat sluit de bakker vandaag?');

    const editor = await login(desk.url, 'ed');
    const res = await get('/api/editor/unanswered', editor.cookie);
    assert.equal(res.status, 200);
    const { items } = await res.json();
    assert.equal(items.length, 2, JSON.stringify(items));
    assert.equal(items[0].text, 'Hoe laat sluit de bakker vandaag?');
    assert.equal(items[0].count, 1);
    assert.equal(items[1].text, 'Wat wordt het weer morgen in Oostende?',
                 'the latest wording is shown');
    assert.equal(items[1].count, 2);
    assert.ok(items[0].last >= items[1].last);
});

test('roles: advisors and editors stay on their side', async () => {
    const advisor = await login(desk.url, 'an');
    const editor = await login(desk.url, 'ed');
    const admin = await login(desk.url, 'root');

    for (const route of ['/api/editor/unanswered']) {
        assert.equal((await get(route)).status, 401, route);
        const forbidden = await get(route, advisor.cookie);
        assert.equal(forbidden.status, 403, route);
        assert.equal((await forbidden.json()).error, 'forbidden');
        assert.equal((await get(route, admin.cookie)).status, 200, route);
    }
    const reload = await post('/api/editor/reload', advisor.cookie);
    assert.equal(reload.status, 403);
    assert.equal((await reload.json()).error, 'forbidden');
    for (const route of ['/api/queue', '/api/callbacks', '/api/outbox']) {
        const res = await get(route, editor.cookie);
        assert.equal(res.status, 403, route);
    }

    // Pages: without a session to /login, otherwise to the allowed page.
    const cases = [
        ['/editor', undefined, 303, '/login'],
        ['/console', undefined, 303, '/login'],
        ['/editor', advisor.cookie, 303, '/console'],
        ['/console', editor.cookie, 303, '/editor'],
        ['/editor', editor.cookie, 200, null],
        ['/editor', admin.cookie, 200, null],
        ['/console', admin.cookie, 200, null],
        ['/login', undefined, 200, null],
    ];
    for (const [route, cookie, status, location] of cases) {
        const res = await get(route, cookie);
        assert.equal(res.status, status, `${route} ${cookie ? '' : 'anon'}`);
        if (location)
            assert.equal(new URL(res.headers.get('location'), desk.url)
                .pathname, location, route);
    }
    const page = await (await get('/editor', editor.cookie)).text();
    assert.match(page, /Inhoud herladen/);
    assert.doesNotMatch(page, /<script>/, 'no inline script');
});

test('reload keeps the running content on errors', async () => {
    const editor = await login(desk.url, 'ed');
    const ok = await post('/api/editor/reload', editor.cookie);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { ok: true });

    const broken = breakWelcome();
    try {
        const res = await post('/api/editor/reload', editor.cookie);
        assert.equal(res.status, 422);
        const body = await res.json();
        assert.equal(body.error, 'content_invalid');
        assert.match(body.message, /vorige versie/);
        const error = body.errors.find((e) => e.file.endsWith('welcome.json'));
        assert.ok(error, JSON.stringify(body.errors));
        assert.equal(error.line, broken.line);
        assert.ok(error.column > 0);

        // The running version still replies.
        const reply = await ask('wat wordt het weer morgen in Oostende?');
        assert.match(reply.text, /niet mee helpen/);
        const metrics = await (await get('/metrics')).text();
        assert.match(metrics, /stemdesk_reloads_total\{result="ok"\} 1/);
        assert.match(metrics, /stemdesk_reloads_total\{result="failed"\} 1/);
    } finally {
        fs.writeFileSync(broken.file, broken.text);
    }
});

test('editor page lists questions and shows reload errors', async () => {
    const page = await newPage(browser);
    await page.goto(desk.url + '/editor');
    await page.waitForURL(/\/login$/);
    await page.fill('#login-name', 'ed');
    await page.fill('#login-password', PASSWORD);
    await page.click('.cs-login-form button');
    await page.waitForURL(/\/editor$/);
    await page.waitForSelector('#unanswered tbody tr');
    const rows = await page.$$eval('#unanswered tbody tr', (trs) =>
        trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
    assert.ok(rows.length >= 2);
    // The reload test asked the weather question a third time.
    assert.equal(rows[0][0], 'wat wordt het weer morgen in Oostende?',
                 'the latest question comes first');
    assert.equal(rows[0][1], '3');
    assert.equal(await page.textContent('#editor-name'), 'ed');

    const broken = breakWelcome();
    try {
        await page.click('#reload');
        await page.waitForSelector('#reload-errors:not([hidden])',
                                   { timeout: 30000 });
        const errors = await page.textContent('#reload-errors');
        assert.ok(errors.includes(`welcome.json:${broken.line}:`), errors);
        assert.match(await page.textContent('#notice'), /vorige versie/);
        await screenshot(page, 'editor-reload-errors');
    } finally {
        fs.writeFileSync(broken.file, broken.text);
    }
    await page.click('#reload');
    await page.waitForSelector('#reload-errors', { state: 'hidden',
                                                   timeout: 30000 });
    assert.equal(await page.textContent('#notice'), 'De inhoud is herladen.');
    assert.deepEqual(page.problems.errors, []);
    assert.deepEqual(page.problems.csp, []);
});

test('visitors are answered while a reload runs', async () => {
    const editor = await login(desk.url, 'ed');
    const order = [];
    const reload = post('/api/editor/reload', editor.cookie).then((res) => {
        order.push('reload');
        return res;
    });
    const reply = await ask('hallo');
    order.push('reply');
    assert.ok(reply.text, 'the bot replied');
    assert.equal((await reload).status, 200);
    assert.deepEqual(order, ['reply', 'reload'],
                     'the reply must not wait for the content to load');
});
