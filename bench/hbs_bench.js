// handlebars.js side of bench/compile_render.py: reads {name: {template, data}} on stdin,
// prints {name: {compile, render}} in seconds per call (best of 5 batches, like _timing.py).
const Handlebars = require('handlebars');
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));

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

const out = {};
for (const [name, c] of Object.entries(input)) {
  const tpl = Handlebars.compile(c.template);
  const render = perCall(() => tpl(c.data));
  // Handlebars.compile is lazy: the work happens on the first call, so compile = compile + first render - render.
  const compileAndFirst = perCall(() => Handlebars.compile(c.template)(c.data));
  out[name] = { compile: Math.max(compileAndFirst - render, 0), render };
}
console.log(JSON.stringify(out));
