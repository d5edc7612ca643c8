#!/usr/bin/env node
// onnx_run.js - ONNX Runtime (npm's onnxruntime-node, CPU) runs a file frost exported, for
// tests/core/test_onnx_export.c.
//
//   NODE_PATH=$FROST_ORT node onnx_run.js MODEL.onnx INPUT.f32 N S OUT.f32
//
// INPUT.f32 holds N x 3 x S x S float32 values (host byte order, NCHW); the session's one input is
// fed them, and its output "logits" is written to OUT.f32 as raw float32. Prints one JSON line:
//   {"inputs": ["input"], "outputs": ["logits"], "dims": [N, classes]}
// Any failure (the runtime missing, a file it refuses): the reason on stderr, exit 1.
'use strict';

const fs = require('fs');

async function main() {
  const argv = process.argv.slice(2);
  if (argv.length !== 5) throw new Error('usage: onnx_run.js MODEL.onnx INPUT.f32 N S OUT.f32');
  const [model, inputPath, nText, sText, outPath] = argv;
  const n = Number(nText), s = Number(sText);
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(s) || s < 1) throw new Error('N and S must be positive');
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (e) {
    throw new Error(`onnxruntime-node is not installed where NODE_PATH points (${process.env.NODE_PATH || 'unset'}): ` +
                    e.message);
  }
  const bytes = fs.readFileSync(inputPath);
  const want = n * 3 * s * s * 4;
  if (bytes.length !== want) throw new Error(`${inputPath} holds ${bytes.length} bytes, not ${want}`);
  // a copy, so the floats are aligned whatever the Buffer's offset in its pool
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const session = await ort.InferenceSession.create(model, {executionProviders: ['cpu']});
  const feeds = {};
  feeds[session.inputNames[0]] = new ort.Tensor('float32', data, [n, 3, s, s]);
  const results = await session.run(feeds);
  const out = results[session.outputNames[0]];
  if (out.type !== 'float32') throw new Error(`the output is ${out.type}, not float32`);
  fs.writeFileSync(outPath, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
  console.log(JSON.stringify({inputs: session.inputNames, outputs: session.outputNames, dims: out.dims}));
  if (typeof session.release === 'function') await session.release();
}

main().catch((e) => {
  console.error(`onnx_run.js: ${e && e.message ? e.message : e}`.replace(/\n/g, ' '));
  process.exit(1);
});
