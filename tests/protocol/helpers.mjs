// Shared helpers of the protocol tests: start `stemdesk serve` on a free
// loopback port with a temporary database, and a WebSocket client that
// queues the frames it receives.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

export const repoRoot = path.resolve(
    path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const binary =
    path.resolve(process.env.STEMDESK_BIN || path.join(repoRoot, 'build', 'stemdesk'));

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

export function tempDir() {
    return fs.mkdtempSync(path.join(os.tmpdir(), 'stemdesk-protocol-'));
}

// Starts the server and resolves once it logs its URL. `options.dir` keeps
// the database across restarts; `options.args` adds flags.
export async function startServer(options = {}) {
    const dir = options.dir || tempDir();
    const port = options.port || await freePort();
    const args = ['serve', '--port', String(port),
                  '--db-path', path.join(dir, 'stemdesk.db'),
                  '--commit-interval-ms', '0', ...(options.args || [])];
    const child = spawn(binary, args, { cwd: options.cwd || repoRoot,
                                        stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d) => { log += d; });
    const ready = new Promise((resolve, reject) => {
        const timer = setTimeout(
            () => reject(new Error(`server did not start:\n${log}`)), 30000);
        child.stderr.on('data', (d) => {
            log += d;
            if (log.includes(`stemdesk: serving http://127.0.0.1:${port}/`)) {
                clearTimeout(timer);
                resolve();
            }
        });
        child.on('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`server exited with ${code}:\n${log}`));
        });
    });
    await ready;
    const exited = new Promise((resolve) => {
        child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    return {
        port, dir, child, exited,
        url: `ws://127.0.0.1:${port}/chat`,
        http: `http://127.0.0.1:${port}`,
        log: () => log,
        // Stops with SIGTERM and resolves with the exit status.
        async stop() {
            if (child.exitCode === null && child.signalCode === null)
                child.kill('SIGTERM');
            return exited;
        },
        async kill() {
            child.kill('SIGKILL');
            return exited;
        },
    };
}

// A visitor socket that keeps every frame it receives, in order.
export class Visitor {
    constructor(url, options = {}) {
        this.frames = [];
        this.waiters = [];
        this.closed = new Promise((resolve) => { this.resolveClosed = resolve; });
        this.ws = new WebSocket(url, options);
        this.ws.on('message', (data, isBinary) => {
            const frame = isBinary ? { binary: data } : JSON.parse(data.toString());
            this.frames.push(frame);
            this.wake();
        });
        this.ws.on('close', (code, reason) => {
            this.closeEvent = { code, reason: reason.toString() };
            this.resolveClosed(this.closeEvent);
            this.wake();
        });
        this.ws.on('error', (error) => { this.error = error; this.wake(); });
        this.cursor = 0;
    }

    opened() {
        return new Promise((resolve, reject) => {
            if (this.ws.readyState === WebSocket.OPEN) return resolve();
            this.ws.once('open', resolve);
            this.ws.once('error', reject);
            this.ws.once('unexpected-response', (req, res) =>
                reject(new Error(`upgrade rejected: ${res.statusCode}`)));
        });
    }

    wake() {
        const waiters = this.waiters;
        this.waiters = [];
        for (const w of waiters) w();
    }

    send(frame) {
        this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    }

    // Resolves with the next frame after the cursor that matches
    // `predicate`, moving the cursor past it.
    async next(predicate = () => true, timeoutMs = 5000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            while (this.cursor < this.frames.length) {
                const frame = this.frames[this.cursor++];
                if (predicate(frame)) return frame;
            }
            if (this.closeEvent)
                throw new Error(`socket closed (${this.closeEvent.code}) ` +
                                `while waiting; got ${JSON.stringify(this.frames)}`);
            const left = deadline - Date.now();
            if (left <= 0)
                throw new Error(`timed out; got ${JSON.stringify(this.frames)}`);
            await new Promise((resolve) => {
                const timer = setTimeout(resolve, left);
                this.waiters.push(() => { clearTimeout(timer); resolve(); });
            });
        }
    }

    nextOfType(type, timeoutMs) {
        return this.next((f) => f.type === type, timeoutMs);
    }

    // Waits until no frame arrives for `quietMs`.
    async settle(quietMs = 300) {
        let count = -1;
        while (count !== this.frames.length) {
            count = this.frames.length;
            await new Promise((resolve) => setTimeout(resolve, quietMs));
        }
    }

    close() {
        this.ws.close();
        return this.closed;
    }
}

// Opens a socket and starts (token null) or resumes a conversation;
// resolves with the visitor and the welcome frame.
export async function hello(url, token = null, lastSeq = 0) {
    const visitor = new Visitor(url);
    await visitor.opened();
    visitor.send({ type: 'hello', token, last_seq: lastSeq });
    const first = await visitor.next();
    return { visitor, welcome: first };
}

export async function healthz(base) {
    const response = await fetch(`${base}/healthz`);
    return response.json();
}
