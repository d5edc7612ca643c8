// test_image_decode.c - Criterion tests for core/image_decode: Pillow's pixels, byte for byte.
//
// The reference is tests/oracle/pil_decode_oracle.py, run by `make test` before the tests: it
// writes fixture images in every mode with Pillow's verdict on each ($FROST_ORACLE/decode/).
// Damaged and hostile files (empty, mislabelled, truncated, huge headers, link loops, other
// formats) are made here, in a fresh mkdtemp folder per test, from JPEGs that TurboJPEG encodes
// and PNGs assembled by hand.

#include <criterion/criterion.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "image_decode.h"
#include "testutil.h"

// ---------------------------------------------------------------------------------------------
// Per-test temp folder

static char *g_dir;

static void setup(void) { g_dir = tu_tmpdir(); }

// A mode-000 file needs no chmod to go: unlinking takes write permission on the folder only.
static void teardown(void) {
    tu_rmtree(g_dir);
    free(g_dir);
    g_dir = NULL;
}

TestSuite(decode, .init = setup, .fini = teardown);

static const char *tmp_path(const char *name) {
    static char path[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", g_dir, name);
    return path[k];
}

// ---------------------------------------------------------------------------------------------
// The oracle's manifest

typedef struct {
    char name[128], format[16], mode[16], result[512];
    int width, height;   // -1 when Pillow could not even open the file
} fixture;

// Reads a manifest (name, format, mode, width, height, result per line). NULL when absent.
static fixture *read_manifest(const char *path, size_t *n) {
    size_t len = 0;
    char *text = tu_read_file(path, &len);
    if (!text) return NULL;
    size_t cap = tu_count_lines(text) + 1, k = 0;
    fixture *rows = calloc(cap, sizeof *rows);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && k < cap; line = strtok_r(NULL, "\n", &save)) {
        char *f[6] = {0};
        int nf = 0;
        for (char *p = line; nf < 6; nf++) {
            f[nf] = p;
            char *tab = strchr(p, '\t');
            if (!tab) {
                nf++;
                break;
            }
            *tab = '\0';
            p = tab + 1;
        }
        cr_assert_eq(nf, 6, "%s: bad manifest line '%s'", path, line);
        fixture *r = &rows[k++];
        snprintf(r->name, sizeof r->name, "%s", f[0]);
        snprintf(r->format, sizeof r->format, "%s", f[1]);
        snprintf(r->mode, sizeof r->mode, "%s", f[2]);
        r->width = strcmp(f[3], "-") ? atoi(f[3]) : -1;
        r->height = strcmp(f[4], "-") ? atoi(f[4]) : -1;
        snprintf(r->result, sizeof r->result, "%s", f[5]);
    }
    free(text);
    *n = k;
    return rows;
}

// The oracle's Pillow, major version (manifest() reads it). frost's decoder follows Debian 12's Pillow
// 9.4; Debian 13's 11.1 differs from it in two things, which the checks below allow for with a newer
// Pillow only (with 9.4 every byte and name must match):
//  - a 16-bit grey PNG opens as mode "I;16", where 9.4 says "I" (frost's name); the RGB is the same;
//  - a palette index past the end of a short palette is black, where 9.4 gives grey (i, i, i) as
//    frost does (the PNG spec leaves that case to the decoder).
static int pillow_major;

static fixture *manifest(size_t *n) {
    fixture *rows = read_manifest(tu_oracle("decode/manifest.tsv"), n);
    cr_assert_not_null(rows, "no %s: run tests/oracle/pil_decode_oracle.py first (make test does)",
                       tu_oracle("decode/manifest.tsv"));
    char *version = tu_read_file(tu_oracle("decode/pillow_version.txt"), NULL);
    cr_assert_not_null(version, "no pillow_version.txt: run tests/oracle/pil_decode_oracle.py again");
    pillow_major = atoi(version);
    free(version);
    return rows;
}

// Whether frost's mode name is Pillow's for fixture r (see pillow_major).
static int same_mode(const char *mode, const fixture *r) {
    if (strcmp(mode, r->mode) == 0) return 1;
    return pillow_major >= 10 && strcmp(r->mode, "I;16") == 0 && strcmp(mode, "I") == 0;
}

// Whether frost's n RGB bytes are Pillow's for fixture r (see pillow_major). *past_palette: the pixels
// where only the newer Pillow's black for an index past a short palette differs; *first: the first
// byte that differs otherwise.
static int same_rgb(const uint8_t *got, const uint8_t *want, size_t n, const fixture *r, size_t *past_palette,
                    size_t *first) {
    *past_palette = 0;
    if (memcmp(got, want, n) == 0) return 1;
    int newer_palette = pillow_major >= 10 && strcmp(r->mode, "P") == 0;
    for (size_t i = 0; i + 3 <= n; i += 3) {
        if (memcmp(got + i, want + i, 3) == 0) continue;
        int grey = got[i] == got[i + 1] && got[i] == got[i + 2], black = !want[i] && !want[i + 1] && !want[i + 2];
        if (!newer_palette || !grey || !black) {
            *first = i;
            while (got[*first] == want[*first]) (*first)++;
            return 0;
        }
        (*past_palette)++;
    }
    return 1;
}

static int starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

static int contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return 1;
    }
    return n == 0;
}

// Decodes path with dec into img and checks it against Pillow's verdict in r; expected_rgb is
// the path of Pillow's bytes. Returns the number of failed checks (0 = all good).
static int check_against_pil(image_decoder *dec, image_rgb8 *img, const fixture *r, const char *path,
                             const char *expected_rgb) {
    int bad = 0;
    char err[256] = "";
    image_info info;
    int rc = image_decoder_load_file(dec, path, NULL, img, &info, err, sizeof err);
    int pil_ok = strcmp(r->result, "ok") == 0;
    if (pil_ok) {
        size_t len = 0;
        uint8_t *want = (uint8_t *)tu_read_file(expected_rgb, &len);
        cr_expect_eq(rc, 0, "%s: Pillow decodes it, frost says '%s'", r->name, err);
        cr_expect_not_null(want, "%s: no expected bytes at %s", r->name, expected_rgb);
        if (rc == 0 && want) {
            cr_expect(img->width == r->width && img->height == r->height, "%s: %dx%d, Pillow %dx%d", r->name,
                      img->width, img->height, r->width, r->height);
            size_t n = (size_t)img->width * img->height * 3, past_palette = 0, i = 0;
            int same = n == len && same_rgb(img->rgb, want, n, r, &past_palette, &i);
            if (!same && n == len) {
                cr_expect(same, "%s: RGB differs from Pillow's at byte %zu (pixel %zu, %d vs %d)", r->name, i, i / 3,
                          img->rgb[i], want[i]);
            } else {
                cr_expect(same, "%s: RGB size %zu, Pillow's %zu", r->name, n, len);
            }
            if (past_palette)
                cr_log_info("%s: %zu pixels index past the short palette: black in Pillow %d, grey in frost as in "
                            "Pillow 9.4",
                            r->name, past_palette, pillow_major);
            bad += !same;
        }
        bad += rc != 0 || !want;
        free(want);
    } else {
        cr_expect_eq(rc, -1, "%s: Pillow refuses it (%s), frost decodes it", r->name, r->result);
        cr_expect(err[0] && !strchr(err, '\n'), "%s: want a one-line error, got '%s'", r->name, err);
        bad += rc != -1;
    }
    if (r->width >= 0) {   // Image.open worked: the header facts must agree, whatever the decode did
        cr_expect_str_eq(info.format, r->format, "%s: format", r->name);
        cr_expect(same_mode(info.mode, r), "%s: mode %s, Pillow %s", r->name, info.mode, r->mode);
        if (strcmp(info.mode, r->mode) != 0 && same_mode(info.mode, r))
            cr_log_info("%s: Pillow %d calls 16-bit grey %s, 9.4 (and frost) %s", r->name, pillow_major, r->mode,
                        info.mode);
        cr_expect(info.width == r->width && info.height == r->height, "%s: info %dx%d, Pillow %dx%d", r->name,
                  info.width, info.height, r->width, r->height);
        bad += !same_mode(info.mode, r);
        // image_probe, from the bytes alone, says the same
        size_t len = 0;
        uint8_t *data = (uint8_t *)tu_read_file(path, &len);
        image_info probed;
        cr_expect_eq(image_probe(data, len, &probed, err, sizeof err), 0, "%s: probe: %s", r->name, err);
        cr_expect(strcmp(probed.format, r->format) == 0 && same_mode(probed.mode, r) && probed.width == r->width &&
                      probed.height == r->height,
                  "%s: probe says %s %s %dx%d, Pillow %s %s %dx%d", r->name, probed.format, probed.mode, probed.width,
                  probed.height, r->format, r->mode, r->width, r->height);
        free(data);
    }
    return bad;
}

// All fixtures whose name starts with prefix, through one decoder and one reused output buffer.
static void check_group(const char *prefix, size_t min_count) {
    size_t n = 0, seen = 0;
    fixture *rows = manifest(&n);
    image_decoder *dec = image_decoder_new();
    cr_assert_not_null(dec);
    image_rgb8 img = {0};
    for (size_t i = 0; i < n; i++) {
        if (!starts_with(rows[i].name, prefix)) continue;
        char path[1024], want[1024];
        snprintf(path, sizeof path, "%s", tu_oracle("decode/files/"));
        strncat(path, rows[i].name, sizeof path - strlen(path) - 1);
        snprintf(want, sizeof want, "%s", tu_oracle("decode/expected/"));
        strncat(want, rows[i].name, sizeof want - strlen(want) - 5);
        strcat(want, ".rgb");
        check_against_pil(dec, &img, &rows[i], path, want);
        seen++;
    }
    cr_expect_geq(seen, min_count, "only %zu fixtures named %s* in the manifest", seen, prefix);
    image_free(&img);
    image_decoder_free(dec);
    free(rows);
}

// ---------------------------------------------------------------------------------------------
// Fixtures made here: JPEGs from TurboJPEG, PNGs by hand

static uint8_t *picture(int w, int h) {
    uint8_t *px = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = px + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(x * 255 / (w > 1 ? w - 1 : 1));
            p[1] = (uint8_t)(y * 255 / (h > 1 ? h - 1 : 1));
            p[2] = (uint8_t)((x + y) * 255 / (w + h));
        }
    return px;
}

// A JPEG of the test picture (4:2:0, quality 85); *len gets its size. Caller frees with free().
static uint8_t *make_jpeg(int w, int h, size_t *len) {
    tjhandle tj = tjInitCompress();
    cr_assert_not_null(tj);
    uint8_t *px = picture(w, h), *buf = NULL;
    unsigned long size = 0;
    cr_assert_eq(tjCompress2(tj, px, w, 0, h, TJPF_RGB, &buf, &size, TJSAMP_420, 85, 0), 0, "tjCompress2: %s",
                 tjGetErrorStr2(tj));
    uint8_t *copy = malloc(size);
    memcpy(copy, buf, size);
    tjFree(buf);
    tjDestroy(tj);
    free(px);
    *len = size;
    return copy;
}

static uint32_t crc32_of(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

// A 2x2 8-bit RGB PNG, stored (uncompressed) deflate, assembled byte by byte. *len gets its size.
static uint8_t *make_png(size_t *len) {
    static uint8_t png[128];
    size_t k = 0;
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(png, sig, 8);
    k = 8;
    // IHDR
    put32(png + k, 13);
    memcpy(png + k + 4, "IHDR", 4);
    put32(png + k + 8, 2);
    put32(png + k + 12, 2);
    png[k + 16] = 8, png[k + 17] = 2, png[k + 18] = 0, png[k + 19] = 0, png[k + 20] = 0;
    put32(png + k + 21, crc32_of(png + k + 4, 17));
    k += 25;
    // IDAT: zlib header, one stored block of the 2 rows (filter byte + 6 bytes), adler32
    uint8_t raw[14] = {0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 10, 20, 30};
    uint8_t z[2 + 5 + 14 + 4] = {0x78, 0x01, 0x01, 14, 0, (uint8_t)~14, 0xFF};
    memcpy(z + 7, raw, 14);
    uint32_t a = 1, b = 0;
    for (int i = 0; i < 14; i++) a = (a + raw[i]) % 65521, b = (b + a) % 65521;
    put32(z + 21, b << 16 | a);
    put32(png + k, sizeof z);
    memcpy(png + k + 4, "IDAT", 4);
    memcpy(png + k + 8, z, sizeof z);
    put32(png + k + 8 + sizeof z, crc32_of(png + k + 4, 4 + sizeof z));
    k += 12 + sizeof z;
    put32(png + k, 0);
    memcpy(png + k + 4, "IEND", 4);
    put32(png + k + 8, crc32_of(png + k + 4, 4));
    k += 12;
    *len = k;
    uint8_t *copy = malloc(k);
    memcpy(copy, png, k);
    return copy;
}

static const char *write_tmp(const char *name, const void *data, size_t len) {
    const char *path = tmp_path(name);
    cr_assert_eq(tu_write_file(path, data, len), 0, "cannot write %s", path);
    return path;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Loading path must fail with a one-line message containing word; returns the time it took.
static double expect_refused(const char *path, const image_decode_opts *opts, const char *word) {
    image_rgb8 img;
    image_info info;
    char err[256] = "";
    double t0 = now_s();
    int rc = image_load_file(path, opts, &img, &info, err, sizeof err);
    double dt = now_s() - t0;
    cr_expect_eq(rc, -1, "%s: should be refused", path);
    cr_expect(err[0] != '\0' && strchr(err, '\n') == NULL, "%s: want one line, got '%s'", path, err);
    cr_expect(contains_nocase(err, word), "%s: error '%s' should mention '%s'", path, err, word);
    cr_expect_null(img.rgb, "%s: no pixels on failure", path);
    image_free(&img);
    return dt;
}

// ---------------------------------------------------------------------------------------------
// Pillow's pixels

Test(decode, jpeg_fixtures_match_pil) { check_group("jpeg_", 20); }

Test(decode, png_fixtures_match_pil) { check_group("png_", 35); }

Test(decode, pnm_fixtures_match_pil) { check_group("pnm_", 9); }

// Damage Pillow shrugs off (libjpeg warnings, CRCs after the first IDAT, no IEND) must decode to
// its pixels; damage it refuses (truncation, bad early CRC, broken streams) must be refused.
Test(decode, damaged_fixtures_get_pils_verdict) { check_group("bad_", 17); }

Test(decode, restart_marker_jpegs_match_pil) {
    size_t n = 0, found = 0;
    fixture *rows = manifest(&n);
    for (size_t i = 0; i < n; i++) found += starts_with(rows[i].name, "jpeg_restart_");
    free(rows);
    if (found == 0) {
        char *missing = tu_read_file(tu_oracle("decode/tools_missing.txt"), NULL);
        // jpegtran is a declared test dependency (scripts/install-deps.sh test): its absence is a failure
        cr_assert_fail("no restart-marker fixtures: %s (jpegtran is in Debian's libjpeg-turbo-progs, which "
                       "make test installs)",
                       missing ? missing : "?");
        free(missing);
    }
    // The fixture really has restart markers (jpegtran did its job) ...
    size_t len = 0;
    uint8_t *d = (uint8_t *)tu_read_file(tu_oracle("decode/files/jpeg_restart_rows.jpg"), &len);
    cr_assert_not_null(d);
    int rst = 0;
    for (size_t i = 0; i + 1 < len; i++) rst += d[i] == 0xFF && d[i + 1] >= 0xD0 && d[i + 1] <= 0xD7;
    free(d);
    cr_expect_gt(rst, 10, "jpeg_restart_rows.jpg has only %d RST markers", rst);
    // ... and decodes to Pillow's pixels.
    check_group("jpeg_restart_", 4);
}

// The one-shot functions (a temporary decoder each time, from a file and from memory) give the
// same answers as the reused decoder.
Test(decode, one_shot_functions_agree) {
    size_t n = 0;
    fixture *rows = manifest(&n);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s", tu_oracle("decode/files/"));
        strncat(path, rows[i].name, sizeof path - strlen(path) - 1);
        size_t len = 0;
        uint8_t *data = (uint8_t *)tu_read_file(path, &len);
        cr_assert_not_null(data, "%s", path);
        image_rgb8 a, b;
        char ea[256] = "", eb[256] = "";
        int ra = image_load_file(path, NULL, &a, NULL, ea, sizeof ea);
        int rb = image_decode(data, len, NULL, &b, NULL, eb, sizeof eb);
        cr_expect_eq(ra, rb, "%s: %d vs %d", rows[i].name, ra, rb);
        cr_expect_str_eq(ea, eb, "%s", rows[i].name);
        if (ra == 0 && rb == 0)
            cr_expect(a.width == b.width && a.height == b.height &&
                          memcmp(a.rgb, b.rgb, (size_t)a.width * a.height * 3) == 0,
                      "%s: file and memory decodes differ", rows[i].name);
        cr_expect_eq(ra == 0, strcmp(rows[i].result, "ok") == 0, "%s", rows[i].name);
        image_free(&a);
        image_free(&b);
        free(data);
    }
    free(rows);
}

Test(decode, real_photos_match_pil) {
    const char *cats = tu_shared("datasets/dvc-mini/train/cat");
    struct stat st;
    if (!cats || stat(cats, &st) != 0 || !S_ISDIR(st.st_mode))
        cr_skip_test("../shared/datasets/dvc-mini is not here: no real photos to compare with Pillow");
    size_t n = 0;
    fixture *rows = read_manifest(tu_oracle("decode/photos.tsv"), &n);
    cr_assert_not_null(rows, "dvc-mini is here but %s is not: rerun the oracle", tu_oracle("decode/photos.tsv"));
    cr_expect_eq(n, 20, "photos.tsv lists %zu photos", n);
    image_decoder *dec = image_decoder_new();
    image_rgb8 img = {0};
    for (size_t i = 0; i < n; i++) {
        char path[1024], want[1024];
        snprintf(path, sizeof path, "%s", tu_shared(rows[i].name));
        const char *base = strrchr(rows[i].name, '/');
        snprintf(want, sizeof want, "%s", tu_oracle("decode/expected/photos/"));
        strncat(want, base ? base + 1 : rows[i].name, sizeof want - strlen(want) - 5);
        strcat(want, ".rgb");
        check_against_pil(dec, &img, &rows[i], path, want);
    }
    image_free(&img);
    image_decoder_free(dec);
    free(rows);
}

// ---------------------------------------------------------------------------------------------
// Refused inputs

Test(decode, empty_file) { expect_refused(write_tmp("empty.jpg", "", 0), NULL, "empty"); }

Test(decode, text_file_named_jpg) {
    const char *text = "this is not a picture\n";
    expect_refused(write_tmp("notes.jpg", text, strlen(text)), NULL, "not an image");
}

Test(decode, truncated_jpeg) {
    size_t len = 0;
    uint8_t *jpg = make_jpeg(320, 240, &len);
    expect_refused(write_tmp("half.jpg", jpg, len / 2), NULL, "truncated");
    expect_refused(write_tmp("no_eoi.jpg", jpg, len - 2), NULL, "truncated");   // Pillow refuses this too
    expect_refused(write_tmp("header_only.jpg", jpg, 200), NULL, "truncated");
    free(jpg);
}

// Random bytes in the entropy-coded data are not an error for Pillow (libjpeg warns and goes on,
// and Pillow ignores warnings), so "corrupt" here means a broken stream libjpeg cannot go on
// with: a frame header in the middle of the scan, and a Huffman table that is nonsense.
Test(decode, corrupt_jpeg) {
    size_t len = 0;
    uint8_t *jpg = make_jpeg(320, 240, &len);
    uint8_t *bad = malloc(len);
    memcpy(bad, jpg, len);
    memcpy(bad + len / 2, "\xff\xc0\x00\x11", 4);
    expect_refused(write_tmp("sof_in_scan.jpg", bad, len), NULL, "corrupt");
    memcpy(bad, jpg, len);
    size_t dht = 0;
    while (dht + 1 < len && !(bad[dht] == 0xFF && bad[dht + 1] == 0xC4)) dht++;
    cr_assert_lt(dht + 40, len, "no DHT in the JPEG");
    memset(bad + dht + 5, 0xFF, 16);   // 16 code counts of 255: more codes than any table can hold
    expect_refused(write_tmp("bad_dht.jpg", bad, len), NULL, "corrupt");
    free(bad);
    free(jpg);
}

Test(decode, truncated_png) {
    size_t len = 0;
    uint8_t *png = make_png(&len);
    expect_refused(write_tmp("cut.png", png, 50), NULL, "truncated");
    expect_refused(write_tmp("cut_ihdr.png", png, 20), NULL, "truncated");
    free(png);
}

Test(decode, png_bad_crc) {
    size_t len = 0;
    uint8_t *png = make_png(&len);
    image_rgb8 img;
    char err[256];
    cr_assert_eq(image_decode(png, len, NULL, &img, NULL, err, sizeof err), 0, "the good PNG: %s", err);
    cr_expect(img.width == 2 && img.height == 2 && memcmp(img.rgb, "\xff\0\0\0\xff\0\0\0\xff\x0a\x14\x1e", 12) == 0);
    image_free(&img);
    png[29] ^= 0x40;   // IHDR's CRC
    expect_refused(write_tmp("bad_crc.png", png, len), NULL, "CRC");
    free(png);
}

Test(decode, jpeg_header_60000x60000_refused_fast) {
    size_t len = 0;
    uint8_t *jpg = make_jpeg(64, 48, &len);
    size_t sof = 0;
    while (sof + 9 < len && !(jpg[sof] == 0xFF && jpg[sof + 1] == 0xC0)) sof++;
    cr_assert_lt(sof + 9, len, "no SOF0");
    jpg[sof + 5] = 60000 >> 8, jpg[sof + 6] = 60000 & 0xFF;   // height
    jpg[sof + 7] = 60000 >> 8, jpg[sof + 8] = 60000 & 0xFF;   // width
    const char *path = write_tmp("huge.jpg", jpg, len);
    double dt = expect_refused(path, NULL, "pixel limit");
    cr_expect_lt(dt, 0.5, "took %.3f s: the limit must be checked from the header", dt);
    image_info info;
    char err[256];
    cr_expect_eq(image_probe(jpg, len, &info, err, sizeof err), 0, "probe: %s", err);
    cr_expect(info.width == 60000 && info.height == 60000, "probe says %dx%d", info.width, info.height);
    free(jpg);
}

Test(decode, png_header_100000x100000_refused_fast) {
    size_t len = 0;
    uint8_t *png = make_png(&len);
    put32(png + 16, 100000);
    put32(png + 20, 100000);
    put32(png + 29, crc32_of(png + 12, 17));
    double dt = expect_refused(write_tmp("huge.png", png, len), NULL, "pixel limit");
    cr_expect_lt(dt, 0.5, "took %.3f s: the limit must be checked from the header", dt);
    image_rgb8 img;
    char err[256];
    cr_expect_eq(image_decode(png, len, NULL, &img, NULL, err, sizeof err), -1);
    cr_expect_str_eq(err, "PNG image 100000x100000 exceeds the pixel limit (178956970)");
    free(png);
}

// Pillow refuses width*height > 2 * MAX_IMAGE_PIXELS; an image of exactly the limit is fine.
Test(decode, max_pixels_option_is_a_strict_bound) {
    size_t len = 0;
    uint8_t *jpg = make_jpeg(97, 61, &len);
    image_rgb8 img;
    char err[256];
    image_decode_opts o = {.max_pixels = 97 * 61};
    cr_expect_eq(image_decode(jpg, len, &o, &img, NULL, err, sizeof err), 0, "%s", err);
    image_free(&img);
    o.max_pixels = 97 * 61 - 1;
    cr_expect_eq(image_decode(jpg, len, &o, &img, NULL, err, sizeof err), -1);
    cr_expect_str_eq(err, "JPEG image 97x61 exceeds the pixel limit (5916)");
    free(jpg);
}

Test(decode, symlink_loop) {
    const char *a = tmp_path("a.jpg"), *b = tmp_path("b.jpg");
    cr_assert_eq(symlink(b, a), 0);
    cr_assert_eq(symlink(a, b), 0);
    expect_refused(a, NULL, "loop");
}

Test(decode, dangling_symlink_and_missing_file) {
    const char *a = tmp_path("dangling.jpg");
    cr_assert_eq(symlink(tmp_path("nowhere.jpg"), a), 0);
    expect_refused(a, NULL, "dangling");
    expect_refused(tmp_path("missing.jpg"), NULL, "No such file");
}

Test(decode, unreadable_and_non_regular_files) {
    // A directory (and a FIFO, which must not block the open) named like an image.
    const char *dir = tmp_path("folder.jpg");
    cr_assert_eq(mkdir(dir, 0755), 0);
    expect_refused(dir, NULL, "not a regular file");
    const char *fifo = tmp_path("pipe.jpg");
    cr_assert_eq(mkfifo(fifo, 0644), 0);
    expect_refused(fifo, NULL, "not a regular file");

    size_t len = 0;
    uint8_t *jpg = make_jpeg(32, 32, &len);
    const char *path = write_tmp("secret.jpg", jpg, len);
    free(jpg);
    cr_assert_eq(chmod(path, 0), 0);
    if (geteuid() == 0) {
        // root reads a mode-000 file anyway: then it simply decodes.
        image_rgb8 img;
        char err[256];
        cr_expect_eq(image_load_file(path, NULL, &img, NULL, err, sizeof err), 0, "%s", err);
        image_free(&img);
    } else {
        expect_refused(path, NULL, "permission denied");
    }
}

Test(decode, other_formats_are_unsupported) {
    static const struct {
        const char *name, *magic, *word;
        size_t len;
    } cases[] = {
        {"x.bmp", "BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00", "unsupported image format BMP", 14},
        {"x.webp", "RIFF\x24\x00\x00\x00WEBPVP8 ", "unsupported image format WEBP", 16},
        {"x.tif", "II*\x00\x08\x00\x00\x00", "unsupported image format TIFF", 8},
        {"y.tiff", "MM\x00*\x00\x00\x00\x08", "unsupported image format TIFF", 8},
        {"x.gif", "GIF89a\x01\x00\x01\x00", "unsupported image format GIF", 10},
        {"plain.ppm", "P3\n1 1\n255\n1 2 3\n", "unsupported image format PPM", 17},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        expect_refused(write_tmp(cases[i].name, cases[i].magic, cases[i].len), NULL, cases[i].word);
        image_info info;
        char err[256];
        cr_expect_eq(image_probe((const uint8_t *)cases[i].magic, cases[i].len, &info, err, sizeof err), -1);
        cr_expect(contains_nocase(cases[i].word, info.format) && info.format[0], "%s: probe format '%s'", cases[i].name,
                  info.format);
    }
}

// libpng prints warnings to stderr by default, libjpeg could too: nothing may reach the terminal.
Test(decode, nothing_is_printed) {
    fflush(stderr);
    int saved = dup(2);
    const char *log = tmp_path("stderr.txt");
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0);
    dup2(fd, 2);
    close(fd);
    size_t n = 0;
    fixture *rows = manifest(&n);
    image_decoder *dec = image_decoder_new();
    image_rgb8 img = {0};
    for (size_t i = 0; i < n; i++) {
        char path[1024], err[256];
        snprintf(path, sizeof path, "%s", tu_oracle("decode/files/"));
        strncat(path, rows[i].name, sizeof path - strlen(path) - 1);
        image_decoder_load_file(dec, path, NULL, &img, NULL, err, sizeof err);
    }
    image_free(&img);
    image_decoder_free(dec);
    free(rows);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    size_t len = 0;
    char *text = tu_read_file(log, &len);
    cr_expect_eq(len, 0, "the decoders printed: %s", text ? text : "?");
    free(text);
}

// ---------------------------------------------------------------------------------------------
// DCT scaling (fast mode), probing, buffer reuse, threads

static void decode_dims(const uint8_t *jpg, size_t len, int min_side, int fast, int *w, int *h) {
    image_decode_opts o = {.dct_min_side = min_side, .fast_dct = fast};
    image_rgb8 img;
    image_info info;
    char err[256];
    cr_assert_eq(image_decode(jpg, len, &o, &img, &info, err, sizeof err), 0, "%s", err);
    *w = img.width;
    *h = img.height;
    image_free(&img);
}

Test(decode, dct_scaling_picks_the_smallest_scale_keeping_the_short_side) {
    size_t len = 0;
    uint8_t *jpg = make_jpeg(1000, 800, &len);
    int w, h;
    decode_dims(jpg, len, 224, 0, &w, &h);   // 1/4 would give a short side of 200 < 224
    cr_expect(w == 500 && h == 400, "224: %dx%d, want 500x400", w, h);
    decode_dims(jpg, len, 450, 0, &w, &h);   // 800 < 2*450: no scaling
    cr_expect(w == 1000 && h == 800, "450: %dx%d, want 1000x800", w, h);
    decode_dims(jpg, len, 200, 1, &w, &h);
    cr_expect(w == 250 && h == 200, "200: %dx%d, want 250x200", w, h);
    decode_dims(jpg, len, 100, 1, &w, &h);
    cr_expect(w == 125 && h == 100, "100: %dx%d, want 125x100", w, h);
    decode_dims(jpg, len, 0, 1, &w, &h);
    cr_expect(w == 1000 && h == 800, "0: %dx%d", w, h);
    free(jpg);
    jpg = make_jpeg(1001, 801, &len);   // odd sizes round up, as TurboJPEG's TJSCALED does
    decode_dims(jpg, len, 224, 0, &w, &h);
    cr_expect(w == 501 && h == 401, "1001x801: %dx%d, want 501x401", w, h);
    free(jpg);
}

// The fast flags change pixels a little, never the size, and stay close to the exact decode.
Test(decode, fast_dct_is_close_to_exact) {
    size_t len = 0;
    uint8_t *jpg = make_jpeg(320, 240, &len);
    image_rgb8 exact, fast;
    char err[256];
    image_decode_opts o = {.fast_dct = 1};
    cr_assert_eq(image_decode(jpg, len, NULL, &exact, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(image_decode(jpg, len, &o, &fast, NULL, err, sizeof err), 0, "%s", err);
    cr_assert(exact.width == fast.width && exact.height == fast.height);
    double sum = 0;
    size_t n = (size_t)exact.width * exact.height * 3;
    for (size_t i = 0; i < n; i++) sum += abs(exact.rgb[i] - fast.rgb[i]);
    cr_expect_lt(sum / n, 3.0, "mean difference %.2f", sum / n);
    image_free(&exact);
    image_free(&fast);
    free(jpg);
}

Test(decode, probe_reads_only_the_header) {
    size_t len = 0;
    uint8_t *jpg = make_jpeg(320, 240, &len);
    image_info info;
    char err[256];
    // Cut in the middle of the scan: Image.open works (the header is whole), the decode does not.
    cr_expect_eq(image_probe(jpg, len / 2, &info, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(info.format, "JPEG");
    cr_expect_str_eq(info.mode, "RGB");
    cr_expect(info.width == 320 && info.height == 240);
    cr_expect_eq(image_probe(jpg, 100, &info, err, sizeof err), -1);
    cr_expect(contains_nocase(err, "truncated"), "%s", err);
    cr_expect_eq(image_probe((const uint8_t *)"", 0, &info, err, sizeof err), -1);
    cr_expect_eq(image_probe((const uint8_t *)"hello", 5, &info, err, sizeof err), -1);
    cr_expect_str_eq(err, "not an image (unknown format)");
    cr_expect_str_eq(info.format, "");
    free(jpg);
}

// A worker's output buffer is reused: a smaller image after a larger one allocates nothing.
Test(decode, decoder_reuses_its_buffers) {
    size_t big_len = 0, small_len = 0, png_len = 0;
    uint8_t *big = make_jpeg(400, 300, &big_len), *small = make_jpeg(40, 30, &small_len), *png = make_png(&png_len);
    image_decoder *dec = image_decoder_new();
    image_rgb8 img = {0};
    char err[256];
    cr_assert_eq(image_decoder_decode(dec, big, big_len, NULL, &img, NULL, err, sizeof err), 0, "%s", err);
    uint8_t *buf = img.rgb;
    size_t cap = img.cap;
    cr_expect_geq(cap, (size_t)400 * 300 * 3);
    cr_assert_eq(image_decoder_decode(dec, small, small_len, NULL, &img, NULL, err, sizeof err), 0, "%s", err);
    cr_expect(img.rgb == buf && img.cap == cap && img.width == 40 && img.height == 30);
    cr_assert_eq(image_decoder_decode(dec, png, png_len, NULL, &img, NULL, err, sizeof err), 0, "%s", err);
    cr_expect(img.rgb == buf && img.width == 2 && img.height == 2);
    // a failure keeps the buffer for the next image and says the size is 0x0
    cr_expect_eq(image_decoder_decode(dec, big, big_len / 2, NULL, &img, NULL, err, sizeof err), -1);
    cr_expect(img.rgb == buf && img.width == 0 && img.height == 0);
    image_free(&img);
    image_free(&img);   // idempotent
    image_rgb8 zero = {0};
    image_free(&zero);
    image_free(NULL);
    image_decoder_free(dec);
    image_decoder_free(NULL);
    free(big);
    free(small);
    free(png);
}

typedef struct {
    fixture *rows;
    size_t n;
    const char *dir;   // $FROST_ORACLE/decode, found before the threads start (tu_oracle is not thread-safe)
    int failures;
    char first[512];   // the first fixture that went wrong, and how
} thread_job;

static void *decode_all(void *arg) {
    thread_job *j = arg;
    image_decoder *dec = image_decoder_new();
    image_rgb8 img = {0};
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < j->n; i++) {
            const fixture *r = &j->rows[(i * 7 + round) % j->n];
            char path[1024], want[1024], err[256];
            snprintf(path, sizeof path, "%s/files/%s", j->dir, r->name);
            snprintf(want, sizeof want, "%s/expected/%s.rgb", j->dir, r->name);
            int rc = image_decoder_load_file(dec, path, NULL, &img, NULL, err, sizeof err);
            size_t len = 0, past_palette, first;
            char *exp = rc == 0 ? tu_read_file(want, &len) : NULL;
            if ((rc == 0) != (strcmp(r->result, "ok") == 0) ||
                (rc == 0 && (!exp || len != (size_t)img.width * img.height * 3 ||
                             !same_rgb(img.rgb, (const uint8_t *)exp, len, r, &past_palette, &first)))) {
                if (!j->failures) snprintf(j->first, sizeof j->first, "%s (%s)", r->name, rc ? err : "pixels differ");
                j->failures++;
            }
            free(exp);
        }
    image_free(&img);
    image_decoder_free(dec);
    return NULL;
}

// One decoder per thread, as the loader uses them: no shared state between decoders.
Test(decode, one_decoder_per_thread) {
    size_t n = 0;
    fixture *rows = manifest(&n);
    char dir[900];
    snprintf(dir, sizeof dir, "%s", tu_oracle("decode"));
    pthread_t t[4];
    thread_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (thread_job){.rows = rows, .n = n, .dir = dir};
        cr_assert_eq(pthread_create(&t[i], NULL, decode_all, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        cr_expect_eq(jobs[i].failures, 0, "thread %d: %d fixtures decoded differently, first %s", i, jobs[i].failures,
                     jobs[i].first);
    }
    free(rows);
}
