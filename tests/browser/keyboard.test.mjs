// The whole chat by keyboard alone: reach the launcher with Tab, open it,
// answer with typed lines and quick replies, open a card link, close with
// Escape, with visible focus on every control along the way.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import {
    countReplies, launchBrowser, newPage, screenshot, sel, startDesk,
    tempDir, transcript, waitForReply,
} from './harness.mjs';

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

// Returns the class of the focused element and whether it shows a focus
// outline.
function focusInfo(page) {
    return page.evaluate(() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return {
            className: String(el.className),
            tag: el.tagName,
            outlined: style.outlineStyle !== 'none' &&
                      parseFloat(style.outlineWidth) >= 2,
        };
    });
}

// Presses `key` until the focused element has `className`; fails after
// `limit` presses.
async function tabTo(page, className, key = 'Tab', limit = 60) {
    for (let i = 0; i < limit; i++) {
        const info = await focusInfo(page);
        if (info.className.split(' ').includes(className))
            return info;
        await page.keyboard.press(key);
    }
    throw new Error(`${className} not reached with ${key}`);
}

// Waits until the bot has answered and no message arrives for 400 ms.
async function answered(page, replies) {
    await waitForReply(page, replies);
    let last = -1;
    for (;;) {
        const now = await page.locator(sel.message).count();
        if (now === last)
            return;
        last = now;
        await page.waitForTimeout(400);
    }
}

test('whole chat works by keyboard', async () => {
    const page = await newPage(browser);
    await page.goto(desk.url + '/');
    await page.waitForSelector(sel.launcher);

    const launcher = await tabTo(page, 'sdw-launcher');
    assert.ok(launcher.outlined, 'the launcher shows its focus');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.sdw-msg--bot', { timeout: 10000 });
    let info = await focusInfo(page);
    assert.ok(info.className.includes('sdw-input'),
              'focus is on the input after opening');
    assert.ok(info.outlined, 'the input shows its focus');

    // Answer with quick replies, reached backwards from the input.
    for (let turn = 0; turn < 12; turn++) {
        if (await page.locator(sel.card).count() > 0)
            break;
        const replies = await countReplies(page);
        if (await page.locator(sel.quick).count() > 0) {
            await page.focus(sel.input);
            info = await tabTo(page, 'sdw-quick-reply', 'Shift+Tab');
            assert.ok(info.outlined, 'a quick reply shows its focus');
            // Shift+Tab lands on the last reply; go on to the first one.
            const count = await page.locator(sel.quick).count();
            for (let i = 1; i < count; i++)
                await page.keyboard.press('Shift+Tab');
            const first = await page.locator(sel.quick).first()
                .evaluate((el) => el === document.activeElement);
            assert.ok(first, 'focus is on the first quick reply');
            await page.keyboard.press('Enter');
        } else {
            await page.focus(sel.input);
            await page.keyboard.type('Secundair onderwijs in Kortrijk');
            await page.keyboard.press('Enter');
        }
        await answered(page, replies);
    }
    assert.ok(await page.locator(sel.card).count() > 0,
              'cards appear:\n' + (await transcript(page))
                  .map(([from, text]) => `${from}: ${text}`).join('\n'));

    // A typed line goes out with Enter; Shift+Enter makes a new line.
    await page.focus(sel.input);
    await page.keyboard.type('Eerste regel');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('tweede regel');
    assert.equal(await page.inputValue(sel.input),
                 'Eerste regel\ntweede regel');
    const replies = await countReplies(page);
    await page.keyboard.press('Enter');
    assert.equal(await page.inputValue(sel.input), '');
    await answered(page, replies);

    // A card link is reachable and opens in a new tab.
    const links = page.locator('.sdw-card-link');
    if (await links.count() > 0) {
        await page.context().route(/^https?:\/\/(?!127\.0\.0\.1)/,
                                   (route) => route.fulfill({
                                       status: 200,
                                       contentType: 'text/html',
                                       body: '<title>extern</title>',
                                   }));
        await page.focus(sel.input);
        info = await tabTo(page, 'sdw-card-link', 'Shift+Tab', 120);
        assert.ok(info.outlined, 'a card link shows its focus');
        await screenshot(page, 'widget-keyboard-focus');
        const [tab] = await Promise.all([
            page.context().waitForEvent('page'),
            page.keyboard.press('Enter'),
        ]);
        await tab.close();
        await page.bringToFront();
    }

    // The close button is reachable, and Escape closes from anywhere in
    // the panel; focus returns to the launcher both ways.
    await page.focus(sel.input);
    info = await tabTo(page, 'sdw-close', 'Shift+Tab', 200);
    assert.ok(info.outlined, 'the close button shows its focus');
    await page.keyboard.press('Enter');
    assert.equal(await page.locator(sel.panel).isVisible(), false);
    info = await focusInfo(page);
    assert.ok(info.className.includes('sdw-launcher'));

    await page.keyboard.press('Enter');
    assert.ok(await page.locator(sel.panel).isVisible());
    await page.keyboard.press('Escape');
    assert.equal(await page.locator(sel.panel).isVisible(), false);
    info = await focusInfo(page);
    assert.ok(info.className.includes('sdw-launcher'));

    // Privacy link: reachable and labelled.
    await page.keyboard.press('Enter');
    await page.focus(sel.input);
    info = await tabTo(page, 'sdw-privacy', 'Tab', 10);
    assert.ok(info.outlined, 'the privacy link shows its focus');
    assert.deepEqual(page.problems.errors, []);
    await page.context().close();
});

test('controls have Dutch labels and a live log', async () => {
    const page = await newPage(browser);
    await page.goto(desk.url + '/');
    await page.click(sel.launcher);
    await page.waitForSelector('.sdw-msg--bot', { timeout: 10000 });
    const log = page.locator(sel.log);
    assert.equal(await log.getAttribute('role'), 'log');
    assert.equal(await log.getAttribute('aria-live'), 'polite');
    assert.equal(await page.locator(sel.panel).getAttribute('role'),
                 'dialog');
    assert.equal(await page.getByRole('textbox', { name: 'Uw bericht' })
        .count(), 1);
    assert.equal(await page.getByRole('button', { name: 'Versturen' })
        .count(), 1);
    assert.equal(await page.getByRole('button', { name: 'Chat sluiten' })
        .count(), 1);
    assert.equal(await page.getByRole('button', { name: 'Chat met ons' })
        .count(), 1);
    assert.equal(await page.getByRole('dialog', { name: 'STEM-hub' })
        .count(), 1);
    assert.equal(await page.locator('.sdw-root').getAttribute('lang'), 'nl');
    await page.context().close();
});
