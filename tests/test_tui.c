// test_tui.c — the full-screen interface, end to end: the real binary inside tmux (send-keys,
// capture-pane), on sample_data/. What the screen shows is what is checked.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char sock[64];

static void tmux(const char *fmt, const char *arg) {
    char cmd[1024], inner[768];
    snprintf(inner, sizeof inner, fmt, arg);
    snprintf(cmd, sizeof cmd, "tmux -L %s %s", sock, inner);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static char *screen(void) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tmux -L %s capture-pane -p -t ui", sock);
    FILE *p = popen(cmd, "r");
    static char buf[65536];
    size_t n = p ? fread(buf, 1, sizeof buf - 1, p) : 0;
    buf[n] = '\0';
    if (p) pclose(p);
    return buf;
}

// Waits up to 60 s for text on the screen.
static int wait_for(const char *text) {
    for (int i = 0; i < 600; i++) {
        if (strstr(screen(), text)) return 1;
        usleep(100000);
    }
    return 0;
}

static void start(void) {
    snprintf(sock, sizeof sock, "frost-test-%d", (int)getpid());
    const char *bin = getenv("FROST_BIN");
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "new-session -d -s ui -x 140 -y 45 '%s sample_data; echo \"EXITED $?\"; sleep 60'", bin ? bin : "build/frost");
    tmux("%s", cmd);
}

static void stop(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "tmux -L %s kill-server 2>/dev/null", sock);
    if (system(cmd) != 0) { /* already gone */
    }
}

TestSuite(tui, .init = start, .fini = stop, .timeout = 180);

Test(tui, data_model_freeze_and_quit) {
    cr_assert(wait_for("3 classes, 120 training and 36 validation images"), "data screen:\n%s", screen());
    cr_expect(strstr(screen(), "triangles") != NULL);
    cr_expect(strstr(screen(), "circle_000.jpg") != NULL, "files of the selected class");

    tmux("send-keys -t ui %s", "2");
    cr_assert(wait_for("ResNet("), "model screen:\n%s", screen());
    cr_expect(wait_for("total 11,689,512  trainable 11,689,512"), "%s", screen());

    // after head replacement, as the seed does: the rest frozen, a new 3-class fc
    tmux("send-keys -t ui %s", "h");
    cr_assert(wait_for("total 11,178,051  trainable 1,539"), "%s", screen());
    tmux("send-keys -t ui %s", "End");
    cr_expect(wait_for("(fc): Linear(in_features=512, out_features=3, bias=True)"), "%s", screen());

    // thaw conv1 (64x3x7x7 = 9,408 weights): the trainable total follows
    tmux("send-keys -t ui %s", "Home Down Space");
    cr_expect(wait_for("trainable 10,947"), "%s", screen());
    tmux("send-keys -t ui %s", "u");
    cr_expect(wait_for("trainable 11,178,051"), "%s", screen());

    tmux("send-keys -t ui %s", "q");
    cr_expect(wait_for("EXITED 0"), "quit ends the program cleanly:\n%s", screen());
}

Test(tui, train_screen_runs_to_completion) {
    cr_assert(wait_for("3 classes"), "%s", screen());
    tmux("send-keys -t ui %s", "3");
    cr_assert(wait_for("learning rate  1e-05"), "the seed's values prefilled:\n%s", screen());
    // 3 epochs, 64x64 input: a short run
    tmux("send-keys -t ui %s", "Down Left Down Down Down Down Left Left Left");
    cr_assert(wait_for("input size     64x64"), "%s", screen());
    tmux("send-keys -t ui %s", "Enter");
    cr_assert(wait_for("Training complete after"), "the run finishes:\n%s", screen());
    const char *s = screen();
    cr_expect(strstr(s, "epoch 3/3") && strstr(s, "valid 3/3"), "progress bars at the end:\n%s", s);
    cr_expect(strstr(s, "valid Loss:") && strstr(s, "valid acc"), "%s", s);
    tmux("send-keys -t ui %s", "q");
    cr_expect(wait_for("EXITED 0"), "%s", screen());
}
