/*
 * run_settings.h — a run's settings as the history keeps them: every setting that changes what a run
 * computes (network, weights, data, what trains, optimizer, plan, schedule, pipeline, BatchNorm,
 * cache, precision, seed, threads, device) as one JSON object, and back into a trainer_config, so a
 * recorded run can be run again (frost runs again, the Runs screen's Enter). May use: jansson, core/
 * below it.
 */
#ifndef FROST_HISTORY_RUN_SETTINGS_H
#define FROST_HISTORY_RUN_SETTINGS_H

#include <stddef.h>

#include "dataset.h"
#include "trainer.h"

// The settings of c's run on d (its folder: root, the real path) as JSON text (malloc'd), with the
// digests the recorder computed (dataset_digest, weights_digest; NULL: left out). NULL when out of
// memory.
char *run_settings_json(const trainer_config *c, const dataset *d, const char *root, const char *dataset_digest,
                        const char *weights_digest);

// A trainer_config rebuilt from settings JSON, with the texts it points to kept here.
typedef struct {
    trainer_config cfg;
    char dataset[4096];
    char weights[4096], resume[4096];
    char trainable[1024], plan[512], schedule[64], block_lr[512], class_weights[512];
} run_settings;

// Fills s from json (what it lacks keeps trainer_config_default's). 0, or -1 with err.
int run_settings_parse(run_settings *s, const char *json, char *err, size_t errlen);

// The keys of two settings objects whose values differ, with both values as text: calls each(key,
// a's, b's, user) once per differing key ("(none)" for a missing one), in a's order then b's extra
// keys. The count, or -1 when either is not a JSON object.
int run_settings_diff(const char *a, const char *b,
                      void (*each)(void *user, const char *key, const char *va, const char *vb), void *user);

// Calls each(key, value text, user) for every setting of json, in its order. The count, or -1.
int run_settings_each(const char *json, void (*each)(void *user, const char *key, const char *value), void *user);

#endif
