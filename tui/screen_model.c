// screen_model.c — screen 2: the network exactly as PyTorch prints it, each line marked frozen or
// trainable, with the parameter totals; pick the architecture, show it before or after the seed's
// head replacement (or both side by side, changed lines highlighted), freeze and thaw modules or
// whole blocks, fold blocks, and choose what BatchNorm does in frozen layers.
//
// Blocks: the top-level modules that hold parameters (ResNet's conv1, bn1, layer1..layer4, fc); a
// top-level Sequential of plain layers (VGG's features) is split into its stages, each ending at a
// MaxPool2d, so VGG has blocks too.
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "model_print.h"
#include "style.h"

// ---------------------------------------------------------------------------------------------
// lines

typedef struct {
    model_line *lines;
    size_t n;
} line_list;

static void add_line(void *user, const char *text, size_t node, int closing) {
    line_list *l = user;
    model_line *grown = realloc(l->lines, (l->n + 1) * sizeof *grown);
    if (!grown) return;
    l->lines = grown;
    l->lines[l->n++] = (model_line){strdup(text), node, closing};
}

static void free_line_list(model_line *lines, size_t n) {
    for (size_t i = 0; i < n; i++) free(lines[i].text);
    free(lines);
}

// The model and what was made from it (its lines, fold marks); `before` stays (it depends on the
// architecture only).
static void drop_model(app *a) {
    free_line_list(a->lines, a->n_lines);
    a->lines = NULL;
    a->n_lines = 0;
    free(a->folded);
    a->folded = NULL;
    ft_model_free(a->model);
    a->model = NULL;
}

void model_free(app *a) {
    drop_model(a);
    free_line_list(a->before, a->n_before);
    a->before = NULL;
    a->n_before = 0;
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

static int64_t classes_of(const app *a) { return a->have_dataset && a->d.n_classes > 0 ? (int64_t)a->d.n_classes : 2; }

void model_rebuild(app *a) {
    drop_model(a);
    const char *arch = ft_arch_name(a->arch_index);
    ft_status *s = ft_model_create(arch, &a->model);
    if (!s && a->head_replaced) {
        s = ft_model_set_trainable(a->model, "", 0);
        if (!s) s = ft_model_replace_head(a->model, classes_of(a));
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
    line_list l = {0};
    model_repr_lines(nodes, n, add_line, &l);
    a->lines = l.lines;
    a->n_lines = l.n;
    a->folded = calloc(n ? n : 1, 1);
    a->model_sel = a->model_top = 0;
    snprintf(a->status, sizeof a->status, "%s, %s", arch,
             a->head_replaced ? "head replaced as the seed does (the rest frozen)" : "as torchvision builds it");
}

// The lines of the architecture as torchvision builds it (no head replacement), for the side by side
// view; kept while the architecture stays the same.
static int ensure_before(app *a) {
    if (a->before && a->before_arch == a->arch_index) return 0;
    free_line_list(a->before, a->n_before);
    a->before = NULL;
    a->n_before = 0;
    ft_model *m = NULL;
    ft_status *s = ft_model_create(ft_arch_name(a->arch_index), &m);
    const ft_node *nodes = NULL;
    size_t n = 0;
    if (!s) s = ft_model_nodes(m, &nodes, &n);
    if (s) {
        snprintf(a->status, sizeof a->status, "%s", ft_status_message(s));
        ft_status_free(s);
        ft_model_free(m);
        return -1;
    }
    line_list l = {0};
    model_repr_lines(nodes, n, add_line, &l);
    ft_model_free(m);
    a->before = l.lines;
    a->n_before = l.n;
    a->before_arch = a->arch_index;
    return 0;
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

// ---------------------------------------------------------------------------------------------
// blocks

typedef struct {
    size_t first, end;   // node range [first, end)
    char name[64];
    int64_t params, trainable;
} block;

#define MAX_BLOCKS 32

static size_t subtree_end(const ft_node *nodes, size_t n, size_t i) {
    size_t end = i + 1;
    while (end < n && nodes[end].depth > nodes[i].depth) end++;
    return end;
}

static void block_add(block *b, size_t *nb, const ft_node *nodes, size_t first, size_t end, const char *name) {
    if (*nb >= MAX_BLOCKS) return;
    block *k = &b[(*nb)++];
    k->first = first;
    k->end = end;
    snprintf(k->name, sizeof k->name, "%s", name);
    k->params = k->trainable = 0;
    for (size_t i = first; i < end; i++)
        if (nodes[i].n_children == 0) k->params += nodes[i].params, k->trainable += nodes[i].trainable;
}

static size_t blocks_of(const ft_node *nodes, size_t n, block *b) {
    size_t nb = 0;
    for (size_t i = 1; i < n; i = subtree_end(nodes, n, i)) {
        if (nodes[i].depth != 1 || nodes[i].params == 0) continue;
        size_t end = subtree_end(nodes, n, i);
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

static ft_status *block_set(app *a, const ft_node *nodes, const block *b, int trainable) {
    ft_status *s = NULL;
    for (size_t i = b->first; !s && i < b->end; i++)
        if (nodes[i].n_children == 0 && nodes[i].params > 0) s = ft_model_set_trainable(a->model, nodes[i].path, trainable);
    return s;
}

void model_trainable_spec(app *a, char *buf, size_t len) {
    buf[0] = '\0';
    if (!a->model || !a->head_replaced || strcmp(ft_model_arch(a->model), ft_arch_name(a->arch_index)) != 0) return;
    size_t n;
    const ft_node *nodes = nodes_of(a, &n);
    if (n == 0) return;
    // the seed's own choice (only the head) needs no spec
    const char *head = ft_model_head_path(a->model);
    int64_t head_params = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(nodes[i].path, head) == 0) head_params = nodes[i].params;
    if (nodes[0].trainable == head_params) {
        for (size_t i = 0; i < n; i++)
            if (strcmp(nodes[i].path, head) == 0 && nodes[i].trainable == nodes[i].params) return;
    }
    if (nodes[0].trainable == nodes[0].params) {
        snprintf(buf, len, "all");
        return;
    }
    // the fewest paths: a fully trainable module stands for its subtree
    size_t used = 0;
    for (size_t i = 1; i < n;) {
        if (nodes[i].params > 0 && nodes[i].trainable == nodes[i].params) {
            int w = snprintf(buf + used, len - used, "%s%s", used ? "," : "", nodes[i].path);
            if (w < 0 || (size_t)w >= len - used) {
                buf[used] = '\0';
                return;
            }
            used += (size_t)w;
            i = subtree_end(nodes, n, i);
        } else {
            i = nodes[i].trainable == 0 ? subtree_end(nodes, n, i) : i + 1;
        }
    }
    if (used == 0) snprintf(buf, len, "none");
}

// ---------------------------------------------------------------------------------------------
// drawing

static int has_batchnorm(const ft_node *nodes, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strncmp(nodes[i].type, "BatchNorm", 9) == 0) return 1;
    return 0;
}

static void draw_mark(const ft_node *node, const model_line *l) {
    if (l->closing || node->params == 0) {
        addstr("           ");
        return;
    }
    ui_role r = node->trainable == node->params ? ROLE_TRAINABLE : node->trainable == 0 ? ROLE_FROZEN : ROLE_PARTIAL;
    glyph_id g = r == ROLE_TRAINABLE ? GL_TRAINABLE : r == ROLE_FROZEN ? GL_FROZEN : GL_PARTIAL;
    attron(style(r));
    printw("%s %-9s", glyph(g), r == ROLE_TRAINABLE ? "trainable" : r == ROLE_FROZEN ? "frozen" : "partly");
    attroff(style(r));
}

static void draw_diff(app *a, int top, int rows, int cols) {
    if (ensure_before(a) != 0) return;
    int half = (cols - 3) / 2;
    size_t n = a->n_lines > a->n_before ? a->n_lines : a->n_before;
    attron(style(ROLE_TITLE));
    mvprintw(top, 0, "%-*.*s", half, half, "before: as torchvision builds it (ImageNet's 1000 classes)");
    mvprintw(top, half + 3, "after: the head replaced for %lld classes", (long long)classes_of(a));
    attroff(style(ROLE_TITLE));
    int body = rows - 2;
    if (a->model_sel >= (int)n) a->model_sel = n ? (int)n - 1 : 0;
    if (a->model_sel < a->model_top) a->model_top = a->model_sel;
    if (a->model_sel >= a->model_top + body) a->model_top = a->model_sel - body + 1;
    for (int r = 0; r < body && a->model_top + r < (int)n; r++) {
        size_t i = (size_t)(a->model_top + r);
        const char *left = i < a->n_before ? a->before[i].text : "";
        const char *right = i < a->n_lines ? a->lines[i].text : "";
        int changed = strcmp(left, right) != 0;
        attr_t at = (int)i == a->model_sel ? style(ROLE_SELECTED) : changed ? style(ROLE_CHANGED) : A_NORMAL;
        attron(at);
        mvprintw(top + 2 + r, 0, "%-*.*s", half, half, left);
        attroff(at);
        mvaddstr(top + 2 + r, half + 1, changed ? "|" : " ");
        if (changed) mvaddstr(top + 2 + r, half + 1, style_unicode() ? "\u2260" : "!");
        attron(at);
        mvprintw(top + 2 + r, half + 3, "%-*.*s", half, half, right);
        attroff(at);
    }
}

void model_draw(app *a, int top, int rows, int cols) {
    if (!a->model) {
        mvaddnstr(top, 2, "no model (press a to build one)", cols - 4);
        return;
    }
    size_t n;
    const ft_node *nodes = nodes_of(a, &n);
    if (n == 0) return;
    char total[48], train[48], frozen[48];
    format_count(total, sizeof total, nodes[0].params);
    format_count(train, sizeof train, nodes[0].trainable);
    format_count(frozen, sizeof frozen, nodes[0].params - nodes[0].trainable);
    move(top, 0);
    attron(style(ROLE_TITLE));
    printw("%s", ft_model_arch(a->model));
    attroff(style(ROLE_TITLE));
    printw("  total %s  ", total);
    attron(style(ROLE_TRAINABLE));
    printw("trainable %s", train);
    attroff(style(ROLE_TRAINABLE));
    printw("  ");
    attron(style(ROLE_FROZEN));
    printw("frozen %s", frozen);
    attroff(style(ROLE_FROZEN));
    printw("   %s", a->head_replaced ? "[after head replacement]" : "[before head replacement]");
    // blocks, each coloured by its state, and the BatchNorm rule
    block b[MAX_BLOCKS];
    size_t nb = blocks_of(nodes, n, b);
    move(top + 1, 0);
    printw("blocks:");
    for (size_t k = 0; k < nb; k++) {
        ui_role r = b[k].trainable == b[k].params ? ROLE_TRAINABLE : b[k].trainable == 0 ? ROLE_FROZEN : ROLE_PARTIAL;
        addch(' ');
        attron(style(r));
        printw("%s", b[k].name);
        attroff(style(r));
    }
    move(top + 2, 0);
    if (has_batchnorm(nodes, n))
        printw("BatchNorm in frozen layers: %s", a->tr_bn ? "train - batch statistics; the running statistics drift although frozen (the seed)"
                                                         : "eval - the running statistics stay as loaded (frost's default)");
    else
        printw("BatchNorm: none in %s", ft_model_arch(a->model));
    if (a->diff) {
        draw_diff(a, top + 4, rows - 4, cols);
        return;
    }
    size_t *vis = malloc((a->n_lines ? a->n_lines : 1) * sizeof *vis);
    size_t nv = vis ? visible(a, vis, a->n_lines) : 0;
    if (a->model_sel >= (int)nv) a->model_sel = nv ? (int)nv - 1 : 0;
    int body = rows - 4;
    if (a->model_sel < a->model_top) a->model_top = a->model_sel;
    if (a->model_sel >= a->model_top + body) a->model_top = a->model_sel - body + 1;
    for (int r = 0; r < body && a->model_top + r < (int)nv; r++) {
        const model_line *l = &a->lines[vis[a->model_top + r]];
        move(top + 4 + r, 0);
        draw_mark(&nodes[l->node], l);
        addch(' ');
        int sel = a->model_top + r == a->model_sel;
        if (sel) attron(style(ROLE_SELECTED));
        addnstr(l->text, cols - 13 > 0 ? cols - 13 : 0);
        if (!l->closing && a->folded[l->node]) addstr(" ...");
        if (sel) attroff(style(ROLE_SELECTED));
    }
    free(vis);
}

// ---------------------------------------------------------------------------------------------
// keys

static void block_step(app *a, const ft_node *nodes, size_t n, int freeze, ft_status **s) {
    block b[MAX_BLOCKS];
    size_t nb = blocks_of(nodes, n, b);
    if (freeze) {   // the first block from the input that still trains
        for (size_t k = 0; k < nb; k++)
            if (b[k].trainable > 0) {
                *s = block_set(a, nodes, &b[k], 0);
                snprintf(a->status, sizeof a->status, "froze %s", b[k].name);
                return;
            }
        snprintf(a->status, sizeof a->status, "every block is frozen");
    } else {   // the last block from the head that is not all trainable
        for (size_t k = nb; k-- > 0;)
            if (b[k].trainable < b[k].params) {
                *s = block_set(a, nodes, &b[k], 1);
                snprintf(a->status, sizeof a->status, "thawed %s", b[k].name);
                return;
            }
        snprintf(a->status, sizeof a->status, "every block is trainable");
    }
}

void model_act(app *a, app_action act, int rows) {
    size_t *vis = malloc((a->n_lines ? a->n_lines : 1) * sizeof *vis);
    size_t nv = vis && a->model ? visible(a, vis, a->n_lines) : 0;
    const model_line *sel = nv && !a->diff ? &a->lines[vis[a->model_sel < (int)nv ? a->model_sel : (int)nv - 1]] : NULL;
    ft_status *s = NULL;
    size_t n = 0;
    const ft_node *nodes = a->model ? nodes_of(a, &n) : NULL;
    int last = a->diff ? (int)(a->n_lines > a->n_before ? a->n_lines : a->n_before) - 1 : (int)nv - 1;
    switch (act) {
    case ACT_UP: a->model_sel--; break;
    case ACT_DOWN: a->model_sel++; break;
    case ACT_PAGE_UP: a->model_sel -= rows - 6; break;
    case ACT_PAGE_DOWN: a->model_sel += rows - 6; break;
    case ACT_HOME: a->model_sel = 0; break;
    case ACT_END: a->model_sel = last; break;
    case ACT_MOUSE:
        // a click on a line of the tree selects it (the tree starts 6 rows down: title, blank, 3 info, blank)
        if (a->mouse_y >= 6) a->model_sel = a->model_top + a->mouse_y - 6;
        break;
    case ACT_NEXT_ARCH:
    case ACT_PREV_ARCH:
        a->arch_index = (a->arch_index + (act == ACT_NEXT_ARCH ? 1 : ft_arch_count() - 1)) % ft_arch_count();
        model_rebuild(a);
        break;
    case ACT_TOGGLE_HEAD:
        a->head_replaced = !a->head_replaced;
        model_rebuild(a);
        break;
    case ACT_DIFF:
        a->diff = !a->diff;
        if (a->diff) {
            if (!a->head_replaced) {   // the right side is the replaced head
                a->head_replaced = 1;
                model_rebuild(a);
            }
            if (ensure_before(a) == 0) {   // show the first changed line
                for (size_t i = 0; i < a->n_lines && i < a->n_before; i++)
                    if (strcmp(a->lines[i].text, a->before[i].text) != 0) {
                        a->model_sel = (int)i;
                        a->model_top = i > 4 ? (int)i - 4 : 0;
                        break;
                    }
                snprintf(a->status, sizeof a->status, "side by side: changed lines highlighted (d: back to the tree)");
            }
        } else {
            a->model_sel = a->model_top = 0;
        }
        break;
    case ACT_TOGGLE_FREEZE:
        if (sel && nodes && nodes[sel->node].params > 0) {
            const ft_node *node = &nodes[sel->node];
            int thaw = node->trainable < node->params;
            s = ft_model_set_trainable(a->model, node->path, thaw);
            snprintf(a->status, sizeof a->status, "%s %s", thaw ? "thawed" : "froze", node->path[0] ? node->path : "the whole model");
        }
        break;
    case ACT_BLOCK_FREEZE:
    case ACT_BLOCK_THAW:
        if (nodes && n) block_step(a, nodes, n, act == ACT_BLOCK_FREEZE, &s);
        break;
    case ACT_BN_MODE:
        a->tr_bn = !a->tr_bn;   // shared with the Train screen's BatchNorm field
        snprintf(a->status, sizeof a->status, "BatchNorm in frozen layers: %s (the Train screen uses it)",
                 a->tr_bn ? "train, as the seed" : "eval");
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
