// test_fetch_job.c — weights downloaded on a thread of its own (core/fetch_job.c) from the tests' own
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

Test(fetch_job, polled_until_done_lands_the_file) {
    const size_t n = 2u << 20;
    unsigned char *data = fx_random_bytes(n, 11);
    char hex[65];
    fx_sha256_hex(data, n, hex);
    server s = {.nfiles = 1, .files = {{.path = "/models/j.pth", .data = data, .len = n, .trickle = 1}}};
    server_start(&s);
    weights_entry e = {.arch = "resnet18",
                       .source = "torchvision",
                       .tag = "TEST",
                       .file = "j.pth",
                       .url = "https://download.pytorch.org/models/j.pth",
                       .sha256 = hex};
    char err[1024] = "";
    fetch_job *j = fetch_job_start(&e, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    cr_expect_eq(fetch_job_entry(j), &e);
    uint64_t done, total;
    poll_until_done(j, &done, &total);
    fetch_result res;
    int rc = fetch_job_result(j, &res, err, sizeof err);
    fetch_job_free(j);
    server_stop(&s);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect_eq(done, n);
    cr_expect_eq(total, n);
    cr_expect_eq(res.downloaded, 1);
    fx_expect_file_is(res.path, data, n);
    free(data);
}

Test(fetch_job, cancel_stops_and_keeps_the_part) {
    const size_t n = 2u << 20;
    unsigned char *data = fx_random_bytes(n, 12);
    server s = {.nfiles = 1, .files = {{.path = "/models/k.pth", .data = data, .len = n, .trickle = 1}}};
    server_start(&s);
    weights_entry e = {.arch = "resnet18",
                       .source = "torchvision",
                       .tag = "TEST",
                       .file = "k.pth",
                       .url = "https://download.pytorch.org/models/k.pth"};
    char err[1024] = "";
    fetch_job *j = fetch_job_start(&e, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    uint64_t done = 0, total = 0;
    for (int i = 0; i < 50000 && done == 0 && !fetch_job_done(j); i++) {
        fetch_job_poll(j, &done, &total);
        usleep(200);
    }
    fetch_job_cancel(j);
    for (int i = 0; i < 50000 && !fetch_job_done(j); i++) usleep(200);
    cr_assert(fetch_job_done(j), "a cancelled download ends");
    fetch_result res;
    int rc = fetch_job_result(j, &res, err, sizeof err);
    fetch_job_free(j);
    server_stop(&s);
    cr_assert_eq(rc, -1, "cancelled after %llu of %llu bytes", (unsigned long long)done, (unsigned long long)n);
    cr_expect(strstr(err, "cancelled"), "%s", err);
    char part[4200];
    snprintf(part, sizeof part, "%s/k.pth.part", fx_cache);
    struct stat st;
    cr_expect(stat(part, &st) == 0 && st.st_size > 0, "what arrived is kept for a resume");
    free(data);
}

// Freed while it downloads: the free cancels it and waits.
Test(fetch_job, freed_while_downloading) {
    const size_t n = 2u << 20;
    unsigned char *data = fx_random_bytes(n, 13);
    server s = {.nfiles = 1, .files = {{.path = "/models/f.pth", .data = data, .len = n, .trickle = 1}}};
    server_start(&s);
    weights_entry e = {.arch = "resnet18",
                       .source = "torchvision",
                       .file = "f.pth",
                       .url = "https://download.pytorch.org/models/f.pth"};
    char err[1024] = "";
    fetch_job *j = fetch_job_start(&e, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    fetch_job_free(j);
    server_stop(&s);
    free(data);
}
