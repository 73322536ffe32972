// 妇情通 console: the count of urgent cases nobody has accepted yet (bot/domain/urgency.py)
// and of hand-offs (转人工) nobody has answered. The navigation's badges show them; while an
// urgent case waits the tab's title flashes. Every POLL_MS the counts are read again from
// /console/urgent (the session's cookie; JSON), so a new one shows without a reload. No
// libraries, no inline script (the console's CSP).
"use strict";

(() => {
  const POLL_MS = 30000;
  const FLASH_MS = 1000;
  const badge = document.getElementById("urgent-badge");
  if (!badge) return;
  const inbox = document.getElementById("inbox-badge");
  const label = badge.dataset.label || "{n}";
  const hint = badge.dataset.title || "";
  const mark = badge.dataset.tab || "";
  const title = document.title;
  let count = Number(badge.dataset.count) || 0;
  let flashing = null;
  let marked = false;

  const fill = (text, n) => text.replace("{n}", String(n));

  function flash() {
    marked = !marked;
    document.title = marked ? mark + title : title;
  }

  function show(n) {
    count = n;
    badge.hidden = n <= 0;
    badge.textContent = fill(label, n);
    badge.title = fill(hint, n);
    if (n > 0 && flashing === null) {
      flash();
      flashing = setInterval(flash, FLASH_MS);
    } else if (n <= 0 && flashing !== null) {
      clearInterval(flashing);
      flashing = null;
      marked = false;
      document.title = title;
    }
  }

  let timer = null;
  async function poll() {
    try {
      const response = await fetch(badge.dataset.poll, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.status === 401) {
        clearInterval(timer); // logged out or the session expired: the next page asks again
        return;
      }
      if (response.ok) {
        const data = await response.json();
        if (Number.isInteger(data.count)) show(data.count);
        if (inbox && Number.isInteger(data.handoffs)) {
          inbox.hidden = data.handoffs <= 0;
          inbox.textContent = String(data.handoffs);
          inbox.title = fill(inbox.dataset.title || "", data.handoffs);
        }
      }
    } catch {
      // offline for a moment: the next tick tries again
    }
  }

  show(count);
  timer = setInterval(poll, POLL_MS);
})();
