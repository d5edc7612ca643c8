// test_safetensors.c - Criterion tests for core/safetensors.
//
// Every test gets a fresh mkdtemp directory under /tmp and builds its own
// fixtures there: files written by safet_write, and hand-built byte strings
// for the hostile inputs the reader must refuse. Criterion runs each test in
// its own process, so the rlimit/signal changes in the EFBIG test stay there.

#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safetensors.h"

// ---------------------------------------------------------------------------
// Fixture: one temp directory per test

static char g_dir[64];

static void dir_setup(void) {
    strcpy(g_dir, "/tmp/frost_st_XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir), "mkdtemp: %s", strerror(errno));
}

// Tests only ever create plain files directly in g_dir.
static void dir_teardown(void) {
    DIR *d = opendir(g_dir);
    if (!d) return;
    struct dirent *de;
    char p[512];
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        snprintf(p, sizeof p, "%s/%s", g_dir, de->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(g_dir);
}

TestSuite(safetensors, .init = dir_setup, .fini = dir_teardown);

// ---------------------------------------------------------------------------
// Helpers

// Path of name inside the test directory (a few rotating buffers, so two
// paths can be live at once).
static const char *in_dir(const char *name) {
    static char bufs[4][512];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", g_dir, name);
    return b;
}

static void put_file(const char *path, const void *bytes, size_t len) {
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp, "fopen %s: %s", path, strerror(errno));
    if (len) cr_assert_eq(fwrite(bytes, 1, len, fp), len);
    cr_assert_eq(fclose(fp), 0);
}

static unsigned char *get_file(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "fopen %s: %s", path, strerror(errno));
    cr_assert_eq(fseek(fp, 0, SEEK_END), 0);
    long n = ftell(fp);
    cr_assert_geq(n, 0);
    rewind(fp);
    unsigned char *b = malloc((size_t)n + 1);
    cr_assert_not_null(b);
    cr_assert_eq(fread(b, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return b;
}

// Builds a safetensors file by hand: an explicit 8-byte length (so tests can
// lie in it), the header text, then data.
static void put_raw(const char *path, uint64_t hlen, const char *header, const void *data, size_t dlen) {
    size_t tl = strlen(header);
    unsigned char *b = malloc(8 + tl + dlen + 1);
    cr_assert_not_null(b);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(hlen >> (8 * i));
    memcpy(b + 8, header, tl);
    if (dlen) memcpy(b + 8 + tl, data, dlen);
    put_file(path, b, 8 + tl + dlen);
    free(b);
}

// Same, with the length taken from the header text.
static void put_st(const char *path, const char *header, const void *data, size_t dlen) {
    put_raw(path, strlen(header), header, data, dlen);
}

static size_t count_dir_entries(void) {
    DIR *d = opendir(g_dir);
    cr_assert_not_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

static int is_zeroed(const safet_file *f) {
    return f->map == NULL && f->map_len == 0 && f->tensors == NULL && f->n_tensors == 0 && f->meta_keys == NULL &&
           f->meta_values == NULL && f->n_meta == 0;
}

// The reader must say no: -1, one non-empty line mentioning word, and f
// left closed.
static void expect_refused(const char *path, const char *word) {
    safet_file f;
    memset(&f, 0xAB, sizeof f);   // safet_open must zero-init, not trust this
    char err[512];
    memset(err, 0, sizeof err);
    int rc = safet_open(&f, path, err, sizeof err);
    cr_assert_eq(rc, -1, "expected refusal (word '%s'), got rc %d", word, rc);
    cr_assert_neq(err[0], '\0', "empty error message");
    for (const char *c = err; *c; c++)
        cr_assert((unsigned char)*c >= 0x20 && *c != 0x7F, "control byte in message: %s", err);
    cr_assert_not_null(strstr(err, word), "message lacks '%s': %s", word, err);
    cr_assert(is_zeroed(&f), "file struct not left closed after error");
    safet_close(&f);   // closing a failed open is harmless
}

static void expect_refused_hdr(const char *header, const void *data, size_t dlen, const char *word) {
    const char *p = in_dir("bad.safetensors");
    put_st(p, header, data, dlen);
    expect_refused(p, word);
}

// Fill callback: copies from an array of buffers and records the calls.
typedef struct {
    const void *const *src;
    size_t calls;
    size_t seen_index[16];
    size_t seen_nbytes[16];
    size_t fail_at;   // index that fails, or SIZE_MAX
} fill_ctx;

static int fill_copy(void *user, size_t index, void *dst, size_t nbytes, char *err, size_t errlen) {
    fill_ctx *c = user;
    if (c->calls < 16) {
        c->seen_index[c->calls] = index;
        c->seen_nbytes[c->calls] = nbytes;
    }
    c->calls++;
    if (index == c->fail_at) {
        snprintf(err, errlen, "fill: tensor %zu has no data (test failure injection)", index);
        return -1;
    }
    if (nbytes) memcpy(dst, c->src[index], nbytes);
    return 0;
}

static int fill_pattern(void *user, size_t index, void *dst, size_t nbytes, char *err, size_t errlen) {
    (void)user;
    (void)err;
    (void)errlen;
    unsigned char *d = dst;
    for (size_t i = 0; i < nbytes; i++) d[i] = (unsigned char)(i * 7 + index);
    return 0;
}

// The four tensors of the round trip, as fixtures shared by several tests.
static const float k_f32[6] = {1.0f, -2.5f, 3.25f, 0.0f, 1e-3f, 42.0f};
static const int64_t k_i64[4] = {INT64_MIN, -1, 0, INT64_MAX};
static const double k_scalar = 3.141592653589793;
static const int64_t k_shape_f32[2] = {2, 3};
static const int64_t k_shape_i64[1] = {4};
static const int64_t k_shape_empty[2] = {0, 5};

static int write_fixture(const char *path, char *err, size_t errlen) {
    const safet_entry e[4] = {
        {"weight", SAFET_F32, 2, k_shape_f32},
        {"steps", SAFET_I64, 1, k_shape_i64},
        {"empty", SAFET_F16, 2, k_shape_empty},
        {"scale", SAFET_F64, 0, NULL},
    };
    const void *src[4] = {k_f32, k_i64, NULL, &k_scalar};
    const char *mk[2] = {"format", "frost.note"};
    const char *mv[2] = {"pt", "h\u00e9llo \"quoted\""};
    fill_ctx c = {.src = src, .fail_at = SIZE_MAX};
    return safet_write(path, e, 4, mk, mv, 2, fill_copy, &c, err, errlen);
}

// ---------------------------------------------------------------------------
// Dtype helpers

Test(safetensors, dtype_names_sizes_and_parse) {
    static const struct {
        safet_dtype d;
        const char *name;
        size_t size;
    } want[] = {
        {SAFET_F32, "F32", 4}, {SAFET_F64, "F64", 8},   {SAFET_F16, "F16", 2}, {SAFET_BF16, "BF16", 2},
        {SAFET_I64, "I64", 8}, {SAFET_I32, "I32", 4},   {SAFET_I16, "I16", 2}, {SAFET_I8, "I8", 1},
        {SAFET_U8, "U8", 1},   {SAFET_BOOL, "BOOL", 1},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        cr_assert_str_eq(safet_dtype_name(want[i].d), want[i].name);
        cr_assert_eq(safet_dtype_size(want[i].d), want[i].size);
        safet_dtype d = SAFET_BOOL;
        cr_assert_eq(safet_dtype_parse(want[i].name, &d), 0);
        cr_assert_eq(d, want[i].d);
    }
    safet_dtype d;
    cr_assert_eq(safet_dtype_parse("f32", &d), -1, "parse must be case-sensitive");
    cr_assert_eq(safet_dtype_parse("F8_E4M3", &d), -1);
    cr_assert_eq(safet_dtype_parse("", &d), -1);
    cr_assert_eq(safet_dtype_parse(NULL, &d), -1);
    cr_assert_eq(safet_dtype_size((safet_dtype)99), 0);
    cr_assert_str_eq(safet_dtype_name((safet_dtype)99), "?");
}

// ---------------------------------------------------------------------------
// Round trip

Test(safetensors, round_trip) {
    const char *p = in_dir("model.safetensors");
    char err[256] = "";
    cr_assert_eq(write_fixture(p, err, sizeof err), 0, "write: %s", err);

    safet_file f;
    cr_assert_eq(safet_open(&f, p, err, sizeof err), 0, "open: %s", err);
    cr_assert_eq(f.n_tensors, 4);

    // Header order is entry order.
    cr_assert_str_eq(f.tensors[0].name, "weight");
    cr_assert_str_eq(f.tensors[1].name, "steps");
    cr_assert_str_eq(f.tensors[2].name, "empty");
    cr_assert_str_eq(f.tensors[3].name, "scale");

    const safet_tensor *w = safet_find(&f, "weight");
    cr_assert_not_null(w);
    cr_assert_eq(w->dtype, SAFET_F32);
    cr_assert_eq(w->ndim, 2);
    cr_assert_eq(w->shape[0], 2);
    cr_assert_eq(w->shape[1], 3);
    cr_assert_eq(w->nbytes, sizeof k_f32);
    cr_assert_eq(memcmp(w->data, k_f32, sizeof k_f32), 0);
    cr_assert_eq(safet_numel(w), 6);

    const safet_tensor *s = safet_find(&f, "steps");
    cr_assert_not_null(s);
    cr_assert_eq(s->dtype, SAFET_I64);
    cr_assert_eq(s->ndim, 1);
    cr_assert_eq(s->shape[0], 4);
    cr_assert_eq(s->nbytes, sizeof k_i64);
    cr_assert_eq(memcmp(s->data, k_i64, sizeof k_i64), 0);

    const safet_tensor *z = safet_find(&f, "empty");
    cr_assert_not_null(z);
    cr_assert_eq(z->dtype, SAFET_F16);
    cr_assert_eq(z->ndim, 2);
    cr_assert_eq(z->shape[0], 0);
    cr_assert_eq(z->shape[1], 5);
    cr_assert_eq(z->nbytes, 0);
    cr_assert_eq(safet_numel(z), 0);

    const safet_tensor *c = safet_find(&f, "scale");
    cr_assert_not_null(c);
    cr_assert_eq(c->dtype, SAFET_F64);
    cr_assert_eq(c->ndim, 0);
    cr_assert_eq(c->nbytes, sizeof(double));
    cr_assert_eq(safet_numel(c), 1);
    double got;
    memcpy(&got, c->data, sizeof got);   // data may be unaligned
    cr_assert_eq(got, k_scalar);

    cr_assert_null(safet_find(&f, "nope"));
    cr_assert_null(safet_find(&f, "__metadata__"));

    cr_assert_eq(f.n_meta, 2);
    cr_assert_str_eq(f.meta_keys[0], "format");
    cr_assert_str_eq(f.meta_keys[1], "frost.note");
    cr_assert_str_eq(safet_meta(&f, "format"), "pt");
    cr_assert_str_eq(safet_meta(&f, "frost.note"), "h\u00e9llo \"quoted\"");
    cr_assert_null(safet_meta(&f, "missing"));

    // Tensors tile the data buffer in entry order.
    const unsigned char *base = (const unsigned char *)f.map;
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++) hlen |= (uint64_t)base[i] << (8 * i);
    cr_assert_eq((const unsigned char *)w->data, base + 8 + hlen);
    cr_assert_eq((const unsigned char *)s->data, base + 8 + hlen + sizeof k_f32);
    cr_assert_eq(f.map_len, 8 + hlen + sizeof k_f32 + sizeof k_i64 + sizeof(double));

    safet_close(&f);
    cr_assert(is_zeroed(&f));
}

Test(safetensors, header_padded_so_data_is_8_aligned) {
    const char *p = in_dir("aligned.safetensors");
    char err[256] = "";
    cr_assert_eq(write_fixture(p, err, sizeof err), 0, "write: %s", err);

    size_t len;
    unsigned char *b = get_file(p, &len);
    cr_assert_geq(len, 8);
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++) hlen |= (uint64_t)b[i] << (8 * i);
    cr_assert_leq(8 + hlen, len);
    cr_assert_eq((8 + hlen) % 8, 0, "data starts at %llu", (unsigned long long)(8 + hlen));
    cr_assert_eq(b[8], '{');
    // JSON first (ending in '}'), then only spaces, fewer than 8 of them.
    size_t end = 8 + (size_t)hlen;
    size_t last = end;
    while (last > 8 && b[last - 1] == ' ') last--;
    cr_assert_eq(b[last - 1], '}');
    cr_assert_lt(end - last, 8);
    // __metadata__ comes first in the header.
    cr_assert_eq(memcmp(b + 8, "{\"__metadata__\"", 15), 0);
    // The first tensor's bytes sit right at the data start.
    cr_assert_eq(memcmp(b + end, k_f32, sizeof k_f32), 0);
    free(b);
}

Test(safetensors, write_calls_fill_once_per_entry_in_order) {
    const int64_t sh3[1] = {3}, sh0[1] = {0}, sh2[2] = {2, 2};
    const safet_entry e[3] = {
        {"a", SAFET_I32, 1, sh3},
        {"b", SAFET_BOOL, 1, sh0},
        {"c", SAFET_BF16, 2, sh2},
    };
    const int32_t a[3] = {1, 2, 3};
    const uint16_t c16[4] = {1, 2, 3, 4};
    const void *src[3] = {a, NULL, c16};
    fill_ctx c = {.src = src, .fail_at = SIZE_MAX};
    char err[256] = "";
    const char *p = in_dir("order.safetensors");
    cr_assert_eq(safet_write(p, e, 3, NULL, NULL, 0, fill_copy, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq(c.calls, 3);
    cr_assert_eq(c.seen_index[0], 0);
    cr_assert_eq(c.seen_index[1], 1);
    cr_assert_eq(c.seen_index[2], 2);
    cr_assert_eq(c.seen_nbytes[0], 12);
    cr_assert_eq(c.seen_nbytes[1], 0);
    cr_assert_eq(c.seen_nbytes[2], 8);

    safet_file f;
    cr_assert_eq(safet_open(&f, p, err, sizeof err), 0, "%s", err);
    cr_assert_eq(f.n_meta, 0);
    cr_assert_eq(f.n_tensors, 3);
    cr_assert_eq(memcmp(safet_find(&f, "c")->data, c16, sizeof c16), 0);
    safet_close(&f);
}

Test(safetensors, write_empty_file_round_trips) {
    const char *p = in_dir("empty.safetensors");
    char err[256] = "";
    cr_assert_eq(safet_write(p, NULL, 0, NULL, NULL, 0, NULL, NULL, err, sizeof err), 0, "%s", err);
    size_t len;
    unsigned char *b = get_file(p, &len);
    cr_assert_eq(len, 16);   // "{}" padded to 8
    cr_assert_eq(memcmp(b + 8, "{}      ", 8), 0);
    free(b);
    safet_file f;
    cr_assert_eq(safet_open(&f, p, err, sizeof err), 0, "%s", err);
    cr_assert_eq(f.n_tensors, 0);
    cr_assert_eq(f.n_meta, 0);
    safet_close(&f);
}

Test(safetensors, overwrite_replaces_existing_file_and_keeps_mode) {
    const char *p = in_dir("over.safetensors");
    put_file(p, "old contents", 12);
    cr_assert_eq(chmod(p, 0640), 0);
    const int64_t sh[1] = {64};
    const safet_entry e[1] = {{"x", SAFET_U8, 1, sh}};
    char err[256] = "";
    cr_assert_eq(safet_write(p, e, 1, NULL, NULL, 0, fill_pattern, NULL, err, sizeof err), 0, "%s", err);
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0640);
    cr_assert_eq(count_dir_entries(), 1);

    safet_file f;
    cr_assert_eq(safet_open(&f, p, err, sizeof err), 0, "%s", err);
    const unsigned char *d = safet_find(&f, "x")->data;
    for (size_t i = 0; i < 64; i++) cr_assert_eq(d[i], (unsigned char)(i * 7));
    safet_close(&f);
}

// ---------------------------------------------------------------------------
// Reading files written by hand

Test(safetensors, reads_hand_built_file_with_padding) {
    // Offsets deliberately out of header order: "b" comes first in the data.
    const char *hdr = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[2,10]},"
                      "\"__metadata__\":{\"k\":\"v\"},"
                      "\"b\":{\"dtype\":\"U8\",\"shape\":[1,2],\"data_offsets\":[0,2]}}     ";
    // b = {7, 9}; a = {1.0f, -2.0f} little-endian.
    const unsigned char data[10] = {7, 9, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0};
    const char *p = in_dir("hand.safetensors");
    put_st(p, hdr, data, sizeof data);

    safet_file f;
    char err[256] = "";
    cr_assert_eq(safet_open(&f, p, err, sizeof err), 0, "%s", err);
    cr_assert_eq(f.n_tensors, 2);
    cr_assert_str_eq(f.tensors[0].name, "a");   // header order, not data order
    cr_assert_str_eq(f.tensors[1].name, "b");
    const safet_tensor *a = &f.tensors[0];
    cr_assert_eq(a->dtype, SAFET_F32);
    cr_assert_eq(a->ndim, 1);
    cr_assert_eq(a->shape[0], 2);
    cr_assert_eq(a->nbytes, 8);
    cr_assert_eq(memcmp(a->data, data + 2, 8), 0);
    float v[2];
    memcpy(v, a->data, sizeof v);   // unaligned on purpose (offset 2)
    cr_assert_eq(v[0], 1.0f);
    cr_assert_eq(v[1], -2.0f);
    const safet_tensor *b = safet_find(&f, "b");
    cr_assert_eq(b->ndim, 2);
    cr_assert_eq(b->shape[0], 1);
    cr_assert_eq(b->shape[1], 2);
    cr_assert_eq(((const unsigned char *)b->data)[0], 7);
    cr_assert_eq(((const unsigned char *)b->data)[1], 9);
    cr_assert_str_eq(safet_meta(&f, "k"), "v");
    safet_close(&f);
}

Test(safetensors, reads_zero_size_tensors_at_buffer_edges) {
    const char *hdr = "{\"z0\":{\"dtype\":\"I8\",\"shape\":[0],\"data_offsets\":[0,0]},"
                      "\"x\":{\"dtype\":\"I16\",\"shape\":[1],\"data_offsets\":[0,2]},"
                      "\"z1\":{\"dtype\":\"BOOL\",\"shape\":[3,0],\"data_offsets\":[2,2]}}";
    const char *p = in_dir("zeros.safetensors");
    put_st(p, hdr, "\x01\x02", 2);
    safet_file f;
    char err[256] = "";
    cr_assert_eq(safet_open(&f, p, err, sizeof err), 0, "%s", err);
    cr_assert_eq(f.n_tensors, 3);
    cr_assert_eq(safet_find(&f, "z0")->nbytes, 0);
    cr_assert_eq(safet_find(&f, "z1")->nbytes, 0);
    cr_assert_eq(safet_find(&f, "x")->nbytes, 2);
    safet_close(&f);
}

Test(safetensors, close_is_idempotent) {
    safet_file f;
    memset(&f, 0, sizeof f);
    safet_close(&f);   // zeroed
    safet_close(NULL);
    const char *p = in_dir("c.safetensors");
    char err[256] = "";
    cr_assert_eq(write_fixture(p, err, sizeof err), 0, "%s", err);
    cr_assert_eq(safet_open(&f, p, err, sizeof err), 0, "%s", err);
    safet_close(&f);
    safet_close(&f);   // already closed
    cr_assert(is_zeroed(&f));
}

// ---------------------------------------------------------------------------
// Hostile and broken inputs: each refused with a telling message

Test(safetensors, refuses_zero_byte_file) {
    const char *p = in_dir("zero.safetensors");
    put_file(p, "", 0);
    expect_refused(p, "too short");
}

Test(safetensors, refuses_five_byte_file) {
    const char *p = in_dir("five.safetensors");
    put_file(p, "\x02\0\0\0\0", 5);
    expect_refused(p, "too short");
}

Test(safetensors, refuses_header_length_zero) {
    const char *p = in_dir("h0.safetensors");
    put_raw(p, 0, "{}", NULL, 0);
    expect_refused(p, "not a safetensors file");
}

Test(safetensors, refuses_header_length_past_eof) {
    const char *p = in_dir("past.safetensors");
    put_raw(p, 1000, "{\"a\":1}", NULL, 0);
    expect_refused(p, "runs past the end of the file");
}

Test(safetensors, refuses_huge_header_length) {
    const char *p = in_dir("huge.safetensors");
    put_raw(p, UINT64_MAX, "{}", NULL, 0);
    expect_refused(p, "not a safetensors file");
    put_raw(p, 100000001, "{}", NULL, 0);   // just over the limit
    expect_refused(p, "implausible");
}

Test(safetensors, refuses_header_not_starting_with_brace) {
    expect_refused_hdr("  {}", NULL, 0, "not a safetensors file");
    expect_refused_hdr("\x89PNG\r\n", NULL, 0, "not a safetensors file");
}

Test(safetensors, refuses_non_json_header) {
    expect_refused_hdr("{\"a\": nope}", NULL, 0, "not valid JSON");
    expect_refused_hdr("{\"a\":{}", NULL, 0, "not valid JSON");     // truncated
    expect_refused_hdr("{\"a\":1} x", NULL, 0, "not valid JSON");   // trailing junk
}

Test(safetensors, refuses_nul_padded_header) {
    const char hdr[] = "{}\0\0\0\0\0\0";
    const char *p = in_dir("nul.safetensors");
    unsigned char b[16] = {8};
    memcpy(b + 8, hdr, 8);
    put_file(p, b, sizeof b);
    expect_refused(p, "NUL");
}

Test(safetensors, refuses_invalid_utf8_header) { expect_refused_hdr("{\"\xff\xfe\":{}}", NULL, 0, "not valid JSON"); }

Test(safetensors, refuses_json_array_header) { expect_refused_hdr("[1,2,3]", NULL, 0, "not a safetensors file"); }

Test(safetensors, refuses_entry_not_object) { expect_refused_hdr("{\"a\":[1,2]}", NULL, 0, "not an object"); }

Test(safetensors, refuses_missing_dtype) {
    expect_refused_hdr("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "abcd", 4, "dtype");
}

Test(safetensors, refuses_unknown_dtype) {
    const char *p = in_dir("dt.safetensors");
    put_st(p, "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", "x", 1);
    expect_refused(p, "unknown dtype");
    expect_refused(p, "F8_E4M3");
}

Test(safetensors, refuses_shape_not_list) {
    expect_refused_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":4,\"data_offsets\":[0,4]}}", "abcd", 4, "shape");
}

Test(safetensors, refuses_shape_with_negative_dim) {
    expect_refused_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[2,-2],\"data_offsets\":[0,4]}}", "abcd", 4, "negative");
}

Test(safetensors, refuses_shape_with_non_integer_dim) {
    expect_refused_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[2.0,2],\"data_offsets\":[0,4]}}", "abcd", 4,
                       "not an integer");
}

Test(safetensors, refuses_too_many_dims) {
    expect_refused_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", "x", 1,
                       "dims");
}

Test(safetensors, refuses_element_count_overflow) {
    // 2^32 * 2^32 elements overflows even before the dtype size.
    expect_refused_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],"
                       "\"data_offsets\":[0,0]}}",
                       NULL, 0, "overflow");
    // Still refused when a later 0 would make the product 0.
    expect_refused_hdr("{\"a\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904,0],"
                       "\"data_offsets\":[0,0]}}",
                       NULL, 0, "overflow");
}

Test(safetensors, refuses_bad_data_offsets) {
    expect_refused_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", "x", 1, "data_offsets");
    expect_refused_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,\"1\"]}}", "x", 1, "data_offsets");
    expect_refused_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,0]}}", "x", 1, "begin <= end");
    expect_refused_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[-1,0]}}", "x", 1, "begin <= end");
}

Test(safetensors, refuses_data_offsets_past_end) {
    expect_refused_hdr("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "12345678", 8,
                       "past the end of the data buffer");
    // An offset that would wrap a pointer on any machine.
    expect_refused_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[0],"
                       "\"data_offsets\":[9223372036854775807,9223372036854775807]}}",
                       NULL, 0, "past the end");
}

Test(safetensors, refuses_size_mismatch) {
    expect_refused_hdr("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", "123456789abc", 12,
                       "need 8");
}

Test(safetensors, refuses_overlapping_tensors) {
    expect_refused_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                       "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}",
                       "123456", 6, "overlap");
    // Two names for the very same bytes.
    expect_refused_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                       "\"b\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]}}",
                       "1234", 4, "overlap");
    // A zero-size tensor placed inside another one.
    expect_refused_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                       "\"z\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[2,2]}}",
                       "1234", 4, "overlap");
}

Test(safetensors, refuses_hole_between_tensors) {
    expect_refused_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
                       "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[4,6]}}",
                       "123456", 6, "hole");
    // Hole at the very start.
    expect_refused_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}", "1234", 4, "hole");
}

Test(safetensors, refuses_trailing_bytes_after_last_tensor) {
    expect_refused_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", "12xx", 4, "hole");
    expect_refused_hdr("{}", "x", 1, "hole");
}

Test(safetensors, refuses_duplicate_key) {
    expect_refused_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                       "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
                       "12", 2, "duplicate");
    expect_refused_hdr("{\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"}}", NULL, 0, "duplicate");
}

Test(safetensors, refuses_metadata_value_not_string) {
    expect_refused_hdr("{\"__metadata__\":{\"epochs\":3}}", NULL, 0, "metadata");
    expect_refused_hdr("{\"__metadata__\":{\"ok\":\"x\",\"bad\":null}}", NULL, 0, "not a string");
}

Test(safetensors, refuses_metadata_not_object) {
    expect_refused_hdr("{\"__metadata__\":[\"a\"]}", NULL, 0, "metadata");
}

Test(safetensors, refuses_missing_file) { expect_refused(in_dir("does-not-exist.safetensors"), "No such file"); }

Test(safetensors, refuses_directory) { expect_refused(g_dir, "not a regular file"); }

Test(safetensors, hostile_names_do_not_break_message_line) {
    // A tensor name with a newline and an escape character, then a bad dtype:
    // the message must stay one printable line.
    expect_refused_hdr("{\"a\\nb\\u001b[2J\":{\"dtype\":\"??\",\"shape\":[],"
                       "\"data_offsets\":[0,1]}}",
                       "x", 1, "unknown dtype");
}

// ---------------------------------------------------------------------------
// Writer failures: atomic, nothing half-written, no temp files

Test(safetensors, failing_fill_leaves_existing_file_untouched) {
    const char *p = in_dir("keep.safetensors");
    char err[256] = "";
    cr_assert_eq(write_fixture(p, err, sizeof err), 0, "%s", err);
    size_t before_len;
    unsigned char *before = get_file(p, &before_len);

    const int64_t sh[1] = {1024};
    const safet_entry e[3] = {
        {"a", SAFET_F32, 1, sh},
        {"b", SAFET_F32, 1, sh},
        {"c", SAFET_F32, 1, sh},
    };
    static float buf[1024];
    const void *src[3] = {buf, buf, buf};
    fill_ctx c = {.src = src, .fail_at = 1};
    cr_assert_eq(safet_write(p, e, 3, NULL, NULL, 0, fill_copy, &c, err, sizeof err), -1);
    cr_assert_str_eq(err, "fill: tensor 1 has no data (test failure injection)");
    cr_assert_eq(c.calls, 2, "fill must stop at the first failure");

    size_t after_len;
    unsigned char *after = get_file(p, &after_len);
    cr_assert_eq(after_len, before_len);
    cr_assert_eq(memcmp(before, after, before_len), 0);
    cr_assert_eq(count_dir_entries(), 1, "temp file left behind");
    free(before);
    free(after);
}

Test(safetensors, write_into_missing_directory_fails_cleanly) {
    const char *p = in_dir("no/such/dir/x.safetensors");
    const int64_t sh[1] = {4};
    const safet_entry e[1] = {{"x", SAFET_U8, 1, sh}};
    char err[512] = "";
    cr_assert_eq(safet_write(p, e, 1, NULL, NULL, 0, fill_pattern, NULL, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, p), "message does not name the path: %s", err);
    cr_assert_not_null(strstr(err, "No such file"), "%s", err);
    cr_assert_eq(count_dir_entries(), 0);
}

Test(safetensors, write_error_efbig_leaves_existing_file_untouched) {
    const char *p = in_dir("big.safetensors");
    put_file(p, "precious", 8);

    // Cap file size at 4 KiB so writing the first 1 MiB tensor fails with
    // EFBIG (SIGXFSZ ignored, so write() returns the error instead).
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
    rl.rlim_cur = 4096;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);

    const int64_t sh[1] = {1 << 20};
    const safet_entry e[2] = {{"a", SAFET_U8, 1, sh}, {"b", SAFET_U8, 1, sh}};
    char err[512] = "";
    cr_assert_eq(safet_write(p, e, 2, NULL, NULL, 0, fill_pattern, NULL, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, p), "%s", err);
    cr_assert_not_null(strstr(err, strerror(EFBIG)), "%s", err);

    size_t len;
    unsigned char *b = get_file(p, &len);
    cr_assert_eq(len, 8);
    cr_assert_eq(memcmp(b, "precious", 8), 0);
    free(b);
    cr_assert_eq(count_dir_entries(), 1, "temp file left behind");
}

Test(safetensors, write_rejects_bad_entries) {
    const int64_t ok[1] = {1}, neg[1] = {-1}, big[2] = {INT64_MAX, 2};
    const int64_t many[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    const struct {
        safet_entry e[2];
        size_t n;
        const char *word;
    } cases[] = {
        {{{"a", SAFET_U8, 1, ok}, {"a", SAFET_U8, 1, ok}}, 2, "duplicate"},
        {{{"__metadata__", SAFET_U8, 1, ok}}, 1, "reserved"},
        {{{"a", SAFET_U8, 1, neg}}, 1, "negative"},
        {{{"a", (safet_dtype)42, 1, ok}}, 1, "dtype"},
        {{{"a", SAFET_U8, 9, many}}, 1, "ndim"},
        {{{"a", SAFET_U8, 1, NULL}}, 1, "ndim"},
        {{{"a", SAFET_U8, 2, big}}, 1, "too large"},
        {{{"\xff\xfe", SAFET_U8, 1, ok}}, 1, "UTF-8"},
        {{{NULL, SAFET_U8, 1, ok}}, 1, "no name"},
    };
    const char *p = in_dir("rej.safetensors");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        int rc = safet_write(p, cases[i].e, cases[i].n, NULL, NULL, 0, fill_pattern, NULL, err, sizeof err);
        cr_assert_eq(rc, -1, "case %zu accepted", i);
        cr_assert_not_null(strstr(err, cases[i].word), "case %zu: lacks '%s': %s", i, cases[i].word, err);
        cr_assert_eq(count_dir_entries(), 0, "case %zu left a file", i);
    }
}

Test(safetensors, write_rejects_bad_metadata) {
    const char *p = in_dir("meta.safetensors");
    char err[256] = "";
    const char *k2[2] = {"k", "k"}, *v2[2] = {"1", "2"};
    cr_assert_eq(safet_write(p, NULL, 0, k2, v2, 2, NULL, NULL, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "duplicate"), "%s", err);
    const char *k1[1] = {"k"}, *v1[1] = {NULL};
    cr_assert_eq(safet_write(p, NULL, 0, k1, v1, 1, NULL, NULL, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "metadata"), "%s", err);
    const char *vbad[1] = {"\xc3"};
    cr_assert_eq(safet_write(p, NULL, 0, k1, vbad, 1, NULL, NULL, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "UTF-8"), "%s", err);
    cr_assert_eq(count_dir_entries(), 0);
}
