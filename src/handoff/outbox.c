/* The partner outbox worker: see outbox.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <time.h>

#include <curl/curl.h>

#include "common/log.h"
#include "handoff/assign.h"
#include "handoff/outbox.h"
#include "store/handoff.h"

struct handoff_outbox {
    handoff_outbox_options_t options;
    json_t *partners; /* owned copy */
    store_t *store;   /* the worker's own connection */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int woken;
    atomic_int stopping;
};

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *handoff_partner_body(const char *conversation, const json_t *effect,
                           long long now)
{
    const char *partner = json_string_value(json_object_get(effect, "partner"));
    const json_t *slots = json_object_get(effect, "slots");
    const char *reason = json_string_value(json_object_get(effect, "reason"));
    json_t *body;
    char *text;

    if (!partner || !*partner)
        return NULL;
    body =
        json_pack("{s:s,s:s,s:s?,s:o,s:b,s:I}", "conversation", conversation,
                  "partner", partner, "reason", reason, "slots",
                  json_is_object(slots) ? json_deep_copy(slots) : json_object(),
                  "consent", 1, "created", (json_int_t)now);
    if (!body)
        return NULL;

    /* Contact details and the question go to a partner only with the
     * visitor's explicit consent to share them. */
    if (json_is_true(json_object_get(effect, "contact_consent"))) {
        static const char *const fields[] = {"name", "email", "phone",
                                             "question"};
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            json_t *value = json_object_get(effect, fields[i]);
            if (json_is_string(value))
                json_object_set(body, fields[i], value);
        }
        json_object_set_new(body, "contact_consent", json_true());
    }
    text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return text;
}

long long handoff_outbox_enqueue(store_t *store, const char *conversation,
                                 const json_t *effect, long long now_ms_value)
{
    char *body =
        handoff_partner_body(conversation, effect, now_ms_value / 1000);
    long long id;

    if (!body) {
        LOG_WARN("outbox",
                 "conversation %s: partner effect without a "
                 "partner id dropped",
                 conversation);
        return -1;
    }
    id = store_outbox_add(store, conversation,
                          json_string_value(json_object_get(effect, "partner")),
                          body, now_ms_value, NULL);
    free(body);
    if (id > 0)
        LOG_INFO("outbox", "conversation %s: partner request %lld queued",
                 conversation, id);
    return id;
}

static size_t discard_response(char *data, size_t size, size_t count, void *arg)
{
    (void)data;
    (void)arg;
    return size * count;
}

static int abort_when_stopping(void *arg, curl_off_t dltotal, curl_off_t dlnow,
                               curl_off_t ultotal, curl_off_t ulnow)
{
    const handoff_outbox_t *outbox = arg;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return outbox->stopping ? 1 : 0;
}

/* Adds "request_id" to the stored body. Returns a new string or NULL. */
static char *body_with_request_id(const store_outbox_row_t *row)
{
    json_t *body = json_loads(row->body, 0, NULL);
    char *text;

    if (!json_is_object(body)) {
        json_decref(body);
        return NULL;
    }
    json_object_set_new(body, "request_id", json_string(row->request_id));
    text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return text;
}

/* POSTs one request. Returns 0 on a 2xx status, or -1 with `error` naming
 * the cause. */
static int post(handoff_outbox_t *outbox, const store_outbox_row_t *row,
                char *error, size_t size)
{
    const json_t *partner = json_object_get(outbox->partners, row->partner);
    const char *url = json_string_value(json_object_get(partner, "url"));
    const char *token = json_string_value(json_object_get(partner, "token"));
    struct curl_slist *headers = NULL;
    char line[256];
    char *body;
    CURL *curl;
    CURLcode rc;
    long status = 0;

    if (!url) {
        snprintf(error, size,
                 "partner \"%s\" has no \"url\" in the partners setting",
                 row->partner);
        return -1;
    }
    body = body_with_request_id(row);
    curl = curl_easy_init();
    if (!body || !curl) {
        snprintf(error, size, "out of memory or invalid stored body");
        free(body);
        curl_easy_cleanup(curl);
        return -1;
    }

    headers = curl_slist_append(headers, "Content-Type: application/json");
    snprintf(line, sizeof line, "Idempotency-Key: %s", row->request_id);
    headers = curl_slist_append(headers, line);
    if (token) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", token);
        headers = curl_slist_append(headers, line);
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "stemdesk-outbox");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, outbox->options.timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     outbox->options.timeout_ms);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_response);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, abort_when_stopping);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, outbox);

    rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    free(body);

    if (rc != CURLE_OK) {
        snprintf(error, size, "%s", curl_easy_strerror(rc));
        return -1;
    }
    if (status < 200 || status > 299) {
        snprintf(error, size, "HTTP status %ld", status);
        return -1;
    }
    return 0;
}

/* Delivers one due request and records the result. */
static void deliver(handoff_outbox_t *outbox, const store_outbox_row_t *row)
{
    char error[256] = "";
    int attempts = row->attempts + 1;
    int changed = 0;

    if (post(outbox, row, error, sizeof error) == 0) {
        if (store_outbox_delivered(outbox->store, row->id, now_ms() / 1000) ==
            0) {
            LOG_INFO("outbox",
                     "conversation %s: partner request %lld delivered to %s "
                     "(attempt %d)",
                     row->conversation, row->id, row->partner, attempts);
            changed = 1;
        }
    } else if (attempts >= outbox->options.max_attempts) {
        LOG_ERROR("outbox",
                  "conversation %s: partner request %lld to %s failed after "
                  "%d attempts: %s; it is listed in the console",
                  row->conversation, row->id, row->partner, attempts, error);
        store_outbox_attempt_failed(outbox->store, row->id, attempts, now_ms(),
                                    1, error);
        changed = 1;
    } else {
        long long delay =
            handoff_backoff_ms(attempts, outbox->options.backoff_ms);
        LOG_WARN("outbox",
                 "conversation %s: partner request %lld to %s failed "
                 "(attempt %d of %d): %s; retrying in %lld ms",
                 row->conversation, row->id, row->partner, attempts,
                 outbox->options.max_attempts, error, delay);
        store_outbox_attempt_failed(outbox->store, row->id, attempts,
                                    now_ms() + delay, 0, error);
    }
    if (changed && outbox->options.on_change)
        outbox->options.on_change(outbox->options.on_change_arg);
}

/* Sleeps until `due_ms` (0: for a minute), a wake-up or a stop. */
static void wait_until(handoff_outbox_t *outbox, long long due_ms)
{
    struct timespec deadline;
    long long until = due_ms ? due_ms : now_ms() + 60000;

    deadline.tv_sec = until / 1000;
    deadline.tv_nsec = (until % 1000) * 1000000;
    pthread_mutex_lock(&outbox->lock);
    while (!outbox->woken && !outbox->stopping) {
        if (pthread_cond_timedwait(&outbox->wake, &outbox->lock, &deadline) ==
            ETIMEDOUT)
            break;
    }
    outbox->woken = 0;
    pthread_mutex_unlock(&outbox->lock);
}

static void *run_worker(void *arg)
{
    handoff_outbox_t *outbox = arg;

    while (!outbox->stopping) {
        store_outbox_row_t row;
        long long next = 0;
        int rc = store_outbox_next(outbox->store, now_ms(), &row, &next);

        if (rc == 0) {
            deliver(outbox, &row);
            store_outbox_row_clear(&row);
            continue;
        }
        /* On a database error, try again in a second. */
        wait_until(outbox, rc < 0 ? now_ms() + 1000 : next);
    }
    return NULL;
}

handoff_outbox_t *handoff_outbox_start(const handoff_outbox_options_t *options,
                                       char *err, size_t size)
{
    handoff_outbox_t *outbox = calloc(1, sizeof *outbox);

    if (!outbox) {
        snprintf(err, size, "out of memory starting the outbox");
        return NULL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, size, "libcurl failed to initialise");
        free(outbox);
        return NULL;
    }
    outbox->options = *options;
    if (outbox->options.timeout_ms <= 0)
        outbox->options.timeout_ms = 10000;
    if (outbox->options.max_attempts < 1)
        outbox->options.max_attempts = 1;
    outbox->partners =
        options->partners ? json_deep_copy(options->partners) : json_object();
    outbox->store = store_open(options->db_path, err, size);
    if (!outbox->store) {
        json_decref(outbox->partners);
        free(outbox);
        return NULL;
    }
    pthread_mutex_init(&outbox->lock, NULL);
    pthread_cond_init(&outbox->wake, NULL);
    if (pthread_create(&outbox->thread, NULL, run_worker, outbox) != 0) {
        snprintf(err, size, "cannot start the outbox thread: %s",
                 strerror(errno));
        pthread_cond_destroy(&outbox->wake);
        pthread_mutex_destroy(&outbox->lock);
        store_close(outbox->store);
        json_decref(outbox->partners);
        free(outbox);
        return NULL;
    }
    LOG_INFO("outbox", "started: %d attempts, first retry after %lld ms",
             outbox->options.max_attempts, outbox->options.backoff_ms);
    return outbox;
}

void handoff_outbox_wake(handoff_outbox_t *outbox)
{
    if (!outbox)
        return;
    pthread_mutex_lock(&outbox->lock);
    outbox->woken = 1;
    pthread_cond_signal(&outbox->wake);
    pthread_mutex_unlock(&outbox->lock);
}

void handoff_outbox_stop(handoff_outbox_t *outbox)
{
    if (!outbox)
        return;
    pthread_mutex_lock(&outbox->lock);
    outbox->stopping = 1;
    pthread_cond_signal(&outbox->wake);
    pthread_mutex_unlock(&outbox->lock);
    pthread_join(outbox->thread, NULL);
    pthread_cond_destroy(&outbox->wake);
    pthread_mutex_destroy(&outbox->lock);
    store_close(outbox->store);
    json_decref(outbox->partners);
    free(outbox);
    LOG_INFO("outbox", "stopped");
}
