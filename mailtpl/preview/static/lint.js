// The lint panel: findings beside an email; a click outlines the element in the frame. It serves two pages:
// a template's page (findings with the page's data, placed at file:line) and the inbox (findings of the caught
// message shown, placed by CSS selector).
(() => {
  const $ = (id) => document.getElementById(id);
  const panel = $("lint-panel");
  if (!panel) return;
  const list = $("lint-list"), status = $("lint-status"), notes = $("lint-notes"), off = $("lint-off");
  const UNSEEN = ["html", "head", "style", "meta", "title", "link", "base"];  // nothing to outline
  let findings = [], lints = 0, asked = 0;

  function data() {
    try { const value = JSON.parse($("data").value); return value && typeof value === "object" ? value : null; }
    catch { return null; }
  }

  const template = {  // the email page: /api/lint/<name> with the sample data or edited JSON of the page
    watch: "data-renders",
    async ask() {
      const body = { fixture: $("fixture").value || null };
      const edited = data();
      if (edited) body.data = edited;
      const name = document.querySelector("main.email").dataset.name;
      return fetch(`/api/lint/${encodeURIComponent(name)}`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    },
    outline(tag, index) {  // the kept render of the frame, outlined
      const current = new URL($("frame").src, location.href);
      const token = current.pathname.match(/^\/frame\/([^/]+?)(\/highlight)?$/);
      if (!token) return null;
      const params = new URLSearchParams({ tag, index, look: current.searchParams.get("look") || "light" });
      return `/frame/${token[1]}/highlight?${params}`;
    },
  };
  const inbox = {  // the inbox: the message the reader shows
    watch: "data-shown",
    ask: () => fetch(`/api/messages/${encodeURIComponent(document.body.dataset.shown)}/lint`),
    outline: (tag, index) => `/api/messages/${encodeURIComponent(document.body.dataset.shown)}/lint/highlight?` +
      new URLSearchParams({ tag, index }),
  };
  const page = panel.dataset.page === "inbox" ? inbox : template;

  async function refresh() {
    const ask = ++asked;  // answers can overtake each other: only the latest is shown
    let result;
    try { result = await (await page.ask()).json(); }
    catch (failure) { result = { error: { message: `lint failed: ${failure.message}` } }; }
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
      const where = finding.file ? [finding.file, finding.line, finding.column].filter((x) => x).join(":")
        : finding.selector || "";
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
    const url = page.outline(tag, index);
    if (!url) return;
    for (const other of list.children) other.classList.toggle("on", other === item);
    document.querySelector('#views [data-view="html"]')?.click();
    $("frame").src = `${url}#mailtpl-lint-hit`;
  }

  notes.addEventListener("change", show);
  off.addEventListener("change", show);
  new MutationObserver(refresh).observe(document.body, { attributes: true, attributeFilter: [page.watch] });
  if (document.body.getAttribute(page.watch)) refresh();
})();
