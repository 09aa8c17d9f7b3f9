// Resuming a conversation: after a dropped socket, and after the server
// was killed with SIGKILL, with no acknowledged message lost or doubled.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { hello, startServer, tempDir } from './helpers.mjs';

function messages(visitor) {
    return visitor.frames.filter((f) => f.type === 'message');
}

test('resume after a dropped socket replays after last_seq', async () => {
    const server = await startServer();
    try {
        const { visitor, welcome } = await hello(server.url);
        await visitor.nextOfType('status');
        visitor.send({ type: 'message', text: 'Hallo', client_id: 'r-1' });
        const ack = await visitor.nextOfType('ack');
        await visitor.settle(200);
        const seen = messages(visitor);
        visitor.ws.terminate();
        await visitor.closed;

        const keep = seen[0].seq;
        const again = await hello(server.url, welcome.token, keep);
        assert.equal(again.welcome.type, 'welcome');
        assert.equal(again.welcome.resumed, true);
        assert.equal(again.welcome.conversation, welcome.conversation);
        await again.visitor.nextOfType('status');
        const replayed = messages(again.visitor);
        const expected = [...seen,
                          { from: 'visitor', text: 'Hallo', type: 'message',
                            seq: ack.seq }]
            .filter((m) => m.seq > keep).sort((a, b) => a.seq - b.seq);
        assert.deepEqual(replayed.map((m) => m.seq),
                         expected.map((m) => m.seq),
                         'replay is every message after last_seq, in order');
        for (const [i, m] of replayed.entries()) {
            assert.equal(m.from, expected[i].from);
            assert.equal(m.text, expected[i].text);
        }
        const statusAt = again.visitor.frames.findIndex(
            (f) => f.type === 'status');
        assert.equal(statusAt, again.visitor.frames.length - 1,
                     'status comes after the replay');
        await again.visitor.close();
    } finally {
        await server.stop();
    }
});

test('resume after SIGKILL loses and doubles nothing acked', async () => {
    const dir = tempDir();
    const args = ['--rate-messages-per-minute', '100000'];
    let server = await startServer({ dir, args });
    const { visitor, welcome } = await hello(server.url);
    await visitor.nextOfType('status');

    // Send a burst and kill the server while acks are still coming.
    const total = 200;
    for (let i = 0; i < total; i++)
        visitor.send({ type: 'message', text: `bericht ${i}`,
                       client_id: `k-${i}` });
    const acked = new Map();
    while (acked.size < 10) {
        const ack = await visitor.nextOfType('ack');
        acked.set(ack.client_id, ack.seq);
    }
    await server.kill();
    await visitor.closed;
    for (const f of visitor.frames)
        if (f.type === 'ack') acked.set(f.client_id, f.seq);

    server = await startServer({ dir, args, port: server.port });
    try {
        const again = await hello(server.url, welcome.token, 0);
        assert.equal(again.welcome.resumed, true);
        await again.visitor.nextOfType('status');
        const stored = messages(again.visitor);
        const seqs = stored.map((m) => m.seq);
        assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
        assert.equal(new Set(seqs).size, seqs.length, 'no seq twice');
        for (const [clientId, seq] of acked) {
            const text = `bericht ${clientId.slice(2)}`;
            const found = stored.filter((m) => m.from === 'visitor' &&
                                               m.text === text);
            assert.equal(found.length, 1, `${clientId} stored exactly once`);
            assert.equal(found[0].seq, seq, `${clientId} keeps its seq`);
        }

        // Resending everything stores only what was not stored yet.
        for (let i = 0; i < total; i++)
            again.visitor.send({ type: 'message', text: `bericht ${i}`,
                                 client_id: `k-${i}` });
        const acks = new Map();
        while (acks.size < total) {
            const ack = await again.visitor.nextOfType('ack', 10000);
            acks.set(ack.client_id, ack.seq);
        }
        for (const [clientId, seq] of acked)
            assert.equal(acks.get(clientId), seq, `${clientId} acked again`);
        await again.visitor.close();

        const check = await hello(server.url, welcome.token, 0);
        await check.visitor.nextOfType('status');
        const visitorTexts = messages(check.visitor)
            .filter((m) => m.from === 'visitor').map((m) => m.text);
        assert.equal(visitorTexts.length, total);
        assert.equal(new Set(visitorTexts).size, total);
        await check.visitor.close();
    } finally {
        const { code } = await server.stop();
        assert.equal(code, 0);
    }
});
