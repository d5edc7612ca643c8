// test_fine_tune.c — fine-tuning beyond the head as a user drives it from the command line: a plan's
// stages change what trains at the planned epoch and drop the feature cache then (frost's --json),
// the lr finder sweeps exponentially and suggests an lr that trains better than the sweep's start,
// and bad plans, schedules, block lrs and class weights are one-line refusals. (Numbers against
// PyTorch: test_train_oracle.c and tests/core/test_lr_schedule.c.)
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"
#include "testutil.h"

static char *root;
static void setup(void) { root = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(root);
    free(root);
}
TestSuite(cli_fine_tune, .init = setup, .fini = teardown, .timeout = 300);

// Every line of a --json log, parsed; n lines.
static json_t **read_log(const char *path, size_t *n) {
    size_t len;
    char *text = tu_read_file(path, &len);
    cr_assert_not_null(text, "no log at %s", path);
    json_t **lines = NULL;
    *n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        lines = realloc(lines, (*n + 1) * sizeof *lines);
        cr_assert_not_null(lines);
        lines[*n] = json_loads(line, 0, NULL);
        cr_assert_not_null(lines[*n], "not JSON: %s", line);
        (*n)++;
    }
    free(text);
    return lines;
}

static void free_log(json_t **lines, size_t n) {
    for (size_t i = 0; i < n; i++) json_decref(lines[i]);
    free(lines);
}

static const char *event_of(json_t *e) { return json_string_value(json_object_get(e, "event")); }
static long epoch_of(json_t *e) { return (long)json_integer_value(json_object_get(e, "epoch")); }

Test(cli_fine_tune, the_plan_thaws_at_its_epoch_and_drops_the_cache) {
    fx_two_class_dataset(root, 8, 4, 32);
    char log[1024];
    snprintf(log, sizeof log, "%s/log.jsonl", root);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"train", root, "--arch", "resnet18", "--size", "32", "--batch", "4", "--plan",
                                      "head:2,last1:1", "--lr", "1e-3", "--json", log, "--threads", "1", NULL});
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect(strstr(r.out, "Stage 1/2 from epoch 1: training fc\n"), "%s", r.out);
    cr_expect(strstr(r.out, "Stage 2/2 from epoch 3: training layer4,fc\n"), "%s", r.out);
    cr_expect(strstr(r.out, "Epoch 3/3\n"), "the plan's 3 epochs are the run's: %s", r.out);
    tu_run_free(&r);
    size_t n;
    json_t **ev = read_log(log, &n);
    int stages = 0, dropped_at = 0;
    long cached[4] = {0}, fresh[4] = {0};   // train batches per epoch from the cache, and from images
    for (size_t i = 0; i < n; i++) {
        const char *kind = event_of(ev[i]);
        if (strcmp(kind, "stage") == 0) {
            stages++;
            const char *trainable = json_string_value(json_object_get(ev[i], "trainable"));
            cr_expect_eq(epoch_of(ev[i]), stages == 1 ? 1 : 3);
            cr_expect_str_eq(trainable, stages == 1 ? "fc" : "layer4,fc");
            cr_expect_eq(json_integer_value(json_object_get(ev[i], "stage")), stages);
            cr_expect_eq(json_integer_value(json_object_get(ev[i], "stages")), 2);
        } else if (strcmp(kind, "info") == 0 &&
                   strstr(json_string_value(json_object_get(ev[i], "text")), "feature cache dropped")) {
            dropped_at = (int)epoch_of(ev[i]);
        } else if (strcmp(kind, "batch") == 0 &&
                   strcmp(json_string_value(json_object_get(ev[i], "phase")), "train") == 0) {
            long e = epoch_of(ev[i]);
            cr_assert(e >= 1 && e <= 3);
            if (json_is_true(json_object_get(ev[i], "from_cache")))
                cached[e]++;
            else
                fresh[e]++;
        } else if (strcmp(kind, "layers") == 0 && epoch_of(ev[i]) == 3) {
            // what trains in stage 2, as the measurements see it: layer4's convolutions
            json_t *mods = json_object_get(ev[i], "modules");
            for (size_t k = 0; k < json_array_size(mods); k++) {
                json_t *m = json_array_get(mods, k);
                const char *path = json_string_value(json_object_get(m, "path"));
                json_int_t params = json_integer_value(json_object_get(m, "params"));
                json_int_t trainable = json_integer_value(json_object_get(m, "trainable"));
                if (strcmp(path, "layer4.0.conv1") == 0 || strcmp(path, "fc") == 0)
                    cr_expect_eq(trainable, params, "%s trains in stage 2", path);
                if (strcmp(path, "layer3.0.conv1") == 0) cr_expect_eq(trainable, 0, "layer3 stays frozen");
            }
        }
    }
    cr_expect_eq(stages, 2);
    cr_expect_eq(dropped_at, 3, "the cache is dropped when layer4 thaws (epoch %d)", dropped_at);
    cr_expect(fresh[1] == 4 && cached[1] == 0, "epoch 1 fills the cache from images (%ld, %ld)", fresh[1], cached[1]);
    cr_expect(cached[2] == 4 && fresh[2] == 0, "epoch 2 trains the head on cached features (%ld, %ld)", cached[2],
              fresh[2]);
    cr_expect(fresh[3] == 4 && cached[3] == 0, "epoch 3 runs the thawed backbone (%ld, %ld)", fresh[3], cached[3]);
    free_log(ev, n);
}

// The lr each step used, for a schedule: the log's "lr" follows the schedule's shape (its exact values
// against PyTorch's schedulers: test_lr_schedule.c and test_train_oracle.c).
Test(cli_fine_tune, the_schedule_moves_the_lr_in_the_log) {
    fx_two_class_dataset(root, 8, 4, 32);
    char log[1024];
    snprintf(log, sizeof log, "%s/log.jsonl", root);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"train", root, "--arch", "resnet18", "--size", "32", "--batch", "4", "--epochs",
                                      "2", "--schedule", "one-cycle", "--lr", "1e-2", "--json", log, NULL});
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect(strstr(r.out, "lr schedule: one-cycle over 8 steps (4 per epoch)"), "%s", r.out);
    cr_expect(strstr(r.out, "\nlr "), "the log says where the lr is at each epoch's end: %s", r.out);
    tu_run_free(&r);
    size_t n;
    json_t **ev = read_log(log, &n);
    double lrs[16];
    int k = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(event_of(ev[i]), "batch") == 0 && json_object_get(ev[i], "lr") && k < 16)
            lrs[k++] = json_number_value(json_object_get(ev[i], "lr"));
    cr_assert_eq(k, 8, "one lr per training step");
    // one-cycle: from lr/25 up to the peak (at 30% of the steps), then down far below the start
    cr_expect_leq(fabs(lrs[0] - 1e-2 / 25) / (1e-2 / 25), 1e-9, "first step %.12g", lrs[0]);
    cr_expect_gt(lrs[2], lrs[0]);
    cr_expect_lt(lrs[7], lrs[0] / 10, "last step %.3g", lrs[7]);
    free_log(ev, n);
}

Test(cli_fine_tune, lr_find_sweeps_and_suggests_an_lr_that_trains) {
    fx_two_class_dataset(root, 12, 4, 40);
    char log[1024];
    snprintf(log, sizeof log, "%s/find.jsonl", root);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"lr-find", root, "--arch", "resnet18", "--size", "32", "--batch", "8", "--steps",
                                      "80", "--json", log, "--width", "40", "--height", "6", NULL});
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect(strstr(r.out, "smoothed loss against the learning rate"), "%s", r.out);
    cr_expect(strstr(r.out, "\u2524"), "the plot's axis is drawn: %s", r.out);
    cr_expect(strstr(r.out, "train with: --lr "), "%s", r.out);
    tu_run_free(&r);

    size_t n;
    json_t **ev = read_log(log, &n);
    int points = 0;
    double suggested = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(event_of(ev[i]), "lr_point") == 0) {
            // the sweep: 1e-7 to 10 in 80 steps, exponentially
            double want = 1e-7 * pow(10 / 1e-7, (double)points / 79.0);
            double got = json_number_value(json_object_get(ev[i], "lr"));
            cr_expect_leq(fabs(got - want), 1e-9 * want, "step %d: lr %.12g, want %.12g", points + 1, got, want);
            cr_expect_eq(json_integer_value(json_object_get(ev[i], "step")), points + 1);
            points++;
        }
        if (strcmp(event_of(ev[i]), "lr_suggestion") == 0) suggested = json_number_value(json_object_get(ev[i], "lr"));
    }
    free_log(ev, n);
    cr_assert_gt(points, 10, "the sweep took %d steps", points);
    cr_assert(suggested > 1e-7 && suggested < 10, "suggested %.3g", suggested);

    // the suggestion is worth having: two epochs at it end with a lower loss than at the sweep's start
    double final_loss[2];
    char lr_text[2][32];
    snprintf(lr_text[0], sizeof lr_text[0], "%.6g", suggested);
    snprintf(lr_text[1], sizeof lr_text[1], "1e-7");
    for (int k = 0; k < 2; k++) {
        char train_log[1100];
        snprintf(train_log, sizeof train_log, "%s/train%d.jsonl", root, k);
        tu_run_frost(&r, (const char *[]){"train", root, "--arch", "resnet18", "--size", "32", "--batch", "8",
                                          "--epochs", "2", "--lr", lr_text[k], "--json", train_log, NULL});
        cr_assert_eq(r.status, 0, "%s", r.err);
        tu_run_free(&r);
        json_t **t = read_log(train_log, &n);
        final_loss[k] = NAN;
        for (size_t i = 0; i < n; i++)
            if (strcmp(event_of(t[i]), "epoch") == 0)
                final_loss[k] = json_number_value(json_object_get(t[i], "train_loss"));
        free_log(t, n);
    }
    cr_expect_lt(final_loss[0], 0.9 * final_loss[1], "lr %s ends at loss %.4f, lr 1e-7 at %.4f", lr_text[0],
                 final_loss[0], final_loss[1]);
}

// SIGTERM stops lr-find as Ctrl-C does (the run loop train and lr-find share, cli/run_options.c): at
// the end of a step, exit 130, no sweep drawn; before, SIGTERM killed it on the spot.
Test(cli_fine_tune, lr_find_stops_on_sigterm) {
    fx_two_class_dataset(root, 8, 4, 32);
    char out[1024], log[1024];
    snprintf(out, sizeof out, "%s/out.txt", root);
    snprintf(log, sizeof log, "%s/find.jsonl", root);
    pid_t pid = tu_spawn_frost(out, (const char *[]){"lr-find", root, "--arch", "resnet18", "--size", "32", "--batch",
                                                     "2", "--steps", "100000", "--device", "cpu", "--json", log, NULL});
    char *text = NULL;
    for (int tries = 0; tries < 600 && !(text && strstr(text, "\"lr_point\"")); tries++) {
        free(text);
        usleep(100000);
        text = tu_read_file(log, NULL);
    }
    int started = text && strstr(text, "\"lr_point\"");
    free(text);
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    cr_assert(started, "the sweep never started");
    text = tu_read_file(out, NULL);
    tu_expect_no_sanitizer_report(text, "frost lr-find, stopped by SIGTERM");
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 130, "SIGTERM exits 130 (%s %d):\n%s",
              WIFSIGNALED(st) ? "killed by signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
              text ? text : "");
    cr_expect(text && !strstr(text, "train with:"), "no suggestion from a stopped sweep:\n%s", text ? text : "");
    free(text);
}

Test(cli_fine_tune, bad_fine_tuning_options_are_one_line_refusals) {
    fx_two_class_dataset(root, 4, 2, 32);
    struct {
        const char *opt, *value, *word;
        int status;
    } cases[] = {
        {"--plan", "head:2,bogus!:1", "not a stage", 2},
        {"--plan", "head,all:2", "needs its epochs", 2},
        {"--plan", "head:0", "whole number", 2},
        {"--schedule", "sawtooth", "unknown schedule", 2},
        {"--block-lr", "layer4", "BLOCK=MULTIPLIER", 2},
        {"--block-lr", "spread:0.5", "ratio of 1 or more", 2},
        {"--class-weights", "2,x", "class weights", 2},
        {"--class-weights", "1,2,3", "3 class weights for 2 classes", 1},
        {"--block-lr", "layer9=0.1", "no block 'layer9'", 1},
        {"--plan", "last9:1,head", "blocks before its head", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *args[] = {"train",    root, "--arch",     "resnet18",     "--size", "32",
                              "--epochs", "2",  cases[i].opt, cases[i].value, NULL};
        if (cases[i].status == 2) {   // refused while reading the command line
            tu_expect_one_line_error(args, cases[i].status, cases[i].word);
            continue;
        }
        // refused once the model is built (its blocks, the dataset's classes): the run's first lines may
        // have been printed, the error is one line and nothing trains
        tu_run_result r;
        tu_run_frost(&r, args);
        cr_expect_eq(r.status, 1, "%s %s: exit %d", cases[i].opt, cases[i].value, r.status);
        cr_expect_eq(tu_count_lines(r.err), 1, "one line on stderr: %s", r.err);
        cr_expect(strstr(r.err, cases[i].word), "stderr lacks '%s': %s", cases[i].word, r.err);
        cr_expect_null(strstr(r.out, "Epoch 1/"), "%s", r.out);
        tu_run_free(&r);
    }
    tu_expect_one_line_error((const char *[]){"train", root, "--plan", "head:1,all:1", "--trainable", "fc", NULL}, 2,
                             "leave out --trainable");
    tu_expect_one_line_error((const char *[]){"lr-find", root, "--start", "1", "--end", "0.1", NULL}, 2,
                             "--start must be below --end");
}
