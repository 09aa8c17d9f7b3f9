/* The visitor socket /chat: hello and resume, messages acknowledged once
 * committed, replies of the engine, and the checks on every frame. The
 * frames and their fields are described in docs/protocol.md. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "server/server_internal.h"

/* Maximum visitor text, in characters (Unicode code points). */
#define VISITOR_TEXT_MAX 2000
/* Maximum client_id length, in bytes. */
#define VISITOR_CLIENT_ID_MAX 128

typedef struct {
    const char *code;
    const char *message; /* Dutch, shown to the visitor */
} visitor_error_t;

static const visitor_error_t visitor_errors[] = {
    {"invalid_json", "Dit bericht kon niet gelezen worden. Vernieuw de "
                     "pagina en probeer het opnieuw."},
    {"unknown_type", "Dit soort bericht wordt niet ondersteund."},
    {"invalid_field", "Een veld in dit bericht ontbreekt of is ongeldig."},
    {"hello_required", "Het gesprek is nog niet gestart. Vernieuw de "
                       "pagina en probeer het opnieuw."},
    {"hello_repeated", "Dit gesprek is al gestart."},
    {"rate_limited", "U stuurt te veel berichten kort na elkaar. Wacht even "
                     "en probeer het dan opnieuw."},
    {"unknown_conversation", "Dit gesprek bestaat niet meer. Start een "
                             "nieuw gesprek."},
    {"text_too_long", "Uw bericht is te lang. Houd het korter dan 2000 "
                      "tekens."},
    {"engine_error", "Er ging iets mis bij het verwerken van uw bericht. "
                     "Probeer het later opnieuw."},
    {"storage_error", "Uw bericht kon niet bewaard worden. Probeer het "
                      "opnieuw."},
};

/* What each field of a client frame must contain, in English for the
 * developer of a client: the "expected" of an invalid_field error. */
static const struct {
    const char *field;
    const char *expected;
} field_rules[] = {
    {"type", "the string \"hello\" or \"message\""},
    {"token", "null, or the token string of a welcome frame"},
    {"last_seq", "null, or a whole number of 0 or more"},
    {"text", "a string of 1 to 2000 characters, without U+0000"},
    {"client_id", "a string of 1 to 128 bytes, without U+0000"},
};

/* Sends an error frame now; `field` names the offending field, or NULL. */
static void send_error(srv_visitor_t *v, const char *code, const char *field)
{
    const char *message = "Er ging iets mis.";
    for (size_t i = 0; i < sizeof visitor_errors / sizeof *visitor_errors; i++)
        if (strcmp(visitor_errors[i].code, code) == 0)
            message = visitor_errors[i].message;
    json_t *frame = json_pack("{s:s,s:s,s:s}", "type", "error", "code", code,
                              "message", message);
    if (field)
        json_object_set_new(frame, "field", json_string(field));
    for (size_t i = 0; field && i < sizeof field_rules / sizeof *field_rules;
         i++)
        if (strcmp(field_rules[i].field, field) == 0)
            json_object_set_new(frame, "expected",
                                json_string(field_rules[i].expected));
    /* Replies go out in the order of the frames they reply to, so the error
     * waits behind frames of this socket that wait for their commit. */
    srv_frame_t *out = srv_frame_json(frame);
    if (!srv_pending_behind(v->srv, v, out))
        srv_visitor_send(v, out);
    json_decref(frame);
    srv_metrics_error(v->srv, code);
}

void srv_visitor_send(srv_visitor_t *v, srv_frame_t *frame)
{
    if (!frame)
        return;
    if (v->close_code) {
        free(frame);
        return;
    }
    srv_queue_push(&v->out, frame);
    lws_callback_on_writable(v->wsi);
}

void srv_visitor_close(srv_visitor_t *v, int code, const char *reason)
{
    if (v->close_code)
        return;
    v->close_code = code;
    v->close_reason = reason;
    lws_callback_on_writable(v->wsi);
}

void srv_visitor_detach(srv_t *srv, srv_visitor_t *v)
{
    srv_pending_t *lists[2] = {srv->pending_head, srv->syncing_head};
    for (int i = 0; i < 2; i++) {
        for (srv_pending_t *p = lists[i]; p; p = p->next) {
            if (p->only == v)
                p->dropped = 1;
            if (p->except == v)
                p->except = NULL;
        }
    }
    srv_conversation_t *c = v->conversation;
    if (c) {
        srv_visitor_t **link = &c->visitors;
        while (*link && *link != v)
            link = &(*link)->conversation_next;
        if (*link)
            *link = v->conversation_next;
        v->conversation = NULL;
        srv_conversation_release(srv, c);
    }
}

/* Returns 1 when `s` is valid UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        unsigned int cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + n >= len)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* Counts the code points of valid UTF-8 text. */
static size_t utf8_length(const char *s)
{
    size_t count = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            count++;
    return count;
}

/* Takes one message from the socket's token bucket; 0 when it is empty. */
static int rate_allow(srv_visitor_t *v)
{
    double per_minute = v->srv->cfg->rate_messages_per_minute;
    double now = srv_now_monotonic();
    v->bucket += (now - v->bucket_at) * per_minute / 60.0;
    if (v->bucket > per_minute)
        v->bucket = per_minute;
    v->bucket_at = now;
    if (v->bucket < 1.0)
        return 0;
    v->bucket -= 1.0;
    return 1;
}

static srv_address_t **address_slot(srv_t *srv, const char *address)
{
    unsigned long hash = 5381;
    for (const char *c = address; *c; c++)
        hash = hash * 33 + (unsigned char)*c;
    srv_address_t **link = &srv->addresses[hash % SRV_ADDRESS_BUCKETS];
    while (*link && strcmp((*link)->address, address) != 0)
        link = &(*link)->next;
    return link;
}

/* Counts a socket from `address`; returns the sockets now open from it. */
static int address_add(srv_t *srv, const char *address)
{
    srv_address_t **link = address_slot(srv, address);
    if (!*link) {
        *link = calloc(1, sizeof **link);
        if (!*link)
            return 1;
        snprintf((*link)->address, sizeof(*link)->address, "%s", address);
    }
    return ++(*link)->sockets;
}

static void address_remove(srv_t *srv, const char *address)
{
    srv_address_t **link = address_slot(srv, address);
    srv_address_t *entry = *link;
    if (entry && --entry->sockets <= 0) {
        *link = entry->next;
        free(entry);
    }
}

/* Checks the Origin of an upgrade request against allowed_origins, or,
 * when that list is empty, against the Host header and the loopback names
 * of the listening port. A request without Origin comes from a client
 * that is not a browser and is allowed: the check protects visitors'
 * browsers, not the server. */
static int origin_allowed(srv_t *srv, struct lws *wsi)
{
    char origin[256], host[256], own[300];
    if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0)
        return 1;

    const json_t *allowed = srv->cfg->allowed_origins;
    if (json_array_size(allowed) > 0) {
        size_t i;
        json_t *item;
        json_array_foreach(allowed, i, item)
        {
            if (strcmp(json_string_value(item), origin) == 0)
                return 1;
        }
        return 0;
    }

    if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) > 0) {
        snprintf(own, sizeof own, "http://%s", host);
        if (strcmp(origin, own) == 0)
            return 1;
        snprintf(own, sizeof own, "https://%s", host);
        if (strcmp(origin, own) == 0)
            return 1;
    }
    snprintf(own, sizeof own, "http://127.0.0.1:%d", srv->cfg->port);
    if (strcmp(origin, own) == 0)
        return 1;
    snprintf(own, sizeof own, "http://localhost:%d", srv->cfg->port);
    return strcmp(origin, own) == 0;
}

static void attach(srv_visitor_t *v, srv_conversation_t *c)
{
    v->conversation = c;
    v->conversation_next = c->visitors;
    c->visitors = v;
}

/* Queues an error frame behind the frames waiting for the commit. */
static void pending_error(srv_visitor_t *v, const char *code)
{
    for (size_t i = 0; i < sizeof visitor_errors / sizeof *visitor_errors;
         i++) {
        if (strcmp(visitor_errors[i].code, code) != 0)
            continue;
        json_t *frame = json_pack("{s:s,s:s,s:s}", "type", "error", "code",
                                  code, "message", visitor_errors[i].message);
        srv_pending_add(v->srv, v->conversation, v, NULL, srv_frame_json(frame),
                        0);
        json_decref(frame);
    }
    srv_metrics_error(v->srv, code);
}

static void start_conversation(srv_visitor_t *v)
{
    srv_t *srv = v->srv;
    long long now = (long long)time(NULL);
    long long expires = now + (long long)srv->cfg->retention_days * 86400;
    store_conversation_t loaded;
    char token[STORE_TOKEN_SIZE];

    if (srv_transaction_begin(srv) ||
        store_conversation_create(srv->store, now, expires, &loaded, token)) {
        send_error(v, "storage_error", NULL);
        return;
    }
    srv_conversation_t *c = srv_conversation_hold(srv, &loaded);
    if (!c) {
        send_error(v, "storage_error", NULL);
        return;
    }
    attach(v, c);
    srv->metrics.conversations_started++;
    LOG_INFO("server", "conversation %s started", c->id);

    /* The token goes out only once the conversation is committed, so a
     * client never holds a token that a crash could forget. */
    json_t *welcome =
        json_pack("{s:s,s:s,s:s,s:b}", "type", "welcome", "conversation", c->id,
                  "token", token, "resumed", 0);
    srv_pending_add(srv, c, v, NULL, srv_frame_json(welcome), 0);
    json_decref(welcome);

    eng_event_t event = {.kind = ENG_EV_START};
    if (srv_conversation_step(srv, c, &event, 0))
        pending_error(v, "engine_error");
    srv_pending_add(srv, c, v, NULL, srv_status_frame(c), 0);
}

static int replay_message(const json_t *message, void *arg)
{
    srv_visitor_t *v = arg;
    json_t *frame = json_deep_copy(message);
    json_object_set_new(frame, "type", json_string("message"));
    srv_visitor_send(v, srv_frame_json(frame));
    json_decref(frame);
    return 0;
}

static void resume_conversation(srv_visitor_t *v, const char *token,
                                long long last_seq)
{
    srv_t *srv = v->srv;
    store_conversation_t loaded;

    /* Replay reads the database, so commit first: a client must never be
     * sent a message that is not durable yet. */
    if (srv_flush(srv)) {
        send_error(v, "storage_error", NULL);
        return;
    }
    int rc = store_conversation_by_token(srv->store, token,
                                         (long long)time(NULL), &loaded);
    if (rc) {
        send_error(v, rc > 0 ? "unknown_conversation" : "storage_error", NULL);
        return;
    }
    srv_conversation_t *c = srv_conversation_hold(srv, &loaded);
    if (!c) {
        send_error(v, "storage_error", NULL);
        return;
    }
    attach(v, c);
    LOG_INFO("server", "conversation %s resumed after seq %lld", c->id,
             last_seq);

    json_t *welcome =
        json_pack("{s:s,s:s,s:s,s:b}", "type", "welcome", "conversation", c->id,
                  "token", token, "resumed", 1);
    srv_visitor_send(v, srv_frame_json(welcome));
    json_decref(welcome);
    if (store_messages_after(srv->store, c->row, last_seq, replay_message, v))
        send_error(v, "storage_error", NULL);
    srv_visitor_send(v, srv_status_frame(c));
}

static void handle_hello(srv_visitor_t *v, const json_t *frame)
{
    if (v->conversation) {
        send_error(v, "hello_repeated", NULL);
        return;
    }
    const json_t *token = json_object_get(frame, "token");
    const json_t *last_seq = json_object_get(frame, "last_seq");
    if (token && !json_is_null(token) &&
        (!json_is_string(token) || json_string_length(token) == 0 ||
         json_string_length(token) >= STORE_TOKEN_SIZE + 64)) {
        send_error(v, "invalid_field", "token");
        return;
    }
    if (last_seq && !json_is_null(last_seq) &&
        (!json_is_integer(last_seq) || json_integer_value(last_seq) < 0)) {
        send_error(v, "invalid_field", "last_seq");
        return;
    }
    if (!token || json_is_null(token))
        start_conversation(v);
    else
        resume_conversation(v, json_string_value(token),
                            last_seq ? json_integer_value(last_seq) : 0);
}

static void handle_message(srv_visitor_t *v, const json_t *frame,
                           double received)
{
    srv_t *srv = v->srv;
    if (!v->conversation) {
        send_error(v, "hello_required", NULL);
        return;
    }
    const json_t *text = json_object_get(frame, "text");
    const json_t *client_id = json_object_get(frame, "client_id");
    /* Frames are read with JSON_ALLOW_NUL so that a "\u0000" is named as
     * an invalid field, not as unreadable JSON. */
    if (!json_is_string(text) || json_string_length(text) == 0 ||
        strlen(json_string_value(text)) != json_string_length(text)) {
        send_error(v, "invalid_field", "text");
        return;
    }
    if (!json_is_string(client_id) || json_string_length(client_id) == 0 ||
        json_string_length(client_id) > VISITOR_CLIENT_ID_MAX ||
        strlen(json_string_value(client_id)) != json_string_length(client_id)) {
        send_error(v, "invalid_field", "client_id");
        return;
    }
    if (utf8_length(json_string_value(text)) > VISITOR_TEXT_MAX) {
        send_error(v, "text_too_long", NULL);
        return;
    }
    if (!rate_allow(v)) {
        send_error(v, "rate_limited", NULL);
        return;
    }

    srv_conversation_t *c = v->conversation;
    long long now = (long long)time(NULL);
    long long seq = 0;
    int duplicate = 0;
    json_t *message = json_pack("{s:s,s:O}", "from", "visitor", "text", text);
    char *body = message ? json_dumps(message, JSON_COMPACT) : NULL;
    json_decref(message);
    if (!body || srv_transaction_begin(srv) ||
        store_message_append_body(srv->store, c->row,
                                  json_string_value(client_id), "visitor", body,
                                  now, &seq, &duplicate)) {
        free(body);
        send_error(v, "storage_error", NULL);
        return;
    }

    /* The ack waits for the commit; a resend gets the seq of the first. */
    json_t *ack = json_pack("{s:s,s:O,s:I}", "type", "ack", "client_id",
                            client_id, "seq", (json_int_t)seq);
    srv_pending_add(srv, c, v, NULL, srv_frame_json(ack),
                    duplicate ? 0 : received);
    json_decref(ack);
    if (duplicate) {
        free(body);
        return;
    }

    c->last_seq = seq;
    srv->metrics.turns++;
    srv_pending_add(srv, c, NULL, v, srv_frame_message(body, seq), 0);
    free(body);

    eng_event_t event = {.kind = ENG_EV_VISITOR_TEXT,
                         .text = json_string_value(text)};
    if (srv_conversation_step(srv, c, &event, 0))
        pending_error(v, "engine_error");
}

/* Handles one complete text message from the visitor. */
static void handle_frame(srv_visitor_t *v, const char *data, size_t len)
{
    double received = srv_now_monotonic();
    json_error_t error;
    json_t *frame =
        json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &error);
    if (!json_is_object(frame)) {
        json_decref(frame);
        send_error(v, "invalid_json", NULL);
        return;
    }
    const json_t *type = json_object_get(frame, "type");
    if (!json_is_string(type)) {
        send_error(v, "invalid_field", "type");
    } else if (strcmp(json_string_value(type), "hello") == 0) {
        handle_hello(v, frame);
    } else if (strcmp(json_string_value(type), "message") == 0) {
        handle_message(v, frame, received);
    } else {
        send_error(v, "unknown_type", NULL);
    }
    json_decref(frame);
}

/* Closes the socket from inside its callback with a close code. */
static int close_now(struct lws *wsi, srv_visitor_t *v, int code,
                     const char *reason)
{
    srv_metrics_error(v->srv, code == LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE
                                  ? "frame_too_large"
                              : code == LWS_CLOSE_STATUS_INVALID_PAYLOAD
                                  ? "invalid_utf8"
                                  : "unsupported_data");
    lws_close_reason(wsi, code, (unsigned char *)reason, strlen(reason));
    return -1;
}

/* Handles received bytes: a message that arrives whole is handled in
 * place; fragments are collected in a buffer that lives only until the
 * message is complete, so an idle socket holds no receive buffer. Returns
 * -1 to close the socket. */
static int receive(struct lws *wsi, srv_visitor_t *v, const char *in,
                   size_t len)
{
    size_t max = (size_t)v->srv->cfg->max_frame_bytes;
    size_t remaining = lws_remaining_packet_payload(wsi);
    int complete = !remaining && lws_is_final_fragment(wsi);
    if (lws_frame_is_binary(wsi))
        return close_now(wsi, v, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
                         "binary frames are not accepted");
    if (v->rx_len + len + remaining > max)
        return close_now(wsi, v, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                         "frame too large");

    const char *message = in;
    size_t size = len;
    if (v->rx_len || !complete) {
        if (!v->rx && !(v->rx = malloc(max)))
            return -1;
        memcpy(v->rx + v->rx_len, in, len);
        v->rx_len += len;
        if (!complete)
            return 0;
        message = v->rx;
        size = v->rx_len;
    }

    int rc = 0;
    if (!utf8_valid((const unsigned char *)message, size))
        rc = close_now(wsi, v, LWS_CLOSE_STATUS_INVALID_PAYLOAD,
                       "invalid UTF-8");
    else
        handle_frame(v, message, size);
    free(v->rx);
    v->rx = NULL;
    v->rx_len = 0;
    return rc;
}

static void established(struct lws *wsi, srv_visitor_t *v)
{
    srv_t *srv = lws_context_user(lws_get_context(wsi));
    memset(v, 0, sizeof *v);
    v->wsi = wsi;
    v->srv = srv;
    v->bucket = srv->cfg->rate_messages_per_minute;
    v->bucket_at = srv_now_monotonic();
    lws_get_peer_simple(wsi, v->address, sizeof v->address);
    v->counted = 1;
    srv->metrics.sockets_open++;

    if (address_add(srv, v->address) > srv->cfg->max_sockets_per_address) {
        srv_metrics_error(srv, "too_many_sockets");
        srv_visitor_close(v, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                          "too many sockets from this address");
    } else if (srv->metrics.sockets_open > srv->cfg->max_sockets) {
        srv_metrics_error(srv, "server_full");
        srv_visitor_close(v, 1013 /* try again later */, "server full");
    }
}

static void closed(srv_visitor_t *v)
{
    if (!v->srv)
        return;
    srv_visitor_detach(v->srv, v);
    srv_queue_clear(&v->out);
    free(v->rx);
    v->rx = NULL;
    if (v->counted) {
        address_remove(v->srv, v->address);
        v->srv->metrics.sockets_open--;
        v->counted = 0;
    }
}

/* Writes queued frames until the socket would block, then asks to be
 * called again; a turn's ack, messages and status usually leave in one
 * call. */
static int writeable(struct lws *wsi, srv_visitor_t *v)
{
    srv_frame_t *frame;
    while ((frame = srv_queue_pop(&v->out))) {
        int n =
            lws_write(wsi, frame->buf + LWS_PRE, frame->len, LWS_WRITE_TEXT);
        free(frame);
        if (n < 0)
            return -1;
        if (lws_send_pipe_choked(wsi))
            break;
    }
    if (v->out.head) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (v->close_code) {
        lws_close_reason(wsi, (enum lws_close_status)v->close_code,
                         (unsigned char *)v->close_reason,
                         strlen(v->close_reason));
        return -1;
    }
    return 0;
}

int srv_visitor_callback(struct lws *wsi, enum lws_callback_reasons reason,
                         void *user, void *in, size_t len)
{
    srv_visitor_t *v = user;
    srv_t *srv;

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        srv = lws_context_user(lws_get_context(wsi));
        if (!origin_allowed(srv, wsi)) {
            char origin[128] = "";
            lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN);
            srv_metrics_error(srv, "origin_rejected");
            LOG_WARN("server",
                     "rejected a /chat upgrade from Origin %s; add it to "
                     "allowed_origins to accept it",
                     origin);
            /* A 403 shows the client the reason, where a dropped connection
             * would look like a network fault. */
            lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN,
                                   "This Origin may not open /chat; the "
                                   "desk's allowed_origins setting lists "
                                   "the ones that may.");
            return 1;
        }
        return 0;
    case LWS_CALLBACK_ESTABLISHED:
        established(wsi, v);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        if (v->close_code)
            return 0;
        return receive(wsi, v, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return writeable(wsi, v);
    case LWS_CALLBACK_CLOSED:
        closed(v);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}
