// test_catalogue.c — the build's check of the translations (Makefile, po rule): a catalogue with a
// text left untranslated, or fuzzy, or whose printf arguments differ from the English text's, fails
// the build with a message naming it, and nothing is written; the catalogue as committed builds.
// Each case is a copy of po/zh_CN.po with one change, built by make into a folder of the test's.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "fixtures.h"
#include "testutil.h"

static char *dir;

static void setup(void) { dir = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(dir);
    free(dir);
}

TestSuite(catalogue, .init = setup, .fini = teardown, .timeout = 120);

// po/zh_CN.po with the first occurrence of from replaced by to ("" "": as it is), into DIR/po/.
static void write_po(const char *from, const char *to) {
    char *po = tu_read_file("po/zh_CN.po", NULL);
    cr_assert_not_null(po, "po/zh_CN.po (the tests run in the checkout)");
    char path[1200];
    snprintf(path, sizeof path, "%s/po/zh_CN.po", dir);
    tu_mkdirs_for(path);
    char *at = from[0] ? strstr(po, from) : NULL;
    cr_assert(!from[0] || at, "po/zh_CN.po holds %s", from);
    size_t len = strlen(po), out_len = at ? len - strlen(from) + strlen(to) : len;
    char *out = malloc(out_len + 1);
    if (at) {
        size_t head = (size_t)(at - po);
        memcpy(out, po, head);
        memcpy(out + head, to, strlen(to));
        strcpy(out + head + strlen(to), at + strlen(from));
    } else {
        strcpy(out, po);
    }
    cr_assert_eq(tu_write_file(path, out, out_len), 0);
    free(out);
    free(po);
}

// make builds DIR/build/locale/zh_CN/LC_MESSAGES/frost.mo from DIR/po: its exit status, its output
// in out (malloc'd).
static int build_mo(char **out) {
    char cmd[4096], mo[1200];
    // (the packages are installed: the build's step that installs them is marked done)
    snprintf(cmd, sizeof cmd, "mkdir -p %s/build && touch %s/build/.deps-build", dir, dir);
    cr_assert_eq(system(cmd), 0);
    snprintf(mo, sizeof mo, "%s/build/locale/zh_CN/LC_MESSAGES/frost.mo", dir);
    snprintf(cmd, sizeof cmd, "make -s --no-print-directory PO_DIR=%s/po BUILD=%s/build %s 2>&1", dir, dir, mo);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t cap = 1 << 16, len = 0;
    *out = malloc(cap);
    for (size_t n; (n = fread(*out + len, 1, cap - len - 1, p)) > 0;) len += n;
    (*out)[len] = '\0';
    int rc = pclose(p);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

static int mo_exists(void) {
    char mo[1200];
    snprintf(mo, sizeof mo, "%s/build/locale/zh_CN/LC_MESSAGES/frost.mo", dir);
    return fx_exists(mo);
}

Test(catalogue, the_committed_catalogue_builds) {
    write_po("", "");
    char *out;
    int rc = build_mo(&out);
    cr_expect_eq(rc, 0, "%s", out);
    cr_expect(mo_exists());
    free(out);
}

Test(catalogue, an_untranslated_text_fails_the_build_and_is_named) {
    write_po("msgstr \"内存不足\"", "msgstr \"\"");
    char *out;
    int rc = build_mo(&out);
    cr_expect_neq(rc, 0, "an untranslated text must fail the build:\n%s", out);
    cr_expect(strstr(out, "out of memory") != NULL, "the message names the text: %s", out);
    cr_expect(strstr(out, "not translated") != NULL, "%s", out);
    cr_expect(strstr(out, "warning") == NULL, "one clear message: %s", out);
    cr_expect(!mo_exists(), "no catalogue written");
    free(out);
}

Test(catalogue, a_fuzzy_text_fails_the_build) {
    write_po("msgid \"out of memory\"", "#, fuzzy\nmsgid \"out of memory\"");
    char *out;
    int rc = build_mo(&out);
    cr_expect_neq(rc, 0, "a fuzzy text must fail the build:\n%s", out);
    cr_expect(strstr(out, "out of memory") != NULL, "%s", out);
    cr_expect(!mo_exists());
    free(out);
}

Test(catalogue, other_printf_arguments_fail_the_build) {
    // the English has %zu (a size_t) where this says %s: printf would read a number as a string
    write_po("msgstr \"%zu 个类别，", "msgstr \"%s 个类别，");
    char *out;
    int rc = build_mo(&out);
    cr_expect_neq(rc, 0, "a translation with other arguments must fail the build:\n%s", out);
    cr_expect(strstr(out, "format") != NULL, "msgfmt says which: %s", out);
    cr_expect(!mo_exists());
    free(out);
}
