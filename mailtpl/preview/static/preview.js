// The email page: renders through /api/render, re-renders on Server-Sent Events, keeps view and sample data.
(() => {
  const $ = (id) => document.getElementById(id);
  const name = document.querySelector("main.email").dataset.name;
  const fixtures = JSON.parse($("fixtures").textContent);
  const hash = new URLSearchParams(location.hash.slice(1));
  const state = { fixture: hash.get("fixture") || Object.keys(fixtures)[0] || null, data: null,
                  view: hash.get("view") || "html", width: hash.get("width") || "desktop" };
  let renders = 0, pending = null;

  function remember() {
    const params = new URLSearchParams({ view: state.view, width: state.width });
    if (state.fixture) params.set("fixture", state.fixture);
    history.replaceState(null, "", "#" + params);
  }

  async function post(url, body) {
    const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" },
                                        body: JSON.stringify(body) });
    return response.json();
  }

  function showError(error) {
    const where = error.file ? `${error.file}:${error.line}:${error.column}` : "";
    $("overlay-text").textContent = error.text || [where, error.message].join(": ");
    $("overlay").hidden = false;
    document.body.dataset.error = where || "data";
  }

  async function render() {
    const body = { fixture: state.fixture };
    if (state.data) body.data = state.data;
    const result = await post(`/api/render/${encodeURIComponent(name)}`, body);
    if (result.error) { showError(result.error); return; }
    $("overlay").hidden = true;
    delete document.body.dataset.error;
    $("frame").src = result.frame;
    $("text").textContent = result.text;
    $("source").textContent = result.html;
    $("headers").textContent = result.headers;
    $("subject").textContent = result.subject;
    $("inlining").textContent = `CSS inlined ${result.inlining}`;
    document.body.dataset.renders = ++renders;
  }

  function showView() {
    for (const button of $("views").children) button.classList.toggle("on", button.dataset.view === state.view);
    for (const button of $("widths").children) button.classList.toggle("on", button.dataset.width === state.width);
    $("frame").hidden = state.view !== "html";
    for (const id of ["text", "source", "headers"]) $(id).hidden = state.view !== id;
    $("frame").className = state.width;
    remember();
  }

  function loadFixture() {
    $("fixture").value = state.fixture || "";
    $("data").value = JSON.stringify(state.fixture ? fixtures[state.fixture] : {}, null, 2);
    state.data = null;
  }

  $("views").addEventListener("click", (e) => { if (e.target.dataset.view) { state.view = e.target.dataset.view; showView(); } });
  $("widths").addEventListener("click", (e) => { if (e.target.dataset.width) { state.width = e.target.dataset.width; showView(); } });
  $("fixture").addEventListener("change", () => { state.fixture = $("fixture").value; loadFixture(); remember(); render(); });
  $("email").addEventListener("change", () => { location.href = `/email/${encodeURIComponent($("email").value)}`; });
  $("data").addEventListener("input", () => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      try {
        const data = JSON.parse($("data").value);
        if (data === null || typeof data !== "object" || Array.isArray(data)) throw new Error("the data must be a JSON object");
        state.data = data;
        $("data-status").textContent = "Rendered with the edited data (not saved).";
        $("data-status").classList.remove("bad");
        render();
      } catch (error) {
        $("data-status").textContent = `JSON error: ${error.message}`;
        $("data-status").classList.add("bad");
      }
    }, 150);
  });
  $("save").addEventListener("click", async () => {
    const saveName = $("save-name").value.trim();
    const result = await post(`/api/fixtures/${encodeURIComponent(name)}`, { fixture: saveName, data: state.data || fixtures[state.fixture] || {} });
    $("data-status").textContent = result.error ? result.error.message : `Saved as "${result.saved}" in ${result.file}.`;
  });
  $("send-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("send-status").textContent = "Sending...";
    const body = { to: $("to").value, fixture: state.fixture };
    if (state.data) body.data = state.data;
    const result = await post(`/api/send/${encodeURIComponent(name)}`, body);
    $("send-status").textContent = result.error ? result.error.text || result.error.message : `Sent: ${result.message_id} (${result.reply})`;
    $("send-status").classList.toggle("bad", !!result.error);
  });

  new EventSource("/events").addEventListener("change", (e) => {
    const change = JSON.parse(e.data);
    if (change.emails.includes(name)) render();
  });

  loadFixture();
  showView();
  render();
})();
