// screen_model.c — screen 2: the network exactly as PyTorch prints it, each line marked frozen or
// trainable, with the parameter totals; pick the architecture, show it before or after the seed's
// head replacement, freeze and thaw modules, fold blocks.
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "model_print.h"

static void add_line(void *user, const char *text, size_t node, int closing) {
    app *a = user;
    model_line *grown = realloc(a->lines, (a->n_lines + 1) * sizeof *grown);
    if (!grown) return;
    a->lines = grown;
    a->lines[a->n_lines++] = (model_line){strdup(text), node, closing};
}

static void free_lines(app *a) {
    for (size_t i = 0; i < a->n_lines; i++) free(a->lines[i].text);
    free(a->lines);
    a->lines = NULL;
    a->n_lines = 0;
}

void model_free(app *a) {
    free_lines(a);
    free(a->folded);
    a->folded = NULL;
    ft_model_free(a->model);
    a->model = NULL;
}

static const ft_node *nodes_of(app *a, size_t *n) {
    const ft_node *nodes = NULL;
    *n = 0;
    ft_status *s = ft_model_nodes(a->model, &nodes, n);
    if (s) {
        snprintf(a->status, sizeof a->status, "%s", ft_status_message(s));
        ft_status_free(s);
        *n = 0;
    }
    return nodes;
}

void model_rebuild(app *a) {
    model_free(a);
    const char *arch = ft_arch_name(a->arch_index);
    ft_status *s = ft_model_create(arch, &a->model);
    int64_t classes = a->have_dataset && a->d.n_classes > 0 ? (int64_t)a->d.n_classes : 2;
    if (!s && a->head_replaced) {
        s = ft_model_set_trainable(a->model, "", 0);
        if (!s) s = ft_model_replace_head(a->model, classes);
    }
    if (s) {
        snprintf(a->status, sizeof a->status, "%s: %s", arch, ft_status_message(s));
        ft_status_free(s);
        ft_model_free(a->model);
        a->model = NULL;
        return;
    }
    size_t n;
    const ft_node *nodes = nodes_of(a, &n);
    model_repr_lines(nodes, n, add_line, a);
    a->folded = calloc(n ? n : 1, 1);
    a->model_sel = a->model_top = 0;
    snprintf(a->status, sizeof a->status, "%s, %s", arch,
             a->head_replaced ? "head replaced as the seed does (the rest frozen)" : "as torchvision builds it");
}

// Lines shown: those not inside a folded block (a folded block shows its first line only).
static size_t visible(app *a, size_t *out, size_t cap) {
    size_t n, k = 0;
    const ft_node *nodes = nodes_of(a, &n);
    for (size_t i = 0; i < a->n_lines && k < cap; i++) {
        size_t node = a->lines[i].node;
        int hidden = a->lines[i].closing && a->folded[node];
        // inside a folded ancestor: an earlier node with smaller depth whose subtree holds this one
        for (size_t p = node; !hidden && p-- > 0;) {
            if (nodes[p].depth < nodes[node].depth) {
                size_t end = p + 1;
                while (end < n && nodes[end].depth > nodes[p].depth) end++;
                if (node < end && a->folded[p]) hidden = 1;
            }
        }
        if (!hidden) out[k++] = i;
    }
    return k;
}

void model_draw(app *a, int top, int rows, int cols) {
    if (!a->model) {
        mvaddnstr(top, 2, "no model (press a to build one)", cols - 4);
        return;
    }
    size_t n;
    const ft_node *nodes = nodes_of(a, &n);
    char total[48], train[48];
    format_count(total, sizeof total, nodes[0].params);
    format_count(train, sizeof train, nodes[0].trainable);
    mvprintw(top, 0, "%s  total %s  trainable %s  frozen ", ft_model_arch(a->model), total, train);
    format_count(total, sizeof total, nodes[0].params - nodes[0].trainable);
    addstr(total);
    size_t *vis = malloc((a->n_lines ? a->n_lines : 1) * sizeof *vis);
    size_t nv = vis ? visible(a, vis, a->n_lines) : 0;
    if (a->model_sel >= (int)nv) a->model_sel = nv ? (int)nv - 1 : 0;
    int body = rows - 2;
    if (a->model_sel < a->model_top) a->model_top = a->model_sel;
    if (a->model_sel >= a->model_top + body) a->model_top = a->model_sel - body + 1;
    for (int r = 0; r < body && a->model_top + r < (int)nv; r++) {
        const model_line *l = &a->lines[vis[a->model_top + r]];
        const ft_node *node = &nodes[l->node];
        const char *mark = "          ";
        if (!l->closing && node->params > 0)
            mark = node->trainable == node->params ? "trainable " : node->trainable == 0 ? "frozen    " : "partly    ";
        if (a->model_top + r == a->model_sel) attron(A_REVERSE);
        mvprintw(top + 2 + r, 0, "%s %s", mark, l->text);
        if (!l->closing && a->folded[l->node]) addstr(" ...");
        if (a->model_top + r == a->model_sel) attroff(A_REVERSE);
        (void)cols;
    }
    free(vis);
}

void model_act(app *a, app_action act, int rows) {
    size_t *vis = malloc((a->n_lines ? a->n_lines : 1) * sizeof *vis);
    size_t nv = vis && a->model ? visible(a, vis, a->n_lines) : 0;
    const model_line *sel = nv ? &a->lines[vis[a->model_sel < (int)nv ? a->model_sel : (int)nv - 1]] : NULL;
    ft_status *s = NULL;
    size_t n;
    const ft_node *nodes = a->model ? nodes_of(a, &n) : NULL;
    switch (act) {
    case ACT_UP: a->model_sel--; break;
    case ACT_DOWN: a->model_sel++; break;
    case ACT_PAGE_UP: a->model_sel -= rows - 2; break;
    case ACT_PAGE_DOWN: a->model_sel += rows - 2; break;
    case ACT_HOME: a->model_sel = 0; break;
    case ACT_END: a->model_sel = (int)nv - 1; break;
    case ACT_NEXT_ARCH:
    case ACT_PREV_ARCH:
        a->arch_index = (a->arch_index + (act == ACT_NEXT_ARCH ? 1 : ft_arch_count() - 1)) % ft_arch_count();
        model_rebuild(a);
        break;
    case ACT_TOGGLE_HEAD:
        a->head_replaced = !a->head_replaced;
        model_rebuild(a);
        break;
    case ACT_TOGGLE_FREEZE:
        if (sel && nodes && nodes[sel->node].params > 0) {
            const ft_node *node = &nodes[sel->node];
            int thaw = node->trainable < node->params;
            s = ft_model_set_trainable(a->model, node->path, thaw);
            snprintf(a->status, sizeof a->status, "%s %s", thaw ? "thawed" : "froze", node->path[0] ? node->path : "the whole model");
        }
        break;
    case ACT_FREEZE_BACKBONE:
        if (a->model) {
            s = ft_model_set_trainable(a->model, "", 0);
            if (!s) s = ft_model_set_trainable(a->model, ft_model_head_path(a->model), 1);
            snprintf(a->status, sizeof a->status, "everything frozen but %s", ft_model_head_path(a->model));
        }
        break;
    case ACT_UNFREEZE_ALL:
        if (a->model) {
            s = ft_model_set_trainable(a->model, "", 1);
            snprintf(a->status, sizeof a->status, "every parameter trainable");
        }
        break;
    case ACT_FOLD:
        if (sel && nodes && nodes[sel->node].n_children > 0) a->folded[sel->node] = !a->folded[sel->node];
        break;
    default: break;
    }
    if (s) {
        snprintf(a->status, sizeof a->status, "%s", ft_status_message(s));
        ft_status_free(s);
    }
    if (a->model_sel < 0) a->model_sel = 0;
    free(vis);
}
