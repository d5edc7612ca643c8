// test_help.c — `frost help` and --help.
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost_torch.h"
#include "testutil.h"
#include "weights.h"

Test(cli_help, help) {
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"--help", NULL});
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "print ARCH") && strstr(r.out, "resnet152"));
    tu_run_free(&r);
}

// The manual page comes from the same tables as help: every option help names is an entry of it,
// each entry says what it does, and groff reads it without a warning.
Test(cli_help, man_page_lists_every_option_and_renders) {
    tu_run_result h, m;
    tu_run_frost(&h, (const char *[]){"help", NULL});
    tu_run_frost(&m, (const char *[]){"help", "--man", NULL});
    cr_assert_eq(h.status, 0);
    cr_assert_eq(m.status, 0, "%s", m.err);
    cr_expect(strncmp(m.out, ".TH FROST 1 ", 12) == 0, "%.200s", m.out);

    // every --option in help's text is a .TP entry (\fB\-\-name\fR) of the page
    int options = 0;
    for (const char *p = strstr(h.out, "--"); p; p = strstr(p + 2, "--")) {
        if (p > h.out && (isalnum((unsigned char)p[-1]) || p[-1] == '-')) continue;
        char name[64] = "";
        size_t n = 2 + strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");
        if (n <= 2 || n >= sizeof name) continue;
        memcpy(name, p, n);
        name[n] = '\0';
        if (strcmp(name, "--help") == 0 || strcmp(name, "--version") == 0) continue;   // commands, not options
        char entry[160] = "\n.TP\n\\fB";
        size_t at = strlen(entry);
        for (const char *c = name; *c; c++) {
            if (*c == '-') entry[at++] = '\\';
            entry[at++] = *c;
        }
        snprintf(entry + at, sizeof entry - at, "\\fR");
        cr_expect(strstr(m.out, entry) != NULL, "the manual lacks %s", name);
        options++;
    }
    cr_expect_gt(options, 30, "help names the options");
    // every command of help is a section
    for (const char *const *c =
             (const char *const[]){"print", "summary", "doctor", "bench-data", "train", "bench-forward", "predict",
                                   "weights list", "weights fetch", "weights path", "weights check", NULL};
         *c; c++) {
        char section[64] = ".SS \"";
        size_t at = strlen(section);
        for (const char *s = *c; *s; s++) {
            if (*s == '-') section[at++] = '\\';
            section[at++] = *s;
        }
        section[at] = '\0';
        cr_expect(strstr(m.out, section) != NULL, "no section for %s", *c);
    }
    // no entry without its description
    for (const char *p = strstr(m.out, "\n.TP\n"); p; p = strstr(p + 1, "\n.TP\n")) {
        const char *desc = strchr(p + 5, '\n');
        cr_assert_not_null(desc);
        cr_expect(desc[1] && desc[1] != '\n' && desc[1] != '.', "an entry without a description: %.80s", p + 5);
    }

    char *dir = tu_tmpdir(), page[1024], cmd[4096];
    snprintf(page, sizeof page, "%s/frost.1", dir);
    FILE *f = fopen(page, "w");
    cr_assert_not_null(f);
    fputs(m.out, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "groff -man -Tutf8 -ww -z '%s' 2>&1", page);
    FILE *g = popen(cmd, "r");
    cr_assert_not_null(g);
    char warnings[4096] = "";
    size_t got = fread(warnings, 1, sizeof warnings - 1, g);
    warnings[got] = '\0';
    cr_expect_eq(pclose(g), 0, "groff failed (is groff-base installed?): %s", warnings);
    cr_expect_eq(got, 0, "groff warns: %s", warnings);
    tu_rmtree(dir);
    free(dir);
    tu_run_free(&h);
    tu_run_free(&m);
}

Test(cli_help, help_refuses_an_unknown_option) {
    tu_expect_one_line_error((const char *[]){"help", "--mann", NULL}, 2, "help: unknown option '--mann'");
}
