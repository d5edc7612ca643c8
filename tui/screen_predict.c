// screen_predict.c — screen 4: predictions of a trained model (placeholder until the full screen).
#include <curses.h>
#include <stdio.h>

#include "app.h"

void predict_draw(app *a, int top, int rows, int cols) {
    (void)rows;
    mvaddnstr(top, 2, a->pr_model ? a->pr_source : "No model yet: train one (3) or open a checkpoint (o).", cols - 4);
}
void predict_act(app *a, app_action act, int rows) {
    (void)a;
    (void)act;
    (void)rows;
}
void predict_poll(app *a) { (void)a; }
void predict_free(app *a) { (void)a; }
void predict_set_model(app *a, ft_model *m, const char *source, const pipeline_opts *prep) {
    (void)prep;
    ft_model_free(a->pr_model);
    a->pr_model = m;
    snprintf(a->pr_source, sizeof a->pr_source, "%s", source);
}
