// test_lesson.c — `frost lesson` on the command line: --list names the lessons with their steps (counted
// here from the files), --check reads one through, and a bad lesson, an unknown name or a folder that is
// no dataset each get one line on stderr and the exit status of their kind, before any screen opens.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static char *dir;
static void setup(void) { dir = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(dir);
    free(dir);
}
TestSuite(cli_lesson, .init = setup, .fini = teardown, .timeout = 60);

// The English steps of lessons/NAME.lesson, counted from the file.
static size_t steps_in(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "lessons/%s.lesson", name);
    size_t len, n = 0;
    char *text = tu_read_file(path, &len);
    cr_assert_not_null(text, "%s", path);
    for (char *p = text; (p = strstr(p, "step: ")); p++) n += p == text || p[-1] == '\n';
    free(text);
    return n;
}

Test(cli_lesson, list_names_each_lesson_with_its_steps) {
    tu_run_result r;
    tu_run_frost(&r, (const char *const[]){"lesson", "--list", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    const char *names[] = {"fine-tuning", "tutorial"};
    for (int k = 0; k < 2; k++) {
        char want[64];
        snprintf(want, sizeof want, "(%zu steps)", steps_in(names[k]));
        const char *line = strstr(r.out, names[k]);
        cr_assert(line && line[strlen(names[k])] == ' ', "%s", r.out);
        const char *eol = strchr(line, '\n');
        cr_expect(eol && eol - strlen(want) >= line && strncmp(eol - strlen(want), want, strlen(want)) == 0,
                  "%s ends its line with %s:\n%s", names[k], want, r.out);
    }
    cr_expect_lt(strstr(r.out, "fine-tuning"), strstr(r.out, "tutorial"), "in the order of their names");
    // the folder they are in, named as found (build/../lessons: the checkout's lessons/)
    const char *said = strstr(r.out, "\nthe lessons folder: ");
    cr_assert_not_null(said, "%s", r.out);
    char folder[4096], *here = realpath("lessons", NULL), *named;
    snprintf(folder, sizeof folder, "%.*s", (int)strcspn(said + 21, " "), said + 21);
    named = realpath(folder, NULL);
    cr_expect(here && named && strcmp(here, named) == 0, "the lessons folder is lessons/: %s", r.out);
    cr_expect(strstr(said, "(its README.md: how to write a lesson of your own)"), "%s", r.out);
    free(here);
    free(named);
    tu_run_free(&r);
}

Test(cli_lesson, check_reads_a_lesson_through) {
    tu_run_result r;
    tu_run_frost(&r, (const char *const[]){"lesson", "tutorial", "--check", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    char want[128];
    snprintf(want, sizeof want, "tutorial.lesson: %zu steps, every action checked\n", steps_in("tutorial"));
    cr_expect(strstr(r.out, want), "'%s' in: %s", want, r.out);
    tu_run_free(&r);
    // a dataset folder alone is the dataset (the tutorial's lesson on it)
    tu_run_frost(&r, (const char *const[]){"lesson", "sample_data", "--check", NULL});
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "tutorial.lesson: "), "%s", r.out);
    tu_run_free(&r);
}

Test(cli_lesson, a_bad_lesson_is_refused_at_its_line) {
    char path[1024];
    snprintf(path, sizeof path, "%s/bad.lesson", dir);
    const char text[] = "title: Mine\nstep: One\ntext: t\ndo: jump\n";
    cr_assert_eq(tu_write_file(path, text, strlen(text)), 0);
    char where[1100];
    snprintf(where, sizeof where, "bad.lesson:4: 'do: jump': no such action");
    tu_expect_one_line_error((const char *const[]){"lesson", "--lesson-file", path, "--check", NULL}, 1, where);
    // and without --check: refused before the screen is taken
    tu_expect_one_line_error((const char *const[]){"lesson", "--lesson-file", path, "sample_data", NULL}, 1, where);
}

Test(cli_lesson, what_is_not_there_is_said) {
    tu_expect_one_line_error((const char *const[]){"lesson", "no-such", "sample_data", NULL}, 2,
                             "no such lesson (the lessons: fine-tuning, tutorial;");
    tu_expect_one_line_error((const char *const[]){"lesson", "tutorial", "/nonexistent-folder", NULL}, 2,
                             "is not a dataset folder");
    tu_expect_one_line_error((const char *const[]){"lesson", "--list", "tutorial", NULL}, 2, "--list takes no NAME");
    char path[1024];
    snprintf(path, sizeof path, "%s/none.lesson", dir);
    tu_expect_one_line_error((const char *const[]){"lesson", "--lesson-file", path, "--check", NULL}, 1,
                             "none.lesson: No such file or directory");
}
