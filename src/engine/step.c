/* eng_step(): modes, understanding of the visitor's text, slot filling,
 * corrections, digressions, clarifying questions and node transitions.
 * Pure: everything it reads comes from the content, the state and the
 * event, and everything it produces goes into the output. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "nlu/text.h"

/* ---- small state helpers ---- */

const char *eng_state_str(const json_t *state, const char *key)
{
    return json_string_value(json_object_get(state, key));
}

const char *eng_state_mode(const json_t *state)
{
    const char *mode = eng_state_str(state, "mode");
    return mode ? mode : "bot";
}

static long long state_int(const json_t *state, const char *key)
{
    return json_integer_value(json_object_get(state, key));
}

/* Allocates a fresh version-1 state. */
static json_t *new_state(long long now)
{
    return json_pack("{s:i, s:s, s:n, s:{}, s:i, s:[], s:[], s:i, s:i, s:I, "
                     "s:b, s:[]}",
                     "v", ENG_STATE_VERSION, "mode", "bot", "node", "slots",
                     "unsure", 0, "stack", "shown", "turn", 0, "variant", 0,
                     "started", (json_int_t)now, "consent", 0, "offered");
}

void eng_say(eng_turn_t *t, const char *from, const char *text,
             json_t *quick_replies, json_t *cards)
{
    json_t *msg = json_pack("{s:s, s:s}", "from", from, "text", text);
    if (!msg) {
        json_decref(quick_replies);
        json_decref(cards);
        return;
    }
    if (quick_replies && json_array_size(quick_replies) > 0) {
        json_object_set(msg, "quick_replies", quick_replies);
        json_object_set(t->state, "offered", quick_replies);
    }
    json_decref(quick_replies);
    if (cards)
        json_object_set_new(msg, "cards", cards);
    json_array_append_new(t->messages, msg);
}

/* Says a text of the script by key, with placeholders expanded. */
void eng_say_key(eng_turn_t *t, const char *key)
{
    json_t *prompt = json_object_get(t->script->texts, key);
    const char *text = eng_pick_variant(t, prompt);
    char *expanded = eng_expand(t, text ? text : "");
    eng_say(t, "bot", expanded ? expanded : "", NULL, NULL);
    free(expanded);
}

void eng_effect_status(eng_turn_t *t, const char *mode)
{
    json_object_set_new(t->state, "mode", json_string(mode));
    json_array_append_new(
        t->effects, json_pack("{s:s, s:s}", "type", "status", "state", mode));
}

static void effect_unanswered(eng_turn_t *t)
{
    if (t->event->text)
        json_array_append_new(t->effects,
                              json_pack("{s:s, s:s}", "type", "unanswered",
                                        "text", t->event->text));
}

/* ---- nodes ---- */

static const json_t *node_get(eng_turn_t *t, const char *id)
{
    return id ? json_object_get(t->script->nodes, id) : NULL;
}

static int node_waits(const json_t *node)
{
    return json_object_get(node, "slot") || json_object_get(node, "capture") ||
           json_object_get(node, "on") ||
           json_is_true(json_object_get(node, "wait"));
}

/* The first {when, goto} entry whose condition holds, or NULL. */
static const char *first_match(eng_turn_t *t, const json_t *list)
{
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        if (eng_condition(t, json_object_get(item, "when")))
            return json_string_value(json_object_get(item, "goto"));
    }
    return NULL;
}

/* Returns the 64-bit FNV-1a hash of `text`. */
static json_int_t text_hash(const char *text)
{
    unsigned long long hash = 14695981039346656037ULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        hash ^= *p;
        hash *= 1099511628211ULL;
    }
    return (json_int_t)(hash >> 1);
}

/* Sends the node's prompt with its quick replies. A node with "again_say"
 * sends that shorter prompt when its full prompt would repeat its last
 * prompt word for word, with no other node's prompt in between. So an
 * unchanged summary is not sent again while it is the last question. */
static void say_node_prompt(eng_turn_t *t, const char *node_id,
                            const json_t *node)
{
    json_t *prompt = json_object_get(node, "say");
    if (!prompt)
        return;
    char *text = eng_expand(t, eng_pick_variant(t, prompt));
    json_t *qr = json_object_get(node, "quick_replies");
    const json_t *again = json_object_get(node, "again_say");
    if (!again)
        json_object_del(t->state, "prompted");
    if (again && text) {
        json_t *last = json_object_get(t->state, "prompted");
        const char *last_node =
            json_string_value(json_object_get(last, "node"));
        json_int_t hash = text_hash(text);
        int repeats = last_node && !strcmp(last_node, node_id) &&
                      json_integer_value(json_object_get(last, "hash")) == hash;
        json_object_set_new(
            t->state, "prompted",
            json_pack("{s:s, s:I}", "node", node_id, "hash", hash));
        if (repeats) {
            free(text);
            text = eng_expand(t, eng_pick_variant(t, again));
        }
    }
    eng_say(t, "bot", text ? text : "", qr ? json_deep_copy(qr) : NULL, NULL);
    free(text);
}

static int is_consent_node(const json_t *node)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(node, "actions"), i, a)
    {
        const char *name = json_string_value(json_object_get(a, "do"));
        if (name && !strcmp(name, "ask_consent"))
            return 1;
    }
    return 0;
}

/* Says a text of the script that acknowledges an answer. Its variants are
 * used in turn, counted per text key, and a text with one variant is left
 * out when it was said in this turn or the one before. */
static void say_acknowledgement(eng_turn_t *t, const char *key)
{
    json_t *prompt = json_object_get(t->script->texts, key);
    size_t variants = json_is_array(prompt) ? json_array_size(prompt) : 1;
    json_t *said = json_object_get(t->state, "acks");
    if (!json_is_object(said)) {
        said = json_object();
        json_object_set_new(t->state, "acks", said);
    }
    json_t *last = json_object_get(said, key);
    long long count = json_integer_value(json_object_get(last, "count"));
    long long turn = state_int(t->state, "turn");
    long long last_turn = json_integer_value(json_object_get(last, "turn"));
    if (variants == 1 && count > 0 && turn - last_turn <= 1)
        return;
    const char *text = json_is_array(prompt)
                           ? json_string_value(json_array_get(
                                 prompt, (size_t)count % variants))
                           : json_string_value(prompt);
    char *expanded = eng_expand(t, text ? text : "");
    eng_say(t, "bot", expanded ? expanded : "", NULL, NULL);
    free(expanded);
    json_object_set_new(said, key,
                        json_pack("{s:I, s:I}", "count", (json_int_t)count + 1,
                                  "turn", (json_int_t)turn));
}

/* Returns 1 when entering `node_id` asks the visitor's question again in
 * this turn: a slot question whose slot is still missing, or the consent
 * question. Resuming after a digression does not count. */
static int is_repeat(eng_turn_t *t, const char *node_id, const json_t *node)
{
    if (t->event->kind != ENG_EV_VISITOR_TEXT || t->resumed || t->retried ||
        strcmp(t->asked, node_id) != 0)
        return 0;
    const char *slot = json_string_value(json_object_get(node, "slot"));
    if (slot)
        return !json_object_get(json_object_get(t->state, "slots"), slot);
    return is_consent_node(node);
}

/* Lists the labels of the slots filled in this turn other than `except`
 * in the state's "_noted" ("doelgroep lager onderwijs, ..."), for the
 * slots_noted text. Returns 1 when there are any. */
static int note_filled(eng_turn_t *t, const char *except)
{
    char noted[512] = "";
    size_t used = 0;
    const char *name;
    json_t *value;
    json_object_foreach(t->filled, name, value)
    {
        char buffer[256];
        const char *label = eng_slot_label(t, name, buffer, sizeof buffer);
        const char *slot_label = json_string_value(
            json_object_get(json_object_get(t->script->slots, name), "label"));
        if (!label || (except && !strcmp(name, except)))
            continue;
        used += (size_t)snprintf(noted + used, sizeof noted - used, "%s%s %s",
                                 used ? ", " : "", or_empty(slot_label), label);
        if (used >= sizeof noted)
            break;
    }
    if (!noted[0])
        return 0;
    json_object_set_new(t->state, "_noted", json_string(noted));
    return 1;
}

/* Asks the visitor's question again: first with the node's "retry" prompt
 * (a hint) and its quick replies, and after escalate_after_unsure failed
 * answers not again. Then a slot is marked unknown and the node's next
 * follows, and the consent question ends without consent. Returns the
 * node to go to, or NULL when the question was asked. */
static const char *ask_again(eng_turn_t *t, const json_t *node)
{
    const char *id = eng_state_str(t->state, "node");
    json_t *retry = json_object_get(t->state, "retry");
    const char *retry_node = json_string_value(json_object_get(retry, "node"));
    long long count = retry_node && !strcmp(retry_node, id)
                          ? json_integer_value(json_object_get(retry, "count"))
                          : 0;
    const char *slot = json_string_value(json_object_get(node, "slot"));
    /* An answer that gave other details ("leerlingen 3e graad bso" to the
     * goal question) is no failed answer: the question is asked again
     * without counting it, and every such turn changes a slot. */
    int gave_other = slot && json_object_size(t->filled) > 0 &&
                     !json_object_get(t->filled, slot);
    if (!gave_other)
        count++;
    t->retried = 1;

    /* The consent question is asked again as long as the visitor neither
     * agrees nor declines: only an explicit no withdraws it. */
    if (slot && count >= t->script->escalate_after_unsure) {
        json_object_del(t->state, "retry");
        json_object_set_new(json_object_get(t->state, "slots"), slot,
                            json_pack("{s:b}", "unknown", 1));
        say_acknowledgement(t, "slot_skipped");
        json_t *next = json_object_get(node, "next");
        return json_is_string(next) ? json_string_value(next)
                                    : first_match(t, next);
    }
    json_object_set_new(
        t->state, "retry",
        json_pack("{s:s, s:I}", "node", id, "count", (json_int_t)count));
    if (t->unclear)
        eng_say_key(t, "fallback");
    if (note_filled(t, slot)) {
        eng_say_key(t, "slots_noted");
        json_object_del(t->state, "_noted");
    }
    json_t *prompt = json_object_get(node, "retry");
    if (!prompt)
        prompt = json_object_get(node, "say");
    char *text = eng_expand(t, eng_pick_variant(t, prompt));
    json_t *qr = json_object_get(node, "quick_replies");
    eng_say(t, "bot", text ? text : "", qr ? json_deep_copy(qr) : NULL, NULL);
    free(text);
    return NULL;
}

/* Returns 1 when the state contains the detail that the capture node requests:
 * a name, or an e-mail address or phone number. */
static int capture_known(eng_turn_t *t, const json_t *node)
{
    const char *capture = json_string_value(json_object_get(node, "capture"));
    json_t *contact = json_object_get(t->state, "contact");
    if (!capture || !contact)
        return 0;
    if (!strcmp(capture, "name"))
        return json_object_get(contact, "name") != NULL;
    return json_object_get(contact, "email") ||
           json_object_get(contact, "phone");
}

/* Pops the digression stack; returns the node to resume (borrowed from the
 * script) or NULL when the stack is empty. */
static const char *pop_return(eng_turn_t *t)
{
    json_t *stack = json_object_get(t->state, "stack");
    size_t n = json_array_size(stack);
    if (n == 0)
        return NULL;
    const char *id = json_string_value(json_array_get(stack, n - 1));
    const char *kept = NULL;
    if (id) {
        /* Keep a pointer into the script, which outlives the state. */
        void *iter = json_object_iter_at(t->script->nodes, id);
        kept = iter ? json_object_iter_key(iter) : NULL;
    }
    json_array_remove(stack, n - 1);
    return kept;
}

/* The value of a slot, or NULL when it is missing or unknown. */
static const char *slot_value_of(eng_turn_t *t, const char *slot)
{
    return json_string_value(json_object_get(
        json_object_get(json_object_get(t->state, "slots"), slot), "value"));
}

/* Returns the length of `keyword` when the folded text contains it at the
 * start of a word, followed by at most two more letters ("stages" contains
 * "stage"), and 0 otherwise. */
static size_t keyword_hit(const char *folded, const char *keyword)
{
    char want[256];
    nlu_fold(keyword, strlen(keyword), want, sizeof want);
    size_t n = strlen(want);
    if (n == 0)
        return 0;
    for (const char *p = strstr(folded, want); p; p = strstr(p + 1, want)) {
        if (p != folded && isalnum((unsigned char)p[-1]))
            continue;
        size_t extra = 0;
        while (isalpha((unsigned char)p[n + extra]))
            extra++;
        if (extra <= 2)
            return n;
    }
    return 0;
}

/* The entry of `type` whose keywords the folded text names most (by the
 * length of the keywords found), or NULL. */
static const char *entry_by_keywords(eng_turn_t *t, const char *type,
                                     const char *folded)
{
    enum { MAX_ENTRIES = 64 };
    const json_t *entries[MAX_ENTRIES];
    size_t count = kb_list_type(t->content->kb, type, entries, MAX_ENTRIES);
    const char *best = NULL;
    size_t best_score = 0;
    for (size_t i = 0; i < count; i++) {
        size_t score = 0, j;
        json_t *keyword;
        json_array_foreach(json_object_get(entries[i], "keywords"), j, keyword)
        {
            score += keyword_hit(folded, or_empty(json_string_value(keyword)));
        }
        if (score > best_score) {
            best_score = score;
            best = json_string_value(json_object_get(entries[i], "id"));
        }
    }
    return best;
}

/* Returns 1 when `entry` lists no levels, or one that covers the level
 * slot, or when that slot has no value. */
static int fits_level(eng_turn_t *t, const json_t *entry)
{
    const char *level = slot_value_of(t, "level");
    const json_t *levels = json_object_get(entry, "levels");
    if (!level || json_array_size(levels) == 0)
        return 1;
    size_t i;
    json_t *item;
    json_array_foreach(levels, i, item)
    {
        const char *value = or_empty(json_string_value(item));
        if (!strcmp(value, level) ||
            kb_facet_broader(t->content->kb, "level", value, level))
            return 1;
    }
    return 0;
}

/* The first entry of `type` for the visitor's level that lists the entry
 * `id` as related, or NULL. */
static const char *entry_related_to(eng_turn_t *t, const char *type,
                                    const char *id)
{
    enum { MAX_ENTRIES = 64 };
    const json_t *entries[MAX_ENTRIES];
    size_t count = kb_list_type(t->content->kb, type, entries, MAX_ENTRIES);
    for (size_t i = 0; id && i < count; i++) {
        size_t j;
        json_t *related;
        if (!fits_level(t, entries[i]))
            continue;
        json_array_foreach(json_object_get(entries[i], "related"), j, related)
        {
            if (!strcmp(or_empty(json_string_value(related)), id))
                return json_string_value(json_object_get(entries[i], "id"));
        }
    }
    return NULL;
}

/* Stores in the state's "entry" the kb entry of `type` ("practice") whose
 * keywords the visitor's text names. When the text names none, it takes
 * the first entry related to the initiative last discussed or to a card
 * shown, in the order shown, and else the entry that fits the goal and
 * level slots best. */
static void pick_entry(eng_turn_t *t, const char *type)
{
    if (!t->content->kb || !type)
        return;
    const char *text = t->event->text ? t->event->text : "";
    char folded[1024];
    nlu_fold(text, strlen(text), folded, sizeof folded);
    const char *id = entry_by_keywords(t, type, folded);
    const char *last = eng_state_str(t->state, "entry");
    const json_t *entry = last ? kb_entry(t->content->kb, last) : NULL;
    if (!id && entry &&
        !strcmp(or_empty(json_string_value(json_object_get(entry, "type"))),
                "initiative"))
        id = entry_related_to(t, type, last);
    size_t i;
    json_t *shown;
    json_array_foreach(json_object_get(t->state, "shown"), i, shown)
    {
        if (!id)
            id = entry_related_to(t, type, json_string_value(shown));
    }
    if (id) {
        json_object_set_new(t->state, "entry", json_string(id));
        return;
    }
    kb_filter_t filter = {.type = type,
                          .goal = slot_value_of(t, "goal"),
                          .level = slot_value_of(t, "level")};
    kb_hit_t hit;
    size_t count = 0;
    if (kb_search(t->content->kb, "", &filter, &hit, 1, &count) != 0)
        count = 0;
    if (count == 0) {
        filter.goal = filter.level = NULL;
        if (kb_search(t->content->kb, "", &filter, &hit, 1, &count) != 0)
            count = 0;
    }
    if (count > 0)
        json_object_set_new(t->state, "entry", json_string(hit.id));
}

void eng_enter(eng_turn_t *t, const char *node_id)
{
    const char *resuming = NULL;
    while (node_id && t->steps++ < ENG_MAX_TRANSITIONS) {
        if (!strcmp(node_id, "return")) {
            t->resumed = 1;
            node_id = pop_return(t);
            if (!node_id) {
                json_object_set_new(t->state, "node", json_null());
                return;
            }
            resuming = node_id;
            continue;
        }
        const json_t *node = node_get(t, node_id);
        if (!node)
            return;

        /* Contact details are only ever asked after explicit consent. */
        if (json_object_get(node, "capture") &&
            !json_is_true(json_object_get(t->state, "consent"))) {
            node_id = t->script->no_consent_node;
            continue;
        }
        /* A detail the visitor gave already is not asked again: an
         * e-mail address typed at the consent question. */
        if (capture_known(t, node)) {
            json_t *next = json_object_get(node, "next");
            node_id = json_is_string(next) ? json_string_value(next)
                                           : first_match(t, next);
            continue;
        }
        /* A summary the visitor confirmed is not asked again while no
         * slot changed: its "confirmed" node follows at once.
         * NOTE: a search question for something the kb lacks ("een girls
         * day?") thus gets the same results again, not a plain "unknown". */
        json_t *slots = json_object_get(t->state, "slots");
        const char *confirmed =
            json_string_value(json_object_get(node, "confirmed"));
        if (confirmed &&
            json_equal(json_object_get(t->state, "confirmed_slots"), slots)) {
            node_id = confirmed;
            continue;
        }
        const char *from = eng_state_str(t->state, "node");
        const char *from_confirmed =
            json_string_value(json_object_get(node_get(t, from), "confirmed"));
        if (from_confirmed && !strcmp(from_confirmed, node_id))
            json_object_set_new(t->state, "confirmed_slots",
                                json_deep_copy(slots));
        int repeat = is_repeat(t, node_id, node);
        json_object_set_new(t->state, "node", json_string(node_id));
        json_object_del(t->state, "offered");

        /* A node resumed after a digression only asks its question
         * again: its actions (a search, a description) already ran. */
        int resumed_here = resuming && !strcmp(resuming, node_id);
        resuming = NULL;
        const char *jump = NULL;
        size_t i;
        json_t *action;
        if (!resumed_here && json_object_get(node, "pick_entry"))
            pick_entry(t,
                       json_string_value(json_object_get(node, "pick_entry")));
        if (!resumed_here)
            json_array_foreach(json_object_get(node, "actions"), i, action)
            {
                jump = eng_run_action(t, action);
                if (jump)
                    break;
            }
        if (jump) {
            node_id = jump;
            continue;
        }
        /* An action asked the visitor a question ("which initiative?"):
         * the answer comes first. */
        if (t->halt)
            return;
        if (repeat) {
            const char *moved = ask_again(t, node);
            if (moved) {
                node_id = moved;
                continue;
            }
        } else {
            if (json_object_get(node, "slot"))
                json_object_del(t->state, "retry");
            /* A node resumed after a digression may have a shorter
             * prompt: the welcome is not repeated. */
            const json_t *resume_say = json_object_get(node, "resume_say");
            if (resumed_here && resume_say) {
                json_t *resumed = json_copy((json_t *)node);
                json_object_set(resumed, "say", (json_t *)resume_say);
                say_node_prompt(t, node_id, resumed);
                json_decref(resumed);
            } else {
                say_node_prompt(t, node_id, node);
            }
        }
        if (node_waits(node))
            return;

        json_t *next = json_object_get(node, "next");
        if (json_is_string(next))
            node_id = json_string_value(next);
        else
            node_id = first_match(t, next);
        if (!node_id && !json_is_true(json_object_get(node, "wait")))
            json_object_set_new(t->state, "node", json_null());
    }
}

/* Enters `target`; a digression remembers the node that waited so that
 * "next": "return" resumes it. */
static void go_to(eng_turn_t *t, const char *target)
{
    const json_t *node = node_get(t, target);
    const char *current = eng_state_str(t->state, "node");
    const json_t *waiting = node_get(t, current);
    if (json_is_true(json_object_get(node, "digression")) && current &&
        strcmp(current, target) != 0 &&
        !json_is_true(json_object_get(waiting, "digression"))) {
        json_t *stack = json_object_get(t->state, "stack");
        /* A node with "resume": false (an offer the visitor passed by) is
         * left behind. */
        if (json_is_false(json_object_get(waiting, "resume"))) {
            json_array_clear(stack);
            eng_enter(t, target);
            return;
        }
        /* One level is enough: a second digression replaces the first. */
        json_array_clear(stack);
        json_array_append_new(stack, json_string(current));
    }
    eng_enter(t, target);
}

/* ---- understanding the text ---- */

static const char *kind_name(nlu_entity_kind_t kind)
{
    switch (kind) {
    case NLU_ENT_REGION:
        return "region";
    case NLU_ENT_LEVEL:
        return "level";
    case NLU_ENT_TIME:
        return "time";
    case NLU_ENT_SIZE:
        return "size";
    case NLU_ENT_SECTOR:
        return "sector";
    case NLU_ENT_GOAL:
        return "goal";
    default:
        return NULL;
    }
}

/* The slot filled by an entity kind, or NULL. */
static const char *slot_for_kind(eng_turn_t *t, const char *kind)
{
    const char *name;
    json_t *slot;
    json_object_foreach(t->script->slots, name, slot)
    {
        const char *entity = json_string_value(json_object_get(slot, "entity"));
        if (entity && !strcmp(entity, kind))
            return name;
    }
    return NULL;
}

/* Marks the slot unknown when `value` is the slot's "unlisted" value (a
 * sector outside the desk's list), so that the search leaves the slot out.
 * Then outputs the slot's "say" text. Returns 1 when it is that value. */
static int apply_unlisted(eng_turn_t *t, const char *slot, const char *value,
                          const char *source)
{
    json_t *unlisted =
        json_object_get(json_object_get(t->script->slots, slot), "unlisted");
    const char *listed = json_string_value(json_object_get(unlisted, "value"));
    if (!listed || strcmp(listed, value) != 0)
        return 0;
    json_t *slots = json_object_get(t->state, "slots");
    json_t *old = json_object_get(slots, slot);
    if (json_is_true(json_object_get(old, "unknown")) &&
        json_object_get(old, "unlisted"))
        return 1;
    if (json_object_get(old, "value"))
        json_array_append_new(t->changed, json_string(slot));
    json_object_set_new(slots, slot,
                        json_pack("{s:b, s:b, s:s}", "unknown", 1, "unlisted",
                                  1, "text", source));
    json_object_set_new(t->filled, slot, json_true());
    t->filled_any = 1;
    char *said = eng_expand(
        t, or_empty(json_string_value(json_object_get(unlisted, "say"))));
    eng_say(t, "bot", said ? said : "", NULL, NULL);
    free(said);
    return 1;
}

/* Stores a slot value with the text it came from; records a change of an
 * earlier value as a correction. */
static void set_slot(eng_turn_t *t, const char *slot, const char *value,
                     double number, int has_number, const char *source)
{
    if (apply_unlisted(t, slot, value, source ? source : ""))
        return;
    json_t *slots = json_object_get(t->state, "slots");
    json_t *old = json_object_get(slots, slot);
    const char *old_value = json_string_value(json_object_get(old, "value"));
    if (old_value && !strcmp(old_value, value)) {
        size_t i;
        json_t *name;
        json_array_foreach(t->same, i, name)
        {
            if (!strcmp(json_string_value(name), slot))
                return;
        }
        json_array_append_new(t->same, json_string(slot));
        return;
    }
    if (old_value || json_is_true(json_object_get(old, "unknown")))
        json_array_append_new(t->changed, json_string(slot));
    json_object_set_new(t->filled, slot, json_true());
    json_t *entry =
        json_pack("{s:s, s:s}", "value", value, "text", source ? source : "");
    if (entry && has_number)
        json_object_set_new(entry, "number", json_real(number));
    json_object_set_new(slots, slot, entry);
    t->filled_any = 1;
}

/* Copies the words of `text` that entity `e` came from into `out`, or ""
 * when they do not fit. */
static void entity_text(const char *text, const nlu_entity_t *e, char *out,
                        size_t size)
{
    size_t len = e->end > e->start ? e->end - e->start : 0;
    out[0] = '\0';
    if (e->end <= strlen(text) && len < size) {
        memcpy(out, text + e->start, len);
        out[len] = '\0';
    }
}

/* Returns 1 when another entity of the same kind names a narrower value
 * than `e` ("3de graad" beside "secundair"). */
static int narrower_named(const eng_turn_t *t, const nlu_entity_t *e)
{
    const char *facet = kind_name(e->kind);
    for (size_t i = 0; i < t->nlu.entity_count; i++) {
        const nlu_entity_t *other = &t->nlu.entities[i];
        if (other != e && other->kind == e->kind &&
            kb_facet_broader(t->content->kb, facet, e->value, other->value))
            return 1;
    }
    return 0;
}

const char *eng_find_words(const char *folded, const char *phrase, size_t *len)
{
    char want[256];
    nlu_fold(phrase, strlen(phrase), want, sizeof want);
    size_t n = strlen(want);
    if (n == 0)
        return NULL;
    for (const char *p = strstr(folded, want); p; p = strstr(p + 1, want)) {
        int starts = p == folded || !isalnum((unsigned char)p[-1]);
        int ends = !isalnum((unsigned char)p[n]);
        if (starts && ends) {
            *len = n;
            return p;
        }
    }
    return NULL;
}

int eng_has_words(const char *folded, const char *phrase)
{
    size_t len;
    return eng_find_words(folded, phrase, &len) != NULL;
}

static void apply_entities(eng_turn_t *t, const char *text)
{
    int seen[NLU_ENT_KIND_COUNT] = {0};
    for (size_t i = 0; i < t->nlu.entity_count; i++) {
        const nlu_entity_t *e = &t->nlu.entities[i];
        const char *kind = kind_name(e->kind);
        /* The first mention of a kind wins, unless a later one is more
         * precise. */
        if (!kind || seen[e->kind] || narrower_named(t, e))
            continue;
        seen[e->kind] = 1;
        const char *slot = slot_for_kind(t, kind);
        if (!slot)
            continue;
        char source[160];
        entity_text(text, e, source, sizeof source);
        if (e->kind == NLU_ENT_TIME) {
            char value[32];
            snprintf(value, sizeof value, "%g", e->number);
            set_slot(t, slot, value, e->number, 1, source);
        } else if (e->value[0]) {
            set_slot(t, slot, e->value, e->number,
                     e->kind == NLU_ENT_SIZE && e->number > 0, source);
        }
    }
}

/* Reads the first plain number in the message as the answer to a node with
 * "number_as", unless the message filled the node's slot already: "120"
 * at the size question is 120 employees. The first range whose "below"
 * exceeds the number gives the value, and a range without "below" takes
 * any number. */
static void apply_number_as(eng_turn_t *t, const json_t *node, const char *text)
{
    const char *slot = json_string_value(json_object_get(node, "slot"));
    const json_t *ranges = json_object_get(node, "number_as");
    if (!slot || !ranges || json_object_get(t->filled, slot))
        return;
    const nlu_entity_t *number = NULL;
    for (size_t i = 0; i < t->nlu.entity_count && !number; i++)
        if (t->nlu.entities[i].kind == NLU_ENT_NUMBER)
            number = &t->nlu.entities[i];
    if (!number)
        return;
    size_t i;
    json_t *range;
    json_array_foreach(ranges, i, range)
    {
        const json_t *below = json_object_get(range, "below");
        const char *value = json_string_value(json_object_get(range, "value"));
        if (!value || (below && number->number >= json_number_value(below)))
            continue;
        char source[160];
        entity_text(text, number, source, sizeof source);
        set_slot(t, slot, value, number->number, 1, source);
        t->intent = "answer_slot";
        t->score = 1.0;
        return;
    }
}

/* Writes the folded words of `text` separated by one space. */
static void normalize(const char *text, char *out, size_t size)
{
    enum { MAX_WORDS = 16 };
    nlu_token_t tokens[MAX_WORDS];
    size_t n = nlu_tokenize_array(text, strlen(text), tokens, MAX_WORDS);
    size_t used = 0;
    out[0] = '\0';
    if (n > MAX_WORDS)
        return; /* longer than any phrase it is compared with */
    for (size_t i = 0; i < n && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? " " : "",
                                 tokens[i].folded);
}

/* Returns 1 when the whole text is one of the folded phrases in `list`. */
static int is_phrase_of(const char *text, const json_t *list)
{
    char folded[256], phrase[256];
    normalize(text, folded, sizeof folded);
    if (!folded[0])
        return 0;
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        normalize(or_empty(json_string_value(item)), phrase, sizeof phrase);
        if (!strcmp(folded, phrase))
            return 1;
    }
    return 0;
}

/* Returns 1 when the folded word `word` is one of the words of `list`,
 * folded in turn. */
static int word_listed(const json_t *list, const char *word)
{
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        const char *listed = or_empty(json_string_value(item));
        char folded[64];
        nlu_fold(listed, strlen(listed), folded, sizeof folded);
        if (!strcmp(folded, word))
            return 1;
    }
    return 0;
}

/* Returns 1 when every word of the folded text is one of the policy's
 * reference_filler_words ("info", "over", "aub"). */
static int only_fillers(eng_turn_t *t, const char *folded)
{
    enum { MAX_WORDS = 16 };
    nlu_token_t tokens[MAX_WORDS];
    size_t count =
        nlu_tokenize_array(folded, strlen(folded), tokens, MAX_WORDS);
    if (count > MAX_WORDS)
        return 0;
    const json_t *fillers =
        json_object_get(t->script->policy, "reference_filler_words");
    for (size_t i = 0; i < count; i++)
        if (!word_listed(fillers, tokens[i].folded))
            return 0;
    return 1;
}

/* Quick-reply values: "intent:NAME", "slot:NAME=VALUE", "ask:NAME".
 * Typing a label that was offered counts as clicking it. Returns 1 when
 * the text was a command. */
static int apply_command(eng_turn_t *t, const char *text, const char **ask)
{
    char folded[256];
    nlu_fold(text, strlen(text), folded, sizeof folded);
    size_t i;
    json_t *qr;
    json_array_foreach(json_object_get(t->state, "offered"), i, qr)
    {
        char label[256];
        const char *l = json_string_value(json_object_get(qr, "label"));
        nlu_fold(l ? l : "", strlen(l ? l : ""), label, sizeof label);
        if (!strcmp(label, folded)) {
            text = json_string_value(json_object_get(qr, "value"));
            break;
        }
    }
    /* Typed answers that count only at this question ("weinig" for the
     * time), as listed in the node's "answers". */
    json_t *answer;
    json_array_foreach(
        json_object_get(node_get(t, eng_state_str(t->state, "node")),
                        "answers"),
        i, answer)
    {
        if (is_phrase_of(text, json_object_get(answer, "text"))) {
            text = json_string_value(json_object_get(answer, "value"));
            break;
        }
    }
    if (!strncmp(text, "intent:", 7)) {
        void *iter = json_object_iter_at(t->script->intent_labels, text + 7);
        if (!iter)
            return 0;
        t->intent = json_object_iter_key(iter);
        t->score = 1.0;
        return 1;
    }
    if (!strncmp(text, "slot:", 5)) {
        const char *eq = strchr(text + 5, '=');
        char name[64];
        size_t n = eq ? (size_t)(eq - text - 5) : 0;
        if (!eq || n == 0 || n >= sizeof name)
            return 0;
        memcpy(name, text + 5, n);
        name[n] = '\0';
        if (!json_object_get(t->script->slots, name))
            return 0;
        set_slot(t, name, eq + 1, atof(eq + 1), 0, eq + 1);
        t->intent = "answer_slot";
        t->score = 1.0;
        return 1;
    }
    /* "route:3", "route:next": one step of the route; "checklist:all",
     * "checklist:1-7": items of the checklist. They ask what the
     * dos_donts and checklist intents ask, for one part. */
    if (!strncmp(text, "route:", 6)) {
        if (eng_parse_route_step(text + 6, &t->route_step) != 0)
            return 0;
        t->intent = "dos_donts";
        t->score = 1.0;
        return 1;
    }
    if (!strncmp(text, "checklist:", 10)) {
        if (eng_parse_checklist_part(text + 10, &t->checklist_first,
                                     &t->checklist_last) != 0)
            return 0;
        t->intent = "checklist";
        t->score = 1.0;
        return 1;
    }
    if (!strncmp(text, "ask:", 4)) {
        void *iter = json_object_iter_at(t->script->slots, text + 4);
        if (!iter)
            return 0;
        *ask = json_object_iter_key(iter);
        t->intent = "correction";
        t->score = 1.0;
        return 1;
    }
    return 0;
}

/* Reads a short answer made of one of the node's answer "words" and the
 * policy's answer_filler_words ("we zijn eerder klein") as the value of
 * that answer, unless the message filled the node's slot already. A
 * message with any other word ("niet zo groot"), or with the words of
 * two answers, is not read. */
static void apply_answer_words(eng_turn_t *t, const json_t *node,
                               const char *text)
{
    enum { MAX_WORDS = 16 };
    const char *slot = json_string_value(json_object_get(node, "slot"));
    const json_t *answers = json_object_get(node, "answers");
    if (!slot || !answers || json_object_get(t->filled, slot))
        return;
    nlu_token_t tokens[MAX_WORDS];
    size_t count = nlu_tokenize_array(text, strlen(text), tokens, MAX_WORDS);
    if (count == 0 || count > MAX_WORDS)
        return;
    const json_t *fillers =
        json_object_get(t->script->policy, "answer_filler_words");
    const char *value = NULL;
    for (size_t i = 0; i < count; i++) {
        const char *found = NULL;
        size_t j;
        json_t *answer;
        json_array_foreach(answers, j, answer)
        {
            if (word_listed(json_object_get(answer, "words"), tokens[i].folded))
                found = json_string_value(json_object_get(answer, "value"));
        }
        if (found && value && strcmp(found, value) != 0)
            return;
        if (found)
            value = found;
        else if (!word_listed(fillers, tokens[i].folded))
            return;
    }
    const char *ask = NULL;
    if (value)
        apply_command(t, value, &ask);
}

/* Finds a position in the folded text and blanks it out: one of the
 * policy's option_number_words followed by a number ("optie 2", "nummer
 * 11"), or with `ordinals` one of its ordinal_words ("de derde"). Returns
 * the position (1 is the first, -1 the last), or 0 when there is none. */
static long long find_position(eng_turn_t *t, char *folded, int ordinals)
{
    const json_t *policy = t->script->policy;
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(policy, "option_number_words"), i, item)
    {
        size_t len;
        char *at = (char *)eng_find_words(
            folded, or_empty(json_string_value(item)), &len);
        if (!at)
            continue;
        char *digits = at + len;
        while (*digits && !isalnum((unsigned char)*digits))
            digits++;
        char *end;
        long n = strtol(digits, &end, 10);
        if (end == digits || isalnum((unsigned char)*end) || n < 1)
            continue;
        memset(at, ' ', (size_t)(end - at));
        return n;
    }
    const char *word;
    json_t *position;
    json_object_foreach(json_object_get(policy, "ordinal_words"), word,
                        position)
    {
        size_t len;
        char *at = (char *)eng_find_words(folded, word, &len);
        if (!ordinals || !at)
            continue;
        memset(at, ' ', len);
        return json_integer_value(position);
    }
    return 0;
}

/* Returns 1 when the label of quick reply `qr` contains an ordinal word
 * of `position` ("3e" for 3), or of any position when it is 0. */
static int label_has_ordinal(const json_t *qr, const json_t *ordinal_words,
                             long long position)
{
    const char *label =
        or_empty(json_string_value(json_object_get(qr, "label")));
    char folded_label[256];
    nlu_fold(label, strlen(label), folded_label, sizeof folded_label);
    const char *word;
    json_t *value;
    json_object_foreach((json_t *)ordinal_words, word, value)
    {
        if ((position == 0 || json_integer_value(value) == position) &&
            eng_has_words(folded_label, word))
            return 1;
    }
    return 0;
}

/* Returns the index of the one quick reply in `offered` whose label
 * contains an ordinal word of `position`, or -1 when none or several do. */
static long long label_with_ordinal(const json_t *offered,
                                    const json_t *ordinal_words,
                                    long long position)
{
    long long found = -1;
    size_t i;
    json_t *qr;
    json_array_foreach(offered, i, qr)
    {
        if (!label_has_ordinal(qr, ordinal_words, position))
            continue;
        if (found >= 0)
            return -1;
        found = (long long)i;
    }
    return found;
}

/* Writes to `out` the value of the quick reply that a message chooses by
 * its position among those offered ("nummer 3", "optie 2", "de tweede",
 * "de laatste"), with only reference_filler_words beside it ("optie 2
 * aub"). Where a label contains an ordinal itself, as "Secundair, 1e
 * graad" does, a bare ordinal is a grade: "de derde" chooses the one
 * label with "3e", never the third button. Returns 1 when the message
 * chooses a quick reply. */
static int option_by_position(eng_turn_t *t, const char *text, char *out,
                              size_t size)
{
    const json_t *offered = json_object_get(t->state, "offered");
    long long count = (long long)json_array_size(offered);
    if (count == 0)
        return 0;
    json_t *ordinal_words = json_object_get(t->script->policy, "ordinal_words");
    int ordinals = 1;
    size_t i;
    json_t *qr;
    json_array_foreach(offered, i, qr)
    {
        if (label_has_ordinal(qr, ordinal_words, 0))
            ordinals = 0;
    }
    char folded[256];
    nlu_fold(text, strlen(text), folded, sizeof folded);
    long long n = find_position(t, folded, ordinals);
    long long index = n > 0 ? n - 1 : count + n;
    if (n == 0 && !ordinals) {
        /* "de derde" where the labels hold ordinals: the one label with
         * that ordinal ("Secundair, 3e graad"). */
        nlu_fold(text, strlen(text), folded, sizeof folded);
        n = find_position(t, folded, 1);
        index = n > 0 ? label_with_ordinal(offered, ordinal_words, n) : -1;
    }
    if (n == 0 || index < 0 || index >= count || !only_fillers(t, folded))
        return 0;
    const char *value = json_string_value(
        json_object_get(json_array_get(offered, (size_t)index), "value"));
    if (!value)
        return 0;
    snprintf(out, size, "%s", value);
    return 1;
}

static void fill_debug(eng_turn_t *t)
{
    json_t *intents = json_array();
    for (size_t i = 0; i < t->nlu.intent_count; i++)
        json_array_append_new(
            intents, json_pack("{s:s, s:f}", "name", t->nlu.intents[i].name,
                               "score", t->nlu.intents[i].score));
    json_t *entities = json_array();
    for (size_t i = 0; i < t->nlu.entity_count; i++) {
        const nlu_entity_t *e = &t->nlu.entities[i];
        const char *kind = kind_name(e->kind);
        json_array_append_new(entities,
                              json_pack("{s:s, s:s, s:f}", "kind",
                                        kind ? kind : "number", "value",
                                        e->value, "number", e->number));
    }
    json_object_set_new(t->debug, "intents", intents);
    json_object_set_new(t->debug, "entities", entities);
    json_object_set_new(t->debug, "intent", json_string(t->intent));
    json_object_set_new(t->debug, "confidence", json_real(t->score));
    if (t->named[0])
        json_object_set_new(t->debug, "named_entry", json_string(t->named));
}

/* ---- escalation and clarifying ---- */

/* Returns 1 when `name` is one of the policy's "clarify_never" intents:
 * a greeting or a yes is never offered as a reading of an unclear
 * message. */
static int never_clarify(const eng_turn_t *t, const char *name)
{
    const json_t *list = json_object_get(t->script->policy, "clarify_never");
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *item = json_string_value(json_array_get(list, i));
        if (item && !strcmp(item, name))
            return 1;
    }
    return 0;
}

/* Asks which of the two likeliest intents the visitor meant. Returns 0
 * without saying anything when "clarify_never" leaves fewer than two. */
static int clarify(eng_turn_t *t)
{
    json_t *qr = json_array();
    int left_out = 0;
    for (size_t i = 0; i < t->nlu.intent_count && json_array_size(qr) < 2;
         i++) {
        const char *name = t->nlu.intents[i].name;
        if (never_clarify(t, name)) {
            left_out = 1;
            continue;
        }
        const char *label =
            json_string_value(json_object_get(t->script->intent_labels, name));
        if (!label)
            continue;
        char value[NLU_NAME_MAX + 8];
        snprintf(value, sizeof value, "intent:%s", name);
        json_array_append_new(
            qr, json_pack("{s:s, s:s}", "label", label, "value", value));
    }
    if (left_out && json_array_size(qr) < 2) {
        json_decref(qr);
        return 0;
    }
    const char *text =
        eng_pick_variant(t, json_object_get(t->script->texts, "clarify"));
    char *expanded = eng_expand(t, text ? text : "");
    if (json_array_size(qr) > 0)
        json_object_set_new(t->state, "clarify", json_integer(1));
    eng_say(t, "bot", expanded ? expanded : "", qr, NULL);
    free(expanded);
    return 1;
}

/* Returns 1 when a message looks like the name of something the kb does
 * not contain: at most four words, one of them new to the model
 * ("codefever", "wat is coderdojo"), no entity and no named entry. */
static int unknown_name(const eng_turn_t *t)
{
    return t->script->unknown_name_node && !t->named[0] &&
           t->nlu.entity_count == 0 && t->nlu.word_count <= 4 &&
           t->nlu.unknown_words > 0;
}

/* Handles a yes ("ja ok") to a clarifying question, which names neither
 * reading. With two readings the question is asked once more, pointing
 * at the quick replies, and the turn does not count as unsure. A yes to
 * that, or to a question with one reading, takes the first reading,
 * which the classifier ranked highest. A reading that is itself a yes
 * ("Ja") is taken as it is. Returns 1 when the question was asked again. */
static int answer_clarify_yes(eng_turn_t *t)
{
    json_t *offered = json_object_get(t->state, "offered");
    size_t i;
    json_t *qr;
    json_array_foreach(offered, i, qr)
    {
        const char *value = json_string_value(json_object_get(qr, "value"));
        if (value && !strcmp(value, "intent:affirm"))
            return 0;
    }
    if (json_array_size(offered) == 0)
        return 0;
    if (json_array_size(offered) > 1 && t->clarifying < 2) {
        json_t *again = json_deep_copy(offered);
        const char *text = eng_pick_variant(
            t, json_object_get(t->script->texts, "clarify_choose"));
        char *expanded = eng_expand(t, text ? text : "");
        eng_say(t, "bot", expanded ? expanded : "", again, NULL);
        free(expanded);
        json_object_set_new(t->state, "clarify", json_integer(2));
        return 1;
    }
    char value[128];
    snprintf(value, sizeof value, "%s",
             or_empty(json_string_value(
                 json_object_get(json_array_get(offered, 0), "value"))));
    const char *ask = NULL;
    apply_command(t, value, &ask);
    return 0;
}

/* Counts an unsure turn; escalates when the policy's limit is reached.
 * Returns 1 when it escalated. */
static int count_unsure(eng_turn_t *t)
{
    long long unsure = state_int(t->state, "unsure") + 1;
    json_object_set_new(t->state, "unsure", json_integer(unsure));
    effect_unanswered(t);
    if (unsure < t->script->escalate_after_unsure)
        return 0;
    json_object_set_new(t->state, "unsure", json_integer(0));
    go_to(t, t->script->unsure_node);
    return 1;
}

/* Re-asks the node the visitor is in, after a correction or a fallback. */
static void reprompt(eng_turn_t *t)
{
    const char *current = eng_state_str(t->state, "node");
    if (current)
        eng_enter(t, current);
}

static void confirm_changes(eng_turn_t *t)
{
    size_t i;
    json_t *name;
    json_array_foreach(t->changed, i, name)
    {
        json_object_set_new(t->state, "_changed", json_copy(name));
        eng_say_key(t, "slot_changed");
    }
    json_object_del(t->state, "_changed");
}

/* Says "slot_same" for each slot that the text names with the value it
 * had ("we zitten eigenlijk in Aalst" when Gent was known), so that a
 * correction that changes nothing gets a reply. A turn that answers or
 * corrects outside a slot question then enters the orientation node (the
 * summary), and 1 is returned. Otherwise the turn goes on as usual. */
static int confirm_same(eng_turn_t *t, const json_t *node)
{
    if (!json_object_get(t->script->texts, "slot_same"))
        return 0;
    size_t i;
    json_t *name;
    json_array_foreach(t->same, i, name)
    {
        json_object_set_new(t->state, "_changed", json_copy(name));
        eng_say_key(t, "slot_same");
    }
    json_object_del(t->state, "_changed");
    int answers = !strcmp(t->intent, "correction") ||
                  !strcmp(t->intent, "answer_slot") ||
                  t->score < t->script->clarify_below;
    if (json_object_get(node, "slot") || !answers)
        return 0;
    json_object_set_new(t->state, "unsure", json_integer(0));
    json_array_clear(json_object_get(t->state, "stack"));
    go_to(t, t->script->orientation_node);
    return 1;
}

/* ---- the node the visitor answers ---- */

/* Sets the contact's phone number to the span of `text` from the first
 * digit or "+" to the last digit, leaving out an e-mail address at
 * email[0, email_len) ("x@y.be of 011 22 33 44", "mijn gsm: 0477 12 34
 * 56"). Returns 1, or 0 when the span has fewer than 9 digits. */
static int set_phone(json_t *contact, const char *text, const char *email,
                     size_t email_len)
{
    const char *first = NULL, *last = NULL;
    size_t digits = 0;
    for (const char *p = text; *p; p++) {
        if (p >= email && p < email + email_len)
            continue;
        int digit = *p >= '0' && *p <= '9';
        if (!first && (digit || *p == '+'))
            first = p;
        if (digit) {
            last = p;
            digits++;
        }
    }
    if (digits < 9 || !first || !last ||
        (first < email && last >= email)) /* digits on both sides */
        return 0;
    json_object_set_new(contact, "phone",
                        json_stringn(first, (size_t)(last - first + 1)));
    return 1;
}

/* Reads an e-mail address or a phone number from `text` into `contact`.
 * An e-mail address has an @ and a dot after it; a phone number has at
 * least 9 digits. Returns 0 when the text has neither. */
static int read_contact(json_t *contact, const char *text)
{
    const char *at = strchr(text, '@');
    char word[160] = "";
    if (at && strchr(at, '.')) {
        const char *start = at;
        while (start > text && start[-1] != ' ' && start[-1] != ',')
            start--;
        size_t n = strcspn(start, " ,;");
        if (n >= sizeof word)
            n = sizeof word - 1;
        memcpy(word, start, n);
        word[n] = '\0';
        json_object_set_new(contact, "email", json_string(word));
        set_phone(contact, text, start, n);
        return 1;
    }
    return set_phone(contact, text, text, 0);
}

static int in_policy_list(eng_turn_t *t, const char *key, const char *name);
static int find_name(eng_turn_t *t, const char *text, size_t *start,
                     size_t *len);

/* Returns 1 when a text typed at a name or contact question contains no
 * e-mail address or phone number and the NLU reads it as a sure intent of
 * the policy's route_first_intents ("kan ik toch iemand spreken?"). */
static int wants_person(eng_turn_t *t, const char *text)
{
    json_t *detail = json_object();
    int has_detail = detail && read_contact(detail, text);
    json_decref(detail);
    if (has_detail || !t->content->nlu)
        return 0;
    nlu_parse(t->content->nlu, text, &t->nlu);
    if (!t->nlu.intent_count ||
        t->nlu.intents[0].score < t->script->clarify_below)
        return 0;
    return in_policy_list(t, "route_first_intents", t->nlu.intents[0].name);
}

/* Handles the visitor's answer to a capture node (name or contact). */
static void answer_capture(eng_turn_t *t, const json_t *node, const char *text)
{
    const char *capture = json_string_value(json_object_get(node, "capture"));
    json_t *contact = json_object_get(t->state, "contact");
    if (!contact) {
        contact = json_object();
        json_object_set_new(t->state, "contact", contact);
    }
    if (!strcmp(capture, "name")) {
        /* "ok" or "ja" after "Wat is uw naam?" is no name: ask again. */
        if (is_phrase_of(text,
                         json_object_get(t->script->policy, "not_names"))) {
            reprompt(t);
            return;
        }
        /* A name typed with an e-mail address or phone number ("Sofie
         * Declercq, sofie@firma.be") gives both: the name is the run of
         * capitalised words, or else the text before the detail. */
        json_t *detail = json_object();
        if (detail && read_contact(detail, text)) {
            size_t start = 0, len = 0;
            if (!find_name(t, text, &start, &len)) {
                len = strcspn(text, "@+0123456789");
                while (len > 0 && text[len - 1] != ' ' && text[len - 1] != ',')
                    len--;
                while (len > 0 && strchr(" ,;:-", text[len - 1]))
                    len--;
            }
            json_object_update(contact, detail);
            if (len > 0)
                json_object_set_new(contact, "name",
                                    json_stringn(text + start, len));
        } else {
            json_object_set_new(contact, "name", json_string(text));
        }
        json_decref(detail);
    } else if (!read_contact(contact, text)) {
        eng_say_key(t, "contact_invalid");
        reprompt(t);
        return;
    }
    json_t *next = json_object_get(node, "next");
    go_to(t, json_is_string(next) ? json_string_value(next)
                                  : first_match(t, next));
}

static int answer_node(eng_turn_t *t, const json_t *node)
{
    const char *slot = json_string_value(json_object_get(node, "slot"));
    json_t *next = json_object_get(node, "next");
    const char *after = json_is_string(next) ? json_string_value(next) : NULL;
    if (slot) {
        json_t *value =
            json_object_get(json_object_get(t->state, "slots"), slot);
        int answered = value && json_object_get(t->filled, slot);
        if (answered) {
            if (!after)
                after = first_match(t, next);
            go_to(t, after);
            return 1;
        }
        if (!strcmp(t->intent, "dont_know")) {
            json_object_set_new(json_object_get(t->state, "slots"), slot,
                                json_pack("{s:b}", "unknown", 1));
            /* A hint helps the visitor who does not know the answer. */
            json_t *hint = json_object_get(node, "hint");
            if (hint) {
                char *text = eng_expand(t, eng_pick_variant(t, hint));
                eng_say(t, "bot", text ? text : "", NULL, NULL);
                free(text);
            }
            say_acknowledgement(t, "slot_unknown");
            if (!after)
                after = first_match(t, next);
            go_to(t, after);
            return 1;
        }
    }
    const char *target = first_match(t, json_object_get(node, "on"));
    if (target) {
        /* Consent is recorded by the engine, not by the script text. */
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(node, "actions"), i, a)
        {
            const char *name = json_string_value(json_object_get(a, "do"));
            if (name && !strcmp(name, "ask_consent"))
                json_object_set_new(t->state, "consent",
                                    json_boolean(!strcmp(t->intent, "affirm")));
        }
        go_to(t, target);
        return 1;
    }
    return 0;
}

static int is_tailored(eng_turn_t *t, const char *text)
{
    char folded[1024];
    nlu_fold(text, strlen(text), folded, sizeof folded);
    size_t i;
    json_t *word;
    json_array_foreach(
        json_object_get(t->script->policy, "tailored_advice_words"), i, word)
    {
        const char *w = json_string_value(word);
        if (w && *w && strstr(folded, w))
            return 1;
    }
    return 0;
}

static int is_cancel(eng_turn_t *t, const char *text)
{
    return is_phrase_of(text,
                        json_object_get(t->script->policy, "cancel_words"));
}

/* Returns 1 when the top intent is one of the policy's
 * route_first_intents, which go to their route before the current node
 * takes the answer ("... en ik wil iemand spreken"). */
static int is_route_first(eng_turn_t *t)
{
    size_t i;
    json_t *item;
    json_array_foreach(
        json_object_get(t->script->policy, "route_first_intents"), i, item)
    {
        if (!strcmp(or_empty(json_string_value(item)), t->intent))
            return 1;
    }
    return 0;
}

/* Returns 1 when `name` is in the policy's array `key`. */
static int in_policy_list(eng_turn_t *t, const char *key, const char *name)
{
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(t->script->policy, key), i, item)
    {
        if (!strcmp(or_empty(json_string_value(item)), name))
            return 1;
    }
    return 0;
}

/* Names the topic of a sure out_of_scope turn from the policy's
 * out_of_scope_topics ("btw" is about taxes), so that a route can point to
 * the right place. Such a topic also wins over tailored advice: "kan ik
 * da aftrekken van de belastingen?" is for an accountant. */
static void find_out_of_scope_topic(eng_turn_t *t, const char *text)
{
    const char *topic_now = eng_state_str(t->state, "_topic");
    int tailored = topic_now && !strcmp(topic_now, "tailored_advice");
    if (!tailored && (strcmp(t->intent, "out_of_scope") != 0 ||
                      t->score < t->script->clarify_below))
        return;
    char folded[1024];
    nlu_fold(text, strlen(text), folded, sizeof folded);
    const char *topic;
    json_t *words;
    json_object_foreach(
        json_object_get(t->script->policy, "out_of_scope_topics"), topic, words)
    {
        size_t i;
        json_t *word;
        json_array_foreach(words, i, word)
        {
            if (eng_has_words(folded, or_empty(json_string_value(word)))) {
                json_object_set_new(t->state, "_topic", json_string(topic));
                return;
            }
        }
    }
}

/* Resolves a reference to an initiative in a question about one: an
 * ordinal ("de eerste", "de laatste") to the cards last shown, and a
 * reference word ("da", "daar") to the initiative last discussed. Writes
 * the id to t->named. */
static void resolve_reference(eng_turn_t *t, const char *text)
{
    const json_t *policy = t->script->policy;
    char folded[1024];
    nlu_fold(text, strlen(text), folded, sizeof folded);
    json_t *shown = json_object_get(t->state, "shown");
    const char *word;
    json_t *position;
    json_object_foreach(json_object_get(policy, "ordinal_words"), word,
                        position)
    {
        long long n = json_integer_value(position);
        long long size = (long long)json_array_size(shown);
        long long index = n > 0 ? n - 1 : size + n;
        if (!eng_has_words(folded, word) || index < 0 || index >= size)
            continue;
        snprintf(t->named, sizeof t->named, "%s",
                 or_empty(json_string_value(json_array_get(shown, index))));
        return;
    }
    const char *last = eng_state_str(t->state, "entry");
    const json_t *entry =
        last && t->content->kb ? kb_entry(t->content->kb, last) : NULL;
    const char *type = json_string_value(json_object_get(entry, "type"));
    if (!type || strcmp(type, "initiative") != 0)
        return;
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(policy, "reference_words"), i, item)
    {
        if (eng_has_words(folded, or_empty(json_string_value(item)))) {
            snprintf(t->named, sizeof t->named, "%s", last);
            return;
        }
    }
    /* A question about joining, cost or return that names no initiative
     * ("hoe kunnen we meedoen") is about the one last discussed. A general
     * request for information may be about another one. */
    if (strcmp(t->intent, "initiative_info") != 0)
        snprintf(t->named, sizeof t->named, "%s", last);
}

/* Reads `text` into `contact` when it is a message of contact details:
 * an e-mail address or phone number with at most CONTACT_WORDS_MAX words
 * without a digit or an @, as in "mijn gsm: 0477 12 34 56". Returns 1
 * when it is. */
static int read_contact_message(json_t *contact, const char *text)
{
    enum { CONTACT_WORDS_MAX = 3 };
    size_t words = 0;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, " \t\n,;:");
        size_t plain = 1;
        for (size_t i = 0; i < n; i++)
            if ((p[i] >= '0' && p[i] <= '9') || p[i] == '@' || p[i] == '+')
                plain = 0;
        words += n && plain;
        p += n;
        p += strspn(p, " \t\n,;:");
    }
    return words <= CONTACT_WORDS_MAX && read_contact(contact, text);
}

/* The intent of the policy's entry_intent_words whose words the folded
 * text contains ("kost" requests the effort), or NULL. With `blank`, the words
 * found are overwritten with spaces. */
static const char *entry_intent_by_words(eng_turn_t *t, char *folded, int blank)
{
    const char *found = NULL;
    const char *intent;
    json_t *words;
    json_object_foreach(
        json_object_get(t->script->policy, "entry_intent_words"), intent, words)
    {
        size_t i;
        json_t *word;
        json_array_foreach(words, i, word)
        {
            size_t len;
            char *at = (char *)eng_find_words(
                folded, or_empty(json_string_value(word)), &len);
            if (!at || (found && strcmp(found, intent) != 0))
                continue;
            found = intent;
            if (blank)
                memset(at, ' ', len);
        }
    }
    return found;
}

/* Resolves a message that is only a reference to a card just shown ("de
 * tweede", "info over nummer 2", "en het tweede initiatief?"): one of the
 * policy's ordinal_words, and besides it only reference_filler_words and
 * words of entry_intent_words ("wat kost de tweede"). Writes the card's id
 * to t->named and returns the intent of the question: initiative_info, or
 * the one of the entry_intent_words found; NULL when the text is no such
 * reference. */
static const char *resolve_card_reference(eng_turn_t *t, const char *text)
{
    const json_t *policy = t->script->policy;
    json_t *shown = json_object_get(t->state, "shown");
    long long size = (long long)json_array_size(shown);
    if (size == 0)
        return NULL;
    char folded[256];
    nlu_fold(text, strlen(text), folded, sizeof folded);
    const char *word;
    json_t *position;
    long long index = -1;
    json_object_foreach(json_object_get(policy, "ordinal_words"), word,
                        position)
    {
        size_t len;
        char *at = (char *)eng_find_words(folded, word, &len);
        if (!at)
            continue;
        long long n = json_integer_value(position);
        index = n > 0 ? n - 1 : size + n;
        memset(at, ' ', len);
        break;
    }
    if (index < 0 || index >= size)
        return NULL;
    const char *intent = entry_intent_by_words(t, folded, 1);
    if (!only_fillers(t, folded))
        return NULL;
    snprintf(t->named, sizeof t->named, "%s",
             or_empty(json_string_value(json_array_get(shown, index))));
    if (!t->named[0])
        return NULL;
    return intent ? intent : "initiative_info";
}

/* Returns 1 when a text is a contact detail for the callback request
 * stored earlier in the conversation, after adding it as a callback effect
 * (the caller merges it into the open request) and thanking the visitor. */
static int added_contact(eng_turn_t *t, const char *text)
{
    if (!json_is_true(json_object_get(t->state, "callback")) ||
        !json_is_true(json_object_get(t->state, "consent")))
        return 0;
    json_t *contact = json_object();
    if (!read_contact_message(contact, text)) {
        json_decref(contact);
        return 0;
    }
    t->intent = "answer_slot";
    t->score = 1.0;
    const char *keys[] = {"email", "phone"};
    json_t *effect =
        json_pack("{s:s, s:n, s:b, s:o}", "type", "callback", "name", "consent",
                  1, "slots", eng_slots_summary(t->state));
    for (size_t i = 0; i < 2; i++) {
        json_t *value = json_object_get(contact, keys[i]);
        json_object_set(effect, keys[i], value ? value : json_null());
    }
    json_array_append_new(t->effects, effect);
    json_decref(contact);
    eng_say_key(t, "contact_added");
    fill_debug(t);
    return 1;
}

/* Returns 1 when the `n` bytes at `word` look like part of a name: a
 * capital first ("Jan", "\xC3\x89lise"), then letters, "-" or "'", and no
 * word of the policy's not_names ("Ja", "Oké"). */
static int is_name_word(eng_turn_t *t, const char *word, size_t n)
{
    const unsigned char *u = (const unsigned char *)word;
    int capital =
        (u[0] >= 'A' && u[0] <= 'Z') ||
        (n > 1 && u[0] == 0xC3 && u[1] >= 0x80 && u[1] <= 0x9E && u[1] != 0x97);
    if (!capital || n < 2)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalpha(u[i]) && u[i] < 0x80 && u[i] != '-' && u[i] != '\'')
            return 0;
    char folded[64];
    nlu_fold(word, n, folded, sizeof folded);
    return !word_listed(json_object_get(t->script->policy, "not_names"),
                        folded);
}

/* Finds a name in a message of contact details ("ja, Jan Peeters,
 * jan@firma.be"): the first run of two to four capitalised words with
 * only spaces between them. Writes its byte span to *start and *len and
 * returns 1, or returns 0 when there is none.
 * NOTE: a one-word name ("Jan") and a name with a lower-case particle
 * ("Jan van den Broeck") are not found, so the name is asked later. */
static int find_name(eng_turn_t *t, const char *text, size_t *start,
                     size_t *len)
{
    enum { NAME_WORDS_MIN = 2, NAME_WORDS_MAX = 4 };
    size_t words = 0, first = 0, run_end = 0;
    int open = 0; /* the run may go on with the next word */
    size_t i = 0;
    for (;;) {
        size_t gap = strspn(text + i, " \t");
        size_t at = i + gap;
        size_t n = strcspn(text + at, " \t,;:!?");
        if (n == 0 && !text[at])
            break;
        size_t bare = n;
        while (bare > 0 && text[at + bare - 1] == '.')
            bare--;
        int name = bare > 0 && is_name_word(t, text + at, bare);
        if (!name || !open || gap == 0) {
            /* The run so far ends here. */
            if (words >= NAME_WORDS_MIN && words <= NAME_WORDS_MAX)
                break;
            words = 0;
        }
        if (name) {
            if (words == 0)
                first = at;
            words++;
            run_end = at + bare;
        }
        /* A full stop or other punctuation after a word ends the run. */
        open = name && bare == n;
        i = at + n;
        size_t punctuation = strspn(text + i, ",;:!?");
        if (punctuation)
            open = 0;
        i += punctuation;
    }
    if (words < NAME_WORDS_MIN || words > NAME_WORDS_MAX)
        return 0;
    *start = first;
    *len = run_end - first;
    return 1;
}

/* Returns 1 when a text typed at the consent question is an e-mail
 * address or phone number: the visitor gives it to be contacted, which is
 * a yes. The detail is kept for the callback, with a name typed beside it
 * ("ja, Jan Peeters, jan@firma.be"), and the consent question's yes
 * handler follows (the name is asked next when it is missing). The words
 * of the name do not count towards the words allowed beside the detail. */
static int consent_by_contact(eng_turn_t *t, const json_t *node,
                              const char *text)
{
    char rest[1024];
    snprintf(rest, sizeof rest, "%s", text);
    size_t start = 0, len = 0;
    int named = find_name(t, rest, &start, &len);
    json_t *name = named ? json_stringn(rest + start, len) : NULL;
    if (named)
        memset(rest + start, ' ', len);
    json_t *contact = json_object();
    if (!contact || !read_contact_message(contact, rest)) {
        json_decref(contact);
        json_decref(name);
        return 0;
    }
    if (name)
        json_object_set_new(contact, "name", name);
    json_object_set_new(t->state, "contact", contact);
    t->intent = "affirm";
    t->score = 1.0;
    fill_debug(t);
    if (answer_node(t, node))
        return 1;
    json_object_del(t->state, "contact");
    return 0;
}

/* Finds the two entries that a comparison names ("wat is het verschil
 * tussen STEMfluencers en Techniekacademie?"): the text contains one of the
 * policy's compare_words, and split at one of its compare_joiners it
 * names one entry on each side, two different ones. Writes them to
 * t->named and t->compared and returns 1, or returns 0. */
static int find_compared(eng_turn_t *t, const char *text)
{
    const json_t *policy = t->script->policy;
    char folded[1024];
    nlu_fold(text, strlen(text), folded, sizeof folded);
    int compares = 0;
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(policy, "compare_words"), i, item)
    {
        if (eng_has_words(folded, or_empty(json_string_value(item))))
            compares = 1;
    }
    size_t length = strlen(text);
    char lower[1024], left[1024];
    if (!compares || !t->content->kb || length >= sizeof lower)
        return 0;
    /* ASCII lower case keeps the byte offsets of `text`. */
    for (size_t k = 0; k <= length; k++)
        lower[k] = (char)tolower((unsigned char)text[k]);
    json_array_foreach(json_object_get(policy, "compare_joiners"), i, item)
    {
        const char *joiner = or_empty(json_string_value(item));
        size_t n = strlen(joiner);
        for (const char *p = n ? strstr(lower, joiner) : NULL; p;
             p = strstr(p + 1, joiner)) {
            size_t at = (size_t)(p - lower);
            if ((at > 0 && isalnum((unsigned char)lower[at - 1])) ||
                isalnum((unsigned char)p[n]))
                continue;
            memcpy(left, text, at);
            left[at] = '\0';
            char first[KB_ID_MAX], second[KB_ID_MAX];
            if (kb_find_named(t->content->kb, left, first, sizeof first) &&
                kb_find_named(t->content->kb, text + at + n, second,
                              sizeof second) &&
                strcmp(first, second) != 0) {
                snprintf(t->named, sizeof t->named, "%s", first);
                snprintf(t->compared, sizeof t->compared, "%s", second);
                return 1;
            }
        }
    }
    return 0;
}

/* A question that names an initiative is about that initiative: "wat
 * kost de Techniekacademie?" asks for its effort whatever the classifier
 * made of it, and "nog een vraag: wat is STEMfluencers?" is no question
 * outside the desk's topics. The words come from the policy's
 * entry_intent_words; without one of them an unsure or out_of_scope turn
 * asks for the entry's description. */
static void ask_about_entry(eng_turn_t *t, const char *text)
{
    char folded[1024];
    nlu_fold(text, strlen(text), folded, sizeof folded);
    const char *intent = entry_intent_by_words(t, folded, 0);
    if (intent) {
        t->intent = intent;
        t->score = 1.0;
    } else if (!strcmp(t->intent, "out_of_scope") ||
               t->score < t->script->clarify_below) {
        t->intent = "initiative_info";
        t->score = 1.0;
    }
}

static void visitor_text(eng_turn_t *t)
{
    const char *text = t->event->text ? t->event->text : "";
    const json_t *node = node_get(t, eng_state_str(t->state, "node"));
    snprintf(t->asked, sizeof t->asked, "%s",
             or_empty(eng_state_str(t->state, "node")));

    /* The field asked for before "which initiative?" lasts one turn. */
    char ask_field[sizeof t->field];
    snprintf(ask_field, sizeof ask_field, "%s",
             or_empty(eng_state_str(t->state, "ask_field")));
    json_object_del(t->state, "ask_field");

    /* A name or contact detail is taken as typed: no intent or entity is
     * read from it, and only a message that is one of the policy's
     * cancel_words withdraws consent. */
    if (json_object_get(node, "capture")) {
        if (is_cancel(t, text)) {
            json_object_del(t->state, "contact");
            json_object_set_new(t->state, "consent", json_false());
            go_to(t, t->script->no_consent_node);
            return;
        }
        if (!wants_person(t, text)) {
            t->intent = "answer_slot";
            t->score = 1.0;
            answer_capture(t, node, text);
            return;
        }
        /* The request is routed like any other turn. */
    }

    /* An e-mail address or phone number sent after a callback request was
     * stored belongs to that request: the caller adds it there. */
    if (added_contact(t, text))
        return;

    /* The consent question takes yes or no: a name typed there fills no
     * slot, and an e-mail address or phone number is a yes. */
    int consent_node = is_consent_node(node);
    if (consent_node && consent_by_contact(t, node, text))
        return;

    /* At a question with quick replies, and at a clarifying question, a
     * position ("optie 2", "de tweede") chooses a quick reply as a click
     * would: the text becomes its value. The consent question takes only
     * a plain yes or no. */
    char chosen[256];
    int question = json_object_get(node, "slot") || json_object_get(node, "on");
    if (!consent_node && (question || t->clarifying) &&
        option_by_position(t, text, chosen, sizeof chosen))
        text = chosen;
    const char *ask = NULL;
    int command = apply_command(t, text, &ask);
    const char *card_intent =
        command || consent_node ? NULL : resolve_card_reference(t, text);
    if (card_intent) {
        t->intent = card_intent;
        t->score = 1.0;
        json_object_set_new(t->state, "entry", json_string(t->named));
    } else if (!command) {
        /* Without a model (small test fixtures) only commands count. */
        if (t->content->nlu)
            nlu_parse(t->content->nlu, text, &t->nlu);
        if (t->nlu.intent_count) {
            t->intent = t->nlu.intents[0].name;
            t->score = t->nlu.intents[0].score;
        }
        /* A question about something else fills no slot either: "btw op
         * brood" is no sector. */
        int off_topic = !strcmp(t->intent, "out_of_scope") &&
                        t->score >= t->script->clarify_below;
        /* Nor does a question for information outside a slot question:
         * "een checklist voor een bedrijfsbezoek" keeps the goal. */
        int asks_info = t->score >= t->script->clarify_below &&
                        !json_object_get(node, "slot") &&
                        in_policy_list(t, "question_intents", t->intent);
        if (consent_node || !t->content->kb ||
            !kb_find_named(t->content->kb, text, t->named, sizeof t->named))
            t->named[0] = '\0';
        /* "wat is het verschil tussen X en Y" is a question about both. */
        if (t->named[0] && find_compared(t, text)) {
            t->intent = "initiative_info";
            t->score = 1.0;
        }
        if (!t->named[0] && !consent_node &&
            t->score >= t->script->clarify_below &&
            !json_object_get(node, "slot") &&
            in_policy_list(t, "entry_intents", t->intent))
            resolve_reference(t, text);
        if (t->named[0])
            json_object_set_new(t->state, "entry", json_string(t->named));
        if (t->named[0])
            ask_about_entry(t, text);
        if (is_tailored(t, text))
            json_object_set_new(t->state, "_topic",
                                json_string("tailored_advice"));
        find_out_of_scope_topic(t, text);
        /* Nor does a turn with a topic outside the desk's ("bouwbedrijf
         * uit Gent: subsidie voor isolatie?").
         * NOTE: a turn that the classifier does not call out_of_scope and
         * that has no tailored-advice word finds no topic, so
         * "zonnepanelen" alone still fills the sector with energy. */
        const char *topic = eng_state_str(t->state, "_topic");
        int elsewhere = topic && strcmp(topic, "tailored_advice") != 0;
        if (!consent_node && !off_topic && !asks_info && !elsewhere) {
            apply_entities(t, text);
            apply_number_as(t, node, text);
            apply_answer_words(t, node, text);
        }
    }
    if (t->named[0] && ask_field[0] &&
        (!strcmp(t->intent, "initiative_info") ||
         !in_policy_list(t, "entry_intents", t->intent)))
        memcpy(t->field, ask_field, sizeof t->field);
    /* At the consent question a cancel word ("laat maar") is a no. */
    if (consent_node && is_cancel(t, text)) {
        t->intent = "deny";
        t->score = 1.0;
    }
    if (t->clarifying && !command && !card_intent &&
        !strcmp(t->intent, "affirm") && t->score >= t->script->clarify_below &&
        answer_clarify_yes(t)) {
        fill_debug(t);
        return;
    }
    fill_debug(t);

    if (ask) {
        /* "ask:SLOT" forgets the slot so the orientation asks it again. */
        json_object_del(json_object_get(t->state, "slots"), ask);
        json_array_clear(json_object_get(t->state, "stack"));
        go_to(t, t->script->orientation_node);
        return;
    }

    /* Escalation topics come first, then the node that waits for an
     * answer, then corrections, digressions and other routes. A changed
     * slot is confirmed before anything else is said. */
    int same_only = !t->filled_any && json_array_size(t->same) > 0;
    int sure = t->score >= t->script->clarify_below || t->filled_any ||
               t->named[0] || same_only;
    int corrected = json_array_size(t->changed) > 0;
    if (corrected)
        confirm_changes(t);
    if (same_only && confirm_same(t, node))
        return;
    if (json_object_get(t->state, "_topic") ||
        (t->score >= t->script->clarify_below && is_route_first(t))) {
        const char *target = first_match(t, t->script->routes);
        json_object_del(t->state, "_topic");
        if (target) {
            go_to(t, target);
            return;
        }
    }
    if (sure && node && answer_node(t, node)) {
        json_object_set_new(t->state, "unsure", json_integer(0));
        return;
    }
    if (consent_node) {
        reprompt(t);
        return;
    }
    if (corrected) {
        json_object_set_new(t->state, "unsure", json_integer(0));
        /* A correction is no failed answer: the question is asked again
         * as new, not counted towards leaving it open. */
        if (json_object_get(node, "slot")) {
            json_object_del(t->state, "retry");
            t->retried = 1;
        }
        if (node)
            reprompt(t);
        else
            go_to(t, t->script->orientation_node);
        return;
    }
    /* An unclear answer to a slot question gets the question again with a
     * hint, and then the slot is left open (see ask_again). Elsewhere the
     * visitor chooses between the two likeliest intents. */
    if (!sure) {
        if (json_object_get(node, "slot")) {
            effect_unanswered(t);
            t->unclear = 1;
            reprompt(t);
            return;
        }
        if (unknown_name(t)) {
            effect_unanswered(t);
            go_to(t, t->script->unknown_name_node);
            return;
        }
        if (count_unsure(t))
            return;
        if (!clarify(t)) {
            eng_say_key(t, "fallback");
            reprompt(t);
        }
        return;
    }
    /* "wat is coderdojo?": a question about an initiative that the kb
     * does not hold gets that said, not the question which one. */
    if (in_policy_list(t, "entry_intents", t->intent) && unknown_name(t)) {
        effect_unanswered(t);
        go_to(t, t->script->unknown_name_node);
        return;
    }
    const char *target = first_match(t, t->script->routes);
    if (target) {
        json_object_set_new(t->state, "unsure", json_integer(0));
        go_to(t, target);
        return;
    }
    if (json_object_get(node, "slot")) {
        effect_unanswered(t);
        t->unclear = 1;
        reprompt(t);
        return;
    }
    if (count_unsure(t))
        return;
    eng_say_key(t, "fallback");
    reprompt(t);
}

/* ---- modes ---- */

static void advisor_event(eng_turn_t *t)
{
    const eng_event_t *ev = t->event;
    const char *mode = eng_state_mode(t->state);
    switch (ev->kind) {
    case ENG_EV_ADVISOR_JOINED:
        json_object_del(t->state, "clarify");
        json_object_set_new(
            t->state, "advisor",
            json_string(ev->advisor_name ? ev->advisor_name : ""));
        eng_say_key(t, "advisor_joined");
        {
            json_t *last =
                json_array_get(t->messages, json_array_size(t->messages) - 1);
            json_object_set_new(last, "from", json_string("system"));
        }
        eng_effect_status(t, "advisor");
        break;
    case ENG_EV_ADVISOR_TEXT:
        if (ev->text && strcmp(mode, "closed") != 0) {
            eng_say(t, "advisor", ev->text, NULL, NULL);
            /* Each message keeps the name of the advisor who wrote it, so
             * a transcript replayed later names each advisor correctly. */
            json_t *said =
                json_array_get(t->messages, json_array_size(t->messages) - 1);
            if (said && ev->advisor_name && ev->advisor_name[0])
                json_object_set_new(said, "name",
                                    json_string(ev->advisor_name));
        }
        break;
    case ENG_EV_ADVISOR_RELEASED:
        json_object_del(t->state, "advisor");
        eng_effect_status(t, "bot");
        eng_say_key(t, "advisor_released");
        json_object_set_new(t->state, "node", json_null());
        break;
    case ENG_EV_CLOSED:
        if (ev->outcome)
            json_object_set_new(t->state, "outcome", json_string(ev->outcome));
        json_object_set_new(t->state, "node", json_null());
        eng_say_key(t, "closed");
        json_object_set_new(
            json_array_get(t->messages, json_array_size(t->messages) - 1),
            "from", json_string("system"));
        eng_effect_status(t, "closed");
        break;
    case ENG_EV_ADVISOR_TIMEOUT:
        /* From "advisor": the holder went offline or did not answer in
         * time, and the conversation is back in the queue. */
        if (strcmp(mode, "advisor") == 0) {
            /* The visitor learns first that the advisor left; the
             * event's name wins over the one stored at the takeover. */
            if (ev->advisor_name && ev->advisor_name[0])
                json_object_set_new(t->state, "advisor",
                                    json_string(ev->advisor_name));
            if (json_object_get(t->script->texts, "advisor_left")) {
                eng_say_key(t, "advisor_left");
                json_object_set_new(
                    json_array_get(t->messages,
                                   json_array_size(t->messages) - 1),
                    "from", json_string("system"));
            }
            json_object_del(t->state, "advisor");
            eng_effect_status(t, "waiting");
        } else if (strcmp(mode, "waiting") != 0)
            break;
        if (ev->advisors_online > 0 && ev->office_open) {
            eng_say_key(t, "advisor_busy");
        } else {
            eng_effect_status(t, "bot");
            go_to(t, t->script->callback_node);
        }
        break;
    default:
        break;
    }
}

static void run_event(eng_turn_t *t)
{
    const char *mode = eng_state_mode(t->state);
    switch (t->event->kind) {
    case ENG_EV_START:
        if (eng_state_str(t->state, "node"))
            reprompt(t);
        else
            eng_enter(t, t->script->start_node);
        break;
    case ENG_EV_VISITOR_TEXT:
        json_object_set_new(t->state, "turn",
                            json_integer(state_int(t->state, "turn") + 1));
        /* A clarifying question is answered in the next message or not
         * at all. */
        t->clarifying = (int)state_int(t->state, "clarify");
        json_object_del(t->state, "clarify");
        /* The bot never speaks while an advisor has the conversation or
         * after it was closed. */
        if (!strcmp(mode, "advisor") || !strcmp(mode, "closed"))
            break;
        if (!strcmp(mode, "waiting")) {
            eng_say_key(t, "advisor_waiting");
            break;
        }
        visitor_text(t);
        break;
    default:
        advisor_event(t);
        break;
    }
}

static void clear_output(eng_output_t *out)
{
    json_decref(out->state);
    json_decref(out->messages);
    json_decref(out->effects);
    json_decref(out->debug);
    memset(out, 0, sizeof *out);
}

int eng_step(const eng_content_t *content, const json_t *state,
             const eng_event_t *event, eng_output_t *out)
{
    memset(out, 0, sizeof *out);
    eng_turn_t t = {.content = content,
                    .script = content->script,
                    .event = event,
                    .intent = ""};
    t.messages = json_array();
    t.effects = json_array();
    t.debug = json_object();
    t.changed = json_array();
    t.filled = json_object();
    t.same = json_array();

    /* Work on a copy so the caller's state is never modified. A state of
     * another version is not interpreted: the conversation starts over. */
    json_int_t version = json_integer_value(json_object_get(state, "v"));
    if (state && version == ENG_STATE_VERSION)
        t.state = json_deep_copy(state);
    else {
        t.state = new_state(event->now);
        if (state)
            json_object_set_new(t.debug, "state_reset", json_integer(version));
    }
    if (!t.messages || !t.effects || !t.debug || !t.changed || !t.filled ||
        !t.same || !t.state) {
        json_decref(t.changed);
        json_decref(t.filled);
        json_decref(t.same);
        out->state = t.state;
        out->messages = t.messages;
        out->effects = t.effects;
        out->debug = t.debug;
        clear_output(out);
        return -1;
    }
    if (state && version != ENG_STATE_VERSION &&
        event->kind == ENG_EV_VISITOR_TEXT)
        eng_enter(&t, t.script->start_node);

    run_event(&t);

    json_object_set_new(t.debug, "node",
                        json_string(or_empty(eng_state_str(t.state, "node"))));
    json_object_set(t.debug, "slots", json_object_get(t.state, "slots"));
    json_object_set_new(t.debug, "mode", json_string(eng_state_mode(t.state)));
    json_decref(t.changed);
    json_decref(t.filled);
    json_decref(t.same);
    out->state = t.state;
    out->messages = t.messages;
    out->effects = t.effects;
    out->debug = t.debug;
    return 0;
}

void eng_output_free(eng_output_t *out)
{
    if (out)
        clear_output(out);
}
