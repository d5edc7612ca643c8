// test_weights.c — state_dicts to and from safetensors through a real model: round trips, and
// strict refusals (other architecture, other head, wrong dtype, broken files) that leave the model
// as it was.
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "fixtures.h"
#include "frost_torch.h"
#include "safetensors.h"
#include "testutil.h"
#include "weights.h"

static char *dir;
static void setup(void) { dir = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(dir);
    free(dir);
}
TestSuite(weights, .init = setup, .fini = teardown);

static ft_model *make(const char *arch, long classes) {
    ft_model *m = NULL;
    cr_assert_null(ft_model_create(arch, &m));
    if (classes) cr_assert_null(ft_model_replace_head(m, classes));
    return m;
}

static const char *path_in(const char *name) {
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static void save(ft_model *m, const char *path) {
    char err[1024];
    cr_assert_eq(weights_save(m, path, err, sizeof err), 0, "%s", err);
}

// Loading `path` into m must fail with a message containing `word`, and change nothing.
static void expect_refused(ft_model *m, const char *path, const char *word) {
    size_t before_len, after_len;
    unsigned char *before = fx_state_bytes(m, &before_len);
    char err[1024] = "";
    cr_expect_eq(weights_load(m, path, err, sizeof err), -1);
    cr_expect(strstr(err, word) != NULL, "message lacks '%s': %s", word, err);
    cr_expect(strchr(err, '\n') == NULL, "one line: %s", err);
    unsigned char *after = fx_state_bytes(m, &after_len);
    cr_expect(before_len == after_len && memcmp(before, after, before_len) == 0, "the model changed");
    free(before);
    free(after);
}

Test(weights, round_trip_is_exact) {
    ft_model *a = make("resnet18", 5), *b = make("resnet18", 5);
    ft_model_set_training(a, 1);
    save(a, path_in("a.safetensors"));
    size_t la, lb;
    unsigned char *ba = fx_state_bytes(a, &la), *bb = fx_state_bytes(b, &lb);
    cr_assert(la == lb && memcmp(ba, bb, la) != 0, "two fresh models differ");
    free(bb);
    char err[1024];
    cr_assert_eq(weights_load(b, path_in("a.safetensors"), err, sizeof err), 0, "%s", err);
    bb = fx_state_bytes(b, &lb);
    cr_expect(la == lb && memcmp(ba, bb, la) == 0, "loaded state equals saved state");
    free(ba);
    free(bb);

    safet_file f;
    cr_assert_eq(safet_open(&f, path_in("a.safetensors"), err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(safet_meta(&f, "frost.arch"), "resnet18");
    cr_expect_str_eq(safet_meta(&f, "frost.classes"), "5");
    cr_expect_eq(f.n_tensors, ft_model_state_count(a));
    const safet_tensor *t = safet_find(&f, "bn1.num_batches_tracked");
    cr_assert_not_null(t);
    cr_expect(t->dtype == SAFET_I64 && t->ndim == 0);
    safet_close(&f);
    ft_model_free(a);
    ft_model_free(b);
}

Test(weights, other_architecture_is_refused) {
    ft_model *r18 = make("resnet18", 0), *r34 = make("resnet34", 0);
    save(r18, path_in("r18.safetensors"));
    expect_refused(r34, path_in("r18.safetensors"), "missing");
    char err[1024];
    weights_load(r34, path_in("r18.safetensors"), err, sizeof err);
    cr_expect(strstr(err, "does not fit resnet34") != NULL, "%s", err);
    cr_expect(strstr(err, "layer1.2.conv1.weight") != NULL, "names a missing key: %s", err);
    ft_model_free(r18);
    ft_model_free(r34);
}

Test(weights, other_head_is_a_shape_mismatch) {
    ft_model *two = make("resnet18", 2), *plain = make("resnet18", 0);
    save(two, path_in("two.safetensors"));
    expect_refused(plain, path_in("two.safetensors"), "fc.weight: file [2, 512], model [1000, 512]");
    ft_model_free(two);
    ft_model_free(plain);
}

// fill for a file like resnet18's but with one tensor stored as F64
static int zero_fill(void *user, size_t index, void *dst, size_t nbytes, char *err, size_t errlen) {
    (void)user, (void)index, (void)err, (void)errlen;
    memset(dst, 0, nbytes);
    return 0;
}

Test(weights, wrong_dtype_is_refused) {
    ft_model *m = make("resnet18", 0);
    size_t n = ft_model_state_count(m);
    safet_entry *e = calloc(n, sizeof *e);
    ft_tensor_info *info = calloc(n, sizeof *info);
    for (size_t i = 0; i < n; i++) {
        cr_assert_null(ft_model_state_info(m, i, &info[i]));
        e[i] =
            (safet_entry){info[i].name, info[i].dtype == FT_I64 ? SAFET_I64 : SAFET_F32, info[i].ndim, info[i].shape};
        if (strcmp(info[i].name, "bn1.running_mean") == 0) e[i].dtype = SAFET_F64;
    }
    char err[1024];
    cr_assert_eq(safet_write(path_in("f64.safetensors"), e, n, NULL, NULL, 0, zero_fill, NULL, err, sizeof err), 0,
                 "%s", err);
    expect_refused(m, path_in("f64.safetensors"), "bn1.running_mean: file F64, model F32");
    free(e);
    free(info);
    ft_model_free(m);
}

Test(weights, broken_files_are_refused) {
    ft_model *m = make("resnet18", 0);
    save(m, path_in("good.safetensors"));
    size_t len;
    char *good = tu_read_file(path_in("good.safetensors"), &len);
    cr_assert_eq(tu_write_file(path_in("trunc.safetensors"), good, len / 2), 0);
    expect_refused(m, path_in("trunc.safetensors"), "trunc.safetensors");
    cr_assert_eq(tu_write_file(path_in("text.safetensors"), "hello, I am not a tensor file\n", 30), 0);
    expect_refused(m, path_in("text.safetensors"), "not a safetensors file");
    cr_assert_eq(tu_write_file(path_in("empty.safetensors"), "", 0), 0);
    expect_refused(m, path_in("empty.safetensors"), "empty.safetensors");
    expect_refused(m, path_in("absent.safetensors"), "absent.safetensors");
    free(good);
    ft_model_free(m);
}

Test(weights, failed_save_keeps_the_old_file) {
    // the old file: a model's weights
    ft_model *old = make("resnet18", 2);
    save(old, path_in("w.safetensors"));
    size_t old_len;
    unsigned char *old_bytes = (unsigned char *)tu_read_file(path_in("w.safetensors"), &old_len);
    cr_assert_not_null(old_bytes);

    // a save of other weights over it that cannot finish: files are capped at 1 MiB (EFBIG; SIGXFSZ
    // ignored, so the write returns the error), the new file would be 45 MB
    ft_model *other = make("resnet18", 2);
    char err[1024] = "";
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = 1 << 20;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    int rc = weights_save(other, path_in("w.safetensors"), err, sizeof err);
    rl.rlim_cur = was;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    cr_expect_eq(rc, -1, "the save cannot have succeeded");
    cr_expect(strstr(err, "w.safetensors") && strstr(err, strerror(EFBIG)), "names the file and why: %s", err);

    // the old file is whole, byte for byte, loads, and is alone in its folder (no temporary left)
    size_t len;
    unsigned char *bytes = (unsigned char *)tu_read_file(path_in("w.safetensors"), &len);
    cr_assert_not_null(bytes);
    cr_expect(len == old_len && memcmp(bytes, old_bytes, len) == 0, "the old file changed");
    ft_model *back = make("resnet18", 2);
    cr_expect_eq(weights_load(back, path_in("w.safetensors"), err, sizeof err), 0, "%s", err);
    size_t a_len, b_len;
    unsigned char *a = fx_state_bytes(old, &a_len), *b = fx_state_bytes(back, &b_len);
    cr_expect(a_len == b_len && memcmp(a, b, a_len) == 0, "the old weights load back");
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));) entries += e->d_name[0] != '.';
    closedir(d);
    cr_expect_eq(entries, 1, "a temporary file was left behind");

    // and a folder that does not exist: refused with the path named
    cr_expect_eq(weights_save(other, path_in("no/such/dir/w.safetensors"), err, sizeof err), -1);
    cr_expect(strstr(err, "no/such/dir") != NULL, "%s", err);
    free(a);
    free(b);
    free(bytes);
    free(old_bytes);
    ft_model_free(back);
    ft_model_free(other);
    ft_model_free(old);
}
