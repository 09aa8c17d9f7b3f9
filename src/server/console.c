/* The advisor console socket /console: presence, the live queue, taking a
 * conversation over, replies, internal notes, handing back and closing,
 * callback requests and failed partner requests. Every action checks the
 * account behind the session cookie; the frames are described in
 * docs/protocol.md ("Console socket"). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "server/console_internal.h"
#include "store/handoff.h"

/* Maximum length of an advisor reply or note, in bytes. */
#define CONSOLE_TEXT_MAX 4000
/* Maximum size of an accepted console frame, in bytes. */
#define CONSOLE_FRAME_MAX 16384

const size_t srv_console_session_size = sizeof(console_socket_t);

/* Outcomes of a closed conversation: code and Dutch label. */
static const char *const outcomes[] = {"answered", "referred_to_partner",
                                       "callback_planned", "nothing_needed"};

typedef struct {
    const char *code;
    const char *message; /* Dutch, shown to the advisor */
} console_error_t;

static const console_error_t console_errors[] = {
    {"invalid_json", "Dit bericht kon niet gelezen worden. Vernieuw de "
                     "pagina."},
    {"unknown_type", "Deze actie bestaat niet."},
    {"invalid_field", "Een veld ontbreekt of is ongeldig."},
    {"not_queued", "Dit gesprek staat niet (meer) in de wachtrij."},
    {"already_taken", "Een collega heeft dit gesprek al overgenomen."},
    {"not_online", "Zet uw status op 'Beschikbaar' om een gesprek over te "
                   "nemen."},
    {"not_holder", "U hebt dit gesprek niet overgenomen."},
    {"closed", "Dit gesprek is al afgesloten."},
    {"unknown_conversation", "Dit gesprek bestaat niet meer."},
    {"text_too_long", "Dit bericht is te lang. Houd het korter dan 4000 "
                      "tekens."},
    {"not_found", "Dit item bestaat niet meer of is al afgehandeld."},
    {"storage_error", "Er ging iets mis bij het bewaren. Probeer het "
                      "opnieuw."},
};

/* What each field of a console frame must contain, in English for the
 * developer of a client: the "expected" of an invalid_field result. */
static const struct {
    const char *field;
    const char *expected;
} console_fields[] = {
    {"type", "one of the client frame types in docs/protocol.md"},
    {"conversation", "the conversation id string of a queue item"},
    {"state", "\"online\", \"away\" or \"offline\""},
    {"id", "a whole number of 1 or more from the callbacks or outbox list"},
    {"text", "a string with a character other than a space, without U+0000"},
    {"outcome", "\"answered\", \"referred_to_partner\", "
                "\"callback_planned\" or \"nothing_needed\""},
};

console_t *console_of(srv_t *srv)
{
    return srv_console_data(srv);
}

static long long now_seconds(void)
{
    return (long long)time(NULL);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- sending ---- */

static void send_frame(console_socket_t *s, const json_t *value)
{
    srv_frame_t *frame = srv_frame_json(value);

    if (!frame)
        return;
    srv_queue_push(&s->out, frame);
    lws_callback_on_writable(s->wsi);
}

static void send_new(console_socket_t *s, json_t *value)
{
    send_frame(s, value);
    json_decref(value);
}

static void broadcast(console_t *console, const json_t *value)
{
    for (console_socket_t *s = console->sockets; s; s = s->next)
        if (s->ready && !s->ended)
            send_frame(s, value);
}

/* Sends the result of one action:
 * {"type":"result","action","ok","code","message"}. `field` names the
 * offending field of an invalid_field, which adds "field" and "expected";
 * NULL otherwise. */
static void send_result_field(console_socket_t *s, const char *action,
                              const char *conversation, const char *code,
                              const char *field)
{
    json_t *frame = json_pack("{s:s,s:s,s:b}", "type", "result", "action",
                              action, "ok", code == NULL);
    char message[128] = "Er ging iets mis.";

    if (conversation)
        json_object_set_new(frame, "conversation", json_string(conversation));
    if (code) {
        for (size_t i = 0; i < sizeof console_errors / sizeof *console_errors;
             i++)
            if (strcmp(console_errors[i].code, code) == 0)
                snprintf(message, sizeof message, "%s",
                         console_errors[i].message);
        if (field) {
            snprintf(message, sizeof message,
                     "Het veld '%s' ontbreekt of is ongeldig.", field);
            json_object_set_new(frame, "field", json_string(field));
        }
        for (size_t i = 0;
             field && i < sizeof console_fields / sizeof *console_fields; i++)
            if (strcmp(console_fields[i].field, field) == 0)
                json_object_set_new(frame, "expected",
                                    json_string(console_fields[i].expected));
        json_object_set_new(frame, "code", json_string(code));
        json_object_set_new(frame, "message", json_string(message));
        srv_metrics_error(s->srv, code);
    }
    send_new(s, frame);
}

static void send_result(console_socket_t *s, const char *action,
                        const char *conversation, const char *code)
{
    send_result_field(s, action, conversation, code, NULL);
}

/* Sends an invalid_field result that names `field`. */
static void send_invalid(console_socket_t *s, const char *action,
                         const char *conversation, const char *field)
{
    send_result_field(s, action, conversation, "invalid_field", field);
}

static handoff_presence_t presence_of(console_t *console, long long account)
{
    handoff_presence_t best = HANDOFF_OFFLINE;

    for (console_socket_t *s = console->sockets; s; s = s->next)
        if (s->ready && s->account.id == account && s->presence > best)
            best = s->presence;
    return best;
}

static int has_console(const console_t *console, long long account)
{
    for (const console_socket_t *s = console->sockets; s; s = s->next)
        if (s->ready && s->account.id == account)
            return 1;
    return 0;
}

/* Returns the index of `account` in the lost list, or -1. */
static long lost_index(const console_t *console, long long account)
{
    for (size_t i = 0; i < console->lost_count; i++)
        if (console->lost[i].account == account)
            return (long)i;
    return -1;
}

/* Notes that the last console of `account` closed at `now`. When memory
 * runs out, the account counts as offline at once. */
static void lost_add(console_t *console, long long account, long long now)
{
    long i = lost_index(console, account);

    if (i >= 0) {
        console->lost[i].lost_at = now;
        return;
    }
    if (console->lost_count == console->lost_size) {
        size_t size = console->lost_size ? console->lost_size * 2 : 8;
        console_lost_t *grown =
            realloc(console->lost, size * sizeof *console->lost);
        if (!grown) {
            LOG_WARN("console",
                     "out of memory: the conversations of advisor "
                     "%lld return to the queue at once",
                     account);
            return;
        }
        console->lost = grown;
        console->lost_size = size;
    }
    console->lost[console->lost_count++] =
        (console_lost_t){.account = account, .lost_at = now};
}

static void lost_remove(console_t *console, long long account)
{
    long i = lost_index(console, account);

    if (i >= 0)
        console->lost[i] = console->lost[--console->lost_count];
}

/* Returns the presence of the advisor who has taken a conversation, as
 * the queue rules see it. A console that closed a moment ago may be a
 * reload. */
static handoff_presence_t holder_presence(console_t *console, long long account,
                                          long long now)
{
    long i = lost_index(console, account);

    return handoff_holder_presence(
        presence_of(console, account), i >= 0 ? console->lost[i].lost_at : 0,
        srv_config(console->srv)->advisor_reconnect_seconds, now);
}

json_t *console_queue_json(console_t *console)
{
    json_t *items = NULL;
    json_t *advisors = json_array();

    if (store_queue_list(srv_store(console->srv), &items) != 0) {
        json_decref(advisors);
        return NULL;
    }
    /* One entry per account, with its best presence over its sockets. */
    for (console_socket_t *s = console->sockets; s; s = s->next) {
        int listed = 0;
        for (console_socket_t *t = console->sockets; t != s; t = t->next)
            if (t->ready && t->account.id == s->account.id)
                listed = 1;
        if (!s->ready || listed)
            continue;
        json_array_append_new(
            advisors,
            json_pack(
                "{s:s,s:s,s:s}", "name", s->account.name, "display_name",
                s->account.display_name, "presence",
                handoff_presence_name(presence_of(console, s->account.id))));
    }
    return json_pack("{s:s,s:o,s:o,s:I}", "type", "queue", "items", items,
                     "advisors", advisors, "now", (json_int_t)now_seconds());
}

json_t *console_callbacks_json(console_t *console)
{
    json_t *items = NULL;

    if (store_callback_list(srv_store(console->srv), &items) != 0)
        return NULL;
    return json_pack("{s:s,s:o}", "type", "callbacks", "items", items);
}

json_t *console_outbox_json(console_t *console)
{
    json_t *items = NULL;

    if (store_outbox_list(srv_store(console->srv), "failed", &items) != 0)
        return NULL;
    return json_pack("{s:s,s:o}", "type", "outbox", "failed", items);
}

static void broadcast_new(console_t *console, json_t *value)
{
    if (!value)
        return;
    broadcast(console, value);
    json_decref(value);
}

/* Sends what changed since the last commit to every console. */
static void broadcast_changes(console_t *console)
{
    if (console->queue_dirty) {
        console->queue_dirty = 0;
        broadcast_new(console, console_queue_json(console));
    }
    if (console->lists_dirty) {
        console->lists_dirty = 0;
        broadcast_new(console, console_callbacks_json(console));
        broadcast_new(console, console_outbox_json(console));
    }
    if (console->outbox_dirty) {
        console->outbox_dirty = 0;
        handoff_outbox_wake(console->outbox);
    }
}

/* ---- transcripts ---- */

typedef struct {
    console_socket_t *socket;
    json_t *messages; /* when collecting a transcript */
} message_sink_t;

static int collect_message(const json_t *message, void *arg)
{
    message_sink_t *sink = arg;
    long long seq = json_integer_value(json_object_get(message, "seq"));

    if (seq > sink->socket->following_seq)
        sink->socket->following_seq = seq;
    if (sink->messages)
        return json_array_append(sink->messages, (json_t *)message);

    json_t *frame = json_deep_copy(message);
    json_object_set_new(frame, "type", json_string("message"));
    json_object_set_new(frame, "conversation",
                        json_string(sink->socket->following));
    send_new(sink->socket, frame);
    return 0;
}

/* Sends the whole transcript of a conversation with the notes, what the
 * bot collected and the initiatives it showed, and follows it live. */
static void send_transcript(console_socket_t *s, const char *conversation)
{
    store_t *store = srv_store(s->srv);
    store_conversation_t loaded;
    message_sink_t sink = {s, json_array()};
    json_t *notes = NULL;
    json_t *frame;

    if (store_conversation_by_id(store, conversation, &loaded) != 0) {
        json_decref(sink.messages);
        send_result(s, "open", conversation, "unknown_conversation");
        return;
    }
    snprintf(s->following, sizeof s->following, "%s", conversation);
    s->following_seq = 0;
    if (store_messages_after(store, loaded.row, 0, collect_message, &sink) ||
        store_note_list(store, conversation, &notes)) {
        store_conversation_clear(&loaded);
        json_decref(sink.messages);
        send_result(s, "open", conversation, "storage_error");
        return;
    }
    frame = json_pack("{s:s,s:s,s:s,s:o,s:o}", "type", "transcript",
                      "conversation", conversation, "mode", loaded.mode,
                      "messages", sink.messages, "notes", notes);
    if (loaded.state) {
        json_t *shown = json_object_get(loaded.state, "shown");
        json_t *slots = json_object_get(loaded.state, "slots");
        json_object_set(frame, "shown", shown ? shown : json_array());
        if (json_is_object(slots))
            json_object_set(frame, "slots", slots);
    }
    store_conversation_clear(&loaded);
    send_new(s, frame);
}

/* ---- actions ---- */

static const char *conversation_field(const json_t *message)
{
    const char *id =
        json_string_value(json_object_get(message, "conversation"));
    size_t len = id ? strlen(id) : 0;

    if (len == 0 || len >= STORE_CONVERSATION_ID_SIZE)
        return NULL;
    for (size_t i = 0; i < len; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return NULL;
    return id;
}

/* Reads the queue row and checks that `s` took the conversation. Returns
 * NULL, or the error code to send. */
static const char *check_holder(console_socket_t *s, const char *conversation)
{
    store_queue_row_t row;
    int rc = store_queue_get(srv_store(s->srv), conversation, &row);

    if (rc < 0)
        return "storage_error";
    if (rc == 1)
        return "not_queued";
    if (strcmp(row.state, "closed") == 0)
        return "closed";
    if (strcmp(row.state, "taken") != 0 || row.advisor_id != s->account.id)
        return "not_holder";
    return NULL;
}

/* Runs an engine event for the conversation, with the audit entry, in one
 * transaction, and commits it before the result is sent. */
static const char *run_event(console_socket_t *s, const char *conversation,
                             const eng_event_t *event, const char *audit)
{
    srv_t *srv = s->srv;
    int rc = srv_conversation_event(srv, conversation, event);

    if (rc == 1)
        return "unknown_conversation";
    if (rc != 0 || store_audit_add(srv_store(srv), s->account.id, audit,
                                   conversation, now_seconds()) != 0)
        return "storage_error";
    return NULL;
}

/* Commits the action's transaction. What the engine wrote before a later
 * step failed is kept: the server has already queued its frames. */
static const char *finish(console_socket_t *s, const char *code)
{
    if (srv_flush(s->srv) != 0)
        return "storage_error";
    return code;
}

static void take(console_socket_t *s, const char *conversation)
{
    console_t *console = console_of(s->srv);
    store_t *store = srv_store(s->srv);
    long long now = now_seconds();
    handoff_advisor_t advisor = {s->account.id,
                                 presence_of(console, s->account.id)};
    handoff_item_t item = {0};
    store_queue_row_t row;
    const char *code = NULL;
    int rc = store_queue_get(store, conversation, &row);

    if (rc != 0) {
        send_result(s, "take", conversation,
                    rc < 0 ? "storage_error" : "not_queued");
        return;
    }
    handoff_state_parse(row.state, &item.state);
    item.advisor_id = row.advisor_id;
    switch (handoff_claim(&item, &advisor, now)) {
    case HANDOFF_CLAIM_OK:
        break;
    case HANDOFF_CLAIM_TAKEN:
        code = row.advisor_id == s->account.id ? NULL : "already_taken";
        send_result(s, "take", conversation, code);
        if (!code)
            send_transcript(s, conversation);
        return;
    case HANDOFF_CLAIM_CLOSED:
        send_result(s, "take", conversation, "closed");
        return;
    case HANDOFF_CLAIM_NOT_ONLINE:
        send_result(s, "take", conversation, "not_online");
        return;
    }

    /* The conditional update makes the first claim win even if two
     * frames arrive in one pass. */
    if (srv_transaction_begin(s->srv) != 0) {
        send_result(s, "take", conversation, "storage_error");
        return;
    }
    rc = store_queue_take(store, conversation, s->account.id, now);
    if (rc == 1) {
        code = "already_taken";
    } else if (rc < 0) {
        code = "storage_error";
    } else {
        eng_event_t event = {.kind = ENG_EV_ADVISOR_JOINED,
                             .advisor_name = s->account.display_name};
        code = run_event(s, conversation, &event, "take");
    }
    code = finish(s, code);
    send_result(s, "take", conversation, code);
    if (code)
        return;
    LOG_INFO("console", "advisor %lld took conversation %s", s->account.id,
             conversation);
    console->queue_dirty = 1;
    broadcast_changes(console);
    send_transcript(s, conversation);
}

static void reply(console_socket_t *s, const char *conversation,
                  const char *text)
{
    const char *code = check_holder(s, conversation);
    eng_event_t event = {.kind = ENG_EV_ADVISOR_TEXT,
                         .text = text,
                         .advisor_name = s->account.display_name};

    if (code) {
        send_result(s, "message", conversation, code);
        return;
    }
    if (srv_transaction_begin(s->srv) != 0) {
        send_result(s, "message", conversation, "storage_error");
        return;
    }
    code = run_event(s, conversation, &event, "reply");
    if (!code &&
        store_queue_answered(srv_store(s->srv), conversation, now_seconds()))
        code = "storage_error";
    code = finish(s, code);
    send_result(s, "message", conversation, code);
}

static void note(console_socket_t *s, const char *conversation,
                 const char *text)
{
    console_t *console = console_of(s->srv);
    store_t *store = srv_store(s->srv);
    long long now = now_seconds();
    const char *code = NULL;

    if (srv_transaction_begin(s->srv) != 0) {
        send_result(s, "note", conversation, "storage_error");
        return;
    }
    if (store_note_add(store, conversation, s->account.id, text, now) ||
        store_audit_add(store, s->account.id, "note", conversation, now))
        code = "storage_error";
    code = finish(s, code);
    send_result(s, "note", conversation, code);
    if (code)
        return;

    json_t *frame = json_pack(
        "{s:s,s:s,s:{s:I,s:s,s:s,s:s}}", "type", "note", "conversation",
        conversation, "note", "at", (json_int_t)now, "advisor", s->account.name,
        "advisor_display_name", s->account.display_name, "text", text);
    for (console_socket_t *t = console->sockets; t; t = t->next)
        if (t->ready && strcmp(t->following, conversation) == 0)
            send_frame(t, frame);
    json_decref(frame);
}

static void release(console_socket_t *s, const char *conversation)
{
    const char *code = check_holder(s, conversation);
    eng_event_t event = {.kind = ENG_EV_ADVISOR_RELEASED,
                         .advisor_name = s->account.display_name};

    if (code) {
        send_result(s, "release", conversation, code);
        return;
    }
    if (srv_transaction_begin(s->srv) != 0) {
        send_result(s, "release", conversation, "storage_error");
        return;
    }
    if (store_queue_finish(srv_store(s->srv), conversation, NULL,
                           now_seconds()) != 0)
        code = "storage_error";
    else
        code = run_event(s, conversation, &event, "release");
    code = finish(s, code);
    send_result(s, "release", conversation, code);
    if (!code) {
        console_of(s->srv)->queue_dirty = 1;
        broadcast_changes(console_of(s->srv));
    }
}

static void close_conversation(console_socket_t *s, const char *conversation,
                               const char *outcome)
{
    const char *code = check_holder(s, conversation);
    int known = 0;
    eng_event_t event = {.kind = ENG_EV_CLOSED,
                         .advisor_name = s->account.display_name,
                         .outcome = outcome};

    for (size_t i = 0; outcome && i < sizeof outcomes / sizeof *outcomes; i++)
        if (strcmp(outcome, outcomes[i]) == 0)
            known = 1;
    if (!known) {
        send_invalid(s, "close", conversation, "outcome");
        return;
    }
    if (code) {
        send_result(s, "close", conversation, code);
        return;
    }
    if (srv_transaction_begin(s->srv) != 0) {
        send_result(s, "close", conversation, "storage_error");
        return;
    }
    if (store_queue_finish(srv_store(s->srv), conversation, outcome,
                           now_seconds()) != 0)
        code = "storage_error";
    else
        code = run_event(s, conversation, &event, "close");
    code = finish(s, code);
    send_result(s, "close", conversation, code);
    if (!code) {
        LOG_INFO("console", "advisor %lld closed conversation %s: %s",
                 s->account.id, conversation, outcome);
        console_of(s->srv)->queue_dirty = 1;
        broadcast_changes(console_of(s->srv));
    }
}

static void set_presence(console_socket_t *s, const char *name)
{
    console_t *console = console_of(s->srv);
    handoff_presence_t presence;

    if (handoff_presence_parse(name, &presence) != 0) {
        send_invalid(s, "presence", NULL, "state");
        return;
    }
    s->presence = presence;
    send_result(s, "presence", NULL, NULL);
    console->queue_dirty = 1;
    broadcast_changes(console);
}

static void list_action(console_socket_t *s, const char *action, long long id)
{
    console_t *console = console_of(s->srv);
    store_t *store = srv_store(s->srv);
    int rc;

    if (id <= 0) {
        send_invalid(s, action, NULL, "id");
        return;
    }
    if (strcmp(action, "callback_done") == 0)
        rc = store_callback_done(store, id, s->account.id, now_seconds());
    else
        rc = store_outbox_retry(store, id, now_ms());
    send_result(s, action, NULL,
                rc == 0   ? NULL
                : rc == 1 ? "not_found"
                          : "storage_error");
    if (rc != 0)
        return;
    if (strcmp(action, "outbox_retry") == 0)
        console->outbox_dirty = 1;
    console->lists_dirty = 1;
    broadcast_changes(console);
}

/* Returns the "text" field when it is a non-empty string within the limit;
 * otherwise sends the error and returns NULL. */
static const char *text_field(console_socket_t *s, const char *action,
                              const json_t *message)
{
    const json_t *value = json_object_get(message, "text");
    const char *text = json_string_value(value);
    const char *start = text;

    while (start && (*start == ' ' || *start == '\n' || *start == '\t'))
        start++;
    if (!start || !*start || strlen(text) != json_string_length(value)) {
        send_invalid(s, action, NULL, "text");
        return NULL;
    }
    if (strlen(text) > CONSOLE_TEXT_MAX) {
        send_result(s, action, NULL, "text_too_long");
        return NULL;
    }
    return text;
}

static void handle_message(console_socket_t *s, const json_t *message)
{
    const char *type = json_string_value(json_object_get(message, "type"));
    const char *conversation = conversation_field(message);
    const char *text;

    if (!type) {
        send_invalid(s, "unknown", NULL, "type");
        return;
    }
    if (strcmp(type, "presence") == 0) {
        set_presence(s, json_string_value(json_object_get(message, "state")));
        return;
    }
    if (strcmp(type, "callback_done") == 0 ||
        strcmp(type, "outbox_retry") == 0) {
        list_action(s, type,
                    json_integer_value(json_object_get(message, "id")));
        return;
    }
    if (strcmp(type, "open") != 0 && strcmp(type, "take") != 0 &&
        strcmp(type, "message") != 0 && strcmp(type, "note") != 0 &&
        strcmp(type, "release") != 0 && strcmp(type, "close") != 0) {
        send_result(s, type, NULL, "unknown_type");
        return;
    }
    if (!conversation) {
        send_invalid(s, type, NULL, "conversation");
        return;
    }

    if (strcmp(type, "open") == 0) {
        send_transcript(s, conversation);
    } else if (strcmp(type, "take") == 0) {
        take(s, conversation);
    } else if (strcmp(type, "message") == 0) {
        if ((text = text_field(s, type, message)))
            reply(s, conversation, text);
    } else if (strcmp(type, "note") == 0) {
        if ((text = text_field(s, type, message)))
            note(s, conversation, text);
    } else if (strcmp(type, "release") == 0) {
        release(s, conversation);
    } else {
        close_conversation(
            s, conversation,
            json_string_value(json_object_get(message, "outcome")));
    }
}

static void ensure_timer(console_t *console);

/* ---- socket lifecycle ---- */

static void unlink_socket(console_t *console, console_socket_t *s)
{
    for (console_socket_t **p = &console->sockets; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            break;
        }
    }
}

static int established(struct lws *wsi, console_socket_t *s, srv_t *srv)
{
    console_t *console = console_of(srv);
    store_account_t account;

    memset(s, 0, sizeof *s);
    s->wsi = wsi;
    s->srv = srv;
    if (console_authenticate(wsi, srv, &account, s->token) != 0 ||
        !store_role_allows(account.role, STORE_ACCESS_QUEUE))
        return -1;
    s->account = account;
    s->presence = HANDOFF_ONLINE;
    s->ready = 1;
    ensure_timer(console);
    lost_remove(console, account.id);
    s->next = console->sockets;
    console->sockets = s;
    LOG_INFO("console", "advisor %lld connected", account.id);

    send_new(s, json_pack("{s:s,s:{s:s,s:s,s:s},s:s}", "type", "hello",
                          "advisor", "name", account.name, "display_name",
                          account.display_name, "role",
                          store_role_name(account.role), "presence",
                          handoff_presence_name(s->presence)));
    console->queue_dirty = 1;
    broadcast_changes(console);
    json_t *callbacks = console_callbacks_json(console);
    json_t *outbox = console_outbox_json(console);
    if (callbacks)
        send_new(s, callbacks);
    if (outbox)
        send_new(s, outbox);
    return 0;
}

static int receive(console_socket_t *s, const char *in, size_t len)
{
    char *grown;

    if (s->rx_len + len > CONSOLE_FRAME_MAX) {
        lws_close_reason(s->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                         (unsigned char *)"frame too large", 15);
        return -1;
    }
    grown = realloc(s->rx, s->rx_len + len + 1);
    if (!grown)
        return -1;
    s->rx = grown;
    memcpy(s->rx + s->rx_len, in, len);
    s->rx_len += len;
    s->rx[s->rx_len] = '\0';
    if (!lws_is_final_fragment(s->wsi))
        return 0;

    json_t *message = json_loadb(s->rx, s->rx_len,
                                 JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    free(s->rx);
    s->rx = NULL;
    s->rx_len = 0;
    if (!json_is_object(message))
        send_result(s, "unknown", NULL, "invalid_json");
    else
        handle_message(s, message);
    json_decref(message);
    return 0;
}

static int writeable(console_socket_t *s)
{
    srv_frame_t *frame = srv_queue_pop(&s->out);
    int n;

    if (!frame)
        return 0;
    n = lws_write(s->wsi, frame->buf + LWS_PRE, frame->len, LWS_WRITE_TEXT);
    free(frame);
    if (n < 0)
        return -1;
    if (s->out.head) {
        lws_callback_on_writable(s->wsi);
    } else if (s->ended) {
        static const char reason[] = "session ended";
        lws_close_reason(s->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                         (unsigned char *)reason, sizeof reason - 1);
        return -1;
    }
    return 0;
}

int srv_console_callback(struct lws *wsi, enum lws_callback_reasons reason,
                         void *user, void *in, size_t len)
{
    console_socket_t *s = user;
    srv_t *srv = lws_context_user(lws_get_context(wsi));
    store_account_t account;

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* Rejecting here refuses the upgrade before any frame. */
        if (!console_same_origin(wsi)) {
            LOG_WARN("console", "socket from another origin rejected");
            return -1;
        }
        if (console_authenticate(wsi, srv, &account, NULL) != 0) {
            LOG_INFO("console", "socket without a valid session rejected");
            return -1;
        }
        if (!store_role_allows(account.role, STORE_ACCESS_QUEUE)) {
            LOG_WARN("console", "account %lld (%s) may not use the queue",
                     account.id, store_role_name(account.role));
            return -1;
        }
        return 0;
    case LWS_CALLBACK_ESTABLISHED:
        return established(wsi, s, srv);
    case LWS_CALLBACK_RECEIVE:
        if (!s->ready)
            return -1;
        if (s->ended)
            return 0; /* closing: its session no longer allows actions */
        return receive(s, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return writeable(s);
    case LWS_CALLBACK_CLOSED:
        if (s->ready) {
            console_t *console = console_of(srv);
            unlink_socket(console, s);
            s->ready = 0;
            if (!has_console(console, s->account.id))
                lost_add(console, s->account.id, now_seconds());
            LOG_INFO("console", "advisor %lld disconnected", s->account.id);
            console->queue_dirty = 1;
            broadcast_changes(console);
        }
        srv_queue_clear(&s->out);
        free(s->rx);
        s->rx = NULL;
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

/* ---- hooks of the server ---- */

int srv_console_effect(srv_t *srv, const char *conversation,
                       const json_t *effect, long long now)
{
    console_t *console = console_of(srv);
    store_t *store = srv_store(srv);
    const char *type = json_string_value(json_object_get(effect, "type"));

    if (!console || !type)
        return 0;
    ensure_timer(console);
    if (strcmp(type, "escalate") == 0) {
        /* Outside office hours or with nobody online the bot keeps the
         * conversation and offers a callback, so it is not queued. */
        if (json_is_false(json_object_get(effect, "live")))
            return 0;
        int rc = store_queue_add(
            store, conversation,
            json_string_value(json_object_get(effect, "reason")),
            json_string_value(json_object_get(effect, "detail")),
            json_object_get(effect, "slots"), now);
        if (rc < 0)
            return -1;
        console->queue_dirty = 1;
    } else if (strcmp(type, "callback") == 0) {
        if (store_callback_add(store, conversation, effect, now) < 0)
            return -1;
        LOG_INFO("console", "conversation %s: callback request stored",
                 conversation);
        console->lists_dirty = 1;
    } else if (strcmp(type, "partner") == 0) {
        if (handoff_outbox_enqueue(store, conversation, effect, now * 1000) < 0)
            return -1;
        console->outbox_dirty = 1;
    }
    return 0;
}

static int send_following(const json_t *message, void *arg)
{
    message_sink_t *sink = arg;
    return collect_message(message, sink);
}

void srv_console_conversation_changed(srv_t *srv, const char *conversation,
                                      long long last_seq, const char *mode,
                                      int queue_changed)
{
    console_t *console = console_of(srv);
    store_conversation_t loaded;
    int loaded_ok = 0;

    (void)mode;
    if (!console)
        return;
    for (console_socket_t *s = console->sockets; s; s = s->next) {
        if (!s->ready || strcmp(s->following, conversation) != 0 ||
            s->following_seq >= last_seq)
            continue;
        if (!loaded_ok) {
            if (store_conversation_by_id(srv_store(srv), conversation,
                                         &loaded) != 0)
                break;
            loaded_ok = 1;
        }
        message_sink_t sink = {s, NULL};
        store_messages_after(srv_store(srv), loaded.row, s->following_seq,
                             send_following, &sink);
    }
    if (loaded_ok)
        store_conversation_clear(&loaded);
    if (queue_changed)
        console->queue_dirty = 1;
    broadcast_changes(console);
}

int srv_console_advisors_online(srv_t *srv)
{
    console_t *console = console_of(srv);
    int count = 0;

    if (!console)
        return 0;
    for (console_socket_t *s = console->sockets; s; s = s->next) {
        int counted = 0;
        if (!s->ready || s->presence != HANDOFF_ONLINE)
            continue;
        for (console_socket_t *t = console->sockets; t != s; t = t->next)
            if (t->ready && t->presence == HANDOFF_ONLINE &&
                t->account.id == s->account.id)
                counted = 1;
        count += !counted;
    }
    return count;
}

/* ---- timers: requeue and timeouts ---- */

/* Applies the queue rules to every waiting or taken conversation. */
static void check_queue(console_t *console)
{
    srv_t *srv = console->srv;
    store_t *store = srv_store(srv);
    const cfg_t *cfg = srv_config(srv);
    long long now = now_seconds();
    store_queue_row_t *rows = NULL;
    size_t count = 0;
    int changed = 0;

    if (store_queue_rows(store, &rows, &count) != 0)
        return;
    for (size_t i = 0; i < count; i++) {
        handoff_item_t item = {.advisor_id = rows[i].advisor_id,
                               .queued_at = rows[i].queued_at,
                               .taken_at = rows[i].taken_at,
                               .answered_at = rows[i].answered_at,
                               .timeout_sent = rows[i].timeout_sent};
        if (handoff_state_parse(rows[i].state, &item.state) != 0)
            continue;
        handoff_check_t action =
            handoff_check(&item, holder_presence(console, item.advisor_id, now),
                          cfg->advisor_answer_seconds, now);
        if (action == HANDOFF_KEEP || srv_transaction_begin(srv) != 0)
            continue;
        if (action == HANDOFF_NOTIFY_TIMEOUT) {
            eng_event_t event = {.kind = ENG_EV_ADVISOR_TIMEOUT};
            store_queue_timeout_sent(store, rows[i].conversation);
            srv_conversation_event(srv, rows[i].conversation, &event);
            LOG_INFO("console", "conversation %s: no advisor answered in %d s",
                     rows[i].conversation, cfg->advisor_answer_seconds);
        } else {
            /* The engine leaves "advisor" mode and tells the visitor that
             * it waits again, or offers a callback when nobody else is
             * available. That message counts as the visitor's timeout
             * notice, so the waiting row gets no second one. */
            /* The event names the advisor who had taken it, so that the
             * visitor's message names who left. */
            eng_event_t event = {.kind = ENG_EV_ADVISOR_TIMEOUT,
                                 .advisor_name = rows[i].advisor_name[0]
                                                     ? rows[i].advisor_name
                                                     : NULL};
            store_queue_requeue(store, rows[i].conversation);
            store_queue_timeout_sent(store, rows[i].conversation);
            srv_conversation_event(srv, rows[i].conversation, &event);
            store_audit_add(store, item.advisor_id,
                            action == HANDOFF_REQUEUE_OFFLINE
                                ? "requeue_offline"
                                : "requeue_silent",
                            rows[i].conversation, now);
            LOG_INFO("console",
                     "conversation %s back in the queue: advisor "
                     "%lld %s",
                     rows[i].conversation, item.advisor_id,
                     action == HANDOFF_REQUEUE_OFFLINE ? "went offline"
                                                       : "did not answer");
        }
        changed = 1;
    }
    free(rows);
    if (changed) {
        srv_flush(srv);
        console->queue_dirty = 1;
    }
}

/* Seconds between two checks of the console sockets' sessions. */
#define SESSION_CHECK_SECONDS 5

/* Checks the session of every console socket again. A socket whose
 * session ended (logout, removed account, expiry) or whose role lost the
 * queue gets a session_ended frame and is closed. A changed display name
 * or role is copied, so that the next takeover shows the new name. */
static void check_sessions(console_t *console)
{
    store_t *store = srv_store(console->srv);
    long long now = now_seconds();

    for (console_socket_t *s = console->sockets; s; s = s->next) {
        store_account_t account;
        int rc;

        if (!s->ready || s->ended)
            continue;
        rc = store_session_lookup(store, s->token, now, &account);
        if (rc < 0)
            continue; /* a database error is no reason to log out */
        if (rc == 0 && store_role_allows(account.role, STORE_ACCESS_QUEUE)) {
            if (strcmp(account.display_name, s->account.display_name) != 0 ||
                account.role != s->account.role) {
                s->account = account;
                console->queue_dirty = 1;
            }
            continue;
        }
        LOG_INFO("console", "advisor %lld: session ended, socket closed",
                 s->account.id);
        send_new(s, json_pack("{s:s,s:s,s:s}", "type", "error", "code",
                              "session_ended", "message",
                              "Uw sessie is afgelopen. Meld u opnieuw aan."));
        s->ended = 1;
    }
}

static void on_timer(lws_sorted_usec_list_t *sul)
{
    console_t *console = lws_container_of(sul, console_t, timer);

    if (++console->ticks % SESSION_CHECK_SECONDS == 0)
        check_sessions(console);
    check_queue(console);
    if (atomic_exchange(&console->outbox_changed, 0))
        console->lists_dirty = 1;
    broadcast_changes(console);
    lws_sul_schedule(console->srv->context, 0, &console->timer, on_timer,
                     LWS_US_PER_SEC);
}

/* Starts the one-second timer once the event loop exists. */
static void ensure_timer(console_t *console)
{
    if (console->timer_running || !console->srv->context)
        return;
    console->timer_running = 1;
    lws_sul_schedule(console->srv->context, 0, &console->timer, on_timer,
                     LWS_US_PER_SEC);
}

/* Wakes the event loop from the outbox thread after a delivery or a
 * failure, so that the console's list of failed requests is refreshed. */
static void outbox_changed(void *arg)
{
    console_t *console = arg;

    atomic_store(&console->outbox_changed, 1);
}

int srv_console_start(srv_t *srv)
{
    const cfg_t *cfg = srv_config(srv);
    console_t *console = calloc(1, sizeof *console);
    handoff_outbox_options_t options = {
        .db_path = cfg->db_path,
        .partners = cfg->partners,
        .max_attempts = cfg->outbox_max_attempts,
        .backoff_ms = (long long)cfg->outbox_backoff_seconds * 1000,
        .timeout_ms = 10000,
        .on_change = outbox_changed,
    };
    char err[512] = "";

    if (!console) {
        LOG_ERROR("console", "out of memory starting the console");
        return -1;
    }
    console->srv = srv;
    options.on_change_arg = console;
    console->outbox = handoff_outbox_start(&options, err, sizeof err);
    if (!console->outbox) {
        LOG_ERROR("console", "partner outbox: %s", err);
        free(console);
        return -1;
    }
    store_session_purge(srv_store(srv), now_seconds());
    srv_set_console_data(srv, console);
    return 0;
}

void srv_console_stop(srv_t *srv)
{
    console_t *console = console_of(srv);

    if (!console)
        return;
    if (console->timer_running && srv->context)
        lws_sul_cancel(&console->timer);
    handoff_outbox_stop(console->outbox);
    srv_set_console_data(srv, NULL);
    free(console->lost);
    free(console);
}
