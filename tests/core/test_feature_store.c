// test_feature_store.c — the feature cache on disk (core/train/feature_store.h): an entry written and read
// back row for row; a flipped byte, a cut file or another model's key refused; the least recently used
// entries evicted first under a cap; an image's identity changed by its size or mtime only (and kept
// when it moves to another class folder); clear; the cap from the environment.
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "feature_store.h"
#include "fixtures.h"
#include "testutil.h"

static char dir[4096];

static void setup(void) {
    fx_caches_init();
    cr_assert_eq(feature_store_dir(dir, sizeof dir, NULL, 0), 0);
    cr_assert(strncmp(dir, fx_cache, strlen(fx_cache)) == 0 && strcmp(dir + strlen(fx_cache), "/features") == 0, "%s",
              dir);
}

static void teardown(void) {
    tu_rmtree(fx_tmp);
    free(fx_tmp);
}

TestSuite(feature_store, .init = setup, .fini = teardown);

enum { FEAT = 5 };
static const feature_entry_info INFO = {
    .key = "frost.features 1\narch=resnet18\nfeat=5\n", .root = "/data/pets", .split = "train", .feat = FEAT};

// Writes an entry at path with rows k = 0..n-1 (row k: floats k*10 + j; id byte 0 = k) and one bad file.
static long long write_entry(const char *path, int n) {
    float data[64][FEAT];
    uint8_t ids[65][FEATURE_ID_LEN] = {{0}};
    feature_row rows[65];
    for (int k = 0; k < n; k++) {
        for (int j = 0; j < FEAT; j++) data[k][j] = (float)(k * 10 + j) + 0.25f;
        ids[k][0] = (uint8_t)(n - k);   // written unsorted: the writer sorts
        ids[k][1] = 7;
        rows[k] = (feature_row){ids[k], data[k], NULL};
    }
    ids[n][0] = 200;
    rows[n] = (feature_row){ids[n], NULL, "not a JPEG"};
    long long bytes = 0;
    char err[1024];
    cr_assert_eq(feature_entry_write(path, &INFO, rows, (size_t)n + 1, &bytes, err, sizeof err), 0, "%s", err);
    cr_assert_gt(bytes, 0);
    return bytes;
}

static const char *entry(const char *name) {
    static char p[2][4200];
    static int k;
    k ^= 1;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

Test(feature_store, round_trip) {
    const char *path = entry("resnet18-train-a.safetensors");
    write_entry(path, 3);
    feature_entry *e = NULL;
    char err[1024] = "";
    cr_assert_eq(feature_entry_open(path, &INFO, &e, err, sizeof err), 1, "%s", err);
    cr_expect_eq(feature_entry_rows(e), 4);
    for (int k = 0; k < 3; k++) {
        uint8_t id[FEATURE_ID_LEN] = {(uint8_t)(3 - k), 7};
        const float *row = NULL;
        const char *reason = NULL;
        cr_assert_eq(feature_entry_find(e, id, &row, &reason), 1, "row %d", k);
        for (int j = 0; j < FEAT; j++) cr_expect_eq(row[j], (float)(k * 10 + j) + 0.25f, "row %d float %d", k, j);
    }
    uint8_t bad[FEATURE_ID_LEN] = {200}, none[FEATURE_ID_LEN] = {9, 9};
    const float *row = NULL;
    const char *reason = NULL;
    cr_expect_eq(feature_entry_find(e, bad, &row, &reason), 2);
    cr_expect_str_eq(reason, "not a JPEG");
    cr_expect_eq(feature_entry_find(e, none, &row, &reason), 0);
    feature_entry_close(e);
    // no bad file, and no row at all: empty tensors read back as such
    uint8_t one[FEATURE_ID_LEN] = {1};
    float f[FEAT] = {1, 2, 3, 4, 5};
    feature_row good = {one, f, NULL};
    for (int n = 1; n >= 0; n--) {
        cr_assert_eq(feature_entry_write(path, &INFO, &good, (size_t)n, NULL, err, sizeof err), 0, "%s", err);
        cr_assert_eq(feature_entry_open(path, &INFO, &e, err, sizeof err), 1, "%d rows: %s", n, err);
        cr_expect_eq(feature_entry_rows(e), (size_t)n);
        cr_expect_eq(feature_entry_find(e, one, &row, &reason), n);
        feature_entry_close(e);
    }
    // none there: 0, no error
    cr_expect_eq(feature_entry_open(entry("missing.safetensors"), &INFO, &e, err, sizeof err), 0);
    // another model, dataset or split: stale; another width: refused
    feature_entry_info other[4] = {INFO, INFO, INFO, INFO};
    other[0].key = "frost.features 1\narch=vgg16\n";
    other[1].root = "/data/pets2";
    other[2].split = "valid";
    other[3].feat = FEAT + 1;
    for (int k = 0; k < 4; k++) {
        cr_expect_eq(feature_entry_open(path, &other[k], &e, err, sizeof err), -1, "other %d", k);
        cr_expect(k == 3 || strstr(err, "stale") != NULL, "%s", err);
        cr_expect_null(e);
    }
}

// The offset of the data buffer (after the 8-byte length and the JSON header).
static size_t data_start(const char *path) {
    size_t len = 0;
    unsigned char *b = (unsigned char *)tu_read_file(path, &len);
    cr_assert_not_null(b);
    size_t h = 0;
    for (int i = 7; i >= 0; i--) h = h << 8 | b[i];
    free(b);
    return 8 + h;
}

Test(feature_store, flipped_or_truncated_refused) {
    const char *path = entry("resnet18-train-b.safetensors");
    long long bytes = write_entry(path, 4);
    size_t at[] = {data_start(path) + 9, (size_t)bytes - 3, 40};   // a feature, a reason, the header
    for (size_t k = 0; k < sizeof at / sizeof *at; k++) {
        write_entry(path, 4);
        int fd = open(path, O_RDWR);
        cr_assert_geq(fd, 0);
        unsigned char c;
        cr_assert_eq(pread(fd, &c, 1, (off_t)at[k]), 1);
        c ^= 0x10;
        cr_assert_eq(pwrite(fd, &c, 1, (off_t)at[k]), 1);
        close(fd);
        feature_entry *e = NULL;
        char err[1024] = "";
        cr_expect_eq(feature_entry_open(path, &INFO, &e, err, sizeof err), -1, "byte %zu flipped: used", at[k]);
        cr_expect(strstr(err, "damaged") || strstr(err, "stale"), "%s", err);
        cr_log_info("byte %zu flipped: %s", at[k], err);
    }
    write_entry(path, 4);
    cr_assert_eq(truncate(path, (off_t)(bytes - 7)), 0);
    feature_entry *e = NULL;
    char err[1024] = "";
    cr_expect_eq(feature_entry_open(path, &INFO, &e, err, sizeof err), -1, "a cut file is used");
    cr_expect(strstr(err, "damaged") != NULL, "%s", err);
    // no temporary file is left by the writes
    feature_store_item *it;
    size_t n;
    long long total;
    cr_assert_eq(feature_store_list(dir, &it, &n, &total, err, sizeof err), 0);
    cr_expect_eq(n, 1);
    free(it);
}

static void set_mtime(const char *path, time_t sec) {
    struct timespec ts[2] = {{sec, 0}, {sec, 0}};
    cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

Test(feature_store, least_recently_used_go_first) {
    const char *names[] = {"a-train-1.safetensors", "b-train-2.safetensors", "c-train-3.safetensors"};
    long long size = 0;
    char paths[3][4200];
    for (int k = 0; k < 3; k++) {
        snprintf(paths[k], sizeof paths[k], "%s", entry(names[k]));
        size = write_entry(paths[k], 6);
        set_mtime(paths[k], 1000000 + k * 100);   // a oldest, c newest
    }
    // reading a makes it the most recently used
    feature_entry *e = NULL;
    char err[1024];
    cr_assert_eq(feature_entry_open(paths[0], &INFO, &e, err, sizeof err), 1, "%s", err);
    feature_entry_close(e);
    feature_store_item *it;
    size_t n;
    long long total;
    cr_assert_eq(feature_store_list(dir, &it, &n, &total, err, sizeof err), 0);
    cr_assert_eq(n, 3);
    cr_expect(strstr(it[0].path, names[0]) != NULL, "newest first: %s", it[0].path);
    cr_expect_str_eq(it[0].arch, "resnet18");
    cr_expect_str_eq(it[0].root, "/data/pets");
    cr_expect_eq(it[0].rows, 6);
    cr_expect_eq(it[0].bad, 1);
    cr_expect_eq(total, 3 * size);
    free(it);
    // a stray file and a fresh temporary file are not entries and stay
    cr_assert_eq(tu_write_file(entry("notes.txt"), "x", 1), 0);
    cr_assert_eq(tu_write_file(entry("z.safetensors.tmp.AbCdEf"), "x", 1), 0);
    long long freed = 0;
    size_t removed = 0;
    cr_assert_eq(feature_store_evict(dir, 2 * size, &freed, &removed, err, sizeof err), 0, "%s", err);
    cr_expect_eq(removed, 1);
    cr_expect_eq(freed, size);
    cr_expect(fx_exists(paths[0]) && !fx_exists(paths[1]) && fx_exists(paths[2]), "b, the least recently used, goes");
    cr_expect(fx_exists(entry("notes.txt")) && fx_exists(entry("z.safetensors.tmp.AbCdEf")));
    // clear: every entry and temporary file, nothing else
    cr_assert_eq(feature_store_clear(dir, &freed, &removed, err, sizeof err), 0, "%s", err);
    cr_expect_eq(removed, 2);
    cr_expect_eq(freed, 2 * size + 1);
    cr_expect(!fx_exists(paths[0]) && !fx_exists(paths[2]) && !fx_exists(entry("z.safetensors.tmp.AbCdEf")));
    cr_expect(fx_exists(entry("notes.txt")));
    // an absent folder: nothing to list or evict
    cr_expect_eq(feature_store_list("/nonexistent/features", &it, &n, &total, err, sizeof err), 0);
    cr_expect_eq(n, 0);
    free(it);
}

Test(feature_store, identity_follows_size_and_mtime) {
    char a[4200], b[4200], moved[4200];
    snprintf(a, sizeof a, "%s/data/train/cats/a.jpg", fx_tmp);
    snprintf(b, sizeof b, "%s/data/train/cats/b.jpg", fx_tmp);
    snprintf(moved, sizeof moved, "%s/data/train/dogs/a.jpg", fx_tmp);
    fx_pattern_jpeg(a, 40, 30, 1);
    fx_pattern_jpeg(b, 40, 30, 2);
    set_mtime(a, 2000000);
    set_mtime(b, 2000000);
    uint8_t ia[FEATURE_ID_LEN], ib[FEATURE_ID_LEN], again[FEATURE_ID_LEN];
    cr_assert_eq(feature_file_id(a, "a.jpg", ia), 0);
    cr_assert_eq(feature_file_id(b, "b.jpg", ib), 0);
    cr_expect_neq(memcmp(ia, ib, FEATURE_ID_LEN), 0);
    // relabelled: moved to another class folder, its name, size and mtime kept
    tu_mkdirs_for(moved);
    cr_assert_eq(rename(a, moved), 0);
    cr_assert_eq(feature_file_id(moved, "a.jpg", again), 0);
    cr_expect_eq(memcmp(ia, again, FEATURE_ID_LEN), 0, "a relabelled image keeps its identity");
    // touched: a new identity for it, the other one's unchanged
    set_mtime(moved, 2000001);
    cr_assert_eq(feature_file_id(moved, "a.jpg", again), 0);
    cr_expect_neq(memcmp(ia, again, FEATURE_ID_LEN), 0, "a new mtime, a new identity");
    cr_assert_eq(feature_file_id(b, "b.jpg", again), 0);
    cr_expect_eq(memcmp(ib, again, FEATURE_ID_LEN), 0);
    // grown, same mtime: a new identity
    FILE *f = fopen(b, "ab");
    cr_assert_not_null(f);
    fputc(0, f);
    fclose(f);
    set_mtime(b, 2000000);
    cr_assert_eq(feature_file_id(b, "b.jpg", again), 0);
    cr_expect_neq(memcmp(ib, again, FEATURE_ID_LEN), 0, "a new size, a new identity");
    cr_expect_eq(feature_file_id(a, "a.jpg", again), -1, "no file, no identity");
}

Test(feature_store, cap_from_the_environment) {
    char from[4200], err[512];
    setenv("FROST_FEATURE_CACHE_MB", "5", 1);
    cr_expect_eq(feature_store_cap(from, sizeof from, err, sizeof err), 5000000LL);
    cr_expect_str_eq(from, "FROST_FEATURE_CACHE_MB");
    setenv("FROST_FEATURE_CACHE_MB", "lots", 1);
    setenv("XDG_CONFIG_HOME", fx_tmp, 1);   // no config file there
    cr_expect_eq(feature_store_cap(from, sizeof from, err, sizeof err), (long long)FEATURE_STORE_DEFAULT_MB * 1000000);
    cr_expect(strstr(err, "FROST_FEATURE_CACHE_MB=lots") != NULL, "%s", err);
    char cfg[4200];
    snprintf(cfg, sizeof cfg, "%s/frost/config", fx_tmp);
    tu_mkdirs_for(cfg);
    cr_assert_eq(tu_write_file(cfg, "feature_cache_mb = 7\n", 21), 0);
    unsetenv("FROST_FEATURE_CACHE_MB");
    cr_expect_eq(feature_store_cap(from, sizeof from, err, sizeof err), 7000000LL);
    cr_expect(strstr(from, "feature_cache_mb in ") != NULL, "%s", from);
}

// An entry's file is a cache frost names, but what sits at that name may be anything: a device node,
// a FIFO or a symbolic link there is refused in one line and left as it was (core/base/atomic_file's rule).
Test(feature_store, refuses_to_write_over_what_is_not_a_file) {
    uint8_t one[FEATURE_ID_LEN] = {1};
    float f[FEAT] = {1, 2, 3, 4, 5};
    feature_row good = {one, f, NULL};
    const fx_special kinds[] = {FX_DEVICE, FX_FIFO, FX_SYMLINK};
    for (size_t k = 0; k < 3; k++) {
        const char *path = entry("special.safetensors");
        if (fx_make_special(path, kinds[k]) != 0) continue;
        char err[1024] = "";
        cr_expect_eq(feature_entry_write(path, &INFO, &good, 1, NULL, err, sizeof err), -1, "%s",
                     fx_special_name[kinds[k]]);
        cr_expect(strstr(err, path) && strstr(err, fx_special_name[kinds[k]]) && strstr(err, "not a regular file") &&
                      !strchr(err, '\n'),
                  "one line: %s", err);
        fx_expect_special(path, kinds[k], "feature_entry_write");
        fx_remove_special(path, kinds[k]);
    }
}
