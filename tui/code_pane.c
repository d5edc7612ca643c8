// code_pane.c — the PyTorch code of what the Model and Train screens hold (see code_pane.h).
#include "code_pane.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "model_job.h"
#include "style.h"
#include "torch_code.h"

struct code_pane {
    model_job *build;      // the network being built (NULL: none)
    ft_model *model;       // the network the code is made for
    char model_arch[32];   // ... its architecture and classes
    size_t model_classes;
    char key[8192];   // everything the code shows, as text: made again when it changes
    char *text;       // the code (NULL: none yet)
    char **lines;     // into text
    size_t n_lines;
    char msg[1100];     // what shows instead of the code (a build going on, an error)
    int scroll, page;   // the first line shown; the last drawn height
};

code_pane *code_pane_new(void) { return calloc(1, sizeof(code_pane)); }

void code_pane_free(code_pane *p) {
    if (!p) return;
    model_job_free(p->build);
    ft_model_free(p->model);
    free(p->text);
    free(p->lines);
    free(p);
}

// The run the pane shows: the Train form's, with what the Model screen holds now.
static trainer_config shown_config(const app *a, size_t *classes) {
    trainer_config c = a->run.form;
    snprintf(c.arch, sizeof c.arch, "%s", ft_arch_name(a->run.arch_index));
    const char *list = app_trainable(a);
    c.trainable = c.plan || !list[0] ? NULL : list;
    c.bn_eval = !a->run.bn_train;
    *classes = a->have_dataset && a->d.n_classes > 0 ? a->d.n_classes : 2;
    return c;
}

// New code in place of the old: the view moves to the first line that changed when it is out of sight.
static void take_text(code_pane *p, char *text) {
    // the first line that differs from the code shown (its lines are split in place)
    size_t line = 0;
    int differs = !p->lines;
    for (const char *x = text; p->lines && !differs; line++) {
        size_t n = strcspn(x, "\n");
        differs = line >= p->n_lines || strncmp(x, p->lines[line], n) != 0 || p->lines[line][n] != '\0';
        if (differs || !x[n]) break;
        x += n + 1;
    }
    free(p->text);
    free(p->lines);
    p->text = text;
    p->n_lines = 0;
    for (const char *c = text; *c; c++) p->n_lines += *c == '\n';
    p->lines = calloc(p->n_lines + 1, sizeof *p->lines);
    size_t k = 0;
    for (char *c = text; p->lines && *c && k <= p->n_lines;) {
        p->lines[k++] = c;
        char *nl = strchr(c, '\n');
        if (!nl) break;
        *nl = '\0';
        c = nl + 1;
    }
    p->n_lines = p->lines ? k : 0;
    int page = p->page > 2 ? p->page - 1 : 1;
    if (differs && ((int)line < p->scroll || (int)line >= p->scroll + page))
        p->scroll = (int)line > 2 ? (int)line - 2 : 0;
}

void code_pane_poll(code_pane *p, app *a) {
    size_t classes;
    trainer_config c = shown_config(a, &classes);
    model_job_result r;
    if (model_job_collect(&p->build, &r)) {
        if (r.rc == 0) {
            ft_model_free(p->model);
            p->model = r.model;
            r.model = NULL;
        } else {
            snprintf(p->msg, sizeof p->msg, _("cannot build %s: %.1000s"), p->model_arch, r.err);
        }
        p->key[0] = '\0';
        model_job_result_free(&r);
    }
    if (p->build) {
        app_busy(a);
        return;
    }
    if (!p->model || strcmp(p->model_arch, c.arch) != 0 || p->model_classes != classes) {
        snprintf(p->model_arch, sizeof p->model_arch, "%s", c.arch);
        p->model_classes = classes;
        transfer_spec spec = {.arch = c.arch, .classes = (int64_t)classes};
        char err[512];
        ft_model_free(p->model);
        p->model = NULL;
        p->build = model_job_build(&spec, err, sizeof err);
        snprintf(p->msg, sizeof p->msg, p->build ? "building %s to read its blocks..." : "%s", p->build ? c.arch : err);
        return;
    }
    const transform_params *tf = &c.prep.tf;
    char key[sizeof p->key];
    snprintf(key, sizeof key, "%s|%zu|%s|%s|%s|%s|%s|%d|%.17g|%.17g|%.17g|%d|%d|%d|%d|%d|%d|%g,%g,%g|%g,%g,%g|%s",
             c.arch, classes, c.trainable ? c.trainable : "-", c.plan ? c.plan : "-", c.schedule ? c.schedule : "-",
             c.block_lr ? c.block_lr : "-", c.class_weights ? c.class_weights : "-", (int)c.opt.kind, c.opt.lr,
             c.opt.weight_decay, c.opt.momentum, c.epochs, c.batch_size, c.bn_eval, tf->size, (int)tf->fit,
             a->run.form_pretrained, tf->mean[0], tf->mean[1], tf->mean[2], tf->std[0], tf->std[1], tf->std[2],
             a->root);
    if (strcmp(key, p->key) == 0) return;
    snprintf(p->key, sizeof p->key, "%s", key);
    char err[1024];
    torch_code_input in = {.cfg = &c, .pretrained = a->run.form_pretrained, .n_classes = classes, .data = a->root};
    char *text = torch_code(&in, p->model, err, sizeof err);
    if (!text) {
        snprintf(p->msg, sizeof p->msg, _("no code for this choice: %.1000s"), err);
        return;
    }
    p->msg[0] = '\0';
    take_text(p, text);
}

void code_pane_draw(code_pane *p, int top, int rows, int cols) {
    if (rows < 2) return;
    p->page = rows - 1;
    int last = (int)p->n_lines - p->page;
    if (p->scroll > last) p->scroll = last;
    if (p->scroll < 0) p->scroll = 0;
    attron(style(ROLE_TITLE));
    move(top, 0);
    clrtoeol();
    char title[160];
    snprintf(title, sizeof title, _("PyTorch code of this choice  lines %d-%d of %zu  (PgUp/PgDn scroll, P closes)"),
             p->n_lines ? p->scroll + 1 : 0,
             p->scroll + p->page < (int)p->n_lines ? p->scroll + p->page : (int)p->n_lines, p->n_lines);
    mvaddnstr(top, 0, title, cols);
    attroff(style(ROLE_TITLE));
    if (p->msg[0] || !p->lines) {
        attron(style(p->build ? ROLE_DIM : ROLE_WARNING));
        mvaddnstr(top + 1, 0, p->msg[0] ? p->msg : "", cols);
        attroff(style(p->build ? ROLE_DIM : ROLE_WARNING));
        if (!p->lines) return;
        top++, rows--, p->page--;
    }
    for (int r = 1; r < rows; r++) {
        size_t k = (size_t)(p->scroll + r - 1);
        move(top + r, 0);
        clrtoeol();
        if (k >= p->n_lines) continue;
        const char *line = p->lines[k];
        int cut = (int)strlen(line) > cols;
        mvaddnstr(top + r, 0, line, cut ? cols - 1 : cols);
        if (cut) {   // the rest of a long line is there: said in the last column
            attron(style(ROLE_DIM));
            mvaddstr(top + r, cols - 1, ">");
            attroff(style(ROLE_DIM));
        }
    }
}

void code_pane_scroll(code_pane *p, app_action act) {
    int page = p->page > 1 ? p->page - 1 : 1;
    if (act == ACT_PAGE_UP) p->scroll -= page;
    if (act == ACT_PAGE_DOWN) p->scroll += page;
    if (act == ACT_HOME) p->scroll = 0;
    if (act == ACT_END) p->scroll = (int)p->n_lines;   // (the draw keeps the last page in view)
}
