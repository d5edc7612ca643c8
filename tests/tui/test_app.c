// test_tui.c — the full-screen interface, end to end: the real binary inside tmux (send-keys,
// capture-pane), on sample_data/. What the screen shows is what is checked.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"
#include "frost_torch.h"
#include "testutil.h"
#include "tmux_util.h"
#include "weights.h"

static void start(void) { tmux_start("sample_data", 140, 45, NULL); }
static void no_start(void) {}

TestSuite(tui, .init = start, .fini = tmux_stop, .timeout = 180);

// Opens the app on dataset and starts a long run (20 epochs, 64x64, cache off), returning once the
// second epoch shows: on a quiet machine an epoch takes half a second and one batch's label a few
// milliseconds, too short for the screen's readings to be sure to see it.
static void start_long_run(const char *dataset) {
    tmux_start(dataset, 140, 45, NULL);
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    tmux_keys("3");
    cr_assert(tmux_wait_for("learning rate  1e-05", 30), "%s", tmux_screen(0));
    tmux_keys("Down Right Right Down Down Down Down Left Left Left Down Down Right");   // 20 epochs, 64x64, cache off
    cr_assert(tmux_wait_for("feature cache  off", 30), "%s", tmux_screen(0));
    tmux_keys("Enter");
    cr_assert(tmux_wait_for("epoch 2/20", 120), "%s", tmux_screen(0));
}

Test(tui, data_model_freeze_and_quit) {
    cr_assert(tmux_wait_for("3 classes, 120 training and 36 validation images", 60), "data screen:\n%s",
              tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "triangles") != NULL);
    cr_expect(strstr(tmux_screen(0), "circle_000.jpg") != NULL, "files of the selected class");

    tmux_keys("2");
    cr_assert(tmux_wait_for("ResNet(", 60), "model screen:\n%s", tmux_screen(0));
    cr_expect(tmux_wait_for("total 11,689,512  trainable 11,689,512", 60), "%s", tmux_screen(0));

    // after head replacement, as the seed does: the rest frozen, a new 3-class fc
    tmux_keys("h");
    cr_assert(tmux_wait_for("total 11,178,051  trainable 1,539", 60), "%s", tmux_screen(0));
    tmux_keys("End");
    cr_expect(tmux_wait_for("(fc): Linear(in_features=512, out_features=3, bias=True)", 60), "%s", tmux_screen(0));

    // thaw conv1 (64x3x7x7 = 9,408 weights): the trainable total follows
    tmux_keys("Home Down Space");
    cr_expect(tmux_wait_for("trainable 10,947", 60), "%s", tmux_screen(0));
    tmux_keys("u");
    cr_expect(tmux_wait_for("trainable 11,178,051", 60), "%s", tmux_screen(0));

    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "quit ends the program cleanly:\n%s", tmux_screen(0));
    cr_expect(tmux_wait_for("TERMINAL sane", 10), "the terminal is usable after quitting:\n%s", tmux_screen(0));
}

// SIGTERM ends it cleanly; a crash signal still gives the terminal back (and keeps its exit status);
// each idle and during a training run (its thread busy in libtorch).
Test(tui, signals_restore_the_terminal, .timeout = 300) {
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    cr_assert_eq(tmux_signal_app("TERM"), 0);
    cr_expect(tmux_wait_for("EXITED 0", 30), "SIGTERM quits like q:\n%s", tmux_screen(0));
    cr_expect(tmux_wait_for("TERMINAL sane", 10), "%s", tmux_screen(0));
    tmux_start("sample_data", 100, 30, NULL);
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    cr_assert_eq(tmux_signal_app("SEGV"), 0);
    cr_expect(tmux_wait_for("EXITED 139", 30), "killed by SIGSEGV (128 + 11):\n%s", tmux_screen(0));
    cr_expect(tmux_wait_for("TERMINAL sane", 10), "the crash handler gave the terminal back:\n%s", tmux_screen(0));

    // during a training run: SIGTERM stops the run at its batch and quits
    start_long_run("sample_data");
    cr_assert_eq(tmux_signal_app("TERM"), 0);
    cr_expect(tmux_wait_for("EXITED 0", 60), "SIGTERM stops the run and quits:\n%s", tmux_screen(0));
    cr_expect(tmux_wait_for("TERMINAL sane", 10), "%s", tmux_screen(0));
    // SIGSEGV: the terminal back, the status of the crash kept
    start_long_run("sample_data");
    cr_assert_eq(tmux_signal_app("SEGV"), 0);
    cr_expect(tmux_wait_for("EXITED 139", 30), "killed by SIGSEGV during training:\n%s", tmux_screen(0));
    cr_expect(tmux_wait_for("TERMINAL sane", 10), "the terminal back after a crash in training:\n%s", tmux_screen(0));
    // Ctrl-C (SIGINT): the run is stopped at its batch, then the terminal is back
    start_long_run("sample_data");
    cr_assert_eq(tmux_signal_app("INT"), 0);
    cr_expect(tmux_wait_for("EXITED 0", 60), "Ctrl-C stops the run and quits:\n%s", tmux_screen(0));
    cr_expect(tmux_wait_for("TERMINAL sane", 10), "%s", tmux_screen(0));
}

// The terminal going away (a dropped SSH connection; here tmux's server killed) during a training
// run ends the app instead of leaving it running with no screen.
Test(tui, ends_when_the_terminal_goes_away, .init = no_start) {
    char link[64], cwd[1024], target[1200], probe[160];
    snprintf(link, sizeof link, "/tmp/frost-hup-%d", (int)getpid());
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    snprintf(target, sizeof target, "%s/sample_data", cwd);
    unlink(link);
    cr_assert_eq(symlink(target, link), 0);
    start_long_run(link);
    tmux_stop();
    // [p]: the pattern does not match the shell that runs pgrep
    snprintf(probe, sizeof probe, "pgrep -f 'frost-hu[p]-%d' >/dev/null", (int)getpid());
    int gone = 0;
    for (int i = 0; i < 300 && !gone; i++) {
        gone = system(probe) != 0;
        if (!gone) usleep(100 * 1000);
    }
    cr_expect(gone, "frost still runs 30 s after its terminal went away");
    if (!gone) {
        snprintf(probe, sizeof probe, "pkill -f 'frost-hu[p]-%d'", (int)getpid());
        if (system(probe) != 0) { /* nothing left to kill */
        }
    }
    unlink(link);
}

Test(tui, blocks_and_batchnorm_on_the_model_screen) {
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    tmux_keys("2");
    cr_assert(tmux_wait_for("blocks: conv1 bn1 layer1 layer2 layer3 layer4 fc", 60), "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "BatchNorm in frozen layers: eval"), "%s", tmux_screen(0));
    tmux_keys("h");
    cr_assert(tmux_wait_for("trainable 1,539", 60), "%s", tmux_screen(0));
    // ] thaws the last frozen block from the head: layer4 (8,393,728 parameters) with the new fc
    tmux_keys("]");
    cr_expect(tmux_wait_for("trainable 8,395,267", 30), "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "thawed layer4"), "%s", tmux_screen(0));
    // [ freezes the first block that trains: layer4 again
    tmux_keys("[");
    cr_expect(tmux_wait_for("trainable 1,539 ", 30), "%s", tmux_screen(0));
    tmux_keys("b");
    cr_expect(tmux_wait_for("BatchNorm in frozen layers: train", 30), "%s", tmux_screen(0));
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}

// The seed's own case: VGG16 for two classes, before and after, side by side.
Test(tui, vgg16_before_and_after_side_by_side, .init = no_start) {
    char *dir = tu_tmpdir();
    const char *files[] = {"train/cat/a.jpg", "train/cat/b.jpg", "train/dog/a.jpg", "valid/cat/a.jpg",
                           "valid/dog/a.jpg"};
    for (int i = 0; i < 5; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unsigned char grey = (unsigned char)(40 + 40 * i);
        cr_assert_eq(tu_write_solid_jpeg(path, 32, 24, grey, grey, grey), 0);
    }
    char args[1100];
    snprintf(args, sizeof args, "%s --arch vgg16", dir);
    tmux_start(args, 160, 50, NULL);
    cr_assert(tmux_wait_for("2 classes", 60), "%s", tmux_screen(0));
    tmux_keys("2");
    cr_assert(tmux_wait_for("VGG(", 120), "%s", tmux_screen(0));
    tmux_keys("d");
    cr_assert(tmux_wait_for("before: as torchvision builds it", 120), "%s", tmux_screen(0));
    cr_expect(tmux_wait_for("Linear(in_features=4096, out_features=2, bias=True)", 30), "after:\n%s", tmux_screen(0));
    tmux_keys("End");
    const char *s = tmux_screen(0);
    cr_expect(tmux_wait_for("Linear(in_features=4096, out_features=1000, bias=True)", 30), "before:\n%s", s);
    cr_expect(strstr(tmux_screen(0), "\u2260") != NULL, "changed lines are marked:\n%s", tmux_screen(0));
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
    tmux_stop();
    tu_rmtree(dir);
    free(dir);
}

// The batch number in "train N/M" on the screen; -1 when absent.
static int batch_number(void) {
    const char *s = strstr(tmux_screen(0), "\ntrain ");
    int n = -1, m;
    if (s && sscanf(s, "\ntrain %d/%d", &n, &m) == 2) return n;
    return -1;
}

Test(tui, custom_freeze_pause_resize_and_stop) {
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    // layer4 and the head train: the Train screen takes that from the Model screen
    tmux_keys("2");
    cr_assert(tmux_wait_for("ResNet(", 60), "%s", tmux_screen(0));
    tmux_keys("h");
    cr_assert(tmux_wait_for("trainable 1,539", 60), "%s", tmux_screen(0));
    tmux_keys("]");
    cr_assert(tmux_wait_for("trainable 8,395,267", 30), "%s", tmux_screen(0));
    tmux_keys("3");
    cr_assert(tmux_wait_for("layer4,fc  (from the Model screen)", 30), "%s", tmux_screen(0));
    // 20 epochs of batch 4 at 64x64: long enough to pause, resize and stop
    tmux_keys("Down Right Right Down Left Left Down Down Down Left Left Left");
    cr_assert(tmux_wait_for("input size     64x64", 30), "%s", tmux_screen(0));
    cr_assert(tmux_wait_for("batch          4", 30), "%s", tmux_screen(0));
    cr_assert(tmux_wait_for("epochs         20", 30), "%s", tmux_screen(0));
    tmux_keys("Enter");
    // the run trains what the Model screen marked (its first log lines may scroll away in this pane)
    cr_assert(tmux_wait_for("running", 60), "%s", tmux_screen(0));
    cr_assert(strstr(tmux_screen(0), "trainable      layer4,fc  (from the Model screen)"), "%s", tmux_screen(0));
    for (int i = 0; i < 300 && batch_number() < 2; i++) usleep(100000);
    tmux_keys("p");
    cr_assert(tmux_wait_for("PAUSED", 30), "%s", tmux_screen(0));
    // a batch in flight when p was pressed may still finish (slowly, under a sanitizer or a loaded
    // machine: a batch can take 2 s): wait until the counter holds for 4 s, then it must hold for 3 more
    int at = batch_number();
    for (int i = 0; i < 15; i++) {
        sleep(4);
        int now = batch_number();
        if (now == at) break;
        at = now;
    }
    sleep(3);
    cr_expect_eq(batch_number(), at, "the batch counter stands still while paused:\n%s", tmux_screen(0));
    // resizing while training: smaller, too small, and back
    tmux_resize(80, 24);   // the classic terminal: the form scrolls, every bar stays on screen
    cr_expect(tmux_wait_for("valid loss", 30), "redrawn at 80x24 with every bar:\n%s", tmux_screen(0));
    tmux_resize(50, 12);
    cr_expect(tmux_wait_for("needs 60x16 at least", 30), "too small:\n%s", tmux_screen(0));
    tmux_resize(140, 45);
    cr_expect(tmux_wait_for("PAUSED", 30), "%s", tmux_screen(0));
    tmux_keys("p");
    cr_expect(tmux_wait_for("running", 30), "%s", tmux_screen(0));
    for (int i = 0; i < 300 && batch_number() <= at; i++) usleep(100000);
    cr_expect_gt(batch_number(), at, "resumed:\n%s", tmux_screen(0));
    tmux_keys("s");
    cr_expect(tmux_wait_for("Stopped after", 60), "%s", tmux_screen(0));
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}

static void open_train_screen(const char *args, const char *env) {
    tmux_start(args, 140, 45, env);
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    tmux_keys("3");
    cr_assert(tmux_wait_for("learning rate  1e-05", 30), "%s", tmux_screen(0));
}

// The Train screen's weights field: a file in torchvision's cache is used as it is; without one and
// without a network, one line says so and how to copy the file in by hand.
Test(tui, weights_from_the_torch_cache_and_offline, .init = no_start) {
    char *home = tu_tmpdir();
    char path[1024], env[3000], err[512];
    snprintf(path, sizeof path, "%s/torch/hub/checkpoints/resnet18-f37072fd.pth", home);
    tu_mkdirs_for(path);
    ft_model *m = NULL;
    cr_assert_null(ft_model_create("resnet18", &m));
    cr_assert_eq(weights_save(m, path, err, sizeof err), 0, "%s", err);
    ft_model_free(m);
    snprintf(env, sizeof env, "TORCH_HOME=%s/torch XDG_CACHE_HOME=%s/cache FROST_WEIGHTS_MIRROR=http://127.0.0.1:9",
             home, home);
    open_train_screen("sample_data", env);
    // 3 epochs at 64x64, then the weights field (four more rows down): ImageNet
    tmux_keys("Down Left Down Down Down Down Left Left Left Down Down Down Down Right");
    cr_assert(tmux_wait_for("resnet18-f37072fd.pth (cached)", 30), "%s", tmux_screen(0));
    tmux_keys("Enter");
    cr_expect(tmux_wait_for("normalisation: ImageNet's mean and std", 30), "%s", tmux_screen(0));
    cr_expect(tmux_wait_for("Training complete in", 120), "%s", tmux_screen(0));
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
    tmux_stop();

    // resnet34's file is in no cache, and the mirror does not answer
    open_train_screen("sample_data --arch resnet34", env);
    tmux_keys("Down Down Down Down Down Down Down Down Down Right");
    cr_assert(tmux_wait_for("resnet34-b627a593.pth (downloaded when training starts)", 30), "%s", tmux_screen(0));
    tmux_keys("Enter");
    cr_expect(tmux_wait_for("cannot reach 127.0.0.1:9", 30), "%s", tmux_screen(0));
    cr_expect(tmux_wait_for("copy resnet34-b627a593.pth", 5), "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "Epoch 1/") == NULL, "no run starts without its weights:\n%s", tmux_screen(0));
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
    tmux_stop();

    // without a config file the Train screen starts as the tutorial does, from ImageNet's weights;
    // when they cannot be had, the field falls back to none and Enter trains from random weights
    char env2[3200];
    snprintf(env2, sizeof env2, "%s XDG_CONFIG_HOME=%s/no-config", env, home);
    open_train_screen("sample_data --arch resnet34", env2);
    cr_assert(tmux_wait_for("weights        ImageNet", 30), "the default:\n%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "note: the frozen layers are random") == NULL, "%s", tmux_screen(0));
    tmux_keys("Down Left Left Down Down Down Down Left Left Left");   // 1 epoch, 64x64
    cr_assert(tmux_wait_for("input size     64x64", 30), "%s", tmux_screen(0));
    tmux_keys("Enter");
    cr_expect(tmux_wait_for("no ImageNet weights (Enter trains from random ones instead): cannot reach", 30), "%s",
              tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "weights set to none: Enter trains from random weights"), "%s", tmux_screen(0));
    cr_expect(tmux_wait_for("weights        none", 5), "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "note: the frozen layers are random"), "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "Epoch 1/") == NULL, "nothing starts before the user says so:\n%s",
              tmux_screen(0));
    tmux_keys("Enter");
    cr_expect(tmux_wait_for("Training complete in", 120), "%s", tmux_screen(0));
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
    tmux_stop();
    tu_rmtree(home);
    free(home);
}

// Without TERM the interface cannot know the terminal: it says so in one line instead of exiting mute.
Test(tui, unset_term_is_named, .init = no_start) {
    tmux_start("sample_data", 120, 20, "-u TERM");
    cr_expect(tmux_wait_for("TERM is not set", 30), "%s", tmux_screen(0));
    cr_expect(tmux_wait_for("EXITED 1", 30), "%s", tmux_screen(0));
    tmux_stop();
    tmux_start("sample_data", 120, 20, "TERM=no-such-terminal");
    cr_expect(tmux_wait_for("TERM=no-such-terminal is not a terminal type", 30), "%s", tmux_screen(0));
    cr_expect(tmux_wait_for("EXITED 1", 30), "%s", tmux_screen(0));
}

// The user's config file: the dataset opened without one given, the architecture, the theme, the
// Train screen's device and weights; its mistake on the status line, and the rest still applied.
Test(tui, config_file_gives_the_defaults, .init = no_start) {
    char *home = tu_tmpdir();
    char ds[1024], cfg[1024], text[2048], env[1200];
    snprintf(ds, sizeof ds, "%s/pets", home);
    fx_two_class_dataset(ds, 4, 2, 32);
    snprintf(cfg, sizeof cfg, "%s/frost/config", home);
    tu_mkdirs_for(cfg);
    snprintf(text, sizeof text,
             "# mine\ntheme = light\narch = resnet34\ndataset = %s\nweights = imagenet\ndevice = cpu\nworkers = nine\n",
             ds);
    cr_assert_eq(tu_write_file(cfg, text, strlen(text)), 0);
    snprintf(env, sizeof env, "TERM=screen-256color XDG_CONFIG_HOME=%s", home);
    tmux_start("", 160, 40, env);
    char want[1200];
    snprintf(want, sizeof want, "%s:7: workers is a whole number from 1 to 256, not 'nine'", cfg);
    cr_expect(tmux_wait_for(want, 60), "'%s':\n%s", want, tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "2 classes, 8 training and 4 validation images"), "the config's dataset:\n%s",
              tmux_screen(0));
    cr_expect(strstr(tmux_screen(1), "48;5;255") != NULL, "light's background:\n%s", tmux_screen(1));
    tmux_keys("3");
    cr_expect(tmux_wait_for("architecture   resnet34", 30), "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "device         cpu"), "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "weights        ImageNet  resnet34-b627a593.pth"), "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "note: the frozen layers are random") == NULL, "ImageNet weights:\n%s",
              tmux_screen(0));
    tmux_keys("Down Down Down Down Down Down Down Down Down Left");   // weights: none
    cr_expect(tmux_wait_for("note: the frozen layers are random: expect near-chance accuracy", 30), "%s",
              tmux_screen(0));
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
    tmux_stop();
    tu_rmtree(home);
    free(home);
}

// At 80x24 the help cannot show every key at once: its title says which it shows and how to see the
// rest, the moving keys scroll it down to the last key of the table, and any other key closes it.
Test(tui, the_help_scrolls_to_every_key) {
    tmux_start("sample_data", 80, 24, NULL);
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    tmux_keys("?");
    cr_assert(tmux_wait_for("Keys 1-18 of ", 10), "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "any other key closes this help"), "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "[Runs]") == NULL, "the Runs screen's keys are further down:\n%s", tmux_screen(0));
    tmux_keys("PgDn");
    cr_assert(tmux_wait_gone("Keys 1-18 of ", 10), "%s", tmux_screen(0));
    tmux_keys("End");
    cr_assert(tmux_wait_for("the lesson's step before", 10), "the table's last key:\n%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "[Runs]"), "%s", tmux_screen(0));
    tmux_keys("Home");
    cr_assert(tmux_wait_for("Keys 1-18 of ", 10), "%s", tmux_screen(0));
    tmux_keys("x");
    cr_expect(tmux_wait_gone("closes this help", 10), "any other key closes it:\n%s", tmux_screen(0));
    cr_expect(tmux_wait_for("3 classes", 10), "%s", tmux_screen(0));
}
