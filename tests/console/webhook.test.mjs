// Partner webhooks driven by the real binary. A visitor agrees in the chat
// to be forwarded to a partner whose receiver is down. `stemdesk serve` is
// killed and started again while the receiver is still down. Once the
// receiver is up, it gets the request exactly once. A request that fails
// every attempt is listed in the console, and a retry delivers it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { Desk, freePort, tempDir, sleep } from '../browser/harness.mjs';
import { hello } from '../protocol/helpers.mjs';
import { addUser, login, openConsole, waitFrame } from './accounts.mjs';

// The partner that the knowledge base names for the food sector.
const PARTNER = 'alimento';
const dirs = [];
const desks = [];
const receivers = [];

after(async () => {
    for (const desk of desks)
        await desk.stop();
    for (const receiver of receivers)
        receiver.close();
    for (const dir of dirs)
        fs.rmSync(dir, { recursive: true, force: true });
});

// Starts a loopback HTTP receiver on `port` that records each request and
// responds with 200.
function startReceiver(port) {
    const requests = [];
    const server = http.createServer((req, res) => {
        let body = '';
        req.on('data', (chunk) => { body += chunk; });
        req.on('end', () => {
            requests.push({ method: req.method, url: req.url,
                            headers: req.headers, body: JSON.parse(body) });
            res.writeHead(200, { 'Content-Type': 'application/json' });
            res.end('{"received":true}');
        });
    });
    receivers.push(server);
    return new Promise((resolve) => {
        server.listen(port, '127.0.0.1', () => resolve({ server, requests }));
    });
}

async function newDesk(receiverPort, args) {
    const dir = tempDir();
    dirs.push(dir);
    const dbPath = path.join(dir, 'stemdesk.db');
    addUser(dbPath, 'an', 'advisor');
    const partners = { [PARTNER]: {
        url: `http://127.0.0.1:${receiverPort}/hook` } };
    // No open office hours: the bot offers the partner, not an advisor.
    const desk = new Desk({ port: await freePort(), dbPath, args: [
        '--partners', JSON.stringify(partners), '--office-hours', '{}',
        ...args] });
    desks.push(desk);
    await desk.start();
    return desk;
}

// Walks a visitor to the partner's offer and agrees; returns the
// conversation id.
async function forwardToPartner(desk) {
    const chat = desk.url.replace('http', 'ws') + '/chat';
    const { visitor, welcome } = await hello(chat);
    await visitor.next((f) => f.type === 'status');
    const lines = [
        'Wij zijn een KMO uit Gent in de voeding met 20 man, we willen ' +
        'jongeren uit de eerste graad secundair warm maken voor techniek ' +
        'en hebben 4 uur per maand',
        'hoe zit het juridisch met verzekering van leerlingen?',
    ];
    for (const [i, text] of lines.entries()) {
        visitor.send({ type: 'message', text, client_id: `line-${i}` });
        await visitor.next((f) => f.type === 'ack', 10000);
    }
    const offer = await visitor.next((f) => f.type === 'message' &&
        /Alimento de juiste partner/.test(f.text), 10000);
    assert.ok(offer);
    visitor.send({ type: 'message', text: 'Ja, graag', client_id: 'yes' });
    const done = await visitor.next((f) => f.type === 'message' &&
        /doorgegeven aan Alimento/.test(f.text), 10000);
    assert.ok(done);
    await visitor.close();
    return welcome.conversation;
}

async function failedList(desk) {
    const session = await login(desk.url, 'an');
    const res = await fetch(desk.url + '/api/outbox',
                            { headers: { Cookie: session.cookie } });
    assert.equal(res.status, 200);
    return (await res.json()).failed;
}

async function waitFor(check, timeout, what) {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
        if (await check())
            return;
        await sleep(250);
    }
    throw new Error(`timed out waiting for ${what}`);
}

test('delivered once after a restart while the partner was down',
     async () => {
    const receiverPort = await freePort();
    const desk = await newDesk(receiverPort, [
        '--outbox-backoff-seconds', '1', '--outbox-max-attempts', '100']);
    const conversation = await forwardToPartner(desk);

    // Attempts fail while nothing listens; the request is not failed yet.
    await sleep(2500);
    assert.deepEqual(await failedList(desk), []);

    await desk.kill();
    await desk.start();
    await sleep(1000);
    const { requests } = await startReceiver(receiverPort);
    await waitFor(() => requests.length > 0, 60000, 'the partner request');
    // Later attempts would have come within the backoff; none may.
    await sleep(4000);
    assert.equal(requests.length, 1, 'delivered exactly once');

    const [request] = requests;
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/hook');
    assert.match(request.headers['content-type'], /^application\/json/);
    assert.equal(request.body.conversation, conversation);
    assert.equal(request.body.partner, PARTNER);
    assert.equal(request.body.reason, 'tailored_advice');
    assert.equal(request.body.consent, true);
    assert.equal(request.body.slots.sector, 'voeding');
    assert.equal(request.headers['idempotency-key'], request.body.request_id);
    assert.equal(request.body.email, undefined, 'no contact details');
    assert.deepEqual(await failedList(desk), []);

    // A restart after the delivery sends nothing again.
    await desk.stop();
    await desk.start();
    await sleep(2000);
    assert.equal(requests.length, 1);
});

test('a failed request is listed in the console and retried', async () => {
    const receiverPort = await freePort();
    const desk = await newDesk(receiverPort, [
        '--outbox-backoff-seconds', '1', '--outbox-max-attempts', '1']);
    const session = await login(desk.url, 'an');
    const { ws, frames } = await openConsole(desk.url, session.cookie);
    await waitFrame(frames, (f) => f.type === 'hello');

    const conversation = await forwardToPartner(desk);
    const listed = await waitFrame(frames, (f) => f.type === 'outbox' &&
                                   f.failed.length === 1, 15000);
    const [item] = listed.failed;
    assert.equal(item.conversation, conversation);
    assert.equal(item.partner, PARTNER);
    assert.equal(item.attempts, 1);
    assert.ok(item.last_error, 'the console shows why it failed');
    assert.equal((await failedList(desk)).length, 1);

    const { requests } = await startReceiver(receiverPort);
    frames.length = 0;
    ws.send(JSON.stringify({ type: 'outbox_retry', id: item.id }));
    const result = await waitFrame(frames, (f) => f.type === 'result' &&
                                   f.action === 'outbox_retry');
    assert.equal(result.ok, true);
    await waitFor(() => requests.length === 1, 15000, 'the retried request');
    await waitFrame(frames, (f) => f.type === 'outbox' &&
                    f.failed.length === 0, 10000);
    assert.equal(requests[0].body.request_id, item.request_id);
    ws.close();
});
