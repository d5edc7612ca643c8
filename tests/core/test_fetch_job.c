// test_fetch_job.c — weights downloaded on a thread of its own (core/jobs/fetch_job.c) from the tests' own
// server on 127.0.0.1: the owner polls the bytes as they arrive (never more than the total, never
// going back) until done, and the file is the served one; a cancel stops the download and keeps its
// part. Part of the ThreadSanitizer run (make tsan). The download itself: test_fetch.c.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch_job.h"
#include "fixtures.h"
#include "http_server.h"

TestSuite(fetch_job, .init = fx_caches_init, .fini = fx_caches_fini, .timeout = 60);

// Polls j until done: checks each reading against the one before; the last reading in *done, *total.
static void poll_until_done(fetch_job *j, uint64_t *done, uint64_t *total) {
    *done = *total = 0;
    int readings = 0;
    for (int i = 0; i < 50000 && !fetch_job_done(j); i++) {
        uint64_t d, t;
        fetch_job_poll(j, &d, &t);
        cr_expect(d >= *done, "the bytes went back: %llu after %llu", (unsigned long long)d, (unsigned long long)*done);
        cr_expect(t == 0 || d <= t, "%llu bytes of %llu", (unsigned long long)d, (unsigned long long)t);
        *done = d;
        *total = t;
        readings++;
        usleep(200);
    }
    cr_assert(fetch_job_done(j), "the download never finished");
    fetch_job_poll(j, done, total);
}

#define N_BYTES ((size_t)2 << 20)   // 32 pieces: a download of a third of a second

// A download of N_BYTES random bytes (seed) served as /models/NAME, trickled, and its started job.
typedef struct {
    unsigned char *data;
    char hex[65], file[32], url[128];
    server s;
    weights_entry e;
    fetch_job *j;
} download;

static void start_download(download *d, const char *name, unsigned seed) {
    d->data = fx_random_bytes(N_BYTES, seed);
    fx_sha256_hex(d->data, N_BYTES, d->hex);
    snprintf(d->file, sizeof d->file, "%s", name);
    snprintf(d->url, sizeof d->url, "https://download.pytorch.org/models/%s", name);
    d->s = (server){
        .nfiles = 1,
        .files = {
            {.path = d->url + strlen("https://download.pytorch.org"), .data = d->data, .len = N_BYTES, .trickle = 1}}};
    server_start(&d->s);
    d->e = (weights_entry){
        .arch = "resnet18", .source = "torchvision", .tag = "TEST", .file = d->file, .url = d->url, .sha256 = d->hex};
    char err[1024] = "";
    d->j = fetch_job_start(&d->e, err, sizeof err);
    cr_assert_not_null(d->j, "%s", err);
}

// Frees the job (waiting for it), then stops the server.
static void end_download(download *d) {
    fetch_job_free(d->j);
    server_stop(&d->s);
    free(d->data);
}

Test(fetch_job, polled_until_done_lands_the_file) {
    download d;
    start_download(&d, "j.pth", 11);
    cr_expect_eq(fetch_job_entry(d.j), &d.e);
    uint64_t done, total;
    poll_until_done(d.j, &done, &total);
    fetch_result res;
    char err[1024] = "";
    int rc = fetch_job_result(d.j, &res, err, sizeof err);
    cr_expect_eq(rc, 0, "%s", err);
    cr_expect_eq(done, N_BYTES);
    cr_expect_eq(total, N_BYTES);
    if (rc == 0) {
        cr_expect_eq(res.downloaded, 1);
        fx_expect_file_is(res.path, d.data, N_BYTES);
    }
    end_download(&d);
}

Test(fetch_job, cancel_stops_and_keeps_the_part) {
    download d;
    start_download(&d, "k.pth", 12);
    uint64_t done = 0, total = 0;
    for (int i = 0; i < 50000 && done == 0 && !fetch_job_done(d.j); i++) {
        fetch_job_poll(d.j, &done, &total);
        usleep(200);
    }
    fetch_job_cancel(d.j);
    for (int i = 0; i < 50000 && !fetch_job_done(d.j); i++) usleep(200);
    cr_expect(fetch_job_done(d.j), "a cancelled download ends");
    fetch_result res;
    char err[1024] = "";
    int rc = fetch_job_result(d.j, &res, err, sizeof err);
    end_download(&d);
    cr_assert_eq(rc, -1, "cancelled after %llu of %llu bytes", (unsigned long long)done, (unsigned long long)N_BYTES);
    cr_expect(strstr(err, "cancelled"), "%s", err);
    char part[4200];
    snprintf(part, sizeof part, "%s/k.pth.part", fx_cache);
    struct stat st;
    cr_expect(stat(part, &st) == 0 && st.st_size > 0, "what arrived is kept for a resume");
}

// Freed while it downloads: the free cancels it and waits.
Test(fetch_job, freed_while_downloading) {
    download d;
    start_download(&d, "f.pth", 13);
    end_download(&d);
}
