// The lint panel: findings of the open email with the page's data; a click outlines the element in the frame.
(() => {
  const $ = (id) => document.getElementById(id);
  const panel = $("lint-panel");
  if (!panel) return;
  const name = document.querySelector("main.email").dataset.name;
  const list = $("lint-list"), status = $("lint-status"), notes = $("lint-notes"), off = $("lint-off");
  const UNSEEN = ["html", "head", "style", "meta", "title", "link", "base"];  // nothing to outline
  let findings = [], lints = 0, asked = 0;

  function data() {
    try { const value = JSON.parse($("data").value); return value && typeof value === "object" ? value : null; }
    catch { return null; }
  }

  async function refresh() {
    const ask = ++asked;  // renders can overtake each other: only the latest answer is shown
    const body = { fixture: $("fixture").value || null };
    const edited = data();
    if (edited) body.data = edited;
    const response = await fetch(`/api/lint/${encodeURIComponent(name)}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const result = await response.json();
    if (ask !== asked) return;
    if (result.error) { findings = []; status.textContent = result.error.message; status.classList.add("bad"); }
    else { findings = result.findings; status.classList.remove("bad"); }
    show();
    panel.dataset.lints = ++lints;
  }

  function show() {
    list.replaceChildren();
    const shown = findings.filter((f) => (notes.checked || f.severity !== "info") && (off.checked || !f.ignored));
    for (const finding of shown) {
      const item = document.createElement("li");
      const visible = finding.element && !UNSEEN.includes(finding.element[0]);
      item.className = finding.severity + (finding.ignored ? " off" : "") + (visible ? " located" : "");
      item.dataset.rule = finding.rule;
      const where = [finding.file, finding.line, finding.column].filter((x) => x).join(":");
      for (const [cls, text] of [["severity", finding.ignored ? "off" : finding.severity], ["message", finding.message],
                                 ["where", ` ${where} `], ["rule", `[${finding.rule}]`]]) {
        const span = document.createElement("span");
        span.className = cls;
        span.textContent = text;
        item.append(span);
      }
      const details = finding.clients.map((c) => `${c.client}: ${c.support === "unsupported" ? "not supported" : "partial"}` +
        (c.versions.length ? ` in ${c.versions.join(", ")}` : "") + (c.notes.length ? ` (${c.notes.join("; ")})` : ""));
      if (finding.ignored) details.push(`switched off: ${finding.ignored}`);
      if (details.length) {
        const div = document.createElement("div");
        div.className = "clients";
        div.textContent = details.join(" · ");
        item.append(div);
      }
      if (visible) item.addEventListener("click", () => highlight(item, finding.element));
      list.append(item);
    }
    const count = (s) => findings.filter((f) => f.severity === s && !f.ignored).length;
    if (!status.classList.contains("bad")) {
      const n = (k, word) => `${k} ${word}${k === 1 ? "" : "s"}`;
      status.textContent = `${n(count("error"), "error")}, ${n(count("warning"), "warning")}, ${n(count("info"), "note")}, ` +
        `${findings.filter((f) => f.ignored).length} switched off in mailtpl.json`;
    }
  }

  function highlight(item, [tag, index]) {
    const frame = $("frame");
    const current = new URL(frame.src, location.href);
    const token = current.pathname.match(/^\/frame\/([^/]+?)(\/highlight)?$/);
    if (!token) return;
    const params = new URLSearchParams({ tag, index, look: current.searchParams.get("look") || "light" });
    for (const other of list.children) other.classList.toggle("on", other === item);
    document.querySelector('#views [data-view="html"]')?.click();
    frame.src = `/frame/${token[1]}/highlight?${params}#mailtpl-lint-hit`;
  }

  notes.addEventListener("change", show);
  off.addEventListener("change", show);
  new MutationObserver(refresh).observe(document.body, { attributes: true, attributeFilter: ["data-renders"] });
  if (document.body.dataset.renders) refresh();
})();
