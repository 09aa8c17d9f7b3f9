// Start with default paths, reload on SIGHUP (a broken file keeps the
// running content), and stop cleanly on SIGTERM and SIGINT.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { hello, repoRoot, startServer, tempDir } from './helpers.mjs';

// Copies the content folders into a fresh folder that the server runs in.
function contentCopy() {
    const dir = tempDir();
    for (const name of ['dialogs', 'intents', 'kb', 'lang', 'web-widget'])
        fs.cpSync(path.join(repoRoot, name), path.join(dir, name),
                  { recursive: true });
    return dir;
}

async function waitForLog(server, pattern, timeoutMs = 30000) {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(server.log())) {
        if (Date.now() > deadline)
            throw new Error(`log never matched ${pattern}:\n${server.log()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}

test('default paths create ./var and the database', async () => {
    const dir = contentCopy();
    const server = await startServer({ cwd: dir, dir,
                                       args: ['--db-path',
                                              './var/stemdesk.db'] });
    try {
        assert.ok(fs.existsSync(path.join(dir, 'var', 'stemdesk.db')));
        const { visitor } = await hello(server.url);
        await visitor.nextOfType('status');
        await visitor.close();
    } finally {
        assert.equal((await server.stop()).code, 0);
    }
});

test('SIGHUP with a broken file keeps the running content', async () => {
    const dir = contentCopy();
    const server = await startServer({ cwd: dir, dir });
    try {
        const { visitor, welcome } = await hello(server.url);
        await visitor.nextOfType('status');

        const broken = path.join(dir, 'intents', 'zz-broken.json');
        fs.writeFileSync(broken, '{\n  "intents": [\n    {"id": }\n]\n');
        server.child.kill('SIGHUP');
        await waitForLog(server, /zz-broken\.json:\d+:\d+/);
        assert.match(server.log(), /reload failed/);

        // The conversation in progress keeps working.
        visitor.send({ type: 'message', text: 'Hallo', client_id: 'h-1' });
        assert.equal((await visitor.nextOfType('ack')).client_id, 'h-1');
        await visitor.close();

        fs.rmSync(broken);
        server.child.kill('SIGHUP');
        await waitForLog(server, /content reloaded/);
        const again = await hello(server.url, welcome.token, 0);
        assert.equal(again.welcome.resumed, true);
        await again.visitor.close();
    } finally {
        assert.equal((await server.stop()).code, 0);
    }
});

test('SIGINT stops cleanly with status 0', async () => {
    const server = await startServer();
    const { visitor } = await hello(server.url);
    await visitor.nextOfType('status');
    server.child.kill('SIGINT');
    const { code } = await server.exited;
    assert.equal(code, 0);
    const closed = await visitor.closed;
    assert.ok(closed.code >= 1000);
    assert.match(server.log(), /stopped/);
});
