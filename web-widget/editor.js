// Editor page: the questions the bot could not answer, and a button that
// reloads the content as SIGHUP does. Text from the server is inserted as
// text, never as HTML.
'use strict';

(function () {
    const $ = (id) => document.getElementById(id);

    function el(tag, className, text) {
        const node = document.createElement(tag);
        if (className)
            node.className = className;
        if (text !== undefined)
            node.textContent = text;
        return node;
    }

    function notice(text, error) {
        const box = $('notice');
        box.textContent = text;
        box.classList.toggle('cs-notice--error', Boolean(error));
        box.hidden = false;
    }

    // Sends a request; on 401 goes to the login page. Returns
    // {status, body}, or null when the server is out of reach.
    async function request(path, options = {}) {
        try {
            const res = await fetch(path, { credentials: 'same-origin',
                                            ...options });
            if (res.status === 401) {
                location.assign('/login');
                return null;
            }
            return { status: res.status,
                     body: await res.json().catch(() => ({})) };
        } catch {
            notice('De server is niet bereikbaar. Controleer uw verbinding ' +
                   'en probeer het opnieuw.', true);
            return null;
        }
    }

    const dateFormat = new Intl.DateTimeFormat('nl-BE', {
        dateStyle: 'short', timeStyle: 'short',
    });

    function renderUnanswered(items) {
        const body = $('unanswered').querySelector('tbody');
        body.replaceChildren();
        $('unanswered').hidden = items.length === 0;
        $('unanswered-empty').hidden = items.length > 0;
        for (const item of items) {
            const row = el('tr', 'cs-unanswered');
            row.append(el('td', 'cs-unanswered-text', item.text));
            row.append(el('td', 'cs-unanswered-count', String(item.count)));
            row.append(el('td', '', dateFormat.format(
                new Date(item.last * 1000))));
            body.append(row);
        }
    }

    async function loadUnanswered() {
        const res = await request('/api/editor/unanswered');
        if (!res)
            return;
        if (res.status !== 200) {
            notice(res.body.message || 'De lijst kon niet geladen worden.',
                   true);
            return;
        }
        renderUnanswered(res.body.items || []);
    }

    function renderErrors(errors, count) {
        const list = $('reload-errors');
        list.replaceChildren();
        for (const e of errors) {
            const li = el('li', 'cs-list-item cs-reload-error');
            // Line 0 marks an error of the whole file or folder.
            const where = e.line > 0 ? `${e.file}:${e.line}:${e.column}`
                                     : e.file;
            li.append(el('code', '', where));
            li.append(el('p', '', e.message));
            if (e.hint)
                li.append(el('p', 'cs-muted', e.hint));
            list.append(li);
        }
        if (count > errors.length)
            list.append(el('li', 'cs-muted',
                           `En nog ${count - errors.length} fouten.`));
        list.hidden = errors.length === 0;
    }

    async function reload() {
        const button = $('reload');
        button.disabled = true;
        notice('De inhoud wordt herladen…', false);
        const res = await request('/api/editor/reload', { method: 'POST' });
        button.disabled = false;
        if (!res)
            return;
        if (res.status === 200) {
            renderErrors([], 0);
            notice('De inhoud is herladen.', false);
            return;
        }
        renderErrors(res.body.errors || [], res.body.count || 0);
        notice(res.body.message || 'Herladen is mislukt.', true);
    }

    async function showAccount() {
        const res = await request('/api/me');
        if (!res || res.status !== 200)
            return;
        $('editor-name').textContent = res.body.display_name || res.body.name;
        $('console-link').hidden = res.body.role !== 'admin';
    }

    $('reload').addEventListener('click', reload);
    $('refresh').addEventListener('click', loadUnanswered);
    $('logout').addEventListener('click', async () => {
        await request('/logout', { method: 'POST' });
        location.assign('/login');
    });
    showAccount();
    loadUnanswered();
})();
