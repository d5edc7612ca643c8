// test_install.c — make install / make uninstall into a temporary DESTDIR, and the installed
// program run from there: it finds its themes without the checkout, its manual page and completion
// scripts are what `frost help` makes from the command table, and the completions complete (bash,
// and zsh with its completion primitives replaced by ones that print what they are given).
#include <criterion/criterion.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "tmux_util.h"

static char *dest;
static char build[1024];
static char make_vars[1200];   // BUILD (and SANITIZE) of the binary under test: nothing is rebuilt

static void setup(void) {
    dest = tu_tmpdir();
    const char *bin = getenv("FROST_BIN");
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", bin && *bin ? bin : "build/frost");
    snprintf(build, sizeof build, "%s", dirname(copy));
    // the Makefile's sanitized folders are build-address-undefined, build-thread: the same SANITIZE
    // (another build-* folder, such as build-trixie for a second Debian release, is a plain build)
    static const char *sanitized[] = {"address-undefined", "thread", "address", "undefined"};
    char sanitize[64] = "";
    const char *base = strrchr(build, '/') ? strrchr(build, '/') + 1 : build;
    for (size_t i = 0; i < sizeof sanitized / sizeof sanitized[0]; i++)
        if (strncmp(base, "build-", 6) == 0 && strcmp(base + 6, sanitized[i]) == 0)
            snprintf(sanitize, sizeof sanitize, "%s", sanitized[i]);
    for (char *p = sanitize; *p; p++)
        if (*p == '-') *p = ',';
    snprintf(make_vars, sizeof make_vars, "BUILD=%s%s%s", build, sanitize[0] ? " SANITIZE=" : "", sanitize);
}

static void teardown(void) {
    tmux_stop();
    tu_rmtree(dest);
    free(dest);
}

TestSuite(install, .init = setup, .fini = teardown, .timeout = 240);

// Runs a shell command line; its stdout (malloc'd), and its exit status in *status.
static char *sh(const char *cmd, int *status) {
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "popen %s", cmd);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    for (size_t n; (n = fread(out + len, 1, cap - len - 1, p)) > 0;) {
        len += n;
        if (len + 1 == cap) out = realloc(out, cap *= 2);
    }
    out[len] = '\0';
    int rc = pclose(p);
    *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
    return out;
}

static char *path_in(const char *rel) {
    static char p[4][2048];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/usr%s", dest, rel);
    return p[k];
}

// The file's text equals what `frost help ARGS` prints.
static void expect_made_by_help(const char *file, const char *help_args) {
    char cmd[2400];
    int rc;
    snprintf(cmd, sizeof cmd, "%s help %s", path_in("/bin/frost"), help_args);
    char *want = sh(cmd, &rc);
    cr_assert_eq(rc, 0, "%s", cmd);
    char *got = tu_read_file(file, NULL);
    cr_assert_not_null(got, "%s was not installed", file);
    cr_expect_str_eq(got, want, "%s is not what frost help %s makes", file, help_args);
    free(got);
    free(want);
}

Test(install, install_run_complete_uninstall) {
    char cmd[4096];
    int rc;
    snprintf(cmd, sizeof cmd, "make -s --no-print-directory install DESTDIR=%s PREFIX=/usr %s 2>&1", dest, make_vars);
    char *out = sh(cmd, &rc);
    cr_assert_eq(rc, 0, "%s:\n%s", cmd, out);
    free(out);

    const char *files[] = {"/bin/frost",
                           "/lib/frost/libfrost_torch.so",
                           "/share/frost/themes/dark.theme",
                           "/share/frost/themes/light.theme",
                           "/share/frost/themes/mono.theme",
                           "/share/frost/lessons/tutorial.lesson",
                           "/share/frost/lessons/fine-tuning.lesson",
                           "/share/frost/lessons/README.md",
                           "/share/man/man1/frost.1",
                           "/share/bash-completion/completions/frost",
                           "/share/zsh/site-functions/_frost",
                           "/share/locale/zh_CN/LC_MESSAGES/frost.mo",
                           "/share/man/zh_CN/man1/frost.1"};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        struct stat st;
        cr_assert_eq(stat(path_in(files[k]), &st), 0, "%s not installed", path_in(files[k]));
        cr_expect_eq(st.st_mode & 0777, k == 0 ? 0755 : 0644, "%s: mode %o", files[k], st.st_mode & 0777);
    }
    expect_made_by_help(path_in("/share/man/man1/frost.1"), "--man");
    // the Chinese page is the installed frost's manual in Chinese (its installed catalogue)
    char *language = getenv("LANGUAGE") ? strdup(getenv("LANGUAGE")) : NULL;
    char *lc_all = getenv("LC_ALL") ? strdup(getenv("LC_ALL")) : NULL;
    char *locpath = getenv("LOCPATH") ? strdup(getenv("LOCPATH")) : NULL, zh_locales[4096];
    tu_locales(zh_locales, sizeof zh_locales);
    setenv("LOCPATH", zh_locales, 1);
    setenv("LC_ALL", "zh_CN.UTF-8", 1);
    unsetenv("LANGUAGE");
    expect_made_by_help(path_in("/share/man/zh_CN/man1/frost.1"), "--man");
    language ? setenv("LANGUAGE", language, 1) : unsetenv("LANGUAGE");
    lc_all ? setenv("LC_ALL", lc_all, 1) : unsetenv("LC_ALL");
    locpath ? setenv("LOCPATH", locpath, 1) : unsetenv("LOCPATH");
    free(language);
    free(lc_all);
    free(locpath);
    char *zh_page = tu_read_file(path_in("/share/man/zh_CN/man1/frost.1"), NULL);
    char heading[256];
    snprintf(heading, sizeof heading, "\n.SH %s\n", tu_zh("DESCRIPTION"));
    cr_expect(zh_page && strstr(zh_page, heading), "the Chinese page is in Chinese: %.300s", zh_page ? zh_page : "");
    free(zh_page);
    expect_made_by_help(path_in("/share/bash-completion/completions/frost"), "--completion bash");
    expect_made_by_help(path_in("/share/zsh/site-functions/_frost"), "--completion zsh");

    // the installed program, run from outside the checkout, finds the installed themes
    snprintf(cmd, sizeof cmd, "cd / && %s --version", path_in("/bin/frost"));
    out = sh(cmd, &rc);
    cr_expect(rc == 0 && strncmp(out, "frost ", 6) == 0, "%d %s", rc, out);
    free(out);
    // ... and the installed lessons
    snprintf(cmd, sizeof cmd, "cd / && %s lesson --list", path_in("/bin/frost"));
    out = sh(cmd, &rc);
    cr_expect(rc == 0 && strstr(out, "fine-tuning ") && strstr(out, "tutorial "), "%d %s", rc, out);
    char folder[2400];
    snprintf(folder, sizeof folder, "the lessons folder: %s (its README.md", path_in("/bin/../share/frost/lessons"));
    cr_expect(strstr(out, folder), "'%s' in: %s", folder, out);
    free(out);
    char *saved = getenv("FROST_BIN") ? strdup(getenv("FROST_BIN")) : NULL;
    setenv("FROST_BIN", path_in("/bin/frost"), 1);
    tmux_start("sample_data --theme nosuch", 160, 30, "TERM=screen-256color");
    char want[2400];
    snprintf(want, sizeof want, "no theme 'nosuch' in %s", path_in("/bin/../share/frost/themes"));
    cr_expect(tmux_wait_for(want, 60), "'%s':\n%s", want, tmux_screen(0));
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
    tmux_start("sample_data --theme light", 160, 30, "TERM=screen-256color");
    cr_expect(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "no theme") == NULL, "%s", tmux_screen(0));
    // and its Chinese catalogue (in the tests' own zh_CN locale)
    const char *locales = getenv("FROST_LOCALES") ? getenv("FROST_LOCALES") : "build/locales";
    char abs[4096], env[4200];
    if (realpath(locales, abs)) {
        snprintf(env, sizeof env, "TERM=screen-256color LANG=zh_CN.UTF-8 LANGUAGE= LOCPATH=%s", abs);
        tmux_start("sample_data", 160, 30, env);
        cr_expect(tmux_wait_for("3 个类别", 60), "the installed catalogue: %s", tmux_screen(0));
    } else {
        cr_expect(0, "the tests' zh_CN locale (%s): make test makes it", locales);
    }
    tmux_stop();
    if (saved)
        setenv("FROST_BIN", saved, 1);
    else
        unsetenv("FROST_BIN");
    free(saved);

    // bash: what each command line completes to (the installed frost on PATH: its themes)
    snprintf(
        cmd, sizeof cmd,
        "cd %s && PATH=%s:$PATH FROST_THEMES_DIR= bash -c '"
        "source %s; c() { COMP_WORDS=(\"$@\"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _frost; "
        "echo \"$*: ${COMPREPLY[*]}\"; }; "
        "c frost tr; c frost train sample_data --ar; c frost train sample_data --arch resnet1; "
        "c frost summary resnet18 --bn \"\"; c frost weights f; c frost weights fetch vgg16 --source torchvision-; "
        "c frost --theme \"\"; c frost sample_d; c frost doctor sample_data/tr; c frost help --completion z; c frost "
        "weights list --' 2>&1",
        getenv("PWD") ? getenv("PWD") : ".", path_in("/bin"), path_in("/share/bash-completion/completions/frost"));
    out = sh(cmd, &rc);
    cr_expect_eq(rc, 0, "%s", out);
    const char *expect[] = {"frost tr: train\n",
                            "frost train sample_data --ar: --arch\n",
                            "frost train sample_data --arch resnet1: resnet18 resnet101 resnet152\n",
                            "frost summary resnet18 --bn : eval train\n",
                            "frost weights f: fetch\n",
                            "frost weights fetch vgg16 --source torchvision-: torchvision-v2\n",
                            "frost --theme : dark light mono\n",
                            "frost sample_d: sample_data\n",
                            "frost doctor sample_data/tr: sample_data/train\n",
                            "frost help --completion z: zsh\n",
                            "frost weights list --: \n"};   // it has no options
    for (size_t k = 0; k < sizeof expect / sizeof expect[0]; k++)
        cr_expect(strstr(out, expect[k]), "bash completes '%s' with:\n%s", expect[k], out);
    free(out);

    // zsh: the same through compadd and _files, which here print what they are given
    snprintf(cmd, sizeof cmd,
             "cd %s && PATH=%s:$PATH FROST_THEMES_DIR= zsh -f -c '"
             "compadd() { [[ $1 == -- ]] && shift; print -rn -- \"$*\"; }; _files() { print -rn -- \"FILES $*\"; }; "
             "source %s >/dev/null; c() { words=(\"$@\"); CURRENT=${#words}; print -rn -- \"$*: \"; _frost; print; }; "
             "c frost \"\" | head -c 60; print; c frost train sample_data --arch \"\"; c frost predict \"\"; "
             "c frost train sample_data --bn \"\"; c frost --theme \"\"' 2>&1",
             getenv("PWD") ? getenv("PWD") : ".", path_in("/bin"), path_in("/share/zsh/site-functions/_frost"));
    out = sh(cmd, &rc);
    cr_expect_eq(rc, 0, "%s", out);
    const char *zexpect[] = {"frost : print summary doctor bench-data train",
                             "frost train sample_data --arch : vgg11 vgg11_bn vgg13", "frost predict : FILES",
                             "frost train sample_data --bn : eval train\n", "frost --theme : dark light mono\n"};
    for (size_t k = 0; k < sizeof zexpect / sizeof zexpect[0]; k++)
        cr_expect(strstr(out, zexpect[k]), "zsh completes '%s' with:\n%s", zexpect[k], out);
    free(out);

    snprintf(cmd, sizeof cmd, "make -s --no-print-directory uninstall DESTDIR=%s PREFIX=/usr %s 2>&1", dest, make_vars);
    out = sh(cmd, &rc);
    cr_assert_eq(rc, 0, "%s:\n%s", cmd, out);
    free(out);
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        struct stat st;
        cr_expect_neq(stat(path_in(files[k]), &st), 0, "%s is still there after make uninstall", files[k]);
    }
    struct stat st;
    cr_expect_neq(stat(path_in("/share/frost"), &st), 0, "frost's own share folder goes too");
}

// The libtorch part (libfrost_torch.so) is loaded on the first call that needs it: a frost copied
// without it still prints its help (the architectures' names come without libtorch), and a command
// that builds a model stops with one line naming the files it tried, exit status 1, no crash.
Test(install, without_its_libtorch_part) {
    char cmd[4096];
    int rc;
    const char *bin = getenv("FROST_BIN");
    snprintf(cmd, sizeof cmd, "mkdir -p %s/alone && cp %s %s/alone/frost", dest, bin && *bin ? bin : "build/frost",
             dest);
    free(sh(cmd, &rc));
    cr_assert_eq(rc, 0, "%s", cmd);

    snprintf(cmd, sizeof cmd, "%s/alone/frost help 2>&1", dest);
    char *out = sh(cmd, &rc);
    cr_expect_eq(rc, 0, "frost help without libfrost_torch.so: %s", out);
    cr_expect(strstr(out, "resnet50") != NULL, "help lists the architectures without libtorch:\n%s", out);
    free(out);

    snprintf(cmd, sizeof cmd, "%s/alone/frost print resnet18 2>&1 >/dev/null", dest);
    out = sh(cmd, &rc);
    cr_expect_eq(rc, 1, "exit status %d:\n%s", rc, out);
    cr_expect_eq(tu_count_lines(out), 1, "one line, not:\n%s", out);
    cr_expect(strstr(out, "frost: cannot load its libtorch part") && strstr(out, "/alone/libfrost_torch.so"),
              "the message names what it tried:\n%s", out);
    tu_expect_no_sanitizer_report(out, "frost without libfrost_torch.so");
    free(out);
}
