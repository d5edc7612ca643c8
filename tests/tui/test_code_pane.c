// test_code_pane.c — the code pane (P), end to end in tmux at 80x24 on sample_data/: it opens under the
// Model screen and under the Train screen, and what it shows is, line for line, the code `frost train
// sample_data --show-code` prints for the same choice (that code is run by python3-torch against frost's
// model and optimizer in tests/core/test_torch_code.c); it follows a block thawed on the Model screen
// and the optimizer changed on the Train form.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "tmux_util.h"

static char *dir;
static char env[1200];

static void setup(void) {
    dir = tu_tmpdir();
    snprintf(env, sizeof env, "XDG_CACHE_HOME=%s/cache", dir);
}

static void teardown(void) {
    tmux_stop();
    tu_rmtree(dir);
    free(dir);
}

TestSuite(tui_code, .init = setup, .fini = teardown, .timeout = 240);

// `frost train sample_data --arch resnet18 --show-code ARGS...` (the Train form's defaults otherwise:
// 5 epochs, batch 16, Adam at 1e-5, 224, no weights), split into lines (the caller frees both).
static char **cli_code(const char *const *extra, size_t *n, char **text) {
    const char *args[24] = {"train", "sample_data", "--arch", "resnet18", "--show-code"};
    size_t k = 5;
    for (size_t i = 0; extra[i]; i++) args[k++] = extra[i];
    args[k] = NULL;
    tu_run_result r;
    tu_run_frost(&r, args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    *text = strdup(r.out);
    tu_run_free(&r);
    char **lines = calloc(4096, sizeof *lines);
    *n = 0;
    for (char *c = *text; *c && *n < 4096;) {
        lines[(*n)++] = c;
        char *nl = strchr(c, '\n');
        if (!nl) break;
        *nl = '\0';
        c = nl + 1;
    }
    return lines;
}

// The pane on the screen now shows lines of the code `frost train --show-code EXTRA` prints: its title
// says which and how many, and each row is that line (cut at the edge with '>' when longer).
static void expect_pane_shows(const char *const *extra) {
    size_t n;
    char *text;
    char **lines = cli_code(extra, &n, &text);
    const char *screen = tmux_screen(0);
    const char *title = strstr(screen, "PyTorch code of this choice  lines ");
    cr_assert_not_null(title, "no code pane:\n%s", screen);
    int first = 0, last = 0;
    size_t total = 0;
    cr_assert_eq(sscanf(title, "PyTorch code of this choice  lines %d-%d of %zu", &first, &last, &total), 3, "%s",
                 screen);
    cr_expect_eq(total, n, "the pane has %zu lines, frost train --show-code %zu:\n%s", total, n, screen);
    cr_assert(first >= 1 && last >= first && (size_t)last <= n, "lines %d-%d:\n%s", first, last, screen);
    const char *row = strchr(title, '\n') + 1;
    for (int k = first; k <= last; k++) {
        const char *eol = strchr(row, '\n');
        cr_assert_not_null(eol);
        size_t len = (size_t)(eol - row);
        while (len > 0 && row[len - 1] == ' ') len--;
        const char *want = lines[k - 1];
        size_t wlen = strlen(want);
        if (wlen > 79) {   // cut: the first 79 columns, then '>'
            cr_expect(len == 80 && row[79] == '>' && strncmp(row, want, 79) == 0, "line %d: '%.*s', want '%s'", k,
                      (int)len, row, want);
        } else {
            cr_expect(len == wlen && strncmp(row, want, wlen) == 0, "line %d: '%.*s', want '%s'", k, (int)len, row,
                      want);
        }
        row = eol + 1;
    }
    free(lines);
    free(text);
}

Test(tui_code, opens_on_model_and_train_and_follows_a_thaw_and_the_optimizer) {
    tmux_start("sample_data", 80, 24, env);
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    tmux_keys("2");
    cr_assert(tmux_wait_for("blocks:", 60), "%s", tmux_screen(0));
    tmux_keys("P");
    cr_assert(tmux_wait_for("import torch.nn as nn", 60), "the pane shows no code:\n%s", tmux_screen(0));
    expect_pane_shows((const char *[]){NULL});
    tmux_keys("NPage");   // scrolled: further lines, still frost's
    cr_assert(tmux_wait_gone("import torch.nn as nn", 10), "%s", tmux_screen(0));
    expect_pane_shows((const char *[]){NULL});

    // a block thawed on the Model screen: the pane moves to the change
    tmux_keys("h");
    cr_assert(tmux_wait_for("head replaced", 60), "%s", tmux_screen(0));
    tmux_keys("]");
    cr_assert(tmux_wait_for("model.layer4.requires_grad_(True)", 30), "the pane did not follow the thaw:\n%s",
              tmux_screen(0));
    expect_pane_shows((const char *[]){"--trainable", "layer4,fc", NULL});

    // the Train screen: the pane is there too, and follows the form's optimizer
    tmux_keys("3");
    cr_assert(tmux_wait_for("[3 Train]", 10), "%s", tmux_screen(0));
    cr_assert(tmux_wait_for("PyTorch code of this choice", 10), "no pane on the Train screen:\n%s", tmux_screen(0));
    tmux_keys("Down Down Down Down");   // architecture, epochs, batch, learning rate, optimizer
    tmux_keys("Right");
    cr_assert(tmux_wait_for("optimizer      sgd", 10), "%s", tmux_screen(0));
    cr_assert(tmux_wait_for("return torch.optim.SGD(params", 30), "the pane did not follow the optimizer:\n%s",
              tmux_screen(0));
    expect_pane_shows((const char *[]){"--trainable", "layer4,fc", "--optimizer", "sgd", NULL});

    tmux_keys("P");   // closed
    cr_assert(tmux_wait_gone("PyTorch code of this choice", 10), "%s", tmux_screen(0));
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}
