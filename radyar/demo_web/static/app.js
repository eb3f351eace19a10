// The demo page: act as the demo's people in the Bot API sandbox, read their chats and phones,
// move the clock on, act as the hospital. Vanilla JavaScript, no build step, same origin only.
"use strict";

const POLL_MS = 700;
const PHONES_MS = 1500;
const STATE_MS = 1000;

const page = {
  personas: [],
  view: "patient-1", // a persona key, "patients", "hospital" or "staff"
  panes: new Map(), // user id -> pane
  orthanc: false,
};

const $ = (selector, root = document) => root.querySelector(selector);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The server's errors the visitor may meet, in Persian (its own words are English).
const PROBLEMS = {
  no_accession: "شمارهٔ پذیرش (accession number) را بنویسید.",
  no_orthanc: "Orthanc روی این رایانه نصب نیست (apt-get install orthanc).",
  not_admitted: "هیچ بیمار پذیرش‌شده‌ای این شمارهٔ پذیرش را ندارد.",
  no_answer: "شنوندهٔ سامانه پاسخ نداد؛ دوباره امتحان کنید.",
};

const TIMEOUT_MS = 10000; // a request that hangs must not stop the page's polling

async function api(path, options = {}) {
  const response = await fetch(path, {
    headers: { "Content-Type": "application/json" },
    cache: "no-store",
    signal: AbortSignal.timeout(TIMEOUT_MS),
    ...options,
  });
  let body = {};
  try {
    body = await response.json();
  } catch (_) {
    body = {};
  }
  if (!response.ok) {
    throw new Error(PROBLEMS[body.code] || body.error || body.description || `HTTP ${response.status}`);
  }
  return body;
}

const post = (path, data) => api(path, { method: "POST", body: JSON.stringify(data || {}) });

function toast(text, alert = false) {
  const box = $("#toast");
  box.textContent = text;
  box.classList.toggle("alert", alert);
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, alert ? 6000 : 3500);
}

function fail(error) {
  toast(`خطا: ${error.message}`, true);
}

const PERSIAN = "۰۱۲۳۴۵۶۷۸۹";
const persianDigits = (text) => String(text).replace(/[0-9]/g, (d) => PERSIAN[Number(d)]);

const SMS_STATUS = { queued: "در صف", sent: "به اپراتور رسید", delivered: "تحویل شد", undelivered: "تحویل نشد" };

const smsTime = new Intl.DateTimeFormat("fa-IR-u-ca-persian", {
  timeZone: "Asia/Tehran",
  month: "long",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});

// --- rich text: the Bot API's entities (UTF-16 offsets, as JavaScript strings count) ------

function wrap(entity) {
  switch (entity.type) {
    case "bold": return el("b");
    case "italic": return el("i");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "code": return el("code");
    case "pre": return el("pre");
    case "blockquote":
    case "expandable_blockquote": return el("blockquote");
    case "spoiler": {
      const node = el("span", { class: "spoiler", title: "نمایش" });
      node.addEventListener("click", () => node.classList.add("open"));
      return node;
    }
    case "text_link": return el("span", { class: "link", title: entity.url || "" });
    case "url":
    case "email":
    case "phone_number": return el("span", { class: "link" });
    default: return el("span");
  }
}

function rich(text, entities, start = 0, end = text.length) {
  const fragment = document.createDocumentFragment();
  const inside = entities
    .filter((e) => e.offset >= start && e.offset + e.length <= end)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  let position = start;
  for (const entity of inside) {
    if (entity.offset < position) continue; // nested in one already drawn
    fragment.append(text.slice(position, entity.offset));
    const node = wrap(entity);
    const nested = inside.filter((e) => e !== entity
      && e.offset >= entity.offset && e.offset + e.length <= entity.offset + entity.length);
    node.append(rich(text, nested, entity.offset, entity.offset + entity.length));
    fragment.append(node);
    position = entity.offset + entity.length;
  }
  fragment.append(text.slice(position, end));
  return fragment;
}

// --- a chat pane ---------------------------------------------------------------------------

function persona(key) {
  return page.personas.find((p) => p.key === key);
}

function makePane(who) {
  const messages = el("div", { class: "messages", role: "log", "aria-live": "polite" },
    el("p", { class: "empty-chat", text: "برای شروع /start را بفرستید." }));
  const keyboard = el("div", { class: "reply-keyboard" });
  const input = el("input", {
    type: "text", class: "text", placeholder: "پیام…", autocomplete: "off", dir: "auto",
    "aria-label": "پیام",
  });
  const picker = el("input", { type: "file", accept: "image/*,application/pdf", hidden: true });
  const composer = el("form", { class: "composer" },
    el("button", { type: "button", class: "attach", title: "فرستادن عکس یا فایل نسخه", text: "📎 عکس",
      onclick: () => picker.click() }),
    picker,
    el("button", { type: "button", class: "share", title: "فرستادن شمارهٔ خودم", text: "📱 شماره",
      onclick: () => act(who.user_id, "contact", {}) }),
    input,
    el("button", { type: "submit", class: "send", text: "ارسال" }));
  const root = el("div", { class: "chat", dataset: { chat: who.user_id, persona: who.key } },
    el("div", { class: "chat-head" },
      el("span", { class: "avatar", text: "ر" }),
      el("div", { class: "title" }, el("b", { text: "رادیار" }),
        el("small", { text: "ربات نوبت‌دهی تصویربرداری" })),
      el("div", { class: "who" }, `شما: ${who.name}`, el("br"), who.role)),
    messages, keyboard, composer);
  const pane = { who, root, messages, keyboard, input, known: new Map(), keyboardSig: "" };
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    act(who.user_id, "text", { text });
  });
  picker.addEventListener("change", () => {
    const chosen = picker.files[0];
    picker.value = "";
    if (chosen) upload(who.user_id, chosen);
  });
  return pane;
}

async function act(userId, action, body) {
  try {
    const answer = await post(`/sandbox/bot/users/${userId}/${action}`, body);
    refreshSoon(userId);
    return answer.result;
  } catch (error) {
    fail(error);
    return null;
  }
}

function upload(userId, chosen) {
  if (chosen.size > 9 * 1024 * 1024) {
    toast("این فایل بزرگ‌تر از ۹ مگابایت است.", true);
    return;
  }
  const reader = new FileReader();
  reader.onload = () => {
    const data = String(reader.result).split(",", 2)[1] || "";
    const mime = chosen.type || "application/octet-stream";
    if (mime.startsWith("image/")) {
      act(userId, "photo", { data_base64: data, mime_type: mime });
    } else {
      act(userId, "document", { data_base64: data, file_name: chosen.name, mime_type: mime });
    }
  };
  reader.readAsDataURL(chosen);
}

async function press(userId, message, button, node) {
  node.classList.add("busy");
  const query = await act(userId, "press", { message_id: message.id, data: button.data });
  node.classList.remove("busy");
  if (!query) return;
  try {
    const answer = await api(`/sandbox/bot/callbacks/${query}?wait=3`);
    const said = answer.result && answer.result.text;
    if (said) toast(said, Boolean(answer.result.show_alert));
  } catch (_) {
    // no answer in time: the bot answers every press, so the chat shows what happened
  }
}

function drawMessage(pane, message) {
  const bubble = el("div", { class: "bubble" });
  if (message.photo) bubble.append(el("img", { src: message.photo, alt: "عکس", loading: "lazy" }));
  if (message.document) {
    bubble.append(el("a", { class: "file", href: message.document.url, download: message.document.name,
      text: message.document.name, dir: "auto" }));
  }
  if (message.contact) {
    bubble.append(el("div", { class: "contact", dir: "ltr",
      text: `${message.contact.name} ${message.contact.phone}` }));
  }
  if (message.text) {
    const text = el("div", { class: "text", dir: "auto" });
    text.append(rich(message.text, message.entities || []));
    bubble.append(text);
  }
  bubble.append(el("div", { class: "meta" },
    message.edited ? el("span", { class: "edited", text: "ویرایش‌شده" }) : null,
    el("span", { text: message.time })));
  const node = el("div", { class: `msg ${message.out ? "out" : "in"}`, dataset: { id: message.id } }, bubble);
  if (message.buttons && message.buttons.length) {
    const rows = el("div", { class: "inline" });
    for (const row of message.buttons) {
      const line = el("div", { class: "inline-row" });
      for (const button of row) {
        if (button.data) {
          const b = el("button", { type: "button", text: button.text });
          b.addEventListener("click", () => press(pane.who.user_id, message, button, b));
          line.append(b);
        } else {
          line.append(el("span", { class: "url-button", title: button.url || "", text: `${button.text} ↗` }));
        }
      }
      rows.append(line);
    }
    node.append(rows);
  }
  return node;
}

function drawKeyboard(pane, keyboard) {
  const signature = JSON.stringify(keyboard || null);
  if (signature === pane.keyboardSig) return;
  pane.keyboardSig = signature;
  pane.keyboard.replaceChildren();
  pane.input.placeholder = (keyboard && keyboard.input_field_placeholder) || "پیام…";
  if (!keyboard || !keyboard.keyboard) return;
  for (const row of keyboard.keyboard) {
    const line = el("div", { class: "row" });
    for (const button of row) {
      const label = typeof button === "string" ? button : button.text;
      const contact = typeof button === "object" && button.request_contact;
      line.append(el("button", {
        type: "button", class: contact ? "contact-button" : null, text: contact ? `📱 ${label}` : label,
        dataset: { label },
        onclick: () => act(pane.who.user_id, "keyboard", { text: label }),
      }));
    }
    pane.keyboard.append(line);
  }
}

function drawChat(pane, chat) {
  const box = pane.messages;
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  let grew = false;
  const seen = new Set();
  for (const message of chat.messages) {
    seen.add(message.id);
    const signature = JSON.stringify(message);
    const known = pane.known.get(message.id);
    if (known && known.signature === signature) continue;
    const node = drawMessage(pane, message);
    if (known) {
      node.classList.add("changed"); // an edit, shown where the message was
      known.node.replaceWith(node);
    } else {
      const later = [...pane.known.entries()].filter(([id]) => id > message.id)
        .sort(([a], [b]) => a - b)[0];
      if (later) box.insertBefore(node, later[1].node);
      else box.append(node);
      grew = true;
    }
    pane.known.set(message.id, { signature, node });
  }
  for (const [id, known] of [...pane.known.entries()]) {
    if (!seen.has(id)) {
      known.node.remove();
      pane.known.delete(id);
    }
  }
  const empty = $(".empty-chat", box);
  if (empty && pane.known.size) empty.remove();
  drawKeyboard(pane, chat.keyboard);
  if (grew || nearBottom || pane.toBottom) box.scrollTop = box.scrollHeight;
  pane.toBottom = false;
}

// One read of a chat at a time: an older answer drawn after a newer one would turn an edited
// message back and forth.
function refreshChat(pane) {
  if (pane.loading) {
    pane.again = true;
    return pane.loading;
  }
  pane.loading = (async () => {
    try {
      do {
        pane.again = false;
        drawChat(pane, await api(`/api/chats/${pane.who.user_id}`));
      } while (pane.again);
    } finally {
      pane.loading = null;
    }
  })();
  return pane.loading;
}

function refreshSoon(userId) {
  const pane = page.panes.get(Number(userId));
  if (!pane) return;
  for (const delay of [150, 450, 1000]) {
    setTimeout(() => refreshChat(pane).catch(() => {}), delay);
  }
}

// --- which view ----------------------------------------------------------------------------

function visibleKeys() {
  if (page.view === "patients") return page.personas.filter((p) => p.kind === "patient").map((p) => p.key);
  if (persona(page.view)) return [page.view];
  return [];
}

function show(view) {
  page.view = view;
  for (const tab of document.querySelectorAll(".tab")) {
    const key = tab.dataset.persona || tab.dataset.view;
    tab.setAttribute("aria-selected", String(key === view));
  }
  const keys = visibleKeys();
  const chats = $("#chats");
  chats.hidden = keys.length === 0;
  const wanted = new Set(keys.map((k) => persona(k).user_id));
  for (const [id, pane] of page.panes) {
    if (!wanted.has(id)) {
      pane.root.remove();
    }
  }
  for (const key of keys) {
    const who = persona(key);
    let pane = page.panes.get(who.user_id);
    if (!pane) {
      pane = makePane(who);
      page.panes.set(who.user_id, pane);
    }
    chats.append(pane.root); // in the tabs' order
    pane.toBottom = true; // a pane put back starts scrolled to the top
    refreshChat(pane).catch(() => {});
  }
  $("#hospital-view").hidden = view !== "hospital";
  $("#staff-view").hidden = view !== "staff";
  if (view === "hospital") refreshHospital().catch(fail);
  if (view === "staff") refreshStaff().catch(fail);
  drawPhonesOrder();
}

function drawTabs() {
  const holder = $("#persona-tabs");
  holder.replaceChildren(...page.personas.map((p) => el("button", {
    type: "button", class: "tab", dataset: { persona: p.key }, role: "tab",
    onclick: () => show(p.key),
  }, p.name, el("small", { text: p.role }))));
  for (const tab of document.querySelectorAll(".tab[data-view]")) {
    tab.addEventListener("click", () => show(tab.dataset.view));
  }
}

// --- the clock -----------------------------------------------------------------------------

function drawState(state) {
  $("#clock-date").textContent = state.date;
  $("#clock-time").textContent = state.time;
  page.orthanc = state.orthanc;
}

async function refreshState() {
  drawState(await api("/api/state"));
}

function wireClock() {
  for (const button of document.querySelectorAll("[data-step]")) {
    button.addEventListener("click", async () => {
      const all = document.querySelectorAll("[data-step]");
      all.forEach((b) => { b.disabled = true; });
      try {
        drawState(await post("/api/clock", { step: button.dataset.step }));
        toast(`ساعت جلو رفت: ${$("#clock-date").textContent} ${$("#clock-time").textContent}`);
      } catch (error) {
        fail(error);
      } finally {
        all.forEach((b) => { b.disabled = false; });
      }
    });
  }
}

// --- phones --------------------------------------------------------------------------------

const phoneFrames = new Map(); // mobile -> { root, list, signature }

function phoneFrame(mobile) {
  let frame = phoneFrames.get(mobile);
  if (frame) return frame;
  const owner = page.personas.find((p) => p.mobile === mobile);
  const list = el("div", { class: "sms-list" }, el("p", { class: "no-sms", text: "هنوز پیامکی نرسیده است." }));
  const root = el("div", { class: "phone", dataset: { mobile } },
    el("div", { class: "phone-head" }, el("span", { dir: "ltr", text: persianDigits(mobile) }),
      el("small", { text: owner ? `${owner.name} (${owner.role})` : "گوشی دیگری" })),
    list);
  frame = { root, list, signature: "" };
  phoneFrames.set(mobile, frame);
  $("#phones").append(root);
  return frame;
}

function drawPhonesOrder() {
  const mine = persona(page.view);
  for (const [mobile, frame] of phoneFrames) {
    frame.root.classList.toggle("mine", Boolean(mine && mine.mobile === mobile));
  }
  if (mine && phoneFrames.has(mine.mobile)) {
    $("#phones").prepend(phoneFrames.get(mine.mobile).root);
  }
}

async function refreshPhones() {
  const answer = await api("/sandbox/sms/messages");
  const byMobile = new Map();
  for (const message of answer.result || []) {
    if (!byMobile.has(message.mobile)) byMobile.set(message.mobile, []);
    byMobile.get(message.mobile).push(message);
  }
  for (const [mobile, messages] of byMobile) {
    const frame = phoneFrame(mobile);
    const signature = JSON.stringify(messages.map((m) => [m.id, m.status]));
    if (signature === frame.signature) continue;
    frame.signature = signature;
    frame.list.replaceChildren(...messages.slice().reverse().map((m) => el("div", { class: "sms", dataset: { id: m.id } },
      el("div", { dir: "auto", text: m.text }),
      el("div", { class: "meta" }, el("span", { text: `از ${persianDigits(m.sender || "")}` }),
        el("span", { text: `${smsTime.format(new Date(m.time * 1000))} · ${SMS_STATUS[m.status] || m.status}` })))));
  }
  drawPhonesOrder();
}

// --- the hospital --------------------------------------------------------------------------

async function refreshHospital() {
  const answer = await api("/api/hospital");
  const body = $("#admitted tbody");
  body.replaceChildren(...answer.admitted.map((a) => el("tr", { dataset: { accession: a.accession } },
    el("td", { text: a.time }), el("td", { text: a.patient }), el("td", { text: a.exam }),
    el("td", { dir: "ltr", text: a.booking_code }), el("td", { dir: "ltr", text: a.accession }),
    el("td", {}, el("button", { type: "button", text: "انتخاب",
      onclick: () => { $("#accession").value = a.accession; } })))));
  $("#admitted-empty").hidden = answer.admitted.length > 0;
  const input = $("#accession");
  if (!input.value && answer.admitted.length) input.value = answer.admitted[answer.admitted.length - 1].accession;
  $("#images-button").hidden = !answer.orthanc;
  $("#no-orthanc").hidden = answer.orthanc;
}

function wireHospital() {
  for (const button of document.querySelectorAll("[data-hospital]")) {
    button.addEventListener("click", async () => {
      const accession = $("#accession").value.trim();
      const log = $("#hospital-log");
      const label = button.firstChild.textContent.trim();
      button.disabled = true;
      try {
        const answer = await post(`/api/hospital/${button.dataset.hospital}`, {
          accession, corrected: button.dataset.corrected === "1",
        });
        log.prepend(el("li", {}, `${label} — ${accession}: `, el("code", { text: answer.answer })));
        toast(`${label}: فرستاده شد`);
      } catch (error) {
        log.prepend(el("li", { class: "bad", text: `${label}: ${error.message}` }));
        fail(error);
      } finally {
        button.disabled = false;
      }
    });
  }
}

// --- the staff page ------------------------------------------------------------------------

async function refreshStaff() {
  const answer = await api("/api/staff");
  $("#staff-day").textContent = `امروز: ${answer.day}`;
  const empty = answer.devices.filter((d) => !d.rows.length);
  const busy = answer.devices.filter((d) => d.rows.length);
  $("#daylists").replaceChildren(...busy.map((d) => {
    const table = el("table", { class: "table device", dataset: { device: d.device } },
      el("caption", {}, `${d.device} `, el("small", { text: d.room })),
      el("thead", {}, el("tr", {}, ...["ساعت", "بیمار", "آزمون", "وضعیت", "روش نوبت‌دهی", "کد نوبت"]
        .map((h) => el("th", { text: h })))),
      el("tbody", {}, ...d.rows.map((r) => el("tr", {},
        el("td", { text: r.time }), el("td", { text: r.patient }), el("td", { text: r.exam }),
        el("td", { text: r.status }), el("td", { text: r.channel }), el("td", { text: r.code }))),
    ));
    return table;
  }), el("p", { class: "empty" }, busy.length ? "" : "امروز هنوز نوبتی نیست. ",
    empty.length ? `بدون نوبت امروز: ${empty.map((d) => d.device).join("، ")}` : ""));
  const share = answer.share;
  $("#share-range").textContent = `نوبت‌های ${share.from} تا ${share.to}`;
  const head = [share.headings.modality, ...share.columns, share.headings.total,
    share.headings.electronic, share.headings.share];
  const line = (r) => el("tr", {}, el("td", { text: r.label }), ...r.counts.map((c) => el("td", { text: c })),
    el("td", { text: r.total }), el("td", { text: r.electronic }), el("td", { text: r.share }));
  $("#share").replaceChildren(
    el("table", { class: "table" },
      el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { text: h })))),
      el("tbody", {}, ...share.rows.map(line), line(share.total))),
    el("p", { class: "summary", text: share.summary }));
}

// --- polling -------------------------------------------------------------------------------

async function every(ms, work) {
  for (;;) {
    try {
      await work();
    } catch (error) {
      console.warn(`will try again: ${error.message}`); // the demo may be starting or stopping
    }
    await sleep(ms);
  }
}

async function start() {
  const state = await api("/api/state");
  page.personas = state.personas;
  drawState(state);
  drawTabs();
  wireClock();
  wireHospital();
  for (const p of page.personas) phoneFrame(p.mobile);
  show(page.view);
  every(POLL_MS, async () => {
    await Promise.all([...page.panes.values()].filter((p) => p.root.isConnected).map(refreshChat));
  });
  every(STATE_MS, refreshState);
  every(PHONES_MS, refreshPhones);
  every(3000, async () => {
    if (page.view === "hospital") await refreshHospital();
    if (page.view === "staff") await refreshStaff();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  start().catch((error) => {
    document.body.prepend(el("p", { class: "note", text: `صفحه آماده نشد: ${error.message}` }));
  });
});
