// transfer.c — see transfer.h.
#include "transfer.h"

#include <stdio.h>
#include <string.h>

#include "errmsg.h"
#include "weights.h"

void transfer_arch_list(char *buf, size_t len) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ft_arch_count() && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", ft_arch_name(i));
}

// ---------------------------------------------------------------------------------------------
// building

// A shim status as err ("ARCH: message"), freed. Returns -1.
static int status_error(ft_status *s, const char *arch, char *err, size_t errlen) {
    errmsg_set(err, errlen, "%s: %s", arch, ft_status_message(s));
    ft_status_free(s);
    return -1;
}

int transfer_build(const transfer_spec *spec, ft_model **out, char *note, size_t notelen, char *err, size_t errlen) {
    if (note && notelen) note[0] = '\0';
    ft_model *m = NULL;
    ft_status *s = ft_model_create(spec->arch, &m);
    if (s) return status_error(s, spec->arch, err, errlen);
    int rc = 0;
    int whole_first = spec->weights && (spec->classes == 0 || spec->weights_whole);
    if (whole_first) rc = weights_load(m, spec->weights, err, errlen);
    if (rc == 0 && spec->classes > 0) {
        // the tutorial: a new head for our classes, everything else frozen
        s = ft_model_replace_head(m, spec->classes);
        if (!s) s = transfer_freeze_all_but_head(m);
        if (s) rc = status_error(s, spec->arch, err, errlen);
        if (rc == 0 && spec->weights && !whole_first)
            rc = weights_load_backbone(m, spec->weights, note, notelen, err, errlen);
    }
    if (rc != 0) {
        ft_model_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

ft_status *transfer_freeze_all_but_head(ft_model *m) {
    ft_status *s = ft_model_set_trainable(m, "", 0);
    return s ? s : ft_model_set_trainable(m, ft_model_head_path(m), 1);
}

// ---------------------------------------------------------------------------------------------
// the trainable list

int transfer_apply_trainable(ft_model *m, const char *list, char *err, size_t errlen) {
    ft_status *s = ft_model_set_trainable(m, "", 0);
    char path[256];
    for (const char *p = list; !s && *p;) {
        size_t n = strcspn(p, ",");
        if (n >= sizeof path) n = sizeof path - 1;
        memcpy(path, p, n);
        path[n] = '\0';
        p += n + (p[n] == ',');
        if (n == 0 || strcmp(path, "none") == 0) continue;
        s = ft_model_set_trainable(m, strcmp(path, "all") == 0 ? "" : path, 1);
    }
    if (s) {
        errmsg_set(err, errlen, "trainable modules: %s", ft_status_message(s));
        ft_status_free(s);
        return -1;
    }
    return 0;
}

size_t transfer_subtree_end(const ft_node *nodes, size_t n, size_t i) {
    size_t end = i + 1;
    while (end < n && nodes[end].depth > nodes[i].depth) end++;
    return end;
}

void transfer_trainable_list(ft_model *m, char *buf, size_t len) {
    buf[0] = '\0';
    const ft_node *nodes = NULL;
    size_t n = 0;
    ft_status *s = ft_model_nodes(m, &nodes, &n);
    if (s || n == 0) {
        ft_status_free(s);
        return;
    }
    // the tutorial's own choice (only the head, all of it) needs no list
    const char *head = ft_model_head_path(m);
    for (size_t i = 0; i < n; i++)
        if (strcmp(nodes[i].path, head) == 0 && nodes[i].trainable == nodes[i].params &&
            nodes[0].trainable == nodes[i].params)
            return;
    if (nodes[0].trainable == nodes[0].params) {
        snprintf(buf, len, "all");
        return;
    }
    size_t used = 0;
    for (size_t i = 1; i < n;) {
        if (nodes[i].params > 0 && nodes[i].trainable == nodes[i].params) {
            int w = snprintf(buf + used, len - used, "%s%s", used ? "," : "", nodes[i].path);
            if (w < 0 || (size_t)w >= len - used) {
                buf[used] = '\0';
                return;
            }
            used += (size_t)w;
            i = transfer_subtree_end(nodes, n, i);
        } else {
            i = nodes[i].trainable == 0 ? transfer_subtree_end(nodes, n, i) : i + 1;
        }
    }
    if (used == 0) snprintf(buf, len, "none");
}

// ---------------------------------------------------------------------------------------------
// the module tree

int transfer_has_batchnorm(const ft_node *nodes, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strncmp(nodes[i].type, "BatchNorm", 9) == 0) return 1;
    return 0;
}

static void block_add(transfer_block *b, size_t *nb, const ft_node *nodes, size_t first, size_t end, const char *name) {
    if (*nb >= TRANSFER_MAX_BLOCKS) return;
    transfer_block *k = &b[(*nb)++];
    k->first = first;
    k->end = end;
    snprintf(k->name, sizeof k->name, "%s", name);
    k->params = k->trainable = 0;
    for (size_t i = first; i < end; i++)
        if (nodes[i].n_children == 0) k->params += nodes[i].params, k->trainable += nodes[i].trainable;
}

size_t transfer_blocks(const ft_node *nodes, size_t n, transfer_block *b) {
    size_t nb = 0;
    for (size_t i = 1; i < n; i = transfer_subtree_end(nodes, n, i)) {
        if (nodes[i].depth != 1 || nodes[i].params == 0) continue;
        size_t end = transfer_subtree_end(nodes, n, i);
        int plain = strcmp(nodes[i].type, "Sequential") == 0 && nodes[i].n_children > 0;
        for (size_t c = i + 1; plain && c < end; c++) plain = nodes[c].n_children == 0;
        int has_pool = 0;
        for (size_t c = i + 1; plain && c < end; c++) has_pool |= strcmp(nodes[c].type, "MaxPool2d") == 0;
        if (!plain || !has_pool) {
            block_add(b, &nb, nodes, i, end, nodes[i].path);
            continue;
        }
        // VGG's features: one block per stage, ending at each MaxPool2d
        size_t start = i + 1;
        for (size_t c = i + 1; c < end; c++) {
            if (strcmp(nodes[c].type, "MaxPool2d") != 0 && c + 1 < end) continue;
            char name[64];
            snprintf(name, sizeof name, "%s.%s-%s", nodes[i].path, nodes[start].key, nodes[c].key);
            block_add(b, &nb, nodes, start, c + 1, name);
            start = c + 1;
        }
    }
    return nb;
}

int transfer_model_blocks(ft_model *m, const ft_node **nodes, size_t *n, transfer_block *out, char *err,
                          size_t errlen) {
    ft_status *s = ft_model_nodes(m, nodes, n);
    if (s) {
        errmsg_set(err, errlen, "%s", ft_status_message(s));
        ft_status_free(s);
        return -1;
    }
    return (int)transfer_blocks(*nodes, *n, out);
}

void transfer_block_paths(const ft_node *nodes, size_t n, const transfer_block *b, char *buf, size_t len) {
    if (!len) return;
    buf[0] = 0;
    if (b->first >= n) return;
    if (nodes[b->first].depth == 1) {
        snprintf(buf, len, "%s", nodes[b->first].path);
        return;
    }
    size_t used = 0;
    for (size_t i = b->first; i < b->end && i < n && used < len; i++) {
        if (nodes[i].n_children != 0 || nodes[i].params == 0) continue;
        int k = snprintf(buf + used, len - used, "%s%s", used ? "," : "", nodes[i].path);
        if (k < 0) break;
        used += (size_t)k;
    }
}

ft_status *transfer_block_set(ft_model *m, const ft_node *nodes, const transfer_block *b, int trainable) {
    ft_status *s = NULL;
    for (size_t i = b->first; !s && i < b->end; i++)
        if (nodes[i].n_children == 0 && nodes[i].params > 0) s = ft_model_set_trainable(m, nodes[i].path, trainable);
    return s;
}

// ---------------------------------------------------------------------------------------------

int transfer_classes_match(const char *const *a, size_t na, const char *const *b, size_t nb) {
    if (na != nb) return 0;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0) return 0;
    return 1;
}
