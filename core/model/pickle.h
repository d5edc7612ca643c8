/*
 * pickle.h — a restricted unpickler for the subset of Python's pickle that torch.save writes.
 *
 * Why our own: .pth files are pickles, and no Debian C library reads pickles; libtorch's
 * torch::pickle_load returns None for the collections.OrderedDict of a state_dict. A general
 * unpickler is a code-execution engine (GLOBAL + REDUCE call anything), so this one is not general:
 * it builds plain values (None, bool, int, float, str, bytes, tuple, list, dict) and knows a short
 * allow-list of globals, whose "calls" it interprets itself — collections.OrderedDict() is an empty
 * dict, torch._utils._rebuild_tensor_v2 (or the first _rebuild_tensor) / _rebuild_parameter make a
 * tensor record (storage, offset, size, stride), torch.<Type>Storage names a dtype. Every other global is refused by name
 * ("pickle: refuses global os.system"); nothing is ever executed or imported.
 *
 * Opcodes: protocols 0-5 as torch.save uses them (PROTO, FRAME, STOP, MARK, the EMPTY_* and TUPLE*,
 * SETITEM(S), APPEND(S), BININT*, LONG1, BINFLOAT, the str/bytes forms, PUT/GET in binary forms and
 * MEMOIZE, NONE/NEWTRUE/NEWFALSE, GLOBAL, STACK_GLOBAL, REDUCE, BUILD (its state is ignored: a
 * state_dict's _metadata), BINPERSID). Anything else is an error naming the opcode and its offset.
 * Every read is bounds-checked; sizes are limited by the input's length (it is fuzzed).
 *
 * Values live in an arena owned by a pk_arena and are freed together by pk_arena_free.
 */
#ifndef FROST_PICKLE_H
#define FROST_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "safetensors.h"   // safet_dtype, SAFET_MAX_DIMS: a storage's element type

typedef enum {
    PK_NONE,
    PK_BOOL,      // i is 0 or 1
    PK_INT,       // i
    PK_BIGINT,    // an int too wide for int64: s/len hold its little-endian two's complement bytes
    PK_FLOAT,     // f
    PK_STR,       // s/len, UTF-8 as found (NUL-terminated too)
    PK_BYTES,     // s/len
    PK_TUPLE,     // items/n
    PK_LIST,      // items/n
    PK_DICT,      // items/n: key, value, key, value ... in insertion order (a repeated key is replaced)
    PK_GLOBAL,    // an allowed global: gkind (and dtype for a storage type); s is "module.name"
    PK_STORAGE,   // a persistent id: dtype, s = key, numel (elements)
    PK_TENSOR     // storage, offset, ndim, shape, stride (elements)
} pk_type;

typedef enum { PKG_ORDERED_DICT, PKG_REBUILD_TENSOR_V2, PKG_REBUILD_PARAMETER, PKG_STORAGE_TYPE } pk_global;

typedef struct pk_obj pk_obj;
struct pk_obj {
    pk_type type;
    int64_t i;
    double f;
    char *s;
    size_t len;
    pk_obj **items;
    size_t n, cap;
    pk_global gkind;
    safet_dtype dtype;
    int64_t numel;
    pk_obj *storage;
    int64_t offset;
    int ndim;
    int64_t shape[SAFET_MAX_DIMS];
    int64_t stride[SAFET_MAX_DIMS];
    pk_obj *next_alloc;   // the arena's list
};

typedef struct {
    pk_obj *all;
} pk_arena;

// Reads one pickle (up to and including its STOP) from buf[0..len). On success *out is the value
// (owned by the arena) and *used the bytes read. Returns 0, or -1 with one line in err ("pickle: ...").
// Values of earlier loads into the same arena stay valid.
int pk_load(pk_arena *a, const uint8_t *buf, size_t len, size_t *used, pk_obj **out, char *err, size_t errlen);

void pk_arena_free(pk_arena *a);   // frees every value; the arena can be used again

// The value for a str key in a PK_DICT, NULL when absent or d is no dict.
const pk_obj *pk_dict_get(const pk_obj *d, const char *key);

const char *pk_type_name(pk_type t);

#endif
