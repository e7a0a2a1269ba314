// The email page: renders through /api/render into a sandboxed frame, re-renders on changes, keeps the
// chosen view, width, look and sample data (in the URL and across emails).
(() => {
  const $ = (id) => document.getElementById(id);
  const { el } = mailtpl;
  const initial = JSON.parse($("state").textContent);
  const name = initial.name;
  const VIEWS = ["html", "text", "source", "headers", "mime"];
  const WIDTHS = ["320", "375", "600", "800", "full"];
  const LOOKS = ["light", "dark", "invert"];
  // data: the edited JSON once it parses; edited: the box differs from the set (set at the first keystroke)
  // generated: data made from the template's variables, for an email without sample data
  const state = { fixture: null, data: null, edited: false, fixtures: {}, generated: null, saved: null };
  let renders = 0, sequence = 0, pending = null, result = null, mime = null;

  // The URL's fragment, else what was chosen last (on any email), else the defaults.
  function fromUrl() {
    const hash = new URLSearchParams(location.hash.slice(1));
    const pick = (key, allowed, fallback) => {
      const value = hash.get(key) || localStorage.getItem(`mailtpl.${key}`);
      return allowed(value) ? value : fallback;
    };
    state.view = pick("view", (v) => VIEWS.includes(v), "html");
    state.width = pick("width", (v) => v === "full" || /^[0-9]{3,4}$/.test(v || ""), "600");
    state.look = pick("look", (v) => LOOKS.includes(v), "light");
    state.panel = pick("panel", (v) => ["open", "closed"].includes(v), innerWidth < 1000 ? "closed" : "open");
    return hash.get("fixture");
  }
  function remember() {
    const params = new URLSearchParams({ view: state.view, width: state.width, look: state.look });
    if (state.fixture) params.set("fixture", state.fixture);
    history.replaceState(null, "", "#" + params);
    for (const key of ["view", "width", "look", "panel"]) localStorage.setItem(`mailtpl.${key}`, state[key]);
  }

  async function call(url, body) {
    const response = await fetch(url, body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const json = await response.json();
    json.status = response.status;
    return json;
  }

  function status(id, text, bad = false) {
    $(id).textContent = text;
    $(id).classList.toggle("bad", bad);
  }

  function showError(error) {
    const where = error.file ? `${error.file}:${error.line}:${error.column}` : "";
    $("overlay-text").textContent = error.text || [where, error.message].filter(Boolean).join(": ");
    const file = error.file && !error.file.includes(": ") ? error.file : null;  // not "mailtpl.json: subject of x"
    $("overlay-source").hidden = !file;
    if (file) $("overlay-source").href = `/source/${file.split("/").map(encodeURIComponent).join("/")}`;
    $("overlay").hidden = false;
    document.body.dataset.error = where || "data";
    document.body.dataset.errors = Number(document.body.dataset.errors || 0) + 1;
    status("data-status", "The email does not render: the message is over the preview.", true);
  }

  async function render() {
    const mine = ++sequence;
    const result_ = await call(`/api/render/${encodeURIComponent(name)}`,
                               state.data ? { data: state.data } : { fixture: state.fixture });
    if (mine !== sequence) return;  // a newer render is on its way
    if (result_.error) { showError(result_.error); return; }
    result = result_;
    mime = null;
    $("overlay").hidden = true;
    delete document.body.dataset.error;
    showFrame();
    $("text").textContent = result.text;
    $("source").replaceChildren(...highlight(result.html));
    $("headers").textContent = result.headers;
    $("subject").textContent = result.subject;
    $("inlining").textContent = { "compile-time": "styles inlined when compiled", "per-render": "styles inlined per render",
                                  off: "styles not inlined" }[result.inlining] || "";
    $("download").href = result.eml;
    showImages(result.images);
    if (state.view === "mime") showMime();
    $("data-source").hidden = !result.generated;
    if (state.saved) { status("data-status", state.saved); state.saved = null; } else status("data-status", state.data ? "Showing your edits (not saved)." :
      state.fixture ? `Showing sample data "${state.fixture}".` :
      "No sample data yet: showing data generated from the template's variables. Edit it and save it as a set.");
    document.body.dataset.renders = ++renders;
  }

  function showFrame() {
    if (result) $("frame").src = `${result.frame}?look=${state.look}`;
  }

  async function showMime() {
    if (!result) return;
    if (mime === null) mime = await (await fetch(result.eml)).text();
    $("mime").textContent = mime;
  }

  function showImages(images) {
    const order = { missing: 0, relative: 1, external: 2, ok: 3 };
    const label = { missing: "missing", relative: "relative URL: no mail client loads it", external: "not checked (elsewhere)", ok: "ok" };
    const items = [...images].sort((a, b) => order[a.status] - order[b.status])
      .map((image) => el("li", { className: image.status, title: image.src },
                         el("span", { className: "tag", textContent: label[image.status] }), " ", image.src));
    if (!initial.assets) items.push(el("li", { className: "muted", textContent:
      "No assets folder is served: create assets/ in the templates folder, set \"assets\" in mailtpl.json, or start with --assets." }));
    $("images").replaceChildren(...(items.length ? items : [el("li", { className: "muted", textContent: "no images" })]));
  }

  function variable(v) {
    const item = el("li", { title: v.locations.join("\n") }, el("code", { textContent: v.name }), " ",
                    el("span", { className: `kind ${v.kind}`, textContent: v.kind }));
    const fields = v.fields || v.item?.fields;
    if (v.item && !fields) item.append(` of ${v.item.kind}`);
    if (fields) item.append(el("ul", {}, ...fields.map(variable)));
    return item;
  }

  function showVariables(variables) {
    $("variables").replaceChildren(...(variables.length ? variables.map(variable)
                                                        : [el("li", { className: "muted", textContent: "none" })]));
  }

  // A small HTML highlighter: tags, attributes, values, comments (text nodes only, never innerHTML).
  function highlight(html) {
    const nodes = [];
    const span = (cls, text) => nodes.push(el("span", { className: cls, textContent: text }));
    const token = /(<!--[\s\S]*?-->)|(<\/?)([A-Za-z][\w:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)(\/?>)|(<!DOCTYPE[^>]*>)|([^<]+|<)/gi;
    for (const m of html.matchAll(token)) {
      if (m[1] || m[6]) span("hl-comment", m[1] || m[6]);
      else if (m[3]) {
        span("hl-punct", m[2]); span("hl-tag", m[3]);
        for (const a of m[4].matchAll(/(\s+)|([^\s=]+)(\s*=\s*)?("[^"]*"|'[^']*'|[^\s"'>]+)?/g)) {
          if (a[1]) nodes.push(document.createTextNode(a[1]));
          else { span("hl-attr", a[2]); if (a[3]) span("hl-punct", a[3]); if (a[4]) span("hl-value", a[4]); }
        }
        span("hl-punct", m[5]);
      } else nodes.push(document.createTextNode(m[7]));
    }
    return nodes;
  }

  function showView() {
    for (const button of $("views").children) button.classList.toggle("on", button.dataset.view === state.view);
    for (const button of $("widths").children) button.classList.toggle("on", button.dataset.width === state.width);
    $("frame-box").hidden = $("width-label").hidden = state.view !== "html";
    $("text").hidden = state.view !== "text";
    $("source-view").hidden = state.view !== "source";
    $("headers").hidden = state.view !== "headers";
    $("mime").hidden = state.view !== "mime";
    if (state.view === "mime") showMime();
    setWidth(state.width);
    $("look").value = state.look;
    $("panel").hidden = state.panel === "closed";
    remember();
  }

  function setWidth(width) {
    state.width = String(width);
    const full = state.width === "full";
    $("frame-box").style.width = full ? "100%" : `${parseInt(state.width, 10) + 2}px`;
    $("width-label").textContent = full ? "full width" : `${state.width} px`;
  }

  function fillFixtures() {
    const names = Object.keys(state.fixtures);
    $("fixture").replaceChildren(...(names.length ? names.map((fixture) => el("option", { value: fixture, textContent: fixture }))
                                                  : [el("option", { value: "", textContent: "generated" })]));
    $("fixture").disabled = !names.length;
    $("fixture").value = state.fixture || "";
  }

  // The data of the chosen set, or the generated data of an email without sets.
  function shownData() {
    return (state.fixture ? state.fixtures[state.fixture] : state.generated) || {};
  }

  function loadData() {
    $("data").value = JSON.stringify(shownData(), null, 2);
    $("save-name").value = state.fixture || "default";
    state.data = null;
    state.edited = false;
  }

  function notice(text, ...extra) {
    $("data-notice").replaceChildren(text, ...extra);
    $("data-notice").hidden = !text;
  }

  async function loadFixtures(fromDisk) {
    const answer = await call(`/api/email/${encodeURIComponent(name)}`);
    if (answer.status !== 200) return false;
    const before = state.fixtures;
    state.fixtures = answer.fixtures;
    state.generated = answer.generated;
    showVariables(answer.variables);
    if (answer.fixtures_error) notice(answer.fixtures_error.text);
    state.fixture = choose(state.fixture);
    fillFixtures();
    if (!fromDisk || !state.edited) loadData();
    else if (JSON.stringify(before[state.fixture]) !== JSON.stringify(state.fixtures[state.fixture])) {
      const use = el("button", { textContent: "Load the file's data", className: "link" });
      use.addEventListener("click", () => { notice(""); loadData(); render(); });
      notice(`${name}.preview.json changed on disk; your edits are kept. `, use);
    }
    return true;
  }

  // The set to show for a wanted name: it, or the first set with a word that it does not exist.
  function choose(wanted) {
    const first = Object.keys(state.fixtures)[0] || null;
    if (!wanted) return first;
    if (wanted in state.fixtures) return wanted;
    notice(`There is no sample data set "${wanted}"` + (first ? `: showing "${first}".` : "."));
    return first;
  }

  async function save(replace = false) {
    const setName = $("save-name").value.trim();
    const answer = await call(`/api/fixtures/${encodeURIComponent(name)}`,
                              { fixture: setName, data: state.data || shownData(), replace });
    if (answer.status === 409 && !replace && confirm(`${answer.error.message}`)) return save(true);
    if (answer.error) { status("data-status", answer.error.message, true); return; }
    state.fixtures = answer.fixtures;
    state.fixture = answer.saved;
    fillFixtures();
    loadData();
    remember();
    state.saved = `Saved as "${answer.saved}" in ${answer.file}.`;
    status("data-status", state.saved);
  }

  function gone(folder) {
    const added = folder.names.filter((n) => !folder.previous.includes(n));
    const text = [`${name}.hbs was deleted or renamed.`];
    if (added.length === 1) {
      const link = el("a", { href: `/email/${encodeURIComponent(added[0])}`, textContent: added[0] });
      $("gone-text").replaceChildren(...text, " Renamed to ", link, "? Its sample data and subject stay under the old name until you rename them too.");
    } else $("gone-text").replaceChildren(...text, " Pick an email on the left.");
    $("gone").hidden = false;
    document.body.dataset.gone = "1";
  }

  // -- events --
  $("views").addEventListener("click", (e) => { if (e.target.dataset.view) { state.view = e.target.dataset.view; showView(); } });
  $("widths").addEventListener("click", (e) => { if (e.target.dataset.width) { state.width = e.target.dataset.width; showView(); } });
  function setLook(look) {
    state.look = look;
    $("look").value = look;
    remember();
    showFrame();
  }

  $("look").addEventListener("change", () => setLook($("look").value));
  $("toggle-panel").addEventListener("click", () => { state.panel = state.panel === "closed" ? "open" : "closed"; showView(); });
  $("fixture").addEventListener("change", () => {
    if (state.edited && !confirm("Discard your edits to the data?")) { $("fixture").value = state.fixture; return; }
    state.fixture = $("fixture").value;
    notice("");
    loadData(); remember(); render();
  });
  $("data").addEventListener("input", () => {
    state.edited = true;
    state.saved = null;
    clearTimeout(pending);
    pending = setTimeout(() => {
      try {
        const data = JSON.parse($("data").value);
        if (data === null || typeof data !== "object" || Array.isArray(data)) throw new Error("the data must be a JSON object");
        state.data = data;
        render();
      } catch (error) {
        status("data-status", `JSON error: ${error.message}`, true);
      }
    }, 150);
  });
  $("save").addEventListener("click", () => save());
  $("copy").addEventListener("click", async () => {
    await navigator.clipboard.writeText(result ? result.html : "");
    $("copy").textContent = "Copied";
    setTimeout(() => { $("copy").textContent = "Copy"; }, 1500);
  });
  $("send-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    status("send-status", "Sending...");
    const body = { to: $("to").value };
    if (state.data) body.data = state.data; else body.fixture = state.fixture;
    const answer = await call(`/api/send/${encodeURIComponent(name)}`, body);
    status("send-status", answer.error ? answer.error.text || answer.error.message : `Sent: ${answer.message_id} (${answer.reply})`, !!answer.error);
  });

  // Drag the handle: the frame keeps centred, so it grows by twice the pointer's move.
  $("handle").addEventListener("pointerdown", (down) => {
    const start = $("frame-box").getBoundingClientRect().width - 2;
    $("handle").setPointerCapture(down.pointerId);
    document.body.classList.add("dragging");
    const move = (e) => setWidth(Math.max(240, Math.round(start + 2 * (e.clientX - down.clientX))));
    const up = () => {
      $("handle").removeEventListener("pointermove", move);
      document.body.classList.remove("dragging");
      showView();
    };
    $("handle").addEventListener("pointermove", move);
    $("handle").addEventListener("pointerup", up, { once: true });
  });

  document.addEventListener("keydown", (event) => {
    if (mailtpl.typing(event)) return;
    const view = VIEWS[Number(event.key) - 1];
    if (view) { state.view = view; showView(); }
    if (event.key === "w") { state.width = WIDTHS[(WIDTHS.indexOf(state.width) + 1) % WIDTHS.length]; showView(); }
    if (event.key === "d") setLook(LOOKS[(LOOKS.indexOf(state.look) + 1) % LOOKS.length]);
    if (event.key === "p") { state.panel = state.panel === "closed" ? "open" : "closed"; showView(); }
  });

  mailtpl.onChange(async (change) => {
    if (!change.reconnected && !change.emails.includes(name)) return;
    if (change.reconnected || change.files.includes(`${name}.preview.json`)) {
      await loadFixtures(true);  // the shown set may be gone: choose before rendering
      await render();
      return;
    }
    const rendering = render();  // a template: the server reads the saved files, no need to wait
    await loadFixtures(true);
    await rendering;
  });
  mailtpl.onFolder((folder) => {
    if (!folder.names.includes(name)) gone(folder);
    else if (!$("gone").hidden) { $("gone").hidden = true; delete document.body.dataset.gone; render(); }
  });

  window.addEventListener("hashchange", () => {
    const fixture = fromUrl();
    if (fixture && fixture !== state.fixture && !state.edited) { state.fixture = choose(fixture); fillFixtures(); loadData(); render(); }
    showView();
    showFrame();
  });

  state.fixture = fromUrl();
  showView();
  loadFixtures(false).then(() => { remember(); render(); });
})();
