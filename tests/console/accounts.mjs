// Helpers of the console tests: accounts made with `stemdesk user add`,
// login over HTTP, and a /console socket with a session cookie.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createRequire } from 'node:module';

import { repoRoot, stemdeskBinary } from '../browser/harness.mjs';

const require = createRequire(path.join(repoRoot, 'package.json'));
const WebSocket = require('ws');

export const PASSWORD = 'correct horse battery staple';

// Adds an account to the database at `dbPath`, the password on stdin,
// with a display name when `displayName` is given.
export function addUser(dbPath, name, role, displayName) {
    const args = ['user', 'add', name, '--role', role, '--db-path', dbPath];
    if (displayName !== undefined)
        args.push('--display-name', displayName);
    const result = spawnSync(stemdeskBinary(), args,
        { input: PASSWORD + '\n', encoding: 'utf8' });
    if (result.status !== 0)
        throw new Error(`user add ${name} failed: ${result.stderr}`);
}

// Logs in and returns {status, body, cookie}; cookie is "name=value".
export async function login(url, name, password = PASSWORD) {
    const res = await fetch(url + '/api/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name, password }),
    });
    const header = res.headers.get('set-cookie') || '';
    return {
        status: res.status,
        body: await res.json(),
        header,
        cookie: header.split(';')[0],
    };
}

// Opens /console with `cookie`. Resolves {ws, frames} once open, or
// {rejected: reason} when the upgrade is refused.
export function openConsole(url, cookie) {
    return new Promise((resolve) => {
        const ws = new WebSocket(url.replace('http', 'ws') + '/console', {
            headers: cookie ? { Cookie: cookie } : {},
        });
        const frames = [];
        ws.on('message', (data) => frames.push(JSON.parse(data)));
        ws.on('unexpected-response', (req, res) =>
            resolve({ rejected: `HTTP ${res.statusCode}` }));
        ws.on('error', (err) => resolve({ rejected: err.message }));
        ws.on('open', () => resolve({ ws, frames }));
    });
}

// Waits until a frame matching `test` has arrived.
export async function waitFrame(frames, test, timeout = 5000) {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
        const found = frames.find(test);
        if (found)
            return found;
        await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('no matching frame; got: ' +
                    frames.map((f) => f.type).join(', '));
}

// Logs in over HTTP and opens a /console socket. Resolves once its hello
// has arrived.
export async function advisorSocket(url, name) {
    const session = await login(url, name);
    assert.equal(session.status, 200, `login of ${name}`);
    const socket = await openConsole(url, session.cookie);
    assert.equal(socket.rejected, undefined, `console socket of ${name}`);
    await waitFrame(socket.frames, (f) => f.type === 'hello');
    return { ...socket, cookie: session.cookie };
}

// Logs `name` in on the console's login page of `page`. Resolves once
// the console is connected.
export async function loginPage(page, url, name) {
    await page.goto(url + '/login');
    await page.fill('#login-name', name);
    await page.fill('#login-password', PASSWORD);
    await page.click('.cs-login-form button');
    await page.waitForURL(/\/console$/);
    await page.waitForSelector('#presence:not([disabled])');
}
