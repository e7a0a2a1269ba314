// Shared by every page: the email list with status, the live connection, the banner.
const mailtpl = (() => {
  const listeners = [], folderListeners = [];
  const current = document.querySelector("main.email")?.dataset.name ?? null;
  let names = [];

  function el(tag, props = {}, ...children) {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children);
    return node;
  }

  function banner(text) {
    const box = document.getElementById("banner");
    box.textContent = text || "";
    box.hidden = !text;
  }

  function emailUrl(name) { return `/email/${encodeURIComponent(name)}`; }

  async function refresh() {
    const response = await fetch("/api/emails");
    const status = await response.json();
    const list = document.getElementById("email-list");
    list.replaceChildren(...status.emails.map((email) => {
      const failing = email.sets.filter((set) => set.error);
      const note = email.error ? "does not compile" : failing.length ? `sample data "${failing[0].name}" fails`
        : email.generated?.error ? "generated data fails"
        : email.sets.length ? `${email.sets.length} sample-data set${email.sets.length > 1 ? "s" : ""}` : "generated sample data";
      const link = el("a", { href: emailUrl(email.name), title: email.error || failing[0]?.error || email.generated?.error || email.subject },
                      el("span", { className: `dot ${email.status}` }), el("span", { className: "name", textContent: email.name }),
                      el("span", { className: "note", textContent: note }));
      if (email.name === current) link.setAttribute("aria-current", "page");
      return el("li", { className: `status-${email.status}` }, link);
    }));
    document.getElementById("orphans").replaceChildren(...status.orphans.map((note) => el("li", { textContent: note })));
    const previous = names;
    names = status.emails.map((email) => email.name);
    banner(status.folder_error ? `The folder's settings could not be read: ${status.folder_error}` : "");
    return { names, previous, status };
  }

  function connect() {
    const live = document.getElementById("live");
    const source = new EventSource("/events");
    let lost = false;
    source.addEventListener("hello", () => {
      live.className = "live on";
      live.textContent = "live";
      if (lost) { banner(""); lost = false; for (const fn of listeners) fn({ emails: names, files: [], reconnected: true }); }
    });
    source.addEventListener("change", async (event) => {
      const change = JSON.parse(event.data);
      await Promise.allSettled(listeners.map((fn) => fn(change)));  // first the open email re-renders, then
      const folder = await refresh();                                 // the list (it renders every email)
      if (change.error) banner(`The folder's settings could not be read: ${change.error}`);
      for (const fn of folderListeners) fn(folder);
    });
    source.addEventListener("error", async () => {
      lost = true;
      live.className = "live off";
      const running = await fetch("/api/emails").then((response) => response.ok, () => false);
      live.textContent = running ? "not live" : "stopped";
      banner(running ? "Live updates are off: too many preview pages are open. Close some; this page reconnects by itself."
                     : "The preview server stopped. Start `mailtpl preview` again: this page reconnects by itself.");
    });
  }

  function go(step) {
    if (!names.length) return;
    const at = names.indexOf(current);
    location.href = emailUrl(names[(at + step + names.length) % names.length]);
  }

  function typing(event) {
    return event.ctrlKey || event.metaKey || event.altKey || /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
  }

  document.addEventListener("keydown", (event) => {
    if (typing(event)) return;
    if (event.key === "j") go(1);
    if (event.key === "k") go(-1);
  });

  refresh();
  connect();
  return { el, banner, refresh, typing, onChange: (fn) => listeners.push(fn), onFolder: (fn) => folderListeners.push(fn) };
})();
