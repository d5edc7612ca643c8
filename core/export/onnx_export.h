/*
 * onnx_export.h — a trained model as an ONNX file, for runtimes without PyTorch (ONNX Runtime,
 * OpenCV's dnn, TensorRT).
 *
 * The graph is written from the model's module tree (ft_model_nodes, ft_model_module_info) the way
 * torchvision's forward() runs it, in eval mode: BatchNorm with its running statistics, Dropout
 * left out. VGG: features -> avgpool -> Flatten(1) -> classifier; ResNet: conv1, bn1, relu,
 * maxpool, layer1..4 (BasicBlock / Bottleneck with their downsample and Add), GlobalAveragePool,
 * Flatten(1), fc. Ops: Conv, BatchNormalization, Relu, MaxPool, AveragePool, GlobalAveragePool,
 * Add, Flatten, Gemm(transB=1). Weights are initializers under their state_dict names
 * ("features.0.weight"), float32 raw_data, little-endian; num_batches_tracked is left out.
 *
 *   input   "input"   float32 [batch, 3, S, S]   batch is a dynamic dimension (dim_param "batch")
 *   output  "logits"  float32 [batch, classes]
 *   metadata_props    frost.arch, frost.classes, frost.class_names (JSON list), frost.input_size,
 *                     frost.resize ("square" | "crop"), frost.mean, frost.std (JSON lists): the
 *                     same keys and texts as a checkpoint's (checkpoint.h)
 *   producer_name "frost", ir_version 8, one opset_import (domain "", the opset asked for), and a
 *   doc_string that says what preprocessing the input expects.
 *
 * Limits. VGG's AdaptiveAvgPool2d((7,7)) becomes nothing when the feature map is already 7x7 (input
 * 224), an AveragePool when 7 divides it, and is refused otherwise (ONNX has no adaptive pooling).
 * A module the exporter does not know, or one built with options it cannot write (a padding given
 * by name, BatchNorm without running statistics), is refused with its path and type: a wrong graph
 * is never written. One file, so at most 2 GB (protobuf's limit; VGG19 is 0.55 GB).
 *
 * Why protobuf-c: ONNX is a protobuf message. protoc-c compiles Debian's onnx.proto (libonnx-dev,
 * the schema onnx 1.12 checks against) to C structs, so the file is packed by the library that
 * defines the wire format, not by hand, and from plain C11 (the C++ protobuf runtime would pull
 * core/ into C++). Packing streams into the file (a ProtobufCBuffer whose append writes), so the
 * weights are in memory once (the host copy of each tensor), not twice.
 *
 * The file is written as PATH.tmp.XXXXXX next to PATH, fsync'ed, then renamed (or linked, when
 * overwrite is 0, so a file that appeared meanwhile is not replaced either): a failure removes the
 * temporary, and a kill leaves at most that temporary, never a half-written PATH.
 */
#ifndef FROST_ONNX_EXPORT_H
#define FROST_ONNX_EXPORT_H

#include <stddef.h>

#include "checkpoint.h"
#include "frost_torch.h"

#define ONNX_DEFAULT_OPSET 14   // what torch.onnx.export of PyTorch 1.13 uses
#define ONNX_MIN_OPSET 9        // BatchNormalization-9 (no "spatial"); the oldest the tests run
#define ONNX_MAX_OPSET 17       // what Debian's onnx 1.12 (libonnx-dev, python3-onnx) knows
#define ONNX_IR_VERSION 8

// Writes m as an ONNX model to path. meta gives the input size S (meta->tf.size), the transform
// (fit, mean, std) and the class names (meta->num_classes of them, equal to the model's outputs);
// the architecture is the model's own. The model is traced at S (ft_model_trace: its node table is
// refreshed, node pointers held from before are stale) and its weights are read, never changed.
// overwrite 0: an existing path is refused and left as it was.
// 0, or -1 with one line (no newline) in err: an opset outside [ONNX_MIN_OPSET, ONNX_MAX_OPSET], a
// folder that does not exist or cannot be written, a module that cannot be exported, a write error.
int onnx_export(ft_model *m, const checkpoint_meta *meta, int opset, const char *path, int overwrite, char *err,
                size_t errlen);

#endif
