// The chat widget on the demo page, in headless Chromium against the real
// `stemdesk serve`: orientation by quick replies and by typing, cards,
// reload, markup as text and the 320 px view.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import {
    launchBrowser, newPage, openWidget, screenshot, sel, sendText,
    startDesk, tempDir, transcript, waitForAcks, waitForReply,
    walkOrientation, countReplies,
} from './harness.mjs';

describe('widget', () => {
    let dir;
    let desk;
    let browser;

    before(async () => {
        dir = tempDir();
        desk = await startDesk(dir);
        browser = await launchBrowser();
    });

    after(async () => {
        await browser?.close();
        await desk?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test('demo page embeds the widget', async () => {
        const page = await newPage(browser);
        await page.goto(desk.url + '/');
        assert.equal(await page.getAttribute('html', 'lang'), 'nl');
        assert.equal(await page.locator('script[src$="widget.js"]').count(),
                     1);
        await page.waitForSelector(sel.launcher, { state: 'visible' });
        const cssLoaded = await page.evaluate(() => [...document.styleSheets]
            .some((s) => s.href && s.href.endsWith('/widget.css')));
        assert.ok(cssLoaded, 'widget.css is loaded by widget.js');
        assert.equal(await page.getAttribute(sel.launcher, 'aria-expanded'),
                     'false');
        assert.equal(await page.locator(sel.panel).isVisible(), false);
        assert.deepEqual(page.problems.csp, []);
        assert.deepEqual(page.problems.errors, []);
        await page.context().close();
    });

    test('orientation by quick replies ends in cards', async () => {
        const page = await newPage(browser);
        await openWidget(page, desk.url);
        assert.equal(await page.locator(sel.status).textContent(),
                     'Digitale assistent');
        assert.ok(await page.locator(sel.quick).count() > 0,
                  'the first question offers quick replies');
        const focused = await page.evaluate(
            () => document.activeElement.classList.contains('sdw-input'));
        assert.ok(focused, 'focus moves to the input on open');

        // A quick reply shows its label as the visitor's line.
        const label = await page.locator(sel.quick).first().textContent();
        const replies = await countReplies(page);
        await page.locator(sel.quick).first().click();
        const lastVisitor = page.locator('.sdw-msg--visitor .sdw-bubble')
            .last();
        assert.equal(await lastVisitor.textContent(), label);
        await waitForReply(page, replies);

        await walkOrientation(page);
        const card = page.locator(sel.card).first();
        assert.ok((await card.locator('.sdw-card-title').textContent())
            .trim().length > 0, 'a card has a title');
        const links = page.locator('.sdw-card-link');
        for (let i = 0; i < await links.count(); i++) {
            const link = links.nth(i);
            assert.match(await link.getAttribute('href'), /^https?:\/\//);
            assert.equal(await link.getAttribute('target'), '_blank');
            assert.equal(await link.getAttribute('rel'),
                         'noopener noreferrer');
        }
        const reasons = page.locator('.sdw-card-why');
        if (await reasons.count() > 0)
            assert.equal(await reasons.first().textContent(),
                         'Waarom dit past:');

        // Opening a card link opens a new tab and keeps the chat.
        if (await links.count() > 0) {
            await page.context().route(/^https?:\/\/(?!127\.0\.0\.1)/,
                                       (route) => route.fulfill({
                                           status: 200,
                                           contentType: 'text/html',
                                           body: '<title>extern</title>',
                                       }));
            const [tab] = await Promise.all([
                page.context().waitForEvent('page'),
                links.first().click(),
            ]);
            assert.match(tab.url(), /^https?:\/\//);
            const opener = await tab.evaluate(() => window.opener);
            assert.equal(opener, null, 'the new tab has no opener');
            await tab.close();
        }

        await waitForAcks(page);
        await screenshot(page, 'widget-open-cards');
        assert.deepEqual(page.problems.csp, []);
        assert.deepEqual(page.problems.errors, []);

        // Reload: the transcript comes back once, in the same order.
        const beforeReload = await transcript(page);
        await page.reload();
        await page.waitForSelector(sel.panel, { state: 'visible' });
        await page.waitForFunction(
            (n) => document.querySelectorAll('.sdw-log .sdw-msg').length >= n,
            beforeReload.length);
        await page.waitForTimeout(500);
        assert.deepEqual(await transcript(page), beforeReload);
        assert.ok(await page.locator(sel.card).count() > 0,
                  'cards are shown again after reload');

        // Another page of the site that embeds the widget: same transcript.
        await page.goto(desk.url + '/privacy.html');
        await page.waitForSelector(sel.panel, { state: 'visible' });
        await page.waitForFunction(
            (n) => document.querySelectorAll('.sdw-log .sdw-msg').length >= n,
            beforeReload.length);
        await page.waitForTimeout(500);
        assert.deepEqual(await transcript(page), beforeReload);
        await page.context().close();
    });

    test('orientation by typing ends in cards', async () => {
        const page = await newPage(browser);
        await openWidget(page, desk.url);
        await walkOrientation(page, { typeFirst: true });
        assert.ok(await page.locator(sel.card).count() > 0);
        assert.deepEqual(page.problems.errors, []);
        await page.context().close();
    });

    test('markup in a message is shown as text', async () => {
        const page = await newPage(browser);
        await openWidget(page, desk.url);
        const attack = '<img src=x onerror=alert(1)>';
        const replies = await countReplies(page);
        await sendText(page, attack);
        await waitForAcks(page);
        await waitForReply(page, replies);
        const bubble = page.locator('.sdw-msg--visitor .sdw-bubble').last();
        assert.equal(await bubble.textContent(), attack);
        assert.equal(await page.locator('.sdw-root img').count(), 0);
        await page.reload();
        await page.waitForSelector('.sdw-msg--visitor');
        await page.waitForTimeout(500);
        assert.equal(await page.locator('.sdw-msg--visitor .sdw-bubble')
            .last().textContent(), attack);
        assert.equal(await page.locator('.sdw-root img').count(), 0);
        assert.deepEqual(page.problems.dialogs, [], 'no dialog fired');
        await page.context().close();
    });

    test('a line over the limit is cut and the visitor told', async () => {
        const page = await newPage(browser);
        await openWidget(page, desk.url);
        // maxlength stops typing but not a script. The emoji, two UTF-16
        // units, straddles the limit, so it must be dropped whole.
        const long = 'a'.repeat(1999) + '\u{1F600}' + 'b'.repeat(300);
        await page.evaluate(([selector, text]) => {
            document.querySelector(selector).value = text;
        }, [sel.input, long]);
        await page.press(sel.input, 'Enter');
        await waitForAcks(page);
        const bubble = page.locator('.sdw-msg--visitor .sdw-bubble').last();
        assert.equal(await bubble.textContent(), 'a'.repeat(1999),
                     'the bubble shows what was sent, no half emoji');
        await page.waitForSelector(
            '.sdw-local >> text=Alleen het begin is verstuurd.');
        await page.context().close();
    });

    // Fires a paste event of `text` on the input, as the browser would.
    async function paste(page, text) {
        await page.evaluate(([selector, pasted]) => {
            const data = new DataTransfer();
            data.setData('text/plain', pasted);
            document.querySelector(selector).dispatchEvent(new ClipboardEvent(
                'paste', { clipboardData: data, bubbles: true }));
        }, [sel.input, text]);
    }

    test('a paste over the limit is noticed', async () => {
        const page = await newPage(browser);
        await openWidget(page, desk.url);
        await page.fill(sel.input, 'Begin: ');
        await paste(page, 'x'.repeat(1995));
        await page.waitForSelector(
            '.sdw-local >> text=Alleen het begin staat in het vak.');
        // A paste that fits gets no notice.
        await page.fill(sel.input, '');
        await paste(page, 'x'.repeat(2000));
        await page.waitForTimeout(300);
        assert.equal(await page.locator('.sdw-local').count(), 1);
        await page.context().close();
    });

    test('escape closes and focus returns to launcher', async () => {
        const page = await newPage(browser);
        await openWidget(page, desk.url);
        await page.keyboard.press('Escape');
        assert.equal(await page.locator(sel.panel).isVisible(), false);
        assert.equal(await page.getAttribute(sel.launcher, 'aria-expanded'),
                     'false');
        const onLauncher = await page.evaluate(
            () => document.activeElement.classList.contains('sdw-launcher'));
        assert.ok(onLauncher);
        await page.context().close();
    });

    test('panel fills a 320 px screen', async () => {
        const page = await newPage(browser, { width: 320, height: 640 });
        await openWidget(page, desk.url);
        const box = await page.locator(sel.panel).boundingBox();
        assert.equal(Math.round(box.x), 0);
        assert.equal(Math.round(box.width), 320);
        assert.equal(Math.round(box.height), 640);
        for (const control of [sel.input, sel.send, sel.close]) {
            const b = await page.locator(control).boundingBox();
            assert.ok(b.x >= 0 && b.x + b.width <= 320,
                      `${control} lies inside the 320 px screen`);
        }
        const scrollWidth = await page.evaluate(
            () => document.documentElement.scrollWidth);
        assert.ok(scrollWidth <= 320, `page scrolls sideways: ${scrollWidth}`);
        await sendText(page, 'Hallo');
        await waitForAcks(page);
        await screenshot(page, 'widget-320px');
        await page.context().close();
    });

    test('panel fits at 200 percent zoom', async () => {
        // 1280x800 at 200 % zoom lays out like a 640x400 CSS px viewport.
        const context = await browser.newContext({
            viewport: { width: 640, height: 400 }, deviceScaleFactor: 2,
        });
        const page = await context.newPage();
        await openWidget(page, desk.url);
        for (const control of [sel.input, sel.send, sel.close]) {
            const b = await page.locator(control).boundingBox();
            assert.ok(b.y >= 0 && b.y + b.height <= 400,
                      `${control} is visible without scrolling the page`);
        }
        await screenshot(page, 'widget-zoom-200');
        await context.close();
    });
});
