// A conversation returns to the queue when its advisor does not answer
// within advisor_answer_seconds or goes offline, over real sockets to
// `stemdesk serve`. The engine then leaves "advisor" mode: the visitor
// waits again while another advisor is online, and is offered a callback
// when nobody is. Also checks the `advisor` field of the status frame.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { Desk, freePort, tempDir, sleep } from '../browser/harness.mjs';
import { hello } from '../protocol/helpers.mjs';
import { addUser, advisorSocket, login, waitFrame } from './accounts.mjs';

// The smallest value that the setting accepts.
const ANSWER_SECONDS = 10;
// How long a closed console keeps what its advisor held.
const RECONNECT_SECONDS = 4;

let dir;
let desk;

before(async () => {
    dir = tempDir();
    const dbPath = path.join(dir, 'stemdesk.db');
    addUser(dbPath, 'an', 'advisor');
    addUser(dbPath, 'bo', 'advisor');
    addUser(dbPath, 'root', 'admin');
    desk = new Desk({
        port: await freePort(), dbPath,
        args: ['--advisor-answer-seconds', String(ANSWER_SECONDS),
               '--advisor-reconnect-seconds', String(RECONNECT_SECONDS)],
    });
    await desk.start();
});

after(async () => {
    await desk?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
});


// Starts a conversation that asks for a person; resolves once it waits.
async function escalatedVisitor() {
    const chat = desk.url.replace('http', 'ws') + '/chat';
    const { visitor, welcome } = await hello(chat);
    assert.equal(welcome.type, 'welcome');
    await visitor.next((f) => f.type === 'status' && f.state === 'bot');
    visitor.send({ type: 'message', text: 'Met een adviseur praten',
                   client_id: 'ask-1' });
    await visitor.next((f) => f.type === 'status' && f.state === 'waiting',
                       10000);
    return { visitor, conversation: welcome.conversation };
}

async function take(socket, conversation) {
    socket.frames.length = 0;
    socket.ws.send(JSON.stringify({ type: 'take', conversation }));
    const result = await waitFrame(socket.frames, (f) =>
        f.type === 'result' && f.action === 'take');
    assert.equal(result.ok, true, JSON.stringify(result));
}

async function auditActions(conversation) {
    const admin = await login(desk.url, 'root');
    const res = await fetch(desk.url + '/api/audit',
                            { headers: { Cookie: admin.cookie } });
    return (await res.json()).entries
        .filter((e) => e.conversation === conversation)
        .map((e) => e.action);
}

test('silent advisor: back to the queue, visitor waits', async () => {
    const an = await advisorSocket(desk.url, 'an');
    const bo = await advisorSocket(desk.url, 'bo');
    const { visitor, conversation } = await escalatedVisitor();
    try {
        await silentAdvisor(an, bo, visitor, conversation);
    } finally {
        for (const socket of [an, bo, visitor])
            socket.ws.close();
    }
});

async function silentAdvisor(an, bo, visitor, conversation) {
    await take(an, conversation);
    const status = await visitor.next((f) => f.type === 'status', 5000);
    assert.equal(status.state, 'advisor');
    assert.equal(status.advisor, 'an', 'status names the advisor');
    const taken = Date.now();

    // No reply from "an": the conversation returns to the queue.
    const back = await visitor.next((f) => f.type === 'status',
                                    (ANSWER_SECONDS + 5) * 1000);
    const waited = (Date.now() - taken) / 1000;
    assert.equal(back.state, 'waiting');
    assert.equal(back.advisor, undefined, 'no advisor while waiting');
    assert.ok(waited >= ANSWER_SECONDS - 1.5,
              `requeued after ${waited} s, before ${ANSWER_SECONDS} s`);
    // The engine's message comes before the status of the same step.
    const notices = visitor.frames.filter((f) => f.type === 'message' &&
                                          f.from === 'bot' && f.seq > 4);
    assert.equal(notices.length, 1, JSON.stringify(notices));
    assert.match(notices[0].text, /bezet/);

    const queue = await waitFrame(bo.frames, (f) => f.type === 'queue' &&
        f.items.some((i) => i.conversation === conversation &&
                            i.state === 'waiting' && !i.advisor_name));
    assert.ok(queue);
    assert.ok((await auditActions(conversation)).includes('requeue_silent'));

    // The visitor got one notice: no second timeout message follows.
    await sleep(2500);
    const extra = visitor.frames.slice(visitor.cursor)
        .filter((f) => f.type === 'message');
    assert.deepEqual(extra, []);

    // Another advisor can take it; the bot stays silent meanwhile.
    await take(bo, conversation);
    const again = await visitor.next((f) => f.type === 'status', 5000);
    assert.equal(again.advisor, 'bo');
}

test('quick reconnect keeps the conversation', async () => {
    let an = await advisorSocket(desk.url, 'an');
    const { visitor, conversation } = await escalatedVisitor();
    await take(an, conversation);
    await visitor.next((f) => f.type === 'status' && f.state === 'advisor',
                       5000);
    an.ws.send(JSON.stringify({ type: 'message', conversation,
                                text: 'Ik help u verder.' }));
    await visitor.next((f) => f.type === 'message' && f.from === 'advisor',
                       5000);

    // A reload of the page: the socket closes and a new one opens.
    an.ws.close();
    await sleep((RECONNECT_SECONDS - 2) * 1000);
    an = await advisorSocket(desk.url, 'an');
    await sleep(3000);
    const changes = visitor.frames.slice(visitor.cursor)
        .filter((f) => f.type === 'status');
    assert.deepEqual(changes, [], 'the visitor stays with the advisor');
    assert.ok(!(await auditActions(conversation)).includes('requeue_offline'));
    const queue = await waitFrame(an.frames, (f) => f.type === 'queue');
    assert.ok(queue.items.some((i) => i.conversation === conversation &&
                                      i.state === 'taken'),
              JSON.stringify(queue.items));
    for (const socket of [an, visitor])
        socket.ws.close();
});

test('advisor offline and nobody else: callback offered', async () => {
    const an = await advisorSocket(desk.url, 'an');
    const { visitor, conversation } = await escalatedVisitor();
    await take(an, conversation);
    await visitor.next((f) => f.type === 'status' && f.state === 'advisor',
                       5000);

    // Closing the only console tab takes "an" offline once the console
    // has had its time to reconnect.
    an.ws.close();
    const closed = Date.now();
    const back = await visitor.next((f) => f.type === 'status',
                                    (RECONNECT_SECONDS + 5) * 1000);
    const waited = (Date.now() - closed) / 1000;
    assert.equal(back.state, 'bot');
    assert.ok(waited >= RECONNECT_SECONDS - 1.5,
              `requeued after ${waited} s, before ${RECONNECT_SECONDS} s`);
    const offer = visitor.frames.filter((f) => f.type === 'message' &&
                                        f.from === 'bot').at(-1);
    assert.match(offer.text, /geen adviseur vrij/);
    assert.ok(offer.quick_replies.some((q) => q.value === 'intent:affirm'));
    assert.ok((await auditActions(conversation)).includes('requeue_offline'));

    // The bot replies again: the visitor accepts the callback offer.
    visitor.send({ type: 'message', text: 'Ja, graag', client_id: 'yes-1' });
    const consent = await visitor.next((f) => f.type === 'message' &&
                                       f.from === 'bot', 10000);
    assert.match(consent.text, /bewaren/);
    visitor.ws.close();
});
