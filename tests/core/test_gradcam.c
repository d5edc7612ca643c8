// test_gradcam.c — core/gradcam and core/cam_job on a resnet18 (a 2-class head, every parameter
// trainable) and pictures the test writes: the map's shape per layer, its logits against a plain forward,
// no parameter gradient left behind, the model's mode put back; the overlay's interpolation, colours and
// crop region on maps made by hand; the PNG round trip; the background job against the direct call.
// (That the maps equal PyTorch's is tests/cli/test_gradcam.c's business.)
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "cam_job.h"
#include "fixtures.h"
#include "gradcam.h"
#include "image_decode.h"
#include "testutil.h"

static char *dir;
static ft_model *model;
static transform_params tf;

static void setup(void) {
    dir = tu_tmpdir();
    ft_manual_seed(3);
    model = fx_model("resnet18", 2);
    cr_assert_null(ft_model_set_trainable(model, "", 1));
    transform_params_seed(&tf);
    tf.size = 96;   // 3x3 at layer4
}

static void teardown(void) {
    ft_model_free(model);
    tu_rmtree(dir);
    free(dir);
}

TestSuite(gradcam_core, .init = setup, .fini = teardown, .timeout = 120);

static const char *picture(int w, int h, int seed) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/p%d.jpg", dir, seed);
    fx_pattern_jpeg(path, w, h, seed);
    return path;
}

// ---------------------------------------------------------------------------------------------
// the map

Test(gradcam_core, layers_classes_logits_and_no_gradient_left) {
    const char *p = picture(120, 90, 1);
    char err[512];
    gradcam_map g;
    ft_snapshot *snap = NULL;
    cr_assert_null(ft_model_set_trainable(model, "", 1));
    cr_assert_null(ft_snapshot_take(model, &snap));

    // training mode before and after: a forward in train mode gives the same numbers both times
    ft_model_set_training(model, 1);
    image_rgb8 pic = {0};
    cr_assert_eq(gradcam_file(model, &tf, p, NULL, -1, &g, &pic, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(g.layer, "layer4");
    cr_expect(g.h == 3 && g.w == 3, "%lldx%lld", (long long)g.h, (long long)g.w);
    cr_expect(pic.width == 120 && pic.height == 90, "the picture at its own size: %dx%d", pic.width, pic.height);
    cr_expect_eq(g.n_classes, 2);
    cr_expect_eq(g.cls, g.logits[1] > g.logits[0] ? 1 : 0, "the top class");
    int64_t top = g.cls;

    // the logits are a plain forward's in eval mode on the same input
    float *x = malloc(3 * 96 * 96 * sizeof *x), y[2];
    transform_scratch ts;
    transform_scratch_init(&ts);
    cr_assert_eq(transform_apply(&tf, pic.rgb, pic.width, pic.height, x, &ts, err, sizeof err), 0, "%s", err);
    transform_scratch_free(&ts);
    ft_model_set_training(model, 0);
    cr_assert_null(ft_model_forward(model, x, 1, 3, 96, 96, y, 2));
    for (int c = 0; c < 2; c++) cr_expect_eq(y[c], g.logits[c], "logit %d: %g, a forward %g", c, g.logits[c], y[c]);

    // no parameter got a gradient
    size_t n = ft_model_state_count(model);
    ft_state_change *ch = calloc(n, sizeof *ch);
    cr_assert_null(ft_model_changes(model, snap, ch, n));
    for (size_t i = 0; i < n; i++) {
        ft_tensor_info info;
        cr_assert_null(ft_model_state_info(model, i, &info));
        cr_expect(!ch[i].has_grad && ch[i].change_sq == 0, "%s has a gradient or changed", info.name);
    }
    free(ch);
    ft_snapshot_free(snap);

    // the mode was put back: train mode before gradcam, the same train-mode forward after
    float t1[2], t2[2];
    ft_model_set_training(model, 1);
    cr_assert_null(ft_model_forward(model, x, 1, 3, 96, 96, t1, 2));
    gradcam_map g2;
    cr_assert_eq(gradcam_compute(model, x, 96, "layer2.1.conv2", 1 - top, &g2, err, sizeof err), 0, "%s", err);
    cr_assert_null(ft_model_forward(model, x, 1, 3, 96, 96, t2, 2));
    cr_expect(t1[0] == t2[0] && t1[1] == t2[1], "train mode after Grad-CAM: %g %g, before %g %g", t2[0], t2[1], t1[0],
              t1[1]);
    cr_expect_str_eq(g2.layer, "layer2.1.conv2");
    cr_expect(g2.h == 12 && g2.w == 12 && g2.cls == 1 - top, "%lldx%lld class %lld", (long long)g2.h, (long long)g2.w,
              (long long)g2.cls);
    gradcam_map_free(&g2);
    free(x);
    image_free(&pic);
    gradcam_map_free(&g);
}

Test(gradcam_core, refusals) {
    const char *p = picture(64, 64, 2);
    char err[512];
    gradcam_map g;
    cr_expect_eq(gradcam_file(model, &tf, p, "layer5", -1, &g, NULL, err, sizeof err), GRADCAM_EARG);
    cr_expect(strstr(err, "'layer5' is not a module of resnet18"), "%s", err);
    cr_expect_eq(gradcam_file(model, &tf, p, "fc", -1, &g, NULL, err, sizeof err), GRADCAM_EARG);
    cr_expect(strstr(err, "'fc'") && strstr(err, "2-dimensional"), "%s", err);
    cr_expect_eq(gradcam_file(model, &tf, p, "layer4.", -1, &g, NULL, err, sizeof err), GRADCAM_EARG);
    cr_expect_eq(gradcam_file(model, &tf, p, NULL, 2, &g, NULL, err, sizeof err), GRADCAM_EARG);
    cr_expect(strstr(err, "class 2 is out of range"), "%s", err);
    cr_expect_eq(gradcam_file(model, &tf, "/nonexistent.jpg", NULL, -1, &g, NULL, err, sizeof err), -1);
    cr_expect(g.map == NULL && g.logits == NULL);
    cr_expect_str_eq(ft_model_gradcam_default_layer(model), "layer4");   // VGG's: tests/cli/test_gradcam.c
}

// ---------------------------------------------------------------------------------------------
// the overlay

// out for alpha 1 is the colormap of the interpolated, normalised map.
Test(gradcam_core, overlay_interpolates_like_f_interpolate) {
    // a 1x2 map [0, 2] onto 4x1 pixels: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped)
    const float map[2] = {0, 2};
    uint8_t rgb[4 * 3] = {0}, out[4 * 3];
    gradcam_overlay(map, 1, 2, NULL, rgb, 4, 1, 1.0f, out);
    const float want[4] = {0, 0.25f, 0.75f, 1};
    for (int x = 0; x < 4; x++) {
        uint8_t c[3];
        gradcam_colormap(want[x], c);
        cr_expect(memcmp(out + 3 * x, c, 3) == 0, "pixel %d: %d,%d,%d, want %d,%d,%d", x, out[3 * x], out[3 * x + 1],
                  out[3 * x + 2], c[0], c[1], c[2]);
    }
    // jet's ends and middle
    uint8_t c[3];
    gradcam_colormap(0, c);
    cr_expect(c[0] == 0 && c[1] == 0 && c[2] == 128, "%d,%d,%d", c[0], c[1], c[2]);
    gradcam_colormap(0.5f, c);
    cr_expect(c[0] == 128 && c[1] == 255 && c[2] == 128, "%d,%d,%d", c[0], c[1], c[2]);
    gradcam_colormap(1, c);
    cr_expect(c[0] == 128 && c[1] == 0 && c[2] == 0, "%d,%d,%d", c[0], c[1], c[2]);
}

Test(gradcam_core, overlay_blends_and_keeps_what_the_crop_left_out) {
    // an all-zero map stays zero: every pixel is the blend with jet(0), half and half
    const float zero[4] = {0, 0, 0, 0};
    uint8_t rgb[8 * 4 * 3], out[8 * 4 * 3];
    for (size_t k = 0; k < sizeof rgb; k++) rgb[k] = (uint8_t)(k * 7);
    gradcam_overlay(zero, 2, 2, NULL, rgb, 8, 4, 0.5f, out);
    for (size_t k = 0; k < sizeof rgb; k++) {
        int jet0 = k % 3 == 2 ? 128 : 0;
        cr_expect_leq(abs(out[k] - (rgb[k] + jet0 + 1) / 2), 1, "byte %zu: %d from %d", k, out[k], rgb[k]);
    }
    // Resize(S) + CenterCrop(S) of an 8x4 picture at S 2: 4x2, cropped at x 1, so the middle 4x4 of
    // the picture; the two columns either side are the picture itself
    transform_params crop = tf;
    crop.fit = TRANSFORM_SHORT_CROP;
    crop.size = 2;
    gradcam_rect r;
    char err[256];
    cr_assert_eq(gradcam_region(&crop, 8, 4, &r, err, sizeof err), 0, "%s", err);
    cr_expect(r.x0 == 2 && r.x1 == 6 && r.y0 == 0 && r.y1 == 4, "%g %g %g %g", r.x0, r.y0, r.x1, r.y1);
    const float hot[4] = {1, 1, 1, 1};
    gradcam_overlay(hot, 2, 2, &r, rgb, 8, 4, 1.0f, out);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 8; x++) {
            const uint8_t *o = out + 3 * (y * 8 + x), *i = rgb + 3 * (y * 8 + x);
            if (x < 2 || x >= 6)
                cr_expect(memcmp(o, i, 3) == 0, "(%d,%d) outside the crop changed", x, y);
            else
                cr_expect(o[0] == 128 && o[1] == 0 && o[2] == 0, "(%d,%d) inside: %d,%d,%d", x, y, o[0], o[1], o[2]);
        }
}

Test(gradcam_core, png_round_trip_and_a_failed_write_leaves_nothing) {
    uint8_t rgb[5 * 3 * 3];
    for (size_t k = 0; k < sizeof rgb; k++) rgb[k] = (uint8_t)(k * 13);
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/o.png", dir);
    cr_assert_eq(gradcam_write_png(path, rgb, 5, 3, err, sizeof err), 0, "%s", err);
    image_rgb8 back = {0};
    image_info info;
    cr_assert_eq(image_load_file(path, NULL, &back, &info, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(info.format, "PNG");
    cr_expect(back.width == 5 && back.height == 3 && memcmp(back.rgb, rgb, sizeof rgb) == 0);
    image_free(&back);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0644);

    snprintf(path, sizeof path, "%s/none/o.png", dir);
    cr_expect_eq(atomic_file_check(path, err, sizeof err), -1);
    cr_expect(strstr(err, "does not exist"), "%s", err);
    cr_expect_eq(gradcam_write_png(path, rgb, 5, 3, err, sizeof err), -1);
    cr_expect(strstr(err, "o.png") && !strchr(err, '\n'), "%s", err);
    cr_expect_neq(stat(path, &st), 0);
    cr_expect_eq(atomic_file_check(dir, err, sizeof err), -1);
    cr_expect(strstr(err, "is a folder"), "%s", err);
}

// ---------------------------------------------------------------------------------------------
// the background job

Test(gradcam_core, job_gives_the_direct_map_and_a_fitted_overlay) {
    const char *p = picture(300, 200, 4);
    char err[512];
    gradcam_map direct;
    cr_assert_eq(gradcam_file(model, &tf, p, "layer3", 0, &direct, NULL, err, sizeof err), 0, "%s", err);

    cam_job *j = cam_job_start(model, &tf, p, "layer3", 0, 100, 100, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    while (!cam_job_done(j)) usleep(1000);
    cam_result r;
    cr_assert_eq(cam_job_result(j, &r, err, sizeof err), 0, "%s", err);
    cr_expect(r.picture_w == 300 && r.picture_h == 200 && r.width == 100 && r.height == 67, "%dx%d, overlay %dx%d",
              r.picture_w, r.picture_h, r.width, r.height);
    cr_expect(r.map.h == direct.h && r.map.w == direct.w && r.map.cls == 0);
    cr_expect_str_eq(r.map.layer, "layer3");
    cr_expect(memcmp(r.map.map, direct.map, (size_t)(direct.h * direct.w) * sizeof(float)) == 0,
              "the job's map is the direct call's");
    cr_expect_not_null(r.rgb);
    cam_result_free(&r);
    cam_job_free(j);
    gradcam_map_free(&direct);

    // a refusal comes back as the job's result; free without taking works at any time
    j = cam_job_start(model, &tf, p, "nowhere", -1, 0, 0, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    while (!cam_job_done(j)) usleep(1000);
    cr_expect_eq(cam_job_result(j, &r, err, sizeof err), GRADCAM_EARG);
    cr_expect(strstr(err, "nowhere"), "%s", err);
    cam_job_free(j);
    j = cam_job_start(model, &tf, p, NULL, -1, 0, 0, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    cam_job_free(j);   // still running, or not: waits, frees
}
