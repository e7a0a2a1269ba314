// Shared by the handlebars.js bench scripts: seconds per call of fn, best of `repeats` batches
// (like _timing.py): the batch size doubles until one batch takes budget / repeats.
function perCall(fn, budget = 0.4, repeats = 5) {
  fn();
  let number = 1, elapsed;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < number; i++) fn();
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    if (elapsed >= budget / repeats || number >= 1e6) break;
    number *= 2;
  }
  let best = elapsed / number;
  for (let r = 1; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < number; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9 / number);
  }
  return best;
}

module.exports = { perCall };
