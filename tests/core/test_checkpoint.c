// test_checkpoint.c — checkpoints (core/train/checkpoint.c), on models the test makes: exact round trips
// (weights, metadata, trainable flags, head), PyTorch loading the file strictly and computing the same
// logits, optimizer state by parameter name, saves killed mid-write, one-line refusals. `frost
// predict` on them: tests/cli/test_predict.c.
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "fixtures.h"
#include "frost_torch.h"
#include "model_print.h"
#include "pipeline.h"
#include "safetensors.h"
#include "testutil.h"
#include "weights.h"

static char *dir;
static void setup(void) { dir = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(dir);
    free(dir);
}
TestSuite(checkpoint, .init = setup, .fini = teardown);

// ---------------------------------------------------------------------------------------------
// helpers

static int same_state(ft_model *a, ft_model *b) {
    size_t la, lb;
    unsigned char *x = fx_state_bytes(a, &la), *y = fx_state_bytes(b, &lb);
    int same = la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

static char *repr(ft_model *m) {
    const ft_node *nodes;
    size_t n, len;
    char *text = NULL;
    cr_assert_null(ft_model_nodes(m, &nodes, &n));
    FILE *f = open_memstream(&text, &len);
    model_print_repr(f, nodes, n);
    fclose(f);
    return text;
}

static char *names3[] = {"chat \"noir\"", "\xc3\xa9meu", "\xe7\x8b\x97 \\ dog"};   // quotes, é, 狗 and a backslash

// Loading must fail with one line that contains every word given.
static void expect_load_error(const char *path, const char *w1, const char *w2) {
    char err[1024] = "";
    ft_model *m = NULL;
    checkpoint_meta meta;
    cr_expect_eq(checkpoint_load(path, &m, &meta, err, sizeof err), -1);
    cr_expect_null(m);
    cr_expect(err[0] && strchr(err, '\n') == NULL, "one line: '%s'", err);
    cr_expect(strstr(err, w1) != NULL, "'%s' lacks '%s'", err, w1);
    if (w2) cr_expect(strstr(err, w2) != NULL, "'%s' lacks '%s'", err, w2);
}

// A plain state_dict where a checkpoint is wanted: refused with its own code (the front ends then
// say how to load it as weights), the architecture named when the file names one.
static void expect_weights_error(const char *path, const char *w1, const char *arch) {
    char err[1024] = "";
    ft_model *m = NULL;
    checkpoint_meta meta;
    cr_expect_eq(checkpoint_load(path, &m, &meta, err, sizeof err), CHECKPOINT_E_WEIGHTS);
    cr_expect_null(m);
    cr_expect(strstr(err, w1) != NULL, "'%s' lacks '%s'", err, w1);
    cr_expect(strstr(err, "--") == NULL, "core names no flag: '%s'", err);
    cr_expect_str_eq(meta.arch, arch);
}

static void fill_random(float *x, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

// Copies src to dst with one metadata value replaced (or added).
typedef struct {
    const safet_file *f;
} copy_fill;

static int fill_copy(void *user, size_t i, void *dst, size_t nbytes, char *err, size_t errlen) {
    (void)err, (void)errlen;
    memcpy(dst, ((copy_fill *)user)->f->tensors[i].data, nbytes);
    return 0;
}

static void rewrite_meta(const char *src, const char *dst, const char *key, const char *value) {
    safet_file f;
    char err[512];
    cr_assert_eq(safet_open(&f, src, err, sizeof err), 0, "%s", err);
    safet_entry *e = calloc(f.n_tensors, sizeof *e);
    for (size_t i = 0; i < f.n_tensors; i++)
        e[i] = (safet_entry){f.tensors[i].name, f.tensors[i].dtype, f.tensors[i].ndim, f.tensors[i].shape};
    const char **keys = calloc(f.n_meta + 1, sizeof *keys), **values = calloc(f.n_meta + 1, sizeof *values);
    size_t n = 0;
    int replaced = 0;
    for (size_t i = 0; i < f.n_meta; i++) {
        keys[n] = f.meta_keys[i];
        values[n] = strcmp(f.meta_keys[i], key) == 0 ? (replaced = 1, value) : f.meta_values[i];
        n++;
    }
    if (!replaced) keys[n] = key, values[n++] = value;
    copy_fill cf = {&f};
    cr_assert_eq(safet_write(dst, e, f.n_tensors, keys, values, n, fill_copy, &cf, err, sizeof err), 0, "%s", err);
    free(e);
    free(keys);
    free(values);
    safet_close(&f);
}

// ---------------------------------------------------------------------------------------------
// round trips

Test(checkpoint, round_trip_weights_metadata_flags_head) {
    ft_model *a = fx_model("resnet18", 3);
    cr_assert_null(ft_model_set_trainable(a, "layer4.1", 1));
    // non-trivial BatchNorm statistics: one forward in training mode
    float x[2 * 3 * 32 * 32];
    fill_random(x, sizeof x / sizeof *x, 7);
    float logits[6];
    ft_model_set_training(a, 1);
    cr_assert_null(ft_model_forward(a, x, 2, 3, 32, 32, logits, 6));

    checkpoint_meta meta;
    fx_meta_for(&meta, names3, 3);
    transform_params_imagenet(&meta.tf);
    meta.tf.size = 160;
    meta.tf.fit = TRANSFORM_SHORT_CROP;
    meta.epoch = 7;
    meta.train_loss = 0.25;
    meta.train_acc = 0.875;
    meta.valid_acc = 0.5;   // valid_loss stays NAN
    meta.train_config = "{\"lr\": 1e-05, \"optimizer\": \"adam\"}";
    const char *path = fx_at(dir, "a.safetensors");
    fx_save_checkpoint(path, a, NULL, &meta);

    checkpoint_meta got;
    ft_model *b = fx_load_checkpoint(path, &got);
    cr_expect(same_state(a, b), "state bytes differ after the round trip");
    cr_expect_str_eq(got.arch, "resnet18");
    cr_assert_eq(got.num_classes, 3);
    for (int i = 0; i < 3; i++) cr_expect_str_eq(got.class_names[i], names3[i]);
    cr_expect_eq(got.head_replaced, 1);
    cr_expect_eq(got.tf.size, 160);
    cr_expect_eq(got.tf.fit, TRANSFORM_SHORT_CROP);
    cr_expect(memcmp(got.tf.mean, meta.tf.mean, sizeof got.tf.mean) == 0, "mean %g", got.tf.mean[0]);
    cr_expect(memcmp(got.tf.std, meta.tf.std, sizeof got.tf.std) == 0, "std %g", got.tf.std[0]);
    cr_expect_eq(got.epoch, 7);
    cr_expect_eq(got.train_loss, 0.25);
    cr_expect_eq(got.train_acc, 0.875);
    cr_expect(isnan(got.valid_loss));
    cr_expect_eq(got.valid_acc, 0.5);
    cr_assert_not_null(got.train_config);
    json_t *cfg = json_loads(got.train_config, 0, NULL);
    cr_expect_str_eq(json_string_value(json_object_get(cfg, "optimizer")), "adam");
    json_decref(cfg);

    // trainable: layer4.1 (two convs, two BatchNorms) and the new fc, nothing else
    cr_expect_eq(got.n_trainable, 8, "%zu trainable parameters", got.n_trainable);
    cr_expect_str_eq(got.trainable[got.n_trainable - 1], "fc.bias");
    const ft_node *na, *nb;
    size_t ca, cb;
    cr_assert_null(ft_model_nodes(a, &na, &ca));
    int64_t ta = na[0].trainable;
    cr_assert_null(ft_model_nodes(b, &nb, &cb));
    cr_assert_eq(ca, cb);
    cr_expect_eq(nb[0].trainable, ta);
    for (size_t i = 0; i < cb; i++) {
        cr_assert_null(ft_model_nodes(a, &na, &ca));
        int64_t want = na[i].trainable;
        char pathbuf[256];
        snprintf(pathbuf, sizeof pathbuf, "%s", na[i].path);
        cr_assert_null(ft_model_nodes(b, &nb, &cb));
        cr_expect_eq(nb[i].trainable, want, "module '%s'", pathbuf);
    }
    char *ra = repr(a), *rb = repr(b);
    cr_expect_str_eq(rb, ra);
    cr_expect(strstr(rb, "(fc): Linear(in_features=512, out_features=3, bias=True)") != NULL);
    free(ra);
    free(rb);

    // the loaded model is in eval mode: the same input gives the same logits twice, and they match
    // the original's in eval mode
    float la[6], lb[6], lb2[6];
    ft_model_set_training(a, 0);
    cr_assert_null(ft_model_forward(a, x, 2, 3, 32, 32, la, 6));
    cr_assert_null(ft_model_forward(b, x, 2, 3, 32, 32, lb, 6));
    cr_assert_null(ft_model_forward(b, x, 2, 3, 32, 32, lb2, 6));
    cr_expect(memcmp(la, lb, sizeof la) == 0 && memcmp(lb, lb2, sizeof lb) == 0, "eval logits differ");

    // what PyTorch tooling sees in the header
    safet_file f;
    char err[512];
    cr_assert_eq(safet_open(&f, path, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(safet_meta(&f, "format"), "pt");
    cr_expect_str_eq(safet_meta(&f, "frost.resize"), "crop");
    cr_expect_str_eq(safet_meta(&f, "frost.mean"), "[0.485, 0.456, 0.406]");
    cr_expect_eq(f.n_tensors, ft_model_state_count(a));
    json_t *names = json_loads(safet_meta(&f, "frost.class_names"), 0, NULL);
    cr_expect_str_eq(json_string_value(json_array_get(names, 0)), "chat \"noir\"");
    json_decref(names);
    safet_close(&f);

    checkpoint_meta_free(&got);
    checkpoint_meta_free(NULL);
    ft_model_free(a);
    ft_model_free(b);
}

Test(checkpoint, torchvision_head_kept_and_all_trainable) {
    ft_model *a = fx_model("resnet18", 0);   // 1000 classes, every parameter trainable
    char **names = calloc(1000, sizeof *names);
    for (int i = 0; i < 1000; i++) {
        names[i] = malloc(16);
        snprintf(names[i], 16, "n%04d", i);
    }
    checkpoint_meta meta;
    fx_meta_for(&meta, names, 1000);
    meta.head_replaced = 0;
    const char *path = fx_at(dir, "full.safetensors");
    fx_save_checkpoint(path, a, NULL, &meta);
    checkpoint_meta got;
    ft_model *b = fx_load_checkpoint(path, &got);
    cr_expect_eq(got.head_replaced, 0);
    cr_expect_eq(got.num_classes, 1000);
    cr_expect_str_eq(got.class_names[999], "n0999");
    cr_expect_eq(got.n_trainable, 62, "%zu", got.n_trainable);   // resnet18's parameters
    cr_expect_eq(ft_model_backbone_frozen(b), 0);
    cr_expect(same_state(a, b));
    checkpoint_meta_free(&got);
    for (int i = 0; i < 1000; i++) free(names[i]);
    free(names);
    ft_model_free(a);
    ft_model_free(b);
}

Test(checkpoint, save_refuses_bad_meta) {
    ft_model *m = fx_model("resnet18", 3);
    char err[512] = "";
    checkpoint_meta meta;
    fx_meta_for(&meta, names3, 2);   // the model has 3 outputs
    cr_expect_eq(checkpoint_save(fx_at(dir, "x.safetensors"), m, NULL, &meta, err, sizeof err), -1);
    cr_expect(strstr(err, "3 outputs") != NULL, "%s", err);
    char *bad[] = {"ok", "\xff\xfe", "fine"};
    fx_meta_for(&meta, bad, 3);
    cr_expect_eq(checkpoint_save(fx_at(dir, "x.safetensors"), m, NULL, &meta, err, sizeof err), -1);
    cr_expect(strstr(err, "UTF-8") != NULL, "%s", err);
    cr_expect_eq(checkpoint_meta_check(&meta, err, sizeof err), -1);
    cr_expect_eq(access(fx_at(dir, "x.safetensors"), F_OK), -1, "nothing written");
    ft_model_free(m);
}

// ---------------------------------------------------------------------------------------------
// PyTorch reads the file: torchvision's model, the seed's head, load_state_dict(strict=True)

static const char *torch_script =
    "import json, sys\n"
    "import numpy as np, torch, torchvision\n"
    "from torch import nn\n"
    "def read(path):\n"
    "    mm = np.memmap(path, dtype=np.uint8, mode='c')\n"
    "    n = int.from_bytes(bytes(mm[:8]), 'little')\n"
    "    head = json.loads(bytes(mm[8:8 + n]))\n"
    "    meta = head.pop('__metadata__')\n"
    "    kinds = {'F32': np.float32, 'I64': np.int64}\n"
    "    sd = {}\n"
    "    for k, v in head.items():\n"
    "        a, b = v['data_offsets']\n"
    "        dt = np.dtype(kinds[v['dtype']])\n"
    "        arr = np.frombuffer(mm, dtype=dt, count=(b - a) // dt.itemsize, offset=8 + n + a)\n"
    "        sd[k] = torch.from_numpy(arr.reshape(v['shape']))\n"
    "    return meta, sd\n"
    "# the weights come from the file: skip torchvision's random initialisation (seconds for VGG)\n"
    "for f in ('kaiming_normal_', 'kaiming_uniform_', 'normal_', 'uniform_', 'constant_'):\n"
    "    setattr(nn.init, f, lambda t, *a, **k: t)\n"
    "for arch, ckpt, inp, out in zip(*[iter(sys.argv[1:])] * 4):\n"
    "    meta, sd = read(ckpt)\n"
    "    assert meta['format'] == 'pt' and meta['frost.arch'] == arch\n"
    "    n = len(json.loads(meta['frost.class_names']))\n"
    "    model = getattr(torchvision.models, arch)()\n"
    "    if arch.startswith('vgg'):\n"
    "        model.classifier = nn.Sequential(nn.Linear(25088, 4096), nn.ReLU(True), nn.Dropout(p=0.5),\n"
    "                                         nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=0.5),\n"
    "                                         nn.Linear(4096, n))\n"
    "    else:\n"
    "        model.fc = nn.Linear(model.fc.in_features, n)\n"
    "    model.load_state_dict(sd, strict=True)\n"
    "    model.eval()\n"
    "    size = int(meta['frost.input_size'])\n"
    "    x = torch.from_numpy(np.fromfile(inp, dtype=np.float32).reshape(-1, 3, size, size))\n"
    "    with torch.no_grad():\n"
    "        model(x).numpy().astype(np.float32).tofile(out)\n";

static double rel_error(const float *a, const float *b, size_t n) {
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)a[i] - (double)b[i]));
        scale = fmax(scale, fabs((double)b[i]));
    }
    return diff / scale;
}

// resnet18 with a 3-class fc and vgg11 with the seed's 3-class classifier, at 32x32: PyTorch loads
// each file strictly into torchvision's model and its eval logits match ours (the resnet18 file's
// after our own checkpoint_load, the vgg11 one's from the model that was saved: building VGG twice
// costs seconds).
Test(checkpoint, pytorch_loads_strict_same_logits, .timeout = 120) {
    const char *archs[] = {"resnet18", "vgg11"};
    enum { N = 2, S = 32, K = 3 };
    ft_model *models[2];
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s", fx_at(dir, "check.py"));
    cr_assert_eq(tu_write_file(fx_at(dir, "check.py"), torch_script, strlen(torch_script)), 0);
    static float x[N * 3 * S * S];
    fill_random(x, sizeof x / sizeof *x, 11);
    cr_assert_eq(tu_write_file(fx_at(dir, "x.bin"), x, sizeof x), 0);
    for (int a = 0; a < 2; a++) {
        ft_model *m = models[a] = fx_model(archs[a], K);
        if (a == 0) {   // move resnet's BatchNorm statistics away from 0/1 (vgg11 has none)
            float warm[K * N];
            ft_model_set_training(m, 1);
            cr_assert_null(ft_model_forward(m, x, N, 3, S, S, warm, K * N));
        }
        checkpoint_meta meta;
        fx_meta_for(&meta, names3, K);
        meta.tf.size = S;
        char name[64];
        snprintf(name, sizeof name, "%s.safetensors", archs[a]);
        fx_save_checkpoint(fx_at(dir, name), m, NULL, &meta);
        size_t used = strlen(cmd);
        snprintf(cmd + used, sizeof cmd - used, " %s %s %s %s/%s.out", archs[a], fx_at(dir, name), fx_at(dir, "x.bin"),
                 dir, archs[a]);
    }
    snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), " 2>%s", fx_at(dir, "py.err"));
    int rc = system(cmd);
    char *perr = tu_read_file(fx_at(dir, "py.err"), NULL);
    cr_assert_eq(rc, 0, "python failed: %s", perr ? perr : "");
    free(perr);

    checkpoint_meta meta;
    ft_model *loaded = fx_load_checkpoint(fx_at(dir, "resnet18.safetensors"), &meta);
    checkpoint_meta_free(&meta);
    ft_model_free(models[0]);
    models[0] = loaded;
    ft_model_set_training(models[1], 0);
    for (int a = 0; a < 2; a++) {
        float ours[N * K];
        cr_assert_null(ft_model_forward(models[a], x, N, 3, S, S, ours, N * K));
        char name[64];
        snprintf(name, sizeof name, "%s.out", archs[a]);
        size_t len = 0;
        float *theirs = (float *)tu_read_file(fx_at(dir, name), &len);
        cr_assert_not_null(theirs);
        cr_assert_eq(len, sizeof ours);
        double e = rel_error(ours, theirs, N * K);
        cr_expect(e < 1e-4, "%s: relative error %g (ours %g, torch %g)", archs[a], e, ours[0], theirs[0]);
        free(theirs);
        ft_model_free(models[a]);
    }
}

// ---------------------------------------------------------------------------------------------
// optimizer state

typedef struct {
    char name[256];
    size_t nbytes;
    unsigned char *data;
} state_entry;

static size_t optimizer_entries(ft_optimizer *o, state_entry **out) {
    size_t n = ft_optimizer_state_count(o);
    state_entry *v = calloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        ft_tensor_info info;
        cr_assert_null(ft_optimizer_state_info(o, i, &info));
        snprintf(v[i].name, sizeof v[i].name, "%s", info.name);
        v[i].nbytes = info.nbytes;
        v[i].data = malloc(info.nbytes ? info.nbytes : 1);
        cr_assert_null(ft_optimizer_state_get(o, i, v[i].data, info.nbytes));
    }
    *out = v;
    return n;
}

static void entries_free(state_entry *v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i].data);
    free(v);
}

static const state_entry *find_entry(const state_entry *v, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0) return &v[i];
    return NULL;
}

// Loads path's model, sets layer4 trainable or not, makes an Adam over what is trainable and
// restores the sidecar into it.
static ft_optimizer *resume(const char *path, ft_model **m, const char *also_trainable, int layer4, size_t *restored) {
    checkpoint_meta meta;
    *m = fx_load_checkpoint(path, &meta);
    checkpoint_meta_free(&meta);
    if (!layer4) cr_assert_null(ft_model_set_trainable(*m, "layer4", 0));
    if (also_trainable) cr_assert_null(ft_model_set_trainable(*m, also_trainable, 1));
    ft_opt_params p;
    ft_opt_params_default(&p);
    ft_optimizer *o = NULL;
    cr_assert_null(ft_optimizer_create(*m, &p, &o));
    char err[1024] = "";
    cr_assert_eq(checkpoint_load_optimizer(path, o, restored, err, sizeof err), 0, "%s", err);
    return o;
}

Test(checkpoint, optimizer_sidecar_by_parameter_name, .timeout = 60) {
    ft_model *m = fx_model("resnet18", 3);
    cr_assert_null(ft_model_set_trainable(m, "layer4", 1));
    ft_opt_params p;
    ft_opt_params_default(&p);
    p.lr = 1e-3;
    ft_optimizer *o = NULL;
    cr_assert_null(ft_optimizer_create(m, &p, &o));
    enum { N = 4, S = 32 };
    static float x[N * 3 * S * S];
    int64_t y[N] = {0, 1, 2, 1};
    ft_model_set_training(m, 1);
    for (int step = 0; step < 2; step++) {
        fill_random(x, sizeof x / sizeof *x, 100u + (unsigned)step);
        ft_step_result r;
        cr_assert_null(ft_train_step(m, o, x, y, N, 3, S, S, &r));
    }
    state_entry *want;
    size_t n_want = optimizer_entries(o, &want);
    cr_assert_gt(n_want, 6);
    cr_assert_not_null(find_entry(want, n_want, "fc.weight.exp_avg_sq"));
    cr_assert_not_null(find_entry(want, n_want, "layer4.0.conv1.weight.exp_avg"));

    checkpoint_meta meta;
    fx_meta_for(&meta, names3, 3);
    char path[1024];
    snprintf(path, sizeof path, "%s", fx_at(dir, "opt.safetensors"));
    fx_save_checkpoint(path, m, o, &meta);
    cr_assert_eq(access(fx_at(dir, "opt.safetensors.optim"), F_OK), 0, "no sidecar");

    // the same trainable set: every entry back, byte for byte
    ft_model *m2;
    size_t restored = 0;
    ft_optimizer *o2 = resume(path, &m2, NULL, 1, &restored);
    cr_expect_eq(restored, n_want);
    state_entry *got;
    size_t n_got = optimizer_entries(o2, &got);
    cr_assert_eq(n_got, n_want);
    for (size_t i = 0; i < n_want; i++) {
        const state_entry *g = find_entry(got, n_got, want[i].name);
        cr_assert_not_null(g, "missing %s", want[i].name);
        cr_expect(g->nbytes == want[i].nbytes && memcmp(g->data, want[i].data, g->nbytes) == 0, "%s differs",
                  want[i].name);
    }
    entries_free(got, n_got);
    ft_optimizer_free(o2);
    ft_model_free(m2);

    // layer4 frozen now, layer3 trained instead: fc's entries come back, the rest is ignored
    ft_model *m3;
    ft_optimizer *o3 = resume(path, &m3, "layer3", 0, &restored);
    cr_expect_eq(restored, 6, "restored %zu", restored);   // fc.weight and fc.bias: step, exp_avg, exp_avg_sq
    n_got = optimizer_entries(o3, &got);
    cr_expect_eq(n_got, 6);
    for (size_t i = 0; i < n_got; i++) {
        const state_entry *w = find_entry(want, n_want, got[i].name);
        cr_assert_not_null(w, "unexpected %s", got[i].name);
        cr_expect(memcmp(w->data, got[i].data, w->nbytes) == 0, "%s differs", got[i].name);
    }
    // and the resumed optimizer trains
    ft_step_result r;
    ft_model_set_training(m3, 1);
    cr_expect_null(ft_train_step(m3, o3, x, y, N, 3, S, S, &r));
    entries_free(got, n_got);
    ft_optimizer_free(o3);
    ft_model_free(m3);

    // a sidecar from another save is refused; saving without an optimizer removes it
    char *old = tu_read_file(fx_at(dir, "opt.safetensors.optim"), &restored);
    size_t old_len = restored;
    fx_save_checkpoint(path, m, o, &meta);
    cr_assert_eq(tu_write_file(fx_at(dir, "opt.safetensors.optim"), old, old_len), 0);
    free(old);
    ft_opt_params_default(&p);
    cr_assert_null(ft_optimizer_create(m, &p, &o2));
    char err[1024] = "";
    cr_expect_eq(checkpoint_load_optimizer(path, o2, &restored, err, sizeof err), -1);
    cr_expect(strstr(err, "another save") != NULL && !strchr(err, '\n'), "%s", err);
    fx_save_checkpoint(path, m, NULL, &meta);
    cr_expect_eq(access(fx_at(dir, "opt.safetensors.optim"), F_OK), -1, "stale sidecar kept");
    restored = 99;
    cr_expect_eq(checkpoint_load_optimizer(path, o2, &restored, err, sizeof err), 0, "%s", err);
    cr_expect_eq(restored, 0);
    ft_optimizer_free(o2);

    entries_free(want, n_want);
    ft_optimizer_free(o);
    ft_model_free(m);
}

// ---------------------------------------------------------------------------------------------
// a save killed at any moment leaves the previous file whole

// Removes the writer's leftovers ("k.safetensors.tmp.*"); returns how many there were, or -1 when
// the folder holds anything else (named in odd).
static int remove_temp_files(const char *keep, char *odd, size_t oddlen) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || strcmp(e->d_name, keep) == 0) continue;
        if (strncmp(e->d_name, keep, strlen(keep)) == 0 && strncmp(e->d_name + strlen(keep), ".tmp.", 5) == 0) {
            unlink(fx_at(dir, e->d_name));
            n++;
            continue;
        }
        snprintf(odd, oddlen, "%s", e->d_name);
        n = -1;
        break;
    }
    closedir(d);
    return n;
}

static long elapsed_us(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000000L + (t1.tv_nsec - t0->tv_nsec) / 1000;
}

// Waits (polling) until *counter reaches target; 0 on time, -1 after 30 s.
static int wait_for(const long *counter, long target) {
    struct timespec t0, nap = {0, 500000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (__atomic_load_n(counter, __ATOMIC_SEQ_CST) < target)
        if (elapsed_us(&t0) > 30000000L)
            return -1;
        else
            nanosleep(&nap, NULL);
    return 0;
}

// A child saves two versions in turn to one path; it is killed 50 times at pseudo-random moments
// (half of the times only after it finished a save, so the file does change). After each kill the
// file loads, and its weights are those of the version its metadata names.
Test(checkpoint, killed_save_leaves_a_whole_file, .timeout = 300) {
    ft_model *ver[2] = {fx_model("resnet18", 3), fx_model("resnet18", 3)};
    size_t ver_len[2];
    unsigned char *ver_bytes[2] = {fx_state_bytes(ver[0], &ver_len[0]), fx_state_bytes(ver[1], &ver_len[1])};
    cr_assert(ver_len[0] == ver_len[1] && memcmp(ver_bytes[0], ver_bytes[1], ver_len[0]) != 0);
    checkpoint_meta meta[2];
    for (int v = 0; v < 2; v++) {
        fx_meta_for(&meta[v], names3, 3);
        meta[v].epoch = v + 1;   // tells which version a file is
    }
    char path[1024];
    snprintf(path, sizeof path, "%s", fx_at(dir, "k.safetensors"));
    fx_save_checkpoint(path, ver[0], NULL, &meta[0]);

    // how long one save takes, to aim the kills inside saves
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fx_save_checkpoint(path, ver[0], NULL, &meta[0]);
    long save_us = elapsed_us(&t0);
    if (save_us < 1000) save_us = 1000;

    long *counters = mmap(NULL, 2 * sizeof(long), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(counters, MAP_FAILED);
    long *started = &counters[0], *done = &counters[1];
    unsigned seed = 12345;
    int seen[2] = {0, 0}, leftovers = 0;
    long done_total = 0;
    for (int kill_no = 0; kill_no < 50; kill_no++) {
        *started = *done = 0;
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            char err[1024];
            for (int k = 1;; k++) {
                __atomic_add_fetch(started, 1, __ATOMIC_SEQ_CST);
                if (checkpoint_save(path, ver[k % 2], NULL, &meta[k % 2], err, sizeof err) != 0) _exit(3);
                __atomic_add_fetch(done, 1, __ATOMIC_SEQ_CST);
            }
        }
        int waited = wait_for(kill_no % 2 ? started : done, 1);
        seed = seed * 1103515245u + 12345u;
        long wait_us = (long)((seed >> 8) % (unsigned)(3 * save_us / 2));
        struct timespec w = {wait_us / 1000000, (wait_us % 1000000) * 1000};
        nanosleep(&w, NULL);
        kill(pid, SIGKILL);
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_assert_eq(waited, 0, "the writer made no progress in 30 s");
        cr_assert(WIFSIGNALED(st), "the writer ended by itself (status %d)", WEXITSTATUS(st));
        done_total += *done;

        checkpoint_meta got;
        ft_model *m = fx_load_checkpoint(path, &got);
        cr_assert(got.epoch == 1 || got.epoch == 2, "epoch %d", got.epoch);
        int v = got.epoch - 1;
        seen[v]++;
        size_t len;
        unsigned char *bytes = fx_state_bytes(m, &len);
        cr_expect(len == ver_len[v] && memcmp(bytes, ver_bytes[v], len) == 0,
                  "kill %d: weights are not those of version %d", kill_no, v + 1);
        free(bytes);
        checkpoint_meta_free(&got);
        ft_model_free(m);
        char odd[256] = "";
        int tmp = remove_temp_files("k.safetensors", odd, sizeof odd);
        cr_assert_geq(tmp, 0, "unexpected file %s", odd);
        leftovers += tmp;
    }
    cr_expect_geq(done_total, 25, "the writer finished %ld saves", done_total);
    cr_expect_gt(seen[1], 0, "the file never changed");
    cr_expect_gt(leftovers, 0, "no kill landed inside a save");
    munmap(counters, 2 * sizeof(long));
    free(ver_bytes[0]);
    free(ver_bytes[1]);
    ft_model_free(ver[0]);
    ft_model_free(ver[1]);
}

// A full disk while saving (a file size limit in a child: writes past it fail with EFBIG): one clear
// message, the old checkpoint whole, no temporary file left.
Test(checkpoint, full_disk_leaves_the_old_file, .timeout = 120) {
    ft_model *ver[2] = {fx_model("resnet18", 3), fx_model("resnet18", 3)};
    checkpoint_meta meta[2];
    for (int v = 0; v < 2; v++) {
        fx_meta_for(&meta[v], names3, 3);
        meta[v].epoch = v + 1;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s", fx_at(dir, "full.safetensors"));
    fx_save_checkpoint(path, ver[0], NULL, &meta[0]);
    int fd[2];
    cr_assert_eq(pipe(fd), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {1 << 20, 1 << 20};   // 1 MB: the 45 MB checkpoint cannot fit
        setrlimit(RLIMIT_FSIZE, &rl);
        char err[1024] = "";
        int rc = checkpoint_save(path, ver[1], NULL, &meta[1], err, sizeof err);
        if (write(fd[1], err, strlen(err) + 1) < 0) _exit(4);
        _exit(rc == 0 ? 0 : 1);
    }
    close(fd[1]);
    char msg[1024] = "";
    ssize_t got = read(fd[0], msg, sizeof msg - 1);
    close(fd[0]);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st), "the saver died of a signal");
    cr_expect_eq(WEXITSTATUS(st), 1, "the save reported failure");
    cr_expect_gt(got, 1, "a message");
    cr_expect(strchr(msg, '\n') == NULL && (strstr(msg, "large") || strstr(msg, "space") || strstr(msg, "full")),
              "one line saying the disk is full: '%s'", msg);
    checkpoint_meta back;
    ft_model *m = fx_load_checkpoint(path, &back);
    cr_expect_eq(back.epoch, 1, "the old checkpoint is intact");
    checkpoint_meta_free(&back);
    ft_model_free(m);
    char odd[256] = "";
    cr_expect_eq(remove_temp_files("full.safetensors", odd, sizeof odd), 0, "no temporary file left (%s)", odd);
    ft_model_free(ver[0]);
    ft_model_free(ver[1]);
}

// ---------------------------------------------------------------------------------------------
// refusals

Test(checkpoint, load_errors_are_one_line) {
    ft_model *m = fx_model("resnet18", 3);
    checkpoint_meta meta;
    fx_meta_for(&meta, names3, 3);
    char good[1024];
    snprintf(good, sizeof good, "%s", fx_at(dir, "good.safetensors"));
    fx_save_checkpoint(good, m, NULL, &meta);

    expect_load_error(fx_at(dir, "missing.safetensors"), "missing.safetensors", "No such file");

    // truncated: the header promises more data than there is
    size_t len;
    char *bytes = tu_read_file(good, &len);
    cr_assert_eq(tu_write_file(fx_at(dir, "cut.safetensors"), bytes, len / 2), 0);
    free(bytes);
    expect_load_error(fx_at(dir, "cut.safetensors"), "cut.safetensors", NULL);

    cr_assert_eq(tu_write_file(fx_at(dir, "text.txt"), "hello, world\nnot a model\n", 25), 0);
    expect_load_error(fx_at(dir, "text.txt"), "not a safetensors file", NULL);

    // a frost weights file and a plain state_dict: both refused as weights, not checkpoints
    char err[512];
    cr_assert_eq(weights_save(m, fx_at(dir, "w.safetensors"), err, sizeof err), 0, "%s", err);
    expect_weights_error(fx_at(dir, "w.safetensors"), "not a checkpoint", "resnet18");
    safet_file f;
    cr_assert_eq(safet_open(&f, good, err, sizeof err), 0);
    safet_entry *e = calloc(f.n_tensors, sizeof *e);
    for (size_t i = 0; i < f.n_tensors; i++)
        e[i] = (safet_entry){f.tensors[i].name, f.tensors[i].dtype, f.tensors[i].ndim, f.tensors[i].shape};
    copy_fill cf = {&f};
    cr_assert_eq(
        safet_write(fx_at(dir, "plain.safetensors"), e, f.n_tensors, NULL, NULL, 0, fill_copy, &cf, err, sizeof err),
        0);
    free(e);
    safet_close(&f);
    expect_weights_error(fx_at(dir, "plain.safetensors"), "not a frost checkpoint", "");

    // metadata that contradicts itself or the tensors
    rewrite_meta(good, fx_at(dir, "c5.safetensors"), "frost.classes", "5");
    expect_load_error(fx_at(dir, "c5.safetensors"), "3 class names", "frost.classes says 5");
    ft_model *five = fx_model("resnet18", 5);
    char *names5[] = {"a", "b", "c", "d", "e"};
    fx_meta_for(&meta, names5, 5);
    fx_save_checkpoint(fx_at(dir, "five.safetensors"), five, NULL, &meta);
    rewrite_meta(fx_at(dir, "five.safetensors"), fx_at(dir, "h.safetensors"), "frost.classes", "3");
    rewrite_meta(fx_at(dir, "h.safetensors"), fx_at(dir, "h.safetensors"), "frost.class_names",
                 "[\"a\", \"b\", \"c\"]");
    expect_load_error(fx_at(dir, "h.safetensors"), "fc.bias", "5 outputs");
    rewrite_meta(good, fx_at(dir, "arch.safetensors"), "frost.arch", "resnet19");
    expect_load_error(fx_at(dir, "arch.safetensors"), "unknown architecture 'resnet19'", "resnet18");
    rewrite_meta(good, fx_at(dir, "new.safetensors"), "frost.checkpoint", "99");
    expect_load_error(fx_at(dir, "new.safetensors"), "newer", NULL);
    rewrite_meta(good, fx_at(dir, "tr.safetensors"), "frost.trainable", "[\"fc.weight\", \"nope.weight\"]");
    expect_load_error(fx_at(dir, "tr.safetensors"), "frost.trainable", NULL);
    ft_model_free(five);
    ft_model_free(m);
}

// ---------------------------------------------------------------------------------------------
// frost predict end to end

// ---------------------------------------------------------------------------------------------
// the pair: a checkpoint and its optimizer sidecar are replaced as one

// A model of version `seed` with Adam after one step on random data, so its state is its own.
static ft_optimizer *stepped(ft_model *m, unsigned seed) {
    ft_opt_params p;
    ft_opt_params_default(&p);
    p.lr = 1e-3;
    ft_optimizer *o = NULL;
    cr_assert_null(ft_optimizer_create(m, &p, &o));
    float x[2 * 3 * 32 * 32];
    fill_random(x, sizeof x / sizeof *x, seed);
    int64_t labels[2] = {0, 2};
    ft_step_result r;
    ft_model_set_mode(m, 1, 1);
    cr_assert_null(ft_train_step(m, o, x, labels, 2, 3, 32, 32, &r));
    ft_model_set_training(m, 0);
    return o;
}

// The optimizer state restored from path into a fresh Adam over the loaded model equals want's.
static void expect_optimizer_of(const char *path, ft_optimizer *want, const char *what) {
    ft_model *m;
    size_t restored = 0;
    ft_optimizer *o = resume(path, &m, NULL, 0, &restored);
    state_entry *a, *b;
    size_t na = optimizer_entries(want, &a), nb = optimizer_entries(o, &b);
    cr_expect_gt(restored, 0, "%s: nothing restored", what);
    cr_expect_eq(na, nb, "%s: %zu entries, want %zu", what, nb, na);
    for (size_t i = 0; i < na; i++) {
        const state_entry *e = find_entry(b, nb, a[i].name);
        cr_expect(e && e->nbytes == a[i].nbytes && memcmp(e->data, a[i].data, a[i].nbytes) == 0,
                  "%s: %s is not the saved version's", what, a[i].name);
    }
    entries_free(a, na);
    entries_free(b, nb);
    ft_optimizer_free(o);
    ft_model_free(m);
}

// Removes what an interrupted save may leave (PATH.tmp.*, PATH.optim.tmp.*, PATH.optim.prev); -1
// when something else is there (its name in odd).
static int remove_pair_leftovers(const char *keep, char *odd, size_t oddlen) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    char optim[256], prev[256];
    snprintf(optim, sizeof optim, "%s.optim", keep);
    snprintf(prev, sizeof prev, "%s.optim.prev", keep);
    while ((e = readdir(d))) {
        const char *nm = e->d_name;
        if (nm[0] == '.' || strcmp(nm, keep) == 0 || strcmp(nm, optim) == 0) continue;
        int tmp = (strncmp(nm, keep, strlen(keep)) == 0 && strncmp(nm + strlen(keep), ".tmp.", 5) == 0) ||
                  (strncmp(nm, optim, strlen(optim)) == 0 && strncmp(nm + strlen(optim), ".tmp.", 5) == 0);
        if (tmp || strcmp(nm, prev) == 0) {
            unlink(fx_at(dir, nm));
            n++;
            continue;
        }
        snprintf(odd, oddlen, "%s", nm);
        n = -1;
        break;
    }
    closedir(d);
    return n;
}

// Saves of two versions, each with its own optimizer state, killed 30 times at moments inside saves:
// after each kill the checkpoint loads, and the optimizer state it restores is its own version's
// (never the other one's, never missing).
Test(checkpoint, killed_save_leaves_a_matching_pair, .timeout = 300) {
    ft_model *ver[2] = {fx_model("resnet18", 3), fx_model("resnet18", 3)};
    ft_optimizer *opt[2] = {stepped(ver[0], 1), stepped(ver[1], 2)};
    checkpoint_meta meta[2];
    for (int v = 0; v < 2; v++) {
        fx_meta_for(&meta[v], names3, 3);
        meta[v].epoch = v + 1;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s", fx_at(dir, "p.safetensors"));
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fx_save_checkpoint(path, ver[0], opt[0], &meta[0]);
    long save_us = elapsed_us(&t0);
    if (save_us < 1000) save_us = 1000;
    long *done = mmap(NULL, sizeof(long), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(done, MAP_FAILED);
    unsigned seed = 777;
    int seen[2] = {0, 0}, leftovers = 0;
    for (int kill_no = 0; kill_no < 30; kill_no++) {
        *done = 0;
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            char err[1024];
            for (int k = 1;; k++) {
                if (checkpoint_save(path, ver[k % 2], opt[k % 2], &meta[k % 2], err, sizeof err) != 0) _exit(3);
                __atomic_add_fetch(done, 1, __ATOMIC_SEQ_CST);
            }
        }
        int waited = wait_for(done, 1);
        seed = seed * 1103515245u + 12345u;
        long wait_us = (long)((seed >> 8) % (unsigned)(2 * save_us));
        struct timespec w = {wait_us / 1000000, (wait_us % 1000000) * 1000};
        nanosleep(&w, NULL);
        kill(pid, SIGKILL);
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_assert_eq(waited, 0, "the writer made no progress in 30 s");
        cr_assert(WIFSIGNALED(st), "the writer ended by itself (status %d)", WEXITSTATUS(st));
        checkpoint_meta got;
        ft_model *m = fx_load_checkpoint(path, &got);
        int v = got.epoch - 1;
        cr_assert(v == 0 || v == 1, "epoch %d", got.epoch);
        seen[v]++;
        char what[64];
        snprintf(what, sizeof what, "kill %d (version %d)", kill_no, v + 1);
        expect_optimizer_of(path, opt[v], what);
        checkpoint_meta_free(&got);
        ft_model_free(m);
        char odd[256] = "";
        int n = remove_pair_leftovers("p.safetensors", odd, sizeof odd);
        cr_assert_geq(n, 0, "unexpected file %s", odd);
        leftovers += n;
    }
    cr_expect(seen[0] > 0 && seen[1] > 0, "both versions were seen (%d, %d)", seen[0], seen[1]);
    cr_expect_gt(leftovers, 0, "no kill landed inside a save");
    munmap(done, sizeof(long));
    for (int v = 0; v < 2; v++) {
        ft_optimizer_free(opt[v]);
        ft_model_free(ver[v]);
    }
}

// A full disk while replacing a checkpoint with optimizer state: the save fails, and the old file and
// its old sidecar are both as they were, byte for byte; nothing else is left.
Test(checkpoint, full_disk_leaves_the_old_pair, .timeout = 120) {
    ft_model *ver[2] = {fx_model("resnet18", 3), fx_model("resnet18", 3)};
    ft_optimizer *opt[2] = {stepped(ver[0], 3), stepped(ver[1], 4)};
    checkpoint_meta meta[2];
    for (int v = 0; v < 2; v++) {
        fx_meta_for(&meta[v], names3, 3);
        meta[v].epoch = v + 1;
    }
    char path[1024], spath[1100];
    snprintf(path, sizeof path, "%s", fx_at(dir, "pair.safetensors"));
    snprintf(spath, sizeof spath, "%s.optim", path);
    fx_save_checkpoint(path, ver[0], opt[0], &meta[0]);
    size_t len[2], len_after[2];
    char *before[2] = {tu_read_file(path, &len[0]), tu_read_file(spath, &len[1])};
    cr_assert(before[0] && before[1]);
    // limits from the sidecar's size (it fits) up to the checkpoint's (it does not): each fails somewhere else
    long long limits[] = {(long long)len[1] / 2, (long long)len[1] + 4096, (long long)len[0] / 2};
    for (size_t k = 0; k < sizeof limits / sizeof *limits; k++) {
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            signal(SIGXFSZ, SIG_IGN);
            struct rlimit rl = {(rlim_t)limits[k], (rlim_t)limits[k]};
            setrlimit(RLIMIT_FSIZE, &rl);
            char err[1024] = "";
            _exit(checkpoint_save(path, ver[1], opt[1], &meta[1], err, sizeof err) == 0 ? 0 : 1);
        }
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 1, "limit %lld: the save reported failure", limits[k]);
        char *after[2] = {tu_read_file(path, &len_after[0]), tu_read_file(spath, &len_after[1])};
        for (int f = 0; f < 2; f++)
            cr_expect(after[f] && len_after[f] == len[f] && memcmp(after[f], before[f], len[f]) == 0,
                      "limit %lld: %s changed", limits[k], f ? spath : path);
        free(after[0]);
        free(after[1]);
        char odd[256] = "";
        cr_expect_eq(remove_pair_leftovers("pair.safetensors", odd, sizeof odd), 0, "left behind: %s", odd);
    }
    expect_optimizer_of(path, opt[0], "after the failed saves");
    free(before[0]);
    free(before[1]);
    for (int v = 0; v < 2; v++) {
        ft_optimizer_free(opt[v]);
        ft_model_free(ver[v]);
    }
}

// Every bit flipped in the tensor data of a saved checkpoint (or weights file) is refused on load,
// by the data's digest in the metadata.
Test(checkpoint, a_flipped_bit_in_the_data_is_refused, .timeout = 120) {
    ft_model *m = fx_model("resnet18", 3);
    checkpoint_meta meta;
    fx_meta_for(&meta, names3, 3);
    char path[1024], weights[1024], err[1024];
    snprintf(path, sizeof path, "%s", fx_at(dir, "ok.safetensors"));
    snprintf(weights, sizeof weights, "%s", fx_at(dir, "w.safetensors"));
    fx_save_checkpoint(path, m, NULL, &meta);
    cr_assert_eq(weights_save(m, weights, err, sizeof err), 0, "%s", err);
    const char *files[2] = {path, weights};
    unsigned seed = 99;
    for (int f = 0; f < 2; f++) {
        size_t len;
        unsigned char *bytes = (unsigned char *)tu_read_file(files[f], &len);
        cr_assert_not_null(bytes);
        uint64_t hlen = 0;
        for (int i = 7; i >= 0; i--) hlen = hlen << 8 | bytes[i];
        size_t data = 8 + (size_t)hlen;
        cr_assert_lt(data, len);
        for (int k = 0; k < 15; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = data + (size_t)((((uint64_t)seed << 16) ^ (seed >> 5)) % (len - data));
            bytes[at] ^= (unsigned char)(1u << (seed % 8));
            const char *flipped = fx_at(dir, "flipped.safetensors");
            cr_assert_eq(tu_write_file(flipped, bytes, len), 0);
            bytes[at] ^= (unsigned char)(1u << (seed % 8));
            ft_model *x = NULL;
            checkpoint_meta got;
            int rc;
            if (f == 0) {
                rc = checkpoint_load(flipped, &x, &got, err, sizeof err);
            } else {
                x = fx_model("resnet18", 0);
                rc = weights_load(x, flipped, err, sizeof err);
            }
            cr_expect_neq(rc, 0, "%s: a flip at byte %zu loaded", f ? "weights" : "checkpoint", at);
            cr_expect(strstr(err, "damaged") != NULL, "%s", err);
            ft_model_free(x);
        }
        free(bytes);
    }
    checkpoint_meta back;
    ft_model *ok = fx_load_checkpoint(path, &back);   // the file itself is fine
    checkpoint_meta_free(&back);
    ft_model_free(ok);
    ft_model_free(m);
}
