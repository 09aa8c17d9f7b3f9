// An open /console socket follows its session: a display name changed with
// `stemdesk user set` reaches it, and a logout or `stemdesk user remove`
// ends it with a `session_ended` frame and close code 1008, over real
// sockets to `stemdesk serve`. The server checks every 5 seconds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { Desk, freePort, tempDir, stemdeskBinary } from '../browser/harness.mjs';
import { addUser, advisorSocket, waitFrame } from './accounts.mjs';

// The check period plus a margin for a loaded machine.
const CHECK_MS = 5000 + 4000;

let dir;
let dbPath;
let desk;

before(async () => {
    dir = tempDir();
    dbPath = path.join(dir, 'stemdesk.db');
    addUser(dbPath, 'an', 'advisor');
    addUser(dbPath, 'bo', 'advisor');
    desk = new Desk({ port: await freePort(), dbPath });
    await desk.start();
});

after(async () => {
    await desk?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
});

function user(...args) {
    const result = spawnSync(stemdeskBinary(),
                             ['user', ...args, '--db-path', dbPath],
                             { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
}

async function consoleOf(name) {
    const socket = await advisorSocket(desk.url, name);
    socket.closed = new Promise((resolve) =>
        socket.ws.on('close', (code) => resolve(code)));
    return socket;
}

async function endedWith1008(socket) {
    const frame = await waitFrame(socket.frames, (f) => f.type === 'error',
                                  CHECK_MS);
    assert.equal(frame.code, 'session_ended');
    assert.match(frame.message, /Meld u opnieuw aan/);
    assert.equal(await socket.closed, 1008);
}

test('new display name reaches the console', async () => {
    const an = await consoleOf('an');
    user('set', 'an', '--display-name', 'Anja Peeters');
    const queue = await waitFrame(an.frames, (f) => f.type === 'queue' &&
        f.advisors.some((a) => a.name === 'an' &&
                                a.display_name === 'Anja Peeters'), CHECK_MS);
    assert.ok(queue);
    an.ws.close();
});

test('a logout ends the open console', async () => {
    const an = await consoleOf('an');
    const out = await fetch(desk.url + '/api/logout', {
        method: 'POST',
        headers: { Cookie: an.cookie, 'Content-Type': 'application/json' },
        body: '{}',
    });
    assert.equal(out.status, 200);
    await endedWith1008(an);
});

test('removed account loses its console', async () => {
    const bo = await consoleOf('bo');
    const an = await consoleOf('an');
    user('remove', 'bo');
    await endedWith1008(bo);
    // The other advisor stays connected and gets no error frame.
    assert.ok(!an.frames.some((f) => f.type === 'error'));
    assert.equal(an.ws.readyState, an.ws.OPEN);
    an.ws.close();
});
