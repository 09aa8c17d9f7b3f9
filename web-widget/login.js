// Login page of the advisor console: posts name and password as JSON to
// /api/login; the server responds with an HttpOnly session cookie.
'use strict';

(function () {
    const form = document.getElementById('login-form');
    const name = document.getElementById('login-name');
    const password = document.getElementById('login-password');
    const error = document.getElementById('login-error');
    const button = form.querySelector('button');

    function showError(text) {
        error.textContent = text;
        error.hidden = false;
    }

    form.addEventListener('submit', async (event) => {
        event.preventDefault();
        error.hidden = true;
        if (!name.value.trim() || !password.value) {
            showError('Vul uw naam en wachtwoord in.');
            return;
        }
        button.disabled = true;
        try {
            const res = await fetch('/api/login', {
                method: 'POST',
                headers: { 'Content-Type': 'application/json' },
                credentials: 'same-origin',
                body: JSON.stringify({
                    name: name.value.trim(),
                    password: password.value,
                }),
            });
            const body = await res.json().catch(() => ({}));
            if (res.ok) {
                const next = body.role === 'editor' ? '/editor' : '/console';
                window.location.assign(next);
                return;
            }
            showError(body.message ||
                      'Aanmelden lukt nu niet. Probeer het later opnieuw.');
            password.value = '';
            password.focus();
        } catch {
            showError('De server is niet bereikbaar. Controleer uw ' +
                      'verbinding en probeer het opnieuw.');
        } finally {
            button.disabled = false;
        }
    });
    name.focus();
})();
