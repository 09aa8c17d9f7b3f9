// Shared helpers of the browser tests: start the real `stemdesk serve` on a
// free loopback port with a temporary database, drive headless Chromium
// through playwright-core, and walk through the orientation without
// depending on the bot's exact wording.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
export const artifactsDir = path.join(here, 'artifacts');

const require = createRequire(path.join(repoRoot, 'package.json'));
const { chromium } = require('playwright-core');

export const chromiumArgs = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync',
];

// Returns the stemdesk binary from STEMDESK_BIN, or throws with the fix.
export function stemdeskBinary() {
    const bin = process.env.STEMDESK_BIN;
    if (!bin)
        throw new Error('STEMDESK_BIN is not set; run the tests through ' +
                        'ctest or set it to build/stemdesk');
    if (!fs.existsSync(bin))
        throw new Error(`STEMDESK_BIN ${bin} not found; build the ` +
                        'stemdesk target first');
    return bin;
}

export function freePort() {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.on('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address();
            server.close(() => resolve(port));
        });
    });
}

// Creates a temporary folder that the caller removes with fs.rmSync.
export function tempDir() {
    return fs.mkdtempSync(path.join(os.tmpdir(), 'stemdesk-browser-'));
}

// Office hours that cover the whole week, so that a test does not depend
// on the time of day or the day of the week it runs at.
export const ALWAYS_OPEN = JSON.stringify(Object.fromEntries(
    ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']
        .map((day) => [day, ['00:00', '24:00']])));

// A running `stemdesk serve`. start() may be called again after kill() to
// restart on the same port and database. `args` are added to the command
// line; without --office-hours the desk is open the whole week.
export class Desk {
    constructor({ port, dbPath, args = [] }) {
        this.port = port;
        this.dbPath = dbPath;
        this.args = args.includes('--office-hours')
            ? args : ['--office-hours', ALWAYS_OPEN, ...args];
        this.child = null;
        this.output = '';
        this.url = `http://127.0.0.1:${port}`;
    }

    async start() {
        const args = [
            'serve', '--listen', '127.0.0.1', '--port', String(this.port),
            '--db-path', this.dbPath,
            '--web-dir', path.join(repoRoot, 'web-widget'),
            '--dialogs-dir', path.join(repoRoot, 'dialogs'),
            '--intents-dir', path.join(repoRoot, 'intents'),
            '--kb-dir', path.join(repoRoot, 'kb'),
            '--lang-dir', path.join(repoRoot, 'lang'),
            ...this.args,
        ];
        const child = spawn(stemdeskBinary(), args, {
            cwd: repoRoot,
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        this.child = child;
        const keep = (chunk) => {
            this.output = (this.output + chunk).slice(-20000);
        };
        child.stdout.on('data', keep);
        child.stderr.on('data', keep);
        child.exited = new Promise((resolve) => child.on('exit', resolve));
        await this.waitReady(child);
    }

    // Polls GET / until the desk serves the demo page, for at most 20 s.
    async waitReady(child) {
        const deadline = Date.now() + 20000;
        let exitCode = null;
        child.exited.then((code) => { exitCode = code; });
        while (Date.now() < deadline) {
            if (exitCode !== null)
                throw new Error(`stemdesk serve exited with ${exitCode}:\n` +
                                this.output);
            try {
                const res = await fetch(this.url + '/');
                if (res.ok)
                    return;
            } catch {
                // not listening yet
            }
            await sleep(100);
        }
        throw new Error('stemdesk serve did not answer GET / within 20 s:\n' +
                        this.output);
    }

    // Ends the server at once, as a crash would.
    async kill() {
        if (!this.child)
            return;
        const child = this.child;
        this.child = null;
        child.kill('SIGKILL');
        await child.exited;
    }

    async stop() {
        if (!this.child)
            return;
        const child = this.child;
        this.child = null;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await child.exited;
        clearTimeout(timer);
    }
}

export function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

// Starts a desk on a free port with a fresh database in `dir`.
export async function startDesk(dir) {
    const desk = new Desk({
        port: await freePort(),
        dbPath: path.join(dir, 'stemdesk.db'),
    });
    await desk.start();
    return desk;
}

export async function launchBrowser() {
    return chromium.launch({
        executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
        args: chromiumArgs,
        headless: true,
    });
}

// Opens a page that records dialogs, page errors, CSP violations and
// files served with an error status (not /api/ responses, whose errors
// a test may provoke), so a test can assert that none happened.
export async function newPage(browser, viewport = { width: 1280, height: 800 }) {
    const context = await browser.newContext({ viewport, locale: 'nl-BE' });
    const page = await context.newPage();
    page.problems = { dialogs: [], errors: [], csp: [], failed: [] };
    page.on('response', (response) => {
        if (response.status() >= 400 &&
            !new URL(response.url()).pathname.startsWith('/api/'))
            page.problems.failed.push(`${response.status()} ${response.url()}`);
    });
    page.on('dialog', async (dialog) => {
        page.problems.dialogs.push(dialog.message());
        await dialog.dismiss();
    });
    page.on('pageerror', (err) => page.problems.errors.push(String(err)));
    page.on('console', (msg) => {
        if (/Content.Security.Policy|Refused to/i.test(msg.text()))
            page.problems.csp.push(msg.text());
    });
    return page;
}

export async function screenshot(page, name) {
    fs.mkdirSync(artifactsDir, { recursive: true });
    const file = path.join(artifactsDir, name + '.png');
    await page.screenshot({ path: file });
    return file;
}

export const sel = {
    launcher: '.sdw-launcher',
    panel: '.sdw-panel',
    log: '.sdw-log',
    input: '.sdw-input',
    send: '.sdw-send',
    close: '.sdw-close',
    status: '.sdw-status',
    quick: '.sdw-quick:not([hidden]) .sdw-quick-reply',
    card: '.sdw-card',
    message: '.sdw-log .sdw-msg',
    serverMessage: '.sdw-log .sdw-msg[data-seq]:not(.sdw-msg--visitor)',
};

// Returns how many messages from the bot or an advisor are shown.
export function countReplies(page) {
    return page.locator('.sdw-msg--bot, .sdw-msg--advisor').count();
}

// Waits until more than `before` bot or advisor messages are shown.
export async function waitForReply(page, before, timeout = 15000) {
    await page.waitForFunction(
        (n) => document.querySelectorAll(
            '.sdw-msg--bot, .sdw-msg--advisor').length > n,
        before, { timeout });
}

// Waits until every line the visitor sent has its ack (no pending line).
export async function waitForAcks(page, timeout = 10000) {
    await page.waitForFunction(
        () => !document.querySelector('.sdw-msg.sdw-pending'),
        null, { timeout });
}

export async function openWidget(page, url) {
    await page.goto(url + '/');
    await page.click(sel.launcher);
    await page.waitForSelector(sel.panel, { state: 'visible' });
    await page.waitForSelector('.sdw-msg--bot', { timeout: 10000 });
}

// Answers the bot's questions until cards appear: the first quick reply
// when there are some, otherwise a typed answer picked by the question's
// topic. With `typeFirst` it opens with one line that already answers most
// slots and types every answer it can; a question asked again after a typed
// answer gets a quick reply instead. Returns the number of turns taken.
export async function walkOrientation(page, { typeFirst = false,
                                              maxTurns = 12 } = {}) {
    const typed = [
        [/leerling|doelgroep|student|onderwijs|school|leeftijd/i,
         'Leerlingen in het TSO'],
        [/post|gemeente|waar|regio|provincie|gevestigd/i, 'In Kortrijk'],
        [/sector|branche|actief|doet uw bedrijf/i, 'Metaal en technologie'],
        [/groot|werknemers|medewerkers|grootte/i, 'Wij hebben 40 werknemers'],
        [/tijd|uren|dagen|hoeveel/i, 'Een paar dagen per jaar'],
        [/doel|bereiken|helpen/i, 'Jongeren warm maken voor techniek'],
    ];
    const typedFor = new Set();
    if (typeFirst) {
        const before = await countReplies(page);
        await sendText(page, 'Wij zijn een metaalbedrijf in Kortrijk met ' +
                       '40 werknemers. We willen leerlingen uit het TSO ' +
                       'warm maken voor techniek en hebben een paar dagen ' +
                       'per jaar.');
        await waitForReply(page, before);
    }
    for (let turn = 0; turn < maxTurns; turn++) {
        await settle(page);
        if (await page.locator(sel.card).count() > 0)
            return turn;
        const before = await countReplies(page);
        const quick = page.locator(sel.quick);
        const hasQuick = await quick.count() > 0;
        const question = await page.locator('.sdw-msg--bot .sdw-bubble')
            .last().textContent();
        const match = typed.find(([re]) => re.test(question));
        const typeIt = (typeFirst || !hasQuick) && match &&
                       !typedFor.has(question);
        if (typeIt) {
            typedFor.add(question);
            await sendText(page, match[1]);
        } else if (hasQuick) {
            await quick.first().click();
        } else {
            await sendText(page, 'Ja');
        }
        await waitForReply(page, before);
    }
    const lines = (await transcript(page))
        .map(([from, text]) => `  ${from}: ${text}`).join('\n');
    throw new Error(`no cards after ${maxTurns} turns:\n${lines}`);
}

// Waits until the bot has stopped sending for a moment.
async function settle(page) {
    let last = -1;
    for (;;) {
        const now = await page.locator(sel.message).count();
        if (now === last)
            return;
        last = now;
        await sleep(300);
    }
}

export async function sendText(page, text) {
    await page.fill(sel.input, text);
    await page.press(sel.input, 'Enter');
}

// Returns the transcript as [from, text] pairs, from the DOM.
export async function transcript(page) {
    return page.$$eval('.sdw-log .sdw-msg', (nodes) => nodes.map((n) => [
        n.className.match(/sdw-msg--(\w+)/)[1],
        n.querySelector('.sdw-bubble').textContent,
    ]));
}
