// http_server.c — see http_server.h.
#include "http_server.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

// 0, or -1 when the client went away
static int send_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static void serve_one(server *s, int c) {
    char req[8192] = "";
    size_t got = 0;
    while (got < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
        ssize_t n = recv(c, req + got, sizeof req - 1 - got, 0);
        if (n <= 0) return;
        got += (size_t)n;
        req[got] = '\0';
    }
    atomic_fetch_add(&s->requests, 1);
    char path[1024] = "";
    sscanf(req, "GET %1023s", path);
    long from = -1;
    const char *rg = strstr(req, "\r\nRange: bytes=");
    pthread_mutex_lock(&s->mu);
    s->last_range[0] = '\0';
    if (rg) {
        from = strtol(rg + 15, NULL, 10);
        snprintf(s->last_range, sizeof s->last_range, "bytes=%ld-", from);
    }
    pthread_mutex_unlock(&s->mu);
    srv_file *f = NULL;
    for (int i = 0; i < s->nfiles; i++)
        if (strcmp(s->files[i].path, path) == 0) f = &s->files[i];
    char head[1024];
    if (!f) {
        const char *body = "not found";
        snprintf(head, sizeof head, "HTTP/1.1 404 Not Found\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                 strlen(body));
        send_all(c, head, strlen(head));
        send_all(c, body, strlen(body));
        return;
    }
    char etag[128] = "";
    if (f->linked_etag) snprintf(etag, sizeof etag, "X-Linked-Etag: \"%s\"\r\n", f->linked_etag);
    size_t start = 0;
    if (from >= 0 && !f->ignore_range) {
        if ((size_t)from >= f->len) {
            snprintf(head, sizeof head,
                     "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            send_all(c, head, strlen(head));
            return;
        }
        start = (size_t)from;
        snprintf(head, sizeof head,
                 "HTTP/1.1 206 Partial Content\r\nContent-Length: %zu\r\nContent-Range: bytes "
                 "%zu-%zu/%zu\r\n%sConnection: close\r\n\r\n",
                 f->len - start, start, f->len - 1, f->len, etag);
    } else {
        snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n", f->len,
                 etag);
    }
    send_all(c, head, strlen(head));
    size_t n = f->len - start;
    if (f->drop_once && atomic_fetch_add(&s->dropped, 1) == 0) n /= 2;
    if (f->stall) n = n < 4096 ? n / 2 : 4096;
    if (!f->trickle) {
        send_all(c, f->data + start, n);
    } else {
        for (size_t at = 0, piece = 64 * 1024; at < n; at += piece) {
            if (send_all(c, f->data + start + at, n - at < piece ? n - at : piece) != 0) return;
            usleep(10000);
        }
    }
    while (f->stall && !atomic_load(&s->stopping)) {   // until the client hangs up or the server stops
        struct pollfd p = {.fd = c, .events = POLLIN};
        char byte;
        if (poll(&p, 1, 100) == 1 && recv(c, &byte, 1, MSG_DONTWAIT) <= 0) break;
    }
}

static void *server_main(void *arg) {
    server *s = arg;
    for (;;) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0) return NULL;   // the listening socket was shut down
        serve_one(s, c);
        shutdown(c, SHUT_WR);
        close(c);
    }
}

void server_start(server *s) {
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(s->fd, 0);
    int one = 1;
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    cr_assert_eq(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(s->fd, 16), 0);
    getsockname(s->fd, (struct sockaddr *)&a, &alen);
    s->port = ntohs(a.sin_port);
    pthread_mutex_init(&s->mu, NULL);
    cr_assert_eq(pthread_create(&s->th, NULL, server_main, s), 0);
    char mirror[64];
    snprintf(mirror, sizeof mirror, "http://127.0.0.1:%d", s->port);
    setenv("FROST_WEIGHTS_MIRROR", mirror, 1);
}

void server_stop(server *s) {
    atomic_store(&s->stopping, 1);
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    pthread_join(s->th, NULL);
}

void server_last_range(server *s, char *out, size_t len) {
    pthread_mutex_lock(&s->mu);
    snprintf(out, len, "%s", s->last_range);
    pthread_mutex_unlock(&s->mu);
}
