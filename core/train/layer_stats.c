// layer_stats.c — see layer_stats.h.
#include "layer_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"

void layer_report_free(layer_report *r) {
    if (!r) return;
    for (size_t i = 0; r->paths && i < r->n; i++) free(r->paths[i]);
    free(r->paths);
    free(r->rows);
    memset(r, 0, sizeof *r);
}

static int alloc_rows(layer_report *r, size_t n) {
    memset(r, 0, sizeof *r);
    r->rows = calloc(n ? n : 1, sizeof *r->rows);
    r->paths = calloc(n ? n : 1, sizeof *r->paths);
    if (!r->rows || !r->paths) {
        layer_report_free(r);
        return -1;
    }
    r->n = n;
    return 0;
}

int layer_report_copy(layer_report *dst, const layer_report *src) {
    if (alloc_rows(dst, src->n) != 0) return -1;
    dst->epoch = src->epoch;
    dst->step = src->step;
    memcpy(dst->rows, src->rows, src->n * sizeof *src->rows);
    for (size_t i = 0; i < src->n; i++)
        if (!(dst->paths[i] = strdup(src->paths[i]))) {
            layer_report_free(dst);
            return -1;
        }
    return 0;
}

long layer_report_find(const layer_report *r, const char *path) {
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->paths[i], path) == 0) return (long)i;
    return -1;
}

// The node of the module that holds state entry `name` ("layer1.0.bn1.running_mean" ->
// "layer1.0.bn1"), or -1.
static long owner(const layer_report *r, const char *name) {
    const char *dot = strrchr(name, '.');
    size_t n = dot ? (size_t)(dot - name) : 0;
    for (size_t i = 0; i < r->n; i++)
        if (strlen(r->paths[i]) == n && strncmp(r->paths[i], name, n) == 0) return (long)i;
    return -1;
}

// 1 when `path` is `ancestor` or below it.
static int under(const char *path, const char *ancestor) {
    size_t n = strlen(ancestor);
    if (n == 0) return 1;
    return strncmp(path, ancestor, n) == 0 && (path[n] == '\0' || path[n] == '.');
}

int layer_report_measure(ft_model *m, const ft_snapshot *s, int epoch, size_t step, layer_report *out, char *err,
                         size_t errlen) {
    const ft_node *nodes;
    size_t n_nodes;
    ft_status *st = ft_model_nodes(m, &nodes, &n_nodes);
    if (st) {
        errmsg_set(err, errlen, "%s", ft_status_message(st));
        ft_status_free(st);
        return -1;
    }
    size_t n_state = ft_model_state_count(m);
    ft_state_change *ch = calloc(n_state ? n_state : 1, sizeof *ch);
    double *sums = calloc(n_nodes ? n_nodes * 5 : 1, sizeof *sums);   // change_sq, base_sq, grad_sq, grads, bn
    if (!ch || !sums || alloc_rows(out, n_nodes) != 0) {
        free(ch);
        free(sums);
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    out->epoch = epoch;
    out->step = step;
    for (size_t i = 0; i < n_nodes; i++) {
        if (!(out->paths[i] = strdup(nodes[i].path))) {
            free(ch);
            free(sums);
            layer_report_free(out);
            errmsg_set(err, errlen, "out of memory");
            return -1;
        }
        layer_stat *row = &out->rows[i];
        row->change = row->grad = row->drift = NAN;
        row->params = nodes[i].params;
        row->trainable = nodes[i].trainable;
        row->batchnorm = strcmp(nodes[i].type, "BatchNorm2d") == 0;
        row->depth = nodes[i].depth;
        snprintf(row->type, sizeof row->type, "%s", nodes[i].type);
    }
    st = ft_model_changes(m, s, ch, n_state);
    if (st) {
        errmsg_set(err, errlen, "%s", ft_status_message(st));
        ft_status_free(st);
        free(ch);
        free(sums);
        layer_report_free(out);
        return -1;
    }
    // each entry into its module: parameters' sums, and each BatchNorm's drift (the larger of its two)
    for (size_t k = 0; k < n_state; k++) {
        ft_tensor_info info;
        ft_status *is = ft_model_state_info(m, k, &info);
        if (is) {
            ft_status_free(is);
            continue;
        }
        long row = owner(out, info.name);
        if (row < 0) continue;
        double *sum = sums + (size_t)row * 5;
        if (info.is_parameter) {
            if (ch[k].tracked) sum[0] += ch[k].change_sq, sum[1] += ch[k].base_sq;
            if (ch[k].has_grad) sum[2] += ch[k].grad_sq, sum[3] = 1;
        } else if (ch[k].tracked && ch[k].base_sq > 0) {
            double d = sqrt(ch[k].change_sq / ch[k].base_sq);
            if (!(sum[4] >= d)) sum[4] = d;
            out->rows[row].drift = sum[4];
        }
    }
    // up the tree: a module's sums are those of every module at and below it
    for (size_t i = 0; i < n_nodes; i++) {
        double change_sq = 0, base_sq = 0, grad_sq = 0, drift = NAN;
        int grads = 0;
        for (size_t j = i; j < n_nodes; j++) {
            if (!under(out->paths[j], out->paths[i])) {
                if (j > i) break;   // pre-order: the subtree is contiguous
                continue;
            }
            const double *sum = sums + j * 5;
            change_sq += sum[0], base_sq += sum[1], grad_sq += sum[2];
            grads |= sum[3] != 0;
            if (isfinite(out->rows[j].drift) && !(drift >= out->rows[j].drift)) drift = out->rows[j].drift;
        }
        layer_stat *row = &out->rows[i];
        if (row->trainable > 0 && base_sq > 0) row->change = sqrt(change_sq / base_sq);
        if (row->trainable > 0 && grads) row->grad = sqrt(grad_sq);
        row->drift = drift;
    }
    free(ch);
    free(sums);
    return 0;
}

// Names listed in an alarm; the rest are counted ("a, b, c, d and 12 more").
enum { LISTED = 4 };

static void name_list(char *names, size_t len, size_t count, const char *path) {
    if (!names || !len || count > LISTED) return;
    size_t used = strlen(names);
    snprintf(names + used, len - used, "%s%s", count > 1 ? ", " : "", path);
}

static void finish_list(char *names, size_t len, size_t count) {
    if (!names || !len || count <= LISTED) return;
    size_t used = strlen(names);
    snprintf(names + used, len - used, " and %zu more", count - LISTED);
}

size_t layer_report_frozen_moving(const layer_report *r, char *names, size_t len) {
    if (names && len) names[0] = '\0';
    size_t count = 0;
    for (size_t i = 0; i < r->n; i++) {
        const layer_stat *row = &r->rows[i];
        if (row->batchnorm && row->trainable == 0 && isfinite(row->drift) && row->drift > 0)
            name_list(names, len, ++count, r->paths[i]);
    }
    finish_list(names, len, count);
    return count;
}

size_t layer_report_not_learning(const layer_report *r, char *names, size_t len) {
    if (names && len) names[0] = '\0';
    size_t count = 0;
    for (size_t i = 0; i < r->n; i++) {
        const layer_stat *row = &r->rows[i];
        if (row->params == 0 || row->trainable != row->params) continue;
        // the highest such module: its parent (the nearest shorter path it is under) does not train whole
        int top = 1;
        for (size_t j = 0; j < i && top; j++)
            if (under(r->paths[i], r->paths[j]) && r->rows[j].params > 0 && r->rows[j].trainable == r->rows[j].params)
                top = 0;
        if (!top) continue;
        if (isfinite(row->change) && row->change < LAYER_LEARNING_MIN) name_list(names, len, ++count, r->paths[i]);
    }
    finish_list(names, len, count);
    return count;
}
