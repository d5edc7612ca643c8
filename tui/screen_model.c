// screen_model.c — screen 2: the network exactly as PyTorch prints it, each line marked frozen or
// trainable, with the parameter totals; pick the architecture, show it before or after the tutorial's
// head replacement (or both side by side, changed lines highlighted), freeze and thaw modules or
// whole blocks, fold blocks, and choose what BatchNorm does in frozen layers.
//
// Blocks are core's (transfer.h): ResNet's top-level modules, VGG's stages. Every change of the
// freeze marks is published to the app as a trainable list, which the Train screen trains.
#include <curses.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "calibrate_job.h"
#include "cost.h"
#include "i18n.h"
#include "list_view.h"
#include "model_job.h"
#include "model_print.h"
#include "paragraph.h"
#include "precision_auto.h"
#include "style.h"
#include "text_wrap.h"
#include "transfer.h"

typedef struct {
    char *text;
    size_t node;
    int closing;
} model_line;

typedef struct {
    int head_replaced;
    ft_model *model;
    model_line *lines;
    size_t n_lines;
    unsigned char *folded;   // per node
    list_view list;          // the visible lines (or, side by side, every line)
    int diff;                // 1: side by side
    model_line *before;      // lines of the architecture as torchvision builds it (for the diff)
    size_t n_before;
    size_t before_arch;      // which architecture `before` was made for
    model_job *before_job;   // building it (as torchvision does: no head replaced), for before_job_arch
    size_t before_job_arch;
    // the cost of the freeze choice (core/model/cost.h), estimated again when what it depends on changes
    cost_report cost;
    char cost_key[128];   // what `cost` was estimated for ("" none)
    char cost_err[256];
    calibrate_job *cal;   // measuring this device's speed for the architecture, in the background
    char speed_key[64];   // architecture and size the speed is for ("" none)
    cost_speed speed;
    char speed_err[256];
    unsigned stage_seen;   // the app's stage_seq the marks follow (a run's plan)
    // the model is built on a thread (core/jobs/model_job): one build at a time; a newer wish (another
    // architecture, the head) stops the one in flight and follows it
    model_job *build;
    char build_arch[32];   // what the build in flight makes
    int build_wanted;      // a build for the app's architecture and head_replaced, once none is in flight
    int build_stopped;     // s stopped the build in flight (its model is dropped)
    int then_trained;      // once built: the last run's marks and meters (enter after a run)
    int then_diff;         // once both sides are built: the side by side view's first changed line
} model_view;

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
static void drop_model(model_view *v) {
    free_line_list(v->lines, v->n_lines);
    v->lines = NULL;
    v->n_lines = 0;
    free(v->folded);
    v->folded = NULL;
    ft_model_free(v->model);
    v->model = NULL;
}

static const ft_node *nodes_of(app *a, model_view *v, size_t *n) {
    const ft_node *nodes = NULL;
    *n = 0;
    ft_status *s = ft_model_nodes(v->model, &nodes, n);
    if (s) {
        app_status(a, "%s", ft_status_message(s));
        ft_status_free(s);
        *n = 0;
    }
    return nodes;
}

static int64_t classes_of(const app *a) { return a->have_dataset && a->d.n_classes > 0 ? (int64_t)a->d.n_classes : 2; }

// Tells the app the freeze choice as a trainable list, for the Train screen: "" unless the head is
// replaced (the tutorial's choice needs no list either).
static void publish(app *a, model_view *v) {
    a->run.trainable[0] = '\0';
    if (v->model && v->head_replaced) transfer_trainable_list(v->model, a->run.trainable, sizeof a->run.trainable);
    for (size_t i = 0; v->model && i < ft_arch_count(); i++)
        if (strcmp(ft_arch_name(i), ft_model_arch(v->model)) == 0) a->run.trainable_arch = i;
}

// 1 while a model is being built or is about to be (not stopped).
static int building(const model_view *v) { return (v->build && !v->build_stopped) || v->build_wanted; }

// Asks for the model of the app's architecture (the head replaced or not): the model shown goes now,
// a build in flight gives way, and poll starts the new one.
static void rebuild(app *a, model_view *v) {
    drop_model(v);
    if (v->build) model_job_cancel(v->build);
    v->build_wanted = 1;
    app_status(a, _("building %s... (s stops)"), ft_arch_name(a->run.arch_index));
    publish(a, v);
}

static void start_build(app *a, model_view *v) {
    v->build_wanted = 0;
    v->build_stopped = 0;
    snprintf(v->build_arch, sizeof v->build_arch, "%s", ft_arch_name(a->run.arch_index));
    transfer_spec spec = {.arch = v->build_arch, .classes = v->head_replaced ? classes_of(a) : 0};
    char err[512];
    v->build = model_job_build(&spec, err, sizeof err);
    if (!v->build) app_status(a, "%s", err);
}

// Once the build has ended: the model, its lines, and what was asked to follow it.
static void finish_build(app *a, model_view *v) {
    model_job_result r;
    if (!model_job_collect(&v->build, &r)) return;
    if (v->build_wanted || v->build_stopped || r.rc == MODEL_JOB_CANCELLED) {   // given way, or stopped
        model_job_result_free(&r);
        if (!v->build_wanted) v->then_trained = v->then_diff = 0;
        return;
    }
    if (r.rc != 0) {
        app_status(a, "%s", r.err);
        v->then_trained = v->then_diff = 0;
        publish(a, v);
        return;
    }
    v->model = r.model;
    r.model = NULL;
    model_job_result_free(&r);
    size_t n;
    const ft_node *nodes = nodes_of(a, v, &n);
    line_list l = {0};
    model_repr_lines(nodes, n, add_line, &l);
    v->lines = l.lines;
    v->n_lines = l.n;
    v->folded = calloc(n ? n : 1, 1);
    v->list.sel = v->list.top = 0;
    app_status(a, "%s, %s", v->build_arch,
               v->head_replaced ? _("head replaced as the tutorial does (the rest frozen)")
                                : _("as torchvision builds it"));
    publish(a, v);
    char err[512];
    if (v->then_trained && a->run.layers_trainable[0]) {
        if (transfer_apply_trainable(v->model, a->run.layers_trainable, err, sizeof err) != 0) app_status(a, "%s", err);
        publish(a, v);
    }
    if (v->then_trained)
        app_status(a, "%s as the last run trained it, with what the run did to each module", ft_model_arch(v->model));
    v->then_trained = 0;
}

// The lines of the architecture as torchvision builds it (no head replacement), for the side by side
// view; kept while the architecture stays the same. 1 when they are there for the app's architecture.
static int before_ready(const app *a, const model_view *v) { return v->before && v->before_arch == a->run.arch_index; }

// While the side by side view is on: its left side built on a thread (one at a time), then its lines.
static void poll_before(app *a, model_view *v) {
    model_job_result r;
    if (model_job_collect(&v->before_job, &r)) {
        const ft_node *nodes = NULL;
        size_t n = 0;
        ft_status *s = r.rc == 0 ? ft_model_nodes(r.model, &nodes, &n) : NULL;
        if (r.rc != 0 && r.rc != MODEL_JOB_CANCELLED) app_status(a, "%s", r.err);
        if (s) {
            app_status(a, "%s", ft_status_message(s));
            ft_status_free(s);
        } else if (r.rc == 0) {
            free_line_list(v->before, v->n_before);
            line_list l = {0};
            model_repr_lines(nodes, n, add_line, &l);
            v->before = l.lines;
            v->n_before = l.n;
            v->before_arch = v->before_job_arch;
        }
        model_job_result_free(&r);
    }
    if (!v->diff || v->before_job || before_ready(a, v)) return;
    char err[512];
    transfer_spec spec = {.arch = ft_arch_name(a->run.arch_index)};
    v->before_job_arch = a->run.arch_index;
    if (!(v->before_job = model_job_build(&spec, err, sizeof err))) app_status(a, "%s", err);
}

// Lines shown: those not inside a folded block (a folded block shows its first line only).
static size_t visible(app *a, model_view *v, size_t *out, size_t cap) {
    size_t n, k = 0;
    const ft_node *nodes = nodes_of(a, v, &n);
    for (size_t i = 0; i < v->n_lines && k < cap; i++) {
        size_t node = v->lines[i].node;
        int hidden = v->lines[i].closing && v->folded[node];
        // inside a folded ancestor: an earlier node with smaller depth whose subtree holds this one
        for (size_t p = node; !hidden && p-- > 0;)
            if (nodes[p].depth < nodes[node].depth && node < transfer_subtree_end(nodes, n, p) && v->folded[p])
                hidden = 1;
        if (!hidden) out[k++] = i;
    }
    return k;
}

// ---------------------------------------------------------------------------------------------
// drawing

static void draw_mark(const ft_node *node, const model_line *l) {
    if (l->closing || node->params == 0) {
        addstr("           ");
        return;
    }
    ui_role r = node->trainable == node->params ? ROLE_TRAINABLE : node->trainable == 0 ? ROLE_FROZEN : ROLE_PARTIAL;
    glyph_id g = r == ROLE_TRAINABLE ? GL_TRAINABLE : r == ROLE_FROZEN ? GL_FROZEN : GL_PARTIAL;
    attron(style(r));
    char state[64];
    printw("%s %s", glyph(g),
           text_pad(state, sizeof state,
                    r == ROLE_TRAINABLE ? _("trainable")
                    : r == ROLE_FROZEN  ? _("frozen")
                                        : _("partly"),
                    9));
    attroff(style(r));
}

static int draw_cost(const app *a, const model_view *v, int y, int cols);

// The newest run's report when it measured this model (same architecture, head replaced), else NULL.
static const layer_report *meters_of(const app *a, const model_view *v) {
    if (!v->model || !v->head_replaced || a->run.layers.n == 0) return NULL;
    return strcmp(a->run.layers_arch, ft_model_arch(v->model)) == 0 ? &a->run.layers : NULL;
}

enum { METER_W = 26 };   // the meter column: an 8-cell bar and a number

// The meter of one module: how far training moved its trainable parameters (a bar on a log scale,
// 0.01% to 100%, and the percentage), or for a frozen BatchNorm layer how far its statistics drifted.
static void draw_meter(const layer_report *r, const char *path, int y, int x) {
    long k = layer_report_find(r, path);
    if (k < 0) return;
    const layer_stat *s = &r->rows[k];
    if (s->trainable > 0 && isfinite(s->change)) {
        double f = s->change > 0 ? (log10(s->change) + 4.0) / 4.0 : 0;
        ui_role role = s->change < LAYER_LEARNING_MIN ? ROLE_WARNING : ROLE_TRAINABLE;
        style_bar(y, x, 8, f < 0 ? 0 : f > 1 ? 1 : f, role);
        attron(style(role));
        mvprintw(y, x + 9, "%8.3g%% moved", 100.0 * s->change);
        attroff(style(role));
    } else if (s->trainable == 0 && isfinite(s->drift)) {   // a frozen BatchNorm, or the most drift below
        ui_role role = s->drift > 0 ? ROLE_WARNING : ROLE_DIM;
        double f = s->drift > 0 ? (log10(s->drift) + 4.0) / 4.0 : 0;
        style_bar(y, x, 8, f < 0 ? 0 : f > 1 ? 1 : f, role);
        attron(style(role));
        mvprintw(y, x + 9, "%8.3g drift", s->drift);
        attroff(style(role));
    }
}

// The lines above the tree while meters show: what they are, then each alarm of the run. Returns
// how many lines were drawn.
static int draw_meter_lines(const app *a, const layer_report *r, int y, int cols) {
    char text[1200];
    snprintf(text, sizeof text,
             _("meters: what the last run did (epoch %d, %zu steps): how far each module's trainable weights moved, "
               "||W - W0|| / ||W0||; how far frozen BatchNorm statistics drifted"),
             r->epoch, r->step);
    attron(style(ROLE_DIM));
    int lines = paragraph_draw(y, 0, cols - 2, 4, text);
    attroff(style(ROLE_DIM));
    for (int k = 0; k < 2; k++) {
        if (!a->run.alarms[k][0]) continue;
        snprintf(text, sizeof text, _("warning: %s"), a->run.alarms[k]);
        attron(style(ROLE_WARNING));
        lines += paragraph_draw(y + lines, 0, cols - 2, 6, text);
        attroff(style(ROLE_WARNING));
    }
    return lines;
}

static void draw_diff(app *a, model_view *v, int top, int rows, int cols) {
    int half = (cols - 3) / 2;
    if (!before_ready(a, v)) {
        mvprintw(top, 0, _("side by side: building %s as torchvision builds it..."), ft_arch_name(a->run.arch_index));
        return;
    }
    size_t n = v->n_lines > v->n_before ? v->n_lines : v->n_before;
    attron(style(ROLE_TITLE));
    char before[400];
    mvaddstr(top, 0,
             text_pad(before, sizeof before, _("before: as torchvision builds it (ImageNet's 1000 classes)"), half));
    mvprintw(top, half + 3, _("after: the head replaced for %lld classes"), (long long)classes_of(a));
    attroff(style(ROLE_TITLE));
    list_view *l = &v->list;
    list_view_layout(l, (int)n, top + 2, 0, rows - 2, cols);
    for (int r = 0; r < l->rows && l->top + r < (int)n; r++) {
        size_t i = (size_t)(l->top + r);
        const char *left = i < v->n_before ? v->before[i].text : "";
        const char *right = i < v->n_lines ? v->lines[i].text : "";
        int changed = strcmp(left, right) != 0;
        attr_t at = (int)i == l->sel ? style(ROLE_SELECTED) : changed ? style(ROLE_CHANGED) : A_NORMAL;
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

static void draw(app *a, void *state, int top, int rows, int cols) {
    model_view *v = state;
    if (!v->model) {
        if (building(v))
            mvprintw(top, 2, _("building %.*s... (s stops)"), cols - 20 > 0 ? cols - 20 : 0,
                     v->build_wanted ? ft_arch_name(a->run.arch_index) : v->build_arch);
        else
            mvaddnstr(top, 2, _("no model (press a to build one)"), cols - 4);
        return;
    }
    size_t n;
    const ft_node *nodes = nodes_of(a, v, &n);
    if (n == 0) return;
    char total[48], train[48], frozen[48];
    format_count(total, sizeof total, nodes[0].params);
    format_count(train, sizeof train, nodes[0].trainable);
    format_count(frozen, sizeof frozen, nodes[0].params - nodes[0].trainable);
    move(top, 0);
    attron(style(ROLE_TITLE));
    printw("%s", ft_model_arch(v->model));
    attroff(style(ROLE_TITLE));
    printw(_("  total %s  "), total);
    attron(style(ROLE_TRAINABLE));
    printw(_("trainable %s"), train);
    attroff(style(ROLE_TRAINABLE));
    printw("  ");
    attron(style(ROLE_FROZEN));
    printw(_("frozen %s"), frozen);
    attroff(style(ROLE_FROZEN));
    // blocks, each coloured by its state (on as many rows as they take), then the head's state
    transfer_block b[TRANSFER_MAX_BLOCKS];
    size_t nb = transfer_blocks(nodes, n, b);
    int y = top + 1, x = 0;
    const char *blocks = _("blocks:");
    int blocks_w = text_columns(blocks, strlen(blocks));
    mvaddstr(y, 0, blocks);
    x = blocks_w;
    for (size_t k = 0; k <= nb; k++) {
        const char *name = k < nb             ? b[k].name
                           : v->head_replaced ? _("(head replaced)")
                                              : _("(as torchvision builds it)");
        int len = text_columns(name, strlen(name)) + 1;
        if (x + len > cols - 2) y++, x = blocks_w;
        ui_role r = k == nb                         ? ROLE_DIM
                    : b[k].trainable == b[k].params ? ROLE_TRAINABLE
                    : b[k].trainable == 0           ? ROLE_FROZEN
                                                    : ROLE_PARTIAL;
        attron(style(r));
        mvaddstr(y, x + 1, name);
        attroff(style(r));
        x += len;
    }
    y++;
    // the lines above the tree are wrapped, not cut: their advice is at their end (a row that reaches
    // the last column was cut)
    char bn[256];
    if (transfer_has_batchnorm(nodes, n))
        snprintf(bn, sizeof bn, _("BatchNorm in frozen layers: %s"),
                 a->run.bn_train
                     ? _("train - batch statistics; the running statistics drift although frozen (the tutorial's)")
                     : _("eval - the running statistics stay as loaded (frost's default)"));
    else
        snprintf(bn, sizeof bn, _("BatchNorm: none in %s"), ft_model_arch(v->model));
    y += paragraph_draw(y, 0, cols - 2, 3, bn);
    if (v->diff) {
        draw_diff(a, v, y + 1, top + rows - y - 1, cols);
        return;
    }
    const layer_report *meters = meters_of(a, v);
    int meter_x = meters && cols >= 80 ? cols - METER_W : 0;
    y += draw_cost(a, v, y, cols);
    if (meter_x) y += draw_meter_lines(a, meters, y, cols);
    int head = y + 1 - top;   // the lines above the tree, and a blank one
    size_t *vis = malloc((v->n_lines ? v->n_lines : 1) * sizeof *vis);
    size_t nv = vis ? visible(a, v, vis, v->n_lines) : 0;
    list_view *l = &v->list;
    list_view_layout(l, (int)nv, top + head, 0, rows - head, cols);
    int text_w = (meter_x ? meter_x - 1 : cols) - 13;
    for (int r = 0; r < l->rows && l->top + r < (int)nv; r++) {
        const model_line *line = &v->lines[vis[l->top + r]];
        move(top + head + r, 0);
        draw_mark(&nodes[line->node], line);
        addch(' ');
        int sel = l->top + r == l->sel;
        if (sel) attron(style(ROLE_SELECTED));
        addnstr(line->text, text_w > 0 ? text_w : 0);
        if (!line->closing && v->folded[line->node]) addstr(" ...");
        if (sel) attroff(style(ROLE_SELECTED));
        if (meter_x && !line->closing) draw_meter(meters, nodes[line->node].path, top + head + r, meter_x);
    }
    free(vis);
}

// ---------------------------------------------------------------------------------------------
// keys

static void block_step(app *a, model_view *v, const ft_node *nodes, size_t n, int freeze, ft_status **s) {
    transfer_block b[TRANSFER_MAX_BLOCKS];
    size_t nb = transfer_blocks(nodes, n, b);
    if (freeze) {   // the first block from the input that still trains
        for (size_t k = 0; k < nb; k++)
            if (b[k].trainable > 0) {
                *s = transfer_block_set(v->model, nodes, &b[k], 0);
                app_status(a, _("froze %s"), b[k].name);
                return;
            }
        app_status(a, "%s", _("every block is frozen"));
    } else {   // the last block from the head that is not all trainable
        for (size_t k = nb; k-- > 0;)
            if (b[k].trainable < b[k].params) {
                *s = transfer_block_set(v->model, nodes, &b[k], 1);
                app_status(a, _("thawed %s"), b[k].name);
                return;
            }
        app_status(a, "%s", _("every block is trainable"));
    }
}

static void act(app *a, void *state, app_action action) {
    model_view *v = state;
    size_t *vis = malloc((v->n_lines ? v->n_lines : 1) * sizeof *vis);
    size_t nv = vis && v->model ? visible(a, v, vis, v->n_lines) : 0;
    int at = v->list.sel < (int)nv ? v->list.sel : (int)nv - 1;
    const model_line *sel = nv && !v->diff ? &v->lines[vis[at]] : NULL;
    ft_status *s = NULL;
    size_t n = 0;
    const ft_node *nodes = v->model ? nodes_of(a, v, &n) : NULL;
    if (list_view_act(&v->list, action, a->mouse_y, a->mouse_x)) {
        free(vis);
        return;
    }
    switch (action) {
    case ACT_NEXT_ARCH:
    case ACT_PREV_ARCH:
        a->run.arch_index = (a->run.arch_index + (action == ACT_NEXT_ARCH ? 1 : ft_arch_count() - 1)) % ft_arch_count();
        rebuild(a, v);
        break;
    case ACT_TOGGLE_HEAD:
        v->head_replaced = !v->head_replaced;
        rebuild(a, v);
        break;
    case ACT_DIFF:
        v->diff = !v->diff;
        if (v->diff) {
            if (!v->head_replaced) {   // the right side is the replaced head
                v->head_replaced = 1;
                rebuild(a, v);
            }
            v->then_diff = 1;   // once both sides are built (poll)
        } else {
            v->list.sel = v->list.top = 0;
        }
        break;
    case ACT_TOGGLE_FREEZE:
        if (sel && nodes && nodes[sel->node].params > 0) {
            const ft_node *node = &nodes[sel->node];
            int thaw = node->trainable < node->params;
            s = ft_model_set_trainable(v->model, node->path, thaw);
            app_status(a, thaw ? _("thawed %s") : _("froze %s"), node->path[0] ? node->path : _("the whole model"));
        }
        break;
    case ACT_BLOCK_FREEZE:
    case ACT_BLOCK_THAW:
        if (nodes && n) block_step(a, v, nodes, n, action == ACT_BLOCK_FREEZE, &s);
        break;
    case ACT_BN_MODE:
        a->run.bn_train = !a->run.bn_train;   // the Train screen's BatchNorm field too
        app_status(a, _("BatchNorm in frozen layers: %s (the Train screen uses it)"),
                   a->run.bn_train ? _("train, as the tutorial's") : "eval");
        break;
    case ACT_FREEZE_BACKBONE:
        if (v->model) {
            s = transfer_freeze_all_but_head(v->model);
            app_status(a, _("everything frozen but %s"), ft_model_head_path(v->model));
        }
        break;
    case ACT_UNFREEZE_ALL:
        if (v->model) {
            s = ft_model_set_trainable(v->model, "", 1);
            app_status(a, "%s", _("every parameter trainable"));
        }
        break;
    case ACT_STOP:
        if (building(v)) {
            if (v->build) model_job_cancel(v->build);   // it ends on its own: poll frees it
            v->build_stopped = v->build != NULL;
            v->build_wanted = 0;
            v->then_trained = v->then_diff = 0;
            app_status(a, "%s", _("building stopped: no model (a or h builds one)"));
        } else if (v->before_job) {   // the side by side view's left side: the view goes
            model_job_cancel(v->before_job);
            v->diff = 0;
            v->then_diff = 0;
            v->list.sel = v->list.top = 0;
            app_status(a, "%s", _("side by side stopped"));
        } else {
            app_status(a, "%s", _("nothing to stop"));
        }
        break;
    case ACT_FOLD:
        if (sel && nodes && nodes[sel->node].n_children > 0) v->folded[sel->node] = !v->folded[sel->node];
        break;
    default: break;
    }
    if (s) {
        app_status(a, "%s", ft_status_message(s));
        ft_status_free(s);
    }
    publish(a, v);
    free(vis);
}

// The side by side view shows the first changed line.
static void first_changed_line(app *a, model_view *v) {
    for (size_t i = 0; i < v->n_lines && i < v->n_before; i++)
        if (strcmp(v->lines[i].text, v->before[i].text) != 0) {
            v->list.sel = (int)i;
            v->list.top = i > 4 ? (int)i - 4 : 0;
            break;
        }
    app_status(a, "%s", _("side by side: changed lines highlighted (d: back to the tree)"));
}

// ---------------------------------------------------------------------------------------------

static void *create(app *a) {
    (void)a;
    return calloc(1, sizeof(model_view));
}

// The model is built the first time the screen comes to the front (a VGG takes seconds).
static void enter(app *a, void *state) {
    model_view *v = state;
    // after a run, the model as it was trained, with its meters (unless the screen already shows a
    // head-replaced model, whose marks may be the user's own)
    int trained = a->run.layers.n > 0 && strcmp(a->run.layers_arch, ft_arch_name(a->run.arch_index)) == 0;
    if ((v->model || building(v)) && (!trained || v->head_replaced)) return;
    if (trained) v->head_replaced = 1;
    rebuild(a, v);
    v->then_trained = trained;
}

// The cost line's numbers: the calibration started, collected; the estimate made again when the
// freeze choice or the Train screen's settings changed (only while the screen is in front).
// A run with a plan of stages entered a new one: the marks show what trains now.
static void follow_stage(app *a, model_view *v) {
    if (v->stage_seen == a->run.stage_seq || !a->run.stage_trainable[0] || !v->model || !v->head_replaced ||
        strcmp(ft_model_arch(v->model), a->run.stage_arch) != 0)
        return;
    v->stage_seen = a->run.stage_seq;
    char err[512];
    if (transfer_apply_trainable(v->model, a->run.stage_trainable, err, sizeof err) != 0) {
        app_status(a, "%s", err);
        return;
    }
    publish(a, v);
    if (app_in_front(a, &screen_model))
        app_status(a, _("stage %d/%d of the plan: %s trains now"), a->run.stage, a->run.stages, a->run.stage_trainable);
}

static void poll(app *a, void *state) {
    model_view *v = state;
    char err[256];
    finish_build(a, v);
    if (v->build_wanted && !v->build) start_build(a, v);
    if (v->build && !v->build_stopped) app_busy(a);
    poll_before(a, v);
    if (v->before_job) app_busy(a);
    if (v->then_diff && v->model && !v->build && !v->build_wanted && before_ready(a, v)) {
        v->then_diff = 0;
        if (v->diff) first_changed_line(a, v);
    }
    follow_stage(a, v);
    a->shown.head_replaced = v->model && v->head_replaced && !building(v);
    a->shown.layers_shown = app_in_front(a, &screen_model) && !building(v) && meters_of(a, v) != NULL;
    if (v->cal && calibrate_job_done(v->cal)) {
        if (calibrate_job_result(v->cal, &v->speed, err, sizeof err) != 0) {
            snprintf(v->speed_err, sizeof v->speed_err, "%s", err);
            memset(&v->speed, 0, sizeof v->speed);
        }
        calibrate_job_free(v->cal);
        v->cal = NULL;
        v->cost_key[0] = '\0';   // estimate again, with the time
    }
    if (!v->model || !v->head_replaced || !app_in_front(a, &screen_model)) return;
    const char *arch = ft_model_arch(v->model);
    char skey[64];
    snprintf(skey, sizeof skey, "%s@%d/%d", arch, a->run.size, (int)a->run.precision);
    if (strcmp(skey, v->speed_key) != 0 && !v->cal && !a->run.training) {   // a run would skew the measurement
        memset(&v->speed, 0, sizeof v->speed);
        v->speed_err[0] = '\0';
        snprintf(v->speed_key, sizeof v->speed_key, "%s", skey);
        v->cal = calibrate_job_start(arch, a->run.size, "auto", a->run.precision, err, sizeof err);
        if (!v->cal) snprintf(v->speed_err, sizeof v->speed_err, "%s", err);
    }
    size_t n;
    const ft_node *nodes = nodes_of(a, v, &n);
    if (n == 0) return;
    char key[128];
    snprintf(key, sizeof key, "%s %lld %d %d %d %d %d", skey, (long long)nodes[0].trainable, a->run.batch,
             (int)a->run.opt, a->run.bn_train, v->speed.forward > 0, a->have_dataset);
    if (strcmp(key, v->cost_key) == 0) return;
    snprintf(v->cost_key, sizeof v->cost_key, "%s", key);
    cost_spec spec = {.size = a->run.size,
                      .batch = a->run.batch,
                      .opt = a->run.opt,
                      .momentum = 0.9,
                      .bn_eval = !a->run.bn_train,
                      .n_train = a->have_dataset ? a->d.train.n_items : 0,
                      .n_valid = a->have_dataset ? a->d.valid.n_items : 0};
    v->cost_err[0] = '\0';
    if (cost_estimate(v->model, &spec, v->speed.forward > 0 ? &v->speed : NULL, &v->cost, err, sizeof err) != 0)
        snprintf(v->cost_err, sizeof v->cost_err, "%s", err);
}

// The cost line: what training this freeze choice costs at the Train screen's settings, over the
// rows it needs. Returns them.
static int draw_cost(const app *a, const model_view *v, int y, int cols) {
    if (!v->head_replaced) {
        attron(style(ROLE_DIM));
        int n = paragraph_draw(y, 0, cols - 2, 2, _("cost: replace the head (h) to see what training costs"));
        attroff(style(ROLE_DIM));
        return n;
    }
    if (!v->cost_key[0] || v->cost_err[0])
        return paragraph_draw(y, 0, cols - 2, 3, v->cost_err[0] ? v->cost_err : _("cost: estimating..."));
    const cost_report *c = &v->cost;
    char mem[32], kept[32], opt[32], line[600], time[160];
    cost_format_bytes(mem, sizeof mem, (double)c->peak_bytes);
    cost_format_bytes(kept, sizeof kept, (double)c->kept_bytes);
    cost_format_bytes(opt, sizeof opt, (double)c->optimizer_bytes);
    if (isfinite(c->epoch1_seconds) && c->cache)
        snprintf(time, sizeof time, _("epoch ~%.0f s, then ~%.1f s"), c->epoch1_seconds, c->later_epoch_seconds);
    else if (isfinite(c->epoch1_seconds))
        snprintf(time, sizeof time, _("epoch ~%.0f s"), c->epoch1_seconds);
    else if (v->cal)
        snprintf(time, sizeof time, "%s", _("epoch: measuring this device..."));
    else if (v->speed_err[0])
        snprintf(time, sizeof time, _("epoch: %.120s"), v->speed_err);
    else
        snprintf(time, sizeof time, "%s", _("epoch: measured when no run is going"));
    snprintf(line, sizeof line,
             _("cost (%dx%d, batch %d, %s%s%s): %.2f+%.2f GMAC/image | memory %s (kept %s, state %s) | "
               "cache %s | %s"),
             a->run.size, a->run.size, a->run.batch, a->run.opt == FT_OPT_ADAM ? "Adam" : "SGD",
             a->run.precision != FT_PRECISION_FP32 ? _(", backbone ") : "",
             a->run.precision != FT_PRECISION_FP32 ? precision_name(a->run.precision) : "", c->fwd_macs / 1e9,
             c->bwd_macs / 1e9, mem, kept, opt, c->cache ? _("yes") : _("no"), time);
    return paragraph_draw(y, 0, cols - 2, 4, line);
}

static void destroy(app *a, void *state) {
    calibrate_job_free(((model_view *)state)->cal);
    model_job_free(((model_view *)state)->build);   // (waits for a build in flight: the way out)
    model_job_free(((model_view *)state)->before_job);
    (void)a;
    model_view *v = state;
    drop_model(v);
    free_line_list(v->before, v->n_before);
    free(v);
}

const screen screen_model = {
    .title = N_("2 Model"),
    .wheel_lines = 3,
    .create = create,
    .enter = enter,
    .poll = poll,
    .draw = draw,
    .act = act,
    .destroy = destroy,
};
