// handlebars.js side of bench/compile_render.py: reads {name: {template, data}} on stdin,
// prints {name: {compile, render}} in seconds per call (best of 5 batches, like _timing.py).
const Handlebars = require('handlebars');
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));

const { perCall } = require('./_timing');

const out = {};
for (const [name, c] of Object.entries(input)) {
  const tpl = Handlebars.compile(c.template);
  const render = perCall(() => tpl(c.data));
  // Handlebars.compile is lazy: the work happens on the first call, so compile = compile + first render - render.
  const compileAndFirst = perCall(() => Handlebars.compile(c.template)(c.data));
  out[name] = { compile: Math.max(compileAndFirst - render, 0), render };
}
console.log(JSON.stringify(out));
