/* The rules of the advisor queue: offers, claims, requeue and office
 * hours, as pure functions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "handoff/assign.h"

static const handoff_advisor_t an = {1, HANDOFF_ONLINE};
static const handoff_advisor_t bert = {2, HANDOFF_ONLINE};
static const handoff_advisor_t chris_away = {3, HANDOFF_AWAY};
static const handoff_advisor_t dirk_offline = {4, HANDOFF_OFFLINE};

static handoff_item_t waiting(long long queued_at)
{
    handoff_item_t item = {.state = HANDOFF_WAITING, .queued_at = queued_at};
    return item;
}

static void offered_only_to_online(void **state)
{
    const handoff_advisor_t all[] = {an, chris_away, dirk_offline, bert};
    handoff_item_t item = waiting(100);
    long long ids[4] = {0};

    (void)state;
    assert_int_equal(handoff_offer_targets(&item, all, 4, ids), 2);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 2);
    assert_int_equal(handoff_online_count(all, 4), 2);

    item.state = HANDOFF_TAKEN;
    assert_int_equal(handoff_offer_targets(&item, all, 4, ids), 0);
}

static void first_claim_wins(void **state)
{
    handoff_item_t item = waiting(100);

    (void)state;
    assert_int_equal(handoff_claim(&item, &an, 110), HANDOFF_CLAIM_OK);
    assert_int_equal(item.state, HANDOFF_TAKEN);
    assert_int_equal(item.advisor_id, 1);
    assert_int_equal(item.taken_at, 110);
    assert_int_equal(handoff_claim(&item, &bert, 111), HANDOFF_CLAIM_TAKEN);
    assert_int_equal(item.advisor_id, 1);
}

static void claim_needs_online(void **state)
{
    handoff_item_t item = waiting(100);

    (void)state;
    assert_int_equal(handoff_claim(&item, &chris_away, 110),
                     HANDOFF_CLAIM_NOT_ONLINE);
    assert_int_equal(handoff_claim(&item, &dirk_offline, 110),
                     HANDOFF_CLAIM_NOT_ONLINE);
    assert_int_equal(item.state, HANDOFF_WAITING);
    item.state = HANDOFF_CLOSED;
    assert_int_equal(handoff_claim(&item, &an, 110), HANDOFF_CLAIM_CLOSED);
}

static void requeue_when_holder_offline(void **state)
{
    handoff_item_t item = waiting(100);

    (void)state;
    handoff_claim(&item, &an, 110);
    assert_int_equal(handoff_check(&item, HANDOFF_ONLINE, 120, 111),
                     HANDOFF_KEEP);
    /* Away keeps the conversation: the advisor still has the page open. */
    assert_int_equal(handoff_check(&item, HANDOFF_AWAY, 120, 111),
                     HANDOFF_KEEP);
    assert_int_equal(handoff_check(&item, HANDOFF_OFFLINE, 120, 111),
                     HANDOFF_REQUEUE_OFFLINE);
}

static void reload_keeps_conversation(void **state)
{
    handoff_item_t item = waiting(100);

    (void)state;
    handoff_claim(&item, &an, 110);
    /* Every console closed at 200: for 30 s the holder counts as away. */
    assert_int_equal(handoff_holder_presence(HANDOFF_OFFLINE, 200, 30, 229),
                     HANDOFF_AWAY);
    assert_int_equal(
        handoff_check(&item,
                      handoff_holder_presence(HANDOFF_OFFLINE, 200, 30, 229),
                      120, 229),
        HANDOFF_KEEP);
    assert_int_equal(handoff_holder_presence(HANDOFF_OFFLINE, 200, 30, 230),
                     HANDOFF_OFFLINE);
    /* "Offline" chosen in an open console counts at once. */
    assert_int_equal(handoff_holder_presence(HANDOFF_OFFLINE, 0, 30, 229),
                     HANDOFF_OFFLINE);
    /* With no wait, a closed console is offline at once. */
    assert_int_equal(handoff_holder_presence(HANDOFF_OFFLINE, 200, 0, 200),
                     HANDOFF_OFFLINE);
    assert_int_equal(handoff_holder_presence(HANDOFF_ONLINE, 200, 30, 229),
                     HANDOFF_ONLINE);
}

static void requeue_when_holder_silent(void **state)
{
    handoff_item_t item = waiting(100);

    (void)state;
    handoff_claim(&item, &an, 110);
    assert_int_equal(handoff_check(&item, HANDOFF_ONLINE, 120, 229),
                     HANDOFF_KEEP);
    assert_int_equal(handoff_check(&item, HANDOFF_ONLINE, 120, 230),
                     HANDOFF_REQUEUE_SILENT);
    item.answered_at = 200;
    assert_int_equal(handoff_check(&item, HANDOFF_ONLINE, 120, 10000),
                     HANDOFF_KEEP);
}

static void timeout_told_once(void **state)
{
    handoff_item_t item = waiting(100);

    (void)state;
    assert_int_equal(handoff_check(&item, HANDOFF_OFFLINE, 120, 219),
                     HANDOFF_KEEP);
    assert_int_equal(handoff_check(&item, HANDOFF_OFFLINE, 120, 220),
                     HANDOFF_NOTIFY_TIMEOUT);
    item.timeout_sent = 1;
    assert_int_equal(handoff_check(&item, HANDOFF_OFFLINE, 120, 500),
                     HANDOFF_KEEP);
    item.state = HANDOFF_CLOSED;
    assert_int_equal(handoff_check(&item, HANDOFF_OFFLINE, 120, 500),
                     HANDOFF_KEEP);
}

static void office_hours_by_day(void **state)
{
    json_t *hours = json_pack("{s:[ss],s:[ss],s:[s]}", "mon", "09:00", "17:00",
                              "sat", "10:00", "12:30", "sun", "09:00");

    (void)state;
    assert_false(handoff_office_open(hours, 1, 8 * 60 + 59));
    assert_true(handoff_office_open(hours, 1, 9 * 60));
    assert_true(handoff_office_open(hours, 1, 16 * 60 + 59));
    assert_false(handoff_office_open(hours, 1, 17 * 60));
    assert_false(handoff_office_open(hours, 2, 10 * 60)); /* no tuesday */
    assert_true(handoff_office_open(hours, 6, 12 * 60 + 29));
    assert_false(handoff_office_open(hours, 6, 12 * 60 + 30));
    assert_false(handoff_office_open(hours, 0, 10 * 60)); /* malformed */
    assert_false(handoff_office_open(hours, 7, 10 * 60));
    assert_false(handoff_office_open(NULL, 1, 10 * 60));
    json_decref(hours);
}

static void presence_names_round_trip(void **state)
{
    handoff_presence_t presence;
    handoff_state_t s;

    (void)state;
    assert_int_equal(handoff_presence_parse("away", &presence), 0);
    assert_int_equal(presence, HANDOFF_AWAY);
    assert_string_equal(handoff_presence_name(presence), "away");
    assert_int_equal(handoff_presence_parse("busy", &presence), -1);
    assert_int_equal(handoff_state_parse("taken", &s), 0);
    assert_int_equal(s, HANDOFF_TAKEN);
    assert_int_equal(handoff_state_parse("open", &s), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(offered_only_to_online),
        cmocka_unit_test(first_claim_wins),
        cmocka_unit_test(claim_needs_online),
        cmocka_unit_test(requeue_when_holder_offline),
        cmocka_unit_test(reload_keeps_conversation),
        cmocka_unit_test(requeue_when_holder_silent),
        cmocka_unit_test(timeout_told_once),
        cmocka_unit_test(office_hours_by_day),
        cmocka_unit_test(presence_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
