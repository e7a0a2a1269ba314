// handlebars.js side of bench/email.py: reads {name: {template, partials, data}} on stdin and
// prints {name: {juice, cssInline}}: seconds per email to render and inline the CSS (best of
// 5 batches, like _timing.py). Needs `npm install --prefix bench @css-inline/css-inline juice handlebars@4.7.10`.
const Handlebars = require('handlebars');
const juice = require('juice');
const cssInline = require('@css-inline/css-inline');
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));

const { perCall } = require('./_timing');

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
