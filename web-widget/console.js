// Advisor console: the live queue, takeover, replies, internal notes,
// hand back and close, over the /console WebSocket. Message text is
// always inserted with textContent, never as HTML.
'use strict';

(function () {
    const REASONS = {
        unsure: 'De bot was niet zeker van zijn antwoord',
        visitor_request: 'De bezoeker vraagt een persoon',
        frustration: 'De bezoeker lijkt ontevreden',
        out_of_scope: 'Vraag buiten het aanbod van de bot',
        tailored_advice: 'Vraagt advies op maat',
    };
    const SLOTS = {
        goal: 'Doel', level: 'Niveau', time: 'Tijd', region: 'Regio',
        size: 'Grootte', sector: 'Sector',
    };
    const FROM = {
        visitor: 'Bezoeker', bot: 'Bot', advisor: 'Adviseur',
        system: 'Systeem',
    };
    const PRESENCE = {
        online: 'beschikbaar', away: 'even weg', offline: 'offline',
    };

    const $ = (id) => document.getElementById(id);
    const el = (tag, className, text) => {
        const node = document.createElement(tag);
        if (className)
            node.className = className;
        if (text !== undefined)
            node.textContent = text;
        return node;
    };

    // The conversation open in this tab, kept across a reload of the page.
    const OPEN_KEY = 'stemdesk-console-open';

    function storedOpen() {
        try {
            return sessionStorage.getItem(OPEN_KEY);
        } catch (e) {
            return null;
        }
    }

    function storeOpen(id) {
        try {
            if (id)
                sessionStorage.setItem(OPEN_KEY, id);
            else
                sessionStorage.removeItem(OPEN_KEY);
        } catch (e) {
            // With storage off, a reload shows no conversation.
        }
    }

    const state = {
        socket: null,
        me: null,
        queue: [],
        clockOffset: 0, // server time minus local time, in seconds
        open: storedOpen(), // conversation id shown in the middle
        openMode: null,
        retry: 1000,
        pending: [],       // replies and notes written while disconnected
        sent: {},          // last text sent per frame type
        offlineNotice: false,
        labels: {},     // facet -> id -> Dutch label, from /api/facets
        slots: null,    // slots shown in the side panel
        callbacks: [],
    };

    function notice(text, isError) {
        const box = $('notice');
        box.textContent = text;
        box.classList.toggle('cs-notice--error', Boolean(isError));
        box.hidden = false;
        clearTimeout(notice.timer);
        notice.timer = setTimeout(() => { box.hidden = true; }, 6000);
    }

    // Sends a frame. Without a connection, a reply or a note waits until
    // the console is connected again. Other actions depend on the queue at
    // that moment, so the advisor repeats them.
    function send(frame) {
        if (state.socket && state.socket.readyState === WebSocket.OPEN) {
            if (frame.type === 'message' || frame.type === 'note')
                state.sent[frame.type] = frame.text;
            state.socket.send(JSON.stringify(frame));
            return;
        }
        if (frame.type === 'message' || frame.type === 'note') {
            const same = state.pending.some((f) => f.type === frame.type &&
                f.conversation === frame.conversation &&
                f.text === frame.text);
            if (!same)
                state.pending.push(frame);
            notice('Geen verbinding. Uw tekst wordt verstuurd zodra de ' +
                   'verbinding terug is.', true);
        } else {
            notice('Geen verbinding met de server. Probeer het opnieuw ' +
                   'zodra de verbinding terug is.', true);
        }
        state.offlineNotice = true;
    }

    // Sends what waited for the connection, in the order it was written.
    function flushPending() {
        const frames = state.pending;
        state.pending = [];
        for (const frame of frames)
            send(frame);
        if (state.offlineNotice) {
            state.offlineNotice = false;
            $('notice').hidden = true;
        }
    }

    function waited(since) {
        const now = Date.now() / 1000 + state.clockOffset;
        const minutes = Math.max(0, Math.floor((now - since) / 60));
        if (minutes < 1)
            return 'wacht minder dan een minuut';
        if (minutes === 1)
            return 'wacht 1 minuut';
        return `wacht ${minutes} minuten`;
    }

    function slotValue(value) {
        if (value && typeof value === 'object')
            return String(value.value ?? '');
        return String(value ?? '');
    }

    // The Dutch label of a slot value ("West-Vlaanderen" for
    // "west-vlaanderen"), or the value itself when no label is known.
    function slotText(name, value) {
        const text = slotValue(value);
        // The time budget is kept in hours per month.
        if (name === 'time' && /^\d+(\.\d+)?$/.test(text))
            return `${text.replace('.', ',')} uur per maand`;
        return state.labels[name]?.[text] ?? text;
    }

    function slotFacts(slots) {
        return Object.entries(slots || {})
            .filter(([, v]) => slotValue(v) && slotValue(v) !== 'unknown')
            .map(([k, v]) => `${SLOTS[k] || k}: ${slotText(k, v)}`);
    }

    function renderSlots(slots) {
        state.slots = slots;
        const list = $('slots');
        list.replaceChildren();
        for (const [name, value] of Object.entries(slots || {})) {
            const text = slotValue(value);
            if (!text || text === 'unknown')
                continue;
            list.append(el('dt', '', SLOTS[name] || name),
                        el('dd', '', slotText(name, value)));
        }
        // A dl holds only dt/dd pairs, so "nothing yet" is a paragraph.
        list.hidden = !list.children.length;
        $('slots-empty').hidden = !list.hidden;
    }

    function renderQueue() {
        const list = $('queue');
        list.replaceChildren();
        $('queue-empty').hidden = state.queue.length > 0;
        for (const item of state.queue) {
            const li = el('li', 'cs-queue-item');
            li.dataset.conversation = item.conversation;
            li.dataset.state = item.state;
            if (item.conversation === state.open)
                li.classList.add('cs-queue-item--open');
            li.append(el('p', 'cs-reason',
                         REASONS[item.reason] || item.reason));
            li.append(el('p', 'cs-waiting', waited(item.queued_at)));
            const facts = slotFacts(item.slots);
            if (facts.length)
                li.append(el('p', 'cs-facts', facts.join(' · ')));
            if (item.state === 'taken') {
                const who = item.advisor_name === state.me?.name
                    ? 'door u' : `door ${advisorOf(item)}`;
                li.append(el('p', 'cs-taken', `Overgenomen ${who}`));
            }
            const open = el('button', 'cs-button cs-open', 'Openen');
            open.type = 'button';
            open.addEventListener('click', () => openConversation(
                item.conversation));
            li.append(open);
            if (item.state === 'waiting') {
                const take = el('button', 'cs-button cs-button--primary ' +
                                'cs-take', 'Overnemen');
                take.type = 'button';
                take.addEventListener('click', () => send({
                    type: 'take', conversation: item.conversation,
                }));
                li.append(take);
            }
            list.append(li);
        }
        renderOpenState();
    }

    function renderAdvisors(advisors) {
        const list = $('advisors');
        list.replaceChildren();
        for (const advisor of advisors || []) {
            const name = advisor.display_name || advisor.name;
            list.append(el('li', `cs-presence cs-presence--${advisor.presence}`,
                           `${name}: ${PRESENCE[advisor.presence] ||
                           advisor.presence}`));
        }
    }

    // The name of the advisor who took a queue item, as colleagues see it.
    function advisorOf(item) {
        return item.advisor_display_name || item.advisor_name ||
            'een collega';
    }

    function queueItem(id) {
        return state.queue.find((item) => item.conversation === id);
    }

    // Enables the actions that the advisor may take on the open conversation.
    function renderOpenState() {
        if (!state.open)
            return;
        const item = queueItem(state.open);
        const mine = item && item.state === 'taken' &&
            item.advisor_name === state.me?.name;
        const text = !item
            ? (state.openMode === 'closed' ? 'Afgesloten.'
                : 'Niet in de wachtrij: de bot voert het gesprek.')
            : item.state === 'waiting' ? 'Wacht op een adviseur.'
                : mine ? 'U voert dit gesprek.'
                    : `Overgenomen door ${advisorOf(item)}.`;
        $('conversation-state').textContent = text;
        $('take').hidden = !(item && item.state === 'waiting');
        $('release').disabled = !mine;
        $('close').disabled = !mine;
        $('close-outcome').disabled = !mine;
        $('reply-form').hidden = !mine;
    }

    function addMessage(message) {
        const list = $('transcript');
        if (message.seq && list.querySelector(`[data-seq="${message.seq}"]`))
            return;
        const li = el('li', `cs-msg cs-msg--${message.from}`);
        if (message.seq)
            li.dataset.seq = String(message.seq);
        li.append(el('span', 'cs-msg-from', FROM[message.from] || message.from));
        li.append(el('span', 'cs-msg-text', message.text || ''));
        for (const card of message.cards || [])
            li.append(el('span', 'cs-msg-card', `Initiatief: ${card.title}`));
        list.append(li);
        li.scrollIntoView({ block: 'nearest' });
    }

    function addNote(note) {
        const li = el('li', 'cs-note');
        li.append(el('span', 'cs-note-by',
                     note.advisor_display_name || note.advisor || ''));
        li.append(el('span', 'cs-note-text', note.text || ''));
        $('notes').append(li);
    }

    function openConversation(id) {
        send({ type: 'open', conversation: id });
    }

    function showTranscript(frame) {
        state.open = frame.conversation;
        storeOpen(frame.conversation);
        state.openMode = frame.mode;
        $('conversation-empty').hidden = true;
        $('conversation').hidden = false;
        $('transcript').replaceChildren();
        $('notes').replaceChildren();
        for (const message of frame.messages || [])
            addMessage(message);
        for (const note of frame.notes || [])
            addNote(note);
        const item = queueItem(frame.conversation);
        renderSlots(item && Object.keys(item.slots || {}).length
            ? item.slots : frame.slots);
        const shown = $('shown');
        shown.replaceChildren();
        for (const id of frame.shown || [])
            shown.append(el('li', '', String(id)));
        if (!shown.children.length)
            shown.append(el('li', 'cs-muted', 'Geen.'));
        renderQueue();
    }

    function renderCallbacks(items) {
        state.callbacks = items;
        const list = $('callbacks');
        list.replaceChildren();
        $('callbacks-empty').hidden = items.length > 0;
        for (const item of items) {
            const li = el('li', 'cs-list-item');
            li.dataset.id = String(item.id);
            const who = [item.name, item.email, item.phone].filter(Boolean);
            li.append(el('p', 'cs-callback-contact', who.join(' · ')));
            const facts = slotFacts(item.slots);
            if (facts.length)
                li.append(el('p', 'cs-facts', facts.join(' · ')));
            const done = el('button', 'cs-button', 'Afgehandeld');
            done.type = 'button';
            done.addEventListener('click', () => send({
                type: 'callback_done', id: item.id,
            }));
            li.append(done);
            list.append(li);
        }
    }

    function renderFailed(items) {
        const list = $('failed');
        list.replaceChildren();
        $('failed-empty').hidden = items.length > 0;
        for (const item of items) {
            const li = el('li', 'cs-list-item');
            li.dataset.id = String(item.id);
            li.append(el('p', '', `Partner ${item.partner}, na ${item.attempts}` +
                         ` pogingen: ${item.last_error || 'onbekende fout'}`));
            const retry = el('button', 'cs-button', 'Opnieuw proberen');
            retry.type = 'button';
            retry.addEventListener('click', () => send({
                type: 'outbox_retry', id: item.id,
            }));
            li.append(retry);
            list.append(li);
        }
    }

    const RESULT_OK = {
        take: 'U hebt het gesprek overgenomen.',
        release: 'Het gesprek is teruggegeven aan de bot.',
        close: 'Het gesprek is afgesloten.',
        note: 'De notitie is bewaard.',
        callback_done: 'Het terugbelverzoek is afgehandeld.',
        outbox_retry: 'De aanvraag wordt opnieuw verstuurd.',
    };

    function handleResult(frame) {
        if (!frame.ok) {
            if (frame.action === 'open' && frame.conversation === state.open) {
                state.open = null;
                storeOpen(null);
            }
            notice(frame.message || 'Er ging iets mis.', true);
            return;
        }
        // The box is emptied only when it still contains the text sent, so
        // that a next reply typed meanwhile stays.
        if (frame.action === 'message' &&
            $('reply-text').value.trim() === state.sent.message)
            $('reply-text').value = '';
        if (frame.action === 'note' &&
            $('note-text').value.trim() === state.sent.note)
            $('note-text').value = '';
        if (RESULT_OK[frame.action])
            notice(RESULT_OK[frame.action], false);
        if ((frame.action === 'release' || frame.action === 'close') &&
            frame.conversation === state.open)
            openConversation(frame.conversation);
    }

    function handleFrame(frame) {
        switch (frame.type) {
        case 'hello':
            state.me = frame.advisor;
            state.retry = 1000;
            $('advisor-name').textContent =
                frame.advisor.display_name || frame.advisor.name;
            $('presence').value = frame.presence;
            $('presence').disabled = false;
            $('connection').textContent = 'Verbonden';
            if (state.open)
                openConversation(state.open);
            flushPending();
            break;
        case 'queue':
            state.queue = frame.items || [];
            state.clockOffset = frame.now - Date.now() / 1000;
            renderQueue();
            renderAdvisors(frame.advisors);
            break;
        case 'transcript':
            showTranscript(frame);
            break;
        case 'message':
            if (frame.conversation === state.open)
                addMessage(frame);
            break;
        case 'note':
            if (frame.conversation === state.open)
                addNote(frame.note);
            break;
        case 'callbacks':
            renderCallbacks(frame.items || []);
            break;
        case 'outbox':
            renderFailed(frame.failed || []);
            break;
        case 'result':
            handleResult(frame);
            break;
        case 'error':
            notice(frame.message || 'Er ging iets mis.', true);
            break;
        default:
            break;
        }
    }

    async function connect() {
        const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
        const socket = new WebSocket(`${scheme}//${location.host}/console`);
        let welcomed = false;
        state.socket = socket;
        socket.addEventListener('message', (event) => {
            let frame;
            try {
                frame = JSON.parse(event.data);
            } catch {
                return;
            }
            if (frame.type === 'hello')
                welcomed = true;
            handleFrame(frame);
        });
        socket.addEventListener('close', async () => {
            $('presence').disabled = true;
            $('connection').textContent = 'Verbinding verbroken. Opnieuw ' +
                'verbinden…';
            if (!welcomed) {
                const res = await fetch('/api/me', {
                    credentials: 'same-origin',
                }).catch(() => null);
                if (res && res.status === 401) {
                    location.assign('/login');
                    return;
                }
                if (res && res.ok) {
                    const me = await res.json().catch(() => ({}));
                    if (me.role === 'editor') {
                        $('connection').textContent = 'U hebt geen ' +
                            'toegang tot de wachtrij.';
                        return;
                    }
                }
            }
            setTimeout(connect, state.retry);
            state.retry = Math.min(state.retry * 2, 5000);
        });
    }

    $('presence').addEventListener('change', (event) => {
        send({ type: 'presence', state: event.target.value });
    });
    $('take').addEventListener('click', () => {
        if (state.open)
            send({ type: 'take', conversation: state.open });
    });
    $('release').addEventListener('click', () => {
        send({ type: 'release', conversation: state.open });
    });
    $('close').addEventListener('click', () => {
        send({
            type: 'close', conversation: state.open,
            outcome: $('close-outcome').value,
        });
    });
    $('reply-form').addEventListener('submit', (event) => {
        event.preventDefault();
        const text = $('reply-text').value.trim();
        if (text)
            send({ type: 'message', conversation: state.open, text });
    });
    $('reply-text').addEventListener('keydown', (event) => {
        if (event.key === 'Enter' && !event.shiftKey) {
            event.preventDefault();
            $('reply-form').requestSubmit();
        }
    });
    $('note-form').addEventListener('submit', (event) => {
        event.preventDefault();
        const text = $('note-text').value.trim();
        if (text && state.open)
            send({ type: 'note', conversation: state.open, text });
    });
    $('logout').addEventListener('click', async () => {
        await fetch('/api/logout', {
            method: 'POST', credentials: 'same-origin',
            headers: { 'Content-Type': 'application/json' }, body: '{}',
        }).catch(() => null);
        location.assign('/login');
    });
    // Loads the facet labels once; what is already shown is drawn again
    // with them. Without labels the console shows the ids.
    async function loadLabels() {
        const res = await fetch('/api/facets', {
            credentials: 'same-origin',
        }).catch(() => null);
        if (!res || !res.ok)
            return;
        state.labels = await res.json().catch(() => ({}));
        renderQueue();
        if (state.callbacks.length)
            renderCallbacks(state.callbacks);
        if (state.slots)
            renderSlots(state.slots);
    }

    setInterval(renderQueue, 15000);
    loadLabels();
    connect();
})();
