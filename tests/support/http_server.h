/*
 * http_server.h — a small HTTP/1.1 server for the tests that download (weights fetch, --pretrained):
 * a pthread on 127.0.0.1 serving a few files from memory (GET, Range -> 206, 404, a connection
 * dropped midway, X-Linked-Etag as the Hugging Face hub sends it). server_start points
 * FROST_WEIGHTS_MIRROR at it, so nothing leaves the machine; server_stop ends the thread.
 */
#ifndef FROST_TESTS_HTTP_SERVER_H
#define FROST_TESTS_HTTP_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

typedef struct {
    const char *path;            // URL path
    const unsigned char *data;   // what is served
    size_t len;
    int drop_once;             // the first GET sends the headers and half the body, then closes
    int ignore_range;          // answers 200 with the whole file even to a Range request
    const char *linked_etag;   // sent as X-Linked-Etag when set
    int trickle;               // the body in 64 KB pieces 10 ms apart (a download that lasts)
    int stall;                 // sends the headers and a first part of the body, then nothing more until the
                               // client hangs up or the server stops: a download in progress for as long
                               // as a test needs one
} srv_file;

typedef struct {
    int fd, port;
    pthread_t th;
    srv_file files[4];
    int nfiles;
    atomic_int requests, dropped, stopping;
    pthread_mutex_t mu;
    char last_range[64];   // the last request's Range header value ("" without one)
} server;

// Starts serving s->files on a free port of 127.0.0.1 and sets FROST_WEIGHTS_MIRROR to it (asserts).
void server_start(server *s);
// Stops listening and joins the thread.
void server_stop(server *s);
// The Range header of the last request ("bytes=N-"), "" when it had none.
void server_last_range(server *s, char *out, size_t len);

#endif
