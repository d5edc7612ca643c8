// test_weights.c — `frost weights list|fetch|path`: the table, the caches, downloads from a server the
// test runs on 127.0.0.1 (support/http_server.c) with their progress, and one-line refusals.
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fetch.h"
#include "fixtures.h"
#include "frost_torch.h"
#include "http_server.h"
#include "testutil.h"
#include "weights.h"
#include "weights_table.h"

TestSuite(cli_weights, .init = fx_caches_init, .fini = fx_caches_fini, .timeout = 60);

// the size of the files served
#define N_BYTES 300000

Test(cli_weights, cli_list_shows_every_architecture_and_the_caches) {
    char path[4096];
    snprintf(path, sizeof path, "%s/torch/hub/checkpoints/vgg16-397923af.pth", fx_tmp);
    tu_mkdirs_for(path);
    cr_assert_eq(tu_write_file(path, "x", 1), 0);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"weights", "list", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    for (size_t i = 0; i < ft_arch_count(); i++) {
        const weights_entry *e = weights_table_find(ft_arch_name(i), NULL);
        const char *line = strstr(r.out, e->file);
        cr_assert_not_null(line, "%s missing:\n%s", e->file, r.out);
        const char *eol = strchr(line, '\n');
        int cached = strncmp(eol - strlen(path), path, strlen(path)) == 0;
        cr_expect_eq(cached, strcmp(e->arch, "vgg16") == 0, "%.*s", (int)(eol - line), line);
    }
    cr_expect_eq(tu_count_lines(r.out), 1 + weights_table_count() + 2, "%s", r.out);
    cr_expect(strstr(r.out, fx_cache), "names frost's cache:\n%s", r.out);
    tu_run_free(&r);
}

Test(cli_weights, cli_path_prints_the_file_or_how_to_get_it) {
    char path[4096];
    snprintf(path, sizeof path, "%s/torch/hub/checkpoints/resnet50-0676ba61.pth", fx_tmp);
    tu_mkdirs_for(path);
    cr_assert_eq(tu_write_file(path, "x", 1), 0);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"weights", "path", "resnet50", NULL});
    cr_expect_eq(r.status, 0, "%s", r.err);
    char want[4200];
    snprintf(want, sizeof want, "%s\n", path);
    cr_expect_str_eq(r.out, want);
    tu_run_free(&r);
    tu_run_frost(&r, (const char *[]){"weights", "path", "resnet50", "--source", "torchvision-v2", NULL});
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "frost weights fetch resnet50 --source torchvision-v2") &&
                  strstr(r.err, "resnet50-11ad3fa6.pth"),
              "%s", r.err);
    cr_expect_eq(tu_count_lines(r.err), 1, "%s", r.err);
    tu_run_free(&r);
    tu_run_frost(&r, (const char *[]){"weights", "path", "resnet17", NULL});
    cr_expect_eq(r.status, 2, "%s", r.err);
    tu_run_free(&r);
    tu_run_frost(&r, (const char *[]){"weights", "path", "vgg16", "--source", "torchvision-v2", NULL});
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.err, "no torchvision-v2"), "%s", r.err);
    tu_run_free(&r);
    tu_run_frost(&r, (const char *[]){"weights", "path", "vgg16", "--source", "caffe", NULL});
    cr_expect_eq(r.status, 2, "%s", r.err);
    tu_run_free(&r);
}

Test(cli_weights, cli_fetch_downloads_shows_progress_and_then_finds_it) {
    unsigned char *data = fx_random_bytes(N_BYTES, 11);
    char hex[65];
    fx_sha256_hex(data, N_BYTES, hex);
    server s = {.nfiles = 1,
                .files = {{.path = "/timm/vgg11.tv_in1k/resolve/main/model.safetensors",
                           .data = data,
                           .len = N_BYTES,
                           .linked_etag = hex}}};
    server_start(&s);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"weights", "fetch", "vgg11", "--source", "timm", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    char want[4200];
    snprintf(want, sizeof want, "%s/vgg11.tv_in1k.safetensors\n", fx_cache);
    cr_expect_str_eq(r.out, want, "stdout holds only the path");
    cr_expect(strstr(r.err, "(100%)") && strstr(r.err, "sha256 verified"), "%s", r.err);
    cr_expect(strchr(r.err, '\r') == NULL, "no bar redraws when stderr is not a terminal");
    want[strlen(want) - 1] = '\0';
    fx_expect_file_is(want, data, N_BYTES);
    tu_run_free(&r);
    // a second fetch finds it; path prints it
    tu_run_frost(&r, (const char *[]){"weights", "fetch", "vgg11", "--source", "timm", NULL});
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.err, "already in the cache"), "%s", r.err);
    tu_run_free(&r);
    tu_run_frost(&r, (const char *[]){"weights", "path", "vgg11", "--source", "timm", NULL});
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "vgg11.tv_in1k.safetensors"), "%s", r.out);
    tu_run_free(&r);
    server_stop(&s);
    cr_expect_eq(atomic_load(&s.requests), 1, "one download, then the cache");
    free(data);
}

Test(cli_weights, cli_fetch_refuses_a_file_that_is_not_torchvisions) {
    unsigned char *data = fx_random_bytes(N_BYTES, 12);   // its sha256 does not start with f37072fd
    server s = {.nfiles = 1, .files = {{.path = "/models/resnet18-f37072fd.pth", .data = data, .len = N_BYTES}}};
    server_start(&s);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"weights", "fetch", "resnet18", NULL});
    server_stop(&s);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "sha256 mismatch") && strstr(r.err, "expected f37072fd"), "%s", r.err);
    cr_expect_str_eq(r.out, "");
    char final[4096];
    snprintf(final, sizeof final, "%s/resnet18-f37072fd.pth", fx_cache);
    cr_expect(!fx_exists(final));
    tu_run_free(&r);
    free(data);
}

Test(cli_weights, cli_fetch_offline_says_so_in_one_line) {
    setenv("FROST_WEIGHTS_MIRROR", "http://127.0.0.1:1", 1);   // port 1: nothing listens
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"weights", "fetch", "vgg16", NULL});
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "cannot reach 127.0.0.1:1") && strstr(r.err, "copy vgg16-397923af.pth into") &&
                  strstr(r.err, "https://download.pytorch.org/models/vgg16-397923af.pth"),
              "%s", r.err);
    cr_expect_eq(tu_count_lines(r.err), 1, "%s", r.err);
    tu_run_free(&r);
    tu_run_frost(&r, (const char *[]){"weights", "fetch", NULL});
    cr_expect_eq(r.status, 2);
    tu_run_free(&r);
    tu_run_frost(&r, (const char *[]){"weights", "frobnicate", NULL});
    cr_expect_eq(r.status, 2);
    tu_run_free(&r);
}
