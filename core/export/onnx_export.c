// onnx_export.c — a model as an ONNX file (see onnx_export.h): the module tree walked as torchvision's
// forward() runs it, each module one or no ONNX node, the weights as initializers, packed by
// protobuf-c straight into a temporary file that is renamed into place.
#include "onnx_export.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "errmsg.h"
#include "onnx.pb-c.h"

// ---------------------------------------------------------------------------------------------
// the exporter: the model's tables, the graph being built, and every allocation (freed together)

typedef struct {
    const char *name;   // the tensor's name in the graph
    int rank;           // 4 (N, C, H, W) or 2 (N, features)
} value;

typedef struct {
    ft_model *m;
    const ft_node *nodes;
    size_t n_nodes;
    int opset;
    int64_t size;       // the input's S
    int64_t shape[4];   // the traced output shape of the module emitted last (for adaptive pooling)
    int shape_ndim;
    unsigned counter;   // makes every value name unique
    // the graph
    Onnx__NodeProto **graph_nodes;
    size_t n_graph_nodes, cap_graph_nodes;
    Onnx__TensorProto **inits;
    size_t n_inits, cap_inits;
    unsigned char *state_used;   // per state entry: 1 once it is an initializer
    size_t n_state;
    // allocations
    void **blocks;
    size_t n_blocks, cap_blocks;
    char *err;
    size_t errlen;
} exporter;

static void onnx_fail(exporter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void onnx_fail(exporter *e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    errmsg_vset(e->err, e->errlen, fmt, ap);
    va_end(ap);
}

// arr (n elements of size elem, room for *cap) with room for one more: arr itself, or a larger copy
// (*cap updated); NULL when out of memory, arr untouched.
static void *grow(void *arr, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return arr;
    size_t c = *cap ? *cap * 2 : 64;
    void *p = realloc(arr, c * elem);
    if (p) *cap = c;
    return p;
}

// n zeroed bytes that live until exporter_free; NULL (and err set) when out of memory.
static void *alloc(exporter *e, size_t n) {
    void **blocks = grow(e->blocks, &e->cap_blocks, e->n_blocks, sizeof *e->blocks);
    void *p = blocks ? calloc(1, n ? n : 1) : NULL;
    if (blocks) e->blocks = blocks;
    if (!p) {
        onnx_fail(e, "out of memory (%zu bytes) while building the ONNX graph", n);
        return NULL;
    }
    e->blocks[e->n_blocks++] = p;
    return p;
}

static char *str(exporter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *str(exporter *e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? alloc(e, (size_t)n + 1) : NULL;
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static void exporter_free(exporter *e) {
    for (size_t i = 0; i < e->n_blocks; i++) free(e->blocks[i]);
    free(e->blocks);
    free(e->graph_nodes);
    free(e->inits);
    free(e->state_used);
}

// ---------------------------------------------------------------------------------------------
// the module tree

static const ft_node *node_at(const exporter *e, size_t i) { return &e->nodes[i]; }

// The child of node i named key, or (size_t)-1.
static size_t child(const exporter *e, size_t i, const char *key) {
    int depth = e->nodes[i].depth;
    for (size_t j = i + 1; j < e->n_nodes && e->nodes[j].depth > depth; j++)
        if (e->nodes[j].depth == depth + 1 && strcmp(e->nodes[j].key, key) == 0) return j;
    return (size_t)-1;
}

static const char *shown(const char *path) { return *path ? path : "(the model)"; }

// 1 when node i's children are exactly `keys` (the last n_optional of them may be missing); else 0
// with err naming the first child that is not torchvision's, or the first one missing.
static int children_are(exporter *e, size_t i, const char *const *keys, size_t n_keys, size_t n_optional) {
    const ft_node *nd = node_at(e, i);
    for (size_t j = i + 1; j < e->n_nodes && e->nodes[j].depth > nd->depth; j++) {
        if (e->nodes[j].depth != nd->depth + 1) continue;
        size_t k = 0;
        while (k < n_keys && strcmp(keys[k], e->nodes[j].key) != 0) k++;
        if (k == n_keys) {
            onnx_fail(e, "cannot export module '%s' (%s): its child '%s' (%s) is not in torchvision's %s",
                      shown(nd->path), nd->type, e->nodes[j].key, e->nodes[j].type, nd->type);
            return 0;
        }
    }
    for (size_t k = 0; k + n_optional < n_keys; k++)
        if (child(e, i, keys[k]) == (size_t)-1) {
            onnx_fail(e, "cannot export module '%s' (%s): it has no '%s'", shown(nd->path), nd->type, keys[k]);
            return 0;
        }
    return 1;
}

// ---------------------------------------------------------------------------------------------
// graph pieces

static Onnx__AttributeProto *attr(exporter *e, const char *name, Onnx__AttributeProto__AttributeType type) {
    Onnx__AttributeProto *a = alloc(e, sizeof *a);
    if (!a) return NULL;
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    a->has_type = 1;
    a->type = type;
    return a;
}

static Onnx__AttributeProto *attr_int(exporter *e, const char *name, int64_t v) {
    Onnx__AttributeProto *a = attr(e, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (a) a->has_i = 1, a->i = v;
    return a;
}

static Onnx__AttributeProto *attr_float(exporter *e, const char *name, float v) {
    Onnx__AttributeProto *a = attr(e, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (a) a->has_f = 1, a->f = v;
    return a;
}

static Onnx__AttributeProto *attr_ints(exporter *e, const char *name, const int64_t *v, size_t n) {
    Onnx__AttributeProto *a = attr(e, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t *copy = alloc(e, n * sizeof *copy);
    if (!a || !copy) return NULL;
    memcpy(copy, v, n * sizeof *copy);
    a->n_ints = n;
    a->ints = copy;
    return a;
}

// Adds a node op(inputs) with n_attrs attributes (a NULL one: its allocation failed) for the module at
// path. Returns its output value's name, "<path>/<op>_<k>" with k counting the graph's nodes; NULL on
// error.
static const char *add_node(exporter *e, const char *op, const char *path, const char *const *inputs, size_t n_in,
                            Onnx__AttributeProto *const *attrs, size_t n_attrs) {
    for (size_t k = 0; k < n_attrs; k++)
        if (!attrs[k]) return NULL;   // its allocation failed (err is set)
    Onnx__NodeProto *nd = alloc(e, sizeof *nd);
    char **in = alloc(e, n_in * sizeof *in), **out = alloc(e, sizeof *out);
    Onnx__AttributeProto **at = alloc(e, n_attrs * sizeof *at);
    char *name = str(e, "%s/%s_%u", path, op, e->counter++);
    if (!nd || !in || !out || !at || !name) return NULL;
    Onnx__NodeProto **nodes = grow(e->graph_nodes, &e->cap_graph_nodes, e->n_graph_nodes, sizeof *nodes);
    if (!nodes) {
        onnx_fail(e, "out of memory while building the ONNX graph");
        return NULL;
    }
    e->graph_nodes = nodes;
    onnx__node_proto__init(nd);
    for (size_t k = 0; k < n_in; k++) in[k] = (char *)inputs[k];
    for (size_t k = 0; k < n_attrs; k++) at[k] = attrs[k];
    out[0] = name;
    nd->op_type = (char *)op;
    nd->name = name;
    nd->n_input = n_in;
    nd->input = in;
    nd->n_output = 1;
    nd->output = out;
    nd->n_attribute = n_attrs;
    nd->attribute = at;
    e->graph_nodes[e->n_graph_nodes++] = nd;
    return name;
}

static int host_is_little_endian(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

// Makes state entry "<path>.<field>" an initializer (float32, raw_data little-endian), after checking
// its shape against want (ndim numbers). Its name in the graph, or NULL with err.
static const char *initializer(exporter *e, const ft_node *nd, const char *field, const int64_t *want, int ndim) {
    char *name = str(e, "%s.%s", nd->path, field);
    if (!name) return NULL;
    size_t i = 0;
    ft_tensor_info info;
    for (; i < e->n_state; i++) {
        ft_status *s = ft_model_state_info(e->m, i, &info);
        if (s) {
            onnx_fail(e, "%s", ft_status_message(s));
            ft_status_free(s);
            return NULL;
        }
        if (strcmp(info.name, name) == 0) break;
    }
    if (i == e->n_state) {
        onnx_fail(e, "cannot export module '%s' (%s): it has no tensor '%s'", nd->path, nd->type, name);
        return NULL;
    }
    int same = info.dtype == FT_F32 && info.ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = info.shape[d] == want[d];
    if (!same) {
        onnx_fail(e, "cannot export module '%s' (%s): '%s' does not have the shape its options give", nd->path,
                  nd->type, name);
        return NULL;
    }
    if (e->state_used[i]) return name;
    Onnx__TensorProto *t = alloc(e, sizeof *t);
    int64_t *dims = alloc(e, (size_t)ndim * sizeof *dims);
    unsigned char *data = alloc(e, info.nbytes);
    if (!t || !dims || !data) return NULL;
    ft_status *s = ft_model_state_get(e->m, i, data, info.nbytes);
    if (s) {
        onnx_fail(e, "reading '%s': %s", name, ft_status_message(s));
        ft_status_free(s);
        return NULL;
    }
    if (!host_is_little_endian())
        for (size_t k = 0; k + 3 < info.nbytes; k += 4) {
            unsigned char b0 = data[k], b1 = data[k + 1];
            data[k] = data[k + 3];
            data[k + 1] = data[k + 2];
            data[k + 2] = b1;
            data[k + 3] = b0;
        }
    onnx__tensor_proto__init(t);
    memcpy(dims, want, (size_t)ndim * sizeof *dims);
    t->n_dims = (size_t)ndim;
    t->dims = dims;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->name = name;
    t->has_raw_data = 1;
    t->raw_data.len = info.nbytes;
    t->raw_data.data = data;
    Onnx__TensorProto **inits = grow(e->inits, &e->cap_inits, e->n_inits, sizeof *inits);
    if (!inits) {
        onnx_fail(e, "out of memory while building the ONNX graph");
        return NULL;
    }
    e->inits = inits;
    e->inits[e->n_inits++] = t;
    e->state_used[i] = 1;
    return name;
}

static int need_rank(exporter *e, const ft_node *nd, value x, int rank) {
    if (x.rank == rank) return 1;
    onnx_fail(e, "cannot export module '%s' (%s): it gets a %dD input where ONNX needs %dD", nd->path, nd->type, x.rank,
              rank);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// one module each

static value none = {NULL, 0};

static value conv(exporter *e, const ft_node *nd, const ft_module_info *mi, value x) {
    if (!need_rank(e, nd, x, 4)) return none;
    if (mi->groups < 1 || mi->in_channels % mi->groups != 0) {
        onnx_fail(e, "cannot export module '%s' (Conv2d): %lld groups for %lld channels", nd->path,
                  (long long)mi->groups, (long long)mi->in_channels);
        return none;
    }
    int64_t wshape[4] = {mi->out_channels, mi->in_channels / mi->groups, mi->kernel[0], mi->kernel[1]};
    const char *in[3] = {x.name, initializer(e, nd, "weight", wshape, 4), NULL};
    if (!in[1]) return none;
    if (mi->bias && !(in[2] = initializer(e, nd, "bias", &mi->out_channels, 1))) return none;
    int64_t pads[4] = {mi->padding[0], mi->padding[1], mi->padding[0], mi->padding[1]};
    Onnx__AttributeProto *attrs[] = {attr_ints(e, "kernel_shape", mi->kernel, 2),
                                     attr_ints(e, "strides", mi->stride, 2), attr_ints(e, "pads", pads, 4),
                                     attr_ints(e, "dilations", mi->dilation, 2), attr_int(e, "group", mi->groups)};
    return (value){add_node(e, "Conv", nd->path, in, mi->bias ? 3 : 2, attrs, 5), 4};
}

static value batchnorm(exporter *e, const ft_node *nd, const ft_module_info *mi, value x) {
    if (!need_rank(e, nd, x, 4)) return none;
    if (!mi->affine || !mi->track_running_stats) {
        onnx_fail(e, "cannot export module '%s' (BatchNorm2d): it has no %s", nd->path,
                  mi->affine ? "running statistics" : "weight and bias (affine=False)");
        return none;
    }
    const int64_t *c = &mi->num_features;
    const char *in[5] = {x.name, initializer(e, nd, "weight", c, 1), initializer(e, nd, "bias", c, 1),
                         initializer(e, nd, "running_mean", c, 1), initializer(e, nd, "running_var", c, 1)};
    for (int k = 1; k < 5; k++)
        if (!in[k]) return none;
    Onnx__AttributeProto *attrs[] = {attr_float(e, "epsilon", (float)mi->eps)};
    return (value){add_node(e, "BatchNormalization", nd->path, in, 5, attrs, 1), 4};
}

static value maxpool(exporter *e, const ft_node *nd, const ft_module_info *mi, value x) {
    if (!need_rank(e, nd, x, 4)) return none;
    int dilated = mi->dilation[0] != 1 || mi->dilation[1] != 1;
    if ((mi->ceil_mode || dilated) && e->opset < 10) {
        onnx_fail(e, "cannot export module '%s' (MaxPool2d) at opset %d: its %s needs opset 10 or later", nd->path,
                  e->opset, mi->ceil_mode ? "ceil_mode" : "dilation");
        return none;
    }
    int64_t pads[4] = {mi->padding[0], mi->padding[1], mi->padding[0], mi->padding[1]};
    Onnx__AttributeProto *attrs[5] = {attr_ints(e, "kernel_shape", mi->kernel, 2),
                                      attr_ints(e, "strides", mi->stride, 2), attr_ints(e, "pads", pads, 4)};
    size_t n = 3;
    if (mi->ceil_mode) attrs[n++] = attr_int(e, "ceil_mode", 1);
    if (dilated) attrs[n++] = attr_ints(e, "dilations", mi->dilation, 2);
    const char *in[1] = {x.name};
    return (value){add_node(e, "MaxPool", nd->path, in, 1, attrs, n), 4};
}

// AdaptiveAvgPool2d: ONNX has no adaptive pooling, but to 1x1 it is GlobalAveragePool, to the input's
// own size nothing, and to a size that divides the input's an AveragePool with kernel = stride = the
// quotient (the adaptive windows are then exactly those). Anything else is refused.
static value adaptive_avgpool(exporter *e, const ft_node *nd, const ft_module_info *mi, value x) {
    if (!need_rank(e, nd, x, 4)) return none;
    const char *in[1] = {x.name};
    if (mi->output_size[0] == 1 && mi->output_size[1] == 1)
        return (value){add_node(e, "GlobalAveragePool", nd->path, in, 1, NULL, 0), 4};
    if (e->shape_ndim != 4) {
        onnx_fail(e, "cannot export module '%s' (AdaptiveAvgPool2d): the size of its input is not known", nd->path);
        return none;
    }
    int64_t h = e->shape[2], w = e->shape[3];
    int64_t oh = mi->output_size[0] < 0 ? h : mi->output_size[0], ow = mi->output_size[1] < 0 ? w : mi->output_size[1];
    if (oh == h && ow == w) return x;
    if (oh < 1 || ow < 1 || h % oh != 0 || w % ow != 0) {
        onnx_fail(
            e,
            "cannot export module '%s' (AdaptiveAvgPool2d to %lldx%lld) at input size %lld: its input is %lldx%lld, "
            "which ONNX pooling cannot turn into %lldx%lld (use an input size whose feature map is a multiple of "
            "it, e.g. 224)",
            nd->path, (long long)oh, (long long)ow, (long long)e->size, (long long)h, (long long)w, (long long)oh,
            (long long)ow);
        return none;
    }
    int64_t kernel[2] = {h / oh, w / ow};
    Onnx__AttributeProto *attrs[] = {attr_ints(e, "kernel_shape", kernel, 2), attr_ints(e, "strides", kernel, 2)};
    return (value){add_node(e, "AveragePool", nd->path, in, 1, attrs, 2), 4};
}

static value linear(exporter *e, const ft_node *nd, const ft_module_info *mi, value x) {
    if (!need_rank(e, nd, x, 2)) return none;
    if (!mi->bias && e->opset < 11) {
        onnx_fail(e, "cannot export module '%s' (Linear without bias) at opset %d: Gemm needs opset 11 or later",
                  nd->path, e->opset);
        return none;
    }
    int64_t wshape[2] = {mi->out_features, mi->in_features};
    const char *in[3] = {x.name, initializer(e, nd, "weight", wshape, 2), NULL};
    if (!in[1]) return none;
    if (mi->bias && !(in[2] = initializer(e, nd, "bias", &mi->out_features, 1))) return none;
    Onnx__AttributeProto *attrs[] = {attr_int(e, "transB", 1)};
    return (value){add_node(e, "Gemm", nd->path, in, mi->bias ? 3 : 2, attrs, 1), 2};
}

static value relu(exporter *e, const ft_node *nd, value x) {
    const char *in[1] = {x.name};
    return (value){add_node(e, "Relu", nd->path, in, 1, NULL, 0), x.rank};
}

static value flatten(exporter *e, const char *path, value x) {
    const char *in[1] = {x.name};
    Onnx__AttributeProto *attrs[] = {attr_int(e, "axis", 1)};
    return (value){add_node(e, "Flatten", path, in, 1, attrs, 1), 2};
}

static value add(exporter *e, const char *path, value a, value b) {
    const char *in[2] = {a.name, b.name};
    return (value){add_node(e, "Add", path, in, 2, NULL, 0), a.rank};
}

// ---------------------------------------------------------------------------------------------
// containers, as torchvision's forward() runs them

static value emit(exporter *e, size_t i, value x);

static value emit_child(exporter *e, size_t i, const char *key, value x) {
    if (!x.name) return none;
    return emit(e, child(e, i, key), x);
}

static value sequential(exporter *e, size_t i, value x) {
    int depth = e->nodes[i].depth;
    for (size_t j = i + 1; x.name && j < e->n_nodes && e->nodes[j].depth > depth; j++)
        if (e->nodes[j].depth == depth + 1) x = emit(e, j, x);
    return x;
}

static value vgg(exporter *e, size_t i, value x) {
    static const char *const keys[] = {"features", "avgpool", "classifier"};
    if (!children_are(e, i, keys, 3, 0)) return none;
    x = emit_child(e, i, "features", x);
    x = emit_child(e, i, "avgpool", x);
    if (x.name) x = flatten(e, "flatten", x);
    return emit_child(e, i, "classifier", x);
}

static value resnet(exporter *e, size_t i, value x) {
    static const char *const keys[] = {"conv1",  "bn1",    "relu",   "maxpool", "layer1",
                                       "layer2", "layer3", "layer4", "avgpool", "fc"};
    if (!children_are(e, i, keys, 10, 0)) return none;
    for (size_t k = 0; k < 9; k++) x = emit_child(e, i, keys[k], x);
    if (x.name) x = flatten(e, "flatten", x);
    return emit_child(e, i, "fc", x);
}

// BasicBlock: conv1 bn1 relu conv2 bn2; Bottleneck: conv1 bn1 relu conv2 bn2 relu conv3 bn3; then
// + identity (through downsample when there is one) and relu. The block's one ReLU module serves
// every call, as in torchvision.
static value block(exporter *e, size_t i, value x, int bottleneck) {
    static const char *const basic[] = {"conv1", "bn1", "relu", "conv2", "bn2", "downsample"};
    static const char *const bottle[] = {"conv1", "bn1", "relu", "conv2", "bn2", "conv3", "bn3", "downsample"};
    if (!children_are(e, i, bottleneck ? bottle : basic, bottleneck ? 8 : 6, 1)) return none;
    value identity = x, out = x;
    for (size_t k = 0; k < 5; k++) out = emit_child(e, i, basic[k], out);
    static const char *const tail[] = {"relu", "conv3", "bn3"};   // Bottleneck only
    for (size_t k = 0; bottleneck && k < 3; k++) out = emit_child(e, i, tail[k], out);
    if (child(e, i, "downsample") != (size_t)-1) identity = emit_child(e, i, "downsample", x);
    if (!out.name || !identity.name) return none;
    out = add(e, e->nodes[i].path, out, identity);
    return out.name ? emit_child(e, i, "relu", out) : none;
}

static value emit(exporter *e, size_t i, value x) {
    if (!x.name) return none;
    if (i >= e->n_nodes) {
        onnx_fail(e, "cannot export: a module the forward pass needs is missing");
        return none;
    }
    const ft_node *nd = node_at(e, i);
    ft_module_info mi;
    ft_status *s = ft_model_module_info(e->m, i, &mi);
    if (s) {
        onnx_fail(e, "cannot export: %s", ft_status_message(s));
        ft_status_free(s);
        return none;
    }
    value y = none;
    switch (mi.kind) {
    case FT_MOD_CONV2D: y = conv(e, nd, &mi, x); break;
    case FT_MOD_BATCHNORM2D: y = batchnorm(e, nd, &mi, x); break;
    case FT_MOD_RELU: y = relu(e, nd, x); break;
    case FT_MOD_MAXPOOL2D: y = maxpool(e, nd, &mi, x); break;
    case FT_MOD_ADAPTIVE_AVGPOOL2D: y = adaptive_avgpool(e, nd, &mi, x); break;
    case FT_MOD_LINEAR: y = linear(e, nd, &mi, x); break;
    case FT_MOD_DROPOUT: y = x; break;   // eval mode: the identity, so no node (as torch.onnx.export)
    case FT_MOD_OTHER:
        if (strcmp(nd->type, "Sequential") == 0)
            y = sequential(e, i, x);
        else if (strcmp(nd->type, "VGG") == 0)
            y = vgg(e, i, x);
        else if (strcmp(nd->type, "ResNet") == 0)
            y = resnet(e, i, x);
        else if (strcmp(nd->type, "BasicBlock") == 0 || strcmp(nd->type, "Bottleneck") == 0)
            y = block(e, i, x, nd->type[0] == 'B' && nd->type[1] == 'o');
        else
            onnx_fail(e, "cannot export module '%s' (%s): frost has no ONNX form for it", shown(nd->path), nd->type);
        break;
    }
    if (y.name && nd->out_ndim == 4) {   // what the next module gets (adaptive pooling reads it)
        e->shape_ndim = 4;
        memcpy(e->shape, nd->out_shape, sizeof e->shape);
    }
    return y;
}

// ---------------------------------------------------------------------------------------------
// the model around the graph

// A float32 tensor type [batch, dims...] for the graph's input and output.
static Onnx__ValueInfoProto *io_value(exporter *e, const char *name, const int64_t *dims, size_t n) {
    Onnx__ValueInfoProto *v = alloc(e, sizeof *v);
    Onnx__TypeProto *type = alloc(e, sizeof *type);
    Onnx__TypeProto__Tensor *tensor = alloc(e, sizeof *tensor);
    Onnx__TensorShapeProto *shape = alloc(e, sizeof *shape);
    Onnx__TensorShapeProto__Dimension **dim = alloc(e, (n + 1) * sizeof *dim);
    if (!v || !type || !tensor || !shape || !dim) return NULL;
    for (size_t k = 0; k <= n; k++) {
        if (!(dim[k] = alloc(e, sizeof **dim))) return NULL;
        onnx__tensor_shape_proto__dimension__init(dim[k]);
        if (k == 0) {
            dim[k]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dim[k]->dim_param = "batch";
        } else {
            dim[k]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dim[k]->dim_value = dims[k - 1];
        }
    }
    onnx__tensor_shape_proto__init(shape);
    shape->n_dim = n + 1;
    shape->dim = dim;
    onnx__type_proto__tensor__init(tensor);
    tensor->has_elem_type = 1;
    tensor->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tensor->shape = shape;
    onnx__type_proto__init(type);
    type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type->tensor_type = tensor;
    onnx__value_info_proto__init(v);
    v->name = (char *)name;
    v->type = type;
    return v;
}

// mean or std as a checkpoint's metadata writes them
static char *float3_json(exporter *e, const float v[3]) {
    char text[128];
    checkpoint_float3_json(text, sizeof text, v);
    return str(e, "%s", text);
}

static char *class_names_json(exporter *e, const checkpoint_meta *meta) {
    json_t *names = json_array();
    for (int64_t i = 0; names && i < meta->num_classes; i++)
        if (json_array_append_new(names, json_string(meta->class_names[i])) != 0) {
            json_decref(names);
            names = NULL;
        }
    char *text = names ? json_dumps(names, JSON_COMPACT) : NULL;
    json_decref(names);
    char *copy = text ? str(e, "%s", text) : NULL;
    free(text);
    if (!copy) onnx_fail(e, "out of memory");
    return copy;
}

// metadata_props, and the doc_string that says what the input must be.
static int describe_model(exporter *e, const checkpoint_meta *meta, Onnx__ModelProto *model) {
    const transform_params *tf = &meta->tf;
    const char *arch = ft_model_arch(e->m);
    char *mean = float3_json(e, tf->mean), *std = float3_json(e, tf->std), *names = class_names_json(e, meta);
    char *size = str(e, "%d", tf->size), *classes = str(e, "%lld", (long long)meta->num_classes);
    const char *resize = tf->fit == TRANSFORM_SHORT_CROP ? "crop" : "square";
    char *resize_text = tf->fit == TRANSFORM_SHORT_CROP ? str(e, "Resize(%d) + CenterCrop(%d)", tf->size, tf->size)
                                                        : str(e, "Resize([%d, %d])", tf->size, tf->size);
    if (!mean || !std || !names || !size || !classes || !resize_text) return -1;
    model->doc_string = str(
        e,
        "%s trained by frost, %lld classes (frost.class_names, in index order). Input \"input\": float32 "
        "[batch, 3, %d, %d], RGB, the image as torchvision's Compose([%s, ToTensor(), Normalize(mean=%s, "
        "std=%s)]) makes it: resized with bilinear filtering (PIL), pixel values scaled to 0..1, then "
        "(value - mean) / std per channel. Output \"logits\": float32 [batch, %lld], before softmax.",
        arch, (long long)meta->num_classes, tf->size, tf->size, resize_text, mean, std, (long long)meta->num_classes);
    const char *keys[] = {"frost.arch",   "frost.classes", "frost.class_names", "frost.input_size",
                          "frost.resize", "frost.mean",    "frost.std"};
    const char *values[] = {arch, classes, names, size, resize, mean, std};
    enum { N_PROPS = sizeof keys / sizeof *keys };
    Onnx__StringStringEntryProto **props = alloc(e, N_PROPS * sizeof *props);
    if (!model->doc_string || !props) return -1;
    for (size_t k = 0; k < N_PROPS; k++) {
        if (!(props[k] = alloc(e, sizeof **props))) return -1;
        onnx__string_string_entry_proto__init(props[k]);
        props[k]->key = (char *)keys[k];
        props[k]->value = (char *)values[k];
    }
    model->n_metadata_props = N_PROPS;
    model->metadata_props = props;
    return 0;
}

// ---------------------------------------------------------------------------------------------
// the file: packed by protobuf-c through a buffer whose append writes to it

typedef struct {
    ProtobufCBuffer base;
    FILE *f;
    int error;   // errno of the first failed write (0: none)
} file_buffer;

static void file_append(ProtobufCBuffer *b, size_t len, const uint8_t *data) {
    file_buffer *fb = (file_buffer *)b;
    if (fb->error || len == 0) return;
    if (fwrite(data, 1, len, fb->f) != len) fb->error = errno ? errno : EIO;
}

// What can be known before any work: the folder exists and can be written, path is nothing but a
// regular file, and (overwrite 0) path does not exist.
static int check_target(const char *path, int overwrite, char *err, size_t errlen) {
    if (!path || !*path) {
        errmsg_set(err, errlen, "no file name for the ONNX model");
        return -1;
    }
    struct stat st;
    if (atomic_file_check(path, err, errlen) != 0) return -1;
    if (!overwrite && lstat(path, &st) == 0) {
        errmsg_set(err, errlen, "%s already exists (it is replaced only when overwriting is asked for)", path);
        return -1;
    }
    return 0;
}

// The model into path, atomically; with overwrite 0 put in place by a link, which unlike a rename
// fails when path appeared meanwhile.
static int write_model(const Onnx__ModelProto *model, const char *path, int overwrite, char *err, size_t errlen) {
    atomic_file af;
    FILE *f = atomic_file_open_stream(&af, path, err, errlen);
    if (!f) return -1;
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    file_buffer fb = {{file_append}, f, 0};
    onnx__model_proto__pack_to_buffer(model, &fb.base);
    if (fb.error) {
        errmsg_set(err, errlen, "%s: write failed: %s", path, strerror(fb.error));
        atomic_file_abort(&af);
        return -1;
    }
    return atomic_file_commit(&af, overwrite, err, errlen);
}

// ---------------------------------------------------------------------------------------------

// Every weight the forward pass reads must be in the graph: an unused one means a module was passed
// over, and the graph would compute something else.
static int all_weights_used(exporter *e) {
    for (size_t i = 0; i < e->n_state; i++) {
        if (e->state_used[i]) continue;
        ft_tensor_info info;
        ft_status *s = ft_model_state_info(e->m, i, &info);
        if (s) {
            onnx_fail(e, "%s", ft_status_message(s));
            ft_status_free(s);
            return 0;
        }
        const char *dot = strrchr(info.name, '.');
        if (dot && strcmp(dot + 1, "num_batches_tracked") == 0) continue;
        onnx_fail(e, "cannot export: the graph would not use '%s'", info.name);
        return 0;
    }
    return 1;
}

int onnx_export(ft_model *m, const checkpoint_meta *meta, int opset, const char *path, int overwrite, char *err,
                size_t errlen) {
    if (!m || !meta) {
        errmsg_set(err, errlen, "onnx_export: NULL argument");
        return -1;
    }
    if (opset < ONNX_MIN_OPSET || opset > ONNX_MAX_OPSET) {
        errmsg_set(err, errlen, "ONNX opset %d is not supported (frost writes opsets %d to %d; default %d)", opset,
                   ONNX_MIN_OPSET, ONNX_MAX_OPSET, ONNX_DEFAULT_OPSET);
        return -1;
    }
    if (checkpoint_meta_check(meta, err, errlen) != 0) return -1;
    if (meta->num_classes != ft_model_num_classes(m)) {
        errmsg_set(err, errlen, "%lld class names for a model with %lld outputs", (long long)meta->num_classes,
                   (long long)ft_model_num_classes(m));
        return -1;
    }
    if (check_target(path, overwrite, err, errlen) != 0) return -1;

    exporter e = {0};
    e.m = m;
    e.opset = opset;
    e.size = meta->tf.size;
    e.err = err;
    e.errlen = errlen;
    e.n_state = ft_model_state_count(m);
    int rc = -1;
    ft_status *s = ft_model_trace(m, e.size);   // the feature maps' sizes, for adaptive pooling
    if (!s) s = ft_model_nodes(m, &e.nodes, &e.n_nodes);
    if (s) {
        onnx_fail(&e, "the model cannot run on a %dx%d input: %s", meta->tf.size, meta->tf.size, ft_status_message(s));
        ft_status_free(s);
        return -1;
    }
    if (!(e.state_used = calloc(e.n_state ? e.n_state : 1, 1))) {
        onnx_fail(&e, "out of memory");
        return -1;
    }

    Onnx__ModelProto model = ONNX__MODEL_PROTO__INIT;
    Onnx__GraphProto graph = ONNX__GRAPH_PROTO__INIT;
    Onnx__OperatorSetIdProto opset_id = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    Onnx__OperatorSetIdProto *opsets[1] = {&opset_id};
    int64_t in_dims[3] = {3, e.size, e.size}, out_dims[1] = {meta->num_classes};
    Onnx__ValueInfoProto *input = io_value(&e, "input", in_dims, 3), *output = io_value(&e, "logits", out_dims, 1);
    value y = none;
    if (input && output && e.n_nodes > 0) y = emit(&e, 0, (value){"input", 4});
    if (!y.name || !all_weights_used(&e)) goto out;
    if (y.rank != 2) {
        onnx_fail(&e, "cannot export: the model's output is %dD, not [batch, classes]", y.rank);
        goto out;
    }
    // the last node's output is the graph's: name it "logits" (through an Identity when the model ends
    // in a module that has no node, which torchvision's do not)
    Onnx__NodeProto *last = e.n_graph_nodes ? e.graph_nodes[e.n_graph_nodes - 1] : NULL;
    if (!last || strcmp(last->output[0], y.name) != 0) {
        const char *in[1] = {y.name};
        if (!add_node(&e, "Identity", "output", in, 1, NULL, 0)) goto out;
        last = e.graph_nodes[e.n_graph_nodes - 1];
    }
    last->output[0] = "logits";

    opset_id.domain = "";
    opset_id.has_version = 1;
    opset_id.version = opset;
    graph.name = (char *)ft_model_arch(m);
    graph.n_node = e.n_graph_nodes;
    graph.node = e.graph_nodes;
    graph.n_initializer = e.n_inits;
    graph.initializer = e.inits;
    graph.n_input = 1;
    graph.input = &input;
    graph.n_output = 1;
    graph.output = &output;
    model.has_ir_version = 1;
    model.ir_version = ONNX_IR_VERSION;
    model.n_opset_import = 1;
    model.opset_import = opsets;
    model.producer_name = "frost";
    model.graph = &graph;
    if (describe_model(&e, meta, &model) != 0) goto out;
    size_t bytes = onnx__model_proto__get_packed_size(&model);
    if (bytes > INT32_MAX) {   // protobuf's limit for one message (and protobuf-c's 32-bit lengths)
        onnx_fail(&e, "the model is %.2f GB, over protobuf's 2 GB limit for one ONNX file", (double)bytes / 1e9);
        goto out;
    }
    rc = write_model(&model, path, overwrite, err, errlen);
out:
    exporter_free(&e);
    return rc;
}
