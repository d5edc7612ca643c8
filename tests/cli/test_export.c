// test_export.c — `frost export`: a run taken elsewhere, checked by the other side.
//
// --pytorch: frost trains an epoch and saves; the exported train.py goes on with the next epoch in
// python3-torch while frost goes on from the same checkpoint (--cache off, BatchNorm in train mode):
// every batch's loss must agree within 1e-4, for the tutorial's Adam run and for a fine-tuning recipe
// (a plan crossing a stage change, a schedule, per-block lrs, class weights, SGD). Under torchrun with
// two processes (gloo on the loopback) the script trains and `frost predict` reads what it saved.
// --onnx: python3-onnx's checker accepts the file and ONNX Runtime (npm's onnxruntime-node) gives
// logits within 1e-4 of `frost predict --json` on photos (../shared's Dogs-vs-Cats when present), for a
// VGG and a ResNet. Bad input: one line, exit 1, nothing half written, nothing replaced without --force.
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "fixtures.h"
#include "testutil.h"
#include "transfer.h"

static char *root;
static void setup(void) { root = tu_tmpdir(); }
static void teardown(void) {
    char disk[2048];
    snprintf(disk, sizeof disk, "%s/disk", root);
    tu_small_disk_end(disk);   // the full-disk tests' tmpfs, also when one failed midway
    tu_rmtree(root);
    free(root);
}
TestSuite(export, .init = setup, .fini = teardown, .timeout = 600);

// root/rel, in one of 8 rotating buffers
static const char *at(const char *rel) {
    static char buf[8][2048];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", root, rel);
    return b;
}

static void run_ok(const char *const *args, const char *what) {
    tu_run_result r;
    tu_run_frost(&r, args);
    cr_assert_eq(r.status, 0, "%s:\n%s\n%s", what, r.out, r.err);
    tu_run_free(&r);
}

// A one-line failure with exit 1 that names word; nothing on stdout.
static void expect_refused(const char *const *args, const char *word) { tu_expect_one_line_error(args, 1, word); }

// ---------------------------------------------------------------------------------------------
// --pytorch

typedef struct {
    const char *optimizer, *lr, *bn;
    const char *plan, *schedule, *block_lr, *class_weights;   // NULL: the tutorial's
    int epochs;                                               // frost's whole run (the script's --epochs)
} recipe;

// The options frost's two runs share (a resumed run takes the recipe from the checkpoint).
static int common_args(const char **args, const recipe *c) {
    const char *a[] = {"--batch",     "8",          "--threads", "1",   "--workers", "1",   "--seed",  "7",
                       "--optimizer", c->optimizer, "--lr",      c->lr, "--bn",      c->bn, "--cache", "off"};
    size_t n = sizeof a / sizeof *a;
    memcpy(args, a, sizeof a);
    return (int)n;
}

// frost trains epoch 1 from the tutorial's model (written here as an epoch-0 checkpoint, --size 32)
// and saves root/first.safetensors with its settings and optimizer state.
static void first_epoch(const recipe *c) {
    fx_two_class_dataset(root, 12, 4, 40);
    ft_model *m = NULL;
    char err[1024];
    transfer_spec spec = {.arch = "resnet18", .classes = 2};
    cr_assert_eq(transfer_build(&spec, &m, NULL, 0, err, sizeof err), 0, "%s", err);
    checkpoint_meta meta;
    static char *names[] = {"cold", "warm"};
    fx_meta_for(&meta, names, 2);
    meta.tf.size = 32;
    fx_save_checkpoint(at("init.safetensors"), m, NULL, &meta);
    ft_model_free(m);
    const char *args[48] = {"train",    root, "--resume", at("init.safetensors"),
                            "--epochs", "1",  "--save",   at("first.safetensors")};
    int n = 8;
    n += common_args(args + n, c);
    const char *fine[][2] = {{"--plan", c->plan},
                             {"--schedule", c->schedule},
                             {"--block-lr", c->block_lr},
                             {"--class-weights", c->class_weights}};
    for (size_t k = 0; k < 4; k++)
        if (fine[k][1]) args[n++] = fine[k][0], args[n++] = fine[k][1];
    run_ok(args, "frost train, epoch 1");
}

// The losses of a JSON-lines log's batch events: phase train/valid in order.
typedef struct {
    double loss[64];
    char phase[64];
    int n;
} losses;

static void read_losses(const char *log, losses *b) {
    memset(b, 0, sizeof *b);
    FILE *f = fopen(log, "r");
    cr_assert_not_null(f, "%s", log);
    char line[1 << 16];
    while (fgets(line, sizeof line, f)) {
        json_t *e = json_loads(line, 0, NULL);
        cr_assert_not_null(e, "not JSON: %s", line);
        if (strcmp(json_string_value(json_object_get(e, "event")), "batch") == 0) {
            cr_assert_lt(b->n, 64);
            b->loss[b->n] = json_number_value(json_object_get(e, "loss"));
            b->phase[b->n] = json_string_value(json_object_get(e, "phase"))[0];
            b->n++;
        }
        json_decref(e);
    }
    fclose(f);
}

static void script_goes_on_as_frost(const recipe *c) {
    first_epoch(c);
    const char *ex[] = {"export", at("first.safetensors"), "--pytorch", at("ex"), NULL};
    run_ok(ex, "frost export --pytorch");
    // frost goes on from the same checkpoint (a copy: its save replaces the file)
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && cp '%s.optim' '%s.optim'", at("first.safetensors"),
             at("second.safetensors"), at("first.safetensors"), at("second.safetensors"));
    cr_assert_eq(system(cmd), 0);
    char epochs[16];
    snprintf(epochs, sizeof epochs, "%d", c->epochs);
    const char *args[48] = {"train",    root,   "--resume", at("second.safetensors"),
                            "--epochs", epochs, "--json",   at("frost.jsonl")};
    int n = 8;
    n += common_args(args + n, c);
    run_ok(args, "frost train --resume");
    snprintf(cmd, sizeof cmd,
             "timeout 500 /usr/bin/python3 '%s/train.py' --data '%s' --epochs %d --log '%s' --out '%s' --workers 0 "
             "--threads 1 --device cpu > '%s' 2>&1",
             at("ex"), root, c->epochs, at("py.jsonl"), at("py.safetensors"), at("py.out"));
    int rc = system(cmd);
    char *out = tu_read_file(at("py.out"), NULL);
    cr_assert_eq(rc, 0, "the exported train.py failed:\n%s", out ? out : "");
    cr_expect(strstr(out, "optimizer state: "), "the script did not take frost's optimizer state:\n%s", out);
    free(out);

    losses f, p;
    read_losses(at("frost.jsonl"), &f);
    read_losses(at("py.jsonl"), &p);
    cr_assert_eq(p.n, f.n, "%d batches in the script, %d in frost", p.n, f.n);
    cr_assert_geq(f.n, 4);
    double worst = 0;
    for (int k = 0; k < f.n; k++) {
        cr_assert_eq(p.phase[k], f.phase[k], "batch %d: phase %c vs %c", k, p.phase[k], f.phase[k]);
        double d = fabs(p.loss[k] - f.loss[k]);
        cr_expect_leq(d, 1e-4, "batch %d (%s): the script's loss %.7f, frost's %.7f", k,
                      f.phase[k] == 't' ? "train" : "valid", p.loss[k], f.loss[k]);
        if (d > worst) worst = d;
    }
    cr_log_info("export --pytorch: %d batches, largest loss difference %.2e", f.n, worst);

    // what the script saved is a frost checkpoint of the epoch it reached
    checkpoint_meta meta;
    ft_model *m = fx_load_checkpoint(at("py.safetensors"), &meta);
    cr_expect_eq(meta.epoch, c->epochs);
    cr_expect_str_eq(meta.class_names[0], "cold");
    cr_expect(isfinite(meta.valid_loss) && isfinite(meta.train_acc), "the script's metrics in the checkpoint");
    ft_model_free(m);
    checkpoint_meta_free(&meta);
}

Test(export, pytorch_script_goes_on_with_frosts_losses_adam) {
    recipe c = {.optimizer = "adam", .lr = "0.001", .bn = "train", .epochs = 2};
    script_goes_on_as_frost(&c);
    char *script = tu_read_file(at("ex/train.py"), NULL);
    cr_assert_not_null(script);
    // the settings it was given, readable at its top
    cr_expect(strstr(script, "OPTIMIZER = \"adam\"") && strstr(script, "LR = 0.001") &&
                  strstr(script, "BN = \"train\"") && strstr(script, "SEED = 7") && strstr(script, "BATCH = 8") &&
                  strstr(script, "START_EPOCH = 1") && strstr(script, "CLASSES = [\"cold\", \"warm\"]"),
              "the settings block:\n%.3000s", strstr(script, "# written by frost") ? strstr(script, "# written") : "");
    free(script);
    char *readme = tu_read_file(at("ex/README.md"), NULL);
    cr_expect(readme && strstr(readme, "torchrun --nproc_per_node"), "the README says how to run it");
    free(readme);
}

Test(export, pytorch_script_goes_on_with_a_plan_schedule_and_groups) {
    recipe c = {.optimizer = "sgd",
                .lr = "0.01",
                .bn = "train",
                .plan = "head:1,last1:2",
                .schedule = "cosine",
                .block_lr = "spread:10",
                .class_weights = "auto",
                .epochs = 3};
    script_goes_on_as_frost(&c);
}

// A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick).
static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

Test(export, pytorch_script_under_torchrun_with_two_processes) {
    recipe c = {.optimizer = "adam", .lr = "0.001", .bn = "eval", .epochs = 1};
    first_epoch(&c);
    const char *ex[] = {"export", at("first.safetensors"), "--pytorch", at("ex"), NULL};
    run_ok(ex, "frost export --pytorch");
    // -r/-t name a local rank that does not exist: torchrun 1.13 under Python 3.11 cannot read "0"
    // (its Std flag enum lost the 0 member; pytorch/pytorch#92319), and nothing is redirected.
    // The rendezvous is torchrun's static one on 127.0.0.1 (--standalone's is on "localhost", and its
    // workers meet at the machine's host name: a bare system or a container may resolve neither).
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && OMP_NUM_THREADS=1 timeout 400 torchrun --nnodes 1 --nproc_per_node 2 --master_addr 127.0.0.1 "
             "--master_port %d -r 9:0 -t 9:0 ex/train.py --data '%s' --epochs 2 --out two.safetensors --workers 0 "
             "--device cpu > torchrun.out 2>&1",
             root, free_port(), root);
    int rc = system(cmd);
    char *out = tu_read_file(at("torchrun.out"), NULL);
    if (rc != 0 && out && strstr(out, "use_libuv was requested but PyTorch was build without libuv")) {
        // Debian 13's PyTorch 2.6 is built without libuv, and its torchrun's rendezvous asks for libuv
        // whatever USE_LIBUV says, so torchrun cannot start there. The processes are started as torchrun
        // starts them (its environment variables), USE_LIBUV=0 for the script's own process group.
        cr_log_info("this torchrun cannot start (PyTorch built without libuv): the two processes are started "
                    "by hand, as torchrun would");
        free(out);
        snprintf(cmd, sizeof cmd,
                 "cd '%s' && port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind((\"127.0.0.1\", "
                 "0)); print(s.getsockname()[1])') && for r in 0 1; do RANK=$r LOCAL_RANK=$r WORLD_SIZE=2 "
                 "LOCAL_WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port USE_LIBUV=0 OMP_NUM_THREADS=1 timeout 400 "
                 "/usr/bin/python3 ex/train.py --data '%s' --epochs 2 --out two.safetensors --workers 0 --device cpu & "
                 "eval p$r=$!; done > torchrun.out 2>&1; wait $p0; a=$?; wait $p1; b=$?; [ $a = 0 ] && [ $b = 0 ]",
                 root, root);
        rc = system(cmd);
        out = tu_read_file(at("torchrun.out"), NULL);
    }
    cr_assert_eq(rc, 0, "torchrun failed:\n%s", out ? out : "");
    cr_expect(strstr(out, "2 processes on cpu"), "%s", out);
    free(out);
    const char *pred[] = {"predict", at("two.safetensors"), at("valid"), "--json", NULL};
    tu_run_result r;
    tu_run_frost(&r, pred);
    cr_assert_eq(r.status, 0, "frost predict of the script's checkpoint:\n%s", r.err);
    cr_expect_eq(tu_count_lines(r.out), 8 + 1, "8 images and the summary:\n%s", r.out);
    tu_run_free(&r);
    checkpoint_meta meta;
    ft_model *m = fx_load_checkpoint(at("two.safetensors"), &meta);
    cr_expect_eq(meta.epoch, 2);
    ft_model_free(m);
    checkpoint_meta_free(&meta);
}

// ---------------------------------------------------------------------------------------------
// --onnx

static int photos(char paths[][2048], int n) { return fx_photos(root, paths, n); }

// The checkpoint of an untrained tutorial model for arch (size 224: VGG's pooling is then exact).
static void write_model(const char *arch, const char *path) {
    ft_model *m = NULL;
    char err[1024];
    transfer_spec spec = {.arch = arch, .classes = 2};
    cr_assert_eq(transfer_build(&spec, &m, NULL, 0, err, sizeof err), 0, "%s", err);
    checkpoint_meta meta;
    static char *names[] = {"cat", "dog"};
    fx_meta_for(&meta, names, 2);
    fx_save_checkpoint(path, m, NULL, &meta);
    ft_model_free(m);
}

static void onnx_matches_predict(const char *arch) {
    write_model(arch, at("m.safetensors"));
    const char *ex[] = {"export", at("m.safetensors"), "--onnx", at("m.onnx"), NULL};
    run_ok(ex, "frost export --onnx");

    // the checker accepts it; batch is dynamic; the metadata says how to feed it
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/oracle/live/onnx_check.py '%s' > '%s' 2>&1", at("m.onnx"),
             at("check.json"));
    int rc = system(cmd);
    char *check = tu_read_file(at("check.json"), NULL);
    cr_assert_eq(rc, 0, "python3-onnx's checker refused it:\n%s", check ? check : "");
    json_t *info = json_loads(check, 0, NULL);
    cr_assert_not_null(info, "%s", check);
    char *text = json_dumps(info, JSON_COMPACT);
    cr_expect(strstr(text, "\"batch\""), "no dynamic batch dimension: %s", text);
    cr_expect(strstr(text, "[\\\"cat\\\", \\\"dog\\\"]") || strstr(text, "[\\\"cat\\\",\\\"dog\\\"]"),
              "the class names are not in the metadata: %s", text);
    cr_expect(strstr(text, "frost.input_size") && strstr(text, "frost.mean"), "%s", text);
    if (strncmp(arch, "vgg", 3) == 0) {   // the tutorial's classifier: three Gemms, no Dropout, no pooling at 224
        json_t *ops = json_object_get(info, "ops");
        int gemm = 0, dropout = 0, pool = 0, conv = 0;
        for (size_t k = 0; k < json_array_size(ops); k++) {
            const char *op = json_string_value(json_array_get(ops, k));
            gemm += op && strcmp(op, "Gemm") == 0;
            dropout += op && strcmp(op, "Dropout") == 0;
            pool += op && strstr(op, "AveragePool") != NULL;
            conv += op && strcmp(op, "Conv") == 0;
        }
        cr_expect(gemm == 3 && dropout == 0 && pool == 0 && conv == 8, "vgg11's ops: %s", text);
    }
    free(text);
    json_decref(info);
    free(check);

    char paths[6][2048];
    int n = photos(paths, 6);
    // frost's own logits
    const char *pred[16] = {"predict", at("m.safetensors"), "--json"};
    for (int k = 0; k < n; k++) pred[3 + k] = paths[k];
    tu_run_result r;
    tu_run_frost(&r, pred);
    cr_assert_eq(r.status, 0, "frost predict:\n%s", r.err);
    // what torchvision feeds the network, through ONNX Runtime
    size_t used = (size_t)snprintf(cmd, sizeof cmd, "cd tests/oracle/live && /usr/bin/python3 preprocess.py '%s' '%s'",
                                   at("m.safetensors"), at("in.f32"));
    for (int k = 0; k < n; k++) used += (size_t)snprintf(cmd + used, sizeof cmd - used, " '%s'", paths[k]);
    cr_assert_eq(system(cmd), 0, "preprocess.py failed");
    const char *ort = getenv("FROST_ORT");
    cr_assert(ort && *ort, "FROST_ORT is not set: make test installs onnxruntime-node and names it");
    snprintf(cmd, sizeof cmd,
             "NODE_PATH='%s' timeout 300 node tests/oracle/live/onnx_run.js '%s' '%s' %d 224 '%s' > '%s' 2>&1", ort,
             at("m.onnx"), at("in.f32"), n, at("out.f32"), at("ort.out"));
    rc = system(cmd);
    char *ort_out = tu_read_file(at("ort.out"), NULL);
    cr_assert_eq(rc, 0, "ONNX Runtime failed:\n%s", ort_out ? ort_out : "");
    free(ort_out);
    size_t len = 0;
    float *logits = (float *)tu_read_file(at("out.f32"), &len);
    cr_assert(logits && len == (size_t)n * 2 * sizeof(float), "%zu bytes of logits", len);
    double worst = 0;
    char *line = r.out;
    for (int k = 0; k < n; k++) {
        char *end = strchr(line, '\n');
        cr_assert_not_null(end);
        *end = 0;
        json_t *e = json_loads(line, 0, NULL);
        cr_assert_not_null(e, "%s", line);
        cr_assert_str_eq(json_string_value(json_object_get(e, "path")), paths[k]);
        json_t *fl = json_object_get(e, "logits");
        cr_assert_eq(json_array_size(fl), 2);
        for (int c = 0; c < 2; c++) {
            double d = fabs(json_number_value(json_array_get(fl, (size_t)c)) - logits[k * 2 + c]);
            cr_expect_leq(d, 1e-4, "%s, class %d: frost %.6f, ONNX Runtime %.6f", paths[k], c,
                          json_number_value(json_array_get(fl, (size_t)c)), logits[k * 2 + c]);
            if (d > worst) worst = d;
        }
        json_decref(e);
        line = end + 1;
    }
    cr_log_info("export --onnx %s: %d photos, largest logit difference %.2e", arch, n, worst);
    free(logits);
    tu_run_free(&r);
}

Test(export, onnx_resnet_matches_frost_predict_in_onnx_runtime) { onnx_matches_predict("resnet18"); }
Test(export, onnx_vgg_matches_frost_predict_in_onnx_runtime) { onnx_matches_predict("vgg11"); }

// ---------------------------------------------------------------------------------------------
// bad input

// No file of an export's (nor a temporary) in dir; dir itself may be absent.
static void expect_no_export(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)))
        cr_expect(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || strcmp(e->d_name, "lost+found") == 0,
                  "left in %s: %s", dir, e->d_name);
    closedir(d);
}

Test(export, a_damaged_or_wrong_checkpoint_is_refused_before_anything_is_written) {
    write_model("resnet18", at("m.safetensors"));
    size_t len;
    char *data = tu_read_file(at("m.safetensors"), &len);
    cr_assert_not_null(data);
    cr_assert_eq(tu_write_file(at("cut.safetensors"), data, len / 2), 0);   // truncated
    data[len - 100] ^= 0x40;                                                // a flipped bit in the weights
    cr_assert_eq(tu_write_file(at("flipped.safetensors"), data, len), 0);
    free(data);
    cr_assert_eq(tu_write_file(at("text.safetensors"), "hello", 5), 0);
    const char *bad[] = {"cut.safetensors", "flipped.safetensors", "text.safetensors", "missing.safetensors"};
    for (size_t k = 0; k < 4; k++) {
        const char *py[] = {"export", at(bad[k]), "--pytorch", at("out"), NULL};
        expect_refused(py, bad[k]);
        const char *onnx[] = {"export", at(bad[k]), "--onnx", at("out/m.onnx"), NULL};
        expect_refused(onnx, bad[k]);
        struct stat st;
        cr_expect_neq(stat(at("out"), &st), 0, "%s: an output folder was made", bad[k]);
    }
    // usage: nothing asked, an opset out of range
    const char *none[] = {"export", at("m.safetensors"), NULL};
    tu_expect_one_line_error(none, 2, "--pytorch");
    const char *opset[] = {"export", at("m.safetensors"), "--onnx", at("m.onnx"), "--opset", "30", NULL};
    tu_expect_one_line_error(opset, 2, "opset");
}

Test(export, an_existing_export_is_kept_unless_forced) {
    write_model("resnet18", at("m.safetensors"));
    const char *py[] = {"export", at("m.safetensors"), "--pytorch", at("ex"), NULL};
    const char *onnx[] = {"export", at("m.safetensors"), "--onnx", at("m.onnx"), NULL};
    run_ok(py, "first export");
    cr_assert_eq(tu_write_file(at("m.onnx"), "mine", 4), 0);
    cr_assert_eq(tu_write_file(at("ex/train.py"), "mine", 4), 0);
    expect_refused(py, "--force");
    expect_refused(onnx, "--force");
    size_t len;
    char *kept = tu_read_file(at("ex/train.py"), &len);
    cr_expect(kept && len == 4 && memcmp(kept, "mine", 4) == 0, "train.py was replaced without --force");
    free(kept);
    kept = tu_read_file(at("m.onnx"), &len);
    cr_expect(kept && len == 4 && memcmp(kept, "mine", 4) == 0, "the ONNX file was replaced without --force");
    free(kept);
    const char *py_force[] = {"export", at("m.safetensors"), "--pytorch", at("ex"), "--force", NULL};
    const char *onnx_force[] = {"export", at("m.safetensors"), "--onnx", at("m.onnx"), "--force", NULL};
    run_ok(py_force, "export --force");
    run_ok(onnx_force, "export --onnx --force");
    char *script = tu_read_file(at("ex/train.py"), &len);
    cr_expect(script && strstr(script, "ARCH = \"resnet18\""), "--force wrote the script");
    free(script);
    cr_expect_gt(len, 4);
    kept = tu_read_file(at("m.onnx"), &len);
    cr_expect(kept && len > 1000000, "--force wrote the model (%zu bytes)", len);
    free(kept);
}

Test(export, an_unwritable_or_full_destination_leaves_no_file) {
    write_model("resnet18", at("m.safetensors"));
    cr_assert_eq(tu_write_file(at("plain"), "x", 1), 0);
    const char *py[] = {"export", at("m.safetensors"), "--pytorch", at("plain/ex"), NULL};
    expect_refused(py, "plain");
    const char *onnx[] = {"export", at("m.safetensors"), "--onnx", at("plain/m.onnx"), NULL};
    expect_refused(onnx, "plain");
    // a disk too small for the weights (45 MB): the export fails whole
    const char *disk = at("disk");
    if (tu_small_disk(disk, 8LL << 20) != 0) {
        cr_log_info("no tmpfs can be mounted here: the full-disk half of this test did not run");
        return;
    }
    const char *py_full[] = {"export", at("m.safetensors"), "--pytorch", at("disk/ex"), NULL};
    expect_refused(py_full, "space");
    expect_no_export(at("disk/ex"));
    const char *onnx_full[] = {"export", at("m.safetensors"), "--onnx", at("disk/m.onnx"), NULL};
    expect_refused(onnx_full, "space");
    expect_no_export(disk);
    tu_small_disk_end(disk);
}
