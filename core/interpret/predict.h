/*
 * predict.h — a trained model's classes for image files: what `frost predict` and the interface's
 * Predict screen share.
 *
 * A predictor is a model (borrowed), its class names (copied) and the preprocessing it was trained
 * with (a transform_params, as a checkpoint's metadata or a trainer's config holds it; decoding is
 * always exact). predictor_run sends a list of files through the loader (worker threads, unreadable
 * files skipped into a bad-file list) and the model in eval mode, batch by batch, and hands each
 * image's softmax (double precision, numerically stable) and class ranking to a callback.
 * predict_score accumulates a labelled run: accuracy, the confusion matrix, the most confident
 * mistakes. predict_job runs the same on a thread of its own for the interface (the shape of every
 * background job: job.h): progress readable at any moment, cancel at a batch boundary, the results
 * handed over once done.
 *
 * Nothing here prints; errors are one line in an err buffer. While a run or a job is going, no other
 * thread may use the model.
 */
#ifndef FROST_PREDICT_H
#define FROST_PREDICT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "badfiles.h"
#include "dataset.h"
#include "frost_torch.h"
#include "image_transform.h"
#include "pipeline.h"

#define PREDICT_DEFAULT_BATCH 16

typedef struct {
    ft_model *model;   // borrowed: must outlive the predictor's runs and jobs
    int64_t n_classes;
    char **class_names;    // n_classes copies, owned
    pipeline_opts popts;   // decode + transform as trained
    int batch;             // images per forward (default PREDICT_DEFAULT_BATCH)
    int workers;           // loader threads; 0: the loader's default (never more than the images)
    char source[1024];     // where the model came from, to prefix the model's errors ("m.safetensors")
} predictor;

// Checks that the model's head has n_classes outputs and tf is usable. 0, or -1 with err.
int predictor_init(predictor *p, ft_model *m, const char *const *class_names, int64_t n_classes,
                   const transform_params *tf, const char *source, char *err, size_t errlen);
void predictor_free(predictor *p);   // not the model; accepts a zeroed predictor

// One image's outcome, as handed to a predict_fn (the arrays are valid during the call only).
typedef struct {
    size_t item;           // index into the split's items
    int truth;             // the item's label, -1 when unlabelled
    const double *probs;   // n_classes probabilities, summing to 1
    const int *order;      // n_classes class indices, most probable first (ties: lower index first)
    const float *logits;   // n_classes: the model's outputs, before the softmax
} predict_image;

typedef void (*predict_fn)(void *user, const predict_image *r);

// Softmax of n logits (the largest subtracted first) and the ranking of probs, as predictor_run does.
void predict_softmax(const float *logits, int64_t n, double *probs);
void predict_rank(const double *probs, int64_t n, int *order);

// Runs every item of split (labels: class indices of the predictor, or -1) in item order; fn gets
// each image that was predicted, bad gets each file that could not be read (path and reason).
// cancel (may be NULL) is read at each batch boundary; done (may be NULL) counts the images handled
// so far, read or skipped. Returns 0; 1 when cancelled; -1 with err. Sets the model to eval mode.
int predictor_run(const predictor *p, const dataset_split *split, badfile_list *bad, predict_fn fn, void *user,
                  const atomic_int *cancel, atomic_size_t *done, char *err, size_t errlen);

// ---------------------------------------------------------------------------------------------
// scoring a labelled run

typedef struct {
    size_t item;   // index into the split's items
    int truth, pred;
    double prob;   // of pred
} predict_wrong;

typedef struct {
    int64_t classes;
    long long *confusion;   // classes x classes, rows: true class, columns: predicted
    size_t images, correct;
    predict_wrong *wrong;   // the n_wrong most confident mistakes, most confident first
    size_t n_wrong, max_wrong;
} predict_score;

// 0, or -1 (out of memory). max_wrong may be 0.
int predict_score_init(predict_score *s, int64_t classes, size_t max_wrong);
void predict_score_free(predict_score *s);
// Counts r (r->truth must be >= 0).
void predict_score_add(predict_score *s, const predict_image *r);
long long predict_score_row(const predict_score *s, int64_t truth);   // images of that class
long long predict_score_col(const predict_score *s, int64_t pred);    // images predicted as it

// A pair of classes the model mixes up: count images of class truth predicted as pred.
typedef struct {
    int truth, pred;
    long long count;
} predict_confused;

// fastai's most_confused: the off-diagonal cells of the confusion matrix with at least min_count
// images, most first (ties: by true class, then predicted class), at most max of them into out.
// Returns how many were written.
size_t predict_most_confused(const predict_score *s, long long min_count, predict_confused *out, size_t max);

// ---------------------------------------------------------------------------------------------
// a run on a thread of its own

typedef struct {
    int ok;          // 1: predicted; 0: not (error says why)
    double *probs;   // n_classes (NULL when not ok)
    int *order;      // n_classes, most probable first
    char *error;     // one line when not ok, else NULL
} predict_outcome;

typedef struct {
    size_t n;   // as many as the job was given
    int64_t n_classes;
    predict_outcome *images;   // n entries, in the job's order
    int scored;                // 1 when labels were given: score is filled
    predict_score score;       // wrong[].item index the job's list
    int status;                // 0 done, 1 cancelled, -1 failed (error)
    char error[512];
} predict_results;

typedef struct predict_job predict_job;

// Starts predicting paths[0..n) (copied) on a new thread. labels: NULL, or n class indices (-1 for
// an unlabelled one): then the labelled images are scored too, keeping max_wrong mistakes. The
// predictor (and its model) must outlive the job. NULL with err when it cannot start.
predict_job *predict_job_start(const predictor *p, const char *const *paths, const int *labels, size_t n,
                               size_t max_wrong, char *err, size_t errlen);
// Images handled so far (read or skipped) and in all: safe at any moment.
void predict_job_poll(predict_job *j, size_t *done, size_t *total);
// 1 once the thread has finished.
int predict_job_done(predict_job *j);
// Asks the thread to stop at the next batch boundary; returns at once.
void predict_job_cancel(predict_job *j);
// Once done: moves its results into *out (free them with predict_results_free); returns out->status
// (before done: -1, nothing moved).
int predict_job_result(predict_job *j, predict_results *out);
// Cancels when still running, waits for the thread, frees (with any results not taken). Accepts NULL.
void predict_job_free(predict_job *j);
void predict_results_free(predict_results *r);

#endif
