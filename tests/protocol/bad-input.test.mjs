// Every kind of bad input gets an error frame or a clean close, and the
// server keeps serving what it acknowledged.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Visitor, hello, healthz, startServer } from './helpers.mjs';

let server;
before(async () => {
    server = await startServer({ args: ['--rate-messages-per-minute', '5',
                                        '--max-sockets-per-address', '8'] });
});
after(async () => {
    const { code } = await server.stop();
    assert.equal(code, 0);
});

async function opened() {
    const visitor = new Visitor(server.url);
    await visitor.opened();
    return visitor;
}

async function started() {
    const { visitor } = await hello(server.url);
    await visitor.nextOfType('status');
    return visitor;
}

test('frame over max_frame_bytes closes with 1009', async () => {
    const visitor = await opened();
    visitor.send(JSON.stringify({ type: 'hello', token: null,
                                  pad: 'x'.repeat(17000) }));
    const { code } = await visitor.closed;
    assert.equal(code, 1009);
});

test('invalid UTF-8 closes with 1007', async () => {
    const visitor = await opened();
    visitor.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    const { code } = await visitor.closed;
    assert.equal(code, 1007);
});

test('invalid JSON gets invalid_json', async () => {
    const visitor = await opened();
    visitor.send('{"type": "hello", ');
    const error = await visitor.nextOfType('error');
    assert.equal(error.code, 'invalid_json');
    assert.equal(typeof error.message, 'string');
    assert.ok(error.message.length > 0);
    visitor.send('[1, 2]');
    assert.equal((await visitor.nextOfType('error')).code, 'invalid_json');
    await visitor.close();
});

test('error for a frame sent right after hello follows the welcome',
     async () => {
    const visitor = await opened();
    visitor.send({ type: 'hello', token: null, last_seq: 0 });
    visitor.send('{"type": "message", ');
    const error = await visitor.nextOfType('error');
    assert.equal(error.code, 'invalid_json');
    const types = visitor.frames.map((f) => f.type);
    assert.ok(types.indexOf('welcome') >= 0, `no welcome in ${types}`);
    assert.ok(types.indexOf('welcome') < types.indexOf('error'),
              `error before welcome: ${types}`);
    await visitor.close();
});

test('unknown type gets unknown_type', async () => {
    const visitor = await opened();
    visitor.send({ type: 'subscribe' });
    assert.equal((await visitor.nextOfType('error')).code, 'unknown_type');
    await visitor.close();
});

test('missing or mistyped fields get invalid_field', async () => {
    const visitor = await started();
    const cases = [
        [{ text: 'Hallo', client_id: 'f-1' }, 'type'],
        [{ type: 'message', client_id: 'f-2' }, 'text'],
        [{ type: 'message', text: 42, client_id: 'f-3' }, 'text'],
        [{ type: 'message', text: 'Hallo' }, 'client_id'],
        [{ type: 'message', text: 'Hallo', client_id: 7 }, 'client_id'],
        // Valid JSON with a NUL character: named, not "unreadable".
        [{ type: 'message', text: 'a\u0000b', client_id: 'f-4' }, 'text'],
        [{ type: 'message', text: 'Hallo', client_id: 'f\u00005' },
         'client_id'],
    ];
    for (const [frame, field] of cases) {
        visitor.send(frame);
        const error = await visitor.nextOfType('error');
        assert.equal(error.code, 'invalid_field', JSON.stringify(frame));
        assert.equal(error.field, field, JSON.stringify(frame));
        assert.match(error.expected, /^(the string|a string)/,
                     JSON.stringify(frame));
    }
    const fresh = await opened();
    fresh.send({ type: 'hello', token: 12, last_seq: 0 });
    const error = await fresh.nextOfType('error');
    assert.equal(error.code, 'invalid_field');
    assert.equal(error.field, 'token');
    assert.equal(error.expected,
                 'null, or the token string of a welcome frame');
    fresh.send({ type: 'hello', token: null, last_seq: 'x' });
    assert.equal((await fresh.nextOfType('error')).field, 'last_seq');
    await fresh.close();
    await visitor.close();
});

test('message before hello gets hello_required', async () => {
    const visitor = await opened();
    visitor.send({ type: 'message', text: 'Hallo', client_id: 'h-1' });
    assert.equal((await visitor.nextOfType('error')).code, 'hello_required');
    await visitor.close();
});

test('text over 2000 characters gets text_too_long', async () => {
    const visitor = await started();
    visitor.send({ type: 'message', text: 'a'.repeat(2001),
                   client_id: 'l-1' });
    assert.equal((await visitor.nextOfType('error')).code, 'text_too_long');
    visitor.send({ type: 'message', text: 'é'.repeat(1500),
                   client_id: 'l-2' });
    const ack = await visitor.nextOfType('ack');
    assert.equal(ack.client_id, 'l-2', '1500 characters are accepted');
    await visitor.close();
});

test('longest text fits a frame even when escaped', async () => {
    const visitor = await started();
    // 3 bytes a character in UTF-8, then 6 bytes in JSON (\u0001).
    visitor.send({ type: 'message', text: '\u20ac'.repeat(2000),
                   client_id: 'w-1' });
    assert.equal((await visitor.nextOfType('ack')).client_id, 'w-1');
    visitor.send({ type: 'message', text: '\u0001'.repeat(2000),
                   client_id: 'w-2' });
    assert.equal((await visitor.nextOfType('ack')).client_id, 'w-2');
    await visitor.close();
});

test('flood over the rate gets rate_limited', async () => {
    const visitor = await started();
    for (let i = 0; i < 8; i++)
        visitor.send({ type: 'message', text: `spam ${i}`,
                       client_id: `s-${i}` });
    const error = await visitor.nextOfType('error');
    assert.equal(error.code, 'rate_limited');
    await visitor.settle(300);
    const acks = visitor.frames.filter((f) => f.type === 'ack');
    assert.equal(acks.length, 5, 'only the allowed messages are stored');
    await visitor.close();
});

test('unknown token gets unknown_conversation, nothing created',
     async () => {
    const before = (await healthz(server.http)).conversations;
    const visitor = await opened();
    visitor.send({ type: 'hello', token: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
                   last_seq: 0 });
    const error = await visitor.next();
    assert.equal(error.type, 'error');
    assert.equal(error.code, 'unknown_conversation');
    visitor.send({ type: 'message', text: 'Hallo', client_id: 'u-1' });
    assert.equal((await visitor.nextOfType('error')).code, 'hello_required');
    await visitor.close();
    assert.equal((await healthz(server.http)).conversations, before);
});

test('too many sockets from one address closes with 1008', async () => {
    const sockets = [];
    for (let i = 0; i < 8; i++)
        sockets.push(await opened());
    const extra = new Visitor(server.url);
    const { code } = await extra.closed;
    assert.equal(code, 1008);
    await Promise.all(sockets.map((s) => s.close()));
    const after = await opened();
    after.send({ type: 'hello', token: null, last_seq: 0 });
    assert.equal((await after.next()).type, 'welcome');
    await after.close();
});

test('Origin not allowed is rejected at the upgrade', async () => {
    const bad = new Visitor(server.url, { origin: 'http://evil.example' });
    await assert.rejects(bad.opened(), /upgrade rejected: 403/,
                         'the upgrade must fail with 403 Forbidden');
    const good = new Visitor(server.url,
                             { origin: `http://127.0.0.1:${server.port}` });
    await good.opened();
    await good.close();
    const local = new Visitor(server.url,
                              { origin: `http://localhost:${server.port}` });
    await local.opened();
    await local.close();
});

test('server still serves after all of the above', async () => {
    const health = await healthz(server.http);
    assert.equal(health.status, 'ok');
    const visitor = await started();
    visitor.send({ type: 'message', text: 'Hallo', client_id: 'end' });
    assert.equal((await visitor.nextOfType('ack')).client_id, 'end');
    await visitor.close();
});
