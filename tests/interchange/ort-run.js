// ort-run.js: runs an ONNX model exported by `gradus export --to onnx` for a
// number of steps in ONNX Runtime, feeding each step's "update:ID" outputs
// back as the shared inputs, and prints one JSON line per step in the form
// of `gradus run`. Reads a plan (JSON) from the file named by argv[2]:
//   {"model": PATH, "inputs": [{NAME: VALUE, ...} per step],
//    "shared": {ID: VALUE, ...}, "n_outputs": N}
// where VALUE is {"dtype", "shape", "data" (flat, row-major)}.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));

const arrays = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array,
  int64: BigInt64Array, bool: Uint8Array,
};

function toTensor (v) {
  const data = v.dtype === 'int64' ? v.data.map (BigInt) : v.data.map (Number);
  return new ort.Tensor (v.dtype, arrays[v.dtype].from (data), v.shape);
}

function fromTensor (t) {
  const data = Array.from (t.data, (x) => (typeof x === 'bigint' ? Number (x) : Number (x)));
  return { dtype: t.type, shape: Array.from (t.dims), data };
}

async function main () {
  const plan = JSON.parse (fs.readFileSync (process.argv[2], 'utf8'));
  const session = await ort.InferenceSession.create (plan.model);
  const shared = {};
  for (const [id, v] of Object.entries (plan.shared)) shared[id] = toTensor (v);
  for (let step = 0; step < plan.inputs.length; step++) {
    const feeds = {};
    for (const [name, v] of Object.entries (plan.inputs[step])) feeds[name] = toTensor (v);
    for (const id of Object.keys (shared)) feeds[id] = shared[id];
    const results = await session.run (feeds);
    const outputs = [];
    for (let i = 0; i < plan.n_outputs; i++) outputs.push (fromTensor (results['output:' + i]));
    for (const name of session.outputNames)
      if (name.startsWith ('update:')) {
        // a copy, so that nothing of the last run is shared with the next
        const t = results[name];
        shared[name.slice (7)] = new ort.Tensor (t.type, t.data.slice (), t.dims);
      }
    const sharedOut = {};
    for (const id of Object.keys (shared)) sharedOut[id] = fromTensor (shared[id]);
    process.stdout.write (JSON.stringify ({ step, outputs, shared: sharedOut }) + '\n');
  }
}

main ().catch ((e) => { console.error ('ort-run: ' + e.message); process.exit (1); });
