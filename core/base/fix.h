/*
 * fix.h — what the user can change to get past an error, named once for both front ends.
 *
 * core/ describes a problem in its message and never names a command-line flag or a key; where a
 * change of setting fixes it, it also hands back one of these, and the front end says how in its own
 * terms (the command line: a flag; the interface: a field or a key).
 */
#ifndef FROST_FIX_H
#define FROST_FIX_H

typedef enum {
    FIX_NONE = 0,
    FIX_SMALLER_BATCH,   // memory ran out for a batch: fewer images per batch
    FIX_BN_EVAL,         // the feature cache needs frozen BatchNorm layers kept in eval mode
    FIX_TRAINABLE,       // the trainable list names a module the network does not have
    FIX_AS_WEIGHTS,      // a plain weights file given where a checkpoint was wanted
    FIX_DOCTOR,          // the dataset has more problems than the message names
    FIX_BN_FIXED,        // frozen BatchNorm layers drift in train mode: eval mode keeps them fixed
    FIX_HIGHER_LR,       // trainable layers barely move: a higher learning rate (or more epochs)
    FIX_CLASS_WEIGHTS    // the classes are imbalanced: class weights in the loss (inverse frequency) balance them
} frost_fix;

#endif
