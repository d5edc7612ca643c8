/*
 * lesson_pane.h — the lesson pane (L, or `frost lesson`): the step of a lesson (core/teach/lesson.h)
 * under the screen it talks about — "step 3 of 9", its text, its PyTorch code, and on its last row what
 * to do there, with a mark once the screens show it done. The screen keeps the rows above, so the pane
 * never covers what the step is about; n and b step (n on a step not done yet asks once more, then skips).
 */
#ifndef FROST_TUI_LESSON_PANE_H
#define FROST_TUI_LESSON_PANE_H

#include <stddef.h>

#include "app.h"

typedef struct lesson_pane lesson_pane;

// The lesson in file path, in the user's language: the pane, or NULL with err ("FILE:LINE: what").
lesson_pane *lesson_pane_open(const char *path, char *err, size_t errlen);
void lesson_pane_free(lesson_pane *p);   // accepts NULL
// Every tick: the step checked against what the screens show (the status line says when it is done).
void lesson_pane_poll(lesson_pane *p, app *a);
// The rows the pane takes in a body of `body` rows, cols wide (its text, code and task; at most 45%).
int lesson_pane_rows(const lesson_pane *p, int body, int cols);
void lesson_pane_draw(const lesson_pane *p, int top, int rows, int cols);
// n (dir 1) and b (dir -1).
void lesson_pane_step(lesson_pane *p, app *a, int dir);

#endif
