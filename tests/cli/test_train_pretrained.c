// test_train_pretrained.c — `frost train --pretrained`: the architecture's ImageNet weights from the
// cache, ImageNet's normalisation unless --norm says otherwise, and one line when they cannot be had.
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fetch.h"
#include "fixtures.h"
#include "frost_torch.h"
#include "testutil.h"
#include "weights.h"
#include "weights_table.h"

TestSuite(cli_train_pretrained, .init = fx_caches_init, .fini = fx_caches_fini, .timeout = 60);

// Two classes of 32x32 images, 4 to train on and 2 to validate, per class.
static void make_tiny_dataset(const char *root) {
    unsigned seed = 3;
    unsigned char rgb[32 * 32 * 3];
    const char *splits[2] = {"train", "valid"};
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < (s == 0 ? 4 : 2); i++) {
                for (size_t k = 0; k < sizeof rgb; k++) rgb[k] = (unsigned char)((c ? 200 : 40) + rand_r(&seed) % 40);
                char path[4096];
                snprintf(path, sizeof path, "%s/%s/%s/%d.jpg", root, splits[s], c ? "b" : "a", i);
                tu_mkdirs_for(path);
                cr_assert_eq(tu_write_jpeg(path, 32, 32, rgb), 0);
            }
}

Test(cli_train_pretrained, cli_train_pretrained_uses_the_cache_and_imagenet_normalisation, .timeout = 300) {
    char root[1024], path[4096], err[512];
    snprintf(root, sizeof root, "%s/data", fx_tmp);
    make_tiny_dataset(root);
    // resnet18's default weights, in torchvision's cache. The bytes are a safetensors state_dict
    // (what weights_load reads by its content) under torchvision's file name.
    snprintf(path, sizeof path, "%s/torch/hub/checkpoints/resnet18-f37072fd.pth", fx_tmp);
    tu_mkdirs_for(path);
    ft_model *m = NULL;
    ft_status *st = ft_model_create("resnet18", &m);
    cr_assert_null(st);
    cr_assert_eq(weights_save(m, path, err, sizeof err), 0, "%s", err);
    ft_model_free(m);
    setenv("FROST_WEIGHTS_MIRROR", "http://127.0.0.1:1", 1);   // a download would fail

    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"train", root, "--arch", "resnet18", "--pretrained", "--epochs", "1", "--size",
                                      "32", "--batch", "4", "--device", "cpu", NULL});
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    char want[4200];
    snprintf(want, sizeof want, "pretrained weights: torchvision IMAGENET1K_V1 (%s)\n", path);
    cr_expect(strstr(r.out, want), "%s", r.out);
    cr_expect(strstr(r.out, "normalisation: mean 0.485,0.456,0.406 std 0.229,0.224,0.225 (ImageNet's"), "%s", r.out);
    cr_expect(strstr(r.out, "Training complete"), "%s", r.out);
    tu_run_free(&r);

    tu_run_frost(&r, (const char *[]){"train", root, "--arch", "resnet18", "--pretrained", "--norm", "seed", "--epochs",
                                      "1", "--size", "32", "--batch", "4", "--device", "cpu", NULL});
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect(strstr(r.out, "normalisation: mean 0.500,0.500,0.500 std 0.500,0.500,0.500 (as --norm says)"), "%s",
              r.out);
    tu_run_free(&r);

    // not cached and no network: one line, before any training
    tu_run_frost(&r, (const char *[]){"train", root, "--arch", "resnet34", "--pretrained", "--size", "32", NULL});
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "--pretrained: cannot reach 127.0.0.1:1") && strstr(r.err, "resnet34-b627a593.pth"), "%s",
              r.err);
    cr_expect_eq(tu_count_lines(r.err), 1, "%s", r.err);
    cr_expect(!strstr(r.out, "Epoch"), "%s", r.out);
    tu_run_free(&r);

    tu_run_frost(&r, (const char *[]){"train", root, "--pretrained", "--weights", path, NULL});
    cr_expect_eq(r.status, 2, "%s", r.err);
    tu_run_free(&r);
}
