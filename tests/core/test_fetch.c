// test_fetch.c — downloading pretrained weights (core/model/fetch.c) against a small HTTP/1.1 server that
// the test runs itself on 127.0.0.1 (support/http_server.c: Range -> 206, 404, a connection dropped
// midway, wrong bytes, X-Linked-Etag as the Hugging Face hub sends it). FROST_WEIGHTS_MIRROR points
// every download at it; nothing leaves the machine. `frost weights ...`: tests/cli/test_weights.c.
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
#include "path.h"
#include "testutil.h"
#include "weights.h"
#include "weights_table.h"

// ---------------------------------------------------------------------------------------------
// fixtures: a temporary home for the caches, and bytes with a known digest

TestSuite(fetch, .init = fx_caches_init, .fini = fx_caches_fini, .timeout = 60);

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

typedef struct {
    uint64_t last_done, last_total;
    int calls;
    atomic_int *cancel_at_first;   // set it once some bytes arrived
} progress_log;

static void on_progress(void *user, uint64_t done, uint64_t total) {
    progress_log *p = user;
    p->calls++;
    p->last_done = done;
    p->last_total = total;
    if (p->cancel_at_first && done > 0) atomic_store(p->cancel_at_first, 1);
}

#define N_BYTES 300000

// ---------------------------------------------------------------------------------------------
// the pieces

Test(fetch, sha256_of_a_known_vector) {
    char path[4096], hex[65], err[256];
    snprintf(path, sizeof path, "%s/abc", fx_tmp);
    cr_assert_eq(tu_write_file(path, "abc", 3), 0);
    cr_assert_eq(fetch_sha256_file(path, hex, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    snprintf(path, sizeof path, "%s/none", fx_tmp);
    cr_expect_eq(fetch_sha256_file(path, hex, err, sizeof err), -1);
    cr_expect(strstr(err, "none") != NULL, "%s", err);
}

Test(fetch, mirror_replaces_scheme_and_host) {
    char out[512];
    cr_assert_eq(fetch_mirror_url("https://download.pytorch.org/models/vgg16-397923af.pth", out, sizeof out), 0);
    cr_expect_str_eq(out, "https://download.pytorch.org/models/vgg16-397923af.pth");
    setenv("FROST_WEIGHTS_MIRROR", "http://10.1.2.3:8080/pub/", 1);
    cr_assert_eq(fetch_mirror_url("https://download.pytorch.org/models/vgg16-397923af.pth", out, sizeof out), 0);
    cr_expect_str_eq(out, "http://10.1.2.3:8080/pub/models/vgg16-397923af.pth");
    cr_assert_eq(
        fetch_mirror_url("https://huggingface.co/timm/vgg16.tv_in1k/resolve/main/model.safetensors", out, sizeof out),
        0);
    cr_expect_str_eq(out, "http://10.1.2.3:8080/pub/timm/vgg16.tv_in1k/resolve/main/model.safetensors");
    cr_expect_eq(fetch_mirror_url("https://download.pytorch.org/models/vgg16-397923af.pth", out, 10), -1);
}

Test(fetch, cache_folders_follow_the_environment) {
    char dir[4096], err[256];
    cr_assert_eq(fetch_cache_dir(dir, sizeof dir, err, sizeof err), 0);
    cr_expect_str_eq(dir, fx_cache);
    char want[4096];
    snprintf(want, sizeof want, "%s/torch/hub/checkpoints", fx_tmp);
    cr_assert_eq(fetch_torch_cache_dir(dir, sizeof dir, err, sizeof err), 0);
    cr_expect_str_eq(dir, want);
    unsetenv("TORCH_HOME");   // torch.hub's default: $XDG_CACHE_HOME/torch
    snprintf(want, sizeof want, "%s/xdg/torch/hub/checkpoints", fx_tmp);
    cr_assert_eq(fetch_torch_cache_dir(dir, sizeof dir, err, sizeof err), 0);
    cr_expect_str_eq(dir, want);
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", fx_tmp, 1);
    snprintf(want, sizeof want, "%s/.cache/frost", fx_tmp);
    cr_assert_eq(fetch_cache_dir(dir, sizeof dir, err, sizeof err), 0);
    cr_expect_str_eq(dir, want);
    unsetenv("HOME");
    cr_expect_eq(fetch_cache_dir(dir, sizeof dir, err, sizeof err), -1);
    cr_expect(strstr(err, "HOME") != NULL, "%s", err);
}

Test(fetch, table_has_a_default_for_every_architecture) {
    cr_assert_gt(ft_arch_count(), 0);
    for (size_t i = 0; i < ft_arch_count(); i++) {
        const char *arch = ft_arch_name(i);
        const weights_entry *e = weights_table_find(arch, NULL);
        cr_assert_not_null(e, "%s has no default weights", arch);
        cr_expect_str_eq(e->source, "torchvision", "%s: the default is torchvision's V1 (pretrained=True)", arch);
        cr_expect_str_eq(e->tag, "IMAGENET1K_V1");
        // torchvision's names: <arch>-<sha256 prefix>.pth, served under /models/
        char name[128], url[256];
        snprintf(name, sizeof name, "%s-%s.pth", arch, e->sha256_prefix ? e->sha256_prefix : "?");
        cr_expect_str_eq(e->file, name);
        snprintf(url, sizeof url, "https://download.pytorch.org/models/%s", e->file);
        cr_expect_str_eq(e->url, url);
        cr_expect_eq(strlen(e->sha256_prefix), 8);
        cr_expect(e->acc1 > 60 && e->acc1 < 90, "%s: acc@1 %.3f", arch, e->acc1);
        const weights_entry *t = weights_table_find(arch, "timm");
        cr_assert_not_null(t, "%s has no timm entry", arch);
        snprintf(url, sizeof url, "https://huggingface.co/timm/%s.tv_in1k/resolve/main/model.safetensors", arch);
        cr_expect_str_eq(t->url, url);
        cr_expect(!t->is_default);
    }
    int defaults = 0;
    for (size_t i = 0; i < weights_table_count(); i++) defaults += weights_table_get(i)->is_default;
    cr_expect_eq((size_t)defaults, ft_arch_count(), "one default per architecture");
    cr_expect_str_eq(weights_table_find("resnet50", "torchvision-v2")->file, "resnet50-11ad3fa6.pth");
    cr_expect_null(weights_table_find("vgg16", "torchvision-v2"));
    cr_expect_null(weights_table_find("resnet17", NULL));
}

// ---------------------------------------------------------------------------------------------
// downloads

Test(fetch, good_download_lands_in_the_cache) {
    unsigned char *data = fx_random_bytes(N_BYTES, 1);
    char hex[65];
    fx_sha256_hex(data, N_BYTES, hex);
    server s = {.nfiles = 1, .files = {{.path = "/models/good.pth", .data = data, .len = N_BYTES}}};
    server_start(&s);
    progress_log pl = {0};
    fetch_request r = {.url = "https://download.pytorch.org/models/good.pth",
                       .file = "good.pth",
                       .sha256 = hex,
                       .progress = on_progress,
                       .user = &pl};
    fetch_result res;
    char err[1024] = "", want[4096], part[4200];
    int rc = fetch_download(&r, &res, err, sizeof err);
    server_stop(&s);
    cr_assert_eq(rc, 0, "%s", err);
    snprintf(want, sizeof want, "%s/good.pth", fx_cache);
    cr_expect_str_eq(res.path, want);
    cr_expect_eq(res.downloaded, 1);
    cr_expect_eq(res.resumed, 0);
    cr_expect_eq(res.check, FETCH_FULL);
    cr_expect_str_eq(res.sha256, hex);
    fx_expect_file_is(want, data, N_BYTES);
    snprintf(part, sizeof part, "%s.part", want);
    cr_expect(!fx_exists(part), "the .part is gone");
    cr_expect_gt(pl.calls, 0, "progress was reported");
    cr_expect_eq(pl.last_done, N_BYTES);
    cr_expect_eq(pl.last_total, N_BYTES);
    cr_expect_str_eq(s.last_range, "", "a fresh download asks for the whole file");
    free(data);
}

Test(fetch, prefix_of_the_name_is_checked_like_torchvision) {
    unsigned char *data = fx_random_bytes(N_BYTES, 2);
    char hex[65], prefix[9];
    fx_sha256_hex(data, N_BYTES, hex);
    snprintf(prefix, sizeof prefix, "%.8s", hex);
    server s = {.nfiles = 1, .files = {{.path = "/models/p.pth", .data = data, .len = N_BYTES}}};
    server_start(&s);
    fetch_request r = {.url = "https://download.pytorch.org/models/p.pth", .file = "p.pth", .sha256_prefix = prefix};
    fetch_result res;
    char err[1024] = "";
    int rc = fetch_download(&r, &res, err, sizeof err);
    server_stop(&s);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect_eq(res.check, FETCH_PREFIX);
    fx_expect_file_is(res.path, data, N_BYTES);
    free(data);
}

Test(fetch, partial_file_is_resumed_with_a_range_request) {
    unsigned char *data = fx_random_bytes(N_BYTES, 3);
    char hex[65], part[4200], final[4096], range[64];
    fx_sha256_hex(data, N_BYTES, hex);
    snprintf(final, sizeof final, "%s/r.pth", fx_cache);
    snprintf(part, sizeof part, "%s.part", final);
    tu_mkdirs_for(part);
    cr_assert_eq(tu_write_file(part, data, N_BYTES / 2), 0);
    server s = {.nfiles = 1, .files = {{.path = "/models/r.pth", .data = data, .len = N_BYTES}}};
    server_start(&s);
    progress_log pl = {0};
    fetch_request r = {.url = "https://download.pytorch.org/models/r.pth",
                       .file = "r.pth",
                       .sha256 = hex,
                       .progress = on_progress,
                       .user = &pl};
    fetch_result res;
    char err[1024] = "";
    int rc = fetch_download(&r, &res, err, sizeof err);
    server_stop(&s);
    cr_assert_eq(rc, 0, "%s", err);
    server_last_range(&s, range, sizeof range);
    char want_range[64];
    snprintf(want_range, sizeof want_range, "bytes=%d-", N_BYTES / 2);
    cr_expect_str_eq(range, want_range, "asked only for the rest");
    cr_expect_eq(res.resumed, 1);
    cr_expect_eq(pl.last_done, N_BYTES, "progress counts the whole file");
    cr_expect_eq(pl.last_total, N_BYTES);
    fx_expect_file_is(final, data, N_BYTES);
    cr_expect(!fx_exists(part));
    free(data);
}

Test(fetch, server_ignoring_the_range_still_gives_the_right_file) {
    unsigned char *data = fx_random_bytes(N_BYTES, 4);
    char hex[65], part[4200], final[4096];
    fx_sha256_hex(data, N_BYTES, hex);
    snprintf(final, sizeof final, "%s/n.pth", fx_cache);
    snprintf(part, sizeof part, "%s.part", final);
    tu_mkdirs_for(part);
    cr_assert_eq(tu_write_file(part, data, 1000), 0);
    server s = {.nfiles = 1, .files = {{.path = "/models/n.pth", .data = data, .len = N_BYTES, .ignore_range = 1}}};
    server_start(&s);
    fetch_request r = {.url = "https://download.pytorch.org/models/n.pth", .file = "n.pth", .sha256 = hex};
    fetch_result res;
    char err[1024] = "";
    int rc = fetch_download(&r, &res, err, sizeof err);
    server_stop(&s);
    cr_assert_eq(rc, 0, "%s", err);
    fx_expect_file_is(final, data, N_BYTES);
    free(data);
}

Test(fetch, a_local_folder_can_be_the_mirror) {
    unsigned char *data = fx_random_bytes(N_BYTES, 13);
    char hex[65], src[4096], mirror[4200];
    fx_sha256_hex(data, N_BYTES, hex);
    snprintf(src, sizeof src, "%s/mirror/models/m.pth", fx_tmp);
    tu_mkdirs_for(src);
    cr_assert_eq(tu_write_file(src, data, N_BYTES), 0);
    snprintf(mirror, sizeof mirror, "file://%s/mirror", fx_tmp);
    setenv("FROST_WEIGHTS_MIRROR", mirror, 1);
    fetch_request r = {.url = "https://download.pytorch.org/models/m.pth", .file = "m.pth", .sha256 = hex};
    fetch_result res;
    char err[1024] = "";
    cr_assert_eq(fetch_download(&r, &res, err, sizeof err), 0, "%s", err);
    fx_expect_file_is(res.path, data, N_BYTES);
    fetch_request missing = {.url = "https://download.pytorch.org/models/gone.pth", .file = "gone.pth", .sha256 = hex};
    cr_expect_eq(fetch_download(&missing, &res, err, sizeof err), -1);
    cr_expect(strstr(err, "no such file") && strstr(err, "/mirror/models/gone.pth"), "%s", err);
    free(data);
}

Test(fetch, sha256_mismatch_leaves_no_file) {
    unsigned char *data = fx_random_bytes(N_BYTES, 5), *wrong = fx_random_bytes(N_BYTES, 6);
    char hex[65], final[4096], part[4200];
    fx_sha256_hex(data, N_BYTES, hex);
    server s = {.nfiles = 1, .files = {{.path = "/models/w.pth", .data = wrong, .len = N_BYTES}}};
    server_start(&s);
    fetch_request r = {.url = "https://download.pytorch.org/models/w.pth", .file = "w.pth", .sha256 = hex};
    fetch_result res;
    char err[1024] = "";
    int rc = fetch_download(&r, &res, err, sizeof err);
    server_stop(&s);
    cr_assert_eq(rc, -1);
    cr_expect(strstr(err, "sha256") && strstr(err, "w.pth"), "%s", err);
    cr_expect(strchr(err, '\n') == NULL);
    snprintf(final, sizeof final, "%s/w.pth", fx_cache);
    snprintf(part, sizeof part, "%s.part", final);
    cr_expect(!fx_exists(final), "no file under the final name");
    cr_expect(!fx_exists(part), "the bad download was removed");
    free(data);
    free(wrong);
}

Test(fetch, missing_file_says_404) {
    server s = {.nfiles = 0};
    server_start(&s);
    fetch_request r = {
        .url = "https://download.pytorch.org/models/nope.pth", .file = "nope.pth", .sha256_prefix = "00"};
    fetch_result res;
    char err[1024] = "", final[4096], part[4200];
    int rc = fetch_download(&r, &res, err, sizeof err);
    server_stop(&s);
    cr_assert_eq(rc, -1);
    cr_expect(strstr(err, "404") && strstr(err, "/models/nope.pth"), "%s", err);
    snprintf(final, sizeof final, "%s/nope.pth", fx_cache);
    snprintf(part, sizeof part, "%s.part", final);
    cr_expect(!fx_exists(final) && !fx_exists(part), "nothing left in the cache");
    cr_expect_eq(atomic_load(&s.requests), 1);
}

Test(fetch, dropped_connection_keeps_the_part_and_the_next_fetch_resumes) {
    unsigned char *data = fx_random_bytes(N_BYTES, 7);
    char hex[65], final[4096], part[4200], range[64], want_range[64];
    fx_sha256_hex(data, N_BYTES, hex);
    server s = {.nfiles = 1, .files = {{.path = "/models/d.pth", .data = data, .len = N_BYTES, .drop_once = 1}}};
    server_start(&s);
    fetch_request r = {.url = "https://download.pytorch.org/models/d.pth", .file = "d.pth", .sha256 = hex};
    fetch_result res;
    char err[1024] = "";
    snprintf(final, sizeof final, "%s/d.pth", fx_cache);
    snprintf(part, sizeof part, "%s.part", final);
    int rc = fetch_download(&r, &res, err, sizeof err);
    cr_expect_eq(rc, -1, "a dropped connection is an error");
    cr_expect(strstr(err, "dropped") && strstr(err, "resume"), "%s", err);
    cr_expect(strchr(err, '\n') == NULL);
    cr_expect(!fx_exists(final), "no file under the final name");
    long kept = file_size(part);
    cr_expect(kept > 0 && kept < N_BYTES, "the .part holds what arrived (%ld bytes)", kept);

    rc = fetch_download(&r, &res, err, sizeof err);
    server_stop(&s);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect_eq(res.resumed, 1);
    server_last_range(&s, range, sizeof range);
    snprintf(want_range, sizeof want_range, "bytes=%ld-", kept);
    cr_expect_str_eq(range, want_range);
    fx_expect_file_is(final, data, N_BYTES);
    cr_expect(!fx_exists(part));
    free(data);
}

Test(fetch, cancel_keeps_the_part) {
    const size_t n = 8u << 20;
    unsigned char *data = fx_random_bytes(n, 8);
    server s = {.nfiles = 1, .files = {{.path = "/models/c.pth", .data = data, .len = n}}};
    server_start(&s);
    atomic_int cancel = 0;
    progress_log pl = {.cancel_at_first = &cancel};
    fetch_request r = {.url = "https://download.pytorch.org/models/c.pth",
                       .file = "c.pth",
                       .progress = on_progress,
                       .user = &pl,
                       .cancel = &cancel};
    fetch_result res;
    char err[1024] = "", final[4096], part[4200];
    int rc = fetch_download(&r, &res, err, sizeof err);
    server_stop(&s);
    cr_assert_eq(rc, -1, "cancelled (the transfer must not finish in one callback)");
    cr_expect(strstr(err, "cancelled"), "%s", err);
    snprintf(final, sizeof final, "%s/c.pth", fx_cache);
    snprintf(part, sizeof part, "%s.part", final);
    cr_expect(!fx_exists(final));
    cr_expect(file_size(part) > 0, "what arrived is kept for a resume");
    free(data);
}

Test(fetch, disk_full_leaves_no_file) {
    unsigned char *data = fx_random_bytes(N_BYTES, 9);
    char hex[65], final[4096], part[4200];
    fx_sha256_hex(data, N_BYTES, hex);
    server s = {.nfiles = 1, .files = {{.path = "/models/f.pth", .data = data, .len = N_BYTES}}};
    server_start(&s);
    int pipefd[2];
    cr_assert_eq(pipe(pipefd), 0);
    pid_t pid = fork();
    if (pid == 0) {   // a file size limit stands in for a full disk: writes past it fail with EFBIG
        close(pipefd[0]);
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {.rlim_cur = 64 * 1024, .rlim_max = 64 * 1024};
        setrlimit(RLIMIT_FSIZE, &rl);
        fetch_request r = {.url = "https://download.pytorch.org/models/f.pth", .file = "f.pth", .sha256 = hex};
        fetch_result res;
        char err[1024] = "";
        int rc = fetch_download(&r, &res, err, sizeof err);
        if (write(pipefd[1], err, strlen(err)) < 0) _exit(3);
        _exit(rc == -1 ? 0 : 1);
    }
    close(pipefd[1]);
    char err[1024] = "";
    size_t got = 0;
    ssize_t n;
    while ((n = read(pipefd[0], err + got, sizeof err - 1 - got)) > 0) got += (size_t)n;
    err[got] = '\0';
    close(pipefd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    server_stop(&s);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the download must fail under the limit (%s)", err);
    cr_expect(strstr(err, "disk full") && strstr(err, "f.pth.part"), "%s", err);
    snprintf(final, sizeof final, "%s/f.pth", fx_cache);
    snprintf(part, sizeof part, "%s.part", final);
    cr_expect(!fx_exists(final), "no file under the final name");
    cr_expect(!fx_exists(part), "the partial file was removed");
    free(data);
}

Test(fetch, no_server_says_cannot_reach_and_how_to_copy_by_hand) {
    // a port that nobody listens on: bind one, then close it
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    getsockname(fd, (struct sockaddr *)&a, &alen);
    close(fd);
    char mirror[64], want[128];
    snprintf(mirror, sizeof mirror, "http://127.0.0.1:%d", ntohs(a.sin_port));
    setenv("FROST_WEIGHTS_MIRROR", mirror, 1);
    const weights_entry *e = weights_table_find("resnet18", NULL);
    fetch_result res;
    char err[1024] = "", part[4200];
    int rc = fetch_weights(e, NULL, NULL, NULL, &res, err, sizeof err);
    cr_assert_eq(rc, -1);
    snprintf(want, sizeof want, "cannot reach 127.0.0.1:%d: ", ntohs(a.sin_port));
    cr_expect(strncmp(err, want, strlen(want)) == 0, "%s", err);
    cr_expect(strstr(err, "copy resnet18-f37072fd.pth into ") && strstr(err, fx_cache) && strstr(err, "by hand"), "%s",
              err);
    cr_expect(strchr(err, '\n') == NULL, "one line");
    snprintf(part, sizeof part, "%s/resnet18-f37072fd.pth.part", fx_cache);
    cr_expect(!fx_exists(part), "no empty .part left behind");
}

Test(fetch, file_in_torchvisions_cache_is_used_without_a_request) {
    server s = {.nfiles = 0};
    server_start(&s);
    char path[4096];
    snprintf(path, sizeof path, "%s/torch/hub/checkpoints/resnet18-f37072fd.pth", fx_tmp);
    tu_mkdirs_for(path);
    cr_assert_eq(tu_write_file(path, "weights", 7), 0);
    fetch_result res;
    char err[1024] = "";
    int rc = fetch_weights(weights_table_find("resnet18", NULL), NULL, NULL, NULL, &res, err, sizeof err);
    server_stop(&s);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect_str_eq(res.path, path);
    cr_expect_eq(res.downloaded, 0);
    cr_expect_eq(atomic_load(&s.requests), 0, "nothing was asked of the server");
}

Test(fetch, file_in_frosts_cache_comes_first) {
    char mine[4096], theirs[4096], found[4096];
    snprintf(mine, sizeof mine, "%s/vgg16-397923af.pth", fx_cache);
    snprintf(theirs, sizeof theirs, "%s/torch/hub/checkpoints/vgg16-397923af.pth", fx_tmp);
    tu_mkdirs_for(theirs);
    cr_assert_eq(tu_write_file(theirs, "x", 1), 0);
    const weights_entry *e = weights_table_find("vgg16", NULL);
    cr_assert_eq(fetch_find_cached(e, found, sizeof found), 1);
    cr_expect_str_eq(found, theirs);
    tu_mkdirs_for(mine);
    cr_assert_eq(tu_write_file(mine, "x", 1), 0);
    cr_assert_eq(fetch_find_cached(e, found, sizeof found), 1);
    cr_expect_str_eq(found, mine);
    cr_expect_eq(fetch_find_cached(weights_table_find("vgg19", NULL), found, sizeof found), 0);
}

Test(fetch, timm_file_in_hugging_faces_cache_is_found) {
    char path[4096], found[4096];
    snprintf(path, sizeof path, "%s/hf/hub/models--timm--resnet34.tv_in1k/snapshots/0123abc/model.safetensors", fx_tmp);
    tu_mkdirs_for(path);
    cr_assert_eq(tu_write_file(path, "x", 1), 0);
    cr_assert_eq(fetch_find_cached(weights_table_find("resnet34", "timm"), found, sizeof found), 1);
    cr_expect_str_eq(found, path);
    cr_expect_eq(fetch_find_cached(weights_table_find("resnet50", "timm"), found, sizeof found), 0);
}

Test(fetch, hub_digest_header_verifies_timm_files) {
    unsigned char *data = fx_random_bytes(N_BYTES, 10);
    char hex[65], bad[65];
    fx_sha256_hex(data, N_BYTES, hex);
    memcpy(bad, hex, 65);
    bad[0] = bad[0] == '0' ? '1' : '0';
    server s = {.nfiles = 2,
                .files = {{.path = "/timm/resnet18.tv_in1k/resolve/main/model.safetensors",
                           .data = data,
                           .len = N_BYTES,
                           .linked_etag = hex},
                          {.path = "/timm/resnet34.tv_in1k/resolve/main/model.safetensors",
                           .data = data,
                           .len = N_BYTES,
                           .linked_etag = bad}}};
    server_start(&s);
    fetch_result res;
    char err[1024] = "";
    int rc = fetch_weights(weights_table_find("resnet18", "timm"), NULL, NULL, NULL, &res, err, sizeof err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect_eq(res.check, FETCH_FULL);
    fx_expect_file_is(res.path, data, N_BYTES);
    rc = fetch_weights(weights_table_find("resnet34", "timm"), NULL, NULL, NULL, &res, err, sizeof err);
    server_stop(&s);
    cr_expect_eq(rc, -1);
    cr_expect(strstr(err, "sha256"), "%s", err);
    char final[4096];
    snprintf(final, sizeof final, "%s/resnet34.tv_in1k.safetensors", fx_cache);
    cr_expect(!fx_exists(final));
    free(data);
}

// ---------------------------------------------------------------------------------------------
// the command line

// ---------------------------------------------------------------------------------------------
// frost train --pretrained

// The cached file and its .part are frost's names, but what sits there may be anything: a device node,
// a FIFO or a symbolic link at either is refused in one line before a byte is downloaded, and left as
// it was (core/base/atomic_file's rule). A FIFO .part was waited on forever before; a device was written to.
Test(fetch, refuses_to_write_over_what_is_not_a_file) {
    unsigned char *data = fx_random_bytes(N_BYTES, 5);
    server s = {.nfiles = 1, .files = {{.path = "/models/x.pth", .data = data, .len = N_BYTES}}};
    server_start(&s);
    fetch_request r = {.url = "https://download.pytorch.org/models/x.pth", .file = "x.pth"};
    char final[4096], part[4200];
    snprintf(final, sizeof final, "%s/x.pth", fx_cache);
    snprintf(part, sizeof part, "%s.part", final);
    cr_assert_eq(path_mkdirs(fx_cache), 0);
    const fx_special kinds[] = {FX_DEVICE, FX_FIFO, FX_SYMLINK};
    for (int which = 0; which < 2; which++)
        for (size_t k = 0; k < 3; k++) {
            const char *path = which ? part : final;
            if (fx_make_special(path, kinds[k]) != 0) continue;
            fetch_result res;
            char err[1024] = "";
            cr_expect_eq(fetch_download(&r, &res, err, sizeof err), -1, "%s at %s", fx_special_name[kinds[k]], path);
            cr_expect(strstr(err, path) && strstr(err, fx_special_name[kinds[k]]) && strstr(err, "not a regular file"),
                      "one line: %s", err);
            fx_expect_special(path, kinds[k], "fetch_download");
            fx_remove_special(path, kinds[k]);
            cr_expect(!fx_exists(which ? final : part), "nothing was downloaded beside it");
        }
    server_stop(&s);
    cr_expect_eq(atomic_load(&s.requests), 0, "nothing was asked of the server");
    free(data);
}
