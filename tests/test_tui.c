// test_tui.c — the full-screen interface, end to end: the real binary inside tmux (send-keys,
// capture-pane), on sample_data/. What the screen shows is what is checked.
#include <criterion/criterion.h>
#include <string.h>

#include "tmux_util.h"

static void start(void) { tmux_start("sample_data", 140, 45, NULL); }

TestSuite(tui, .init = start, .fini = tmux_stop, .timeout = 180);

Test(tui, data_model_freeze_and_quit) {
    cr_assert(tmux_wait_for("3 classes, 120 training and 36 validation images", 60), "data screen:\n%s", tmux_screen(0));
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
}

Test(tui, train_screen_runs_to_completion) {
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    tmux_keys("3");
    cr_assert(tmux_wait_for("learning rate  1e-05", 60), "the seed's values prefilled:\n%s", tmux_screen(0));
    // 3 epochs, 64x64 input: a short run
    tmux_keys("Down Left Down Down Down Down Left Left Left");
    cr_assert(tmux_wait_for("input size     64x64", 60), "%s", tmux_screen(0));
    tmux_keys("Enter");
    cr_assert(tmux_wait_for("Training complete after", 120), "the run finishes:\n%s", tmux_screen(0));
    const char *s = tmux_screen(0);
    cr_expect(strstr(s, "epoch 3/3") && strstr(s, "valid 3/3"), "progress bars at the end:\n%s", s);
    cr_expect(strstr(s, "valid Loss:") && strstr(s, "valid acc"), "%s", s);
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}
