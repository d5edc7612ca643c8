// test_help.c — `frost help`, each command's own help (frost CMD --help, -h, frost help CMD) and its
// section of the manual, the manual itself (groff and mandoc read it without a warning; dated by the
// source), and commands before folders (frost train . inside a dataset).
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "frost_torch.h"
#include "testutil.h"
#include "weights.h"

// What a checker of roff says of the page: cmd_fmt ("groff ... '%s'") run on it written to a file;
// its output (malloc'd), its exit status in *status.
static char *check_page(const char *page_text, const char *cmd_fmt, int *status) {
    char *dir = tu_tmpdir(), page[1024], cmd[4096];
    snprintf(page, sizeof page, "%s/frost.1", dir);
    cr_assert_eq(tu_write_file(page, page_text, strlen(page_text)), 0);
    snprintf(cmd, sizeof cmd, cmd_fmt, page);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char *out = calloc(1, 4096);
    size_t got = fread(out, 1, 4095, p);
    out[got] = '\0';
    int rc = pclose(p);
    *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
    tu_rmtree(dir);
    free(dir);
    return out;
}

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

    int status;
    char *warnings = check_page(m.out, "groff -man -Tutf8 -ww -z '%s' 2>&1", &status);
    cr_expect_eq(status, 0, "groff failed (is groff-base installed?): %s", warnings);
    cr_expect_str_eq(warnings, "", "groff warns");
    free(warnings);
    tu_run_free(&h);
    tu_run_free(&m);
}

Test(cli_help, help_refuses_an_unknown_option) {
    tu_expect_one_line_error((const char *[]){"help", "--mann", NULL}, 2, "help: unknown option '--mann'");
}

// ---------------------------------------------------------------------------------------------
// each command's own help: `frost CMD --help`, `-h` and `frost help CMD`

// Every command of the table, as a user types it (a group's commands with their group's word).
static const char *const COMMANDS[] = {"print",         "summary",
                                       "doctor",        "bench-data",
                                       "train",         "lr-find",
                                       "bench-forward", "predict",
                                       "clean",         "export",
                                       "weights list",  "weights fetch",
                                       "weights path",  "weights check",
                                       "cache list",    "cache clear",
                                       "runs list",     "runs show",
                                       "runs diff",     "runs again",
                                       "runs rm",       "runs export",
                                       "lesson",        "help",
                                       "--version",     NULL};

// argv for `frost WORDS... EXTRA` (WORDS split at spaces), in a static buffer.
static const char **words_then(const char *words, const char *extra, const char *before) {
    static char buf[256];
    static const char *argv[8];
    snprintf(buf, sizeof buf, "%s", words);
    int n = 0;
    if (before) argv[n++] = before;
    for (char *w = strtok(buf, " "); w; w = strtok(NULL, " ")) argv[n++] = w;
    if (extra) argv[n++] = extra;
    argv[n] = NULL;
    return argv;
}

// The man page's text without roff's escapes and font changes (\- is -, \e is \, \fB.. go).
static char *man_plain(const char *roff) {
    char *out = malloc(strlen(roff) + 1), *o = out;
    for (const char *p = roff; *p; p++) {
        if (p[0] == '\\' && p[1] == '-')
            *o++ = '-', p++;
        else if (p[0] == '\\' && p[1] == 'e')
            *o++ = '\\', p++;
        else if (p[0] == '\\' && p[1] == '&')
            p++;
        else if (p[0] == '\\' && p[1] == 'f' && p[2])
            p += 2;
        else
            *o++ = *p;
    }
    *o = '\0';
    return out;
}

// 1 when name appears in the synopsis outside brackets: the command needs it, it has no default.
static int required_in(const char *synopsis, const char *name) {
    int depth = 0;
    size_t n = strlen(name);
    for (const char *p = synopsis; *p; p++) {
        depth += *p == '[';
        depth -= *p == ']';
        if (depth == 0 && strncmp(p, name, n) == 0 && !isalnum((unsigned char)p[n]) && p[n] != '-') return 1;
    }
    return 0;
}

Test(cli_help, every_command_has_its_help_with_defaults_and_examples) {
    tu_run_result m;
    tu_run_frost(&m, (const char *[]){"help", "--man", NULL});
    cr_assert_eq(m.status, 0, "%s", m.err);
    char *man = man_plain(m.out);
    int commands = 0;
    for (const char *const *c = COMMANDS; *c; c++, commands++) {
        tu_run_result h;
        tu_run_frost(&h, words_then(*c, "--help", NULL));
        cr_expect_eq(h.status, 0, "frost %s --help: exit %d, %s", *c, h.status, h.err);
        cr_expect_str_eq(h.err, "", "frost %s --help", *c);
        // the other two ways say the same (a few commands: each start of frost loads libtorch)
        if (strcmp(*c, "train") == 0 || strcmp(*c, "weights check") == 0 || strcmp(*c, "--version") == 0) {
            tu_run_result s, w;
            tu_run_frost(&s, words_then(*c, "-h", NULL));
            tu_run_frost(&w, words_then(*c, NULL, "help"));
            cr_expect_str_eq(s.out, h.out, "frost %s -h is --help", *c);
            cr_expect_eq(s.status, 0);
            cr_expect_str_eq(w.out, h.out, "frost help %s is frost %s --help", *c, *c);
            cr_expect_eq(w.status, 0, "frost help %s: %s", *c, w.err);
            tu_run_free(&s);
            tu_run_free(&w);
        }
        char usage[128];
        snprintf(usage, sizeof usage, "usage: frost %s", *c);
        cr_expect(strncmp(h.out, usage, strlen(usage)) == 0, "frost %s --help:\n%s", *c, h.out);
        // the synopsis (up to the first blank line), then the options: each with its meaning, and
        // its default unless it is a flag or the synopsis requires it; the same words in the manual
        const char *blank = strstr(h.out, "\n\n");
        cr_assert_not_null(blank, "%s", h.out);
        char synopsis[2048];
        snprintf(synopsis, sizeof synopsis, "%.*s", (int)(blank - h.out), h.out);
        const char *opts = strstr(h.out, "\noptions:\n"), *ex = strstr(h.out, "\nexamples:\n");
        cr_expect_not_null(ex, "frost %s --help has no examples:\n%s", *c, h.out);
        // the command's section of the manual: from its heading to the next
        char heading[128];
        snprintf(heading, sizeof heading, "\n.SS \"%s", *c);
        const char *sec = strstr(man, heading);
        cr_assert_not_null(sec, "no section %s in the manual", *c);
        const char *sec_end = strstr(sec + 1, "\n.S");
        char *section = strndup(sec, sec_end ? (size_t)(sec_end - sec) : strlen(sec));
        // option lines: "  --name VALUE", the meaning from column 28 (on the next line when the name is
        // longer), continued on lines indented to it
        for (const char *line = opts ? opts + 10 : NULL; line && strncmp(line, "  --", 4) == 0;) {
            char name[64] = "", value[128] = "", text[1024] = "";
            sscanf(line + 2, "%63s", name);
            const char *after = line + 2 + strlen(name);
            if (after[0] == ' ' && after[1] != ' ') sscanf(after, "%127s", value);
            const char *end = strchr(line, '\n');
            cr_assert_not_null(end);
            int same_line = end - line > 28 && line[26] == ' ' && line[27] == ' ';
            const char *t = same_line ? line + 28 : end + 1 + 28;
            if (!same_line) end = strchr(end + 1, '\n');
            snprintf(text, sizeof text, "%.*s", (int)(end - t), t);
            while (strncmp(end + 1, "                            ", 28) == 0) {   // continued
                const char *next = strchr(end + 1, '\n');
                snprintf(text + strlen(text), sizeof text - strlen(text), " %.*s", (int)(next - end - 29), end + 29);
                end = next;
            }
            if (value[0] && !required_in(synopsis, name))
                cr_expect(strstr(text, "(default: "), "frost %s: %s says no default: '%s'", *c, name, text);
            cr_expect_gt(strlen(text), 8, "frost %s: %s says what it does", *c, name);
            cr_expect(strstr(section, text) != NULL, "the manual's %s section lacks %s's '%s'", *c, name, text);
            line = end + 1;
        }
        for (const char *line = ex ? ex + 11 : NULL; line && strncmp(line, "  frost ", 8) == 0;) {
            const char *end = strchr(line, '\n');
            char example[512];
            snprintf(example, sizeof example, "%.*s", (int)(end - line - 2), line + 2);
            cr_expect(strstr(section, example) != NULL, "the manual's %s section lacks the example '%s'", *c, example);
            line = end + 1;
        }
        free(section);
        tu_run_free(&h);
    }
    // and no command is left out of this list: the manual has a section for each of them, and no more
    int sections = 0;
    for (const char *p = strstr(man, "\n.SS \""); p; p = strstr(p + 1, "\n.SS \"")) sections++;
    cr_expect_eq(sections, commands, "the manual has %d command sections, the list here %d", sections, commands);
    // "seed" is only --seed's (the random seed): the tutorial is called the tutorial
    for (const char *p = strstr(man, "seed"); p; p = strstr(p + 1, "seed"))
        cr_expect((p - man >= 2 && strncmp(p - 2, "--seed", 6) == 0) ||
                      (p - man >= 7 && strncmp(p - 7, "random seed", 11) == 0),
                  "the manual says 'seed' for something else than the random seed: ...%.60s...",
                  p - man > 30 ? p - 30 : man);
    free(man);
    tu_run_free(&m);
    // a group's word alone lists its commands; an unknown one is refused in one line
    tu_run_result g;
    tu_run_frost(&g, (const char *[]){"weights", "--help", NULL});
    cr_expect_eq(g.status, 0, "%s", g.err);
    cr_expect(strstr(g.out, "usage: frost weights fetch") && strstr(g.out, "usage: frost weights check"), "%s", g.out);
    tu_run_free(&g);
    tu_expect_one_line_error((const char *[]){"help", "nosuch", NULL}, 2, "help: no command 'nosuch'");
}

// The manual page lints clean in mandoc (as in groff, above), and its date is the source's: the last
// commit's (UTC) in a git checkout, so that the same source makes the same page.
Test(cli_help, man_page_lints_clean_and_is_dated_by_the_source) {
    tu_run_result m;
    tu_run_frost(&m, (const char *[]){"help", "--man", NULL});
    cr_assert_eq(m.status, 0, "%s", m.err);
    int status;
    char *lint = check_page(m.out, "mandoc -T lint -W warning '%s' 2>&1", &status);
    cr_expect(status == 0 && !lint[0], "mandoc (is mandoc installed?): %s", lint);
    free(lint);

    char date[16] = "";
    cr_assert_eq(sscanf(m.out, ".TH FROST 1 \"%10[0-9-]\"", date), 1, "%.80s", m.out);
    cr_expect_eq(strlen(date), 10, "a YYYY-MM-DD date: %s", date);
    // what the build was given: SOURCE_DATE_EPOCH, else the commit (the suite runs in the checkout)
    const char *epoch = getenv("SOURCE_DATE_EPOCH");
    FILE *g = epoch && *epoch ? NULL : popen("git log -1 --format=%ct 2>/dev/null", "r");
    long long t = epoch && *epoch ? atoll(epoch) : -1;
    if (g) {
        if (fscanf(g, "%lld", &t) != 1) t = -1;
        pclose(g);
    }
    cr_assert_geq(t, 0, "the suite runs in a git checkout (or with SOURCE_DATE_EPOCH)");
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    char want[16];
    strftime(want, sizeof want, "%Y-%m-%d", &tm);
    cr_expect_str_eq(date, want, "the page's date is the last commit's");
    tu_run_free(&m);
}

// The manual in Chinese, as the build makes build/zh_CN/frost.1 (in the zh_CN.UTF-8 locale): its
// headings, paragraphs and tables are the catalogue's, it has every command's section as the English
// one does, and it lints as clean.
Test(cli_help, the_chinese_manual_is_the_catalogues_and_lints_clean) {
    tu_run_result en;
    tu_run_frost(&en, (const char *[]){"help", "--man", NULL});
    cr_assert_eq(en.status, 0, "%s", en.err);
    const char *const texts[] = {"DESCRIPTION",
                                 "COMMANDS",
                                 "ENVIRONMENT",
                                 "EXIT STATUS",
                                 "SEE ALSO",
                                 "the command line was wrong",
                                 "1: the interface draws with plain ASCII instead of Unicode"};
    const size_t n = sizeof texts / sizeof texts[0];
    const char *zh[sizeof texts / sizeof texts[0]];
    for (size_t k = 0; k < n; k++) zh[k] = tu_zh(texts[k]);
    char locales[4096];
    tu_locales(locales, sizeof locales);
    setenv("LOCPATH", locales, 1);
    setenv("LC_ALL", "zh_CN.UTF-8", 1);
    unsetenv("LANGUAGE");
    tu_run_result m;
    tu_run_frost(&m, (const char *[]){"help", "--man", NULL});
    cr_assert_eq(m.status, 0, "%s", m.err);
    for (size_t k = 0; k < n; k++) {
        char line[512];
        snprintf(line, sizeof line, k < 5 ? "\n.SH %s\n" : "\n%s\n", zh[k]);
        cr_expect(strstr(m.out, line) != NULL, "the manual has '%s' in Chinese: %s", texts[k], zh[k]);
        snprintf(line, sizeof line, k < 5 ? "\n.SH %s\n" : "\n%s\n", texts[k]);
        cr_expect(strstr(m.out, line) == NULL, "no '%s' left in English", texts[k]);
    }
    int sections[2] = {0, 0};
    for (int k = 0; k < 2; k++)
        for (const char *p = strstr(k ? m.out : en.out, "\n.SS \""); p; p = strstr(p + 1, "\n.SS \"")) sections[k]++;
    cr_expect(sections[0] > 20 && sections[1] == sections[0], "every command's section: %d in English, %d in Chinese",
              sections[0], sections[1]);
    int status;
    char *lint = check_page(m.out, "mandoc -T lint -W warning '%s' 2>&1", &status);
    cr_expect(status == 0 && !lint[0], "mandoc: %s", lint);
    free(lint);
    tu_run_free(&m);
    tu_run_free(&en);
}

// ---------------------------------------------------------------------------------------------
// commands come first, as in git: a dataset folder holds train/, and `frost train .` there trains

Test(cli_help, a_command_wins_over_a_folder_of_its_name, .timeout = 240) {
    char *root = tu_tmpdir();
    for (int k = 0; k < 4; k++)
        for (int cls = 0; cls < 2; cls++) {
            char path[2048];
            snprintf(path, sizeof path, "%s/%s/%s/%d.jpg", root, k < 3 ? "train" : "valid", cls ? "b" : "a", k);
            cr_assert_eq(tu_write_class_jpeg(path, cls, k), 0);
        }
    tu_run_result r;
    tu_run_frost_with(&r,
                      (const char *[]){"train", ".", "--arch", "resnet18", "--epochs", "1", "--size", "32", "--batch",
                                       "2", "--cache", "off", "--bn", "train", "--norm", "0.5", NULL},
                      &(tu_run_opts){.cwd = root});
    cr_expect_eq(r.status, 0, "frost train . inside the dataset:\n%s%s", r.out, r.err);
    cr_expect(strstr(r.out, "Epoch 1/1"), "%s", r.out);
    // what the run says of BatchNorm in train mode names the tutorial (users cannot know "the seed")
    cr_expect(strstr(r.out, "running statistics updated, as the tutorial's"), "%s", r.out);
    cr_expect(!strstr(r.out, "seed") && !strstr(r.err, "seed"), "%s%s", r.out, r.err);
    tu_run_free(&r);
    // the folder itself, as a path: the interface (which, without a terminal, says so and stops)
    tu_run_frost_with(&r, (const char *[]){"./train", NULL}, &(tu_run_opts){.cwd = root});
    cr_expect_neq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.err, "the interface needs a terminal"), "frost ./train opens the interface: %s", r.err);
    tu_run_free(&r);
    // and help says how
    tu_run_frost(&r, (const char *[]){"help", NULL});
    cr_expect(strstr(r.out, "frost ./train"), "%s", r.out);
    tu_run_free(&r);
    tu_rmtree(root);
    free(root);
}

// In Chinese (LANG=zh_CN.UTF-8, the tests' own locale): `frost train --help` is the catalogue's text
// (gettext on the build's catalogue), laid out by display width as the English is: every option's
// line within 80 columns, its meaning from column 28, its continuation lines too.
Test(cli_help, help_in_chinese_lines_up_and_is_the_catalogues) {
    char locales[4096];
    tu_locales(locales, sizeof locales);
    const char *options = tu_zh("options:"), *adam = tu_zh("Adam or SGD");
    setenv("LANG", "zh_CN.UTF-8", 1);
    setenv("LOCPATH", locales, 1);
    unsetenv("LC_ALL");
    unsetenv("LC_MESSAGES");
    unsetenv("LANGUAGE");
    tu_run_result r;
    tu_run_frost(&r, (const char *const[]){"train", "--help", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, options) != NULL, "the headings are Chinese:\n%s", r.out);
    cr_expect(strstr(r.out, adam) != NULL, "the options' texts are Chinese:\n%s", r.out);
    int option_lines = 0;
    for (const char *line = r.out; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] == '\n')) {
        size_t n = strcspn(line, "\n");
        if (strncmp(line, "  --", 4) != 0 && strncmp(line, "                            ", 28) != 0) continue;
        // (the synopsis and the examples are command lines, never broken: the options' texts are)
        cr_expect_leq(tu_columns(line, n), 80, "within 80 columns: %.*s", (int)n, line);
        // the meaning: the first text after the option and its value, or the continuation's
        const char *p = line + 2;
        if (*p == '-') {
            p += strcspn(p, " \n");                                         // the option
            if (*p == ' ' && p[1] != ' ') p += 1 + strcspn(p + 1, " \n");   // its value
        }
        while (*p == ' ') p++;
        if (p >= line + n) continue;   // a long option alone on its line: the meaning is on the next
        cr_expect_eq(tu_columns(line, (size_t)(p - line)), 28, "the meaning starts in column 28: %.*s", (int)n, line);
        option_lines++;
    }
    cr_expect_gt(option_lines, 20, "train has many options:\n%s", r.out);
    tu_run_free(&r);
}
