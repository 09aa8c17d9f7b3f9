// A whole conversation over a real socket, the resend rule, and the HTTP
// side (files, headers, /healthz, /metrics).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { hello, healthz, startServer } from './helpers.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => {
    const { code } = await server.stop();
    assert.equal(code, 0, 'server must exit 0 on SIGTERM');
});

test('new conversation gets welcome, bot messages, status', async () => {
    const { visitor, welcome } = await hello(server.url);
    assert.equal(welcome.type, 'welcome');
    assert.match(welcome.conversation, /^[0-9a-f]{32}$/);
    assert.ok(welcome.token.length >= 22, 'token carries >= 128 bits');
    assert.equal(welcome.resumed, false);

    const status = await visitor.nextOfType('status');
    assert.ok(['bot', 'waiting', 'advisor', 'closed'].includes(status.state));
    const greetings = visitor.frames.filter((f) => f.type === 'message');
    assert.ok(greetings.length >= 1, 'the bot greets a new conversation');
    assert.deepEqual(greetings.map((m) => m.seq),
                     greetings.map((_, i) => i + 1));
    for (const m of greetings) {
        assert.equal(m.from, 'bot');
        assert.equal(typeof m.text, 'string');
    }
    await visitor.close();
});

test('whole conversation: acks then replies in seq order', async () => {
    const { visitor } = await hello(server.url);
    await visitor.nextOfType('status');
    const lines = ['Hallo', 'Wij willen leerlingen ontvangen in ons bedrijf',
                   'Secundair onderwijs', 'In Gent'];
    let lastSeq = Math.max(...visitor.frames.filter((f) => f.seq)
                                              .map((f) => f.seq));
    for (const [i, text] of lines.entries()) {
        const clientId = `c-${i}`;
        visitor.send({ type: 'message', text, client_id: clientId });
        const ack = await visitor.nextOfType('ack');
        assert.equal(ack.client_id, clientId);
        assert.equal(ack.seq, lastSeq + 1, 'ack carries the next seq');
        lastSeq = ack.seq;
        await visitor.settle(200);
        const replies = visitor.frames.slice(visitor.cursor)
            .filter((f) => f.type === 'message');
        for (const reply of replies) {
            assert.equal(reply.seq, lastSeq + 1, 'replies follow in order');
            assert.ok(['bot', 'system', 'advisor'].includes(reply.from));
            lastSeq = reply.seq;
            if (reply.quick_replies)
                for (const q of reply.quick_replies) {
                    assert.equal(typeof q.label, 'string');
                    assert.equal(typeof q.value, 'string');
                }
        }
        if (i === 0)
            assert.ok(replies.length >= 1, 'the bot answers a visitor');
        visitor.cursor = visitor.frames.length;
    }
    await visitor.close();
});

test('resend with the same client_id is stored once', async () => {
    const { visitor, welcome } = await hello(server.url);
    await visitor.nextOfType('status');
    visitor.send({ type: 'message', text: 'Hallo', client_id: 'same' });
    const first = await visitor.nextOfType('ack');
    await visitor.settle(200);
    const before = visitor.frames.length;
    visitor.send({ type: 'message', text: 'Hallo', client_id: 'same' });
    const second = await visitor.nextOfType('ack');
    assert.equal(second.seq, first.seq);
    await visitor.settle(200);
    const extra = visitor.frames.slice(before)
        .filter((f) => f.type === 'message');
    assert.equal(extra.length, 0, 'a resend is not run through the engine');
    await visitor.close();

    const again = await hello(server.url, welcome.token, 0);
    await again.visitor.nextOfType('status');
    const stored = again.visitor.frames
        .filter((f) => f.type === 'message' && f.from === 'visitor');
    assert.equal(stored.length, 1);
    await again.visitor.close();
});

test('second socket on a conversation sees the visitor message', async () => {
    const { visitor, welcome } = await hello(server.url);
    await visitor.nextOfType('status');
    const other = await hello(server.url, welcome.token, 1000);
    await other.visitor.nextOfType('status');
    visitor.send({ type: 'message', text: 'Hallo', client_id: 'tab-1' });
    const ack = await visitor.nextOfType('ack');
    const seen = await other.visitor.next(
        (f) => f.type === 'message' && f.from === 'visitor');
    assert.equal(seen.seq, ack.seq);
    assert.equal(seen.text, 'Hallo');
    await visitor.close();
    await other.visitor.close();
});

test('healthz answers ok with the database', async () => {
    const health = await healthz(server.http);
    assert.equal(health.status, 'ok');
    assert.equal(health.database, 'ok');
    assert.ok(health.conversations >= 1);
});

test('metrics in Prometheus text format', async () => {
    const response = await fetch(`${server.http}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^text\/plain/);
    const text = await response.text();
    for (const name of ['stemdesk_sockets_open', 'stemdesk_conversations',
                        'stemdesk_turns_total', 'stemdesk_escalations_total',
                        'stemdesk_errors_total{code="invalid_json"}',
                        'stemdesk_turn_latency_seconds_bucket{le="+Inf"}',
                        'stemdesk_turn_latency_seconds_count'])
        assert.ok(text.includes(name), `metrics lists ${name}`);
    const turns = Number(/^stemdesk_turns_total (\d+)$/m.exec(text)[1]);
    assert.ok(turns >= 5);
});

test('static files carry security and cache headers', async () => {
    const page = await fetch(`${server.http}/`);
    if (page.status === 404) {
        // The widget folder has no index.html yet: check the 404 headers.
        assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
        return;
    }
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /^text\/html/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const csp = page.headers.get('content-security-policy');
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /connect-src 'self' ws: wss:/);
    assert.doesNotMatch(csp, /unsafe-inline/);
});

test('no path traversal out of the web folder', async () => {
    const net = await import('node:net');
    for (const target of ['/../CMakeLists.txt', '/..%2fCMakeLists.txt',
                          '/%2e%2e/CMakeLists.txt', '/.git/HEAD',
                          '//etc/passwd']) {
        const reply = await new Promise((resolve) => {
            const socket = net.connect(server.port, '127.0.0.1', () => {
                socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n` +
                             'Connection: close\r\n\r\n');
            });
            let data = '';
            socket.on('data', (d) => { data += d; });
            socket.on('end', () => resolve(data));
            socket.on('error', () => resolve(data));
        });
        assert.doesNotMatch(reply, /^HTTP\/1\.1 200/, `${target} is refused`);
        assert.doesNotMatch(reply, /cmake_minimum_required|root:/);
    }
});
