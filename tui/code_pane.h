/*
 * code_pane.h — the code pane (P on the Model and Train screens): the PyTorch code that does what the
 * two screens hold now (core/teach/torch_code.h), under the screen in front, following every change:
 * the architecture, the freeze choice and BatchNorm rule (the Model screen's), the Train form's run.
 *
 * The network it reads the blocks from is built on a thread (model_job) when the architecture or the
 * classes change; the code itself is made again on the UI thread when anything it shows changed (the
 * optimizer's groups are read back from a real one: no tensor is touched, it takes milliseconds).
 */
#ifndef FROST_TUI_CODE_PANE_H
#define FROST_TUI_CODE_PANE_H

#include "app.h"

typedef struct code_pane code_pane;

code_pane *code_pane_new(void);
void code_pane_free(code_pane *p);   // accepts NULL
// Every tick while the pane is shown: the code made again when what it shows changed.
void code_pane_poll(code_pane *p, app *a);
// The pane in rows [top, top + rows): a title line, then the code from the scroll position.
void code_pane_draw(code_pane *p, int top, int rows, int cols);
// PgUp, PgDn, Home, End: scrolls by a page of the last drawn height.
void code_pane_scroll(code_pane *p, app_action act);

#endif
