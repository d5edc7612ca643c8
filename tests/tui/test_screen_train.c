// test_screen_train.c — the interface's Train screen (3), end to end in tmux: a short run on
// sample_data/ to the end, then every number the screen shows read back and compared with the run's
// own --json log (the oracle for the screen): the accuracy and loss bars, the tutorial's lines in the
// log pane, images/s, the time, the progress bars' counts; the log itself holds each phase's order.
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "fixtures.h"
#include "testutil.h"
#include "tmux_util.h"

static char *dir;
static char log_path[1024];

static void setup(void) {
    dir = tu_tmpdir();
    snprintf(log_path, sizeof log_path, "%s/run.jsonl", dir);
}

static void teardown(void) {
    tmux_stop();
    tu_rmtree(dir);
    free(dir);
}

TestSuite(tui_train, .init = setup, .fini = teardown, .timeout = 240);

// The run's log: its events in order.
static json_t *read_log(const char *path) {
    size_t len;
    char *text = tu_read_file(path, &len);
    cr_assert_not_null(text, "no log at %s", path);
    json_t *all = json_array();
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t jerr;
        json_t *e = json_loads(line, 0, &jerr);
        cr_assert_not_null(e, "not a JSON line (%s): %.200s", jerr.text, line);
        json_array_append_new(all, e);
    }
    free(text);
    return all;
}

static const char *kind(json_t *e) { return json_string_value(json_object_get(e, "event")); }
static double num(json_t *e, const char *key) { return json_real_value(json_object_get(e, key)); }

// The last event of this kind (and phase, when not NULL).
static json_t *last_event(json_t *log, const char *k, const char *phase) {
    json_t *found = NULL;
    for (size_t i = 0; i < json_array_size(log); i++) {
        json_t *e = json_array_get(log, i);
        if (strcmp(kind(e), k) == 0 && (!phase || strcmp(json_string_value(json_object_get(e, "phase")), phase) == 0))
            found = e;
    }
    cr_assert_not_null(found, "the log has no %s event%s%s", k, phase ? " of " : "", phase ? phase : "");
    return found;
}

// The screen's line that starts with label, or NULL (a static copy, without the trailing blanks).
static const char *line_starting(const char *screen, const char *label) {
    static char line[512];
    for (const char *p = screen; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        if (strncmp(p, label, strlen(label)) == 0) {
            snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
            for (size_t k = strlen(line); k > 0 && line[k - 1] == ' '; k--) line[k - 1] = '\0';
            return line;
        }
        p = eol ? eol + 1 : NULL;
    }
    return NULL;
}

// The line's last word (what a bar's value is printed as).
static const char *last_word(const char *line) {
    const char *sp = strrchr(line, ' ');
    return sp ? sp + 1 : line;
}

// (in German, a language that writes numbers with a decimal comma: frost writes them with a '.', in
// the JSON log and on the screen, whatever the language; the locale is the tests' own, FROST_LOCALES)
Test(tui_train, screen_values_equal_the_json_log) {
    char args[1200], env[4200], locales[4096];
    snprintf(args, sizeof args, "sample_data --json %s", log_path);
    const char *made = getenv("FROST_LOCALES") ? getenv("FROST_LOCALES") : "build/locales";
    cr_assert_not_null(realpath(made, locales), "the tests' locales (%s): make test makes them", made);
    snprintf(env, sizeof env, "LANG=de_DE.UTF-8 LOCPATH=%s", locales);
    tmux_start(args, 140, 50, env);
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    tmux_keys("3");
    cr_assert(tmux_wait_for("learning rate  1e-05", 60), "the tutorial's values prefilled:\n%s", tmux_screen(0));
    // 3 epochs, 64x64 input, learning rate 1e-3 (so the numbers move): a short run
    tmux_keys("Down Left Down Down Right Right Down Down Left Left Left");
    cr_assert(tmux_wait_for("input size     64x64", 60), "%s", tmux_screen(0));
    cr_assert(strstr(tmux_screen(0), "learning rate  0.001") != NULL, "%s", tmux_screen(0));
    // the last field, precision: fast (the backbone the feature cache runs, BatchNorm folded)
    tmux_keys("Down Down Down Down Down Down Down Down Down Down Right");
    cr_assert(tmux_wait_for("precision      fast   (BatchNorm folded", 60), "%s", tmux_screen(0));
    tmux_keys("Enter");
    cr_assert(tmux_wait_for("Training complete in", 180), "the run finishes:\n%s", tmux_screen(0));
    char screen[16384];
    snprintf(screen, sizeof screen, "%s", tmux_screen(0));

    json_t *log = read_log(log_path);
    json_t *fin = last_event(log, "finished", NULL);
    cr_expect_str_eq(json_string_value(json_object_get(fin, "status")), "done");
    // the form's precision reached the trainer: it says what the backbone runs in
    int said_precision = 0;
    for (size_t i = 0; i < json_array_size(log); i++) {
        const char *text = json_string_value(json_object_get(json_array_get(log, i), "text"));
        said_precision |= text && strstr(text, "precision: the frozen backbone runs with BatchNorm folded") == text;
    }
    cr_expect(said_precision, "no 'precision: the frozen backbone runs with BatchNorm folded' in the JSON log");
    cr_expect_eq(json_integer_value(json_object_get(fin, "epochs")), 3);

    // the four bars: accuracy "%6.2f%%" and loss "%.4f" of each phase's last epoch
    const char *phases[2] = {"train", "valid"};
    for (int p = 0; p < 2; p++) {
        json_t *end = last_event(log, "phase_end", phases[p]);
        char label[32], want[32];
        snprintf(label, sizeof label, "%s acc", phases[p]);
        const char *line = line_starting(screen, label);
        cr_assert_not_null(line, "no %s bar:\n%s", label, screen);
        snprintf(want, sizeof want, "%.2f%%", num(end, "running_acc"));
        cr_expect_str_eq(last_word(line), want, "%s: the screen says %s, the log %s", label, last_word(line), want);
        snprintf(label, sizeof label, "%s loss", phases[p]);
        line = line_starting(screen, label);
        cr_assert_not_null(line, "no %s bar:\n%s", label, screen);
        snprintf(want, sizeof want, "%.4f", num(end, "running_loss"));
        cr_expect_str_eq(last_word(line), want, "%s: the screen says %s, the log %s", label, last_word(line), want);
    }

    // the progress bars: the last epoch, the valid phase's batches
    json_t *vend = last_event(log, "phase_end", "valid");
    char want[160];
    snprintf(want, sizeof want, "valid %lld/%lld", json_integer_value(json_object_get(vend, "batches")),
             json_integer_value(json_object_get(vend, "batches")));
    cr_expect(line_starting(screen, want) != NULL, "no '%s' bar:\n%s", want, screen);
    cr_expect(line_starting(screen, "epoch 3/3") != NULL, "%s", screen);

    // images/s: the figure is the rate with the backbone over the run, which the log gives apart: the
    // images of the phases that ran the backbone (their sample orders) over those phases' seconds.
    // Later epochs run the head alone on cached features; their own rate is said as this phase's.
    json_t *lastb = last_event(log, "batch", NULL);
    cr_expect(json_is_true(json_object_get(lastb, "from_cache")), "3 epochs of a frozen backbone: cached");
    double images = 0, seconds = 0;
    size_t order_items = 0;
    int cached = 0;   // the phase after the order line ran from the cache
    for (size_t i = 0; i < json_array_size(log); i++) {
        json_t *e = json_array_get(log, i);
        if (strcmp(kind(e), "order") == 0) order_items = json_array_size(json_object_get(e, "items"));
        if (strcmp(kind(e), "batch") == 0) cached = json_is_true(json_object_get(e, "from_cache"));
        if (strcmp(kind(e), "phase_end") == 0 && !cached) images += (double)order_items, seconds += num(e, "seconds");
    }
    cr_assert_gt(seconds, 0, "epoch 1 ran the backbone");
    const char *rate = strstr(screen, " images/s   ETA ");
    while (rate && rate > screen && rate[-1] != '\n') rate--;   // its line's start
    double shown_rate = -1;
    cr_assert(rate && sscanf(rate, "%lf images/s", &shown_rate) == 1, "no rate line:\n%s", screen);
    cr_expect(fabs(shown_rate - images / seconds) <= 0.051 + 1e-6 * shown_rate,
              "the screen's %.1f images/s is not the backbone's over the run, %.2f (%g images in %g s)", shown_rate,
              images / seconds, images, seconds);
    cr_expect(fabs(shown_rate - num(lastb, "backbone_images_per_s")) <= 0.051, "the log's figure too");
    snprintf(want, sizeof want, "this phase runs the head alone on cached features, %.0f images/s",
             num(lastb, "images_per_s"));
    cr_expect(strstr(tmux_screen_flat(), want), "'%s' in:\n%s", want, screen);

    // the log pane: the tutorial's phase lines of the run, the newest last, each one the log's
    int shown = 0;
    size_t n = json_array_size(log);
    const char *from = strstr(screen, "Training complete in");
    for (size_t i = n; i-- > 0;) {
        json_t *e = json_array_get(log, i);
        if (strcmp(kind(e), "phase_end") != 0) continue;
        char line[160];
        snprintf(line, sizeof line, "%s Loss:%.6f ACC:%.4f", json_string_value(json_object_get(e, "phase")),
                 num(e, "running_loss"), num(e, "running_acc"));
        // walk the screen backwards from the end line: each phase line above the previous one
        const char *at = NULL;
        for (const char *p = strstr(screen, line); p && p < from; p = strstr(p + 1, line)) at = p;
        if (!at) break;   // scrolled off the pane
        from = at;
        shown++;
    }
    cr_expect_geq(shown, 2, "the last epoch's train and valid lines are the log's:\n%s", screen);
    snprintf(want, sizeof want, "Training complete in %.1f s", num(fin, "seconds"));
    cr_expect(strstr(screen, want) != NULL, "'%s':\n%s", want, screen);

    // and the log is one a replay can use: each phase's sample order, train with its torch seed
    int orders = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(log, i);
        if (strcmp(kind(e), "order") != 0) continue;
        orders++;
        int train = strcmp(json_string_value(json_object_get(e, "phase")), "train") == 0;
        cr_expect_eq(json_array_size(json_object_get(e, "items")), train ? 120 : 36);
        cr_expect_eq(json_object_get(e, "torch_seed") != NULL, train);
    }
    cr_expect_eq(orders, 6, "an order per phase of 3 epochs");
    json_decref(log);

    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}

// A --json path that cannot be made: one line before the screen takes over, exit 1, no screen left.
Test(tui_train, json_log_that_cannot_be_made) {
    char path[1200];
    snprintf(path, sizeof path, "%s/no/such/folder/run.jsonl", dir);
    tu_expect_one_line_error((const char *[]){"sample_data", "--json", path, NULL}, 1, "cannot create it");
    tu_expect_one_line_error((const char *[]){"sample_data", "--json", "", NULL}, 2, "--json needs a file");
}

// The log's disk fills during the run: the run goes on, the screen says the log stopped, nothing else
// breaks, and frost exits cleanly. The full disk is a file-size limit (ulimit -f, SIGXFSZ ignored, in
// a wrapper script): the log may not grow past 1 KB. (/dev/full itself is refused as a log before the
// screen: frost writes only regular files.)
Test(tui_train, json_log_on_a_full_disk) {
    char wrapper[1200], args[1300], log[1200], cwd[1024];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    snprintf(wrapper, sizeof wrapper, "%s/frost-small-files", dir);
    const char *bin = getenv("FROST_BIN");
    char script[4096];
    snprintf(script, sizeof script, "#!/bin/sh\ntrap '' XFSZ\nulimit -f 2\nexec '%s%s%s' \"$@\"\n",
             bin && bin[0] == '/' ? "" : cwd, bin && bin[0] == '/' ? "" : "/", bin ? bin : "build/frost");
    cr_assert_eq(tu_write_file(wrapper, script, strlen(script)), 0);
    cr_assert_eq(chmod(wrapper, 0755), 0);
    snprintf(log, sizeof log, "%s/run.jsonl", dir);
    snprintf(args, sizeof args, "sample_data --json %s", log);
    char *saved = bin ? strdup(bin) : NULL;
    setenv("FROST_BIN", wrapper, 1);
    tmux_start(args, 140, 50, NULL);
    if (saved)
        setenv("FROST_BIN", saved, 1);
    else
        unsetenv("FROST_BIN");
    free(saved);
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    tmux_keys("3");
    cr_assert(tmux_wait_for("learning rate  1e-05", 60), "%s", tmux_screen(0));
    tmux_keys("Down Left Left Down Down Down Down Left Left Left");   // 2 epochs, 64x64
    cr_assert(tmux_wait_for("input size     64x64", 60), "%s", tmux_screen(0));
    tmux_keys("Enter");
    cr_assert(tmux_wait_for("run.jsonl: cannot write the JSON log: File too large; training goes on", 60),
              "the status line says so:\n%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "the JSON log stopped: ") && strstr(tmux_screen(0), "run.jsonl: File too large"),
              "and the log pane:\n%s", tmux_screen(0));
    cr_assert(tmux_wait_for("Training complete in", 180), "the run goes on:\n%s", tmux_screen(0));
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}

// The number after `label` on the screen (e.g. "trainable 8,394,754": commas left out), or -1.
static long long number_after(const char *screen, const char *label) {
    const char *p = strstr(screen, label);
    if (!p) return -1;
    p += strlen(label);
    while (*p == ' ') p++;
    long long v = 0;
    int digits = 0;
    for (; (*p >= '0' && *p <= '9') || *p == ','; p++)
        if (*p != ',') v = v * 10 + (*p - '0'), digits++;
    return digits ? v : -1;
}

// Staged unfreezing from the form: the plan's timeline, the stage changes in the run's log at the
// planned epoch, and the Model screen's marks following the stage (its trainable count is what the
// run's last layer measurement counted as trainable).
Test(tui_train, a_plan_runs_its_stages_and_the_model_screen_follows) {
    char args[1200];
    snprintf(args, sizeof args, "sample_data --json %s", log_path);
    tmux_start(args, 120, 50, NULL);
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    tmux_keys("3");
    cr_assert(tmux_wait_for("unfreezing     none", 60), "%s", tmux_screen(0));
    // 2 epochs, lr 1e-3, 64x64, then the plan: the head alone for 1 epoch, then layer4 with it
    tmux_keys("Down Left Left Down Down Right Right Down Down Left Left Left Down Down Down Down Down Down Right");
    cr_assert(tmux_wait_for("the head for half the epochs, then the last block too", 30), "%s", tmux_screen(0));
    cr_assert(tmux_wait_for("head only: epoch 1", 30), "the timeline before the run:\n%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "head + last 1 block: epoch 2"), "%s", tmux_screen(0));
    tmux_keys("Enter");
    cr_assert(tmux_wait_for("Training complete in", 180), "the run finishes:\n%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "trainable      layer4,fc"), "the stage the run ended in:\n%s", tmux_screen(0));

    json_t *log = read_log(log_path);
    int stages = 0;
    long long trainable = -1;
    for (size_t i = 0; i < json_array_size(log); i++) {
        json_t *e = json_array_get(log, i);
        if (strcmp(kind(e), "stage") == 0) {
            stages++;
            cr_expect_eq(json_integer_value(json_object_get(e, "epoch")), stages == 1 ? 1 : 2);
            cr_expect_str_eq(json_string_value(json_object_get(e, "trainable")), stages == 1 ? "fc" : "layer4,fc");
        }
        if (strcmp(kind(e), "layers") == 0) {   // the root module's row: the whole model
            json_t *root = json_array_get(json_object_get(e, "modules"), 0);
            if (strcmp(json_string_value(json_object_get(root, "path")), "") == 0)
                trainable = json_integer_value(json_object_get(root, "trainable"));
        }
    }
    json_decref(log);
    cr_expect_eq(stages, 2);
    cr_assert_gt(trainable, 0, "the log measured the model");
    tmux_keys("2");
    cr_assert(tmux_wait_for("stage 2/2 of the plan: layer4,fc trains now", 60), "%s", tmux_screen(0));
    long long shown = number_after(tmux_screen(0), "trainable");
    cr_expect_eq(shown, trainable, "the Model screen says %lld trainable, the run's log %lld", shown, trainable);
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}

// The lr finder from the form (key l): it runs in the background, its curve is drawn, and its
// suggestion (the --json log's) becomes the learning rate field.
Test(tui_train, the_lr_finder_offers_its_suggestion) {
    // two classes a head on random features can tell apart (sample_data's shapes it cannot: no suggestion)
    char ds[1100], args[2400];
    snprintf(ds, sizeof ds, "%s/ds", dir);
    fx_two_class_dataset(ds, 12, 4, 40);
    snprintf(args, sizeof args, "'%s' --json %s", ds, log_path);
    tmux_start(args, 120, 50, NULL);
    cr_assert(tmux_wait_for("2 classes", 60), "%s", tmux_screen(0));
    tmux_keys("3");
    cr_assert(tmux_wait_for("learning rate  1e-05", 60), "%s", tmux_screen(0));
    // 64x64 input, then the finder
    tmux_keys("Down Down Down Down Down Left Left Left");
    cr_assert(tmux_wait_for("input size     64x64", 30), "%s", tmux_screen(0));
    tmux_keys("l");
    cr_assert(tmux_wait_for("lr finder: smoothed loss against the learning rate", 60), "%s", tmux_screen(0));
    cr_assert(tmux_wait_for("lr finder: suggested lr", 180), "the finder ends with a suggestion:\n%s", tmux_screen(0));
    char screen[16384];
    snprintf(screen, sizeof screen, "%s", tmux_screen(0));
    json_t *log = read_log(log_path);
    json_t *sug = last_event(log, "lr_suggestion", NULL);
    int points = 0;
    for (size_t i = 0; i < json_array_size(log); i++) points += strcmp(kind(json_array_get(log, i)), "lr_point") == 0;
    cr_expect_gt(points, 10, "the sweep's points are in the log");
    json_t *lr = json_object_get(sug, "lr");
    cr_assert(json_is_number(lr), "the log's suggestion has its lr");
    char want[64];
    snprintf(want, sizeof want, "learning rate  %.2g   (the lr finder's suggestion", json_number_value(lr));
    cr_expect(strstr(screen, want), "'%s' on the form:\n%s", want, screen);
    snprintf(want, sizeof want, "lr finder: suggested lr %.3g", json_number_value(lr));
    cr_expect(strstr(screen, want), "'%s' on the status line:\n%s", want, screen);
    json_decref(log);
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}

// frost on a two-class dataset made in ds (env: tmux_start's), the Train screen in front with the
// input size at 64x64.
static void train_form_at_64(const char *ds, const char *env) {
    char args[1200];
    fx_two_class_dataset(ds, 4, 2, 40);
    snprintf(args, sizeof args, "'%s'", ds);
    tmux_start(args, 120, 50, env);
    cr_assert(tmux_wait_for("2 classes", 60), "%s", tmux_screen(0));
    tmux_keys("3");
    cr_assert(tmux_wait_for("learning rate  1e-05", 60), "%s", tmux_screen(0));
    tmux_keys("Down Down Down Down Down Left Left Left");
    cr_assert(tmux_wait_for("input size     64x64", 30), "%s", tmux_screen(0));
}

// The export's weights: a checkpoint frost reads, for the dataset's classes at the form's size.
static void expect_export_weights(const char *out) {
    char path[1200];
    snprintf(path, sizeof path, "%s/weights.safetensors", out);
    checkpoint_meta meta;
    ft_model *m = fx_load_checkpoint(path, &meta);
    cr_expect_eq(meta.tf.size, 64);
    cr_expect_eq(meta.num_classes, 2);
    cr_expect_str_eq(meta.class_names[1], "warm");
    ft_model_free(m);
    checkpoint_meta_free(&meta);
}

// x again with the folder the prompt offers (the last one), and answer to "replace it?".
static void export_again_answering(const char *answer) {
    tmux_keys("x");
    cr_assert(tmux_wait_for("export the run as a PyTorch folder: ", 30), "%s", tmux_screen(0));
    tmux_keys("Enter");
    cr_assert(tmux_wait_for("holds an export: replace it? (y/n)", 60), "%s", tmux_screen(0));
    tmux_keys(answer);
    tmux_keys("Enter");
}

// x writes the form's run as a PyTorch folder before any training: the script's settings are the
// form's (read back from the screen), and its weights are a checkpoint frost reads, for the dataset's
// classes at the form's input size.
Test(tui_train, x_exports_the_forms_run_as_a_pytorch_folder) {
    char ds[1100], out[1100];
    snprintf(ds, sizeof ds, "%s/ds", dir);
    snprintf(out, sizeof out, "%s/exported", dir);
    train_form_at_64(ds, NULL);
    for (int attempt = 0; attempt < 2; attempt++) {   // a first x may try to fetch ImageNet weights and fail
        tmux_keys("x");
        cr_assert(tmux_wait_for("export the run as a PyTorch folder: frost-export", 30), "%s", tmux_screen(0));
        tmux_keys("C-u");
        tmux_text(out);
        tmux_keys("Enter");
        if (tmux_wait_for("exported ", 60)) break;
        cr_assert(strstr(tmux_screen(0), "x exports a run from random ones"), "%s", tmux_screen(0));
    }
    cr_assert(strstr(tmux_screen(0), "/train.py, the weights and a README"), "%s", tmux_screen(0));
    char screen[16384];
    snprintf(screen, sizeof screen, "%s", tmux_screen(0));
    const char *batch_line = line_starting(screen, "batch ");
    cr_assert_not_null(batch_line, "%s", screen);
    char path[1200], want[64];
    snprintf(path, sizeof path, "%s/train.py", out);
    char *script = tu_read_file(path, NULL);
    cr_assert_not_null(script, "no %s", path);
    snprintf(want, sizeof want, "BATCH = %s\n", last_word(batch_line));
    cr_expect(strstr(script, want), "'%s' not in the script", want);
    cr_expect(strstr(script, "INPUT_SIZE = 64\n") && strstr(script, "LR = 1e-05\n") &&
                  strstr(script, "CLASSES = [\"cold\", \"warm\"]") && strstr(script, "START_EPOCH = 0"),
              "the form's settings in the script");
    free(script);
    expect_export_weights(out);
    // x again into the same folder: asked first (the writer's code for an existing export, not its
    // text); n keeps the files as they are, y replaces them
    snprintf(path, sizeof path, "%s/train.py", out);
    struct stat before, after;
    cr_assert_eq(stat(path, &before), 0);
    export_again_answering("n");
    cr_assert(tmux_wait_for("kept as it was", 30), "%s", tmux_screen(0));
    cr_assert_eq(stat(path, &after), 0);
    cr_expect(after.st_ino == before.st_ino && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec &&
                  after.st_mtim.tv_sec == before.st_mtim.tv_sec,
              "n replaced %s", path);
    export_again_answering("y");
    int replaced = 0;   // (renamed into place: a new file; the log already says "exported")
    for (int k = 0; k < 600 && !replaced; k++, usleep(100000))
        replaced = stat(path, &after) == 0 && after.st_ino != before.st_ino;
    cr_expect(replaced, "y did not replace %s\n%s", path, tmux_screen(0));
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}

// The export is written on a thread. Held at the gate (tests/preload: its folder's staging cannot be
// made while the gate file exists), it cannot have ended whatever the machine's speed: meanwhile the
// keys work (another screen comes and goes), and s stops it: nothing is written, not even the folder.
// Then x writes it whole, a checkpoint for the dataset's classes at the form's size.
Test(tui_train, the_screen_answers_while_an_export_is_written) {
    char ds[1100], out[1100], gate[1100], env[8192];
    snprintf(ds, sizeof ds, "%s/ds", dir);
    snprintf(out, sizeof out, "%s/frost-gate-export", dir);
    snprintf(gate, sizeof gate, "%s/gate", dir);
    cr_assert_eq(tu_write_file(gate, "", 0), 0);
    tmux_gate_env(env, sizeof env, gate);
    train_form_at_64(ds, env);
    tmux_keys("x");
    cr_assert(tmux_wait_for("export the run as a PyTorch folder: frost-export", 30), "%s", tmux_screen(0));
    tmux_keys("C-u");
    tmux_text(out);
    tmux_keys("Enter");
    cr_assert(tmux_wait_for("(s stops)", 30), "%s", tmux_screen(0));
    // the export waits at the gate: the UI thread must not
    cr_assert(tmux_answers_at_gate("1", "[1 Data]", gate), "the Data screen meanwhile:\n%s", tmux_screen(0));
    cr_assert(tmux_answers_at_gate("3", "[3 Train]", gate), "%s", tmux_screen(0));
    tmux_keys("s");
    cr_assert(tmux_wait_for("stopping the export", 30), "%s", tmux_screen(0));
    cr_assert_eq(unlink(gate), 0);
    cr_assert(tmux_wait_for("export stopped: nothing written", 120), "%s", tmux_screen(0));
    struct stat st;
    cr_expect_neq(stat(out, &st), 0, "a stopped export left %s", out);
    tmux_keys("x");
    cr_assert(tmux_wait_for("export the run as a PyTorch folder: ", 30), "%s", tmux_screen(0));
    tmux_keys("Enter");   // the folder the prompt offers: the last one
    cr_assert(tmux_wait_for("/train.py, the weights and a README", 120), "%s", tmux_screen(0));
    expect_export_weights(out);
    char path[1200];
    snprintf(path, sizeof path, "%s/train.py", out);
    cr_expect_eq(stat(path, &st), 0, "no %s", path);
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}

// --precision auto's suggestion beside the precision field, measured in the background once the field
// is selected; what it says is what `frost train --precision auto` decides on the same images, size
// and calibration (its --json log is the oracle).
Test(tui_train, the_precision_field_shows_autos_suggestion) {
    char env[1200], cache[1100];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    snprintf(env, sizeof env, "XDG_CACHE_HOME=%s", cache);
    tmux_start("sample_data --arch resnet18", 200, 50, env);
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    tmux_keys("3");
    cr_assert(tmux_wait_for("learning rate  1e-05", 60), "%s", tmux_screen(0));
    tmux_keys("Down Down Down Down Down Left Left Left");   // input size 64x64
    cr_assert(tmux_wait_for("input size     64x64", 60), "%s", tmux_screen(0));
    cr_expect(!strstr(tmux_screen(0), "auto here:"), "nothing measured before the field is visited");
    tmux_keys("Down Down Down Down Down Down Down Down Down Down");   // the precision field
    cr_assert(tmux_wait_for("auto here: ", 60), "the suggestion's place:\n%s", tmux_screen(0));
    cr_assert(tmux_wait_gone("auto here: measuring...", 180), "measured:\n%s", tmux_screen(0));
    const char *line = line_starting(tmux_screen(0), "precision");
    cr_assert_not_null(line, "%s", tmux_screen(0));
    char shown[512];
    snprintf(shown, sizeof shown, "%s", strstr(line, "auto here: ") + strlen("auto here: "));
    tmux_stop();

    // the command line's decision on the same images and calibration
    setenv("XDG_CACHE_HOME", cache, 1);
    char json[1200];
    snprintf(json, sizeof json, "%s/auto.jsonl", dir);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"train", "sample_data", "--arch", "resnet18", "--size", "64", "--epochs", "1",
                                      "--precision", "auto", "--json", json, NULL});
    unsetenv("XDG_CACHE_HOME");
    cr_assert_eq(r.status, 0, "%s", r.err);
    tu_run_free(&r);
    json_t *log = read_log(json);
    json_t *p = last_event(log, "precision", NULL);
    const char *pick = json_string_value(json_object_get(p, "pick"));
    json_t *figs = json_object_get(p, "precisions");
    char want[512] = "";
    for (size_t i = 0; i < json_array_size(figs); i++) {
        json_t *f = json_array_get(figs, i);
        if (strcmp(json_string_value(json_object_get(f, "precision")), pick) != 0) continue;
        double top1 = (double)json_integer_value(json_object_get(f, "top1_agree")) /
                      (double)json_integer_value(json_object_get(f, "images"));
        snprintf(want, sizeof want, "%s: %.1fx faster here, top-1 unchanged on %.1f%%", pick, num(f, "speedup"),
                 100.0 * top1);
    }
    if (strcmp(pick, "fp32") == 0)   // the line then says why nothing faster was taken
        cr_expect(strncmp(shown, "fp32: ", 6) == 0, "the screen says '%s', the run picked fp32", shown);
    else
        cr_expect_str_eq(shown, want, "the screen says '%s', the run '%s'", shown, want);
    json_decref(log);
}
