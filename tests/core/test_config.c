// test_config.c — the user's config file: every setting read, mistakes said as FILE:LINE in one line
// with that setting left at its default and the other lines kept, the file found where the XDG base
// directory spec puts it, and what is not a config file refused without hanging.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "testutil.h"

Test(config, every_setting_is_read) {
    frost_config c;
    char err[512] = "";
    setenv("HOME", "/home/someone", 1);
    const char *text = "# my defaults\n"
                       "\n"
                       "theme = light\n"
                       "  arch=resnet50  \n"
                       "device = cuda:1\n"
                       "workers = 6\n"
                       "weights = imagenet\n"
                       "dataset = ~/data/dogs vs cats\n";
    cr_assert_eq(config_parse(&c, text, "cfg", err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(c.theme, "light");
    cr_expect_str_eq(c.arch, "resnet50");
    cr_expect_str_eq(c.device, "cuda:1");
    cr_expect_eq(c.workers, 6);
    cr_expect_eq(c.weights, 1);
    cr_expect_str_eq(c.dataset, "/home/someone/data/dogs vs cats");
    cr_assert_eq(config_parse(&c, "weights = none\n", "cfg", err, sizeof err), 0, "%s", err);
    cr_expect_eq(c.weights, 0);
    cr_expect_eq(c.workers, 0, "unset");
    cr_expect_str_eq(c.arch, "");
}

Test(config, a_mistake_names_its_line_and_the_rest_counts) {
    frost_config c;
    char err[512] = "";
    const char *text = "arch = resnet18\n"
                       "colour = red\n"
                       "device = gpu\n"
                       "workers = 6\n";
    cr_expect_eq(config_parse(&c, text, "/x/config", err, sizeof err), -1);
    cr_expect_str_eq(err,
                     "/x/config:2: unknown setting 'colour' (theme, arch, device, workers, weights, dataset, "
                     "feature_cache_mb, runs)",
                     "the first mistake, in one line");
    cr_expect_str_eq(c.arch, "resnet18");
    cr_expect_str_eq(c.device, "", "the bad device keeps the default");
    cr_expect_eq(c.workers, 6);
    const struct {
        const char *text, *msg;
    } bad[] = {
        {"arch = resnet17\n", "cfg:1: unknown architecture 'resnet17'"},
        {"\n\nworkers = 0\n", "cfg:3: workers is a whole number from 1 to 256, not '0'"},
        {"workers = 4x\n", "cfg:1: workers is a whole number from 1 to 256, not '4x'"},
        {"weights = yes\n", "cfg:1: weights is imagenet or none, not 'yes'"},
        {"device = cuda:\n", "cfg:1: device is auto, cpu, cuda or cuda:N, not 'cuda:'"},
        {"theme\n", "cfg:1: expected 'setting = value'"},
        {"theme =\n", "cfg:1: 'theme' has no value"},
        {"arch = \x1b[31m\n", "cfg:1: unknown architecture '\\x1b[31m'"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        cr_expect_eq(config_parse(&c, bad[k].text, "cfg", err, sizeof err), -1, "%s", bad[k].text);
        cr_expect_str_eq(err, bad[k].msg);
    }
}

Test(config, found_where_xdg_says) {
    char *dir = tu_tmpdir();
    char path[1024], err[512] = "";
    frost_config c;
    setenv("XDG_CONFIG_HOME", dir, 1);
    cr_expect_eq(config_load(&c, err, sizeof err), 0, "no file: no error (%s)", err);
    cr_expect_str_eq(c.path, "");
    snprintf(path, sizeof path, "%s/frost/config", dir);
    tu_mkdirs_for(path);
    cr_assert_eq(tu_write_file(path, "arch = vgg11\n", 13), 0);
    cr_expect_eq(config_load(&c, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(c.arch, "vgg11");
    cr_expect_str_eq(c.path, path);

    // a relative XDG_CONFIG_HOME is ignored (the spec): $HOME/.config
    setenv("XDG_CONFIG_HOME", "relative", 1);
    setenv("HOME", dir, 1);
    snprintf(path, sizeof path, "%s/.config/frost/config", dir);
    tu_mkdirs_for(path);
    cr_assert_eq(tu_write_file(path, "arch = vgg13\n", 13), 0);
    cr_expect_eq(config_load(&c, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(c.arch, "vgg13");

    // not a file: said at once, never waited on
    unlink(path);
    cr_assert_eq(mkfifo(path, 0600), 0);
    cr_expect_eq(config_load(&c, err, sizeof err), -1);
    cr_expect(strstr(err, "not a regular file (a FIFO)") != NULL, "%s", err);
    unlink(path);
    char bin[64] = "arch = vgg16\n";
    bin[5] = '\0';
    cr_assert_eq(tu_write_file(path, bin, 13), 0);
    cr_expect_eq(config_load(&c, err, sizeof err), -1);
    cr_expect(strstr(err, "not a config file") != NULL, "%s", err);
    tu_rmtree(dir);
    free(dir);
}
