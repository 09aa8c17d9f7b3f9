/* Unit tests of the dialogue engine on small fixture scripts, without an
 * NLU model: quick-reply commands drive the turns. The knowledge base is
 * the small fixture of tests/knowledge, for the facet labels of lang/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/engine.h"

#define FIXTURES "tests/engine/fixtures"
#define KB_DIR "tests/knowledge/fixtures/basic"
#define LANG_DIR "lang"

typedef struct {
    kb_t *kb;
    dlg_script_t *script;
    eng_content_t content;
} fixture_t;

static int setup(void **ctx)
{
    fixture_t *f = calloc(1, sizeof *f);
    content_errors_t errs = {0};
    f->kb = kb_load(KB_DIR, LANG_DIR, &errs);
    f->script = dlg_load(FIXTURES "/basic", NULL, f->kb, &errs);
    content_errors_print(&errs, stderr);
    assert_int_equal(errs.count, 0);
    assert_non_null(f->script);
    content_errors_free(&errs);
    f->content.kb = f->kb;
    f->content.script = f->script;
    *ctx = f;
    return 0;
}

static int teardown(void **ctx)
{
    fixture_t *f = *ctx;
    dlg_free(f->script);
    kb_free(f->kb);
    free(f);
    return 0;
}

/* Runs one event on `state` and replaces it with the new state; the
 * output stays in `out` for checks and must be freed by the caller. */
static void step(fixture_t *f, json_t **state, eng_event_t *ev,
                 eng_output_t *out)
{
    assert_int_equal(eng_step(&f->content, *state, ev, out), 0);
    json_decref(*state);
    *state = json_incref(out->state);
}

static void say(fixture_t *f, json_t **state, const char *text,
                eng_output_t *out)
{
    eng_event_t ev = {.kind = ENG_EV_VISITOR_TEXT, .text = text, .now = 1000};
    step(f, state, &ev, out);
}

static json_t *started(fixture_t *f)
{
    eng_event_t ev = {.kind = ENG_EV_START, .now = 1000};
    eng_output_t out;
    json_t *state = NULL;
    step(f, &state, &ev, &out);
    eng_output_free(&out);
    return state;
}

static const char *last_text(const eng_output_t *out)
{
    size_t n = json_array_size(out->messages);
    assert_true(n > 0);
    return json_string_value(
        json_object_get(json_array_get(out->messages, n - 1), "text"));
}

static int has_effect(const eng_output_t *out, const char *type,
                      const char *key, const char *value)
{
    size_t i;
    json_t *e;
    json_array_foreach(out->effects, i, e)
    {
        const char *t = json_string_value(json_object_get(e, "type"));
        const char *v = json_string_value(json_object_get(e, key));
        if (t && !strcmp(t, type) && (!key || (v && !strcmp(v, value))))
            return 1;
    }
    return 0;
}

static void start_sends_welcome(void **ctx)
{
    fixture_t *f = *ctx;
    eng_event_t ev = {.kind = ENG_EV_START, .now = 1000};
    eng_output_t out;
    assert_int_equal(eng_step(&f->content, NULL, &ev, &out), 0);
    assert_string_equal(last_text(&out), "Welkom.");
    assert_int_equal(json_integer_value(json_object_get(out.state, "v")), 1);
    assert_string_equal(eng_state_mode(out.state), "bot");
    assert_string_equal(json_string_value(json_object_get(out.state, "node")),
                        "welcome");
    eng_output_free(&out);
}

static void step_is_pure(void **ctx)
{
    fixture_t *f = *ctx;
    json_t *state = started(f);
    json_t *before = json_deep_copy(state);
    eng_event_t ev = {
        .kind = ENG_EV_VISITOR_TEXT, .text = "slot:goal=talent", .now = 2000};
    eng_output_t a, b;
    assert_int_equal(eng_step(&f->content, state, &ev, &a), 0);
    assert_int_equal(eng_step(&f->content, state, &ev, &b), 0);
    assert_true(json_equal(state, before));
    assert_true(json_equal(a.state, b.state));
    assert_true(json_equal(a.messages, b.messages));
    assert_true(json_equal(a.effects, b.effects));
    assert_true(json_equal(a.debug, b.debug));
    assert_false(json_equal(a.state, state));
    eng_output_free(&a);
    eng_output_free(&b);
    json_decref(before);
    json_decref(state);
}

static void state_round_trips_json(void **ctx)
{
    fixture_t *f = *ctx;
    json_t *state = started(f);
    eng_output_t out;
    say(f, &state, "slot:goal=talent", &out);
    eng_output_free(&out);

    char *text = json_dumps(state, JSON_COMPACT);
    json_t *loaded = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(loaded);
    assert_true(json_equal(loaded, state));

    eng_event_t ev = {.kind = ENG_EV_VISITOR_TEXT,
                      .text = "slot:region=limburg",
                      .now = 3000};
    eng_output_t a, b;
    assert_int_equal(eng_step(&f->content, state, &ev, &a), 0);
    assert_int_equal(eng_step(&f->content, loaded, &ev, &b), 0);
    assert_true(json_equal(a.state, b.state));
    assert_true(json_equal(a.messages, b.messages));
    assert_non_null(strstr(last_text(&b), "Regio: Limburg"));
    eng_output_free(&a);
    eng_output_free(&b);
    json_decref(loaded);
    json_decref(state);
}

static void slots_skip_known_questions(void **ctx)
{
    fixture_t *f = *ctx;
    json_t *state = started(f);
    eng_output_t out;
    say(f, &state, "slot:region=limburg", &out);
    assert_string_equal(last_text(&out), "Welk doel?");
    eng_output_free(&out);
    say(f, &state, "slot:goal=talent", &out);
    assert_non_null(
        strstr(last_text(&out), "Doel: technisch talent aantrekken"));
    assert_string_equal(json_string_value(json_object_get(state, "node")),
                        "summary");
    eng_output_free(&out);
    json_decref(state);
}

static void dont_know_marks_unknown(void **ctx)
{
    fixture_t *f = *ctx;
    json_t *state = started(f);
    eng_output_t out;
    say(f, &state, "slot:region=limburg", &out);
    eng_output_free(&out);
    say(f, &state, "Weet ik niet", &out); /* the label of a quick reply */
    json_t *goal = json_object_get(json_object_get(state, "slots"), "goal");
    assert_true(json_is_true(json_object_get(goal, "unknown")));
    assert_non_null(strstr(last_text(&out), "Doel: onbekend"));
    eng_output_free(&out);
    json_decref(state);
}

static void correction_is_confirmed(void **ctx)
{
    fixture_t *f = *ctx;
    json_t *state = started(f);
    eng_output_t out;
    say(f, &state, "slot:goal=talent", &out);
    eng_output_free(&out);
    say(f, &state, "slot:region=limburg", &out);
    eng_output_free(&out);
    say(f, &state, "slot:region=antwerpen", &out);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(state, "slots"), "region"),
            "value")),
        "antwerpen");
    const char *first = json_string_value(
        json_object_get(json_array_get(out.messages, 0), "text"));
    assert_string_equal(first, "Aangepast: regio is nu Antwerpen.");
    eng_output_free(&out);
    json_decref(state);
}

/* The summary shows the label from lang/facets.json, the only source of
 * labels. Without a knowledge base it shows the id. */
static void summary_uses_facet_labels(void **ctx)
{
    fixture_t *f = *ctx;
    json_t *state = started(f);
    eng_output_t out;
    say(f, &state, "slot:region=belgie", &out);
    eng_output_free(&out);
    say(f, &state, "slot:goal=kennis", &out);
    assert_non_null(strstr(last_text(&out), "Regio: heel België"));
    assert_non_null(
        strstr(last_text(&out),
               "Doel: leerkrachten en leerlingen tonen wat uw bedrijf doet"));
    eng_output_free(&out);

    eng_content_t bare = {.script = f->script};
    eng_event_t ev = {.kind = ENG_EV_VISITOR_TEXT,
                      .text = "slot:region=limburg",
                      .now = 3000};
    assert_int_equal(eng_step(&bare, state, &ev, &out), 0);
    assert_non_null(strstr(last_text(&out), "Regio: limburg"));
    eng_output_free(&out);
    json_decref(state);
}

static void unsure_turns_escalate(void **ctx)
{
    fixture_t *f = *ctx;
    json_t *state = started(f);
    eng_output_t out;
    say(f, &state, "blabla", &out);
    assert_string_equal(last_text(&out), "Bedoelt u een van deze?");
    assert_true(has_effect(&out, "unanswered", "text", "blabla"));
    assert_false(has_effect(&out, "escalate", NULL, NULL));
    eng_output_free(&out);
    say(f, &state, "nog eens blabla", &out);
    assert_true(has_effect(&out, "escalate", "reason", "unsure"));
    assert_non_null(strstr(last_text(&out), "Terugbellen?"));
    eng_output_free(&out);
    json_decref(state);
}

static void escalation_waits_for_advisor(void **ctx)
{
    fixture_t *f = *ctx;
    json_t *state = started(f);
    eng_event_t ev = {.kind = ENG_EV_VISITOR_TEXT,
                      .text = "intent:ask_human",
                      .advisors_online = 1,
                      .office_open = 1};
    eng_output_t out;
    step(f, &state, &ev, &out);
    assert_true(has_effect(&out, "escalate", "reason", "visitor_request"));
    assert_true(has_effect(&out, "status", "state", "waiting"));
    assert_string_equal(eng_state_mode(state), "waiting");
    assert_string_equal(last_text(&out),
                        "Ik zoek een adviseur voor u. Een ogenblik.");
    eng_output_free(&out);
    json_decref(state);
}

/* The callback offer shows the office hours of the event in Dutch: days
 * with the same hours together, a run of three or more days as a range. */
static void office_hours_in_callback_offer(void **ctx)
{
    fixture_t *f = *ctx;
    static const struct {
        const char *hours; /* the office_hours setting, or NULL */
        const char *text;
    } cases[] = {
        {"{\"mon\": [\"09:00\", \"17:00\"], \"tue\": [\"09:00\", \"17:00\"], "
         "\"wed\": [\"09:00\", \"17:00\"], \"thu\": [\"09:00\", \"17:00\"], "
         "\"fri\": [\"09:00\", \"17:00\"]}",
         "van maandag tot en met vrijdag van 9.00 tot 17.00 uur"},
        {"{\"sat\": [\"10:00\", \"12:00\"], \"mon\": [\"08:30\", \"12:30\"], "
         "\"tue\": [\"08:30\", \"12:30\"], \"wed\": [\"08:30\", \"12:30\"], "
         "\"thu\": [\"08:30\", \"16:00\"]}",
         "van maandag tot en met woensdag van 8.30 tot 12.30 uur, op "
         "donderdag van 8.30 tot 16.00 uur en op zaterdag van 10.00 tot "
         "12.00 uur"},
        {"{\"mon\": [\"09:00\", \"12:00\"], \"wed\": [\"09:00\", \"12:00\"], "
         "\"fri\": [\"09:00\", \"12:00\"]}",
         "op maandag, woensdag en vrijdag van 9.00 tot 12.00 uur"},
        {"{\"sat\": [\"10:00\", \"16:00\"], \"sun\": [\"10:00\", \"16:00\"]}",
         "op zaterdag en zondag van 10.00 tot 16.00 uur"},
        {"{\"mon\": [\"00:00\", \"24:00\"], \"tue\": [\"00:00\", \"24:00\"], "
         "\"wed\": [\"00:00\", \"24:00\"], \"thu\": [\"00:00\", \"24:00\"], "
         "\"fri\": [\"00:00\", \"24:00\"], \"sat\": [\"00:00\", \"24:00\"], "
         "\"sun\": [\"00:00\", \"24:00\"]}",
         "elke dag van 0.00 tot 24.00 uur"},
        {"{}", "na afspraak"},
        {"{\"mon\": [\"9\", \"17\"]}", "na afspraak"},
        {NULL, "na afspraak"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *hours =
            cases[i].hours ? json_loads(cases[i].hours, 0, NULL) : NULL;
        assert_true(!cases[i].hours || hours);
        json_t *state = started(f);
        eng_event_t ev = {.kind = ENG_EV_VISITOR_TEXT,
                          .text = "intent:ask_human",
                          .office_hours = hours,
                          .now = 2000};
        eng_output_t out;
        step(f, &state, &ev, &out);
        char expected[512];
        snprintf(expected, sizeof expected,
                 "Geen adviseur. Bereikbaar %s. Terugbellen?", cases[i].text);
        assert_string_equal(last_text(&out), expected);
        eng_output_free(&out);
        json_decref(state);
        json_decref(hours);
    }
}

static void advisor_mode_is_silent(void **ctx)
{
    fixture_t *f = *ctx;
    json_t *state = started(f);
    eng_event_t joined = {.kind = ENG_EV_ADVISOR_JOINED, .advisor_name = "Els"};
    eng_output_t out;
    step(f, &state, &joined, &out);
    assert_string_equal(last_text(&out), "Els neemt het gesprek over.");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(out.messages, 0), "from")),
                        "system");
    assert_true(has_effect(&out, "status", "state", "advisor"));
    eng_output_free(&out);

    const char *lines[] = {"hallo?", "intent:ask_human", "blabla",
                           "slot:goal=talent"};
    for (size_t i = 0; i < 4; i++) {
        say(f, &state, lines[i], &out);
        assert_int_equal(json_array_size(out.messages), 0);
        assert_int_equal(json_array_size(out.effects), 0);
        eng_output_free(&out);
    }
    eng_event_t text = {.kind = ENG_EV_ADVISOR_TEXT, .text = "Goeiedag!"};
    step(f, &state, &text, &out);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(out.messages, 0), "from")),
                        "advisor");
    eng_output_free(&out);

    eng_event_t released = {.kind = ENG_EV_ADVISOR_RELEASED};
    step(f, &state, &released, &out);
    assert_string_equal(eng_state_mode(state), "bot");
    assert_string_equal(last_text(&out), "Ik ben er weer.");
    eng_output_free(&out);

    eng_event_t closed = {.kind = ENG_EV_CLOSED, .outcome = "helped"};
    step(f, &state, &closed, &out);
    assert_string_equal(eng_state_mode(state), "closed");
    eng_output_free(&out);
    say(f, &state, "hallo?", &out);
    assert_int_equal(json_array_size(out.messages), 0);
    eng_output_free(&out);
    json_decref(state);
}

/* Asks for a person and accepts the callback, which leads to the consent
 * question. */
static void reach_consent_question(fixture_t *f, json_t **state)
{
    eng_output_t out;
    say(f, state, "intent:ask_human", &out);
    eng_output_free(&out);
    say(f, state, "intent:affirm", &out);
    eng_output_free(&out);
}

static void callback_needs_consent(void **ctx)
{
    fixture_t *f = *ctx;
    json_t *state = started(f);
    eng_output_t out;
    say(f, &state, "intent:ask_human", &out); /* no advisor online */
    assert_non_null(strstr(last_text(&out), "Terugbellen?"));
    eng_output_free(&out);
    say(f, &state, "intent:affirm", &out);
    assert_string_equal(last_text(&out), "Mogen we uw gegevens bewaren?");
    eng_output_free(&out);
    say(f, &state, "intent:deny", &out);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(out.messages, 0), "text")),
                        "Ik bewaar niets.");
    assert_false(json_is_true(json_object_get(state, "consent")));
    eng_output_free(&out);

    reach_consent_question(f, &state);
    say(f, &state, "intent:affirm", &out);
    assert_string_equal(last_text(&out), "Uw naam?");
    eng_output_free(&out);
    say(f, &state, "An Peeters", &out);
    eng_output_free(&out);
    say(f, &state, "geen idee", &out);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(out.messages, 0), "text")),
                        "Ongeldig.");
    eng_output_free(&out);
    say(f, &state, "an@example.be", &out);
    assert_true(has_effect(&out, "callback", "email", "an@example.be"));
    assert_true(has_effect(&out, "callback", "name", "An Peeters"));
    assert_null(json_object_get(state, "contact"));
    eng_output_free(&out);
    json_decref(state);
}

/* Returns the number of messages whose text is `text`. */
static size_t count_text(const eng_output_t *out, const char *text)
{
    size_t n = 0, i;
    json_t *m;
    json_array_foreach(out->messages, i, m)
    {
        if (!strcmp(json_string_value(json_object_get(m, "text")), text))
            n++;
    }
    return n;
}

static void slot_question_asked_twice_at_most(void **ctx)
{
    fixture_t *f = *ctx;
    json_t *state = started(f);
    eng_output_t out;
    say(f, &state, "slot:region=limburg", &out);
    assert_string_equal(last_text(&out), "Welk doel?");
    eng_output_free(&out);

    say(f, &state, "blabla", &out);
    assert_int_equal(count_text(&out, "Dat begreep ik niet."), 1);
    assert_string_equal(last_text(&out), "Kies een doel hieronder.");
    assert_false(has_effect(&out, "escalate", NULL, NULL));
    eng_output_free(&out);

    say(f, &state, "nog eens blabla", &out);
    assert_int_equal(count_text(&out, "Kies een doel hieronder."), 0);
    assert_int_equal(count_text(&out, "Welk doel?"), 0);
    assert_int_equal(count_text(&out, "Vraag overgeslagen."), 1);
    assert_false(has_effect(&out, "escalate", NULL, NULL));
    assert_true(json_is_true(json_object_get(
        json_object_get(json_object_get(state, "slots"), "goal"), "unknown")));
    assert_string_equal(json_string_value(json_object_get(state, "node")),
                        "summary");
    eng_output_free(&out);
    json_decref(state);
}

static void node_answers_fill_slot(void **ctx)
{
    fixture_t *f = *ctx;
    json_t *state = started(f);
    eng_output_t out;
    say(f, &state, "slot:region=limburg", &out);
    eng_output_free(&out);
    say(f, &state, "Iets met talent!", &out);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(state, "slots"), "goal"), "value")),
        "talent");
    eng_output_free(&out);
    json_decref(state);
}

static void acknowledgements_vary(void **ctx)
{
    fixture_t *f = *ctx;
    json_t *state = started(f);
    eng_output_t out;
    say(f, &state, "slot:region=limburg", &out);
    eng_output_free(&out);
    say(f, &state, "intent:dont_know", &out);
    assert_int_equal(count_text(&out, "Geen probleem."), 1);
    eng_output_free(&out);
    say(f, &state, "ask:goal", &out);
    eng_output_free(&out);
    say(f, &state, "intent:dont_know", &out);
    assert_int_equal(count_text(&out, "Geen probleem."), 0);
    assert_int_equal(count_text(&out, "Goed."), 1);
    eng_output_free(&out);
    json_decref(state);
}

static void consent_question_takes_yes_or_no(void **ctx)
{
    fixture_t *f = *ctx;
    json_t *state = started(f);
    eng_output_t out;
    reach_consent_question(f, &state);
    say(f, &state, "slot:goal=talent", &out);
    assert_string_equal(last_text(&out), "Ik heb uw toestemming nodig.");
    assert_string_equal(json_string_value(json_object_get(state, "node")),
                        "ask_consent");
    eng_output_free(&out);
    /* A reply that is neither yes nor no never counts as a no. */
    for (int i = 0; i < 3; i++) {
        say(f, &state, "An Peeters", &out);
        assert_string_equal(last_text(&out), "Ik heb uw toestemming nodig.");
        assert_string_equal(json_string_value(json_object_get(state, "node")),
                            "ask_consent");
        assert_false(json_is_true(json_object_get(state, "consent")));
        eng_output_free(&out);
    }
    say(f, &state, "laat maar", &out);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(out.messages, 0), "text")),
                        "Ik bewaar niets.");
    assert_false(json_is_true(json_object_get(state, "consent")));
    eng_output_free(&out);
    json_decref(state);
}

static void contact_at_consent_question_is_yes(void **ctx)
{
    fixture_t *f = *ctx;
    json_t *state = started(f);
    eng_output_t out;
    reach_consent_question(f, &state);
    say(f, &state, "an@example.be", &out);
    assert_true(json_is_true(json_object_get(state, "consent")));
    assert_string_equal(json_string_value(json_object_get(state, "node")),
                        "collect_name");
    eng_output_free(&out);
    say(f, &state, "An Peeters", &out);
    json_t *effect = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(out.effects, i, e)
    {
        if (!strcmp(json_string_value(json_object_get(e, "type")), "callback"))
            effect = e;
    }
    assert_non_null(effect);
    assert_string_equal(json_string_value(json_object_get(effect, "email")),
                        "an@example.be");
    assert_string_equal(json_string_value(json_object_get(effect, "name")),
                        "An Peeters");
    eng_output_free(&out);
    json_decref(state);
}

static void capture_stops_only_on_cancel_words(void **ctx)
{
    fixture_t *f = *ctx;
    json_t *state = started(f);
    eng_output_t out;
    const char *lines[] = {"intent:ask_human", "intent:affirm",
                           "intent:affirm"};
    for (size_t i = 0; i < 3; i++) {
        say(f, &state, lines[i], &out);
        eng_output_free(&out);
    }
    say(f, &state, "intent:deny", &out); /* a name, however odd */
    assert_string_equal(last_text(&out), "Uw e-mail of telefoon?");
    eng_output_free(&out);
    say(f, &state, "Laat maar.", &out);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(out.messages, 0), "text")),
                        "Ik bewaar niets.");
    assert_null(json_object_get(state, "contact"));
    assert_false(has_effect(&out, "callback", NULL, NULL));
    eng_output_free(&out);
    json_decref(state);
}

static void unknown_version_starts_over(void **ctx)
{
    fixture_t *f = *ctx;
    json_t *old = json_pack("{s:i, s:s, s:s}", "v", 99, "mode", "advisor",
                            "node", "summary");
    eng_event_t ev = {.kind = ENG_EV_VISITOR_TEXT, .text = "hallo"};
    eng_output_t out;
    assert_int_equal(eng_step(&f->content, old, &ev, &out), 0);
    assert_int_equal(json_integer_value(json_object_get(out.state, "v")), 1);
    assert_string_equal(eng_state_mode(out.state), "bot");
    assert_int_equal(
        json_integer_value(json_object_get(out.debug, "state_reset")), 99);
    assert_true(json_array_size(out.messages) > 0);
    assert_int_equal(json_integer_value(json_object_get(old, "v")), 99);
    eng_output_free(&out);
    json_decref(old);
}

static int has_error(const content_errors_t *errs, const char *part)
{
    for (size_t i = 0; i < errs->count; i++)
        if (strstr(errs->items[i].message, part) && errs->items[i].line > 0)
            return 1;
    return 0;
}

static void load_reports_every_error(void **ctx)
{
    (void)ctx;
    content_errors_t errs = {0};
    kb_t *kb = kb_load(KB_DIR, LANG_DIR, &errs);
    assert_non_null(kb);
    dlg_script_t *script = dlg_load(FIXTURES "/broken", NULL, kb, &errs);
    kb_free(kb);
    assert_null(script);
    assert_true(has_error(&errs, "unknown node \"nowhere\""));
    assert_true(has_error(&errs, "unknown key \"colour\""));
    assert_true(has_error(&errs, "unknown slot \"budget\""));
    assert_true(has_error(&errs, "say must be"));
    assert_true(has_error(&errs, "has no prompt"));
    assert_true(has_error(&errs, "\"lonely\" is unreachable"));
    assert_true(has_error(&errs, "unknown action \"fly\""));
    assert_true(has_error(&errs, "number_as needs a node with a slot"));
    assert_true(has_error(&errs, "unknown value \"geld\" of slot goal"));
    assert_true(has_error(&errs, "unknown value \"limburgg\" of slot region"));
    assert_true(has_error(&errs, "slot \"goal\" lists values"));
    assert_true(has_error(&errs, "unknown placeholder {ofice_hours}"));
    assert_true(has_error(&errs, "the text lacks the placeholder {open}"));
    assert_true(has_error(&errs, "office_weekdays must list the 7 days"));
    assert_true(has_error(&errs, "below 5 is not greater than 10"));
    assert_true(has_error(&errs, "ordinal_words must map words"));
    assert_true(has_error(&errs, "out_of_scope_topics must map topic"));
    assert_true(has_error(&errs, "entry_intent_words must map intent"));
    assert_true(has_error(&errs, "unknown topic \"weather\""));
    assert_true(has_error(&errs, "hint must be"));
    assert_true(has_error(&errs, "resume must be true or false"));
    assert_true(has_error(&errs, "invalid route command \"route:first\""));
    assert_true(
        has_error(&errs, "invalid checklist command \"checklist:5-2\""));
    assert_true(has_error(&errs, "unknown node \"short_list\""));
    assert_true(has_error(&errs, "a typed \"ja\" is not handled"));
    assert_true(has_error(&errs, "unknown node \"escalate_route\"") ||
                has_error(&errs, "has no way out"));
    int missing_text = 0;
    for (size_t i = 0; i < errs.count; i++)
        if (strstr(errs.items[i].message, "missing text \"fallback\""))
            missing_text = 1;
    assert_true(missing_text);
    content_errors_free(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(start_sends_welcome, setup, teardown),
        cmocka_unit_test_setup_teardown(step_is_pure, setup, teardown),
        cmocka_unit_test_setup_teardown(state_round_trips_json, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(slots_skip_known_questions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(dont_know_marks_unknown, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(correction_is_confirmed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(summary_uses_facet_labels, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unsure_turns_escalate, setup, teardown),
        cmocka_unit_test_setup_teardown(escalation_waits_for_advisor, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(office_hours_in_callback_offer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(advisor_mode_is_silent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(callback_needs_consent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(slot_question_asked_twice_at_most,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(node_answers_fill_slot, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(acknowledgements_vary, setup, teardown),
        cmocka_unit_test_setup_teardown(consent_question_takes_yes_or_no, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(contact_at_consent_question_is_yes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(capture_stops_only_on_cancel_words,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_version_starts_over, setup,
                                        teardown),
        cmocka_unit_test(load_reports_every_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
