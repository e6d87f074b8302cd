// The playground's chat page. Bot messages arrive as Telegram keeps them: plain text plus
// entities. The DOM is built from text nodes and a fixed set of elements, never from HTML,
// so whatever a feed put in a title shows as text.
"use strict";

const POLL_MS = 400;
const STATUS_MS = 5000;
// Below this width the page shows the chat list or one chat, as Telegram Web does.
const NARROW = "(max-width: 700px)";
const COLORS = ["#e17076", "#7bc862", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb", "#faa774"];

const page = {
  bot: null,
  chats: [],
  commands: [],
  current: null,
  version: null,
  senders: {},
  language: "en",
  revealed: new Set(),
  suggestion: -1,
  rulesAsked: 0,
};

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function request(path, body) {
  const options = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `The playground answered ${response.status}.`);
  return data;
}

function toast(text, alert) {
  const box = $("toast");
  box.textContent = text;
  box.classList.toggle("alert", Boolean(alert));
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, alert ? 6000 : 2500);
}

// ---------------------------------------------------------------- entities to DOM

function safeUrl(href) {
  try {
    const url = new URL(href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch (error) {
    return null;
  }
}

function entityElement(entity, text, messageId) {
  const key = `${messageId}:${entity.offset}`;
  switch (entity.type) {
    case "bold": return el("strong");
    case "italic": return el("em");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "code": return el("code");
    case "pre": {
      const pre = el("pre");
      if (entity.language) pre.dataset.language = entity.language;
      return pre;
    }
    case "blockquote": return el("blockquote");
    case "expandable_blockquote": {
      const quote = el("blockquote", "expandable");
      quote.addEventListener("click", () => quote.classList.add("open"));
      return quote;
    }
    case "spoiler": {
      const spoiler = el("span", "spoiler");
      if (page.revealed.has(key)) spoiler.classList.add("revealed");
      spoiler.addEventListener("click", () => {
        spoiler.classList.add("revealed");
        page.revealed.add(key);
      });
      return spoiler;
    }
    case "text_link":
    case "url": {
      const href = safeUrl(entity.type === "url" ? text : entity.url);
      if (!href) return el("span");
      const link = el("a");
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      return link;
    }
    case "bot_command": {
      const link = el("a", "command");
      link.addEventListener("click", () => sendText(text));
      return link;
    }
    default: return el("span");
  }
}

// Entities nest (the parser guarantees it), sorted by offset and then longest first.
function appendEntities(parent, text, entities, start, end, messageId) {
  let position = start;
  let index = 0;
  while (index < entities.length) {
    const entity = entities[index];
    const entityEnd = entity.offset + entity.length;
    let next = index + 1;
    while (next < entities.length && entities[next].offset < entityEnd) next += 1;
    if (entity.offset > position) parent.append(text.slice(position, entity.offset));
    const node = entityElement(entity, text.slice(entity.offset, entityEnd), messageId);
    appendEntities(node, text, entities.slice(index + 1, next), entity.offset, entityEnd, messageId);
    parent.append(node);
    position = Math.max(position, entityEnd);
    index = next;
  }
  if (position < end) parent.append(text.slice(position, end));
}

function renderText(message) {
  const body = el("div", "text");
  const entities = [...message.entities].sort((a, b) => a.offset - b.offset || b.length - a.length);
  appendEntities(body, message.text, entities, 0, message.text.length, message.id);
  return body;
}

// ---------------------------------------------------------------- messages

function timeText(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function keyboard(message) {
  const box = el("div", "keyboard");
  for (const row of message.buttons) {
    const line = el("div", "kb-row");
    for (const button of row) {
      const href = button.url ? safeUrl(button.url) : null;
      if (href) {
        const link = el("a", "", button.text);
        link.href = href;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        line.append(link);
      } else {
        const press = el("button", "", button.text);
        press.type = "button";
        press.addEventListener("click", () => pressButton(message.id, button.data));
        line.append(press);
      }
    }
    box.append(line);
  }
  return box;
}

function previewCard(preview) {
  // A large preview is a picture, as Telegram draws it; one that fails to load leaves the
  // site and link, as Telegram shows a preview it could not fetch.
  const card = el("div", preview.picture ? "preview picture" : "preview");
  if (preview.picture) {
    const image = document.createElement("img");
    image.src = preview.url;
    image.alt = "";
    image.loading = "lazy";
    image.addEventListener("error", () => image.remove());
    card.append(image);
  }
  card.append(el("div", "site", preview.site), el("div", "link", preview.url));
  return card;
}

function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function documentCard(file) {
  // As Telegram shows a file: its name and size, and a way to save it.
  const card = el("a", "document");
  card.href = file.url;
  card.download = file.name;
  card.append(el("span", "icon", "📄"));
  const about = el("span", "about");
  about.append(el("span", "name", file.name), el("span", "size", sizeText(file.size)));
  card.append(about);
  return card;
}

function messageRow(message, chat) {
  const row = el("div", `row ${message.from_bot ? "in" : "out"}`);
  row.dataset.messageId = message.id;
  const bubble = el("div", "bubble");
  if (!message.from_bot && chat.kind !== "private") {
    bubble.append(el("div", "sender", message.sender));
  }
  if (message.from_bot && chat.kind !== "private") {
    bubble.append(el("div", "sender", page.bot.name));
  }
  const meta = el("span", "meta", `${message.edited ? "edited " : ""}${timeText(message.date)}`);
  if (message.document) bubble.append(documentCard(message.document));
  const text = message.document
    ? renderText({ ...message, text: message.caption, entities: [] })
    : renderText(message);
  text.append(meta);
  const preview = message.preview && previewCard(message.preview);
  if (preview && message.preview.above) bubble.append(preview);
  bubble.append(text);
  if (preview && !message.preview.above) bubble.append(preview);
  row.append(bubble);
  if (message.buttons.length) row.append(keyboard(message));
  return row;
}

function renderMessages(messages) {
  const box = $("messages");
  const chat = page.current;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  box.replaceChildren();
  if (!messages.length) {
    const hint = chat.kind === "channel"
      ? "A channel: posts come from the channel itself. Post /subscribe to get digests here."
      : "No messages yet. Type /start, or / for the bot's command menu.";
    box.append(el("div", "service", hint));
  }
  for (const message of messages) box.append(messageRow(message, chat));
  if (atBottom || messages.length <= 1) box.scrollTop = box.scrollHeight;
}

async function poll() {
  const chat = page.current;
  try {
    const since = page.version === null ? "" : `?since=${page.version}`;
    const data = await request(`/api/chats/${chat.key}/messages${since}`);
    if (chat === page.current) {
      page.version = data.version;
      if (data.messages !== null) {
        renderMessages(data.messages);
        refreshRules();
      }
    }
  } catch (error) {
    $("status").textContent = `The playground stopped answering: ${error.message}`;
  }
  setTimeout(poll, POLL_MS);
}

async function refreshStatus() {
  try {
    const status = await request("/api/status");
    const failing = status.failing ? ` (${status.failing} failing)` : "";
    const lastPoll = status.last_poll ? `last poll ${status.last_poll}` : "no feed poll yet";
    $("status").textContent =
      `Store: ${status.articles} items · ${status.sources} feeds${failing} · ${lastPoll}`;
  } catch (error) {
    $("status").textContent = `Status unavailable: ${error.message}`;
  }
  setTimeout(refreshStatus, STATUS_MS);
}

// ---------------------------------------------------------------- rules, alerts, quiet hours

const FIELD_WORDS = { title: "in titles", text: "in texts" };

function clockText(iso) {
  // The API gives times in the chat's own zone: the wall clock there is what the chat sees.
  const found = /T(\d{2}:\d{2})/.exec(iso || "");
  return found ? found[1] : "";
}

function counted(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

function ruleItem(rule) {
  // As /filters numbers it (the number /unfilter takes), labelled with the word users type.
  const item = el("li", `rule ${rule.action}`);
  const action = rule.action === "alert" ? "🔔 alert" : rule.action;
  item.append(el("span", "number", `${rule.number}.`), el("span", "action", action), " ");
  item.append(el("code", "pattern", rule.pattern));
  const details = [];
  if (rule.kind === "regex") details.push("regular expression");
  if (FIELD_WORDS[rule.field]) details.push(FIELD_WORDS[rule.field]);
  if (rule.source_id !== null) details.push(`source ${rule.source_id}`);
  if (details.length) item.append(" ", el("span", "details", details.join(" · ")));
  return item;
}

function quietText(settings) {
  if (!settings.quiet_hours) return "No quiet hours: alerts come at any time. /quiet 22:00-07:00 sets them.";
  const [start, end] = settings.quiet_hours.split("-");
  let text = `Quiet hours ${start}–${end} (${settings.timezone})`;
  if (settings.quiet_now) text += ` · quiet now until ${clockText(settings.quiet_until)}`;
  text += settings.digests_silent ? " · digests in them arrive silently" : " · digests keep their sound";
  return text;
}

function alertsText(alerts) {
  let text = `${counted(alerts.sent_today, "alert", "alerts")} sent today, ${alerts.waiting} waiting`;
  if (alerts.next_due) text += ` · next at ${clockText(alerts.next_due)}`;
  return text;
}

function renderRules(settings) {
  const list = $("rules-list");
  list.replaceChildren(...settings.rules.map(ruleItem));
  if (!settings.rules.length) {
    list.append(el("li", "empty", "No rules yet: /filter, /follow, /mute and /alert add them."));
  }
  $("rules-quiet").textContent = quietText(settings);
  $("rules-alerts").textContent = settings.alerts ? alertsText(settings.alerts) : "";
  $("rules-alerts").hidden = !settings.alerts;
}

// Asked again whenever the chat's messages change: a command's reply means it is stored.
async function refreshRules() {
  const chat = page.current;
  if ($("rules").hidden || !chat) return;
  page.rulesAsked += 1;
  const asked = page.rulesAsked;
  try {
    const settings = await request(`/api/chats/${chat.key}/rules`);
    if (chat === page.current && asked === page.rulesAsked) renderRules(settings);
  } catch (error) {
    if (chat === page.current) $("rules-quiet").textContent = `Rules unavailable: ${error.message}`;
  }
}

function toggleRules() {
  const panel = $("rules");
  panel.hidden = !panel.hidden;
  $("rules-toggle").setAttribute("aria-expanded", String(!panel.hidden));
  refreshRules();
}

// ---------------------------------------------------------------- what the user does

function sender() {
  return page.senders[page.current.key] || undefined;
}

async function sendText(text) {
  const chat = page.current;
  try {
    await request(`/api/chats/${chat.key}/messages`, {
      text, sender: sender(), language: page.language,
    });
    page.version = null;
  } catch (error) {
    toast(error.message, true);
  }
}

async function sendFile(file) {
  const chat = page.current;
  const form = new FormData();
  form.append("file", file, file.name);
  if (sender()) form.append("sender", sender());
  form.append("language", page.language);
  try {
    // The custom header keeps other sites from posting files here (it needs a preflight).
    const response = await fetch(`/api/chats/${chat.key}/documents`, {
      method: "POST", headers: { "X-Playground": "1" }, body: form,
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `The playground answered ${response.status}.`);
    page.version = null;
  } catch (error) {
    toast(error.message, true);
  }
}

async function pressButton(messageId, data) {
  try {
    const answer = await request(`/api/chats/${page.current.key}/buttons`, {
      message_id: messageId, data, sender: sender(), language: page.language,
    });
    if (answer.text) toast(answer.text, answer.show_alert);
  } catch (error) {
    toast(error.message, true);
  }
}

async function sendDigestNow() {
  const button = $("digest");
  button.disabled = true;
  try {
    const result = await request(`/api/chats/${page.current.key}/digest`, {});
    toast(result.note);
  } catch (error) {
    toast(error.message, true);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- command menu

function matchingCommands() {
  const value = $("text").value;
  if (!value.startsWith("/") || /\s/.test(value)) return [];
  const typed = value.slice(1).toLowerCase();
  return page.commands.filter((c) => c.command.startsWith(typed));
}

function showSuggestions(all) {
  const box = $("suggestions");
  const commands = all ? page.commands : matchingCommands();
  box.replaceChildren();
  page.suggestion = -1;
  for (const command of commands) {
    const option = el("button");
    option.type = "button";
    option.setAttribute("role", "option");
    option.append(el("span", "cmd", `/${command.command}`), el("span", "about", command.description));
    option.addEventListener("mousedown", (event) => {
      event.preventDefault();
      $("text").value = `/${command.command} `;
      hideSuggestions();
      $("text").focus();
    });
    box.append(option);
  }
  box.hidden = commands.length === 0;
}

function hideSuggestions() {
  $("suggestions").hidden = true;
  page.suggestion = -1;
}

function moveSuggestion(step) {
  const options = [...$("suggestions").children];
  if (!options.length) return;
  page.suggestion = (page.suggestion + step + options.length) % options.length;
  options.forEach((option, i) => option.classList.toggle("active", i === page.suggestion));
}

// ---------------------------------------------------------------- chats

function chatAbout(chat) {
  if (chat.kind === "private") {
    return chat.key === "ada" ? "private chat · Ada is one of the bot's administrators" : "private chat";
  }
  const admins = chat.admins.length ? ` · admins: ${chat.admins.join(", ")}` : "";
  if (chat.kind === "channel") return `channel${admins}`;
  const topic = chat.topic ? ` · topic # ${chat.topic}` : "";
  return `group · ${chat.members.length} members${admins}${topic}`;
}

function selectChat(chat) {
  page.current = chat;
  page.version = null;
  for (const item of document.querySelectorAll(".chat-item")) {
    item.classList.toggle("active", item.dataset.key === chat.key);
  }
  $("chat-title").textContent = chat.topic ? `${chat.title} › # ${chat.topic}` : chat.title;
  $("chat-about").textContent = chatAbout(chat);
  const select = $("sender");
  select.replaceChildren();
  for (const member of chat.members) {
    const admin = chat.admins.includes(member.name) ? " (admin)" : "";
    const option = el("option", "", `${member.name}${admin}`);
    option.value = member.key;
    select.append(option);
  }
  select.value = page.senders[chat.key] || (chat.members[0] && chat.members[0].key) || "";
  $("sender-label").hidden = chat.members.length < 2;
  $("text").placeholder = chat.kind === "channel" ? `Post as ${chat.title}` : "Message";
  $("messages").replaceChildren();
  // Another chat's rules never show under this one's title, even for a moment.
  $("rules-list").replaceChildren();
  $("rules-quiet").textContent = "";
  $("rules-alerts").textContent = "";
  refreshRules();
  $("attach").hidden = chat.kind === "channel";
  document.body.classList.add("chat-open");
  hideSuggestions();
  $("text").focus();
}

function renderChatList() {
  const nav = $("chats");
  page.chats.forEach((chat, index) => {
    const item = el("button", "chat-item");
    item.type = "button";
    item.dataset.key = chat.key;
    const avatar = el("div", "avatar", chat.title.slice(0, 1));
    avatar.style.background = COLORS[index % COLORS.length];
    const label = el("div");
    const kind = { private: "private chat", supergroup: chat.topic ? `forum topic # ${chat.topic}` : "group", channel: "channel" }[chat.kind];
    label.append(el("div", "name", chat.title), el("div", "kind", kind));
    item.append(avatar, label);
    item.addEventListener("click", () => selectChat(chat));
    nav.append(item);
  });
}

// The language a Telegram app reports is the app's own; start from the browser's.
function firstLanguage(languages) {
  const codes = languages.map((language) => language.code);
  const saved = localStorage.getItem("newsbot-playground-language");
  if (codes.includes(saved)) return saved;
  const browser = (navigator.language || "en").split("-")[0].toLowerCase();
  return codes.includes(browser) ? browser : "en";
}

async function loadCommands() {
  const state = await request(`/api/state?language=${encodeURIComponent(page.language)}`);
  page.commands = state.commands;
}

function renderLanguages(languages) {
  const select = $("language");
  languages.forEach((language) => {
    const option = el("option", "", language.name);
    option.value = language.code;
    select.append(option);
  });
  select.value = page.language;
  select.addEventListener("change", async (event) => {
    page.language = event.target.value;
    localStorage.setItem("newsbot-playground-language", page.language);
    await loadCommands().catch((error) => toast(error.message, true));
  });
}

async function start() {
  const state = await request("/api/state");
  page.bot = state.bot;
  page.chats = state.chats;
  page.language = firstLanguage(state.languages);
  renderLanguages(state.languages);
  await loadCommands();
  document.title = `${state.bot.name} · newsbot playground`;
  renderChatList();
  selectChat(page.chats[0]);
  // On a phone the page opens on the list, as Telegram does; a wide screen shows both.
  if (window.matchMedia(NARROW).matches) document.body.classList.remove("chat-open");
  $("back").addEventListener("click", () => document.body.classList.remove("chat-open"));
  $("attach").addEventListener("click", () => $("file").click());
  $("file").addEventListener("change", (event) => {
    const [file] = event.target.files;
    event.target.value = "";
    if (file) sendFile(file);
  });

  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("text");
    const options = [...$("suggestions").children];
    if (!$("suggestions").hidden && page.suggestion >= 0) {
      options[page.suggestion].dispatchEvent(new MouseEvent("mousedown"));
      return;
    }
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    hideSuggestions();
    sendText(text);
  });
  $("text").addEventListener("input", () => showSuggestions(false));
  $("text").addEventListener("blur", hideSuggestions);
  $("text").addEventListener("keydown", (event) => {
    if ($("suggestions").hidden) return;
    if (event.key === "ArrowDown") { event.preventDefault(); moveSuggestion(1); }
    if (event.key === "ArrowUp") { event.preventDefault(); moveSuggestion(-1); }
    if (event.key === "Escape") hideSuggestions();
  });
  $("menu").addEventListener("mousedown", (event) => {
    event.preventDefault();
    if ($("suggestions").hidden) showSuggestions(true); else hideSuggestions();
    $("text").focus();
  });
  $("sender").addEventListener("change", (event) => {
    page.senders[page.current.key] = event.target.value;
  });
  $("digest").addEventListener("click", sendDigestNow);
  $("rules-toggle").addEventListener("click", toggleRules);
  // The menu is set once the bot has started; fetch it again in case the page was first.
  if (!page.commands.length) {
    setTimeout(() => loadCommands().catch(() => {}), 2000);
  }
  poll();
  refreshStatus();
}

start().catch((error) => { $("status").textContent = `Could not load the playground: ${error.message}`; });
