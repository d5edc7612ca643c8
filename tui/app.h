/*
 * app.h — the full-screen interface: the screens' common shape, and what they share through the app.
 *
 * One main loop (app.c) turns one tick at a time: every screen polls its background work, the frame
 * is drawn (title, the screen in front, status line, key bar), one key is read with a timeout and
 * found in the key table (keys.c), and the action goes to the screen in front. A modal prompt turns
 * the same tick, so jobs and redraws go on while it waits for keys.
 *
 * Screens are peers: each owns its state (made by its create) and none calls another. What they
 * share lives here: the dataset, the architecture and the freeze choice the Model screen makes for
 * the Train screen, the BatchNorm rule both show, and the trained model the Train screen offers to
 * the Predict screen.
 */
#ifndef FROST_TUI_APP_H
#define FROST_TUI_APP_H

#include <stddef.h>
#include <stdio.h>

#include "dataset.h"
#include "frost_torch.h"
#include "image_transform.h"
#include "layer_stats.h"
#include "trainer.h"

typedef enum {
    ACT_NONE,
    ACT_QUIT,
    ACT_HELP,
    ACT_SCREEN_DATA,
    ACT_SCREEN_MODEL,
    ACT_UP,
    ACT_DOWN,
    ACT_PAGE_UP,
    ACT_PAGE_DOWN,
    ACT_HOME,
    ACT_END,
    ACT_NEXT_ARCH,
    ACT_PREV_ARCH,
    ACT_TOGGLE_HEAD,
    ACT_TOGGLE_FREEZE,
    ACT_FREEZE_BACKBONE,
    ACT_UNFREEZE_ALL,
    ACT_FOLD,
    ACT_SCREEN_TRAIN,
    ACT_LEFT,
    ACT_RIGHT,
    ACT_START,
    ACT_PAUSE,
    ACT_STOP,
    ACT_SCREEN_PREDICT,
    ACT_THEME,   // every screen
    ACT_DIFF,
    ACT_BLOCK_FREEZE,
    ACT_BLOCK_THAW,
    ACT_BN_MODE,   // model
    ACT_OPEN,
    ACT_EVALUATE,
    ACT_SWITCH_PANE,   // predict (and data: ACT_SWITCH_PANE moves class list / files)
    ACT_MOUSE,         // a mouse click in the body (position: app.mouse_y/x)
    ACT_LR_FIND,       // train: run the lr finder in the background
    ACT_EXPORT,        // train: write the form's run as a PyTorch folder (train.py, weights, README)
    ACT_RELABEL,       // data, predict: move the selected image to another class
    ACT_SET_ASIDE,     // data, predict: set the selected image aside
    ACT_UNDO,          // data, predict: undo the last move
    ACT_CAM,           // predict: the Grad-CAM overlay on the preview, on / off
    ACT_CAM_CLASS,     // predict: the overlay's class: the next one
    ACT_CAM_LAYER,     // predict: the overlay's layer (typed)
    ACT_SCREEN_RUNS,
    ACT_SORT,           // runs: sort by the next column
    ACT_SORT_REVERSE,   // runs: the other order
    ACT_FILTER,         // runs: the filter (typed)
    ACT_MARK,           // runs: mark / unmark the selected run (two marked: overlaid)
    ACT_DELETE,         // runs: delete the selected run (asks first)
    ACT_CODE,           // model, train: the code pane (the PyTorch code of what they hold), on / off
    ACT_LESSON,         // every screen: the lesson pane (lesson_pane.h), on / off
    ACT_LESSON_NEXT,    // while a lesson is open: its next step
    ACT_LESSON_BACK     // while a lesson is open: the step before
} app_action;

enum { SCREEN_DATA = 0, SCREEN_MODEL = 1, SCREEN_TRAIN = 2, SCREEN_PREDICT = 3, SCREEN_RUNS = 4, N_SCREENS = 5 };

// What the command line gives the interface: `frost [DATASET] [--arch ARCH] [--theme NAME]
// [--checkpoint FILE] [--json FILE]`.
typedef struct {
    const char *dataset;      // default "sample_data"
    const char *theme;        // NULL: $FROST_THEME, else "dark"
    const char *checkpoint;   // NULL: none; else opened in the Predict screen
    const char *arch;         // NULL: resnet18; the architecture the Model and Train screens start with
    const char *json;         // NULL: none; else the Train screen's runs are logged there (JSON lines)
    // the user's config file (core/settings/config.h): the Train screen's defaults, and its first mistake
    const char *device;    // NULL: auto; "cpu" makes the Train screen's device field cpu
    int workers;           // 0: the trainer's own split
    int weights;           // the Train screen's weights: 0 none; else ImageNet's (the tutorial's pretrained=True)
    const char *notice;    // NULL, or a line for the status line when the screen opens
    const char *version;   // frost's (the run history records it)
    const char *lesson;    // NULL: none; else a lesson file (frost lesson), open in the lesson pane from the start
} app_options;

typedef struct app app;

// A screen: ncdu's init / draw / key, with htop's rule that drawing happens only in draw.
typedef struct {
    const char *title;                // "1 Data"
    int wheel_lines;                  // lines a mouse-wheel notch moves (1: one step)
    void *(*create)(app *a);          // its state; NULL when out of memory
    void (*enter)(app *a, void *s);   // it comes to the front (may be NULL)
    void (*poll)(app *a, void *s);    // every tick, in front or not
    void (*draw)(app *a, void *s, int top, int rows, int cols);
    void (*act)(app *a, void *s, app_action act);   // an action for it, while in front
    void (*destroy)(app *a, void *s);               // on the way out (curses still on)
    // The dataset was scanned again (files moved by cleaning): a->d is the new one, old the previous,
    // still valid during the call and freed after it. Stop what reads old, rebuild what points into
    // it (may be NULL: the screen keeps nothing of the dataset's).
    void (*dataset_changed)(app *a, void *s, const dataset *old);
} screen;

extern const screen screen_data, screen_model, screen_train, screen_predict, screen_runs;

// What the Model and Train screens share, and nothing else does (dataset_edit reads `training`): the
// choices the Model screen makes for the Train screen, the Train form's settings the Model screen's
// cost line needs, and what a run reports back for the Model screen's marks and meters. Each field
// has one writer, named beside it.
typedef struct {
    // the Model screen's choices, which the Train screen trains (both screens change them)
    size_t arch_index;       // the architecture
    int bn_train;            // frozen BatchNorm layers: 0 eval (frost's default), 1 train (the tutorial's)
    char trainable[1024];    // the freeze choice as a trainable list ("": only the head, the tutorial's)
    size_t trainable_arch;   // the architecture that list was made for
    // the Train screen's: the form's settings the Model screen's cost line needs, and whether a run is going
    int batch, size;
    ft_opt_kind opt;
    ft_precision precision;   // the frozen backbone's: the form's, or what auto picks here (fp32 until known)
    // the Train screen's: what --precision auto picks here for the form (an ft_precision; -1 not known)
    // and the suggestion shown beside the precision field ("bf16: 2.4x faster here, ..."; "" none yet)
    int precision_pick;
    char precision_said[256];
    int training;
    // the Train screen's: what the newest run did to each module (layer_stats.h), for the Model
    // screen's meters; n == 0 until a run measured something
    layer_report layers;
    char layers_arch[32];          // the architecture it was measured on
    char layers_trainable[1024];   // what that run trained, as a trainable list ("": the head)
    char alarms[2][640];           // that run's alarms, with what to do: frozen but changing, not learning ("")
    // the Train screen's: a run with a plan of stages: what trains in the stage it is in now (the
    // Model screen's marks follow it), changed at each stage; stage_seq counts the changes
    char stage_trainable[1024];
    char stage_arch[32];
    int stage, stages;
    unsigned stage_seq;
    // the Train screen's: the form's run as it would start now (form_config's, without weights), and
    // whether it starts from ImageNet's weights: what the code pane shows beside the Model screen's choices
    trainer_config form;
    int form_pretrained;
} run_state;

// What the screens show now that a lesson's checks read (lesson_pane.c; core/teach/lesson.h's facts)
// and app.h's run_state does not already say. Each field has one writer, named beside it.
typedef struct {
    int head_replaced;   // the Model screen's: it shows the network with the new head (built, not building)
    int layers_shown;    // the Model screen's: it is in front with the newest run's meters
    int epochs_done;     // the Train screen's: epochs the newest run has finished (0 before one)
    int lr_found;        // the Train screen's: the lr finder's suggestion is the form's learning rate
    int evaluated;       // the Predict screen's: the valid split is evaluated
    int mistake_shown;   // the Predict screen's: it shows one of the evaluation's mistakes
    int cam_shown;       // the Predict screen's: the Grad-CAM overlay is on
} screens_shown;

struct app {
    const app_options *opts;
    // the dataset: every screen reads it
    char root[1024];
    dataset d;
    int have_dataset;
    char dataset_error[512];
    run_state run;   // the Model and Train screens' shared state
    // the model the Train screen hands to the Predict screen after a run (owned here until taken)
    struct {
        ft_model *model;
        char source[256];
        transform_params tf;
    } offer;
    // --json: the log every run's events go to (NULL: none, or it failed and was closed)
    FILE *json_log;
    // a recorded run's settings the Runs screen hands to the Train form (run_settings.h's JSON;
    // NULL: none); load_seq counts the hand-overs, so the Train screen takes each once
    char *load_settings;
    long long load_run;
    unsigned load_seq;
    // the loop
    int screen;   // the one in front
    void *state[N_SCREENS];
    int help, help_scroll, quit;   // help_scroll: the help's first key shown
    screens_shown shown;
    struct lesson_pane *lesson;   // the lesson pane (lesson_pane.h), under the screen in front when lesson_open
    int lesson_open;
    struct code_pane *code;   // the code pane (code_pane.h), shown under the Model and Train screens when code_open
    int code_open;
    int mouse_y, mouse_x;   // the last click, for ACT_MOUSE (screen coordinates)
    char status[512];
    int busy;             // a job runs that a screen waits for (app_busy): the status line spins
    const char *prompt;   // while a prompt waits: its label (the status line shows it and prompt_buf)
    const char *prompt_buf;
};

int app_run(const app_options *opts);

// One tick (the main loop's, and a prompt's): every screen polls, the frame is drawn, one key is
// read (waiting up to 100 ms). Returns the key, or ERR.
int app_tick(app *a);
// Draws the frame now (before something slow, so its message shows).
void app_draw(app *a);
// printf into the status line.
void app_status(app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Called by a screen's poll while a job it waits for runs (a model built, a checkpoint opened, an
// export): the status line shows a spinner this tick.
void app_busy(app *a);
// 1 when s is the screen in front.
int app_in_front(const app *a, const screen *s);
// Edits a line of text on the status line (label, then buf) while every tick goes on: 1 when Enter
// ended it with text in buf, 0 on Esc or an empty line (prompt.c).
int app_prompt(app *a, const char *label, char *buf, size_t len);

// Scans the dataset folder again and hands the new scan to every screen (dataset_changed), then frees
// the old one. Refused (-1, err) while a training run reads the dataset. 0, or -1 with err.
int app_dataset_reload(app *a, char *err, size_t errlen);

// Brings screen `which` (SCREEN_DATA...) to the front, as its key does.
void app_show(app *a, int which);
// The Runs screen hands run id's settings (JSON) to the Train form, which takes them when it comes to
// the front. Refused (-1, said on the status line) while a run is going.
int app_load_settings(app *a, const char *settings, long long id);

// The freeze choice for the selected architecture: a->trainable when it was made for it, else "".
const char *app_trainable(const app *a);
// The Train screen hands over a trained model (the app owns it until the Predict screen takes it; an
// earlier one not taken is freed). tf is how it was trained to see images.
void app_offer_model(app *a, ft_model *m, const char *source, const transform_params *tf);

#endif
