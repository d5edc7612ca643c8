// fixtures.c — see fixtures.h.
#include "fixtures.h"

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "checkpoint.h"
#include "frost_torch.h"
#include "path.h"
#include "testutil.h"

// The suite never reads or writes the user's feature cache on disk (core/train/feature_store.h): every run
// it starts computes its features as the tests expect, and nothing is left in ~/.cache. The tests of
// that cache turn it on for themselves (a private XDG_CACHE_HOME and a cap of their own). Nor does it
// record its runs in the user's run history (core/history/): the history's tests turn it on with a
// private XDG_DATA_HOME.
ReportHook(PRE_ALL)(struct criterion_test_set *set) {
    (void)set;
    setenv("FROST_FEATURE_CACHE_MB", "0", 1);
    setenv("FROST_RUNS", "0", 1);
}

const char *fx_at(const char *root, const char *rel) {
    static char p[8][4096];
    static int k;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", root, rel);
    return p[k];
}

size_t fx_pattern_jpeg(const char *path, int w, int h, int seed) {
    unsigned char *rgb = malloc((size_t)w * h * 3);
    cr_assert_not_null(rgb);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *p = rgb + ((size_t)y * w + x) * 3;
            p[0] = (unsigned char)(x * 255 / w);
            p[1] = (unsigned char)(y * 255 / h);
            p[2] = (unsigned char)((x * y + seed * 37) & 255);
        }
    tu_mkdirs_for(path);
    cr_assert_eq(tu_write_jpeg(path, w, h, rgb), 0, "%s", path);
    free(rgb);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    return (size_t)st.st_size;
}

void fx_doctor_dataset(const char *root) {
    char name[64];
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "train/cats/c%d.jpg", i);
        fx_pattern_jpeg(fx_at(root, name), 60 + 7 * i, 50 + 3 * i, i);
    }
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "train/dogs/d%d.jpg", i);
        fx_pattern_jpeg(fx_at(root, name), 80, 64, 10 + i);
    }
    for (int i = 0; i < 2; i++) {
        snprintf(name, sizeof name, "valid/cats/v%d.jpg", i);
        fx_pattern_jpeg(fx_at(root, name), 70, 70, 20 + i);
    }
    cr_assert_eq(tu_write_file(fx_at(root, "train/cats/empty.jpg"), "", 0), 0);
    cr_assert_eq(tu_write_file(fx_at(root, "train/cats/notes.jpg"), "these are my notes, not a picture\n", 34), 0);
    const char *truncated = fx_at(root, "train/cats/truncated.jpg");
    size_t len = fx_pattern_jpeg(truncated, 200, 150, 99);
    cr_assert_eq(truncate(truncated, (off_t)(len / 2)), 0);
}

void fx_two_class_dataset(const char *root, int per_class_train, int per_class_valid, int side) {
    unsigned seed = 1;
    unsigned char *rgb = malloc((size_t)side * side * 3);
    cr_assert_not_null(rgb);
    const char *splits[2] = {"train", "valid"};
    const int counts[2] = {per_class_train, per_class_valid};
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < counts[s]; i++) {
                for (int y = 0; y < side; y++)
                    for (int x = 0; x < side; x++) {
                        unsigned char *p = rgb + ((size_t)y * side + x) * 3;
                        int light = (c == 0 ? side - y : y) * 200 / side;
                        int noise = (int)(rand_r(&seed) % 60);
                        p[0] = (unsigned char)(c == 0 ? 40 + light / 2 + noise : noise);
                        p[1] = (unsigned char)(light / 3 + noise);
                        p[2] = (unsigned char)(c == 1 ? 40 + light / 2 + noise : noise);
                    }
                char path[1024];
                snprintf(path, sizeof path, "%s/%s/%s/%03d.jpg", root, splits[s], c == 0 ? "warm" : "cold", i);
                tu_mkdirs_for(path);
                cr_assert_eq(tu_write_jpeg(path, side, side, rgb), 0);
            }
    free(rgb);
}

void fx_private_caches(const char *dir, char *cache, size_t len) {
    char p[4096];
    snprintf(p, sizeof p, "%s/xdg", dir);
    setenv("XDG_CACHE_HOME", p, 1);
    snprintf(p, sizeof p, "%s/torch", dir);
    setenv("TORCH_HOME", p, 1);
    snprintf(p, sizeof p, "%s/hf", dir);
    setenv("HF_HOME", p, 1);
    unsetenv("HF_HUB_CACHE");
    unsetenv("FROST_WEIGHTS_MIRROR");
    setenv("no_proxy", "*", 1);   // never send 127.0.0.1 to a proxy from the environment
    snprintf(cache, len, "%s/xdg/frost", dir);
}

ft_model *fx_model(const char *arch, long classes) {
    ft_model *m = NULL;
    cr_assert_null(ft_model_create(arch, &m));
    if (classes) {
        cr_assert_null(ft_model_set_trainable(m, "", 0));
        cr_assert_null(ft_model_replace_head(m, classes));
    }
    return m;
}

size_t fx_state_index(ft_model *m, const char *name) {
    for (size_t i = 0; i < ft_model_state_count(m); i++) {
        ft_tensor_info info;
        ft_status_free(ft_model_state_info(m, i, &info));
        if (strcmp(info.name, name) == 0) return i;
    }
    cr_assert_fail("no state entry %s", name);
    return 0;
}

unsigned char *fx_state_bytes(ft_model *m, size_t *len) {
    size_t total = 0, n = ft_model_state_count(m);
    for (size_t i = 0; i < n; i++) {
        ft_tensor_info info;
        cr_assert_null(ft_model_state_info(m, i, &info));
        total += info.nbytes;
    }
    unsigned char *buf = malloc(total), *p = buf;
    for (size_t i = 0; i < n; i++) {
        ft_tensor_info info;
        cr_assert_null(ft_model_state_info(m, i, &info));
        cr_assert_null(ft_model_state_get(m, i, p, info.nbytes));
        p += info.nbytes;
    }
    *len = total;
    return buf;
}

const char *fx_weight_file(const char *name) {
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "wf/%s", name);
    snprintf(p[k], sizeof p[k], "%s", tu_oracle(p[k]));
    return p[k];
}

char *fx_tmp;
char fx_cache[1024];

void fx_caches_init(void) {
    fx_tmp = tu_tmpdir();
    fx_private_caches(fx_tmp, fx_cache, sizeof fx_cache);
}

void fx_caches_fini(void) {
    tu_rmtree(fx_tmp);
    free(fx_tmp);
}

unsigned char *fx_random_bytes(size_t n, unsigned seed) {
    unsigned char *b = malloc(n);
    cr_assert_not_null(b);
    for (size_t i = 0; i < n; i++) b[i] = (unsigned char)(rand_r(&seed) >> 7);
    return b;
}

void fx_sha256_hex(const unsigned char *p, size_t n, char hex[65]) {
    unsigned char md[32];
    unsigned mdlen = 0;
    EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

int fx_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

void fx_expect_file_is(const char *path, const unsigned char *data, size_t len) {
    size_t got = 0;
    char *b = tu_read_file(path, &got);
    cr_assert_not_null(b, "%s is missing", path);
    cr_expect_eq(got, len, "%s holds %zu bytes, not %zu", path, got, len);
    cr_expect(got == len && memcmp(b, data, len) == 0, "%s does not hold the served bytes", path);
    free(b);
}

// ---------------------------------------------------------------------------------------------
// what writers must not replace

const char *const fx_special_name[FX_SPECIALS] = {"device", "FIFO", "symbolic link", "socket"};

int fx_make_special(const char *path, fx_special kind) {
    tu_mkdirs_for(path);
    char target[4200];
    snprintf(target, sizeof target, "%s.target", path);
    switch (kind) {
    case FX_DEVICE:
        if (mknod(path, S_IFCHR | 0666, makedev(1, 3)) != 0) {
            cr_log_info("mknod %s: %s: no device node here, the other kinds are tried", path, strerror(errno));
            return -1;
        }
        return 0;
    case FX_FIFO: cr_assert_eq(mkfifo(path, 0644), 0, "mkfifo %s: %s", path, strerror(errno)); return 0;
    case FX_SYMLINK:
        cr_assert_eq(tu_write_file(target, "keep\n", 5), 0);
        cr_assert_eq(symlink(path_base(target), path), 0, "symlink %s: %s", path, strerror(errno));
        return 0;
    case FX_SOCKET: {
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        cr_assert_lt(strlen(path), sizeof a.sun_path, "%s is too long for a socket", path);
        memcpy(a.sun_path, path, strlen(path) + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0, "socket %s: %s", path, strerror(errno));
        close(fd);   // the socket file stays
        return 0;
    }
    }
    return -1;
}

void fx_expect_special(const char *path, fx_special kind, const char *what) {
    struct stat st;
    cr_assert_eq(lstat(path, &st), 0, "%s: the %s %s is gone", what, fx_special_name[kind], path);
    int same = kind == FX_DEVICE    ? S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)
               : kind == FX_FIFO    ? S_ISFIFO(st.st_mode)
               : kind == FX_SYMLINK ? S_ISLNK(st.st_mode)
                                    : S_ISSOCK(st.st_mode);
    cr_expect(same, "%s: the %s %s was replaced (mode %o)", what, fx_special_name[kind], path, (unsigned)st.st_mode);
    if (kind == FX_SYMLINK) {
        char link[4200] = "", target[4200];
        snprintf(target, sizeof target, "%s.target", path);
        cr_expect(readlink(path, link, sizeof link - 1) > 0 && strcmp(link, path_base(target)) == 0,
                  "%s: the link %s points elsewhere now: %s", what, path, link);
        fx_expect_file_is(target, (const unsigned char *)"keep\n", 5);
    }
    char *dir = path_folder(path);
    DIR *d = dir ? opendir(dir) : NULL;
    cr_assert_not_null(d, "%s", dir);
    for (struct dirent *e; (e = readdir(d));)
        cr_expect(!strstr(e->d_name, ".tmp."), "%s: a temporary was left: %s/%s", what, dir, e->d_name);
    closedir(d);
    free(dir);
}

void fx_remove_special(const char *path, fx_special kind) {
    unlink(path);
    if (kind == FX_SYMLINK) {
        char target[4200];
        snprintf(target, sizeof target, "%s.target", path);
        unlink(target);
    }
}

void fx_meta_for(checkpoint_meta *meta, char **names, int64_t n) {
    checkpoint_meta_init(meta);
    meta->num_classes = n;
    meta->class_names = names;
    meta->head_replaced = 1;
}

void fx_save_checkpoint(const char *path, ft_model *m, ft_optimizer *opt, const checkpoint_meta *meta) {
    char err[1024] = "";
    cr_assert_eq(checkpoint_save(path, m, opt, meta, err, sizeof err), 0, "%s", err);
}

ft_model *fx_load_checkpoint(const char *path, checkpoint_meta *meta) {
    char err[1024] = "";
    ft_model *m = NULL;
    cr_assert_eq(checkpoint_load(path, &m, meta, err, sizeof err), 0, "%s", err);
    cr_assert_not_null(m);
    return m;
}

void fx_formula_fill(float *dst, const int64_t *shape, int ndim, uint64_t k, fx_formula_kind kind) {
    uint64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= (uint64_t)shape[d];
    double a = kind == FX_WEIGHT ? sqrt(6.0 / (double)(n / (uint64_t)shape[0])) : 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t h = (i * 2654435761u + (k + 1) * 97531u) & 0xFFFFFFFFu;
        double v = ((double)((h >> 7) % 2001) - 1000.0) / 1000.0;
        switch (kind) {
        case FX_WEIGHT: v = v * a; break;
        case FX_SCALE: v = 1.0 + 0.5 * v; break;
        case FX_RESIDUAL: v = 0.05 * (1.0 + 0.5 * v); break;
        case FX_SHIFT: v = 0.1 * v; break;
        case FX_INPUT: break;
        }
        dst[i] = (float)v;
    }
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

void fx_formula_model(ft_model *m) {
    for (size_t k = 0; k < ft_model_state_count(m); k++) {
        ft_tensor_info t;
        cr_assert_null(ft_model_state_info(m, k, &t));
        if (t.dtype != FT_F32) continue;
        fx_formula_kind kind = ends_with(t.name, "bn3.weight")                                  ? FX_RESIDUAL
                               : ends_with(t.name, "running_var")                               ? FX_SCALE
                               : ends_with(t.name, "running_mean") || ends_with(t.name, "bias") ? FX_SHIFT
                               : t.ndim >= 2                                                    ? FX_WEIGHT
                                                                                                : FX_SCALE;
        float *v = malloc(t.nbytes ? t.nbytes : 1);
        cr_assert_not_null(v);
        fx_formula_fill(v, t.shape, t.ndim, k, kind);
        cr_assert_null(ft_model_state_set(m, k, v, t.nbytes), "%s", t.name);
        free(v);
    }
}

static int fx_jpg_only(const struct dirent *e) { return strstr(e->d_name, ".jpg") != NULL; }

int fx_photos(const char *root, char paths[][2048], int n) {
    const char *shared = tu_shared("datasets/dvc-mini/valid");
    const char *cls[] = {"cat", "dog"};
    struct dirent **names[2] = {NULL, NULL};
    int count[2] = {0, 0}, k = 0;
    char dir[2][2048];
    for (int c = 0; shared && c < 2; c++) {
        snprintf(dir[c], sizeof dir[c], "%s/%s", shared, cls[c]);
        count[c] = scandir(dir[c], &names[c], fx_jpg_only, alphasort);
        if (count[c] < 0) count[c] = 0;
    }
    for (int i = 0; k < n && (i / 2 < count[0] || i / 2 < count[1]); i++) {
        int c = i % 2;
        if (i / 2 >= count[c]) continue;
        char rel[2048], *abs;
        snprintf(rel, sizeof rel, "%.1000s/%.255s", dir[c], names[c][i / 2]->d_name);
        cr_assert_not_null(abs = realpath(rel, NULL), "%s", rel);
        snprintf(paths[k++], 2048, "%s", abs);
        free(abs);
    }
    for (int c = 0; c < 2; c++) {
        for (int i = 0; i < count[c]; i++) free(names[c][i]);
        free(names[c]);
    }
    if (k == 0) {
        cr_assert(!tu_in_ci(),
                  "../shared/datasets/dvc-mini/valid holds no photos, and CI (FROST_CI=1) always has them");
        cr_log_info("../shared/datasets/dvc-mini is absent: pattern JPEGs stand in for the photos");
        for (; k < n; k++) {
            snprintf(paths[k], 2048, "%s/photo%d.jpg", root, k);
            fx_pattern_jpeg(paths[k], 300 + 17 * k, 200 + 11 * k, k + 1);
        }
    }
    return k;
}
