// Runs @jsx-email/doiuse-email on documents: stdin {"clients": [...], "docs": {"name": "<html>..."}},
// stdout {"name": {"errors": [feature titles], "warnings": [...]}}. Used by bench/lint_doiuse.py.
import { doIUseEmail } from "@jsx-email/doiuse-email";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => { text += chunk; }).on("end", () => resolve(text));
}));
const title = (message) => message.match(/^`(.*)` is/)[1];
const out = {};
for (const [name, html] of Object.entries(input.docs)) {
  const result = doIUseEmail(html, { emailClients: input.clients });
  out[name] = { errors: [...new Set((result.errors || []).map(title))],
                warnings: [...new Set((result.warnings || []).map(title))] };
}
process.stdout.write(JSON.stringify(out));
