// test_tui_data.c — the Data screen end to end: the real binary inside tmux on a dataset made
// here (two classes, solid red and blue JPEGs, one JPEG cut in half). Checked on the screen: the
// tree's counts, frost doctor's verdict on the broken file with its reason, the preview of the red
// image as half-block cells in red (256 colours, direct colour, ASCII fallback), its info line,
// and no colour at all under NO_COLOR.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "tmux_util.h"

static char *root;

static void solid(const char *rel, unsigned char r, unsigned char g, unsigned char b) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    cr_assert_eq(tu_write_solid_jpeg(path, 64, 48, r, g, b), 0);
}

static void setup(void) {
    root = tu_tmpdir();
    solid("train/a_red/red.jpg", 255, 0, 0);
    solid("train/b_blue/blue.jpg", 0, 0, 255);
    solid("valid/a_red/red2.jpg", 255, 0, 0);
    solid("valid/b_blue/blue2.jpg", 0, 0, 255);
    // the first half of a JPEG: "corrupt.jpg" sorts before "red.jpg", so it is listed first
    char path[1024];
    snprintf(path, sizeof path, "%s/train/a_red/red.jpg", root);
    size_t len;
    char *bytes = tu_read_file(path, &len);
    cr_assert(bytes);
    snprintf(path, sizeof path, "%s/train/a_red/corrupt.jpg", root);
    cr_assert_eq(tu_write_file(path, bytes, len / 2), 0);
    free(bytes);
}

static void teardown(void) {
    tmux_stop();
    tu_rmtree(root);
    free(root);
}

TestSuite(tui_data, .init = setup, .fini = teardown, .timeout = 120);

static void start(const char *env) {
    char args[1100];
    snprintf(args, sizeof args, "'\"'\"'%s'\"'\"'", root);   // quoted inside tmux's single quotes
    tmux_start(args, 140, 45, env);
}

// The image count on the n-th tree line of class `name` (0: train, 1: valid), or -1.
static int tree_count(const char *screen, const char *name, int nth) {
    for (const char *line = screen; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        char first[64];
        int count;
        if (strncmp(line, "  ", 2) == 0 && sscanf(line, " %63s %d", first, &count) == 2 && strcmp(first, name) == 0 &&
            nth-- == 0)
            return count;
    }
    return -1;
}

// Waits for the red image's preview: Tab to the file list, down to red.jpg. `j` rather than Down:
// TERM=xterm-256color inside tmux, and keys sent before curses turns on keypad mode arrive raw.
static void select_red(void) {
    cr_assert(tmux_wait_for("2 classes, 3 training and 2 validation images", 30), "%s", tmux_screen(0));
    cr_assert(tmux_wait_for("1 bad file", 30), "frost doctor's check ends:\n%s", tmux_screen(0));
    tmux_keys("Tab");
    tmux_keys("j");
    cr_assert(tmux_wait_for("JPEG 64x48 RGB", 30), "the info line of red.jpg:\n%s", tmux_screen(0));
}

Test(tui_data, tree_bad_file_and_256_colour_preview) {
    start("TERM=xterm-256color LANG=C.UTF-8");
    cr_assert(tmux_wait_for("2 classes, 3 training and 2 validation images", 30), "%s", tmux_screen(0));
    const char *s = tmux_screen(0);
    cr_expect_eq(tree_count(s, "a_red", 0), 2, "train/a_red:\n%s", s);
    cr_expect_eq(tree_count(s, "b_blue", 0), 1, "train/b_blue:\n%s", s);
    cr_expect_eq(tree_count(s, "a_red", 1), 1, "valid/a_red:\n%s", s);
    cr_expect_eq(tree_count(s, "b_blue", 1), 1, "valid/b_blue:\n%s", s);
    cr_expect(strstr(s, "train/ (3)") && strstr(s, "valid/ (2)"), "%s", s);

    // frost doctor's check: the broken file marked in the list, its reason shown while selected
    cr_assert(tmux_wait_for("5 files checked, 1 bad file", 30), "%s", tmux_screen(0));
    cr_expect(tmux_wait_for("\u2717 corrupt.jpg: truncated JPEG data", 10), "the reason:\n%s", tmux_screen(0));
    s = tmux_screen(0);
    cr_expect(strstr(s, "train/a_red: 2 files, 1 bad") != NULL, "%s", s);
    cr_expect(strstr(s, "cannot show it: truncated JPEG data") != NULL, "no picture for it:\n%s", s);
    cr_expect(strstr(s, "\u2580") == NULL, "no half-blocks before a good image is selected:\n%s", s);

    select_red();
    s = tmux_screen(0);
    cr_expect(strstr(s, "\u2580\u2580\u2580\u2580\u2580\u2580\u2580\u2580") != NULL, "half-block cells:\n%s", s);
    cr_expect(strstr(s, "\u2717 corrupt.jpg: truncated") == NULL, "the reason goes with the selection:\n%s", s);
    s = tmux_screen(1);
    cr_expect(strstr(s, "38;5;196") != NULL && strstr(s, "48;5;196") != NULL, "red in the 256-colour cube:\n%s", s);
    cr_expect(strstr(s, "38;5;21m") == NULL && strstr(s, "48;5;21m") == NULL, "no blue in the red picture");

    // the blue class, first file: blue (xterm 21) in the picture
    tmux_keys("Tab");
    tmux_keys("j");
    cr_assert(tmux_wait_for("train/b_blue: 1 files", 10), "%s", tmux_screen(0));
    cr_expect(tmux_wait_for("JPEG 64x48 RGB", 10));
    s = tmux_screen(1);
    cr_expect(strstr(s, "48;5;21m") != NULL && strstr(s, "38;5;196") == NULL, "the blue picture:\n%s", s);

    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 30), "%s", tmux_screen(0));
}

Test(tui_data, direct_colour_preview) {
    start("TERM=xterm-direct LANG=C.UTF-8");
    select_red();
    const char *s = tmux_screen(1);
    // TurboJPEG's red is 254,0,0 or so: the pixel itself, not a palette entry
    const char *p = strstr(s, "48;2;");
    cr_assert(p, "direct colour escapes:\n%s", s);
    int r = -1, g = -1, b = -1;
    cr_expect_eq(sscanf(p, "48;2;%d;%d;%d", &r, &g, &b), 3);
    cr_expect(r >= 240 && g <= 15 && b <= 15, "red: %d,%d,%d", r, g, b);
    cr_expect(strstr(s, "38;5;") == NULL, "no 256-colour escapes");
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 30), "%s", tmux_screen(0));
}

Test(tui_data, ascii_fallback_paints_spaces) {
    // tmux-256color has no back-colour-erase, so curses writes the spaces instead of clearing to
    // the end of the line (capture-pane drops trailing blanks either way: the escapes are checked)
    start("TERM=tmux-256color LANG=C");
    select_red();
    const char *s = tmux_screen(1);
    cr_expect(strstr(s, "38;5;196m\033[48;5;196m") != NULL, "spaces on red (foreground = background):\n%s", s);
    cr_expect(strstr(s, "\u2580") == NULL, "no UTF-8 half-blocks in ASCII mode");
    cr_expect(strstr(tmux_screen(0), "x corrupt.jpg") != NULL, "the ASCII bad-file mark:\n%s", tmux_screen(0));
}

Test(tui_data, no_colour_shows_the_info_line_only) {
    start("TERM=xterm-256color LANG=C.UTF-8 NO_COLOR=1");
    select_red();
    const char *s = tmux_screen(1);
    cr_expect(strstr(s, "38;5;") == NULL && strstr(s, "48;5;") == NULL && strstr(s, "38;2;") == NULL &&
                  strstr(s, "48;2;") == NULL,
              "no colour escapes under NO_COLOR:\n%s", s);
    cr_expect(strstr(s, "\u2580") == NULL, "no picture without colours");
    cr_expect(strstr(tmux_screen(0), "JPEG 64x48 RGB, ") != NULL);
}
