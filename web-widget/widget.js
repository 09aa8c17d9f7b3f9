/* stemdesk chat widget: one script tag embeds a launcher button and a chat
 * panel that talks to the desk over the visitor socket (/chat).
 *
 *   <script src="/widget.js" data-server="" data-title="STEM-hub"
 *           data-color="#00657e" data-storage="session" defer></script>
 *
 * Plain ES2017, no build step. Message text is only ever inserted with
 * textContent, and only http and https links are rendered, because the
 * page runs under a strict Content-Security-Policy and shows text that
 * visitors and advisors typed. */
(function () {
    'use strict';

    if (window.stemdeskWidget)
        return;

    var script = document.currentScript ||
                 document.querySelector('script[src*="widget.js"]');
    if (!script)
        return;

    var DEFAULT_COLOR = '#00657e';
    var STORAGE_VERSION = 1;
    var MAX_TRANSCRIPT = 500;
    var MAX_TEXT = 2000;
    var BACKOFF_FIRST_MS = 500;
    var BACKOFF_MAX_MS = 8000;
    var TYPING_TIMEOUT_MS = 20000;
    var RESEND_DELAY_MS = 10000;

    var STATUS_TEXT = {
        bot: 'Digitale assistent',
        waiting: 'We zoeken een adviseur voor u',
        advisor: 'Adviseur',
        closed: 'Gesprek afgesloten'
    };
    var SENDER_TEXT = {
        visitor: 'U',
        bot: 'Digitale assistent',
        advisor: 'Adviseur',
        system: 'Melding'
    };

    /* ---- settings from the script tag ---------------------------------- */

    var scriptUrl = new URL(script.src, document.baseURI);
    var baseUrl = new URL('.', scriptUrl);
    var serverUrl = parseServer(script.getAttribute('data-server'));
    var socketUrl = socketUrlFor(serverUrl);
    var title = (script.getAttribute('data-title') || '').trim() || 'Chat';
    var accent = parseColor(script.getAttribute('data-color'));
    var store = pickStorage(script.getAttribute('data-storage'));
    var storageKey = 'stemdesk:' + socketUrl;

    /* Returns the desk's base URL: data-server, or the script's origin. */
    function parseServer(value)
    {
        var text = (value || '').trim();
        if (text) {
            try {
                var url = new URL(text, document.baseURI);
                if (/^(https?|wss?):$/.test(url.protocol))
                    return url;
            } catch (e) {
                /* falls through to the script's origin */
            }
        }
        return new URL('/', scriptUrl);
    }

    function socketUrlFor(server)
    {
        var url = new URL(server.href);
        if (url.protocol === 'https:')
            url.protocol = 'wss:';
        else if (url.protocol === 'http:')
            url.protocol = 'ws:';
        url.pathname = url.pathname.replace(/\/*$/, '') + '/chat';
        url.search = '';
        url.hash = '';
        return url.href;
    }

    /* Accepts #rgb and #rrggbb only, so the value can never carry CSS. */
    function parseColor(value)
    {
        var text = (value || '').trim();
        if (/^#[0-9a-f]{3}$/i.test(text))
            text = '#' + text[1] + text[1] + text[2] + text[2] + text[3] +
                   text[3];
        return /^#[0-9a-f]{6}$/i.test(text) ? text.toLowerCase()
                                             : DEFAULT_COLOR;
    }

    /* WCAG relative luminance of a #rrggbb colour. */
    function luminance(hex)
    {
        var sum = 0;
        var weights = [0.2126, 0.7152, 0.0722];
        for (var i = 0; i < 3; i++) {
            var c = parseInt(hex.substr(1 + 2 * i, 2), 16) / 255;
            c = c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
            sum += weights[i] * c;
        }
        return sum;
    }

    /* Picks white or near-black text, whichever contrasts more. */
    function textColorOn(hex)
    {
        var l = luminance(hex);
        var onWhite = 1.05 / (l + 0.05);
        var onBlack = (l + 0.05) / (luminance('#1a1a1a') + 0.05);
        return onWhite >= onBlack ? '#ffffff' : '#1a1a1a';
    }

    function pickStorage(kind)
    {
        try {
            var s = kind === 'local' ? window.localStorage
                                     : window.sessionStorage;
            var probe = 'stemdesk:probe';
            s.setItem(probe, '1');
            s.removeItem(probe);
            return s;
        } catch (e) {
            return null; /* storage blocked: the chat still works */
        }
    }

    /* ---- persisted state ------------------------------------------------ */

    /* State kept in storage. The token is the conversation's secret and
     * lastSeq the highest seq received. Transcript entries are {seq, from,
     * text, clientId, quickReplies, cards, name}, and the outbox holds the
     * lines not yet acknowledged as {clientId, text}. */
    var state = loadState();

    function emptyState()
    {
        return {
            v: STORAGE_VERSION,
            token: null,
            conversation: null,
            lastSeq: 0,
            status: 'bot',
            advisorName: '',
            transcript: [],
            outbox: [],
            open: false
        };
    }

    function loadState()
    {
        var fresh = emptyState();
        if (!store)
            return fresh;
        try {
            var saved = JSON.parse(store.getItem(storageKey) || 'null');
            if (!saved || saved.v !== STORAGE_VERSION)
                return fresh;
            for (var key in fresh)
                if (Object.prototype.hasOwnProperty.call(saved, key))
                    fresh[key] = saved[key];
            if (!Array.isArray(fresh.transcript))
                fresh.transcript = [];
            if (!Array.isArray(fresh.outbox))
                fresh.outbox = [];
            if (typeof fresh.lastSeq !== 'number')
                fresh.lastSeq = 0;
        } catch (e) {
            return emptyState();
        }
        return fresh;
    }

    function saveState()
    {
        if (!store)
            return;
        if (state.transcript.length > MAX_TRANSCRIPT)
            state.transcript.splice(0,
                                    state.transcript.length - MAX_TRANSCRIPT);
        try {
            store.setItem(storageKey, JSON.stringify(state, skipNodes));
        } catch (e) {
            /* NOTE: a full storage quota drops persistence, not the chat. */
        }
    }

    /* JSON.stringify replacer that leaves out the entries' DOM nodes. */
    function skipNodes(key, value)
    {
        return key === 'node' ? undefined : value;
    }

    function newClientId()
    {
        if (window.crypto && window.crypto.randomUUID)
            return window.crypto.randomUUID();
        var bytes = new Uint8Array(16);
        window.crypto.getRandomValues(bytes);
        return Array.prototype.map
            .call(bytes, function (b) {
                return (b + 256).toString(16).substr(1);
            })
            .join('');
    }

    /* ---- DOM ------------------------------------------------------------ */

    function el(tag, className, text)
    {
        var node = document.createElement(tag);
        if (className)
            node.className = className;
        if (text !== undefined && text !== null)
            node.textContent = String(text);
        return node;
    }

    var ui = {};
    var uid = 'sdw-' + Math.random().toString(36).slice(2, 8);

    function loadStylesheet()
    {
        var link = document.createElement('link');
        link.rel = 'stylesheet';
        link.href = new URL('widget.css', baseUrl).href;
        document.head.appendChild(link);
    }

    function buildUi()
    {
        var root = el('div', 'sdw-root');
        root.lang = 'nl';
        root.style.setProperty('--sdw-accent', accent);
        root.style.setProperty('--sdw-on-accent', textColorOn(accent));

        var launcher = el('button', 'sdw-launcher');
        launcher.type = 'button';
        launcher.setAttribute('aria-expanded', 'false');
        launcher.setAttribute('aria-controls', uid + '-panel');
        launcher.appendChild(el('span', 'sdw-launcher-icon')).setAttribute(
            'aria-hidden', 'true');
        launcher.appendChild(el('span', 'sdw-launcher-label', 'Chat met ons'));
        var badge = el('span', 'sdw-badge');
        badge.hidden = true;
        launcher.appendChild(badge);

        var panel = el('div', 'sdw-panel');
        panel.id = uid + '-panel';
        panel.hidden = true;
        panel.setAttribute('role', 'dialog');
        panel.setAttribute('aria-labelledby', uid + '-title');
        panel.setAttribute('aria-describedby', uid + '-status');

        var header = el('div', 'sdw-header');
        var heading = el('h2', 'sdw-title', title);
        heading.id = uid + '-title';
        var status = el('p', 'sdw-status');
        status.id = uid + '-status';
        var headText = el('div', 'sdw-header-text');
        headText.appendChild(heading);
        headText.appendChild(status);
        var close = el('button', 'sdw-close');
        close.type = 'button';
        close.setAttribute('aria-label', 'Chat sluiten');
        close.appendChild(el('span', 'sdw-close-icon', '\u00d7'))
            .setAttribute('aria-hidden', 'true');
        header.appendChild(headText);
        header.appendChild(close);

        var connection = el('p', 'sdw-connection');
        connection.setAttribute('role', 'status');
        connection.hidden = true;

        var log = el('div', 'sdw-log');
        log.setAttribute('role', 'log');
        log.setAttribute('aria-live', 'polite');
        log.setAttribute('aria-relevant', 'additions');
        log.setAttribute('aria-label', 'Gesprek');
        log.tabIndex = 0;

        var typing = el('div', 'sdw-typing');
        typing.hidden = true;
        typing.appendChild(el('span', 'sdw-visually-hidden',
                              'De assistent typt een antwoord.'));
        var dots = el('span', 'sdw-dots');
        dots.setAttribute('aria-hidden', 'true');
        dots.appendChild(el('span'));
        dots.appendChild(el('span'));
        dots.appendChild(el('span'));
        typing.appendChild(dots);

        var form = el('form', 'sdw-form');
        form.noValidate = true;
        var label = el('label', 'sdw-visually-hidden', 'Uw bericht');
        label.htmlFor = uid + '-input';
        var input = el('textarea', 'sdw-input');
        input.id = uid + '-input';
        input.rows = 1;
        input.maxLength = MAX_TEXT;
        input.placeholder = 'Typ uw bericht';
        input.setAttribute('autocomplete', 'off');
        var hint = el('span', 'sdw-visually-hidden',
                      'Druk op Enter om te versturen, Shift en Enter voor ' +
                          'een nieuwe regel.');
        hint.id = uid + '-hint';
        input.setAttribute('aria-describedby', uid + '-hint');
        var send = el('button', 'sdw-send', 'Versturen');
        send.type = 'submit';
        form.appendChild(label);
        form.appendChild(hint);
        form.appendChild(input);
        form.appendChild(send);

        var restart = el('button', 'sdw-restart', 'Nieuw gesprek starten');
        restart.type = 'button';
        restart.hidden = true;

        var footer = el('p', 'sdw-footer');
        var privacy = el('a', 'sdw-privacy', 'Lees de privacyverklaring');
        privacy.href = new URL('privacy.html', baseUrl).href;
        privacy.target = '_blank';
        privacy.rel = 'noopener noreferrer';
        privacy.appendChild(el('span', 'sdw-visually-hidden',
                               ' (opent in een nieuw tabblad)'));
        footer.appendChild(document.createTextNode(
            'We bewaren uw gesprek om u te helpen. '));
        footer.appendChild(privacy);

        panel.appendChild(header);
        panel.appendChild(connection);
        panel.appendChild(log);
        panel.appendChild(typing);
        panel.appendChild(restart);
        panel.appendChild(form);
        panel.appendChild(footer);
        root.appendChild(panel);
        root.appendChild(launcher);
        document.body.appendChild(root);

        ui = {
            root: root,
            launcher: launcher,
            badge: badge,
            panel: panel,
            status: status,
            connection: connection,
            log: log,
            typing: typing,
            form: form,
            input: input,
            send: send,
            restart: restart,
            close: close
        };

        launcher.addEventListener('click', function () {
            if (ui.panel.hidden)
                openPanel(true);
            else
                closePanel();
        });
        close.addEventListener('click', closePanel);
        panel.addEventListener('keydown', function (event) {
            if (event.key === 'Escape' || event.key === 'Esc') {
                event.preventDefault();
                closePanel();
            }
        });
        form.addEventListener('submit', function (event) {
            event.preventDefault();
            submitInput();
        });
        input.addEventListener('keydown', function (event) {
            if (event.key === 'Enter' && !event.shiftKey &&
                !event.isComposing) {
                event.preventDefault();
                submitInput();
            }
        });
        input.addEventListener('input', fitInput);
        input.addEventListener('paste', noticeLongPaste);
        restart.addEventListener('click', restartConversation);
    }

    /* Shows a notice when a paste does not fit in the box, because
     * maxlength cuts a pasted text without a warning. */
    function noticeLongPaste(event)
    {
        var data = event.clipboardData;
        var pasted = data ? data.getData('text/plain') : '';
        var input = ui.input;
        var kept = input.value.length -
                   (input.selectionEnd - input.selectionStart);
        if (pasted.length > MAX_TEXT - kept)
            notice('Uw tekst is langer dan ' + MAX_TEXT + ' tekens. Alleen ' +
                   'het begin staat in het vak. Stuur de rest in een ' +
                   'volgend bericht.');
    }

    function fitInput()
    {
        ui.input.style.height = 'auto';
        ui.input.style.height = Math.min(ui.input.scrollHeight, 120) + 'px';
    }

    /* ---- panel ---------------------------------------------------------- */

    var unread = 0;

    function openPanel(moveFocus)
    {
        ui.panel.hidden = false;
        ui.root.classList.add('sdw-open');
        ui.launcher.setAttribute('aria-expanded', 'true');
        unread = 0;
        renderBadge();
        state.open = true;
        saveState();
        scrollToEnd();
        connect();
        if (moveFocus)
            ui.input.focus();
    }

    function closePanel()
    {
        if (ui.panel.hidden)
            return;
        ui.panel.hidden = true;
        ui.root.classList.remove('sdw-open');
        ui.launcher.setAttribute('aria-expanded', 'false');
        state.open = false;
        saveState();
        ui.launcher.focus();
    }

    function renderBadge()
    {
        ui.badge.hidden = unread === 0;
        ui.badge.textContent = unread > 9 ? '9+' : String(unread);
        ui.badge.appendChild(el('span', 'sdw-visually-hidden',
                                unread === 1 ? ' nieuw bericht'
                                             : ' nieuwe berichten'));
    }

    function scrollToEnd()
    {
        ui.log.scrollTop = ui.log.scrollHeight;
    }

    /* ---- rendering ------------------------------------------------------ */

    /* Returns the URL when it is absolute http or https, otherwise null. */
    function safeUrl(value)
    {
        if (typeof value !== 'string' || !value)
            return null;
        try {
            var url = new URL(value);
            if (url.protocol === 'http:' || url.protocol === 'https:')
                return url.href;
        } catch (e) {
            /* not a URL */
        }
        return null;
    }

    function senderName(entry)
    {
        if (entry.from === 'advisor' && entry.name)
            return entry.name;
        return SENDER_TEXT[entry.from] || SENDER_TEXT.system;
    }

    function renderCard(card)
    {
        var item = el('li', 'sdw-card');
        item.appendChild(el('h3', 'sdw-card-title', card.title || ''));
        if (card.summary)
            item.appendChild(el('p', 'sdw-card-summary', card.summary));
        var reasons = Array.isArray(card.why) ? card.why : [];
        reasons = reasons.filter(function (r) {
            return typeof r === 'string' && r;
        });
        if (reasons.length) {
            item.appendChild(el('p', 'sdw-card-why', 'Waarom dit past:'));
            var list = el('ul', 'sdw-card-reasons');
            reasons.forEach(function (r) {
                list.appendChild(el('li', null, r));
            });
            item.appendChild(list);
        }
        var href = safeUrl(card.url);
        if (href) {
            var link = el('a', 'sdw-card-link', 'Meer info');
            link.href = href;
            link.target = '_blank';
            link.rel = 'noopener noreferrer';
            link.appendChild(el('span', 'sdw-visually-hidden',
                                ' over ' + (card.title || 'dit initiatief') +
                                    ' (opent in een nieuw tabblad)'));
            item.appendChild(link);
        }
        return item;
    }

    function renderQuickReplies(entry)
    {
        var group = el('div', 'sdw-quick');
        group.setAttribute('role', 'group');
        group.setAttribute('aria-label', 'Snelle antwoorden');
        entry.quickReplies.forEach(function (reply) {
            if (!reply || typeof reply.label !== 'string')
                return;
            var button = el('button', 'sdw-quick-reply', reply.label);
            button.type = 'button';
            button.addEventListener('click', function () {
                var value = typeof reply.value === 'string' ? reply.value
                                                            : reply.label;
                sendLine(value, reply.label);
                ui.input.focus();
            });
            group.appendChild(button);
        });
        return group;
    }

    function renderEntry(entry)
    {
        var node = el('div', 'sdw-msg sdw-msg--' +
                                 (SENDER_TEXT[entry.from] ? entry.from
                                                          : 'system'));
        if (entry.seq)
            node.setAttribute('data-seq', String(entry.seq));
        else
            node.classList.add('sdw-pending');

        var sender = el('span', 'sdw-sender', senderName(entry));
        if (entry.from === 'visitor')
            sender.classList.add('sdw-visually-hidden');
        sender.appendChild(el('span', 'sdw-visually-hidden', ': '));
        node.appendChild(sender);

        var bubble = el('p', 'sdw-bubble', entry.text || '');
        node.appendChild(bubble);

        if (Array.isArray(entry.cards) && entry.cards.length) {
            var cards = el('ul', 'sdw-cards');
            cards.setAttribute('aria-label', 'Aanbevolen initiatieven');
            entry.cards.forEach(function (card) {
                if (card && typeof card === 'object')
                    cards.appendChild(renderCard(card));
            });
            node.appendChild(cards);
        }
        if (Array.isArray(entry.quickReplies) && entry.quickReplies.length)
            node.appendChild(renderQuickReplies(entry));

        var pending = el('span', 'sdw-pending-note', 'Wordt verstuurd');
        node.appendChild(pending);
        entry.node = node;
        return node;
    }

    /* Inserts an entry's node in seq order; pending lines stay last. */
    function placeEntry(entry)
    {
        var node = entry.node || renderEntry(entry);
        var before = null;
        if (entry.seq) {
            var children = ui.log.children;
            for (var i = 0; i < children.length; i++) {
                var seq = Number(children[i].getAttribute('data-seq') || 0);
                if (!seq || seq > entry.seq) {
                    before = children[i];
                    break;
                }
            }
        }
        ui.log.insertBefore(node, before);
    }

    /* Keeps only the newest message's quick replies, and shows the sender
     * once above consecutive messages from the same sender. */
    function refreshLog()
    {
        var groups = ui.log.querySelectorAll('.sdw-quick');
        var last = null;
        var lastEntry = lastServerEntry();
        if (lastEntry && lastEntry.node)
            last = lastEntry.node.querySelector('.sdw-quick');
        for (var i = 0; i < groups.length; i++)
            groups[i].hidden = groups[i] !== last;

        var previous = '';
        for (var node = ui.log.firstElementChild; node;
             node = node.nextElementSibling) {
            var sender = node.querySelector('.sdw-sender');
            var name = sender ? sender.textContent : '';
            node.classList.toggle('sdw-msg--continued', name === previous);
            previous = name;
        }
    }

    function lastServerEntry()
    {
        for (var i = state.transcript.length - 1; i >= 0; i--) {
            var entry = state.transcript[i];
            if (entry.from === 'visitor')
                return null;
            if (entry.from !== 'system')
                return entry;
        }
        return null;
    }

    function renderStatus()
    {
        var text = STATUS_TEXT[state.status] || STATUS_TEXT.bot;
        if (state.status === 'advisor' && state.advisorName)
            text = state.advisorName;
        ui.status.textContent = text;
        var closed = state.status === 'closed';
        var hadFocus = document.activeElement === ui.input;
        ui.form.hidden = closed;
        ui.restart.hidden = !closed;
        if (closed) {
            setTyping(false);
            if (hadFocus)
                ui.restart.focus();
        }
    }

    function renderAll()
    {
        while (ui.log.firstChild)
            ui.log.removeChild(ui.log.firstChild);
        sortTranscript();
        state.transcript.forEach(function (entry) {
            entry.node = null;
            ui.log.appendChild(renderEntry(entry));
        });
        refreshLog();
        renderStatus();
        scrollToEnd();
    }

    function sortTranscript()
    {
        state.transcript.sort(function (a, b) {
            if (!a.seq && !b.seq)
                return 0;
            if (!a.seq)
                return 1;
            if (!b.seq)
                return -1;
            return a.seq - b.seq;
        });
    }

    /* Adds a local notice that is neither sent nor stored on the server. */
    function notice(text)
    {
        var entry = {seq: 0, from: 'system', text: text, local: true};
        var node = renderEntry(entry);
        node.classList.remove('sdw-pending');
        node.classList.add('sdw-local');
        ui.log.appendChild(node);
        scrollToEnd();
    }

    var typingTimer = null;

    function setTyping(on)
    {
        clearTimeout(typingTimer);
        ui.typing.hidden = !on;
        if (on) {
            typingTimer = setTimeout(function () {
                ui.typing.hidden = true;
            }, TYPING_TIMEOUT_MS);
            scrollToEnd();
        }
    }

    /* ---- sending -------------------------------------------------------- */

    function submitInput()
    {
        var text = ui.input.value.replace(/\s+$/, '');
        if (!text.trim())
            return;
        sendLine(text, text);
        ui.input.value = '';
        fitInput();
    }

    /* Queues one line: shown at once, stored in the outbox until its ack
     * arrives, and sent with the same client_id on every reconnect. */
    function sendLine(value, label)
    {
        if (state.status === 'closed')
            return;
        var clientId = newClientId();
        var text = clip(value);
        var cut = text !== value;
        /* The bubble shows what is sent: a typed line cut to MAX_TEXT. */
        var entry = {seq: 0, from: 'visitor', text: cut ? text : label,
                     clientId: clientId};
        state.transcript.push(entry);
        state.outbox.push({clientId: clientId, text: text});
        saveState();
        placeEntry(entry);
        refreshLog();
        scrollToEnd();
        if (cut)
            notice('Uw bericht was langer dan ' + MAX_TEXT + ' tekens. ' +
                   'Alleen het begin is verstuurd.');
        if (state.status === 'bot' && ready)
            setTyping(true);
        flushOutbox();
    }

    /* Cuts a line to MAX_TEXT UTF-16 units without splitting a surrogate
     * pair: half a pair is not valid text and the desk rejects it. */
    function clip(value)
    {
        if (value.length <= MAX_TEXT)
            return value;
        var end = MAX_TEXT;
        var last = value.charCodeAt(end - 1);
        if (last >= 0xd800 && last <= 0xdbff)
            end--;
        return value.slice(0, end);
    }

    function flushOutbox()
    {
        if (!ready)
            return;
        state.outbox.forEach(function (item) {
            if (item.sentOn === connectionId)
                return;
            item.sentOn = connectionId;
            sendFrame({type: 'message', text: item.text,
                       client_id: item.clientId});
        });
    }

    var resendTimer = null;

    /* Sends every unacknowledged line again after a pause. The error frame
     * does not name the line it rejected, and a resend of a line that was
     * stored gets the same ack, so resending all of them is safe. */
    function resendLater()
    {
        if (resendTimer)
            return;
        resendTimer = setTimeout(function () {
            resendTimer = null;
            state.outbox.forEach(function (item) {
                item.sentOn = '';
            });
            flushOutbox();
        }, RESEND_DELAY_MS);
    }

    function sendFrame(frame)
    {
        if (socket && socket.readyState === WebSocket.OPEN)
            socket.send(JSON.stringify(frame));
    }

    function restartConversation()
    {
        resetConversation();
        renderAll();
        reconnectSoon();
        ui.input.focus();
    }

    function resetConversation()
    {
        var outbox = state.outbox;
        var open = state.open;
        state = emptyState();
        state.open = open;
        state.outbox = outbox.map(function (item) {
            return {clientId: item.clientId, text: item.text};
        });
        state.outbox.forEach(function (item) {
            state.transcript.push({seq: 0, from: 'visitor', text: item.text,
                                   clientId: item.clientId});
        });
        saveState();
    }

    /* ---- socket --------------------------------------------------------- */

    var socket = null;
    var ready = false;
    var connectionId = '';
    var attempts = 0;
    var retryTimer = null;

    function connect()
    {
        if (socket || retryTimer)
            return;
        var ws;
        try {
            ws = new WebSocket(socketUrl);
        } catch (e) {
            scheduleReconnect();
            return;
        }
        socket = ws;
        connectionId = newClientId();
        ws.onopen = function () {
            sendFrame({type: 'hello', token: state.token || null,
                       last_seq: state.lastSeq || 0});
        };
        ws.onmessage = function (event) {
            var frame;
            try {
                frame = JSON.parse(event.data);
            } catch (e) {
                return;
            }
            if (frame && typeof frame === 'object')
                handleFrame(frame);
        };
        ws.onclose = function () {
            if (socket !== ws)
                return;
            socket = null;
            ready = false;
            setTyping(false);
            showOffline(true);
            scheduleReconnect();
        };
    }

    /* Exponential backoff with jitter: a random wait between half and all
     * of min(8 s, 0.5 s * 2^attempts). */
    function scheduleReconnect()
    {
        if (retryTimer)
            return;
        var ceiling = Math.min(BACKOFF_MAX_MS,
                               BACKOFF_FIRST_MS * Math.pow(2, attempts));
        var delay = ceiling / 2 + Math.random() * ceiling / 2;
        attempts++;
        retryTimer = setTimeout(function () {
            retryTimer = null;
            connect();
        }, delay);
    }

    /* Drops the current socket, if any, and opens a new one at once. */
    function reconnectSoon()
    {
        var old = socket;
        socket = null;
        ready = false;
        if (old) {
            old.onclose = null;
            old.onmessage = null;
            old.close();
        }
        clearTimeout(retryTimer);
        retryTimer = null;
        attempts = 0;
        connect();
    }

    function reconnectNow()
    {
        if (socket || !retryTimer)
            return;
        clearTimeout(retryTimer);
        retryTimer = null;
        attempts = 0;
        connect();
    }

    function showOffline(on)
    {
        ui.connection.hidden = !on;
        ui.connection.textContent =
            on ? 'De verbinding is verbroken. We proberen opnieuw. ' +
                     'Wat u typt, wordt verstuurd zodra de verbinding ' +
                     'terug is.'
               : '';
    }

    function handleFrame(frame)
    {
        switch (frame.type) {
        case 'welcome':
            onWelcome(frame);
            break;
        case 'message':
            onMessage(frame);
            break;
        case 'ack':
            onAck(frame);
            break;
        case 'status':
            onStatus(frame);
            break;
        case 'error':
            onError(frame);
            break;
        default:
            break; /* unknown types are extensions: ignore them */
        }
    }

    function onWelcome(frame)
    {
        var hadToken = !!state.token;
        if (hadToken && frame.resumed === false) {
            resetConversation();
            renderAll();
            notice('Uw vorige gesprek is niet meer beschikbaar. ' +
                   'We starten een nieuw gesprek.');
        }
        if (typeof frame.token === 'string')
            state.token = frame.token;
        if (frame.conversation !== undefined)
            state.conversation = frame.conversation;
        attempts = 0;
        ready = true;
        showOffline(false);
        saveState();
        flushOutbox();
    }

    function findEntry(test)
    {
        for (var i = 0; i < state.transcript.length; i++)
            if (test(state.transcript[i]))
                return state.transcript[i];
        return null;
    }

    function onMessage(frame)
    {
        var seq = Number(frame.seq) || 0;
        if (seq > state.lastSeq)
            state.lastSeq = seq;
        if (seq && findEntry(function (e) { return e.seq === seq; })) {
            saveState();
            return; /* already shown: a replay after reconnecting */
        }

        var from = SENDER_TEXT[frame.from] ? frame.from : 'system';
        var text = typeof frame.text === 'string' ? frame.text : '';
        if (from === 'visitor' && adoptVisitorReplay(frame, seq, text)) {
            saveState();
            return;
        }

        var entry = {
            seq: seq,
            from: from,
            text: text,
            name: typeof frame.name === 'string' ? frame.name : '',
            quickReplies: Array.isArray(frame.quick_replies)
                              ? frame.quick_replies
                              : null,
            cards: Array.isArray(frame.cards) ? frame.cards : null
        };
        learnAdvisorName(frame, entry);
        state.transcript.push(entry);
        saveState();
        placeEntry(entry);
        refreshLog();
        if (from !== 'visitor')
            setTyping(false);
        if (ui.panel.hidden && from !== 'visitor') {
            unread++;
            renderBadge();
        }
        renderStatus();
        scrollToEnd();
    }

    /* A replayed visitor line that this page sent but whose ack was lost:
     * give the local line its seq instead of showing it twice. */
    function adoptVisitorReplay(frame, seq, text)
    {
        var local = null;
        if (typeof frame.client_id === 'string')
            local = findEntry(function (e) {
                return !e.seq && e.clientId === frame.client_id;
            });
        if (!local)
            local = findEntry(function (e) {
                return !e.seq && e.from === 'visitor' &&
                       outboxText(e.clientId) === text;
            });
        if (!local)
            return false;
        local.seq = seq;
        local.node.setAttribute('data-seq', String(seq));
        local.node.classList.remove('sdw-pending');
        sortTranscript();
        placeEntry(local);
        refreshLog();
        return true;
    }

    function outboxText(clientId)
    {
        for (var i = 0; i < state.outbox.length; i++)
            if (state.outbox[i].clientId === clientId)
                return state.outbox[i].text;
        return null;
    }

    function onAck(frame)
    {
        var seq = Number(frame.seq) || 0;
        state.outbox = state.outbox.filter(function (item) {
            return item.clientId !== frame.client_id;
        });
        var entry = findEntry(function (e) {
            return e.clientId === frame.client_id;
        });
        if (entry && seq && entry.seq !== seq) {
            var twin = findEntry(function (e) {
                return e !== entry && e.seq === seq;
            });
            if (twin) {
                /* the server replayed this line before acking it */
                if (twin.node && twin.node.parentNode)
                    twin.node.parentNode.removeChild(twin.node);
                state.transcript.splice(state.transcript.indexOf(twin), 1);
            }
            entry.seq = seq;
            entry.node.setAttribute('data-seq', String(seq));
            entry.node.classList.remove('sdw-pending');
            sortTranscript();
            placeEntry(entry);
            refreshLog();
        }
        saveState();
    }

    var ADVISOR_NAME_PATTERNS = [
        /^(.{1,60}?) (?:neemt|heeft) (?:het gesprek|uw gesprek) over/i,
        /(?:u spreekt nu met|u chat nu met) ([^.,!]{1,60})/i,
        /^adviseur ([^.,!]{1,60}) (?:is|helpt)/i
    ];

    /* Takes the advisor's name from a frame field or a system message. */
    function learnAdvisorName(frame, entry)
    {
        var name = '';
        if (typeof frame.advisor === 'string')
            name = frame.advisor;
        else if (entry.from === 'advisor' && entry.name)
            name = entry.name;
        else if (entry.from === 'system')
            for (var i = 0; i < ADVISOR_NAME_PATTERNS.length && !name; i++) {
                var match = ADVISOR_NAME_PATTERNS[i].exec(entry.text);
                if (match && !/^(een |de )?adviseur$/i.test(match[1].trim()))
                    name = match[1].trim();
            }
        if (name)
            state.advisorName = name.slice(0, 60);
    }

    function onStatus(frame)
    {
        if (!STATUS_TEXT[frame.state])
            return;
        state.status = frame.state;
        if (typeof frame.advisor === 'string' && frame.advisor)
            state.advisorName = frame.advisor.slice(0, 60);
        if (frame.state !== 'advisor' && frame.state !== 'waiting')
            state.advisorName = frame.state === 'closed' ? state.advisorName
                                                          : '';
        if (frame.state !== 'bot')
            setTyping(false);
        saveState();
        renderStatus();
    }

    function onError(frame)
    {
        if (frame.code === 'unknown_conversation') {
            resetConversation();
            renderAll();
            notice('Uw vorige gesprek is niet meer beschikbaar. ' +
                   'We starten een nieuw gesprek.');
            /* a socket takes one hello: start over on a new one */
            reconnectSoon();
            return;
        }
        setTyping(false);
        if (frame.code === 'rate_limited' || frame.code === 'storage_error')
            resendLater();
        var text = typeof frame.message === 'string' && frame.message
                       ? frame.message
                       : 'Er liep iets mis. Probeer het later opnieuw.';
        notice(text);
    }

    /* ---- start ---------------------------------------------------------- */

    function start()
    {
        loadStylesheet();
        buildUi();
        renderAll();
        if (state.open)
            openPanel(false);
        else if (state.token || state.outbox.length)
            connect();
        window.addEventListener('online', reconnectNow);
        document.addEventListener('visibilitychange', function () {
            if (document.visibilityState === 'visible')
                reconnectNow();
        });
        window.stemdeskWidget = {
            open: function () { openPanel(true); },
            close: closePanel
        };
    }

    if (document.body)
        start();
    else
        document.addEventListener('DOMContentLoaded', start);
})();
