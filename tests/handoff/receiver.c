/* A tiny HTTP server for the outbox tests: see receiver.h. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "receiver.h"

long long receiver_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int receiver_free_port(void)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = -1;

    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
        port = ntohs(addr.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Reads one request; returns the number of header+body bytes or -1. */
static int read_request(int fd, char *buf, size_t size, char **body)
{
    size_t used = 0;
    long length = -1;

    *body = NULL;
    while (used + 1 < size) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;

        if (poll(&p, 1, 2000) <= 0)
            return -1;
        n = read(fd, buf + used, size - 1 - used);
        if (n <= 0)
            return -1;
        used += (size_t)n;
        buf[used] = '\0';
        if (!*body) {
            char *end = strstr(buf, "\r\n\r\n");
            char *header;
            if (!end)
                continue;
            *body = end + 4;
            header = strcasestr(buf, "\r\nContent-Length:");
            length = header ? strtol(header + 17, NULL, 10) : 0;
        }
        if (*body && (long)(buf + used - *body) >= length)
            return (int)used;
    }
    return -1;
}

static void handle(receiver_t *r, int fd)
{
    static char buf[16384];
    char *body;
    char *key;
    int status = 200;
    char reply[160];

    if (read_request(fd, buf, sizeof buf, &body) < 0)
        return;
    pthread_mutex_lock(&r->lock);
    if (r->count < RECEIVER_MAX_REQUESTS) {
        int i = r->count++;
        r->arrived_ms[i] = receiver_now_ms();
        snprintf(r->bodies[i], sizeof r->bodies[i], "%s", body);
        key = strcasestr(buf, "\r\nIdempotency-Key: ");
        if (key)
            sscanf(key + 19, "%79[0-9a-f]", r->keys[i]);
        if (r->statuses[i])
            status = r->statuses[i];
    }
    pthread_mutex_unlock(&r->lock);
    snprintf(reply, sizeof reply,
             "HTTP/1.1 %d Test\r\nContent-Length: 0\r\n"
             "Connection: close\r\n\r\n",
             status);
    if (write(fd, reply, strlen(reply)) < 0)
        return;
}

static void *serve(void *arg)
{
    receiver_t *r = arg;

    for (;;) {
        struct pollfd p = {.fd = r->listen_fd, .events = POLLIN};
        int stop;
        int fd;

        pthread_mutex_lock(&r->lock);
        stop = r->stop;
        pthread_mutex_unlock(&r->lock);
        if (stop)
            break;
        if (poll(&p, 1, 50) <= 0)
            continue;
        fd = accept(r->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        handle(r, fd);
        close(fd);
    }
    return NULL;
}

int receiver_start(receiver_t *r, int port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    int one = 1;

    r->port = port;
    r->stop = 0;
    r->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (r->listen_fd < 0)
        return -1;
    setsockopt(r->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((unsigned short)port);
    if (bind(r->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(r->listen_fd, 16) != 0) {
        close(r->listen_fd);
        return -1;
    }
    pthread_mutex_init(&r->lock, NULL);
    if (pthread_create(&r->thread, NULL, serve, r) != 0) {
        close(r->listen_fd);
        return -1;
    }
    return 0;
}

void receiver_stop(receiver_t *r)
{
    pthread_mutex_lock(&r->lock);
    r->stop = 1;
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    close(r->listen_fd);
    pthread_mutex_destroy(&r->lock);
}

int receiver_count(receiver_t *r)
{
    int count;

    pthread_mutex_lock(&r->lock);
    count = r->count;
    pthread_mutex_unlock(&r->lock);
    return count;
}
