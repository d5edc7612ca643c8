// test_pth.c — the .pth readers and the restricted unpickler: the tiny state_dict the oracle saved
// with torch.save in both formats (tests/oracle/weight_formats_oracle.py: wf/tiny*.pth and what
// PyTorch holds in wf/tiny.tsv), hostile pickles refused by name, and every truncation and thousands
// of random bit flips of both files giving errors, never crashes (in-process: Criterion reports a
// crash as a failure).
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pickle.h"
#include "pth_file.h"
#include "rng.h"
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

// Flips `flips` random bits (1 to 4 per try) `tries` times; every open either fails with a message
// or hands out tensors whose sizes agree with their shapes.
static void bit_flips(const char *rel, uint64_t seed, int tries) {
    size_t len;
    unsigned char *b = oracle_bytes(rel, &len);
    unsigned char *copy = malloc(len);
    rng r;
    rng_seed(&r, seed);
    int failed = 0;
    for (int t = 0; t < tries; t++) {
        memcpy(copy, b, len);
        int flips = 1 + (int)rng_below(&r, 4);
        for (int k = 0; k < flips; k++) copy[rng_below(&r, len)] ^= (unsigned char)(1u << rng_below(&r, 8));
        pth_file f;
        char err[512] = "";
        if (pth_open_mem(&f, copy, len, rel, err, sizeof err) != 0) {
            cr_expect_neq(err[0], '\0', "%s try %d: failed without a message", rel, t);
            failed++;
            continue;
        }
        for (size_t i = 0; i < f.n_tensors; i++) {
            int64_t numel = safet_numel(&f.tensors[i]);
            cr_expect_eq((size_t)numel * safet_dtype_size(f.tensors[i].dtype), f.tensors[i].nbytes, "%s try %d", rel,
                         t);
            if (f.tensors[i].nbytes) {
                volatile unsigned char sum = 0;   // touch every byte handed out
                for (size_t j = 0; j < f.tensors[i].nbytes; j++) sum ^= ((const unsigned char *)f.tensors[i].data)[j];
                (void)sum;
            }
        }
        pth_close(&f);
    }
    cr_expect_gt(failed, 0, "%s: no flip was noticed at all", rel);
    free(copy);
    free(b);
}

Test(pth, bit_flips_in_the_zip_never_crash, .timeout = 300) { bit_flips("wf/tiny.pth", 1, 4000); }
Test(pth, bit_flips_in_the_legacy_file_never_crash, .timeout = 300) { bit_flips("wf/tiny_legacy.pth", 2, 4000); }

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
