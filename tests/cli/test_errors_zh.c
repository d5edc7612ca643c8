// test_errors_zh.c — frost's error messages in the user's language: under LANG=zh_CN.UTF-8 (the tests'
// own locale) a bad command line is one line on stderr, "frost: " and the catalogue's Chinese for the
// English format (gettext itself on the build's catalogue: tu_zh), formatted with the same arguments;
// the same command in C.UTF-8 gives the English line.
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

TestSuite(errors_zh, .timeout = 60);

typedef const char *(*translate_fn)(const char *);

static const char *english(const char *text) { return text; }

// Runs frost with args in the language lang ("zh_CN.UTF-8" or "C.UTF-8"): its stderr, which must be
// exactly one line, and a failing exit status.
static char *fail_line(const char *lang, const char *const *args) {
    char locales[4096];
    tu_locales(locales, sizeof locales);
    setenv("LANG", lang, 1);
    setenv("LOCPATH", locales, 1);
    unsetenv("LC_ALL");
    unsetenv("LC_MESSAGES");
    unsetenv("LANGUAGE");
    tu_run_result r;
    tu_run_frost(&r, args);
    cr_expect_neq(r.status, 0, "%s: a bad command line fails", args[0]);
    cr_expect_str_empty(r.out, "nothing on stdout: %s", r.out);
    size_t len = strlen(r.err);
    cr_expect(len > 0 && r.err[len - 1] == '\n' && strchr(r.err, '\n') == r.err + len - 1,
              "exactly one line on stderr:\n%s", r.err);
    char *line = strdup(r.err);
    tu_run_free(&r);
    return line;
}

// The line frost must print: "frost: " + text + "\n".
static void expect_line(const char *got, const char *text, const char *lang) {
    char want[4096];
    snprintf(want, sizeof want, "frost: %s\n", text);
    cr_expect_str_eq(got, want, "in %s", lang);
}

// Each case: its command line and the message it must give, made with tr (english or tu_zh) from the
// English formats the source gives cli_fail/errmsg_set.
static void check(const char *const *args, void (*message)(translate_fn tr, char *out, size_t len)) {
    char zh[2048], en[2048];
    message(tu_zh, zh, sizeof zh);   // (before frost runs: tu_zh fails the test when a text is untranslated)
    message(english, en, sizeof en);
    cr_expect_str_neq(zh, en, "the Chinese message differs from the English one");
    char *line = fail_line("zh_CN.UTF-8", args);
    expect_line(line, zh, "zh_CN.UTF-8");
    free(line);
    line = fail_line("C.UTF-8", args);
    expect_line(line, en, "C.UTF-8");
    free(line);
}

// ---------------------------------------------------------------------------------------------
// the cases

// a command without its argument: cli_fail's own literal format
static void no_checkpoint(translate_fn tr, char *out, size_t len) {
    snprintf(out, len, "%s", tr("predict: which checkpoint? (frost predict CKPT IMAGE...|DIR)"));
}

Test(errors_zh, a_missing_argument) { check((const char *const[]){"predict", NULL}, no_checkpoint); }

// an option's bad value: the option table's message (cli/options.c), inside cli_fail's "%s: %s"
static void bad_batch(translate_fn tr, char *out, size_t len) {
    char what[512];
    snprintf(what, sizeof what, tr("%s needs a whole number from %ld to %ld"), "--batch", 1L, 65536L);
    snprintf(out, len, tr("%s: %s"), "train", what);
}

Test(errors_zh, a_bad_option_value) {
    check((const char *const[]){"train", "/nonexistent-folder", "--batch", "many", NULL}, bad_batch);
}

// an unknown lesson: core's message (errmsg_set in the lesson reader) inside the command's cli_fail;
// the lessons it names are the checkout's lessons/*.lesson, in order
static void no_such_lesson(translate_fn tr, char *out, size_t len) {
    char names[512] = "";
    struct dirent **list;
    int n = scandir("lessons", &list, NULL, alphasort);
    cr_assert_gt(n, 0, "the checkout's lessons/");
    for (int i = 0; i < n; i++) {
        size_t k = strlen(list[i]->d_name);
        if (k > 7 && strcmp(list[i]->d_name + k - 7, ".lesson") == 0)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%.*s", names[0] ? ", " : "", (int)(k - 7),
                     list[i]->d_name);
        free(list[i]);
    }
    free(list);
    char what[1024], err[1536];
    snprintf(what, sizeof what, tr("no such lesson (the lessons: %s; a file of your own: --lesson-file FILE)"), names);
    snprintf(err, sizeof err, tr("%s: %s"), "no-such", what);
    snprintf(out, len, tr("lesson: %s"), err);
}

Test(errors_zh, an_unknown_lesson) { check((const char *const[]){"lesson", "no-such", NULL}, no_such_lesson); }

// an unknown option, named with its command
static void unknown_option(translate_fn tr, char *out, size_t len) {
    snprintf(out, len, tr("%s: unknown option '%s' (see frost help)"), "doctor", "--no-such-option");
}

Test(errors_zh, an_unknown_option) { check((const char *const[]){"doctor", "--no-such-option", NULL}, unknown_option); }
