// 妇情通 web chat: bubbles, choice buttons, a typing indicator and pushed messages (SSE).
// Her identity is an HttpOnly cookie set by the server for the browser session; the visible
// transcript is kept in sessionStorage (this tab, until the browser closes) so a reload shows it
// again. 快速离开 wipes both and opens a neutral page in place of this one (docs/privacy.md).
// No libraries, no build step, no external requests.
"use strict";

(() => {
  const STORE = "fuqing.chat.transcript.v1";
  const KEEP = 300; // entries kept in the transcript
  const HEADERS = { "Content-Type": "application/json", "X-Requested-With": "fuqing" };
  const RETRIES = [800, 2500]; // delays before resending after a network failure (same msg_id)
  const POLL_MS = 5000; // for browsers without EventSource
  // Hotlines to tap; no lookbehind (older iOS WebViews reject it): group 1 is the character before.
  const HOTLINES = /(^|\D)(110|119|120|12338|12356|12355|12345)(?!\d)/g;
  const TEXT = {
    me: "我",
    bot: "妇",
    notice: "通知",
    urgent: "紧急",
    typing: "妇情通正在输入",
    choices: "可选的回复",
    tooLong: "消息太长了，请分几次发送。",
    expired: "页面已过期，请刷新后再试。",
    failed: "消息没有发出去，请检查网络后再试。",
    offline: "连接中断，正在重新连接…",
    confirmClear: "清除这台设备上的聊天记录吗？（不会取消您已提交的求助）",
  };

  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("input");
  const sendButton = document.getElementById("send");
  const status = document.getElementById("status");
  const welcome = JSON.parse(document.body.dataset.welcome || "{}");
  const exitPage = document.body.dataset.exit || "about:blank";

  // Before the transcript moved to sessionStorage it was kept in localStorage for good.
  forget(() => localStorage.removeItem(STORE));

  let transcript = load();
  let busy = false;
  let typing = null;
  let source = null; // the push stream (EventSource), closed on a quick exit
  let poller = null; // or the polling timer, for browsers without EventSource
  let gone = false; // after a quick exit: an answer still on its way is dropped, not kept

  // ---------------------------------------------------------------- transcript

  function forget(wipe) {
    try {
      wipe();
    } catch {
      // storage disabled (private mode, a policy): there is nothing in it to forget
    }
  }

  function load() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(STORE) || "[]");
      return Array.isArray(saved) ? saved : [];
    } catch {
      return [];
    }
  }

  function save() {
    if (gone) return;
    transcript = transcript.slice(-KEEP);
    try {
      sessionStorage.setItem(STORE, JSON.stringify(transcript));
    } catch {
      // Private mode or a full storage: the conversation still works, it just won't survive.
    }
  }

  function record(entry) {
    if (gone) return;
    transcript.push(entry);
    save();
    render(entry, true);
    refreshChoices();
    scrollDown();
  }

  // ---------------------------------------------------------------- rendering

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // The bot lists choices as "1. label" lines; the buttons show them, so the lines go.
  // Choices after the numbered ones (a quick "对") become buttons without a number.
  function splitChoices(text, choices) {
    if (!choices || !choices.length) return { text, numbered: 0 };
    const lines = text.split("\n");
    for (let count = choices.length; count > 0; count -= 1) {
      const tail = lines.slice(-count);
      if (lines.length > count && tail.every((line, i) => line.trim() === `${i + 1}. ${choices[i]}`)) {
        return { text: lines.slice(0, -count).join("\n"), numbered: count };
      }
    }
    return { text, numbered: 0 };
  }

  // Text with hotline numbers as tap-to-call links (built as nodes: never innerHTML).
  function fillText(node, text) {
    let last = 0;
    for (const match of text.matchAll(HOTLINES)) {
      const start = match.index + match[1].length;
      node.append(text.slice(last, start));
      const link = element("a", "tel", match[2]);
      link.href = `tel:${match[2]}`;
      node.append(link);
      last = start + match[2].length;
    }
    node.append(text.slice(last));
  }

  function render(entry, fresh) {
    if (entry.role === "note") {
      const note = element("p", "note", entry.text);
      log.insertBefore(note, typing);
      return note;
    }
    const mine = entry.role === "me";
    const row = element("div", `row ${mine ? "mine" : "bot"}`);
    const avatar = element("div", "avatar", mine ? TEXT.me : TEXT.bot);
    avatar.setAttribute("aria-hidden", "true");
    const body = element("div", "body");
    const bubble = element("div", "bubble");
    const { text, numbered } = mine
      ? { text: entry.text, numbered: 0 }
      : splitChoices(entry.text, entry.choices);
    if (entry.urgent) {
      bubble.classList.add("urgent");
      bubble.append(element("span", "tag urgent", TEXT.urgent));
    }
    if (entry.push) bubble.append(element("span", "tag", TEXT.notice));
    fillText(bubble, text);
    body.append(bubble);
    if (!mine && entry.choices && entry.choices.length) {
      const group = element("div", "choices");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", TEXT.choices);
      entry.choices.forEach((label, i) => {
        const button = element("button", "choice");
        button.type = "button";
        if (i < numbered) button.append(element("span", "number", `${i + 1}.`));
        button.append(label);
        button.addEventListener("click", () => send(label));
        group.append(button);
      });
      body.append(group);
    }
    row.append(avatar, body);
    if (fresh) row.classList.add("fresh");
    log.insertBefore(row, typing);
    return row;
  }

  // Only the newest bot bubble's buttons answer; older ones stay visible but disabled.
  function refreshChoices() {
    const groups = log.querySelectorAll(".choices");
    const last = transcript.filter((e) => e.role !== "note" && !e.failed).pop();
    const answerable = last && last.role === "bot" && last.choices && last.choices.length;
    const live = answerable && !busy ? groups[groups.length - 1] : null;
    for (const group of groups) {
      for (const button of group.querySelectorAll("button")) button.disabled = group !== live;
    }
  }

  function renderAll() {
    log.replaceChildren();
    typing = null;
    transcript.forEach((entry) => render(entry, false));
    if (busy) showTyping();
    refreshChoices();
    scrollDown();
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function showTyping() {
    if (typing) return;
    typing = element("div", "row bot typing");
    const avatar = element("div", "avatar", TEXT.bot);
    avatar.setAttribute("aria-hidden", "true");
    const bubble = element("div", "bubble");
    bubble.setAttribute("role", "status");
    bubble.append(element("span", "sr-only", TEXT.typing));
    for (let i = 0; i < 3; i += 1) bubble.append(element("span", "dot"));
    const body = element("div", "body");
    body.append(bubble);
    typing.append(avatar, body);
    log.append(typing);
    scrollDown();
  }

  function hideTyping() {
    if (typing) typing.remove();
    typing = null;
  }

  function setStatus(text) {
    status.textContent = text || "";
    status.hidden = !text;
  }

  // ---------------------------------------------------------------- sending

  function newId() {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // Refused for want of the identity cookie (cleared while the page was open): the answer
  // set a new one, so the message is sent once more.
  async function lacksIdentity(response) {
    if (response.status !== 403) return false;
    try {
      return (await response.clone().json()).error === "no_identity";
    } catch {
      return false;
    }
  }

  async function post(text) {
    const body = JSON.stringify({ text, msg_id: newId() });
    const response = await deliver(body);
    return (await lacksIdentity(response)) ? deliver(body) : response;
  }

  async function deliver(body) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await fetch("/chat/api/messages", {
          method: "POST",
          headers: HEADERS,
          body,
          credentials: "same-origin",
        });
      } catch (error) {
        if (attempt >= RETRIES.length) throw error;
        await pause(RETRIES[attempt]);
      }
    }
  }

  async function send(raw) {
    const text = raw.trim();
    if (!text || busy) return false;
    busy = true;
    updateSendButton();
    const mine = { role: "me", text };
    record(mine);
    showTyping();
    let problem = null;
    try {
      const response = await post(text);
      if (response.ok) {
        const data = await response.json();
        hideTyping();
        for (const reply of data.replies || []) {
          record({ role: "bot", text: reply.text, choices: reply.choices || [], urgent: !!reply.urgent });
        }
      } else {
        problem = [413, 422].includes(response.status)
          ? TEXT.tooLong
          : response.status === 403
            ? TEXT.expired
            : TEXT.failed;
      }
    } catch {
      problem = TEXT.failed;
    }
    hideTyping();
    busy = false;
    if (problem) {
      mine.failed = true; // not answered: the buttons above it still work
      record({ role: "note", text: problem });
    }
    refreshChoices();
    updateSendButton();
    return !problem;
  }

  function updateSendButton() {
    sendButton.disabled = busy || !input.value.trim();
  }

  function grow() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 140)}px`;
  }

  async function submit() {
    const text = input.value;
    if (!text.trim() || busy) return;
    input.value = "";
    grow();
    updateSendButton();
    const sent = await send(text);
    if (!sent && !input.value) {
      input.value = text; // give her words back to retry
      grow();
      updateSendButton();
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });

  input.addEventListener("keydown", (event) => {
    // Enter sends; Shift+Enter is a new line; Enter that confirms a Chinese IME choice is not.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submit();
    }
  });

  input.addEventListener("input", () => {
    grow();
    updateSendButton();
  });

  document.getElementById("clear").addEventListener("click", () => {
    if (!window.confirm(TEXT.confirmClear)) return;
    transcript = [];
    save();
    greet();
    renderAll();
  });

  // ---------------------------------------------------------------- pushes

  function pushed(reply) {
    record({ role: "bot", text: reply.text, choices: [], urgent: !!reply.urgent, push: true });
  }

  function listen() {
    if (!("EventSource" in window)) {
      const poll = async () => {
        try {
          const response = await fetch("/chat/api/pending", { headers: HEADERS });
          if (response.ok) ((await response.json()).replies || []).forEach(pushed);
        } catch {
          // try again at the next tick
        }
      };
      poller = setInterval(poll, POLL_MS);
      return;
    }
    source = new EventSource("/chat/api/events");
    source.addEventListener("message", (event) => {
      try {
        pushed(JSON.parse(event.data));
      } catch {
        // a malformed event is skipped
      }
    });
    source.addEventListener("open", () => {
      setStatus("");
      document.body.dataset.live = "1";
    });
    source.addEventListener("error", () => {
      document.body.dataset.live = "0";
      if (source && source.readyState === EventSource.CLOSED) {
        setStatus(TEXT.offline);
        setTimeout(listen, 5000);
      }
    });
  }

  // ---------------------------------------------------------------- quick exit

  // 快速离开: someone may be looking over her shoulder. At once, nothing waits on the network:
  // the conversation leaves the page and the browser's storage, the push stream closes, and the
  // neutral page replaces this one in the tab's history (Back does not come back here). The
  // identity cookie is HttpOnly: the neutral page's answer deletes it.
  function quickExit() {
    gone = true;
    transcript = [];
    forget(() => sessionStorage.removeItem(STORE));
    forget(() => localStorage.removeItem(STORE));
    if (source) source.close();
    if (poller) clearInterval(poller);
    source = null;
    poller = null;
    document.title = "";
    document.body.replaceChildren();
    // Any cookie a script could read (the chat sets none today; its own is HttpOnly).
    for (const pair of document.cookie.split(";")) {
      const name = pair.split("=")[0].trim();
      if (!name) continue;
      for (const path of ["/chat", "/"]) {
        document.cookie = `${name}=; Max-Age=0; path=${path}; SameSite=Lax`;
      }
    }
    window.location.replace(exitPage);
  }

  document.getElementById("exit").addEventListener("click", quickExit);

  function greet() {
    if (!transcript.length && welcome.text) {
      transcript.push({ role: "bot", text: welcome.text, choices: welcome.choices || [] });
      save();
    }
  }

  greet();
  renderAll();
  listen();
})();
