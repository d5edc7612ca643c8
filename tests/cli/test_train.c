// test_train.c — `frost train` as a user runs it: the seed's log line for line, one-line refusals,
// Ctrl-C stopping at a batch boundary with a checkpoint saved, and --resume continuing it.
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dataset.h"
#include "events.h"
#include "fixtures.h"
#include "safetensors.h"
#include "testutil.h"
#include "trainer.h"
#include "transfer.h"

static char *root;

static void setup(void) { root = tu_tmpdir(); }

static void teardown(void) {
    tu_rmtree(root);
    free(root);
}

TestSuite(cli_train, .init = setup, .fini = teardown);

Test(cli_train, cli_prints_the_seeds_log, .timeout = 300) {
    fx_two_class_dataset(root, 8, 4, 32);
    char json[1024];
    snprintf(json, sizeof json, "%s/events.jsonl", root);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"train", root, "--arch", "resnet18", "--epochs", "2", "--size", "32", "--batch",
                                      "4", "--log-every", "2", "--json", json, "--device", "cpu", NULL});
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    const char *shape[] = {"Epoch 1/2\n----------------------------------------\nTraining...\nBatch 2,Train Loss:",
                           "\ntrain Loss:",
                           " ACC:",
                           "\nValiding...\nvalid Loss:",
                           "Epoch 2/2\n",
                           "Training complete in "};
    const char *at = r.out;
    for (size_t k = 0; k < sizeof shape / sizeof shape[0]; k++) {
        const char *hit = strstr(at, shape[k]);
        cr_expect_not_null(hit, "log lacks '%s' in order:\n%s", shape[k], r.out);
        if (hit) at = hit;
    }
    cr_expect(strchr(r.out, '\r') == NULL, "no progress bar when stdout is not a terminal");
    // random weights, only the head trains: 1,026 of resnet18's 11,177,538 parameters
    cr_expect(strstr(r.out, "note: 99.99% of the network is frozen at random weights: expect accuracy near chance"),
              "what to expect, before the run:\n%s", r.out);
    char *events = tu_read_file(json, NULL);
    cr_assert_not_null(events);
    cr_expect(strstr(events, "\"event\":\"batch\"") && strstr(events, "\"event\":\"finished\""), "%s", events);
    // 4 info lines (threads, the note on a frozen random backbone, model, cache); per epoch: 2 phase starts each with its order line, 4 + 2
    // batches, 2 phase ends, 1 layer measurement (at the train phase's end: 4 batches < --measure-every
    // 10), 1 epoch; then finished. Alarms come on top, at most one of each kind a run.
    size_t alarms = 0;
    for (const char *a = events; (a = strstr(a, "{\"event\":\"alarm\"")) != NULL; a++) alarms++;
    cr_expect_leq(alarms, 2, "%s", events);
    cr_expect_eq(tu_count_lines(events) - alarms, 4 + 2 * (2 + 2 + 6 + 2 + 1 + 1) + 1, "one line per event:\n%s",
                 events);
    free(events);
    tu_run_free(&r);

    tu_run_frost(&r, (const char *[]){"train", root, "--arch", "resnet17", NULL});
    cr_expect_eq(r.status, 2);
    cr_expect_eq(tu_count_lines(r.err), 1);
    tu_run_free(&r);
    tu_run_frost(&r, (const char *[]){"train", root, "--bn", "frozen", NULL});
    cr_expect_eq(r.status, 2);
    tu_run_free(&r);
    tu_run_frost(&r, (const char *[]){"train", "/nonexistent", NULL});
    cr_expect_eq(r.status, 1);
    cr_expect_eq(tu_count_lines(r.err), 1);
    tu_run_free(&r);
}

Test(cli_train, ctrl_c_stops_saves_and_resume_continues, .timeout = 300) {
    fx_two_class_dataset(root, 40, 4, 32);
    char out[1024], ckpt[1024];
    snprintf(out, sizeof out, "%s/log.txt", root);
    snprintf(ckpt, sizeof ckpt, "%s/ckpt.safetensors", root);
    pid_t pid = tu_spawn_frost(out, (const char *[]){"train", root, "--arch", "resnet18", "--size", "32", "--batch",
                                                     "2", "--cache", "off", "--epochs", "20", "--device", "cpu",
                                                     "--save", ckpt, "--log-every", "1", NULL});
    // wait for the first batch line, then Ctrl-C
    char *log = NULL;
    for (int tries = 0; tries < 600; tries++) {
        free(log);
        log = tu_read_file(out, NULL);
        if (log && strstr(log, "Batch 1,")) break;
        usleep(100000);
    }
    cr_assert(log && strstr(log, "Batch 1,"), "training never started:\n%s", log ? log : "");
    kill(pid, SIGINT);
    int st;
    waitpid(pid, &st, 0);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 130, "Ctrl-C exits 130");
    free(log);
    log = tu_read_file(out, NULL);
    tu_expect_no_sanitizer_report(log, "frost train, stopped by Ctrl-C");
    cr_expect(strstr(log, "stopping at the end of this batch") && strstr(log, "Stopped after"), "%s", log);
    cr_expect(strstr(log, "saved ") != NULL, "the checkpoint is saved when stopping:\n%s", log);
    cr_expect(strstr(log, "Epoch 2/20") == NULL, "stopped within the first epoch");
    free(log);

    // a finished epoch, saved, then resumed for a second one
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"train", root, "--arch", "resnet18", "--size", "32", "--batch", "8", "--epochs",
                                      "1", "--device", "cpu", "--save", ckpt, NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    tu_run_free(&r);
    tu_run_frost(&r, (const char *[]){"train", root, "--size", "32", "--batch", "8", "--epochs", "2", "--device", "cpu",
                                      "--resume", ckpt, NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "resuming") && strstr(r.out, "after epoch 1"), "%s", r.out);
    cr_expect(strstr(r.out, "Epoch 2/2") && !strstr(r.out, "Epoch 1/2"), "continues with epoch 2:\n%s", r.out);
    cr_expect(strstr(r.out, "resnet18 on cpu") != NULL, "the checkpoint's architecture, not the default vgg16");
    tu_run_free(&r);
}

// --profile says where the time went; its parts add up to no more than the run
Test(cli_train, profile_parts_add_up, .timeout = 300) {
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"train", "sample_data", "--arch", "resnet18", "--epochs", "2", "--size", "32",
                                      "--profile", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "threads: ") != NULL, "the thread split is in the log:\n%s", r.out);
    const char *p = strstr(r.out, "profile: where the ");
    cr_assert_not_null(p, "%s", r.out);
    double wall = 0, sum = 0, backbone = -1;
    cr_assert_eq(sscanf(p, "profile: where the %lf s", &wall), 1);
    const char *parts[] = {"waiting for batches", "backbone (cache fill)",  "forward ",         "backward",
                           "optimizer",           "copies (feature cache)", "events (UI, log)", "layer measurements",
                           "model build, other"};
    for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
        const char *q = strstr(p, parts[k]);
        cr_assert_not_null(q, "profile line '%s' missing:\n%s", parts[k], p);
        double v = -1;
        cr_assert_eq(sscanf(q + strlen(parts[k]), " %lf", &v), 1, "%s", q);
        cr_expect(v >= 0 && v <= wall + 0.01, "'%s' %.2f s lies within the run's %.2f s", parts[k], v, wall);
        if (k == 1) backbone = v;
        sum += v;
    }
    cr_expect_leq(sum, wall * 1.01 + 0.01, "the parts (%.3f s) fit in the run (%.3f s)", sum, wall);
    cr_expect(strstr(r.out, "feature cache on") != NULL, "%s", r.out);
    cr_expect_gt(backbone, 0, "with the cache on, the backbone's time is counted:\n%s", p);
    tu_run_free(&r);
}

// Memory that runs out inside libtorch: one line saying so with what to do about it (a smaller batch),
// exit 1, no abort. Every parameter trains at batch 120 of 224x224 ResNet50 images: over 10 GB.
Test(cli_train, out_of_memory_says_to_use_a_smaller_batch, .timeout = 300) {
    tu_run_opts o = {0};
    int asan = getenv("ASAN_OPTIONS") != NULL;
    if (asan) {
        // an ASan build needs the address space a limit would take (its shadow memory): its allocator
        // refuses blocks over 340 MB instead (the loader's 289 MB of batches pass, the first 385 MB
        // activation does not), with libtorch's own allocator in place of frost's mmap one
        char opts[1024];
        snprintf(opts, sizeof opts, "%s:allocator_may_return_null=1:max_allocation_size_mb=340",
                 getenv("ASAN_OPTIONS"));
        setenv("ASAN_OPTIONS", opts, 1);
        setenv("FROST_HUGEPAGES", "0", 1);
    } else {
        o.address_space = 6LL << 30;
    }
    tu_run_result r;
    tu_run_frost_with(&r,
                      (const char *[]){"train", "sample_data", "--arch", "resnet50", "--epochs", "1", "--batch", "120",
                                       "--cache", "off", "--trainable", "all", NULL},
                      &o);
    // ASan's own notes about the refused block ("==PID==WARNING: ...") are not frost's
    char err[4096] = "";
    for (char *line = strtok(r.err, "\n"); line; line = strtok(NULL, "\n"))
        if (!(asan && strncmp(line, "==", 2) == 0)) {
            size_t used = strlen(err);
            snprintf(err + used, sizeof err - used, "%s\n", line);
        }
    cr_expect_eq(r.status, 1, "exit %d:\n%s", r.status, err);
    cr_expect_eq(tu_count_lines(err), 1, "one line:\n%s", err);
    cr_expect(strstr(err, "can't allocate memory") && strstr(err, "(try a smaller --batch)"), "%s", err);
    cr_expect(!strstr(err, "frame #") && !strstr(err, "terminate called"), "%s", err);
    tu_run_free(&r);
}

// --precision fast or bf16 rewrites the backbone the feature cache runs: without the cache it is
// refused in one line, before any epoch, saying why.
Test(cli_train, precision_without_the_feature_cache_is_refused, .timeout = 120) {
    const char *why[2][2] = {{"--cache", "off"}, {"--bn", "train"}};
    const char *said[2] = {"this run has no cache (--cache off)", "BatchNorm runs in train mode"};
    for (int k = 0; k < 2; k++) {
        tu_run_result r;
        tu_run_frost(&r, (const char *[]){"train", "sample_data", "--arch", "resnet18", "--epochs", "1", "--size", "32",
                                          "--precision", "fast", why[k][0], why[k][1], NULL});
        cr_expect_eq(r.status, 1, "%s %s: status %d\n%s", why[k][0], why[k][1], r.status, r.err);
        cr_expect(strstr(r.err, "frost: --precision fast or bf16 is for the frozen backbone") && strstr(r.err, said[k]),
                  "%s %s:\n%s", why[k][0], why[k][1], r.err);
        cr_expect(strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "one line:\n%s", r.err);
        cr_expect(!strstr(r.out, "Epoch 1/"), "no epoch ran:\n%s", r.out);
        tu_run_free(&r);
    }
}

// The lines of a JSON log that carry the run's numbers (batches, phase ends, epochs), each without its
// timings: what two runs doing the same arithmetic write alike, byte for byte.
static char *numbers_of(const char *path) {
    char *text = tu_read_file(path, NULL);
    cr_assert_not_null(text, "no log at %s", path);
    size_t cap = strlen(text) + 1, used = 0;
    char *out = calloc(cap, 1);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strstr(line, "\"event\":\"batch\"") && !strstr(line, "\"event\":\"phase_end\"") &&
            !strstr(line, "\"event\":\"epoch\""))
            continue;
        // the keys that hold times: images_per_s, backbone_images_per_s, eta_s, seconds (to the next comma)
        for (const char *p = line; *p;) {
            const char *k = NULL;
            const char *timed[] = {"\"images_per_s\":", "\"backbone_images_per_s\":", "\"eta_s\":", "\"seconds\":"};
            for (int j = 0; j < 4 && !k; j++)
                if (strncmp(p, timed[j], strlen(timed[j])) == 0) k = timed[j];
            if (k) {
                p += strlen(k);
                while (*p && *p != ',' && *p != '}') p++;
                continue;
            }
            out[used++] = *p++;
        }
        out[used++] = '\n';
    }
    free(text);
    return out;
}

// The warm-up (FROST_WARMUP=1: the first batch's kernels made while the loader decodes it) changes
// nothing a run computes: with and without it every batch's loss and every epoch's figures are the
// same, bit for bit; --profile says it ran in one and not the other.
Test(cli_train, the_warm_up_changes_no_number, .timeout = 300) {
    fx_two_class_dataset(root, 8, 4, 40);
    char json[2][1024];
    for (int k = 0; k < 2; k++) {
        snprintf(json[k], sizeof json[k], "%s/run%d.jsonl", root, k);
        if (k == 0) setenv("FROST_WARMUP", "1", 1);
        tu_run_result r;
        tu_run_frost(&r, (const char *[]){"train", root, "--arch", "resnet18", "--epochs", "2", "--size", "32",
                                          "--batch", "4", "--log-every", "1", "--json", json[k], "--device", "cpu",
                                          "--profile", NULL});
        unsetenv("FROST_WARMUP");
        cr_assert_eq(r.status, 0, "stderr: %s", r.err);
        const char *line = strstr(r.out, "first batch: waited ");
        cr_assert_not_null(line, "the profile's first-batch line:\n%s", r.out);
        const char *w = strstr(line, "warm-up beside the decoding ");
        cr_assert_not_null(w, "%s", line);
        double warm = atof(w + strlen("warm-up beside the decoding "));
        if (k == 0)
            cr_expect(warm > 0, "the warm-up ran: %.80s", line);
        else {
            const char *none = strstr(line, "(none");
            cr_expect(warm == 0 && none && none < strchr(line, '\n'), "none: %.120s", line);
        }
        tu_run_free(&r);
    }
    char *a = numbers_of(json[0]), *b = numbers_of(json[1]);
    cr_expect(strlen(a) > 100, "the log has batches:\n%s", a);
    cr_expect_str_eq(a, b, "with the warm-up:\n%s\nwithout:\n%s", a, b);
    free(a);
    free(b);
}
