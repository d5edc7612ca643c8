// test_tui_theme.c — themes in the running interface, end to end (the real binary in tmux, the
// screen read back with its colour escapes): --theme, the c key cycling, a malformed theme file
// reported by file and line while the app goes on, NO_COLOR, ASCII glyphs, 8- and 16-colour terminals,
// true colour, a theme given by its path.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "tmux_util.h"

// tmux reads the panes as UTF-8 and capture-pane writes UTF-8 whatever the caller's locale was.
static void init(void) { setenv("LC_ALL", "C.UTF-8", 1); }

TestSuite(tui_theme, .init = init, .fini = tmux_stop, .timeout = 120);

#define READY "3 classes, 120 training and 36 validation images"

// 1 when an SGR sequence on the screen sets a colour (30-38, 40-48, 90-97, 100-107; 39/49 only
// reset to the default colours and do not count).
static int has_colour_escape(const char *screen) {
    for (const char *p = strstr(screen, "\033["); p; p = strstr(p + 1, "\033[")) {
        const char *q = p + 2;
        while (*q && *q != 'm' && (*q == ';' || *q == ':' || (*q >= '0' && *q <= '9'))) {
            int v = atoi(q);
            if ((v >= 30 && v <= 38) || (v >= 40 && v <= 48) || (v >= 90 && v <= 97) || (v >= 100 && v <= 107))
                return 1;
            while (*q >= '0' && *q <= '9') q++;
            if (*q == ';' || *q == ':') q++;
        }
    }
    return 0;
}

Test(tui_theme, light_theme_draws_its_colours) {
    tmux_start("sample_data --theme light", 120, 30, "TERM=screen-256color");
    cr_assert(tmux_wait_for(READY, 60), "%s", tmux_screen(0));
    const char *s = tmux_screen(1);
    cr_expect(strstr(s, "48;5;255") != NULL, "light's background (255) on the screen:\n%s", s);
    cr_expect(strstr(s, "48;5;24") != NULL, "the key bar's #005f87 (24) on the screen:\n%s", s);
    cr_expect(strstr(s, "38;5;24") != NULL, "the title's #005f87 (24):\n%s", s);
    cr_expect(strstr(s, "\u2500\u2500\u2500") != NULL, "a UTF-8 rule under the title:\n%s", s);
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 30), "%s", tmux_screen(0));
}

// The first two and the last two lines of a screen: the frame frost draws around every screen.
static const char *frame_of(const char *screen) {
    static char buf[1 << 16];
    const char *second = strchr(screen, '\n');
    second = second ? strchr(second + 1, '\n') : NULL;
    size_t head = second ? (size_t)(second - screen) + 1 : strlen(screen);
    const char *end = screen + strlen(screen);
    while (end > screen && end[-1] == '\n') end--;
    const char *tail = end;
    for (int k = 0; k < 2 && tail > screen; k++) {
        tail--;
        while (tail > screen && tail[-1] != '\n') tail--;
    }
    snprintf(buf, sizeof buf, "%.*s%.*s", (int)head, screen, (int)(end - tail), tail);
    return buf;
}

Test(tui_theme, c_cycles_through_the_themes_folder) {
    tmux_start("sample_data --theme dark", 120, 30, "TERM=screen-256color");
    cr_assert(tmux_wait_for(READY, 60), "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(1), "38;5;117") != NULL, "dark's title #87d7ff (117):\n%s", tmux_screen(1));
    cr_expect(strstr(tmux_screen(1), "48;5;255") == NULL, "dark has no light background");
    tmux_keys("c");
    cr_expect(tmux_wait_for("theme: light", 10), "alphabetically after dark:\n%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(1), "48;5;255") != NULL, "light's colours now:\n%s", tmux_screen(1));
    tmux_keys("c");
    cr_expect(tmux_wait_for("theme: mono", 10), "%s", tmux_screen(0));
    // the frame (title, rule, status, key bar) and the text have no colours; pictures in the preview keep theirs
    cr_expect(!has_colour_escape(frame_of(tmux_screen(1))), "mono draws without colours:\n%s", tmux_screen(1));
    tmux_keys("c");
    cr_expect(tmux_wait_for("theme: dark", 10), "wraps around:\n%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(1), "38;5;117") != NULL, "%s", tmux_screen(1));
}

Test(tui_theme, malformed_theme_names_the_line_and_frost_goes_on) {
    char *dir = tu_tmpdir();
    char path[512], env[640];
    snprintf(path, sizeof path, "%s/bad.theme", dir);
    const char *bad = "# mine\ntext = default\nfrozn = blue\n";
    cr_assert_eq(tu_write_file(path, bad, strlen(bad)), 0);
    snprintf(path, sizeof path, "%s/good.theme", dir);
    const char *good = "text = default\ntitle = #ff0000 bold\n";
    cr_assert_eq(tu_write_file(path, good, strlen(good)), 0);
    snprintf(env, sizeof env, "TERM=screen-256color FROST_THEMES_DIR=%s", dir);

    tmux_start("sample_data --theme bad", 160, 30, env);
    cr_assert(tmux_wait_for("bad.theme:3: unknown role 'frozn'", 60), "the message names file and line:\n%s",
              tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "using the built-in dark theme") != NULL, "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(1), "38;5;117") != NULL, "the built-in dark's title colour:\n%s", tmux_screen(1));
    cr_expect(tmux_wait_for(READY, 60), "%s", tmux_screen(0));
    // it still works: help opens and closes, c moves on to the folder's next theme
    tmux_keys("?");
    cr_expect(tmux_wait_for("closes this help", 10), "%s", tmux_screen(0));
    tmux_keys("x");
    cr_expect(tmux_wait_gone("closes this help", 10), "%s", tmux_screen(0));
    tmux_keys("c");
    cr_expect(tmux_wait_for("theme: good", 10), "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(1), "38;5;196") != NULL, "good's red title (196):\n%s", tmux_screen(1));
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 30), "%s", tmux_screen(0));
    tu_rmtree(dir);
    free(dir);
}

Test(tui_theme, missing_theme_falls_back_to_the_built_in) {
    tmux_start("sample_data --theme nosuch", 160, 30, "TERM=screen-256color");
    cr_assert(tmux_wait_for("no theme 'nosuch'", 60), "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(1), "38;5;117") != NULL, "%s", tmux_screen(1));
}

Test(tui_theme, no_color_means_no_colour_escapes) {
    tmux_start("sample_data --theme light", 120, 30, "TERM=screen-256color NO_COLOR=1");
    cr_assert(tmux_wait_for(READY, 60), "%s", tmux_screen(0));
    const char *s = tmux_screen(1);
    cr_expect(!has_colour_escape(s), "colour escapes with NO_COLOR:\n%s", s);
    cr_expect(strstr(s, "\033[7m") != NULL || strstr(s, ";7m") != NULL, "the key bar still stands out (reverse):\n%s",
              s);
    tmux_keys("c");
    cr_expect(tmux_wait_for("mono theme stays", 10), "%s", tmux_screen(0));
    cr_expect(!has_colour_escape(tmux_screen(1)), "%s", tmux_screen(1));
}

static void expect_ascii_frame(const char *env) {
    tmux_start("sample_data", 120, 30, env);
    cr_assert(tmux_wait_for(READY, 60), "%s", tmux_screen(0));
    tmux_keys("?");   // the help: nothing but the frame and text
    cr_assert(tmux_wait_for("closes this help", 10), "%s", tmux_screen(0));
    const char *s = tmux_screen(0);
    cr_expect(strstr(s, "\n--------------------") != NULL, "an ASCII rule under the title (%s):\n%s", env, s);
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p >= 0x80) {
            cr_expect_fail("a non-ASCII byte 0x%02x on the screen (%s):\n%s", (unsigned char)*p, env, s);
            break;
        }
}

Test(tui_theme, frost_ascii_gives_ascii_glyphs) { expect_ascii_frame("TERM=screen-256color FROST_ASCII=1"); }

Test(tui_theme, c_locale_gives_ascii_glyphs) { expect_ascii_frame("TERM=screen-256color LC_ALL=C LANG=C"); }

Test(tui_theme, eight_colour_terminal_draws) {
    tmux_start("sample_data --theme light", 120, 30, "TERM=xterm");
    cr_assert(tmux_wait_for(READY, 60), "%s", tmux_screen(0));
    const char *s = tmux_screen(1);
    cr_expect(strstr(s, "38;5;") == NULL && strstr(s, "48;5;") == NULL, "only 8 colours are used:\n%s", s);
    cr_expect(strstr(s, "\033[47m") != NULL, "light's background as white (47):\n%s", s);
    cr_expect(strstr(s, "\033[30m") != NULL, "its text as black (30):\n%s", s);
    tmux_keys("c");
    cr_expect(tmux_wait_for("theme: mono", 10), "cycling works here too:\n%s", tmux_screen(0));
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 30), "%s", tmux_screen(0));
}

// COLORTERM=truecolor with a -direct terminfo entry (tmux-direct, from ncurses-term): #rrggbb drawn
// exactly, as 38;2;R;G;B.
Test(tui_theme, truecolor_terminal_gets_exact_colours) {
    tmux_start("sample_data --theme dark", 120, 30, "TERM=tmux-256color COLORTERM=truecolor");
    cr_assert(tmux_wait_for(READY, 60), "%s", tmux_screen(0));
    const char *s = tmux_screen(1);
    cr_expect(strstr(s, "38;2;135;215;255") != NULL, "dark's title #87d7ff exactly:\n%s", s);
    cr_expect(strstr(s, "38;5;") == NULL, "no palette colours then:\n%s", s);
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 30), "%s", tmux_screen(0));
}

// Inside tmux a COLORTERM inherited from outside does not switch another TERM to its -direct entry
// (tmux draws nothing for xterm-direct): the 256-colour palette is used, and the screen is drawn.
Test(tui_theme, inherited_colorterm_inside_tmux_keeps_256_colours) {
    tmux_start("sample_data --theme dark", 120, 30, "TERM=xterm-256color COLORTERM=truecolor");
    cr_assert(tmux_wait_for(READY, 60), "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(1), "38;5;117") != NULL, "%s", tmux_screen(1));
}

// --theme PATH: a theme file of one's own, outside the folder.
Test(tui_theme, theme_given_by_path) {
    char *dir = tu_tmpdir();
    char path[512], args[600];
    snprintf(path, sizeof path, "%s/mine.theme", dir);
    const char *mine = "text = default\nstatus = #00ff00 underline\n";
    cr_assert_eq(tu_write_file(path, mine, strlen(mine)), 0);
    snprintf(args, sizeof args, "sample_data --theme %s", path);
    tmux_start(args, 120, 30, "TERM=screen-256color");
    cr_assert(tmux_wait_for(READY, 60), "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(1), "38;5;46") != NULL, "mine's green status line (46):\n%s", tmux_screen(1));
    tmux_keys("c");
    cr_expect(tmux_wait_for("theme: dark", 10), "c goes on with the folder's first theme:\n%s", tmux_screen(0));
    tu_rmtree(dir);
    free(dir);
}

Test(tui_theme, sixteen_colour_terminal_draws) {
    tmux_start("sample_data --theme dark", 120, 30, "TERM=xterm-16color");
    cr_assert(tmux_wait_for(READY, 60), "%s", tmux_screen(0));
    const char *s = tmux_screen(1);
    cr_expect(strstr(s, "38;5;") == NULL && strstr(s, "48;5;") == NULL, "only 16 colours are used:\n%s", s);
    cr_expect(strstr(s, "\033[90m") != NULL, "dark's grey rule (245) as bright black (90):\n%s", s);
}

// The built-in dark (used without a themes folder) draws exactly what themes/dark.theme draws.
Test(tui_theme, built_in_dark_matches_the_file) {
    tmux_start("sample_data --theme dark", 120, 30, "TERM=screen-256color");
    cr_assert(tmux_wait_for(READY, 60), "%s", tmux_screen(0));
    // the Data screen settles: the background check done, the preview drawn
    cr_assert(tmux_wait_for("no bad files", 60) && tmux_wait_for("JPEG 112x112", 30), "%s", tmux_screen(0));
    usleep(300000);
    char *from_file = strdup(tmux_screen(1));
    tmux_stop();
    char *empty = tu_tmpdir();
    char env[600];
    snprintf(env, sizeof env, "TERM=screen-256color FROST_THEMES_DIR=%s", empty);
    tmux_start("sample_data --theme dark", 120, 30, env);
    cr_assert(tmux_wait_for(READY, 60), "%s", tmux_screen(0));
    cr_assert(tmux_wait_for("no bad files", 60) && tmux_wait_for("JPEG 112x112", 30), "%s", tmux_screen(0));
    usleep(300000);
    cr_expect_str_eq(tmux_screen(1), from_file, "built-in and file differ");
    cr_expect(strstr(from_file, "38;5;117") != NULL, "%s", from_file);
    free(from_file);
    tu_rmtree(empty);
    free(empty);
}
