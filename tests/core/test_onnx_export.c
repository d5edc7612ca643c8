// test_onnx_export.c — ONNX export (core/export/onnx_export.c) judged by the two programs that read ONNX:
// the onnx package's checker (tests/oracle/live/onnx_check.py: schema, shape inference, metadata, the
// dynamic batch) and ONNX Runtime (tests/oracle/live/onnx_run.js, npm's onnxruntime-node, which make
// test installs and names in $FROST_ORT), whose logits must equal ours in eval mode (within 1e-4,
// 1e-5 relative beyond 10) at batch 1 and 3. resnet18 (BasicBlock), resnet50 (Bottleneck) and vgg11 (the
// seed's classifier), weights and BatchNorm statistics by formula, at the default, highest and lowest
// opsets; then the one-line refusals, which leave nothing behind.
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkpoint.h"
#include "fixtures.h"
#include "frost_torch.h"
#include "onnx_export.h"
#include "path.h"
#include "testutil.h"

static char *dir;
static void setup(void) { dir = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(dir);
    free(dir);
}
TestSuite(onnx_export, .init = setup, .fini = teardown);

static char *names3[] = {"chat \"noir\"", "\xc3\xa9meu", "\xe7\x8b\x97 \\ dog"};   // quotes, é, 狗 and a backslash
static char *names2[] = {"cat", "dog"};

// ---------------------------------------------------------------------------------------------
// helpers

// $FROST_ORT, checked: the runtime is a test dependency (make test installs it), so its absence
// fails the test instead of skipping it.
static const char *ort_modules(void) {
    const char *ort = getenv("FROST_ORT");
    cr_assert(ort && *ort,
              "FROST_ORT is not set: it names the node_modules folder holding onnxruntime-node (make test installs "
              "it into $(BUILD)/npm and sets it; by hand: make BUILD=... $(BUILD)/npm/node_modules/onnxruntime-node/"
              "package.json, then FROST_ORT=$(BUILD)/npm/node_modules)");
    struct stat st;
    cr_assert_eq(stat(fx_at(ort, "onnxruntime-node/package.json"), &st), 0,
                 "FROST_ORT=%s holds no onnxruntime-node (make test installs it there)", ort);
    return ort;
}

// Runs cmd (its stderr into dir/cmd.err), returns its stdout; fails the test when it does not exit 0.
static char *run_cmd(const char *cmd, const char *what) {
    char full[8192];
    snprintf(full, sizeof full, "%s 2>%s", cmd, fx_at(dir, "cmd.err"));
    FILE *p = popen(full, "r");
    cr_assert_not_null(p, "cannot run %s", cmd);
    size_t cap = 1 << 16, n = 0, got;
    char *out = malloc(cap);
    cr_assert_not_null(out);
    while ((got = fread(out + n, 1, cap - n - 1, p)) > 0) n += got;
    out[n] = '\0';
    int status = pclose(p);   // waits for it: nothing outlives the test
    char *err = tu_read_file(fx_at(dir, "cmd.err"), NULL);
    unlink(fx_at(dir, "cmd.err"));
    cr_assert_eq(status, 0, "%s failed (status %d): %s\n%s", what, status, err ? err : "", cmd);
    free(err);
    return out;
}

// onnx_check.py's verdict on path, parsed.
static json_t *onnx_check(const char *path) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/oracle/live/onnx_check.py '%s'", path);
    char *out = run_cmd(cmd, "the onnx checker (python3-onnx)");
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    cr_assert_not_null(j, "onnx_check.py printed no JSON (%s): %s", e.text, out);
    free(out);
    return j;
}

// ONNX Runtime's logits for the n x 3 x s x s input x (n * classes floats, malloc'd).
static float *ort_forward(const char *model, const float *x, int n, int s, int64_t classes) {
    const char *ort = ort_modules();
    char in[1024], out[1024], cmd[8192];
    snprintf(in, sizeof in, "%s", fx_at(dir, "x.f32"));
    snprintf(out, sizeof out, "%s", fx_at(dir, "y.f32"));
    cr_assert_eq(tu_write_file(in, x, sizeof(float) * (size_t)n * 3 * s * s), 0);
    snprintf(cmd, sizeof cmd, "NODE_PATH='%s' node tests/oracle/live/onnx_run.js '%s' '%s' %d %d '%s'", ort, model, in,
             n, s, out);
    char *text = run_cmd(cmd, "ONNX Runtime (node onnx_run.js)");
    json_t *j = json_loads(text, 0, NULL);
    cr_assert_not_null(j, "onnx_run.js printed no JSON: %s", text);
    json_t *dims = json_object_get(j, "dims");
    cr_assert_eq(json_array_size(dims), 2, "%s", text);
    cr_expect_eq(json_integer_value(json_array_get(dims, 0)), n, "batch: %s", text);
    cr_expect_eq(json_integer_value(json_array_get(dims, 1)), classes, "classes: %s", text);
    cr_expect_str_eq(json_string_value(json_array_get(json_object_get(j, "inputs"), 0)), "input");
    cr_expect_str_eq(json_string_value(json_array_get(json_object_get(j, "outputs"), 0)), "logits");
    json_decref(j);
    free(text);
    size_t len = 0;
    float *y = (float *)tu_read_file(out, &len);
    cr_assert_not_null(y);
    cr_assert_eq(len, sizeof(float) * (size_t)n * (size_t)classes, "logits file of %zu bytes", len);
    unlink(in);
    unlink(out);
    return y;
}

// Deterministic inputs: the fixtures' formula (values in -1..1), seeded by `seed`.
static float *inputs(int n, int s, uint64_t seed) {
    int64_t shape[4] = {n, 3, s, s};
    float *x = malloc(sizeof(float) * (size_t)n * 3 * s * s);
    cr_assert_not_null(x);
    fx_formula_fill(x, shape, 4, seed, FX_INPUT);
    return x;
}

// Max |ORT - torch| over the logits of a batch of n; ours in eval mode.
static double max_diff_at_batch(ft_model *m, const char *model, int n, int s, uint64_t seed, double *scale) {
    int64_t k = ft_model_num_classes(m);
    float *x = inputs(n, s, seed), *want = malloc(sizeof(float) * (size_t)(n * k));
    cr_assert_not_null(want);
    cr_assert_null(ft_model_forward(m, x, n, 3, s, s, want, (size_t)(n * k)));
    float *got = ort_forward(model, x, n, s, k);
    double diff = 0;
    for (int64_t i = 0; i < n * k; i++) {
        cr_assert(isfinite(got[i]) && isfinite(want[i]), "logit %lld: ort %g, torch %g", (long long)i, got[i], want[i]);
        diff = fmax(diff, fabs((double)got[i] - (double)want[i]));
        *scale = fmax(*scale, fabs((double)want[i]));
    }
    free(x);
    free(want);
    free(got);
    return diff;
}

static int other_files(const char *keep, char *odd, size_t oddlen);

// float32 keeps about 7 digits, and ONNX Runtime sums in another order than libtorch: logits agree
// within 1e-4, or within 1e-5 of the largest logit when that is over 10 (the formula's weights take
// resnet18's logits to 46, where 1e-4 is 2 ulp: 1.8e-4 apart is measured there).
static double logit_tolerance(double largest) { return fmax(1e-4, 1e-5 * largest); }

// ONNX Runtime on file against ft_model_forward (eval mode) at batch 1 and 3, on deterministic inputs.
static void expect_same_logits(ft_model *m, const char *file, int s, int opset) {
    ft_model_set_training(m, 0);
    double scale = 0, d1 = max_diff_at_batch(m, file, 1, s, 101, &scale),
           d3 = max_diff_at_batch(m, file, 3, s, 303, &scale);
    double tol = logit_tolerance(scale);
    cr_log_info("%s at %d, opset %d: max |ORT - torch| %.3g at batch 1, %.3g at batch 3 (logits up to %.3g, "
                "tolerance %.3g)",
                ft_model_arch(m), s, opset, d1, d3, scale, tol);
    cr_expect_leq(d1, tol, "%s batch 1: max logit difference %g (logits up to %g)", ft_model_arch(m), d1, scale);
    cr_expect_leq(d3, tol, "%s batch 3: max logit difference %g (logits up to %g)", ft_model_arch(m), d3, scale);
    cr_expect_gt(scale, 1e-3, "the logits are not all 0 (a test that compares zeros proves nothing)");
}

// Exports m with meta at opset (the file must be new), checks it with the onnx package and its logits
// with ONNX Runtime; returns the checker's JSON.
static json_t *export_and_compare(ft_model *m, const char *file, const checkpoint_meta *meta, int opset) {
    ort_modules();   // before the work, so a missing runtime fails at once
    char err[1024] = "";
    cr_assert_eq(onnx_export(m, meta, opset, file, 0, err, sizeof err), 0, "%s", err);
    char odd[256] = "";
    cr_expect_eq(other_files(path_base(file), odd, sizeof odd), 0, "no temporary left: %s", odd);
    json_t *j = onnx_check(file);
    cr_expect_eq(json_integer_value(json_object_get(j, "opset")), opset);
    expect_same_logits(m, file, meta->tf.size, opset);
    return j;
}

static checkpoint_meta meta_for(char **names, int64_t k, int size) {
    checkpoint_meta meta;
    fx_meta_for(&meta, names, k);
    meta.tf.size = size;
    return meta;
}

// The input and output as the file declares them: float32 [batch, 3, s, s] and [batch, k].
static void expect_io(json_t *j, int s, int64_t k) {
    json_t *in = json_array_get(json_object_get(j, "inputs"), 0),
           *out = json_array_get(json_object_get(j, "outputs"), 0);
    cr_assert(in && out, "one input and one output");
    cr_expect_eq(json_array_size(json_object_get(j, "inputs")), 1, "only the image is an input (weights are not)");
    cr_expect_str_eq(json_string_value(json_object_get(in, "name")), "input");
    cr_expect_str_eq(json_string_value(json_object_get(out, "name")), "logits");
    cr_expect_eq(json_integer_value(json_object_get(in, "elem_type")), 1, "float32");
    cr_expect_eq(json_integer_value(json_object_get(out, "elem_type")), 1, "float32");
    json_t *ish = json_object_get(in, "shape"), *osh = json_object_get(out, "shape");
    cr_assert_eq(json_array_size(ish), 4);
    cr_assert_eq(json_array_size(osh), 2);
    cr_expect_str_eq(json_string_value(json_array_get(ish, 0)), "batch", "a dynamic batch (dim_param)");
    cr_expect_str_eq(json_string_value(json_array_get(osh, 0)), "batch", "a dynamic batch (dim_param)");
    cr_expect_eq(json_integer_value(json_array_get(ish, 1)), 3);
    cr_expect_eq(json_integer_value(json_array_get(ish, 2)), s);
    cr_expect_eq(json_integer_value(json_array_get(ish, 3)), s);
    cr_expect_eq(json_integer_value(json_array_get(osh, 1)), k);
    cr_expect_eq(json_integer_value(json_object_get(j, "ir_version")), ONNX_IR_VERSION);
    cr_expect_str_eq(json_string_value(json_object_get(j, "producer_name")), "frost");
}

static const char *meta_value(json_t *j, const char *key) {
    const char *v = json_string_value(json_object_get(json_object_get(j, "metadata"), key));
    cr_assert_not_null(v, "metadata_props has no %s", key);
    return v;
}

// How many times op appears in the graph.
static int count_op(json_t *j, const char *op) {
    json_t *ops = json_object_get(j, "ops");
    int n = 0;
    for (size_t i = 0; i < json_array_size(ops); i++) n += strcmp(json_string_value(json_array_get(ops, i)), op) == 0;
    return n;
}

// The names in dir other than keep (NULL: none); the first one into odd.
static int other_files(const char *keep, char *odd, size_t oddlen) {
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (keep && strcmp(e->d_name, keep) == 0) continue;
        if (n++ == 0) snprintf(odd, oddlen, "%s", e->d_name);
    }
    closedir(d);
    return n;
}

static ft_model *formula_model(const char *arch, long classes) {
    ft_model *m = fx_model(arch, classes);
    fx_formula_model(m);   // every weight and BatchNorm statistic away from its initial value
    ft_model_set_training(m, 0);
    return m;
}

// ---------------------------------------------------------------------------------------------
// exported models against ONNX Runtime

// resnet18 with 3 classes at 224, the default opset: BasicBlocks with and without downsample,
// GlobalAveragePool, and the metadata a runtime needs to preprocess like training did.
Test(onnx_export, resnet18_matches_torch_and_describes_its_input, .timeout = 180) {
    ft_model *m = formula_model("resnet18", 3);
    char path[1024];
    snprintf(path, sizeof path, "%s", fx_at(dir, "r18.onnx"));
    checkpoint_meta meta = meta_for(names3, 3, 224);
    meta.tf.fit = TRANSFORM_SHORT_CROP;
    transform_params_set_norm(&meta.tf, TRANSFORM_NORM_IMAGENET);
    json_t *j = export_and_compare(m, path, &meta, ONNX_DEFAULT_OPSET);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0644, "a new file is 0644, not mkstemp's 0600 (mode %o)", st.st_mode & 0777);
    expect_io(j, 224, 3);
    cr_expect_str_eq(meta_value(j, "frost.arch"), "resnet18");
    cr_expect_str_eq(meta_value(j, "frost.classes"), "3");
    cr_expect_str_eq(meta_value(j, "frost.input_size"), "224");
    cr_expect_str_eq(meta_value(j, "frost.resize"), "crop");
    cr_expect_str_eq(meta_value(j, "frost.mean"), "[0.485, 0.456, 0.406]");
    cr_expect_str_eq(meta_value(j, "frost.std"), "[0.229, 0.224, 0.225]");
    json_t *names = json_loads(meta_value(j, "frost.class_names"), 0, NULL);
    cr_assert_eq(json_array_size(names), 3, "%s", meta_value(j, "frost.class_names"));
    for (size_t i = 0; i < 3; i++) cr_expect_str_eq(json_string_value(json_array_get(names, i)), names3[i]);
    json_decref(names);
    const char *doc = json_string_value(json_object_get(j, "doc_string"));
    cr_assert_not_null(doc);
    cr_expect(strstr(doc, "Resize(224) + CenterCrop(224)") && strstr(doc, "[0.485, 0.456, 0.406]") &&
                  strstr(doc, "[0.229, 0.224, 0.225]") && strstr(doc, "RGB"),
              "the doc_string says how to preprocess: %s", doc);
    // 20 convolutions (17 + 3 downsample), each followed by its BatchNorm; 8 blocks, 8 Adds; no Dropout
    cr_expect_eq(count_op(j, "Conv"), 20);
    cr_expect_eq(count_op(j, "BatchNormalization"), 20);
    cr_expect_eq(count_op(j, "Add"), 8);
    cr_expect_eq(count_op(j, "Relu"), 17);
    cr_expect_eq(count_op(j, "MaxPool"), 1);
    cr_expect_eq(count_op(j, "GlobalAveragePool"), 1);
    cr_expect_eq(count_op(j, "Flatten"), 1);
    cr_expect_eq(count_op(j, "Gemm"), 1);
    // every parameter and running statistic, not num_batches_tracked: 20 convs + 20 x 4 BatchNorm + 2 fc
    cr_expect_eq(json_integer_value(json_object_get(j, "initializers")), 20 + 80 + 2);
    json_decref(j);
    ft_model_free(m);
}

// resnet50 at 64 (layer4's map is 2x2), the lowest opset: Bottleneck blocks, whose one ReLU runs
// three times.
Test(onnx_export, resnet50_bottleneck_matches_torch, .timeout = 180) {
    ft_model *m = formula_model("resnet50", 3);
    char path[1024];
    snprintf(path, sizeof path, "%s", fx_at(dir, "r50.onnx"));
    checkpoint_meta meta = meta_for(names3, 3, 64);
    json_t *j = export_and_compare(m, path, &meta, ONNX_MIN_OPSET);
    expect_io(j, 64, 3);
    cr_expect_eq(count_op(j, "Conv"), 53);
    cr_expect_eq(count_op(j, "Add"), 16);
    cr_expect_eq(count_op(j, "Relu"), 49);
    json_decref(j);
    ft_model_free(m);
}

// vgg11: an input size whose feature map 7x7 does not divide is refused before anything is written
// (VGG at 224 against ONNX Runtime, with its op counts, is tests/cli/test_export.c's: one 500 MB VGG
// export in the suite is enough).
Test(onnx_export, vgg11_adaptive_pool_that_onnx_cannot_say_is_refused, .timeout = 120) {
    ft_model *m = fx_model("vgg11", 2);
    char path[1024];
    snprintf(path, sizeof path, "%s", fx_at(dir, "vgg11.onnx"));
    checkpoint_meta meta = meta_for(names2, 2, 100);   // 3x3 feature maps
    char err[1024] = "";
    cr_expect_eq(onnx_export(m, &meta, ONNX_MIN_OPSET, path, 0, err, sizeof err), -1);
    cr_expect(strchr(err, '\n') == NULL && strstr(err, "avgpool") && strstr(err, "AdaptiveAvgPool2d") &&
                  strstr(err, "100") && strstr(err, "3x3"),
              "one line naming the module and the input size: '%s'", err);
    char odd[256] = "";
    cr_expect_eq(other_files(NULL, odd, sizeof odd), 0, "nothing written: %s", odd);
    ft_model_free(m);
}

// ---------------------------------------------------------------------------------------------
// refusals: one line each, nothing written

static void expect_refusal(ft_model *m, int opset, const char *path, int overwrite, const char *w1, const char *w2) {
    checkpoint_meta meta = meta_for(names2, 2, 32);
    char err[1024] = "";
    cr_expect_eq(onnx_export(m, &meta, opset, path, overwrite, err, sizeof err), -1, "%s: accepted", path);
    cr_expect(err[0] && strchr(err, '\n') == NULL, "one line: '%s'", err);
    cr_expect(strstr(err, w1) != NULL, "'%s' lacks '%s'", err, w1);
    if (w2) cr_expect(strstr(err, w2) != NULL, "'%s' lacks '%s'", err, w2);
}

Test(onnx_export, refusals_are_one_line_and_leave_nothing, .timeout = 120) {
    ft_model *m = fx_model("resnet18", 2);
    char path[1024], odd[256] = "";
    snprintf(path, sizeof path, "%s", fx_at(dir, "m.onnx"));

    // opsets outside what Debian's onnx knows / what the graph's ops exist in
    expect_refusal(m, 5, path, 0, "opset 5", "9 to 17");
    expect_refusal(m, 30, path, 1, "opset 30", "9 to 17");
    cr_expect_eq(other_files(NULL, odd, sizeof odd), 0, "nothing written: %s", odd);

    // an existing file with overwrite 0: refused, left as it was; with overwrite 1: replaced
    const char old[] = "not an onnx file";
    cr_assert_eq(tu_write_file(path, old, sizeof old), 0);
    expect_refusal(m, ONNX_DEFAULT_OPSET, path, 0, "already exists", "m.onnx");
    size_t len = 0;
    char *now = tu_read_file(path, &len);
    cr_expect(now && len == sizeof old && memcmp(now, old, len) == 0, "the existing file is unchanged");
    free(now);
    cr_expect_eq(other_files("m.onnx", odd, sizeof odd), 0, "no temporary left: %s", odd);
    chmod(path, 0600);
    checkpoint_meta meta = meta_for(names2, 2, 32);
    char err[1024] = "";
    cr_expect_eq(onnx_export(m, &meta, ONNX_DEFAULT_OPSET, path, 1, err, sizeof err), 0, "overwrite: %s", err);
    struct stat st;
    cr_expect(stat(path, &st) == 0 && st.st_size > 40 << 20, "resnet18 written over it (%lld bytes)",
              (long long)st.st_size);
    cr_expect_eq(st.st_mode & 0777, 0600, "a replaced file keeps its mode (%o)", st.st_mode & 0777);
    cr_expect_eq(other_files("m.onnx", odd, sizeof odd), 0, "no temporary left: %s", odd);
    unlink(path);

    // a folder that does not exist, a folder as the file
    char missing[1100];
    snprintf(missing, sizeof missing, "%s/no/such/folder/m.onnx", dir);
    expect_refusal(m, ONNX_DEFAULT_OPSET, missing, 0, "does not exist", "no/such/folder");
    cr_assert_eq(mkdir(fx_at(dir, "sub"), 0755), 0);
    expect_refusal(m, ONNX_DEFAULT_OPSET, fx_at(dir, "sub"), 1, "folder", NULL);
    rmdir(fx_at(dir, "sub"));
    cr_expect_eq(other_files(NULL, odd, sizeof odd), 0, "nothing created: %s", odd);
    ft_model_free(m);
}

// A folder that cannot be written: refused before any work, nothing created in it. Root writes
// anywhere, so as root a child that has dropped to nobody asks (the refusal comes before the model is
// touched, so the child never runs libtorch).
Test(onnx_export, unwritable_folder_is_refused, .timeout = 60) {
    ft_model *m = fx_model("resnet18", 2);
    char ro[1024], path[1100];
    snprintf(ro, sizeof ro, "%s", fx_at(dir, "readonly"));
    snprintf(path, sizeof path, "%s/m.onnx", ro);
    cr_assert_eq(mkdir(ro, 0755), 0);
    cr_assert_eq(chmod(ro, 0555), 0);
    cr_assert_eq(chmod(dir, 0755), 0);   // nobody must reach the folder to be refused by it
    checkpoint_meta meta = meta_for(names2, 2, 32);
    char err[1024] = "";
    int rc;
    if (geteuid() != 0) {
        rc = onnx_export(m, &meta, ONNX_DEFAULT_OPSET, path, 0, err, sizeof err);
    } else {
        int fd[2];
        cr_assert_eq(pipe(fd), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            close(fd[0]);
            alarm(30);   // never outlives the test, whatever happens
            if (setgid(65534) != 0 || setuid(65534) != 0) _exit(5);
            int r = onnx_export(m, &meta, ONNX_DEFAULT_OPSET, path, 0, err, sizeof err);
            if (write(fd[1], err, strlen(err) + 1) < 0) _exit(4);
            _exit(r == -1 ? 1 : 0);
        }
        close(fd[1]);
        ssize_t got = read(fd[0], err, sizeof err - 1);
        err[got > 0 ? got : 0] = '\0';
        close(fd[0]);
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) != 5, "the child could not become nobody");
        rc = WIFEXITED(st) && WEXITSTATUS(st) == 1 ? -1 : 0;
    }
    cr_expect_eq(rc, -1, "accepted: %s", err);
    cr_expect(strchr(err, '\n') == NULL && strstr(err, "cannot be written") && strstr(err, "readonly"),
              "one line naming the folder: '%s'", err);
    DIR *d = opendir(ro);
    cr_assert_not_null(d);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));) entries += e->d_name[0] != '.';
    closedir(d);
    cr_expect_eq(entries, 0, "nothing created in the folder");
    chmod(ro, 0755);
    ft_model_free(m);
}

// A disk that fills while the file is written (a file-size limit on this process: writes past it
// fail with EFBIG): one line, no file, no temporary left.
Test(onnx_export, full_disk_leaves_nothing, .timeout = 120) {
    ft_model *m = fx_model("resnet18", 2);
    char path[1024];
    snprintf(path, sizeof path, "%s", fx_at(dir, "m.onnx"));
    checkpoint_meta meta = meta_for(names2, 2, 32);
    char err[1024] = "";
    struct rlimit old, small;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 1 << 20;   // 1 MB: resnet18's 45 MB cannot fit
    signal(SIGXFSZ, SIG_IGN);
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = onnx_export(m, &meta, ONNX_DEFAULT_OPSET, path, 0, err, sizeof err);
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    cr_expect_eq(rc, -1, "written past the limit");
    cr_expect(strchr(err, '\n') == NULL && strstr(err, "m.onnx") && strstr(err, "write failed") && strstr(err, "large"),
              "one line saying the write failed: '%s'", err);
    char odd[256] = "";
    cr_expect_eq(other_files(NULL, odd, sizeof odd), 0, "nothing left: %s", odd);
    ft_model_free(m);
}
