/*
 * lesson.h — a lesson: a walk through frost's real screens, step by step (`frost lesson`, L in the
 * interface). Each step has a title, a short text, the PyTorch code of the step, and one thing the
 * learner does on the real screen, which frost checks against what the screens hold now.
 *
 * A lesson is a text file (lessons/NAME.lesson; the format is lessons/README.md): "field: value" lines,
 * '#' comments, a field with a [LANG] tag ("text[zh_CN]: ...") for another language. Everything is
 * checked when the file is loaded — every field, every step's action and its argument — and a bad
 * file is refused with FILE:LINE and what is wrong, so a lesson never stops half-way on a typo.
 *
 * The checks read a lesson_facts, which the interface fills from its screens each tick: nothing here
 * knows a screen, so the unit tests drive the checks with facts of their own.
 */
#ifndef FROST_LESSON_H
#define FROST_LESSON_H

#include <stddef.h>

// What a step asks the learner to do (the `do:` line), and what its check looks at.
typedef enum {
    LESSON_READ,        // nothing: read, then n
    LESSON_SCREEN,      // bring a screen to the front (arg: LESSON_SCREEN_*)
    LESSON_ARCH,        // choose an architecture on the Model screen (arch)
    LESSON_HEAD,        // the Model screen shows torchvision's head (arg 0) or the new one (arg 1)
    LESSON_TRAINABLE,   // what trains: the head only, everything, or the head and some blocks (LESSON_TRAIN_*)
    LESSON_CODE,        // the code pane is open
    LESSON_TRAIN,       // a run has finished epoch arg (1...)
    LESSON_LAYERS,      // the Model screen shows what the last run did to each layer
    LESSON_EVALUATE,    // the Predict screen has evaluated the valid split
    LESSON_MISTAKE,     // the Predict screen shows one of the model's mistakes
    LESSON_GRADCAM,     // the Predict screen's Grad-CAM overlay is on
    LESSON_LR_FINDER,   // the lr finder's suggestion is the Train form's learning rate
    LESSON_PLAN,        // the Train form has a plan of stages (staged unfreezing)
    LESSON_BLOCK_LR,    // the Train form gives the blocks learning rates of their own
} lesson_action;

// The screens, in the interface's order (its keys 1-5).
enum { LESSON_SCREEN_DATA, LESSON_SCREEN_MODEL, LESSON_SCREEN_TRAIN, LESSON_SCREEN_PREDICT, LESSON_SCREEN_RUNS };
enum { LESSON_TRAIN_HEAD, LESSON_TRAIN_ALL, LESSON_TRAIN_BLOCKS };

typedef struct {
    char *title;   // in the lesson's language (the English one when the file has none in it)
    char *text;    // paragraphs, separated by a blank line ("\n\n")
    char *code;    // the step's PyTorch code, lines separated by '\n' ("" when none)
    lesson_action action;
    int arg;         // the screen, head, trainable kind or epoch
    char arch[32];   // LESSON_ARCH's architecture
    int line;        // the line of its `step:` in the file
} lesson_step;

typedef struct {
    char name[64];   // the file's name without .lesson ("tutorial")
    char *title;
    lesson_step *steps;
    size_t n;
} lesson;

// What the screens hold now, for the checks (the interface fills it; see above).
typedef struct {
    int screen;              // the screen in front (LESSON_SCREEN_*)
    const char *arch;        // the Model screen's architecture
    int head_replaced;       // the Model screen shows the new head
    const char *trainable;   // the freeze choice as a trainable list: "" the head only, "all", or module paths
    int code_open;           // the code pane is open
    int epochs_done;         // epochs the newest run has finished (0: none, or no run)
    int layers_shown;        // the Model screen shows the newest run's measurements of each layer
    int evaluated;           // the Predict screen has evaluated the valid split
    int mistake_shown;       // the Predict screen shows one of the mistakes
    int cam_shown;           // the Predict screen's Grad-CAM overlay is on
    int lr_found;            // the lr finder's suggestion is the Train form's learning rate
    int plan;                // the Train form has a plan of stages
    int block_lr;            // the Train form gives the blocks learning rates of their own
} lesson_facts;

// The lesson in the text (the file name is for its messages), with its texts in language lang
// ("zh_CN"; NULL or "" English). 0 with *out (lesson_free it), or -1 with err "NAME:LINE: what".
int lesson_parse(const char *text, const char *file, const char *lang, lesson *out, char *err, size_t errlen);
// The same for a file. err says when it cannot be read.
int lesson_load(const char *path, const char *lang, lesson *out, char *err, size_t errlen);
void lesson_free(lesson *l);

// The language of the user's messages, as lessons tag it ("zh_CN"), or "" for English (a C or POSIX
// locale, or English).
const char *lesson_language(void);

// The folder the shipped lessons are in ($FROST_LESSON_DIR, else lessons/ beside the program, else
// the installed share/frost/lessons), into out: 0, or -1 when none is found.
int lesson_dir(char *out, size_t len);
// The path of shipped lesson name ("tutorial") into out: 0, or -1 with err (naming the lessons there).
int lesson_find(const char *name, char *out, size_t len, char *err, size_t errlen);
// The shipped lessons' names, comma separated ("fine-tuning, tutorial"); "" when none.
void lesson_names(char *out, size_t len);

// What the learner is asked to do, in their language ("press f on the Model screen: only the head trains").
void lesson_instruction(const lesson_step *s, char *out, size_t len);
// 1 when what the step asks is what the screens hold now.
int lesson_step_done(const lesson_step *s, const lesson_facts *f);

#endif
