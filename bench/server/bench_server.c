/* Load client of the server benchmark. It starts `stemdesk serve
 * --bench-echo` on a temporary database, then measures, in one run:
 *
 *   - visitor turns over /chat (message sent to the first bot reply) at
 *     100 and 1,000 concurrent conversations, each next to the same load
 *     on the bare echo socket /bench-echo of the same server, as p50, p99
 *     and turns per second, with the ratio turn/echo;
 *   - the server's resident memory (VmRSS) with 10,000 idle visitor
 *     sockets that each said hello.
 *
 * Each client sends its next turn as soon as the previous one is answered
 * (closed loop, no think time). Usage:
 *   bench_server STEMDESK_BINARY [--turns N] [--idle N] [--port N]
 *                [--commit-interval-ms N] [--db-synchronous full|normal]
 * Run it from the repository root so that the server finds its content. */
#include <errno.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef enum { PATH_CHAT, PATH_ECHO } path_t;

typedef enum {
    CLIENT_CONNECTING,
    CLIENT_HELLO, /* hello sent, waiting for the first status */
    CLIENT_READY, /* idle, between turns or phases */
    CLIENT_TURN,  /* a turn is in flight */
    CLIENT_DONE,
    CLIENT_FAILED
} client_state_t;

typedef struct bench bench_t;

typedef struct {
    bench_t *bench;
    struct lws *wsi;
    int index;
    client_state_t state;
    int turns_done;
    double sent_at;
    long long ack_seq; /* 0 until the ack of the current turn */
    int want_send;
    char *rx;
    size_t rx_len, rx_cap;
} client_t;

struct bench {
    struct lws_context *context;
    lws_sorted_usec_list_t tick; /* wakes the loop to check deadlines */
    int port;
    path_t path;
    client_t *clients;
    int count;
    int turns;
    int started; /* turns are running */
    int connecting, ready, done, failed;
    double *samples;
    size_t sample_count;
    double first_send, last_reply;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Visitor lines the bot answers without escalating. */
static const char *const lines[] = {"Hallo", "Wat is STEM?",
                                    "Welke initiatieven zijn er?"};

static int send_text(struct lws *wsi, const char *text)
{
    size_t len = strlen(text);
    unsigned char buffer[LWS_PRE + 512];
    if (len > 512)
        return -1;
    memcpy(buffer + LWS_PRE, text, len);
    return lws_write(wsi, buffer + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len ? -1
                                                                            : 0;
}

static int send_turn(client_t *c)
{
    bench_t *b = c->bench;
    char frame[256];
    if (b->path == PATH_CHAT)
        snprintf(frame, sizeof frame,
                 "{\"type\":\"message\",\"text\":\"%s\","
                 "\"client_id\":\"b-%d-%d\"}",
                 lines[c->turns_done % 3], c->index, c->turns_done);
    else
        snprintf(frame, sizeof frame,
                 "{\"type\":\"message\",\"text\":\"%s\","
                 "\"client_id\":\"e-%d-%d\"}",
                 lines[c->turns_done % 3], c->index, c->turns_done);
    c->ack_seq = 0;
    c->sent_at = now_seconds();
    if (b->first_send == 0)
        b->first_send = c->sent_at;
    c->state = CLIENT_TURN;
    return send_text(c->wsi, frame);
}

static void finish_turn(client_t *c)
{
    bench_t *b = c->bench;
    double t = now_seconds();
    b->samples[b->sample_count++] = t - c->sent_at;
    b->last_reply = t;
    if (++c->turns_done >= b->turns) {
        c->state = CLIENT_DONE;
        b->done++;
        return;
    }
    c->state = CLIENT_READY;
    c->want_send = 1;
    lws_callback_on_writable(c->wsi);
}

/* Handles one complete frame from the server. */
static void on_frame(client_t *c, const char *data, size_t len)
{
    bench_t *b = c->bench;
    if (b->path == PATH_ECHO) {
        if (c->state == CLIENT_TURN)
            finish_turn(c);
        return;
    }
    json_t *frame = json_loadb(data, len, 0, NULL);
    const char *type = json_string_value(json_object_get(frame, "type"));
    if (!type) {
        json_decref(frame);
        return;
    }
    if (strcmp(type, "status") == 0 && c->state == CLIENT_HELLO) {
        c->state = CLIENT_READY;
        b->ready++;
    } else if (strcmp(type, "ack") == 0 && c->state == CLIENT_TURN) {
        c->ack_seq = json_integer_value(json_object_get(frame, "seq"));
    } else if (strcmp(type, "message") == 0 && c->state == CLIENT_TURN &&
               c->ack_seq > 0 &&
               json_integer_value(json_object_get(frame, "seq")) > c->ack_seq) {
        finish_turn(c);
    } else if (strcmp(type, "error") == 0) {
        fprintf(stderr, "bench: client %d got error %s\n", c->index,
                json_string_value(json_object_get(frame, "code")));
    }
    json_decref(frame);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len)
{
    client_t *c = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->bench->connecting--;
        if (c->bench->path == PATH_CHAT) {
            c->state = CLIENT_HELLO;
            c->want_send = 1;
            lws_callback_on_writable(wsi);
        } else {
            c->state = CLIENT_READY;
            c->bench->ready++;
        }
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (!c->want_send)
            return 0;
        c->want_send = 0;
        if (c->state == CLIENT_HELLO)
            return send_text(wsi, "{\"type\":\"hello\",\"token\":null,"
                                  "\"last_seq\":0}");
        return send_turn(c);
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        if (c->rx_len + len > c->rx_cap) {
            c->rx_cap = (c->rx_len + len) * 2;
            c->rx = realloc(c->rx, c->rx_cap);
        }
        memcpy(c->rx + c->rx_len, in, len);
        c->rx_len += len;
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            on_frame(c, c->rx, c->rx_len);
            c->rx_len = 0;
        }
        return 0;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        fprintf(stderr, "bench: client %d failed to connect: %s\n", c->index,
                in ? (const char *)in : "no reason");
        c->bench->connecting--;
        /* fallthrough */
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        if (!c)
            return 0;
        if (c->state != CLIENT_DONE && c->state != CLIENT_FAILED) {
            c->state = CLIENT_FAILED;
            c->bench->failed++;
        }
        c->wsi = NULL;
        return 0;
    default:
        return 0;
    }
}

/* Wakes the service loop every 50 ms, so that deadlines are checked even
 * when no socket has anything to do. */
static void tick(lws_sorted_usec_list_t *sul)
{
    bench_t *b = lws_container_of(sul, bench_t, tick);
    lws_sul_schedule(b->context, 0, &b->tick, tick, 50000);
}

static const struct lws_protocols protocols[] = {
    {"bench", callback, 0, 8192, 0, NULL, 0}, {NULL, NULL, 0, 0, 0, NULL, 0}};

static void connect_client(bench_t *b, client_t *c)
{
    struct lws_client_connect_info info;
    memset(&info, 0, sizeof info);
    info.context = b->context;
    info.address = "127.0.0.1";
    info.port = b->port;
    info.path = b->path == PATH_CHAT ? "/chat" : "/bench-echo";
    info.host = "127.0.0.1";
    info.local_protocol_name = "bench";
    info.userdata = c;
    info.pwsi = &c->wsi;
    c->state = CLIENT_CONNECTING;
    b->connecting++;
    if (!lws_client_connect_via_info(&info)) {
        b->connecting--;
        c->state = CLIENT_FAILED;
        b->failed++;
    }
}

/* Opens `count` sockets, at most 200 handshakes at a time, and waits
 * until each is ready (after hello on /chat). */
static int open_clients(bench_t *b, int count)
{
    b->clients = calloc((size_t)count, sizeof *b->clients);
    b->count = count;
    int next = 0;
    double deadline = now_seconds() + 120;
    while (b->ready + b->failed < count) {
        while (next < count && b->connecting < 200) {
            b->clients[next].bench = b;
            b->clients[next].index = next;
            connect_client(b, &b->clients[next]);
            next++;
        }
        lws_service(b->context, 0);
        if (now_seconds() > deadline) {
            fprintf(stderr, "bench: timed out opening sockets (%d ready)\n",
                    b->ready);
            return -1;
        }
    }
    return b->failed ? -1 : 0;
}

static void close_clients(bench_t *b)
{
    for (int i = 0; i < b->count; i++)
        if (b->clients[i].wsi)
            lws_set_timeout(b->clients[i].wsi, PENDING_TIMEOUT_CLOSE_SEND, 1);
    double deadline = now_seconds() + 5;
    int open;
    do {
        open = 0;
        lws_service(b->context, 0);
        for (int i = 0; i < b->count; i++)
            open += b->clients[i].wsi != NULL;
    } while (open && now_seconds() < deadline);
    for (int i = 0; i < b->count; i++)
        free(b->clients[i].rx);
    free(b->clients);
    b->clients = NULL;
    b->count = b->ready = b->done = b->failed = b->connecting = 0;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    double p50, p99, per_second;
    size_t turns;
} result_t;

/* Runs `turns` closed-loop turns on each of `count` sockets. */
static int run_load(bench_t *b, path_t path, int count, result_t *out)
{
    b->path = path;
    if (open_clients(b, count)) {
        close_clients(b);
        return -1;
    }
    b->samples = calloc((size_t)count * (size_t)b->turns, sizeof(double));
    b->sample_count = 0;
    b->first_send = b->last_reply = 0;
    for (int i = 0; i < count; i++) {
        b->clients[i].want_send = 1;
        lws_callback_on_writable(b->clients[i].wsi);
    }
    double deadline = now_seconds() + 300;
    while (b->done + b->failed < count && now_seconds() < deadline)
        lws_service(b->context, 0);

    qsort(b->samples, b->sample_count, sizeof(double), compare);
    out->turns = b->sample_count;
    out->p50 = b->sample_count ? b->samples[b->sample_count / 2] : 0;
    out->p99 = b->sample_count ? b->samples[b->sample_count * 99 / 100] : 0;
    out->per_second =
        b->last_reply > b->first_send
            ? (double)b->sample_count / (b->last_reply - b->first_send)
            : 0;
    int failed = b->failed || b->done < count;
    free(b->samples);
    b->samples = NULL;
    close_clients(b);
    return failed ? -1 : 0;
}

static long resident_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static pid_t start_server(const char *binary, int port, const char *folder,
                          const char *commit_ms, const char *synchronous)
{
    char port_text[16], db[256];
    snprintf(port_text, sizeof port_text, "%d", port);
    snprintf(db, sizeof db, "%s/bench.db", folder);
    pid_t pid = fork();
    if (pid == 0) {
        execl(binary, binary, "serve", "--bench-echo", "--port", port_text,
              "--db-path", db, "--log-level", "warn",
              "--rate-messages-per-minute", "100000",
              "--max-sockets-per-address", "1000000", "--max-sockets", "20000",
              "--commit-interval-ms", commit_ms, "--db-synchronous",
              synchronous, (char *)NULL);
        perror("bench: exec");
        _exit(127);
    }
    return pid;
}

/* Waits until the server accepts an HTTP connection on its port. */
static int wait_for_server(bench_t *b)
{
    double deadline = now_seconds() + 60;
    while (now_seconds() < deadline) {
        char command[128];
        snprintf(command, sizeof command,
                 "curl -sf -o /dev/null http://127.0.0.1:%d/healthz", b->port);
        if (system(command) == 0)
            return 0;
        usleep(100000);
    }
    return -1;
}

static void print_pair(int count, const result_t *turn, const result_t *echo)
{
    printf("%5d conversations  turn: p50 %7.3f ms  p99 %7.3f ms  %8.0f/s"
           "  (%zu turns)\n",
           count, turn->p50 * 1e3, turn->p99 * 1e3, turn->per_second,
           turn->turns);
    printf("%5d sockets        echo: p50 %7.3f ms  p99 %7.3f ms  %8.0f/s"
           "  (%zu frames)\n",
           count, echo->p50 * 1e3, echo->p99 * 1e3, echo->per_second,
           echo->turns);
    printf("%5s ratio turn/echo:       p50 %7.2f     p99 %7.2f     %8.2f\n", "",
           echo->p50 > 0 ? turn->p50 / echo->p50 : 0,
           echo->p99 > 0 ? turn->p99 / echo->p99 : 0,
           echo->per_second > 0 ? turn->per_second / echo->per_second : 0);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_server STEMDESK_BINARY [--turns N] "
                        "[--idle N] [--port N] [--commit-interval-ms N] "
                        "[--db-synchronous full|normal]\n");
        return 2;
    }
    bench_t b;
    memset(&b, 0, sizeof b);
    b.port = 18931;
    b.turns = 20;
    int idle = 10000;
    const char *commit_ms = "2";
    const char *synchronous = "full";
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--turns") == 0)
            b.turns = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--idle") == 0)
            idle = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--port") == 0)
            b.port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--commit-interval-ms") == 0)
            commit_ms = argv[i + 1];
        else if (strcmp(argv[i], "--db-synchronous") == 0)
            synchronous = argv[i + 1];
    }

    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    signal(SIGPIPE, SIG_IGN);

    char folder[] = "/tmp/stemdesk-bench-XXXXXX";
    if (!mkdtemp(folder)) {
        perror("bench: mkdtemp");
        return 1;
    }
    pid_t server =
        start_server(argv[1], b.port, folder, commit_ms, synchronous);
    if (wait_for_server(&b)) {
        fprintf(stderr, "bench: the server did not start\n");
        kill(server, SIGTERM);
        return 1;
    }

    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    b.context = lws_create_context(&info);
    lws_sul_schedule(b.context, 0, &b.tick, tick, 50000);
    setvbuf(stdout, NULL, _IOLBF, 0);

    int rc = 0;
    printf("server benchmark: %d turns per socket, commit_interval_ms %s, "
           "db_synchronous %s, open-file limit %llu\n",
           b.turns, commit_ms, synchronous, (unsigned long long)limit.rlim_cur);
    if (idle > 0) {
        long before = resident_kib(server);
        b.path = PATH_CHAT;
        if (open_clients(&b, idle) == 0) {
            sleep(1);
            long after = resident_kib(server);
            printf("%d idle visitor sockets: server VmRSS %.1f MiB "
                   "(%.1f MiB before they opened, %.2f KiB per socket)\n",
                   idle, after / 1024.0, before / 1024.0,
                   (double)(after - before) / idle);
        } else {
            fprintf(stderr, "bench: opening %d idle sockets failed\n", idle);
            rc = 1;
        }
        close_clients(&b);
    }

    const int loads[] = {100, 1000};
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        result_t turn, echo;
        if (run_load(&b, PATH_ECHO, loads[i], &echo) ||
            run_load(&b, PATH_CHAT, loads[i], &turn)) {
            fprintf(stderr, "bench: load of %d failed\n", loads[i]);
            rc = 1;
            break;
        }
        print_pair(loads[i], &turn, &echo);
    }

    lws_sul_cancel(&b.tick);
    lws_context_destroy(b.context);
    kill(server, SIGTERM);
    int status;
    waitpid(server, &status, 0);
    char command[128];
    snprintf(command, sizeof command, "rm -rf %s", folder);
    if (system(command) != 0)
        fprintf(stderr, "bench: could not remove %s\n", folder);
    return rc;
}
