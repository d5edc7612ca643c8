// test_image_thumb.c — core/image_thumb: decoded, fitted into a box with the aspect kept, colours
// kept, described; broken files give one line, not a crash. Fixtures are written here: JPEGs by
// TurboJPEG (tu_write_jpeg), PNGs by libpng's simplified writer.
#include <criterion/criterion.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image_thumb.h"
#include "testutil.h"

static char *g_dir;
static void setup(void) { g_dir = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(g_dir);
    free(g_dir);
}
TestSuite(image_thumb, .init = setup, .fini = teardown);

static const char *at(const char *name) {
    static char buf[2][512];
    static int k;
    k ^= 1;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

// w x h, the left half red and the right half blue
static unsigned char *red_blue(int w, int h) {
    unsigned char *p = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *q = p + ((size_t)y * w + x) * 3;
            q[0] = x < w / 2 ? 255 : 0;
            q[1] = 0;
            q[2] = x < w / 2 ? 0 : 255;
        }
    return p;
}

static void expect_px(const image_thumb *t, int x, int y, int r, int g, int b, int tol) {
    const unsigned char *q = t->rgb + ((size_t)y * t->width + x) * 3;
    cr_expect(abs(q[0] - r) <= tol && abs(q[1] - g) <= tol && abs(q[2] - b) <= tol,
              "pixel (%d,%d) is %d,%d,%d, expected about %d,%d,%d", x, y, q[0], q[1], q[2], r, g, b);
}

static long long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

Test(image_thumb, jpeg_fitted_with_aspect_and_colours) {
    unsigned char *px = red_blue(64, 48);
    cr_assert_eq(tu_write_jpeg(at("rb.jpg"), 64, 48, px), 0);
    free(px);
    image_thumb t;
    thumb_info info;
    char err[256] = "";
    cr_assert_eq(image_thumb_load(at("rb.jpg"), 32, 32, &t, &info, err, sizeof err), 0, "%s", err);
    cr_expect_eq(t.width, 32);
    cr_expect_eq(t.height, 24, "64x48 into 32x32 keeps 4:3: %dx%d", t.width, t.height);
    expect_px(&t, 4, 12, 255, 0, 0, 40);
    expect_px(&t, 28, 12, 0, 0, 255, 40);
    cr_expect_str_eq(info.format, "JPEG");
    cr_expect_str_eq(info.mode, "RGB");
    cr_expect_eq(info.width, 64);
    cr_expect_eq(info.height, 48);
    cr_expect_eq(info.bytes, file_size(at("rb.jpg")));
    char line[128];
    image_thumb_describe(&info, line, sizeof line);
    cr_expect(strncmp(line, "JPEG 64x48 RGB, ", 16) == 0, "%s", line);
    image_thumb_free(&t);

    // a box taller than wide: the width limits; a bigger box: scaled up
    cr_assert_eq(image_thumb_load(at("rb.jpg"), 16, 100, &t, &info, err, sizeof err), 0, "%s", err);
    cr_expect(t.width == 16 && t.height == 12, "%dx%d", t.width, t.height);
    image_thumb_free(&t);
    cr_assert_eq(image_thumb_load(at("rb.jpg"), 200, 120, &t, &info, err, sizeof err), 0, "%s", err);
    cr_expect(t.width == 160 && t.height == 120, "%dx%d", t.width, t.height);
    expect_px(&t, 10, 60, 255, 0, 0, 40);
    expect_px(&t, 150, 60, 0, 0, 255, 40);
    image_thumb_free(&t);
}

Test(image_thumb, big_jpeg_scaled_down) {
    // 1600x1200 into 40x30: the DCT-scaled path, then the resampler
    unsigned char *px = red_blue(1600, 1200);
    cr_assert_eq(tu_write_jpeg(at("big.jpg"), 1600, 1200, px), 0);
    free(px);
    image_thumb t;
    thumb_info info;
    char err[256] = "";
    cr_assert_eq(image_thumb_load(at("big.jpg"), 40, 30, &t, &info, err, sizeof err), 0, "%s", err);
    cr_expect(t.width == 40 && t.height == 30, "%dx%d", t.width, t.height);
    cr_expect(info.width == 1600 && info.height == 1200, "the stored size, not the scaled one: %dx%d", info.width,
              info.height);
    expect_px(&t, 5, 15, 255, 0, 0, 40);
    expect_px(&t, 35, 15, 0, 0, 255, 40);
    image_thumb_free(&t);
}

static int write_png(const char *path, int w, int h, int format, const unsigned char *px) {
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.width = (png_uint_32)w;
    im.height = (png_uint_32)h;
    im.format = (png_uint_32)format;
    return png_image_write_to_file(&im, path, 0, px, 0, NULL) ? 0 : -1;
}

Test(image_thumb, png_rgba_and_grey) {
    // 48x64 RGBA: top half green, bottom half white, all opaque
    int w = 48, h = 64;
    unsigned char *px = malloc((size_t)w * h * 4);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *q = px + ((size_t)y * w + x) * 4;
            q[0] = q[2] = y < h / 2 ? 0 : 255;
            q[1] = 255;
            q[3] = 255;
        }
    cr_assert_eq(write_png(at("g.png"), w, h, PNG_FORMAT_RGBA, px), 0);
    free(px);
    image_thumb t;
    thumb_info info;
    char err[256] = "";
    cr_assert_eq(image_thumb_load(at("g.png"), 30, 16, &t, &info, err, sizeof err), 0, "%s", err);
    cr_expect(t.width == 12 && t.height == 16, "48x64 into 30x16: %dx%d", t.width, t.height);
    expect_px(&t, 6, 2, 0, 255, 0, 8);
    expect_px(&t, 6, 13, 255, 255, 255, 8);
    cr_expect_str_eq(info.format, "PNG");
    cr_expect_str_eq(info.mode, "RGBA");
    cr_expect(info.width == 48 && info.height == 64);
    cr_expect_eq(info.bytes, file_size(at("g.png")));
    image_thumb_free(&t);

    unsigned char grey[20 * 10];
    for (int i = 0; i < 200; i++) grey[i] = 100;
    cr_assert_eq(write_png(at("l.png"), 20, 10, PNG_FORMAT_GRAY, grey), 0);
    cr_assert_eq(image_thumb_load(at("l.png"), 10, 10, &t, &info, err, sizeof err), 0, "%s", err);
    cr_expect(t.width == 10 && t.height == 5, "%dx%d", t.width, t.height);
    expect_px(&t, 5, 2, 100, 100, 100, 2);
    cr_expect_str_eq(info.mode, "L");
    image_thumb_free(&t);
}

Test(image_thumb, broken_files_give_one_line) {
    cr_assert_eq(tu_write_file(at("junk.jpg"), "this is not an image at all", 27), 0);
    image_thumb t;
    thumb_info info;
    char err[256] = "";
    cr_expect_eq(image_thumb_load(at("junk.jpg"), 32, 32, &t, &info, err, sizeof err), -1);
    cr_expect(err[0] != '\0' && !strchr(err, '\n'), "one line: '%s'", err);
    cr_expect(t.rgb == NULL && t.width == 0);
    cr_expect_eq(info.bytes, 27);

    // a JPEG cut in half
    unsigned char *px = red_blue(64, 48);
    cr_assert_eq(tu_write_jpeg(at("whole.jpg"), 64, 48, px), 0);
    free(px);
    size_t len;
    char *bytes = tu_read_file(at("whole.jpg"), &len);
    cr_assert(bytes);
    cr_assert_eq(tu_write_file(at("cut.jpg"), bytes, len / 2), 0);
    free(bytes);
    err[0] = '\0';
    cr_expect_eq(image_thumb_load(at("cut.jpg"), 32, 32, &t, &info, err, sizeof err), -1);
    cr_expect(strstr(err, "truncated") != NULL, "%s", err);
    cr_expect_str_eq(info.format, "JPEG", "the header was read");

    err[0] = '\0';
    cr_expect_eq(image_thumb_load(at("missing.jpg"), 32, 32, &t, &info, err, sizeof err), -1);
    cr_expect(err[0] != '\0');
    cr_expect_eq(image_thumb_load(at("whole.jpg"), 0, 32, &t, &info, err, sizeof err), -1, "an empty box");
}

Test(image_thumb, fit_and_describe) {
    int w, h;
    image_thumb_fit(64, 48, 32, 32, &w, &h);
    cr_expect(w == 32 && h == 24);
    image_thumb_fit(10000, 1, 50, 50, &w, &h);
    cr_expect(w == 50 && h == 1, "never below 1: %dx%d", w, h);
    image_thumb_fit(3, 5, 60, 20, &w, &h);
    cr_expect(w == 12 && h == 20, "%dx%d", w, h);
    thumb_info i = {"PNG", "P", 500, 374, 23654};
    char line[64];
    image_thumb_describe(&i, line, sizeof line);
    cr_expect_str_eq(line, "PNG 500x374 P, 23.1 KB");
    i.bytes = 900;
    image_thumb_describe(&i, line, sizeof line);
    cr_expect_str_eq(line, "PNG 500x374 P, 900 B");
    i.bytes = 3 * 1024 * 1024;
    image_thumb_describe(&i, line, sizeof line);
    cr_expect_str_eq(line, "PNG 500x374 P, 3.0 MB");
}
