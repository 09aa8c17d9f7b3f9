// Login, session cookie, rate limit and role checks of the console, over
// real HTTP and WebSocket connections to `stemdesk serve`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { Desk, freePort, tempDir } from '../browser/harness.mjs';
import { addUser, login, openConsole, waitFrame } from './accounts.mjs';

let dir;
let desk;

before(async () => {
    dir = tempDir();
    const dbPath = path.join(dir, 'stemdesk.db');
    addUser(dbPath, 'an', 'advisor');
    addUser(dbPath, 'ed', 'editor', 'Ed Janssens');
    addUser(dbPath, 'root', 'admin');
    desk = new Desk({ port: await freePort(), dbPath });
    await desk.start();
});

after(async () => {
    await desk?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
});

test('login sets a strict HttpOnly session cookie', async () => {
    const res = await login(desk.url, 'an');
    assert.equal(res.status, 200);
    // Without a display name, the display name is the login name.
    assert.deepEqual(res.body,
                     { name: 'an', display_name: 'an', role: 'advisor' });
    assert.match(res.header, /^stemdesk_session=[0-9a-f]{64};/);
    assert.match(res.header, /HttpOnly/);
    assert.match(res.header, /SameSite=Strict/);
    assert.match(res.header, /Path=\//);
    assert.match(res.header, /Max-Age=43200/);

    const me = await fetch(desk.url + '/api/me',
                           { headers: { Cookie: res.cookie } });
    assert.equal(me.status, 200);
    assert.equal((await me.json()).name, 'an');

    const editor = await login(desk.url, 'ed');
    assert.deepEqual(editor.body,
                     { name: 'ed', display_name: 'Ed Janssens', role: 'editor' });
    const editorMe = await fetch(desk.url + '/api/me',
                                 { headers: { Cookie: editor.cookie } });
    assert.equal((await editorMe.json()).display_name, 'Ed Janssens');
});

test('unauthenticated requests are rejected', async () => {
    for (const route of ['/api/me', '/api/queue', '/api/callbacks',
                         '/api/outbox', '/api/audit', '/api/facets']) {
        const res = await fetch(desk.url + route);
        assert.equal(res.status, 401, route);
        assert.equal((await res.json()).error, 'login_required', route);
    }
    const forged = await fetch(desk.url + '/api/queue', {
        headers: { Cookie: 'stemdesk_session=' + 'a'.repeat(64) },
    });
    assert.equal(forged.status, 401);
    const socket = await openConsole(desk.url, null);
    assert.ok(socket.rejected, 'socket without a session must be rejected');
});

test('wrong role is forbidden', async () => {
    const editor = await login(desk.url, 'ed');
    const queue = await fetch(desk.url + '/api/queue',
                              { headers: { Cookie: editor.cookie } });
    assert.equal(queue.status, 403);
    assert.equal((await queue.json()).error, 'forbidden');
    const socket = await openConsole(desk.url, editor.cookie);
    assert.ok(socket.rejected, 'an editor must not open the queue socket');

    const advisor = await login(desk.url, 'an');
    const audit = await fetch(desk.url + '/api/audit',
                              { headers: { Cookie: advisor.cookie } });
    assert.equal(audit.status, 403);
    const admin = await login(desk.url, 'root');
    const allowed = await fetch(desk.url + '/api/audit',
                                { headers: { Cookie: admin.cookie } });
    assert.equal(allowed.status, 200);
    const entries = (await allowed.json()).entries;
    assert.ok(entries.some((e) => e.action === 'login' && e.name === 'an'));
});

test('every role reads the facet labels', async () => {
    for (const name of ['an', 'ed', 'root']) {
        const account = await login(desk.url, name);
        const res = await fetch(desk.url + '/api/facets',
                                { headers: { Cookie: account.cookie } });
        assert.equal(res.status, 200, name);
        const labels = await res.json();
        assert.equal(labels.region['west-vlaanderen'], 'West-Vlaanderen');
        assert.equal(labels.level.so3, 'secundair onderwijs, 3e graad');
        assert.equal(labels.goal.enthousiasme,
                     'jongeren warm maken voor techniek');
    }
});

test('advisor socket gets hello and queue', async () => {
    const advisor = await login(desk.url, 'an');
    const { ws, frames, rejected } = await openConsole(desk.url,
                                                       advisor.cookie);
    assert.equal(rejected, undefined);
    const hello = await waitFrame(frames, (f) => f.type === 'hello');
    assert.equal(hello.advisor.name, 'an');
    assert.equal(hello.presence, 'online');
    const queue = await waitFrame(frames, (f) => f.type === 'queue');
    assert.deepEqual(queue.items, []);
    assert.ok(queue.advisors.some((a) => a.name === 'an' &&
                                        a.presence === 'online'));

    ws.send(JSON.stringify({ type: 'take', conversation: 'ab12' }));
    const result = await waitFrame(frames, (f) => f.type === 'result' &&
                                   f.action === 'take');
    assert.equal(result.ok, false);
    assert.equal(result.code, 'not_queued');
    ws.send('not json');
    const bad = await waitFrame(frames, (f) => f.code === 'invalid_json');
    assert.match(bad.message, /gelezen/);
    ws.close();
});

test('invalid field names its expected value', async () => {
    const advisor = await login(desk.url, 'an');
    const { ws, frames } = await openConsole(desk.url, advisor.cookie);
    await waitFrame(frames, (f) => f.type === 'hello');
    const cases = [
        [{ type: 'presence', state: 'dronken' }, 'presence', 'state',
         /"online", "away" or "offline"/],
        [{ type: 'close', conversation: 'ab12', outcome: 'weet ik veel' },
         'close', 'outcome', /"answered"/],
        [{ type: 'take' }, 'take', 'conversation', /conversation id/],
        [{ type: 'callback_done', id: 'x' }, 'callback_done', 'id',
         /whole number/],
        [{ type: 'note', conversation: 'ab12', text: '   ' }, 'note', 'text',
         /other than a space/],
    ];
    for (const [frame, action, field, expected] of cases) {
        frames.length = 0;
        ws.send(JSON.stringify(frame));
        const result = await waitFrame(frames, (f) => f.type === 'result' &&
                                       f.action === action);
        assert.equal(result.code, 'invalid_field', JSON.stringify(result));
        assert.equal(result.field, field);
        assert.match(result.expected, expected);
        assert.match(result.message, new RegExp(`'${field}'`));
    }
    ws.close();
});

test('logout ends the session', async () => {
    const advisor = await login(desk.url, 'an');
    const out = await fetch(desk.url + '/api/logout', {
        method: 'POST',
        headers: { Cookie: advisor.cookie,
                   'Content-Type': 'application/json' },
        body: '{}',
    });
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie'), /Max-Age=0/);
    const me = await fetch(desk.url + '/api/me',
                           { headers: { Cookie: advisor.cookie } });
    assert.equal(me.status, 401);
});

test('failed logins are rate-limited per address', async () => {
    // The default allows 5 failed attempts per minute.
    const wrong = await login(desk.url, 'an', 'wrong password!');
    assert.equal(wrong.status, 401);
    assert.match(wrong.body.message, /wachtwoord/);
    let last;
    for (let i = 0; i < 6; i++)
        last = await login(desk.url, 'an', 'wrong password!');
    assert.equal(last.status, 429);
    assert.equal(last.body.error, 'too_many_attempts');
    assert.match(last.body.message, /Wacht een minuut/);
    // Even the right password waits for the window to pass.
    const right = await login(desk.url, 'an');
    assert.equal(right.status, 429);
});
