// pickle.c — the restricted unpickler of pickle.h: a stack machine over a bounds-checked byte
// reader that builds values in an arena and interprets a handful of allowed globals itself.
#include "pickle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------------------------
// the allow-list

static const struct {
    const char *name;
    safet_dtype dtype;
} STORAGE_TYPES[] = {
    {"FloatStorage", SAFET_F32},     {"DoubleStorage", SAFET_F64}, {"HalfStorage", SAFET_F16},
    {"BFloat16Storage", SAFET_BF16}, {"LongStorage", SAFET_I64},   {"IntStorage", SAFET_I32},
    {"ShortStorage", SAFET_I16},     {"CharStorage", SAFET_I8},    {"ByteStorage", SAFET_U8},
    {"BoolStorage", SAFET_BOOL},
};

#define N_STORAGE_TYPES (sizeof STORAGE_TYPES / sizeof STORAGE_TYPES[0])

// ---------------------------------------------------------------------------------------------
// the machine

typedef struct {
    pk_arena *arena;
    const uint8_t *buf;
    size_t len, pos;
    pk_obj **stack;
    size_t sp, stack_cap;
    size_t *marks;
    size_t n_marks, marks_cap;
    pk_obj **memo;
    size_t memo_used, memo_cap;
    char *err;
    size_t errlen;
} machine;

static int fail(machine *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(machine *m, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(m->err, m->errlen, "pickle: %s", msg);
    return -1;
}

static pk_obj *new_obj(machine *m, pk_type t) {
    pk_obj *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->type = t;
    o->next_alloc = m->arena->all;
    m->arena->all = o;
    return o;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need) n *= 2;
    void *p = realloc(*arr, n * elem);
    if (!p) return -1;
    *arr = p;
    *cap = n;
    return 0;
}

static int push(machine *m, pk_obj *o) {
    if (!o || grow((void **)&m->stack, &m->stack_cap, m->sp + 1, sizeof *m->stack) != 0)
        return fail(m, "out of memory");
    m->stack[m->sp++] = o;
    return 0;
}

static size_t floor_of_stack(const machine *m) { return m->n_marks ? m->marks[m->n_marks - 1] : 0; }

static pk_obj *pop(machine *m) {
    if (m->sp <= floor_of_stack(m)) {
        fail(m, "stack underflow at byte %zu", m->pos);
        return NULL;
    }
    return m->stack[--m->sp];
}

static pk_obj *top(machine *m) {
    if (m->sp <= floor_of_stack(m)) {
        fail(m, "stack underflow at byte %zu", m->pos);
        return NULL;
    }
    return m->stack[m->sp - 1];
}

// Pops the topmost mark; *from is where its items start on the stack.
static int pop_mark(machine *m, size_t *from) {
    if (m->n_marks == 0) return fail(m, "no mark at byte %zu", m->pos);
    *from = m->marks[--m->n_marks];
    return 0;
}

static int add_item(pk_obj *seq, pk_obj *item) {
    if (grow((void **)&seq->items, &seq->cap, seq->n + 1, sizeof *seq->items) != 0) return -1;
    seq->items[seq->n++] = item;
    return 0;
}

static int dict_set(machine *m, pk_obj *d, pk_obj *k, pk_obj *v) {
    if (!d || d->type != PK_DICT)
        return fail(m, "SETITEM on a %s at byte %zu", d ? pk_type_name(d->type) : "?", m->pos);
    if (k->type == PK_STR)
        for (size_t i = 0; i + 1 < d->n; i += 2)
            if (d->items[i]->type == PK_STR && d->items[i]->len == k->len &&
                memcmp(d->items[i]->s, k->s, k->len) == 0) {
                d->items[i + 1] = v;
                return 0;
            }
    if (add_item(d, k) != 0 || add_item(d, v) != 0) return fail(m, "out of memory");
    return 0;
}

// ---------------------------------------------------------------------------------------------
// reading bytes

static int need(machine *m, size_t n) {
    if (m->len - m->pos < n) return fail(m, "truncated at byte %zu", m->pos);
    return 0;
}

static uint64_t read_le(machine *m, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)m->buf[m->pos + i] << (8 * i);
    m->pos += n;
    return v;
}

// A string or bytes object of n bytes at the current position (NUL-terminated copy).
static int push_text(machine *m, pk_type t, uint64_t n) {
    if (n > m->len - m->pos) return fail(m, "truncated at byte %zu", m->pos);
    pk_obj *o = new_obj(m, t);
    if (!o || !(o->s = malloc((size_t)n + 1))) return fail(m, "out of memory");
    memcpy(o->s, m->buf + m->pos, (size_t)n);
    o->s[n] = '\0';
    o->len = (size_t)n;
    m->pos += (size_t)n;
    return push(m, o);
}

// 1 when s[0..n) is UTF-8 as Python's pickle decodes it (strict, but surrogates allowed: it reads
// strings with "surrogatepass"), so a string PyTorch could not read is refused here too.
static int utf8_ok(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t more;
        unsigned lo = 0x80, hi = 0xBF;   // the range of the second byte
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            more = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            more = 2;
            if (c == 0xE0) lo = 0xA0;
        } else if (c >= 0xF0 && c <= 0xF4) {
            more = 3;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            return 0;
        }
        if (n - i <= more) return 0;
        for (size_t k = 1; k <= more; k++) {
            unsigned b = s[i + k];
            if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return 0;
        }
        i += more + 1;
    }
    return 1;
}

// A str of n bytes: push_text, refused when it is not UTF-8.
static int push_str(machine *m, uint64_t n) {
    size_t at = m->pos;
    if (n <= m->len - m->pos && !utf8_ok(m->buf + m->pos, (size_t)n))
        return fail(m, "a string that is not UTF-8 at byte %zu", at);
    return push_text(m, PK_STR, n);
}

static int push_int(machine *m, int64_t v) {
    pk_obj *o = new_obj(m, PK_INT);
    if (!o) return fail(m, "out of memory");
    o->i = v;
    return push(m, o);
}

static int push_long(machine *m, uint64_t n) {
    if (n > m->len - m->pos) return fail(m, "truncated at byte %zu", m->pos);
    if (n > 8) return push_text(m, PK_BIGINT, n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)m->buf[m->pos + i] << (8 * i);
    if (n > 0 && n < 8 && (m->buf[m->pos + n - 1] & 0x80)) v |= ~(uint64_t)0 << (8 * n);
    m->pos += (size_t)n;
    return push_int(m, (int64_t)v);
}

// A printable copy of a global's name part for messages.
static void printable(char *dst, size_t dstlen, const char *s, size_t n) {
    size_t j = 0;
    for (size_t i = 0; i < n && j + 1 < dstlen; i++) dst[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    dst[j] = '\0';
}

static int push_global(machine *m, const char *mod, size_t mod_len, const char *name, size_t name_len) {
    pk_obj *g = new_obj(m, PK_GLOBAL);
    if (!g) return fail(m, "out of memory");
    int ok = 0;
#define IS(s, n, lit) ((n) == sizeof(lit) - 1 && memcmp((s), (lit), (n)) == 0)
    if (IS(mod, mod_len, "collections") && IS(name, name_len, "OrderedDict")) {
        g->gkind = PKG_ORDERED_DICT, ok = 1;
    } else if (IS(mod, mod_len, "torch._utils") &&
               (IS(name, name_len, "_rebuild_tensor_v2") || IS(name, name_len, "_rebuild_tensor"))) {
        g->gkind = PKG_REBUILD_TENSOR_V2, ok = 1;
    } else if (IS(mod, mod_len, "torch._utils") &&
               (IS(name, name_len, "_rebuild_parameter") || IS(name, name_len, "_rebuild_parameter_with_state"))) {
        g->gkind = PKG_REBUILD_PARAMETER, ok = 1;
    } else if (IS(mod, mod_len, "torch")) {
        for (size_t i = 0; i < N_STORAGE_TYPES && !ok; i++)
            if (name_len == strlen(STORAGE_TYPES[i].name) && memcmp(name, STORAGE_TYPES[i].name, name_len) == 0)
                g->gkind = PKG_STORAGE_TYPE, g->dtype = STORAGE_TYPES[i].dtype, ok = 1;
    }
#undef IS
    char pm[64], pn[64];
    printable(pm, sizeof pm, mod, mod_len);
    printable(pn, sizeof pn, name, name_len);
    if (!ok) return fail(m, "refuses global %s.%s (only tensors and dicts are read from weight files)", pm, pn);
    size_t full = strlen(pm) + strlen(pn) + 2;
    if (!(g->s = malloc(full))) return fail(m, "out of memory");
    snprintf(g->s, full, "%s.%s", pm, pn);
    g->len = full - 1;
    return push(m, g);
}

// GLOBAL: "module\nname\n" inline.
static int op_global(machine *m) {
    const char *parts[2];
    size_t lens[2];
    for (int k = 0; k < 2; k++) {
        const uint8_t *start = m->buf + m->pos;
        const uint8_t *nl = memchr(start, '\n', m->len - m->pos);
        if (!nl) return fail(m, "truncated GLOBAL at byte %zu", m->pos);
        parts[k] = (const char *)start;
        lens[k] = (size_t)(nl - start);
        m->pos += lens[k] + 1;
    }
    return push_global(m, parts[0], lens[0], parts[1], lens[1]);
}

static int op_stack_global(machine *m) {
    pk_obj *name = pop(m);
    pk_obj *mod = name ? pop(m) : NULL;
    if (!mod) return -1;
    if (mod->type != PK_STR || name->type != PK_STR)
        return fail(m, "STACK_GLOBAL needs two strings at byte %zu", m->pos);
    return push_global(m, mod->s, mod->len, name->s, name->len);
}

static int int_of(const pk_obj *o, int64_t *v) {
    if (!o || o->type != PK_INT) return -1;
    *v = o->i;
    return 0;
}

static int op_reduce(machine *m) {
    pk_obj *args = pop(m);
    pk_obj *fn = args ? pop(m) : NULL;
    if (!fn) return -1;
    if (fn->type != PK_GLOBAL) return fail(m, "REDUCE calls a %s at byte %zu", pk_type_name(fn->type), m->pos);
    if (args->type != PK_TUPLE)
        return fail(m, "REDUCE arguments are a %s at byte %zu", pk_type_name(args->type), m->pos);
    switch (fn->gkind) {
    case PKG_ORDERED_DICT:
        if (args->n != 0) return fail(m, "OrderedDict with arguments at byte %zu", m->pos);
        return push(m, new_obj(m, PK_DICT));
    case PKG_REBUILD_PARAMETER:
        if (args->n < 1 || args->items[0]->type != PK_TENSOR)
            return fail(m, "_rebuild_parameter without a tensor at byte %zu", m->pos);
        return push(m, args->items[0]);
    case PKG_REBUILD_TENSOR_V2: {
        // v2: (storage, offset, size, stride, requires_grad, backward_hooks[, metadata]);
        // the first version (files from PyTorch 0.3 and before): the first four only
        if (args->n != 4 && (args->n < 6 || args->n > 7))
            return fail(m, "_rebuild_tensor with %zu arguments at byte %zu", args->n, m->pos);
        pk_obj *st = args->items[0], *size = args->items[2], *stride = args->items[3];
        pk_obj *t = new_obj(m, PK_TENSOR);
        if (!t) return fail(m, "out of memory");
        if (st->type != PK_STORAGE) return fail(m, "tensor without a storage at byte %zu", m->pos);
        if (int_of(args->items[1], &t->offset) != 0 || t->offset < 0)
            return fail(m, "bad tensor offset at byte %zu", m->pos);
        if (size->type != PK_TUPLE || stride->type != PK_TUPLE || size->n != stride->n)
            return fail(m, "bad tensor size or stride at byte %zu", m->pos);
        if (size->n > SAFET_MAX_DIMS) return fail(m, "tensor with %zu dimensions at byte %zu", size->n, m->pos);
        // requires_grad on an integer tensor: PyTorch refuses to rebuild it, and so does this
        if (args->n >= 6 && args->items[4]->type == PK_BOOL && args->items[4]->i && st->dtype != SAFET_F32 &&
            st->dtype != SAFET_F64 && st->dtype != SAFET_F16 && st->dtype != SAFET_BF16)
            return fail(m, "an integer tensor that requires gradients at byte %zu", m->pos);
        t->storage = st;
        t->ndim = (int)size->n;
        for (int d = 0; d < t->ndim; d++)
            if (int_of(size->items[d], &t->shape[d]) != 0 || int_of(stride->items[d], &t->stride[d]) != 0 ||
                t->shape[d] < 0 || t->stride[d] < 0)
                return fail(m, "bad tensor size or stride at byte %zu", m->pos);
        return push(m, t);
    }
    case PKG_STORAGE_TYPE: break;
    }
    return fail(m, "refuses to call %s at byte %zu", fn->s, m->pos);
}

// BINPERSID: ('storage', <type>, key, location, numel[, view_metadata None])
static int op_persid(machine *m) {
    pk_obj *pid = pop(m);
    if (!pid) return -1;
    if (pid->type != PK_TUPLE || pid->n < 5 || pid->n > 6 || pid->items[0]->type != PK_STR ||
        strcmp(pid->items[0]->s, "storage") != 0)
        return fail(m, "persistent id is not a storage at byte %zu", m->pos);
    pk_obj *type = pid->items[1], *key = pid->items[2], *loc = pid->items[3];
    pk_obj *st = new_obj(m, PK_STORAGE);
    if (!st) return fail(m, "out of memory");
    if (type->type != PK_GLOBAL || type->gkind != PKG_STORAGE_TYPE || key->type != PK_STR || loc->type != PK_STR ||
        int_of(pid->items[4], &st->numel) != 0 || st->numel < 0)
        return fail(m, "malformed storage id at byte %zu", m->pos);
    if (pid->n == 6 && pid->items[5]->type != PK_NONE)
        return fail(m, "storage views (PyTorch before 1.0) are not supported");
    st->dtype = type->dtype;
    st->s = key->s;   // owned by the key object, in the same arena
    st->len = key->len;
    return push(m, st);
}

static int memo_put(machine *m, uint64_t idx) {
    // torch.save's picklers number memo entries 0, 1, 2 ... in order, so an index past the next
    // free one is malformed (and would let a tiny file ask for a huge table)
    if (idx > m->memo_used) return fail(m, "memo index %llu out of order at byte %zu", (unsigned long long)idx, m->pos);
    pk_obj *o = top(m);
    if (!o) return -1;
    if (grow((void **)&m->memo, &m->memo_cap, (size_t)idx + 1, sizeof *m->memo) != 0) return fail(m, "out of memory");
    m->memo[idx] = o;
    if (idx == m->memo_used) m->memo_used++;
    return 0;
}

static int memo_get(machine *m, uint64_t idx) {
    if (idx >= m->memo_used) return fail(m, "memo index %llu unknown at byte %zu", (unsigned long long)idx, m->pos);
    return push(m, m->memo[idx]);
}

static int make_seq(machine *m, pk_type t, size_t from) {
    pk_obj *o = new_obj(m, t);
    if (!o) return fail(m, "out of memory");
    for (size_t i = from; i < m->sp; i++)
        if (add_item(o, m->stack[i]) != 0) return fail(m, "out of memory");
    m->sp = from;
    return push(m, o);
}

// ---------------------------------------------------------------------------------------------
// the loop

static int step(machine *m, int *done) {
    if (need(m, 1) != 0) return -1;
    size_t at = m->pos;
    uint8_t op = m->buf[m->pos++];
    size_t from = 0;
    pk_obj *a, *b, *c;
    switch (op) {
    case 0x80:   // PROTO
        if (need(m, 1) != 0) return -1;
        if (m->buf[m->pos] > 5) return fail(m, "protocol %d is not supported", m->buf[m->pos]);
        m->pos++;
        return 0;
    case 0x95:   // FRAME: a length hint
        if (need(m, 8) != 0) return -1;
        m->pos += 8;
        return 0;
    case '.':   // STOP
        *done = 1;
        return 0;
    case '(':   // MARK
        if (grow((void **)&m->marks, &m->marks_cap, m->n_marks + 1, sizeof *m->marks) != 0)
            return fail(m, "out of memory");
        m->marks[m->n_marks++] = m->sp;
        return 0;
    case ')': return push(m, new_obj(m, PK_TUPLE));
    case ']': return push(m, new_obj(m, PK_LIST));
    case '}': return push(m, new_obj(m, PK_DICT));
    case 'N': return push(m, new_obj(m, PK_NONE));
    case 0x88:
    case 0x89:   // NEWTRUE, NEWFALSE
        if (!(a = new_obj(m, PK_BOOL))) return fail(m, "out of memory");
        a->i = op == 0x88;
        return push(m, a);
    case 'J':
        if (need(m, 4) != 0) return -1;
        return push_int(m, (int32_t)(uint32_t)read_le(m, 4));
    case 'K':
        if (need(m, 1) != 0) return -1;
        return push_int(m, (int64_t)read_le(m, 1));
    case 'M':
        if (need(m, 2) != 0) return -1;
        return push_int(m, (int64_t)read_le(m, 2));
    case 0x8a:   // LONG1
        if (need(m, 1) != 0) return -1;
        return push_long(m, read_le(m, 1));
    case 0x8b:   // LONG4
        if (need(m, 4) != 0) return -1;
        return push_long(m, read_le(m, 4));
    case 'G': {   // BINFLOAT, big-endian
        if (need(m, 8) != 0) return -1;
        uint64_t bits = 0;
        for (int i = 0; i < 8; i++) bits = bits << 8 | m->buf[m->pos + i];
        m->pos += 8;
        if (!(a = new_obj(m, PK_FLOAT))) return fail(m, "out of memory");
        memcpy(&a->f, &bits, sizeof a->f);
        return push(m, a);
    }
    case 'X':   // BINUNICODE
        if (need(m, 4) != 0) return -1;
        return push_str(m, read_le(m, 4));
    case 0x8c:   // SHORT_BINUNICODE
        if (need(m, 1) != 0) return -1;
        return push_str(m, read_le(m, 1));
    case 0x8d:   // BINUNICODE8
        if (need(m, 8) != 0) return -1;
        return push_str(m, read_le(m, 8));
    case 'T': {   // BINSTRING (signed length)
        if (need(m, 4) != 0) return -1;
        int32_t n = (int32_t)(uint32_t)read_le(m, 4);
        if (n < 0) return fail(m, "negative string length at byte %zu", at);
        return push_str(m, (uint64_t)n);
    }
    case 'U':   // SHORT_BINSTRING
        if (need(m, 1) != 0) return -1;
        return push_str(m, read_le(m, 1));
    case 'B':   // BINBYTES
        if (need(m, 4) != 0) return -1;
        return push_text(m, PK_BYTES, read_le(m, 4));
    case 'C':   // SHORT_BINBYTES
        if (need(m, 1) != 0) return -1;
        return push_text(m, PK_BYTES, read_le(m, 1));
    case 0x8e:   // BINBYTES8
        if (need(m, 8) != 0) return -1;
        return push_text(m, PK_BYTES, read_le(m, 8));
    case 'q':
        if (need(m, 1) != 0) return -1;
        return memo_put(m, read_le(m, 1));
    case 'r':
        if (need(m, 4) != 0) return -1;
        return memo_put(m, read_le(m, 4));
    case 0x94:   // MEMOIZE
        return memo_put(m, m->memo_used);
    case 'h':
        if (need(m, 1) != 0) return -1;
        return memo_get(m, read_le(m, 1));
    case 'j':
        if (need(m, 4) != 0) return -1;
        return memo_get(m, read_le(m, 4));
    case 0x85:
    case 0x86:
    case 0x87: {   // TUPLE1..3
        size_t k = (size_t)(op - 0x84);
        if (m->sp < floor_of_stack(m) + k) return fail(m, "stack underflow at byte %zu", at);
        return make_seq(m, PK_TUPLE, m->sp - k);
    }
    case 't':
        if (pop_mark(m, &from) != 0) return -1;
        return make_seq(m, PK_TUPLE, from);
    case 'l':
        if (pop_mark(m, &from) != 0) return -1;
        return make_seq(m, PK_LIST, from);
    case 'd':
        if (pop_mark(m, &from) != 0) return -1;
        if ((m->sp - from) % 2) return fail(m, "odd number of dict items at byte %zu", at);
        if (!(a = new_obj(m, PK_DICT))) return fail(m, "out of memory");
        for (size_t i = from; i < m->sp; i += 2)
            if (dict_set(m, a, m->stack[i], m->stack[i + 1]) != 0) return -1;
        m->sp = from;
        return push(m, a);
    case 'a':   // APPEND
        if (!(b = pop(m)) || !(a = top(m))) return -1;
        if (a->type != PK_LIST) return fail(m, "APPEND to a %s at byte %zu", pk_type_name(a->type), at);
        return add_item(a, b) == 0 ? 0 : fail(m, "out of memory");
    case 'e':   // APPENDS
        if (pop_mark(m, &from) != 0) return -1;
        if (from <= floor_of_stack(m)) return fail(m, "stack underflow at byte %zu", at);
        a = m->stack[from - 1];
        if (a->type != PK_LIST) return fail(m, "APPENDS to a %s at byte %zu", pk_type_name(a->type), at);
        for (size_t i = from; i < m->sp; i++)
            if (add_item(a, m->stack[i]) != 0) return fail(m, "out of memory");
        m->sp = from;
        return 0;
    case 's':   // SETITEM
        if (!(c = pop(m)) || !(b = pop(m)) || !(a = top(m))) return -1;
        return dict_set(m, a, b, c);
    case 'u':   // SETITEMS
        if (pop_mark(m, &from) != 0) return -1;
        if (from <= floor_of_stack(m)) return fail(m, "stack underflow at byte %zu", at);
        if ((m->sp - from) % 2) return fail(m, "odd number of dict items at byte %zu", at);
        a = m->stack[from - 1];
        for (size_t i = from; i < m->sp; i += 2)
            if (dict_set(m, a, m->stack[i], m->stack[i + 1]) != 0) return -1;
        m->sp = from;
        return 0;
    case 'c': return op_global(m);
    case 0x93: return op_stack_global(m);
    case 'R': return op_reduce(m);
    case 'b':   // BUILD: the state (a state_dict's _metadata, a Parameter's attributes) is not needed
        if (!(b = pop(m)) || !(a = top(m))) return -1;
        if (a->type != PK_DICT && a->type != PK_TENSOR)
            return fail(m, "BUILD on a %s at byte %zu", pk_type_name(a->type), at);
        return 0;
    case 'Q': return op_persid(m);
    default: return fail(m, "opcode 0x%02x at byte %zu is not supported", op, at);
    }
}

int pk_load(pk_arena *a, const uint8_t *buf, size_t len, size_t *used, pk_obj **out, char *err, size_t errlen) {
    machine m = {.arena = a, .buf = buf, .len = len, .err = err, .errlen = errlen};
    int done = 0, rc = 0;
    while (!done && rc == 0) rc = step(&m, &done);
    if (rc == 0) {
        if (m.sp != 1 || m.n_marks != 0) {
            rc = fail(&m, "STOP with %zu values on the stack at byte %zu", m.sp, m.pos - 1);
        } else {
            *out = m.stack[0];
            *used = m.pos;
        }
    }
    free(m.stack);
    free(m.marks);
    free(m.memo);
    return rc;
}

void pk_arena_free(pk_arena *a) {
    pk_obj *o = a->all;
    while (o) {
        pk_obj *next = o->next_alloc;
        if (o->type != PK_STORAGE) free(o->s);   // a storage borrows its key's text
        free(o->items);
        free(o);
        o = next;
    }
    a->all = NULL;
}

const pk_obj *pk_dict_get(const pk_obj *d, const char *key) {
    if (!d || d->type != PK_DICT) return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i + 1 < d->n; i += 2)
        if (d->items[i]->type == PK_STR && d->items[i]->len == n && memcmp(d->items[i]->s, key, n) == 0)
            return d->items[i + 1];
    return NULL;
}

const char *pk_type_name(pk_type t) {
    static const char *const NAMES[] = {"None",  "bool", "int",  "int",    "float",   "str",   "bytes",
                                        "tuple", "list", "dict", "global", "storage", "tensor"};
    return (unsigned)t < sizeof NAMES / sizeof NAMES[0] ? NAMES[t] : "?";
}
