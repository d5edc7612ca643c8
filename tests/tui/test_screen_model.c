// test_screen_model.c — the Model screen's numbers, end to end in tmux on sample_data/: the cost
// line equals `frost summary --cost` for the same freeze choice and settings (the command's numbers
// are checked against PyTorch in tests/core/test_cost.c), and follows a thaw; after a run with
// frozen BatchNorm in train mode, the alarms are on the screen and each module's meter equals the
// run's own --json log (its last `layers` event).
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "tmux_util.h"

static char *dir;
static char log_path[1024], env[1200];

static void setup(void) {
    dir = tu_tmpdir();
    snprintf(log_path, sizeof log_path, "%s/run.jsonl", dir);
    // a calibration cache of the test's own: the cost line measures this device afresh
    snprintf(env, sizeof env, "XDG_CACHE_HOME=%s/cache", dir);
}

static void teardown(void) {
    tmux_stop();
    tu_rmtree(dir);
    free(dir);
}

TestSuite(tui_model, .init = setup, .fini = teardown, .timeout = 240);

// The screen's line holding text, or NULL (a static copy, without the trailing blanks).
static const char *line_with(const char *screen, const char *text) {
    static char line[1024];
    const char *hit = strstr(screen, text);
    if (!hit) return NULL;
    const char *bol = hit;
    while (bol > screen && bol[-1] != '\n') bol--;
    const char *eol = strchr(hit, '\n');
    size_t n = eol ? (size_t)(eol - bol) : strlen(bol);
    snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), bol);
    for (size_t k = strlen(line); k > 0 && line[k - 1] == ' '; k--) line[k - 1] = '\0';
    return line;
}

// `frost summary resnet18 --classes 3 --cost ...` at the Train screen's defaults (224, batch 16, Adam).
static char *summary_cost(const char *trainable) {
    tu_run_result r;
    const char *args[] = {"summary", "resnet18", "--classes", "3", "--cost", "--trainable", trainable, NULL};
    tu_run_frost(&r, args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char *out = strdup(r.out);
    tu_run_free(&r);
    return out;
}

// The cost line's numbers, each found in the summary's lines for the same choice.
static void expect_cost_line_is_the_summarys(const char *screen, const char *trainable) {
    const char *line = line_with(screen, "cost (224x224, batch 16, Adam): ");
    cr_assert_not_null(line, "no cost line:\n%s", screen);
    double fwd = 0, bwd = 0;
    char mem[32] = "", kept[32] = "", state[32] = "", cache[8] = "";
    cr_assert_eq(sscanf(strstr(line, "): ") + 3,
                        "%lf+%lf GMAC/image | memory %31[^(](kept %31[^,], state %31[^)]) | "
                        "cache %7[a-z]",
                        &fwd, &bwd, mem, kept, state, cache),
                 6, "%s", line);
    mem[strlen(mem) - 1] = '\0';   // the blank before "("
    char *sum = summary_cost(trainable);
    char want[160];
    snprintf(want, sizeof want, "forward                %.2f GMAC per image", fwd);
    cr_expect(strstr(sum, want), "screen %s, summary:\n%s", line, sum);
    snprintf(want, sizeof want, "backward               %.2f GMAC per image", bwd);
    cr_expect(strstr(sum, want), "screen %s, summary:\n%s", line, sum);
    snprintf(want, sizeof want, "training memory        %s beyond", mem);
    cr_expect(strstr(sum, want), "'%s': screen %s, summary:\n%s", want, line, sum);
    snprintf(want, sizeof want, "kept for backward      %s at batch 16", kept);
    cr_expect(strstr(sum, want), "'%s': screen %s, summary:\n%s", want, line, sum);
    snprintf(want, sizeof want, "optimizer state        %s (Adam", state);
    cr_expect(strstr(sum, want), "'%s': screen %s, summary:\n%s", want, line, sum);
    cr_expect_eq(strcmp(cache, "yes") == 0, strstr(sum, "feature cache          applies") != NULL, "%s\n%s", line, sum);
    free(sum);
}

Test(tui_model, cost_line_follows_the_freeze_choice) {
    tmux_start("sample_data", 200, 45, env);
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    tmux_keys("2");
    cr_assert(tmux_wait_for("cost: replace the head (h)", 60), "%s", tmux_screen(0));
    tmux_keys("h");
    cr_assert(tmux_wait_for("cost (224x224", 60), "%s", tmux_screen(0));
    cr_assert(tmux_wait_for("| cache yes |", 30), "only the head trains:\n%s", tmux_screen(0));
    expect_cost_line_is_the_summarys(tmux_screen(0), "fc");
    // the calibration ends with the time of an epoch
    cr_expect(tmux_wait_for("epoch ~", 120), "%s", tmux_screen(0));
    tmux_keys("]");   // thaw layer4
    cr_assert(tmux_wait_for("| cache no |", 30), "%s", tmux_screen(0));
    cr_assert(tmux_wait_for("trainable 8,395,267", 30), "%s", tmux_screen(0));
    expect_cost_line_is_the_summarys(tmux_screen(0), "layer4,fc");
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}

// No row of the screen reaches its last column but the rule under the title and the key bar: a text
// that does was cut at the right edge (wrapped text stops a column short). On the Model screen only the
// rows above the tree (its lines of modules are cut on purpose, beside the meters).
static void expect_no_row_cut(int cols, int whole_screen) {
    const char *screen = tmux_screen(0);
    int row = 0;
    for (const char *p = screen; *p; row++) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        while (n > 0 && p[n - 1] == ' ') n--;
        int width = 0;   // columns: UTF-8 characters (the box and bar glyphs are one column each)
        for (size_t i = 0; i < n; i++) width += ((unsigned char)p[i] & 0xc0) != 0x80;
        int last = !eol || !eol[1];
        if (!whole_screen && strstr(p, "ResNet(") && strstr(p, "ResNet(") < p + n) break;   // the tree
        if (row != 1 && !last) cr_expect_lt(width, cols - 1, "row %d is cut at the right edge: '%.*s'", row, (int)n, p);
        if (!eol) break;
        p = eol + 1;
    }
}

static json_t *last_layers_event(const char *path) {
    char *text = tu_read_file(path, NULL);
    cr_assert_not_null(text, "no log at %s", path);
    json_t *found = NULL;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *e = json_loads(line, 0, NULL);
        cr_assert_not_null(e, "not a JSON line: %.200s", line);
        if (strcmp(json_string_value(json_object_get(e, "event")), "layers") == 0) {
            json_decref(found);
            found = e;
        } else {
            json_decref(e);
        }
    }
    free(text);
    cr_assert_not_null(found, "the log has no layers event");
    return found;
}

static json_t *module(json_t *layers, const char *path) {
    json_t *mods = json_object_get(layers, "modules");
    for (size_t i = 0; i < json_array_size(mods); i++) {
        json_t *m = json_array_get(mods, i);
        if (strcmp(json_string_value(json_object_get(m, "path")), path) == 0) return m;
    }
    cr_assert_fail("no module %s in the layers event", path);
    return NULL;
}

Test(tui_model, meters_and_alarms_after_a_run) {
    char args[1200];
    snprintf(args, sizeof args, "sample_data --json %s", log_path);
    tmux_start(args, 200, 50, env);
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    tmux_keys("3");
    cr_assert(tmux_wait_for("learning rate  1e-05", 60), "%s", tmux_screen(0));
    // 3 epochs, 64x64, BatchNorm train (the tutorial's): frozen BatchNorm drifts; lr 1e-5: the head
    // hardly moves
    tmux_keys("Down Left Down Down Down Down Left Left Left Down Right");
    cr_assert(tmux_wait_for("input size     64x64", 30), "%s", tmux_screen(0));
    cr_assert(tmux_wait_for("BatchNorm      train", 30), "%s", tmux_screen(0));
    tmux_keys("Enter");
    // each alarm is said as the first epoch's train phase ends (log pane and status line: a short run
    // scrolls them away within a second, so they are checked on the Model screen below), and the
    // status line still counts them when the run is over
    cr_assert(tmux_wait_for("Training complete in", 180), "%s", tmux_screen(0));
    cr_expect(tmux_wait_for("training complete with 2 warnings (2 Model shows them", 30), "%s", tmux_screen(0));

    tmux_keys("2");
    cr_assert(tmux_wait_for("meters: what the last run did", 60), "%s", tmux_screen(0));
    char screen[32768];
    snprintf(screen, sizeof screen, "%s", tmux_screen(0));
    cr_expect(strstr(screen, "warning: frozen but changing: 20 BatchNorm layers (bn1, layer1.0.bn1"),
              "resnet18 has 20 BatchNorm layers, all frozen:\n%s", screen);
    cr_expect(strstr(screen, "warning: trainable but not learning: fc moved"), "%s", screen);

    json_t *layers = last_layers_event(log_path);
    char want[160];
    snprintf(want, sizeof want, "meters: what the last run did (epoch %lld, %lld steps)",
             json_integer_value(json_object_get(layers, "epoch")), json_integer_value(json_object_get(layers, "step")));
    cr_expect(strstr(screen, want), "'%s':\n%s", want, screen);
    // the first BatchNorm's drift, on its line "(bn1): BatchNorm2d(64, ..."
    const char *bn1 = line_with(screen, "(bn1): BatchNorm2d(64");
    cr_assert_not_null(bn1, "%s", screen);
    double drift = json_real_value(json_object_get(module(layers, "bn1"), "drift"));
    cr_expect_gt(drift, 0);
    snprintf(want, sizeof want, "%8.3g drift", drift);
    cr_expect(strstr(bn1, want), "bn1: '%s' (the log's) on '%s'", want, bn1);
    json_decref(layers);

    // the head, at the end of the tree
    tmux_keys("End");
    cr_assert(tmux_wait_for("(fc): Linear(in_features=512, out_features=3", 30), "%s", tmux_screen(0));
    layers = last_layers_event(log_path);
    const char *fc = line_with(tmux_screen(0), "(fc): Linear(in_features=512, out_features=3");
    double change = json_real_value(json_object_get(module(layers, "fc"), "change"));
    cr_expect(change > 0 && change < 0.01, "lr 1e-5 moves the head less than 1%%: %g", change);
    snprintf(want, sizeof want, "%8.3g%% moved", 100 * change);
    cr_expect(strstr(fc, want), "fc: '%s' (the log's) on '%s'", want, fc);
    json_decref(layers);

    // At 130x40 and at 80x24 every message above the tree is on screen whole (wrapped, not cut at the
    // right edge before its advice), and so is everything on the Train screen: the cost line as the
    // wide screen showed it on one row, the meters' explanation, each alarm of the log with its advice
    char cost[1024], bn[512];
    cr_assert(tmux_wait_for("| epoch ~", 180), "the device measured:\n%s", tmux_screen(0));
    snprintf(screen, sizeof screen, "%s", tmux_screen(0));
    const char *c = line_with(screen, "cost (64x64, batch 16, Adam): ");
    cr_assert_not_null(c, "%s", screen);
    snprintf(cost, sizeof cost, "%s", c);
    cr_assert_not_null(line_with(screen, "BatchNorm in frozen layers: train"), "%s", screen);
    snprintf(bn, sizeof bn, "%s", line_with(screen, "BatchNorm in frozen layers: train"));
    cr_expect(strstr(bn, "(the tutorial's)"), "%s", bn);
    layers = last_layers_event(log_path);
    char meters[512];
    snprintf(meters, sizeof meters,
             "meters: what the last run did (epoch %lld, %lld steps): how far each module's trainable weights moved, "
             "||W - W0|| / ||W0||; how far frozen BatchNorm statistics drifted",
             json_integer_value(json_object_get(layers, "epoch")), json_integer_value(json_object_get(layers, "step")));
    json_decref(layers);
    char alarms[2][1400];
    int n_alarms = 0;
    char *text = tu_read_file(log_path, NULL);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *e = json_loads(line, 0, NULL);
        if (e && strcmp(json_string_value(json_object_get(e, "event")), "alarm") == 0 && n_alarms < 2) {
            const char *t = json_string_value(json_object_get(e, "text"));
            snprintf(alarms[n_alarms++], sizeof alarms[0], "warning: %s %s", t,
                     strncmp(t, "frozen but changing", 19) == 0 ? "(BatchNorm: eval keeps them fixed)"
                                                                : "(choose a higher learning rate, or more epochs)");
        }
        json_decref(e);
    }
    free(text);
    cr_expect_eq(n_alarms, 2, "the log's alarms");
    const int sizes[2][2] = {{130, 40}, {80, 24}};
    for (int k = 0; k < 2; k++) {
        int w = sizes[k][0], h = sizes[k][1];
        tmux_resize(w, h);
        tmux_keys("Home");
        cr_assert(tmux_wait_for("meters: what the last run did", 30), "%s", tmux_screen(0));
        usleep(300000);   // the redraw at the new size
        const char *flat = tmux_screen_flat();
        cr_expect(strstr(flat, cost), "%dx%d: the cost line whole, '%s':\n%s", w, h, cost, tmux_screen(0));
        cr_expect(strstr(flat, bn), "%dx%d: '%s':\n%s", w, h, bn, tmux_screen(0));
        cr_expect(strstr(flat, meters), "%dx%d: '%s':\n%s", w, h, meters, tmux_screen(0));
        for (int i = 0; i < n_alarms; i++)
            cr_expect(strstr(flat, alarms[i]), "%dx%d: '%s':\n%s", w, h, alarms[i], tmux_screen(0));
        expect_no_row_cut(w, 0);
        tmux_keys("3");
        cr_assert(tmux_wait_for("images/s   ETA", 30), "%s", tmux_screen(0));
        usleep(300000);
        flat = tmux_screen_flat();
        // the run had no feature cache (BatchNorm in train mode): the backbone ran every phase
        cr_expect(strstr(flat, "(images/s: with the backbone, over the run, wall clock)"), "%dx%d:\n%s", w, h,
                  tmux_screen(0));
        cr_expect(strstr(flat, "note: the frozen layers are random: expect near-chance accuracy; ImageNet weights, "
                               "thawing blocks (Model screen) or a larger learning rate help"),
                  "%dx%d:\n%s", w, h, tmux_screen(0));
        expect_no_row_cut(w, 1);
        tmux_keys("2");
    }

    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}
