// The inbox page: lists caught mail through /api/messages, refreshes on Server-Sent Events, reads one message.
// Everything from a caught message is put into the page as text; its HTML only runs in the sandboxed iframe.
(() => {
  const $ = (id) => document.getElementById(id);
  const state = { selected: new URLSearchParams(location.hash.slice(1)).get("id"), view: "html", query: "", html: true, remote: false };
  let loads = 0, loading = null, again = false;

  function cell(text, title) {
    const td = document.createElement("td");
    td.textContent = text;
    td.title = title || text;
    return td;
  }

  function size(bytes) {
    return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`;
  }

  async function request(url, options) {
    const response = await fetch(url, options);
    const body = await response.json();
    if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
    return body;
  }

  async function load() {
    if (loading) { again = true; return loading; }  // one request at a time; a burst of mail is one more load
    loading = (async () => {
      do {
        again = false;
        const result = await request(`/api/messages?${new URLSearchParams({ q: state.query })}`);
        const rows = result.messages.map((m) => {
          const tr = document.createElement("tr");
          tr.className = "message" + (m.id === state.selected ? " on" : "");
          tr.dataset.id = m.id;
          tr.append(cell(m.from || m.mail_from), cell(m.to.join(", ")), cell(m.subject || "(no subject)"),
                    cell(new Date(m.received).toLocaleTimeString(), m.received), cell(size(m.size)));
          tr.addEventListener("click", () => select(m.id));
          return tr;
        });
        $("messages").tBodies[0].replaceChildren(...rows);
        $("empty").hidden = rows.length > 0;
        $("count").textContent = `${result.total} of ${result.limit}`;
        if (state.selected && !result.messages.some((m) => m.id === state.selected) && !state.query) close();
      } while (again);
      document.body.dataset.loads = ++loads;
      loading = null;
    })();
    return loading;
  }

  function close() {
    state.selected = null;
    $("reader").hidden = true;
    history.replaceState(null, "", "#");
  }

  async function select(id) {
    state.selected = id;
    history.replaceState(null, "", "#" + new URLSearchParams({ id }));
    for (const tr of $("messages").tBodies[0].rows) tr.classList.toggle("on", tr.dataset.id === id);
    let message;
    try { message = await request(`/api/messages/${encodeURIComponent(id)}`); } catch (error) { close(); return; }
    $("subject").textContent = message.subject || "(no subject)";
    $("from").textContent = message.from || message.mail_from;
    $("to").textContent = message.to.join(", ");
    $("received").textContent = `${new Date(message.received).toLocaleString()} · ${size(message.size)}` +
      (message.login ? ` · AUTH as ${message.login}` : "") + (message.tls ? " · STARTTLS" : "");
    state.html = message.html !== null;  // a text-only mail opens on its text, not on an empty frame
    state.remote = false;  // every message opens closed: remote images would tell its sender it was read
    showFrame();
    showView();
    $("text").textContent = message.text === null ? "(no text part)" : message.text;
    $("headers").textContent = message.headers.map(([name, value]) => `${name}: ${value}`).join("\n");
    $("links").replaceChildren(...message.links.map((href) => {
      const li = document.createElement("li");
      li.textContent = href;
      return li;
    }));
    $("download").href = `/api/messages/${encodeURIComponent(id)}.eml`;
    const source = await fetch(`/api/messages/${encodeURIComponent(id)}.eml`);
    $("source").textContent = await source.text();
    $("release-status").textContent = "";
    $("reader").hidden = false;
    document.body.dataset.shown = id;
  }

  function showFrame() {
    const url = `/api/messages/${encodeURIComponent(state.selected)}/html${state.remote ? "?remote=1" : ""}`;
    $("frame").src = state.html ? url : "about:blank";
    $("remote").setAttribute("aria-pressed", String(state.remote));
    $("remote").classList.toggle("on", state.remote);
    $("remote").textContent = state.remote ? "Remote images loaded" : "Load remote images";
    $("remote").disabled = !state.html || state.remote;
  }

  function showView() {
    const view = state.view === "html" && !state.html ? "text" : state.view;
    for (const button of $("views").children) {
      button.classList.toggle("on", button.dataset.view === view);
      if (button.dataset.view === "html") button.disabled = !state.html;
    }
    $("frame").hidden = view !== "html";
    for (const id of ["text", "source", "headers", "links", "lint"]) $(id).hidden = view !== id;
  }

  $("views").addEventListener("click", (event) => {
    if (!event.target.dataset.view) return;
    state.view = event.target.dataset.view;
    showView();
  });
  $("widths").addEventListener("click", (event) => {
    const width = event.target.dataset.width;
    if (!width) return;
    for (const button of $("widths").children) button.classList.toggle("on", button.dataset.width === width);
    $("frame").classList.toggle("mobile", width === "mobile");
  });
  $("remote").addEventListener("click", () => { state.remote = true; showFrame(); });
  $("search").addEventListener("input", () => { state.query = $("search").value; load(); });
  $("delete").addEventListener("click", async () => {
    await request(`/api/messages/${encodeURIComponent(state.selected)}`, { method: "DELETE" });
    close();
    load();
  });
  $("delete-all").addEventListener("click", async () => {
    if (!confirm("Delete every caught message?")) return;
    await request("/api/messages", { method: "DELETE" });
    close();
    load();
  });
  $("release-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const to = $("release-to").value.trim();
    if (!confirm(`Send this message through your real SMTP server to ${to}?`)) return;
    const status = $("release-status");
    status.classList.remove("bad");
    status.textContent = "Releasing...";
    try {
      const result = await request(`/api/messages/${encodeURIComponent(state.selected)}/release`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ to }) });
      status.textContent = `Released to ${result.to} via ${result.via}: ${result.reply}`;
    } catch (error) {
      status.classList.add("bad");
      status.textContent = error.message;
    }
  });

  new EventSource("/api/messages/events").addEventListener("change", load);
  showView();
  load().then(() => { if (state.selected) select(state.selected); });
})();
