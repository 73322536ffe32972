// 妇情通 console: a hand-off thread's messages (bot/console/inbox.py). While the thread is open,
// every POLL_MS its JSON is read again (the session's cookie) and the list redrawn, so her
// answers show without a reload. No libraries, no inline script (the console's CSP).
"use strict";

(() => {
  const POLL_MS = 4000;
  const list = document.getElementById("thread-messages");
  if (!list || list.dataset.open !== "yes") return;
  // Who wrote a message, in the page's words (data-resident, data-staff …: bot/texts.py).
  const label = (author) => list.dataset[author] || author;

  function item(m) {
    const li = document.createElement("li");
    li.className = "from-" + m.author;
    const when = document.createElement("span");
    when.className = "when";
    when.textContent = m.at;
    const who = document.createElement("strong");
    who.textContent = label(m.author) + (m.name ? "（" + m.name + "）" : "");
    const text = document.createElement("div");
    text.textContent = m.text;
    li.append(when, " ", who, text);
    return li;
  }

  async function poll() {
    try {
      const answer = await fetch(list.dataset.poll, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!answer.ok) return;
      const thread = await answer.json();
      if (thread.messages.length !== list.children.length) {
        list.replaceChildren(...thread.messages.map(item));
      }
      if (thread.status === "closed") clearInterval(timer);
    } catch (_error) {
      // offline for a moment: the next poll tries again
    }
  }

  const timer = setInterval(poll, POLL_MS);
})();
