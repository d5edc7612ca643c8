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
    // (at 80x24 the help scrolls: its title says so; the part after its numbers is compared)
    const char *help_title = tu_zh("Keys %d-%d of %d (Up/Down, PgUp/PgDn scroll; any other key closes this help)");
    cr_assert(tmux_wait_for(strrchr(help_title, 'd') + 1, 10), "%s", tmux_screen(0));
    cr_expect(tmux_wait_for(tu_zh("[Model] "), 5), "the screens' labels too: %s", tmux_screen(0));
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

// The display column where needle starts in row (of len bytes), or -1.
static int column_of(const char *row, size_t len, const char *needle) {
    const char *at = strstr(row, needle);
    return at && at < row + len ? tu_columns(row, (size_t)(at - row)) : -1;
}

// The Predict and Runs screens with the Chinese class names, in language lang: a short run, then the
// evaluation. The confusion matrix's rows start with the class names and end each count under its
// column's name (the header's class names end in the columns the counts end in); the Runs table's
// ARCH column starts in one column in its header and in the run's row. At 80x24, like the rest.
static void predict_and_runs_line_up(const char *lang) {
    char *data_home = tu_tmpdir(), extra[1200];
    snprintf(extra, sizeof extra, "XDG_DATA_HOME=%s FROST_RUNS=1", data_home);
    start(lang, extra);
    int zh = strncmp(lang, "zh", 2) == 0;
    const char *T = zh ? tu_zh("3 Train") : "3 Train";
    tmux_keys("3");
    cr_assert(tmux_wait_for(T, 30), "%s", tmux_screen(0));
    // 2 epochs (Left from 5 is 3, then 2), 64x64 (Left from 224: 160, 112, 64): a short run
    tmux_keys("Down Left Left Down Down Down Down Left Left Left Enter");
    cr_assert(tmux_wait_for(zh ? tu_zh("training complete") : "training complete", 180), "%s", tmux_screen(0));
    tmux_keys("4");
    tmux_keys("e");
    const char *acc = zh ? tu_zh("accuracy") : "accuracy";
    cr_assert(tmux_wait_for(zh ? "混淆矩阵" : "confusion matrix", 120), "%s", tmux_screen(0));
    char *screen = strdup(tmux_screen(0));
    // the header: the class names right-aligned over their columns, then the accuracy
    size_t hlen;
    const char *header = NULL;
    for (const char *line = screen; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        size_t n = strcspn(line, "\n");
        if (column_of(line, n, acc) > 0 && column_of(line, n, CLASSES[1]) > 0) {
            header = line, hlen = n;
            break;
        }
    }
    cr_assert_not_null(header, "the confusion matrix's header:\n%s", screen);
    int rows = 0;
    for (int c = 0; c < 3; c++) {
        size_t len;
        const char *row = row_with(screen, CLASSES[c], &len);
        // the header row itself starts with blanks: a row is the one that starts with the name
        for (const char *line = screen; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
            if (strncmp(line, CLASSES[c], strlen(CLASSES[c])) == 0 && line != header)
                row = line, len = strcspn(line, "\n");
        cr_assert_not_null(row, "the row of %s:\n%s", CLASSES[c], screen);
        // each count ends where its column's class name ends in the header
        const char *p = row + strlen(CLASSES[c]);
        for (int k = 0; k < 3; k++) {
            while (*p == ' ') p++;
            const char *end = p;
            while (*end >= '0' && *end <= '9') end++;
            cr_assert(end > p, "a count in: %.*s", (int)len, row);
            int name_end = column_of(header, hlen, CLASSES[k]) + tu_columns(CLASSES[k], strlen(CLASSES[k]));
            cr_expect_eq(tu_columns(row, (size_t)(end - row)), name_end,
                         "%s's count of %s ends under its name:\n%.*s\n%.*s", CLASSES[c], CLASSES[k], (int)hlen, header,
                         (int)len, row);
            p = end;
        }
        rows++;
    }
    cr_expect_eq(rows, 3);
    free(screen);
    expect_key_bar(tmux_screen(0), zh ? tu_zh("evaluate") : "evaluate");
    tmux_keys("5");
    const char *arch = zh ? tu_zh("ARCH") : "ARCH";
    cr_assert(tmux_wait_for("resnet18", 30), "%s", tmux_screen(0));
    screen = strdup(tmux_screen(0));
    size_t len;
    const char *head = NULL, *run = NULL;
    for (const char *line = screen; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        size_t n = strcspn(line, "\n");
        if (!head && column_of(line, n, arch) >= 0) head = line, hlen = n;
        if (!run && column_of(line, n, "resnet18") >= 0) run = line, len = n;
    }
    cr_assert(head && run, "the Runs table:\n%s", screen);
    cr_expect_eq(column_of(run, len, "resnet18"), column_of(head, hlen, arch), "ARCH in one column:\n%.*s\n%.*s",
                 (int)hlen, head, (int)len, run);
    free(screen);
    tu_rmtree(data_home);
    free(data_home);
}

Test(tui_language, predict_and_runs_line_up_in_english, .timeout = 300) { predict_and_runs_line_up("C.UTF-8"); }
Test(tui_language, predict_and_runs_line_up_in_chinese, .timeout = 300) { predict_and_runs_line_up("zh_CN.UTF-8"); }
