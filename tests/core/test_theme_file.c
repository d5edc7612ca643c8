// test_theme.c — core/theme_file: theme files parsed into the role table, each kind of mistake
// reported as FILE:LINE, colours fitted to 256 / 16 / 8 / direct-colour terminals, and the shipped
// themes/*.theme (read from the repository, the tests' working folder) complete and valid, and the
// order the themes folder is looked for in.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "theme_file.h"

static int role_of(const char *name) {
    for (int r = 0; r < THEME_N_ROLES; r++)
        if (strcmp(theme_role_name(r), name) == 0) return r;
    return -1;
}

Test(theme, parses_colours_backgrounds_and_attributes) {
    const char *text = "# a comment\n"
                       "\n"
                       "   # an indented comment\n"
                       "text = default on default\n"
                       "frozen = #5f87af on default bold\n"
                       "selected=black on bright-cyan reverse underline\r\n"
                       "  dim   =   244  \n"
                       "keybar = reverse\n"
                       "error = bright-red bold italic\n"
                       "bar_empty = 7 on 0 dim";   // no newline at the end
    theme t;
    char err[256] = "";
    cr_assert_eq(theme_parse(&t, text, "t.theme", err, sizeof err), 0, "%s", err);

    theme_entry e = t.role[role_of("frozen")];
    cr_expect(e.set);
    cr_expect_eq(e.fg.kind, THEME_COLOR_RGB);
    cr_expect_eq(e.fg.value, 0x5f87af);
    cr_expect_eq(e.bg.kind, THEME_COLOR_DEFAULT);
    cr_expect_eq(e.attrs, (unsigned)THEME_BOLD);

    e = t.role[role_of("selected")];
    cr_expect_eq(e.fg.kind, THEME_COLOR_INDEX);
    cr_expect_eq(e.fg.value, 0);
    cr_expect_eq(e.bg.kind, THEME_COLOR_INDEX);
    cr_expect_eq(e.bg.value, 14, "bright-cyan is palette 14");
    cr_expect_eq(e.attrs, (unsigned)(THEME_REVERSE | THEME_UNDERLINE));

    e = t.role[role_of("dim")];
    cr_expect_eq(e.fg.kind, THEME_COLOR_INDEX);
    cr_expect_eq(e.fg.value, 244);
    cr_expect_eq(e.attrs, 0u);

    e = t.role[role_of("keybar")];
    cr_expect_eq(e.fg.kind, THEME_COLOR_DEFAULT, "attributes alone leave the colours default");
    cr_expect_eq(e.attrs, (unsigned)THEME_REVERSE);

    e = t.role[role_of("error")];
    cr_expect_eq(e.fg.value, 9);
    cr_expect_eq(e.attrs, (unsigned)(THEME_BOLD | THEME_ITALIC));

    e = t.role[role_of("bar_empty")];
    cr_expect_eq(e.fg.value, 7);
    cr_expect_eq(e.bg.value, 0);
    cr_expect_eq(e.attrs, (unsigned)THEME_DIM_ATTR, "'dim' after '=' is the attribute, not the role");

    cr_expect(!t.role[role_of("warning")].set, "roles not given stay unset");
}

// One malformed line in an otherwise good file: the message names the file and that line.
static void expect_error(const char *bad_line, const char *what) {
    char text[512];
    snprintf(text, sizeof text, "# header\ntext = default\n\ntitle = bold\n%s\ngood = green\n", bad_line);
    theme t;
    char err[256] = "";
    cr_expect_eq(theme_parse(&t, text, "my.theme", err, sizeof err), -1, "'%s' accepted", bad_line);
    cr_expect(strncmp(err, "my.theme:5: ", 12) == 0, "'%s': message '%s' does not start with my.theme:5:", bad_line,
              err);
    cr_expect(strstr(err, what) != NULL, "'%s': message '%s' lacks '%s'", bad_line, err, what);
    cr_expect(!strchr(err, '\n'), "one line");
    cr_expect(!t.role[THEME_TEXT].set, "a refused file leaves no half-filled table");
}

Test(theme, malformed_lines_name_file_and_line) {
    expect_error("frozn = blue", "unknown role 'frozn'");
    expect_error("frozen = bleu", "unknown colour 'bleu'");
    expect_error("frozen = 256", "unknown colour '256'");
    expect_error("frozen = #12345", "unknown colour '#12345'");
    expect_error("frozen = #12345g", "unknown colour '#12345g'");
    expect_error("frozen = blue on purple", "unknown colour 'purple'");
    expect_error("frozen = blue on", "'on' needs a background");
    expect_error("frozen = blue red", "one foreground");
    expect_error("frozen blue", "expected 'ROLE = ");
    expect_error("frozen =", "no colour or attribute");
    expect_error("frozen trainable = blue", "one role name");
    expect_error("title = blue", "role 'title' given twice (first on line 4)");
    expect_error("frozen = blue # trailing comment", "unknown colour '#'");
}

Test(theme, load_reports_unreadable_and_bad_files) {
    char *dir = tu_tmpdir();
    char path[512];
    theme t;
    char err[512] = "";
    snprintf(path, sizeof path, "%s/missing.theme", dir);
    cr_expect_eq(theme_load(&t, path, err, sizeof err), -1);
    cr_expect(strstr(err, "missing.theme") != NULL, "%s", err);

    snprintf(path, sizeof path, "%s/bad.theme", dir);
    const char *bad = "text = default\nwarning = yellow\nwarning = red\n";
    cr_assert_eq(tu_write_file(path, bad, strlen(bad)), 0);
    cr_expect_eq(theme_load(&t, path, err, sizeof err), -1);
    char want[600];
    snprintf(want, sizeof want, "%s:3: role 'warning' given twice", path);
    cr_expect(strstr(err, want) == err, "got '%s', want it to start with '%s'", err, want);

    snprintf(path, sizeof path, "%s/binary.theme", dir);
    cr_assert_eq(tu_write_file(path, "text\0= red", 10), 0);
    cr_expect_eq(theme_load(&t, path, err, sizeof err), -1);
    cr_expect(strstr(err, "not a theme file") != NULL, "%s", err);

    snprintf(path, sizeof path, "%s/good.theme", dir);
    const char *good = "text = 252 on 234\n";
    cr_assert_eq(tu_write_file(path, good, strlen(good)), 0);
    cr_expect_eq(theme_load(&t, path, err, sizeof err), 0, "%s", err);
    cr_expect_eq(t.role[THEME_TEXT].bg.value, 234);
    tu_rmtree(dir);
    free(dir);
}

Test(theme, palette_values_follow_xterm) {
    cr_expect_eq(theme_index_rgb(1), 0xcd0000);
    cr_expect_eq(theme_index_rgb(16), 0x000000, "cube origin");
    cr_expect_eq(theme_index_rgb(67), 0x5f87af, "16 + 36*1 + 6*2 + 3");
    cr_expect_eq(theme_index_rgb(231), 0xffffff);
    cr_expect_eq(theme_index_rgb(232), 0x080808, "grey ramp start");
    cr_expect_eq(theme_index_rgb(255), 0xeeeeee);
}

#define RGB(v) ((theme_color){THEME_COLOR_RGB, (v)})
#define IDX(v) ((theme_color){THEME_COLOR_INDEX, (v)})

Test(theme, colours_fit_256) {
    cr_expect_eq(theme_color_fit(RGB(0x5f87af), 256), 67, "a cube colour exactly");
    cr_expect_eq(theme_color_fit(RGB(0x5f87b0), 256), 67, "nearest cube colour");
    cr_expect_eq(theme_color_fit(RGB(0x808080), 256), 244, "a mid grey goes to the grey ramp (8+10*12=128)");
    cr_expect_eq(theme_color_fit(RGB(0xff0000), 256), 196);
    cr_expect_eq(theme_color_fit(IDX(200), 256), 200, "indices stay");
    cr_expect_eq(theme_color_fit(IDX(3), 256), 3);
    cr_expect_eq(theme_color_fit((theme_color){THEME_COLOR_DEFAULT, 0}, 256), -1);
}

Test(theme, colours_fit_16_and_8) {
    cr_expect_eq(theme_color_fit(RGB(0xff0000), 16), 9, "pure red is bright red in 16");
    cr_expect_eq(theme_color_fit(RGB(0xff0000), 8), 1, "and red in 8");
    cr_expect_eq(theme_color_fit(RGB(0x0000f0), 8), 4);
    cr_expect_eq(theme_color_fit(RGB(0x101010), 16), 0);
    cr_expect_eq(theme_color_fit(RGB(0xf8f8f8), 16), 15);
    cr_expect_eq(theme_color_fit(RGB(0xf0f0f0), 8), 7);
    cr_expect_eq(theme_color_fit(IDX(12), 16), 12, "bright colours stay in 16");
    cr_expect_eq(theme_color_fit(IDX(12), 8), 4, "and lose brightness in 8");
    cr_expect_eq(theme_color_fit(IDX(46), 16), 10, "cube green (0,255,0) is bright green");
    cr_expect_eq(theme_color_fit(IDX(46), 8), 2);
    cr_expect_eq(theme_color_fit(IDX(255), 8), 7, "light grey is white");
    cr_expect_eq(theme_color_fit(IDX(234), 8), 0, "dark grey is black");
    for (int i = 0; i < 256; i++) {
        int c16 = theme_color_fit(IDX(i), 16), c8 = theme_color_fit(IDX(i), 8);
        cr_expect(c16 >= 0 && c16 < 16, "index %d -> %d", i, c16);
        cr_expect(c8 >= 0 && c8 < 8, "index %d -> %d", i, c8);
    }
}

Test(theme, greys_stay_grey_in_16_and_8) {
    cr_expect_eq(theme_color_fit(IDX(243), 8), 0, "a dark-mid grey (118) is black in 8, not yellow");
    cr_expect_eq(theme_color_fit(IDX(245), 8), 7, "a light-mid grey (138) is white");
    cr_expect_eq(theme_color_fit(IDX(244), 16), 8, "grey 128 is palette grey 8 in 16");
    cr_expect_eq(theme_color_fit(RGB(0xe0e0e0), 16), 7);
    cr_expect_eq(theme_color_fit(RGB(0xfafafa), 16), 15);
}

Test(theme, pairs_never_lose_their_text) {
    int fg, bg;
    // 235 on 255 (dark grey on near-white): black on white in 8 colours
    theme_fit_pair(IDX(235), IDX(255), 8, &fg, &bg);
    cr_expect_eq(fg, 0);
    cr_expect_eq(bg, 7);
    // 252 on 255 both become white in 8: the text turns black instead
    theme_fit_pair(IDX(252), IDX(255), 8, &fg, &bg);
    cr_expect_eq(bg, 7);
    cr_expect_eq(fg, 0, "text kept readable");
    // a light blue on a dark blue that both come out as blue: white on blue
    theme_fit_pair(RGB(0x2020d0), RGB(0x0000a0), 8, &fg, &bg);
    cr_expect_eq(bg, 4);
    cr_expect_eq(fg, 7);
    // asked for on purpose (the same colour twice): left alone
    theme_fit_pair(IDX(4), IDX(4), 8, &fg, &bg);
    cr_expect_eq(fg, 4);
    // 256 colours: different colours stay different
    theme_fit_pair(IDX(235), IDX(255), 256, &fg, &bg);
    cr_expect_eq(fg, 235);
    cr_expect_eq(bg, 255);
    theme_fit_pair((theme_color){THEME_COLOR_DEFAULT, 0}, (theme_color){THEME_COLOR_DEFAULT, 0}, 256, &fg, &bg);
    cr_expect_eq(fg, -1);
    cr_expect_eq(bg, -1);
}

Test(theme, colours_fit_direct_and_none) {
    int direct = 0x1000000;
    cr_expect_eq(theme_color_fit(RGB(0x5f87af), direct), 0x5f87af, "RGB stays RGB");
    cr_expect_eq(theme_color_fit(IDX(67), direct), 0x5f87af, "indices become their RGB value");
    cr_expect_eq(theme_color_fit(IDX(2), direct), 2, "the eight palette colours stay palette colours");
    cr_expect_eq(theme_color_fit(RGB(0x000000), direct), 8, "black is nudged out of the palette numbers");
    cr_expect_eq(theme_color_fit(RGB(0x5f87af), 0), -1, "no colours: the default");
    cr_expect_eq(theme_color_fit(IDX(3), 2), -1);
}

// The shipped themes: every role set, and colours within what the format allows.
static void check_shipped(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "themes/%s.theme", name);
    theme t;
    char err[512] = "";
    cr_assert_eq(theme_load(&t, path, err, sizeof err), 0, "%s: %s", path, err);
    for (int r = 0; r < THEME_N_ROLES; r++) cr_expect(t.role[r].set, "%s: role '%s' missing", path, theme_role_name(r));
}

Test(theme, shipped_themes_parse_with_every_role) {
    check_shipped("dark");
    check_shipped("light");
    check_shipped("mono");
    theme t;
    char err[512];
    cr_assert_eq(theme_load(&t, "themes/mono.theme", err, sizeof err), 0, "%s", err);
    for (int r = 0; r < THEME_N_ROLES; r++) {
        cr_expect_eq(t.role[r].fg.kind, THEME_COLOR_DEFAULT, "mono sets no colour (%s)", theme_role_name(r));
        cr_expect_eq(t.role[r].bg.kind, THEME_COLOR_DEFAULT, "mono sets no colour (%s)", theme_role_name(r));
    }
    // roles must stay apart without colour: frozen and trainable look different in mono
    cr_expect_neq(t.role[THEME_FROZEN].attrs, t.role[THEME_TRAINABLE].attrs);
}

Test(theme, role_names_round_trip) {
    cr_expect_str_eq(theme_role_name(THEME_BAR_EMPTY), "bar_empty");
    cr_expect_str_eq(theme_role_name(THEME_ERROR), "error");
    cr_expect_null(theme_role_name(THEME_N_ROLES));
    cr_expect_null(theme_role_name(-1));
}

// The search order (theme_dir_find): $FROST_THEMES_DIR wins even when it is missing; without it, the
// checkout's themes/ beside the program (this test binary is in build/) comes first.
Test(theme, the_themes_folder_is_found_in_order) {
    char got[4096], want[4096];
    const char *saved = getenv(THEME_DIR_ENV);
    char *keep = saved ? strdup(saved) : NULL;
    setenv(THEME_DIR_ENV, "/nonexistent/themes", 1);
    theme_dir_find(got, sizeof got);
    cr_expect_str_eq(got, "/nonexistent/themes");
    unsetenv(THEME_DIR_ENV);
    theme_dir_find(got, sizeof got);
    ssize_t n = readlink("/proc/self/exe", want, sizeof want - 1);
    cr_assert_gt(n, 0);
    want[n] = '\0';
    *strrchr(want, '/') = '\0';
    strcat(want, "/../themes");
    cr_expect_str_eq(got, want);
    char small[4];
    theme_dir_find(small, sizeof small);
    cr_expect_str_eq(small, "", "a folder whose name does not fit is none");
    if (keep) setenv(THEME_DIR_ENV, keep, 1);
    free(keep);
}
