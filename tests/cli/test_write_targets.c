// test_write_targets.c — every file a command writes, pointed at what is not a regular file: a private
// device node (mknod, /dev/null's numbers), a FIFO and a symbolic link (fixtures.h). Each command
// refuses in one line naming the path, exits non-zero, and leaves the node, the FIFO, the link and
// its target as they were, with no temporary beside them (core/base/atomic_file's rule; as root, a writer
// that replaced what it found would turn `--save /dev/null` into a new /dev/null for everyone). The
// writers: the checkpoint and its optimizer sidecar (train --save), the JSON log (train --json and the
// interface's --json), the ONNX file (export --onnx --force), the PyTorch export folder and its files,
// the Grad-CAM PNG (predict --cam), the clean journal, and bench-data's dump.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "clean.h"
#include "fixtures.h"
#include "frost_torch.h"
#include "testutil.h"

static char *root;
static void setup(void) { root = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(root);
    free(root);
}
TestSuite(write_targets, .init = setup, .fini = teardown, .timeout = 240);

static const fx_special kinds[] = {FX_DEVICE, FX_FIFO, FX_SYMLINK};

// Runs args with args[slot] set to target, with a fresh special file of each kind at target (or at
// `special` when that is somewhere else, e.g. a sidecar); each run must be refused in one line naming
// the special, what it is and `phrase`, with exit status 1, and leave it unchanged.
static void expect_refused_saying(const char **args, int slot, const char *target, const char *special,
                                  const char *phrase) {
    if (!special) special = target;
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        if (fx_make_special(special, kinds[k]) != 0) continue;
        if (slot >= 0) args[slot] = target;
        tu_run_result r;
        tu_run_frost(&r, args);
        const char *what = fx_special_name[kinds[k]];
        cr_expect_eq(r.status, 1, "%s %s at a %s: exit %d\n%s", args[0], special, what, r.status, r.err);
        cr_expect_eq(tu_count_lines(r.err), 1, "%s at a %s: one line:\n%s", args[0], what, r.err);
        cr_expect(strstr(r.err, special) && strstr(r.err, what) && strstr(r.err, phrase),
                  "%s at a %s: the line names it and what it is:\n%s", args[0], what, r.err);
        fx_expect_special(special, kinds[k], args[0]);
        fx_remove_special(special, kinds[k]);
        tu_run_free(&r);
    }
}

static void expect_refused(const char **args, int slot, const char *target, const char *special) {
    expect_refused_saying(args, slot, target, special, "not a regular file");
}

static void small_dataset(const char *dir) {
    for (int i = 0; i < 4; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s/%s/%d.jpg", dir, i < 2 ? "train" : "valid", i % 2 ? "b" : "a", i);
        unsigned char grey = (unsigned char)(30 + 50 * i);
        cr_assert_eq(tu_write_solid_jpeg(path, 24, 16, grey, grey, grey), 0);
    }
}

static const char *checkpoint(void) {
    static char *names[] = {"a", "b"};
    ft_model *m = fx_model("resnet18", 2);
    checkpoint_meta meta;
    fx_meta_for(&meta, names, 2);
    meta.tf.size = 32;
    const char *path = fx_at(root, "m.safetensors");
    fx_save_checkpoint(path, m, NULL, &meta);
    ft_model_free(m);
    return path;
}

Test(write_targets, train_save_sidecar_and_json_log) {
    char ds[1100], t[1200], ok[1200], side[1300];
    snprintf(ds, sizeof ds, "%s/ds", root);
    small_dataset(ds);
    snprintf(t, sizeof t, "%s/out/t", root);
    snprintf(ok, sizeof ok, "%s/out/ok.safetensors", root);
    snprintf(side, sizeof side, "%s.optim", ok);
    const char *save[] = {"train", ds, "--arch", "resnet18", "--epochs", "1", "--size", "32", "--save", NULL, NULL};
    expect_refused(save, 9, t, NULL);
    expect_refused(save, 9, ok, side);   // the optimizer state's file beside the checkpoint
    cr_expect(!fx_exists(ok), "no checkpoint was saved beside a refused sidecar");
    const char *json[] = {"train", ds, "--arch", "resnet18", "--epochs", "1", "--size", "32", "--json", NULL, NULL};
    expect_refused(json, 9, t, NULL);
    // the interface's log is opened before the screen takes over, so its refusal is a plain line too
    const char *ui[] = {ds, "--json", NULL, NULL};
    expect_refused(ui, 2, t, NULL);
}

Test(write_targets, export_onnx_and_pytorch_folder) {
    const char *ck = checkpoint();
    char t[1200], dir[1200], script[1300];
    snprintf(t, sizeof t, "%s/out/m.onnx", root);
    const char *onnx[] = {"export", ck, "--onnx", NULL, "--force", NULL};
    expect_refused(onnx, 3, t, NULL);
    // the folder itself, and a file of the folder
    snprintf(dir, sizeof dir, "%s/out/torch", root);
    const char *torch[] = {"export", ck, "--pytorch", NULL, "--force", NULL};
    expect_refused_saying(torch, 3, dir, NULL, "not a folder");
    snprintf(script, sizeof script, "%s/train.py", dir);
    expect_refused(torch, 3, dir, script);
}

Test(write_targets, predict_cam_clean_journal_and_dump) {
    const char *ck = checkpoint();
    char ds[1100], t[1200], image[1200], journal[1200];
    snprintf(ds, sizeof ds, "%s/ds", root);
    small_dataset(ds);
    snprintf(t, sizeof t, "%s/out/cam.png", root);
    snprintf(image, sizeof image, "%s/train/a/0.jpg", ds);
    const char *cam[] = {"predict", ck, image, "--cam", NULL, NULL};
    expect_refused(cam, 4, t, NULL);

    // the clean journal in the dataset: nothing is moved when it cannot be written
    snprintf(journal, sizeof journal, "%s/%s", ds, CLEAN_JOURNAL);
    const char *clean[] = {"clean", ds, "--relabel", image, "b", NULL};
    expect_refused(clean, -1, NULL, journal);
    cr_expect(fx_exists(image), "the image was not moved");

    snprintf(t, sizeof t, "%s/out/dump.u8", root);
    const char *dump[] = {"bench-data", ds, "--size", "32", "--dump-resized", NULL, NULL};
    expect_refused(dump, 5, t, NULL);
}
