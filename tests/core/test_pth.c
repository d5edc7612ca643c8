// test_pth.c — the .pth readers and the restricted unpickler: the tiny state_dict the oracle saved
// with torch.save in both formats (tests/oracle/weight_formats_oracle.py: wf/tiny*.pth and what
// PyTorch holds in wf/tiny.tsv), hostile pickles refused by name, every truncation an error, and
// thousands of random bit flips of both files read exactly as torch.load reads them or refused with a
// message, never a crash (in-process: Criterion reports a crash as a failure).
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pickle.h"
#include "pth_file.h"
#include "rng.h"
#include "safetensors.h"
#include "testutil.h"

static unsigned char *oracle_bytes(const char *rel, size_t *len) {
    unsigned char *b = (unsigned char *)tu_read_file(tu_oracle(rel), len);
    cr_assert_not_null(b, "oracle file %s missing: run make test, which writes it", tu_oracle(rel));
    return b;
}

// ---------------------------------------------------------------------------------------------
// the tiny state_dict against what PyTorch holds

// Splits s at tabs into at most n fields (empty fields kept); returns how many.
static int split_tabs(char *s, char **fields, int n) {
    int k = 0;
    fields[k++] = s;
    for (char *p = s; *p && k < n; p++)
        if (*p == '\t') {
            *p = '\0';
            fields[k++] = p + 1;
        }
    return k;
}

static void expect_tiny(const pth_file *f) {
    char *want = tu_read_file(tu_oracle("wf/tiny.tsv"), NULL);
    cr_assert_not_null(want);
    size_t row = 0;
    char *save_line;
    for (char *line = strtok_r(want, "\n", &save_line); line; line = strtok_r(NULL, "\n", &save_line), row++) {
        char *fld[4];
        cr_assert_eq(split_tabs(line, fld, 4), 4, "bad oracle line");
        const char *name = fld[0], *dtype = fld[1], *shape = fld[2];
        cr_assert_lt(row, f->n_tensors, "only %zu tensors read", f->n_tensors);
        const safet_tensor *t = &f->tensors[row];
        cr_expect_str_eq(t->name, name, "tensor %zu", row);
        cr_expect_str_eq(safet_dtype_name(t->dtype), dtype, "%s", name);
        char got_shape[64] = "";
        for (int d = 0; d < t->ndim; d++)
            snprintf(got_shape + strlen(got_shape), sizeof got_shape - strlen(got_shape), "%s%lld", d ? "," : "",
                     (long long)t->shape[d]);
        cr_expect_str_eq(got_shape, shape, "%s", name);
        size_t n = 0, esize = safet_dtype_size(t->dtype);
        char *save_v;
        for (char *v = strtok_r(fld[3], ",", &save_v); v; v = strtok_r(NULL, ",", &save_v), n++) {
            cr_assert_lt(n * esize, t->nbytes, "%s has too few values", name);
            const unsigned char *p = (const unsigned char *)t->data + n * esize;
            if (t->dtype == SAFET_F32) {
                float x;
                memcpy(&x, p, sizeof x);
                cr_expect_eq(x, (float)strtod(v, NULL), "%s[%zu]: %g, PyTorch %s", name, n, x, v);
            } else if (t->dtype == SAFET_F64) {
                double x;
                memcpy(&x, p, sizeof x);
                cr_expect_eq(x, strtod(v, NULL), "%s[%zu]", name, n);
            } else {
                int64_t x;
                memcpy(&x, p, sizeof x);
                cr_expect_eq(x, strtoll(v, NULL, 10), "%s[%zu]", name, n);
            }
        }
        cr_expect_eq(n * esize, t->nbytes, "%s: %zu values in the oracle", name, n);
    }
    cr_expect_eq(row, f->n_tensors);
    free(want);
}

Test(pth, tiny_zip_holds_what_pytorch_saved) {
    pth_file f;
    char err[512];
    cr_assert_eq(pth_open(&f, tu_oracle("wf/tiny.pth"), err, sizeof err), 0, "%s", err);
    cr_expect_eq(f.format, PTH_ZIP);
    expect_tiny(&f);
    pth_close(&f);
}

Test(pth, tiny_legacy_holds_what_pytorch_saved) {
    pth_file f;
    char err[512];
    cr_assert_eq(pth_open(&f, tu_oracle("wf/tiny_legacy.pth"), err, sizeof err), 0, "%s", err);
    cr_expect_eq(f.format, PTH_LEGACY);
    expect_tiny(&f);
    pth_close(&f);
}

Test(pth, sniff_names_the_formats) {
    cr_expect_eq(pth_sniff("PK\3\4", 4), PTH_ZIP);
    cr_expect_eq(pth_sniff("\x80\x02\x8a\x0a", 4), PTH_LEGACY);
    cr_expect_eq(pth_sniff("\x10\0\0\0\0\0\0\0{", 9), 0);
    cr_expect_str_eq(pth_format_name(PTH_LEGACY), "legacy torch.save");
}

// ---------------------------------------------------------------------------------------------
// the unpickler on its own

// a string literal and its length without the terminating NUL (pickles hold NULs)
#define BYTES(lit) lit, sizeof(lit) - 1

static int load_bytes(const char *bytes, size_t len, pk_arena *a, pk_obj **out, char *err, size_t errlen) {
    size_t used;
    return pk_load(a, (const uint8_t *)bytes, len, &used, out, err, errlen);
}

Test(pth, pickle_refuses_forbidden_globals_by_name) {
    static const struct {
        const char *bytes;
        size_t len;
        const char *name;
    } EVIL[] = {
        // protocol 2: GLOBAL 'os system', 'true', TUPLE1, REDUCE
        {BYTES("\x80\x02\x63os\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."), "os.system"},
        // protocol 4: STACK_GLOBAL builtins.eval
        {BYTES("\x80\x04\x8c\x08"
               "builtins\x8c\x04"
               "eval\x93\x8c\x01x\x85R."),
         "builtins.eval"},
        // a global on its own, never called, is refused as well
        {BYTES("\x80\x02\x63subprocess\nPopen\n."), "subprocess.Popen"},
    };
    for (size_t k = 0; k < sizeof EVIL / sizeof EVIL[0]; k++) {
        pk_arena a = {0};
        pk_obj *o = NULL;
        char err[256] = "";
        cr_expect_eq(load_bytes(EVIL[k].bytes, EVIL[k].len, &a, &o, err, sizeof err), -1, "%s loaded", EVIL[k].name);
        char want[64];
        snprintf(want, sizeof want, "pickle: refuses global %s", EVIL[k].name);
        cr_expect(strstr(err, want) != NULL, "message '%s' lacks '%s'", err, want);
        pk_arena_free(&a);
    }
}

Test(pth, evil_pth_from_the_oracle_is_refused) {
    pth_file f;
    char err[512] = "";
    cr_assert_eq(pth_open(&f, tu_oracle("wf/evil.pth"), err, sizeof err), -1);
    cr_expect(strstr(err, "refuses global os.system") != NULL, "%s", err);
}

Test(pth, big_endian_files_are_refused) {
    pth_file f;
    char err[512] = "";
    cr_assert_eq(pth_open(&f, tu_oracle("wf/tiny_big_endian.pth"), err, sizeof err), -1);
    cr_expect(strstr(err, "big-endian") != NULL, "%s", err);
}

Test(pth, pickle_values_memo_and_ints) {
    // {'k': [1, -2, 300, 2**40, -1 (LONG1), 1.5, True, None], 'k2': <memo 1>} with protocol 2 opcodes
    static const char P[] = "\x80\x02}q\x00(X\x01\x00\x00\x00kq\x01]q\x02(K\x01J\xfe\xff\xff\xffM\x2c\x01"
                            "\x8a\x06\x00\x00\x00\x00\x00\x01\x8a\x01\xffG?\xf8\x00\x00\x00\x00\x00\x00\x88N"
                            "eX\x02\x00\x00\x00k2h\x02u.";
    pk_arena a = {0};
    pk_obj *o;
    char err[256] = "";
    cr_assert_eq(load_bytes(P, sizeof P - 1, &a, &o, err, sizeof err), 0, "%s", err);
    const pk_obj *l = pk_dict_get(o, "k");
    cr_assert(l && l->type == PK_LIST && l->n == 8, "list of 8");
    cr_expect_eq(l->items[0]->i, 1);
    cr_expect_eq(l->items[1]->i, -2);
    cr_expect_eq(l->items[2]->i, 300);
    cr_expect_eq(l->items[3]->i, (int64_t)1 << 40);
    cr_expect_eq(l->items[4]->i, -1);
    cr_expect_eq(l->items[5]->f, 1.5);
    cr_expect_eq(l->items[6]->type, PK_BOOL);
    cr_expect_eq(l->items[7]->type, PK_NONE);
    cr_expect_eq(pk_dict_get(o, "k2"), l, "BINGET gives the same object");
    pk_arena_free(&a);
}

Test(pth, pickle_first_rebuild_tensor_and_storage_ids) {
    // {'w': _rebuild_tensor(<storage '0', FloatStorage, 6 elements, legacy 6-tuple id>, 1, (2, 2), (1, 2))}
    static const char P[] = "\x80\x02}(X\x01\x00\x00\x00w\x63torch._utils\n_rebuild_tensor\n"
                            "((X\x07\x00\x00\x00storage\x63torch\nFloatStorage\nX\x01\x00\x00\x00"
                            "0"
                            "X\x03\x00\x00\x00"
                            "cpuK\x06NtQK\x01K\x02K\x02\x86K\x01K\x02\x86tRu.";
    pk_arena a = {0};
    pk_obj *o;
    char err[256] = "";
    cr_assert_eq(load_bytes(P, sizeof P - 1, &a, &o, err, sizeof err), 0, "%s", err);
    const pk_obj *t = pk_dict_get(o, "w");
    cr_assert(t && t->type == PK_TENSOR, "a tensor");
    cr_expect_eq(t->ndim, 2);
    cr_expect(t->shape[0] == 2 && t->shape[1] == 2 && t->stride[0] == 1 && t->stride[1] == 2 && t->offset == 1);
    cr_expect_eq(t->storage->dtype, SAFET_F32);
    cr_expect_eq(t->storage->numel, 6);
    cr_expect_str_eq(t->storage->s, "0");
    pk_arena_free(&a);
}

Test(pth, pickle_malformed_inputs_are_errors) {
    static const struct {
        const char *bytes;
        size_t len;
        const char *says;
    } BAD[] = {
        {BYTES("\x80\x02"), "truncated"},
        {BYTES("\x80\x02X\xff\xff\xff\x7f"), "truncated"},
        {BYTES("\x80\x02h\x05."), "memo index"},
        {BYTES("\x80\x02q\x09."), "out of order"},
        {BYTES("\x80\x02s."), "underflow"},
        {BYTES("\x80\x02(K\x01K\x02."), "STOP with"},
        {BYTES("\x80\x02\x63"
               "collections\nOrderedDict\nK\x01\x85R."),
         "OrderedDict with arguments"},
        {BYTES("\x80\x02\x63torch\nFloatStorage\n)R."), "refuses to call torch.FloatStorage"},
        {BYTES("\x80\x02\x52."), "underflow"},
        {BYTES("\x80\x09."), "protocol 9"},
        {BYTES("\x80\x02\x69."), "opcode 0x69"},
    };
    for (size_t k = 0; k < sizeof BAD / sizeof BAD[0]; k++) {
        pk_arena a = {0};
        pk_obj *o = NULL;
        char err[256] = "";
        cr_expect_eq(load_bytes(BAD[k].bytes, BAD[k].len, &a, &o, err, sizeof err), -1, "case %zu loaded", k);
        cr_expect(strstr(err, BAD[k].says) != NULL, "case %zu: '%s' lacks '%s'", k, err, BAD[k].says);
        pk_arena_free(&a);
    }
}

// ---------------------------------------------------------------------------------------------
// fuzz: truncations and bit flips, in-process

static void every_prefix_fails(const char *rel) {
    size_t len;
    unsigned char *b = oracle_bytes(rel, &len);
    for (size_t n = 0; n < len; n++) {
        unsigned char *copy = malloc(n ? n : 1);   // exactly n bytes: a read past them is caught by ASan/valgrind
        memcpy(copy, b, n);
        pth_file f;
        char err[512] = "";
        int rc = pth_open_mem(&f, copy, n, rel, err, sizeof err);
        cr_expect_eq(rc, -1, "%s cut to %zu of %zu bytes loaded", rel, n, len);
        cr_expect_neq(err[0], '\0', "%s cut to %zu bytes: no message", rel, n);
        if (rc == 0) pth_close(&f);
        free(copy);
    }
    free(b);
}

Test(pth, every_truncation_of_the_zip_is_an_error, .timeout = 120) { every_prefix_fails("wf/tiny.pth"); }
Test(pth, every_truncation_of_the_legacy_file_is_an_error, .timeout = 120) { every_prefix_fails("wf/tiny_legacy.pth"); }

// 1 when frost's tensors of f are exactly those of the oracle's description d (names, dtypes, shapes,
// values in C order), else 0 with what differs in why.
static int same_tensors(const pth_file *f, json_t *d, char *why, size_t len) {
    json_t *want = json_object_get(d, "tensors");
    if (json_object_size(want) != f->n_tensors) {
        snprintf(why, len, "%zu tensors, PyTorch %zu", f->n_tensors, json_object_size(want));
        return 0;
    }
    for (size_t i = 0; i < f->n_tensors; i++) {
        const safet_tensor *x = &f->tensors[i];
        json_t *w = json_object_get(want, x->name);
        if (!w || strcmp(safet_dtype_name(x->dtype), json_string_value(json_object_get(w, "dtype"))) != 0) {
            snprintf(why, len, "tensor '%s': %s", x->name, w ? "another dtype" : "not PyTorch's");
            return 0;
        }
        json_t *shape = json_object_get(w, "shape");
        int same = (int)json_array_size(shape) == x->ndim;
        for (int k = 0; same && k < x->ndim; k++)
            same = json_integer_value(json_array_get(shape, (size_t)k)) == x->shape[k];
        const char *hex = json_string_value(json_object_get(w, "hex"));
        same = same && strlen(hex) == 2 * x->nbytes;
        for (size_t j = 0; same && j < x->nbytes; j++) {
            unsigned v;
            same = sscanf(hex + 2 * j, "%2x", &v) == 1 && v == ((const unsigned char *)x->data)[j];
        }
        if (!same) {
            snprintf(why, len, "tensor '%s': another shape or other values", x->name);
            return 0;
        }
    }
    return 1;
}

// Flips 1 to 4 random bits, `tries` times, and opens each result with frost's reader; torch.load
// (tests/oracle/live/load_each.py, weights_only as frost's unpickler) reads each too, and the
// original. Whatever frost accepts is what PyTorch reads from that file, or the original's tensors
// (a flip that changes nothing frost reads, or one PyTorch's laxer zip reader stumbles on): a flip
// never turns into other weights silently. A refusal always has a message; frost may refuse files
// PyTorch reads (a zip entry whose CRC-32 no longer matches: PyTorch does not check it).
static void bit_flips(const char *rel, uint64_t seed, int tries) {
    size_t len;
    unsigned char *b = oracle_bytes(rel, &len);
    unsigned char *copy = malloc(len);
    char *dir = tu_tmpdir(), path[1024], out[1024], cmd[4096], why[256];
    rng r;
    rng_seed(&r, seed);
    for (int t = 0; t < tries; t++) {
        memcpy(copy, b, len);
        int flips = 1 + (int)rng_below(&r, 4);
        for (int k = 0; k < flips; k++) {
            size_t at = (size_t)rng_below(&r, len);
            copy[at] ^= (unsigned char)(1u << rng_below(&r, 8));
        }
        snprintf(path, sizeof path, "%s/%05d.pth", dir, t);
        cr_assert_eq(tu_write_file(path, copy, len), 0);
    }
    snprintf(path, sizeof path, "%s/original.pth", dir);   // sorts after the numbered ones
    cr_assert_eq(tu_write_file(path, b, len), 0);
    snprintf(out, sizeof out, "%s/torch.jsonl", dir);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/oracle/live/load_each.py '%s' '%s'", dir, out);
    cr_assert_eq(system(cmd), 0, "the PyTorch oracle failed: %s", cmd);
    json_t *all = json_array();
    FILE *jf = fopen(out, "r");
    cr_assert_not_null(jf);
    static char line[1 << 16];
    while (fgets(line, sizeof line, jf)) {
        // (PyTorch 2.x reads the byteorder entry, and its message about a flipped one may hold a NUL)
        json_t *o = json_loads(line, JSON_ALLOW_NUL, NULL);
        cr_assert_not_null(o, "%s", line);
        json_array_append_new(all, o);
    }
    fclose(jf);
    cr_assert_eq(json_array_size(all), (size_t)tries + 1);
    json_t *original = json_array_get(all, (size_t)tries);
    cr_assert(json_is_true(json_object_get(original, "ok")), "torch.load reads the original %s", rel);

    int as_torch = 0, as_original = 0, neither = 0, stricter = 0;
    for (int t = 0; t < tries; t++) {
        json_t *o = json_array_get(all, (size_t)t);
        int torch_ok = json_is_true(json_object_get(o, "ok"));
        snprintf(path, sizeof path, "%s/%05d.pth", dir, t);
        size_t n;
        unsigned char *bytes = (unsigned char *)tu_read_file(path, &n);
        cr_assert_not_null(bytes);
        pth_file f;
        char err[512] = "";
        if (pth_open_mem(&f, bytes, n, rel, err, sizeof err) != 0) {
            cr_expect_neq(err[0], '\0', "%s flip %d: refused without a message", rel, t);
            if (torch_ok)
                stricter++;
            else
                neither++;
        } else {
            char why_torch[256] = "torch.load refuses it";
            if (torch_ok && same_tensors(&f, o, why_torch, sizeof why_torch))
                as_torch++;
            else if (same_tensors(&f, original, why, sizeof why))
                as_original++;
            else
                cr_expect_fail("%s flip %d: frost reads what neither PyTorch reads from it (%s) nor the original "
                               "holds (%s)",
                               rel, t, why_torch, why);
            pth_close(&f);
        }
        free(bytes);
    }
    json_decref(all);
    cr_log_info("%s: %d flips read as PyTorch reads them, %d read as the original (PyTorch refuses or reads "
                "otherwise), %d refused by both, %d refused by frost only",
                rel, as_torch, as_original, neither, stricter);
    cr_expect_gt(as_torch, 0, "%s: some flips must still load", rel);
    cr_expect_gt(neither, 0, "%s: no flip was refused at all", rel);
    tu_rmtree(dir);
    free(dir);
    free(copy);
    free(b);
}

Test(pth, bit_flips_in_the_zip_read_as_pytorch_reads_them, .timeout = 300) { bit_flips("wf/tiny.pth", 1, 4000); }
Test(pth, bit_flips_in_the_legacy_file_read_as_pytorch_reads_them, .timeout = 300) {
    bit_flips("wf/tiny_legacy.pth", 2, 4000);
}

// The unpickler alone on the legacy file's pickles, with random bytes written over them (the zip's
// CRC would catch most changes to its data.pkl before the unpickler saw them).
Test(pth, random_bytes_in_pickles_never_crash, .timeout = 300) {
    size_t len;
    unsigned char *b = oracle_bytes("wf/tiny_legacy.pth", &len);
    unsigned char *copy = malloc(len);
    rng r;
    rng_seed(&r, 3);
    int errors = 0;
    for (int t = 0; t < 5000; t++) {
        memcpy(copy, b, len);
        int n = 1 + (int)rng_below(&r, 6);
        for (int k = 0; k < n; k++) copy[rng_below(&r, len)] = (unsigned char)rng_below(&r, 256);
        size_t pos = 0;
        pk_arena a = {0};
        for (int part = 0; part < 5 && pos < len; part++) {
            pk_obj *o;
            size_t used = 0;
            char err[256] = "";
            if (pk_load(&a, copy + pos, len - pos, &used, &o, err, sizeof err) != 0) {
                cr_expect_eq(strncmp(err, "pickle: ", 8), 0, "message: %s", err);
                errors++;
                break;
            }
            cr_expect(used > 0 && used <= len - pos);
            pos += used;
        }
        pk_arena_free(&a);
    }
    cr_expect_gt(errors, 0);
    free(copy);
    free(b);
}

// Files PyTorch refuses that frost once read (found by the bit flips above; kept in fuzz/regressions):
// a tensor name that is not UTF-8, an integer tensor marked as requiring gradients.
Test(pth, files_pytorch_refuses_are_refused) {
    const struct {
        const char *file, *says;
    } cases[] = {
        {"fuzz/regressions/pth/legacy-name-not-utf8.pth", "a string that is not UTF-8"},
        {"fuzz/regressions/pth/legacy-int-tensor-requires-grad.pth", "an integer tensor that requires gradients"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        pth_file f;
        char err[512] = "";
        cr_expect_eq(pth_open(&f, cases[k].file, err, sizeof err), -1, "%s loaded", cases[k].file);
        cr_expect(strstr(err, cases[k].says) != NULL, "%s: '%s' lacks '%s'", cases[k].file, err, cases[k].says);
    }
}

// Strings as Python's unpickler reads them: UTF-8, strictly, but with lone surrogates allowed
// ("surrogatepass"); each case a pickle of one str (protocol 2, BINUNICODE, STOP).
Test(pth, pickled_strings_are_utf8_as_python_reads_them) {
    const struct {
        const char *bytes;
        int ok;
    } cases[] = {
        {"plain", 1}, {"caf\xc3\xa9", 1}, {"\xe2\x82\xac", 1}, {"\xf0\x9f\x98\x80", 1}, {"\xed\xa0\x80", 1},
        {"\xc3", 0},  {"\xc0\x80", 0},    {"\xe0\x80\xaf", 0}, {"\xf4\x90\x80\x80", 0}, {"\xff", 0},
        {"a\x80", 0}, {"\xe2\x82", 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t n = strlen(cases[k].bytes);
        unsigned char p[64] = {0x80, 2, 'X', (unsigned char)n, 0, 0, 0};
        memcpy(p + 7, cases[k].bytes, n);
        p[7 + n] = '.';
        pk_arena a = {0};
        size_t used;
        pk_obj *obj = NULL;
        char err[256] = "";
        int rc = pk_load(&a, p, 8 + n, &used, &obj, err, sizeof err);
        cr_expect_eq(rc == 0, cases[k].ok, "case %zu: %s", k, rc == 0 ? "read" : err);
        if (!cases[k].ok) cr_expect(strstr(err, "not UTF-8") != NULL, "case %zu: %s", k, err);
        pk_arena_free(&a);
    }
}
