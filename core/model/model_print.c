// model_print.c — PyTorch's repr of a module tree, and a torchinfo-style summary table.
//
// repr follows nn.Module.__repr__: "Type(" then, when the module has children, its extra_repr (if
// any) and one "(key): child" line per child, each indented two spaces more, then ")" on its own
// line; a module with no children writes "Type(extra)" on one line. Limit: an extra_repr that
// spans several lines (none of frost's modules has one) would be written on one.
#include "model_print.h"

#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------------------------
// repr

typedef struct {
    model_line_fn fn;
    void *user;
    char line[1024];
} repr_ctx;

// Emits node i (whose text starts after `prefix` at `indent`) and its subtree; returns the index
// after the subtree.
static size_t repr_node(repr_ctx *c, const ft_node *nodes, size_t n, size_t i, int indent, const char *prefix) {
    const ft_node *node = &nodes[i];
    if (node->n_children == 0) {
        snprintf(c->line, sizeof c->line, "%*s%s%s(%s)", indent, "", prefix, node->type, node->extra);
        c->fn(c->user, c->line, i, 0);
        return i + 1;
    }
    snprintf(c->line, sizeof c->line, "%*s%s%s(", indent, "", prefix, node->type);
    c->fn(c->user, c->line, i, 0);
    if (node->extra[0]) {
        snprintf(c->line, sizeof c->line, "%*s%s", indent + 2, "", node->extra);
        c->fn(c->user, c->line, i, 0);
    }
    size_t j = i + 1;
    for (int k = 0; k < node->n_children && j < n; k++) {
        char child_prefix[160];
        snprintf(child_prefix, sizeof child_prefix, "(%s): ", nodes[j].key);
        j = repr_node(c, nodes, n, j, indent + 2, child_prefix);
    }
    snprintf(c->line, sizeof c->line, "%*s)", indent, "");
    c->fn(c->user, c->line, i, 1);
    return j;
}

void model_repr_lines(const ft_node *nodes, size_t n, model_line_fn fn, void *user) {
    if (n == 0) return;
    repr_ctx c = {.fn = fn, .user = user};
    repr_node(&c, nodes, n, 0, 0, "");
}

static void put_line(void *user, const char *line, size_t node, int closing) {
    (void)node;
    (void)closing;
    fprintf((FILE *)user, "%s\n", line);
}

void model_print_repr(FILE *out, const ft_node *nodes, size_t n) { model_repr_lines(nodes, n, put_line, out); }

// ---------------------------------------------------------------------------------------------
// summary

void format_count(char *buf, size_t len, long long v) {
    char digits[32];
    snprintf(digits, sizeof digits, "%lld", v < 0 ? -v : v);
    size_t nd = strlen(digits), o = 0;
    char tmp[48];
    if (v < 0) tmp[o++] = '-';
    for (size_t k = 0; k < nd; k++) {
        if (k && (nd - k) % 3 == 0) tmp[o++] = ',';
        tmp[o++] = digits[k];
    }
    tmp[o] = '\0';
    snprintf(buf, len, "%s", tmp);
}

static void shape_str(char *buf, size_t len, const ft_node *node) {
    if (node->out_ndim == 0) {
        snprintf(buf, len, "-");
        return;
    }
    size_t used = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < node->out_ndim && used < len; d++)
        used += (size_t)snprintf(buf + used, len - used, "%s%lld", d ? ", " : "", (long long)node->out_shape[d]);
    if (used < len) snprintf(buf + used, len - used, "]");
}

static const char *trainable_str(const ft_node *node) {
    if (node->params == 0) return "-";
    if (node->trainable == node->params) return "yes";
    return node->trainable == 0 ? "no" : "partly";
}

void model_print_summary(FILE *out, const ft_node *nodes, size_t n, long size) {
    if (n == 0) return;
    // the module column: "(key) Type" indented by depth, the root by its type alone
    int name_w = (int)strlen("Module"), shape_w = (int)strlen("Output shape");
    char name[256], shape[128], count[48];
    for (size_t i = 0; i < n; i++) {
        int w = 2 * nodes[i].depth + (int)strlen(nodes[i].key) + (int)strlen(nodes[i].type) + (i ? 3 : 0);
        if (w > name_w) name_w = w;
        shape_str(shape, sizeof shape, &nodes[i]);
        if ((int)strlen(shape) > shape_w) shape_w = (int)strlen(shape);
    }
    const int count_w = 13;
    int rule_w = name_w + 2 + shape_w + 2 + count_w + 2 + 9;
    fprintf(out, "%-*s  %-*s  %*s  %s\n", name_w, "Module", shape_w, "Output shape", count_w, "Params", "Trainable");
    for (int k = 0; k < rule_w; k++) fputc('=', out);
    fputc('\n', out);
    for (size_t i = 0; i < n; i++) {
        const ft_node *node = &nodes[i];
        if (i == 0)
            snprintf(name, sizeof name, "%s", node->type);
        else
            snprintf(name, sizeof name, "%*s(%s) %s", 2 * node->depth, "", node->key, node->type);
        shape_str(shape, sizeof shape, node);
        format_count(count, sizeof count, node->params);
        fprintf(out, "%-*s  %-*s  %*s  %s\n", name_w, name, shape_w, shape, count_w, count, trainable_str(node));
    }
    for (int k = 0; k < rule_w; k++) fputc('=', out);
    fputc('\n', out);
    char total[48], train[48], frozen[48];
    format_count(total, sizeof total, nodes[0].params);
    format_count(train, sizeof train, nodes[0].trainable);
    format_count(frozen, sizeof frozen, nodes[0].params - nodes[0].trainable);
    fprintf(out, "Total params: %s\nTrainable params: %s\nNon-trainable params: %s\n", total, train, frozen);
    fprintf(out, "Input size: 1x3x%ldx%ld\n", size, size);
}
