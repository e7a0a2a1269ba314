// Runs @jsx-email/doiuse-email on documents: stdin {"clients": [...], "docs": {"name": "<html>..."}},
// stdout {"name": {"errors": [feature titles], "warnings": [...], "ms": the fastest warm run}}.
// Used by bench/lint_doiuse.py.
import { doIUseEmail } from "@jsx-email/doiuse-email";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => { text += chunk; }).on("end", () => resolve(text));
}));
const title = (message) => message.match(/^`(.*)` is/)[1];
const out = {};
for (const [name, html] of Object.entries(input.docs)) {
  let result, ms = Infinity;
  for (let run = 0; run < 6; run++) {  // the first run warms up; the fastest of the others counts
    const started = performance.now();
    result = doIUseEmail(html, { emailClients: input.clients });
    if (run) ms = Math.min(ms, performance.now() - started);
  }
  out[name] = { errors: [...new Set((result.errors || []).map(title))],
                warnings: [...new Set((result.warnings || []).map(title))], ms };
}
process.stdout.write(JSON.stringify(out));
