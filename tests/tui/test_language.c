// test_language.c — the interface in the user's language: on a dataset whose class and file names
// are Chinese, at 80x24, in English (C.UTF-8) and in Chinese (zh_CN.UTF-8, a locale the build makes
// with localedef: FROST_LOCALES), the real binary in tmux. Checked on the screen: the texts are the
// catalogue's (po/zh_CN.po, read here with gettext itself: the oracle for what each text is in
// Chinese), and every list lines up by display width (wcswidth in a UTF-8 locale: what the terminal
// gives each character) — the class counts end in one column, the Train form's values start in one,
// the key bar fits the width. Anything without a catalogue stays English.
#include <criterion/criterion.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "tmux_util.h"

static char *root;
static const char *const CLASSES[] = {"cat", "狗狗", "猫咪"};   // (in the order frost sorts them: by bytes)

static void setup(void) {
    setlocale(LC_CTYPE, "C.UTF-8");
    root = tu_tmpdir();
    const char *const files[][2] = {
        {"c1.jpg", "c2.jpg"}, {"小狗1.jpg", "小狗2.jpg"}, {"小猫第1张照片.jpg", "小猫第2张.jpg"}};
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 2; k++)
            for (int s = 0; s < 2; s++) {
                char path[1024];
                snprintf(path, sizeof path, "%s/%s/%s/%s", root, s ? "valid" : "train", CLASSES[c], files[c][k]);
                tu_mkdirs_for(path);
                cr_assert_eq(tu_write_class_jpeg(path, c, k), 0);
            }
}

static void teardown(void) {
    tmux_stop();
    tu_rmtree(root);
    free(root);
}

TestSuite(tui_language, .init = setup, .fini = teardown, .timeout = 120);

// frost on the dataset in LANG=lang (with LOCPATH for the build's zh_CN locale), at 80x24.
static void start(const char *lang, const char *extra) {
    char env[6000], args[1100], locales[4096];
    tu_locales(locales, sizeof locales);
    snprintf(env, sizeof env, "LANG=%s LOCPATH=%s LANGUAGE= %s", lang, locales, extra ? extra : "");
    snprintf(args, sizeof args, "'\"'\"'%s'\"'\"'", root);
    tmux_start(args, 80, 24, env);
}

// The screen's row that starts (after blanks) with text, or NULL; its length in *len.
static const char *row_with(const char *screen, const char *text, size_t *len) {
    for (const char *line = screen; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        const char *p = line;
        while (*p == ' ') p++;
        const char *end = strchr(line, '\n');
        if (strncmp(p, text, strlen(text)) == 0) {
            *len = end ? (size_t)(end - line) : strlen(line);
            return line;
        }
    }
    return NULL;
}

// Every class row of the Data screen's tree ends its count in one column (train and valid alike);
// returns that column.
static int count_column(const char *screen) {
    int col = -1, rows = 0;
    for (const char *line = screen; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        for (int c = 0; c < 3; c++) {
            size_t n = strlen(CLASSES[c]);
            if (strncmp(line, "  ", 2) != 0 || strncmp(line + 2, CLASSES[c], n) != 0 || line[2 + n] != ' ') continue;
            const char *p = line + 2 + n;
            while (*p == ' ') p++;
            cr_assert(*p == '2', "class %s shows its 2 images: %.60s", CLASSES[c], line);
            int here = tu_columns(line, (size_t)(p + 1 - line));
            if (col < 0) col = here;
            cr_expect_eq(here, col, "the count of %s ends in column %d, the others' in %d", CLASSES[c], here, col);
            rows++;
        }
    }
    cr_expect_eq(rows, 6, "three classes in train and in valid");
    return col;
}

// The Train form's row for field name: its value starts in column 15 (after the name, padded to 14
// columns, and a blank), and is value.
static void expect_field(const char *screen, const char *name, const char *value) {
    size_t len;
    const char *row = row_with(screen, name, &len);
    cr_assert_not_null(row, "the form has the field %s:\n%s", name, screen);
    const char *v = strstr(row, value);
    cr_assert(v && v < row + len, "%s shows %s: %.*s", name, value, (int)len, row);
    cr_expect_eq(tu_columns(row, (size_t)(v - row)), 15, "%s's value starts in column 15: %.*s", name, (int)len, row);
}

// The last row (the key bar) takes at most the window's 80 columns, and holds text.
static void expect_key_bar(const char *screen, const char *text) {
    const char *last = screen, *p;
    while ((p = strchr(last, '\n')) && p[1]) last = p + 1;
    size_t n = strcspn(last, "\n");
    cr_expect_leq(tu_columns(last, n), 80, "the key bar fits 80 columns: %.*s", (int)n, last);
    cr_expect(strstr(last, text) != NULL && strstr(last, text) < last + n, "the key bar says %s: %.*s", text, (int)n,
              last);
}

Test(tui_language, chinese_names_line_up_in_english) {
    start("C.UTF-8", NULL);
    cr_assert(tmux_wait_for("[1 Data]", 30), "%s", tmux_screen(0));
    cr_assert(tmux_wait_for("猫咪", 10), "%s", tmux_screen(0));
    char *screen = strdup(tmux_screen(0));
    count_column(screen);
    expect_key_bar(screen, "help");
    free(screen);
    tmux_keys("Down Down");   // from the first class of train to the third, 猫咪: its files beside the tree
    cr_assert(tmux_wait_for("小猫第1张照片.jpg", 10), "the Chinese file name whole: %s", tmux_screen(0));
    tmux_keys("3");
    cr_assert(tmux_wait_for("epochs", 10), "%s", tmux_screen(0));
    screen = strdup(tmux_screen(0));
    expect_field(screen, "epochs", "5");
    expect_field(screen, "batch", "16");
    expect_field(screen, "learning rate", "1e-05");
    free(screen);
}

Test(tui_language, the_interface_in_chinese_lines_up) {
    start("zh_CN.UTF-8", NULL);
    char title[64];
    snprintf(title, sizeof title, "[%s]", tu_zh("1 Data"));
    cr_assert(tmux_wait_for(title, 30), "the title says %s: %s", title, tmux_screen(0));
    cr_assert(tmux_wait_for("猫咪", 10), "%s", tmux_screen(0));
    char *screen = strdup(tmux_screen(0));
    count_column(screen);
    expect_key_bar(screen, tu_zh("help"));
    cr_expect(strstr(screen, "[1 Data]") == NULL);
    free(screen);
    tmux_keys("Down Down");
    cr_assert(tmux_wait_for("小猫第1张照片.jpg", 10), "the Chinese file name whole: %s", tmux_screen(0));
    tmux_keys("3");
    cr_assert(tmux_wait_for(tu_zh("epochs"), 10), "%s", tmux_screen(0));
    screen = strdup(tmux_screen(0));
    expect_field(screen, tu_zh("epochs"), "5");
    expect_field(screen, tu_zh("batch"), "16");
    expect_field(screen, tu_zh("learning rate"), "1e-05");
    expect_field(screen, tu_zh("optimizer"), "adam");
    expect_key_bar(screen, tu_zh("start"));
    free(screen);
    tmux_keys("?");
    cr_assert(tmux_wait_for(tu_zh("Keys (any key closes this help)"), 10), "%s", tmux_screen(0));
    // (at 80x24 the help shows its first keys: the lesson's, labelled, come before the screens' own)
    cr_expect(tmux_wait_for(tu_zh("[Lesson] "), 5), "the screens' labels too: %s", tmux_screen(0));
    cr_expect(tmux_wait_for(tu_zh("page down"), 5), "%s", tmux_screen(0));
}

Test(tui_language, without_a_catalogue_it_stays_english) {
    // zh_CN asked for, but the catalogues' folder holds none: every text is the English one
    char *empty = tu_tmpdir(), extra[1200];
    snprintf(extra, sizeof extra, "FROST_LOCALEDIR=%s", empty);
    start("zh_CN.UTF-8", extra);
    cr_expect(tmux_wait_for("[1 Data]", 30), "%s", tmux_screen(0));
    cr_expect(tmux_wait_for("help", 5), "%s", tmux_screen(0));
    tmux_stop();
    tu_rmtree(empty);
    free(empty);
}
