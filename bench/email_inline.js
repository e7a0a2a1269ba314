// handlebars.js side of bench/email.py: reads {name: {template, partials, data}} on stdin and
// prints {name: {juice, cssInline}}: seconds per email to render and inline the CSS (best of
// 5 batches, like _timing.py). Needs `npm install --prefix bench @css-inline/css-inline juice handlebars@4.7.10`.
const Handlebars = require('handlebars');
const juice = require('juice');
const cssInline = require('@css-inline/css-inline');
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
  const hbs = Handlebars.create();
  for (const [partial, source] of Object.entries(c.partials)) hbs.registerPartial(partial, source);
  const tpl = hbs.compile(c.template);
  tpl(c.data);
  out[name] = {
    juice: perCall(() => juice(tpl(c.data))),
    cssInline: perCall(() => cssInline.inline(tpl(c.data), { loadRemoteStylesheets: false })),
  };
}
console.log(JSON.stringify(out));
