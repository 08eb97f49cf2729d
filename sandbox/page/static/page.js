// Afisha sandbox page: polls the sandbox every 2 s and renders what followers see.
// Text always goes in through text nodes (never parsed as HTML), links only with safe schemes.
"use strict";

const POLL_MS = 2000;
const PLATFORMS = ["telegram", "facebook", "instagram"];
const page = {
  data: null,
  chosen: {},        // platform -> account id the visitor picked
  rendered: {},      // post key -> {sig, node}
  chatUser: null,
  chatSig: "",
  timer: null,
};

// --- small DOM helpers -----------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function safeUrl(raw) {
  try {
    const url = new URL(raw, window.location.href);
    return ["http:", "https:", "tg:", "mailto:"].includes(url.protocol) ? url.href : null;
  } catch (_error) {
    return null;
  }
}

function link(href, text, cls) {
  const safe = safeUrl(href);
  if (!safe) return el("span", { class: cls, text });
  return el("a", { class: cls, href: safe, target: "_blank", rel: "noopener noreferrer", text });
}

function icon(name) {
  return el("span", { class: `icon icon-${name}`, "aria-hidden": "true" });
}

function avatar(name) {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.codePointAt(0)) % 360;
  const initials = name.replace(/[^\p{L}\p{N} ]/gu, " ").trim().split(/\s+/)
    .slice(0, 2).map((w) => w[0] || "").join("").toUpperCase() || "?";
  return el("span", { class: "avatar", style: `background: hsl(${hash} 55% 45%)`, "aria-hidden": "true", text: initials });
}

// --- numbers and times, as the platforms show them -------------------------------------------

function compact(n) {
  if (n < 1000) return String(n);
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0).replace(/\.0$/, "")}K`;
  return `${(n / 1e6).toFixed(1).replace(/\.0$/, "")}M`;
}

function ago(timestamp, now) {
  const seconds = Math.max(0, now - timestamp);
  if (seconds < 60) return "just now";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h`;
  const days = Math.floor(hours / 24);
  return `${days} d`;
}

function clockTime(timestamp) {
  return new Date(timestamp * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function fullDate(timestamp) {
  return new Date(timestamp * 1000).toLocaleString([], {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
  });
}

function agoText(timestamp, now) {
  const text = ago(timestamp, now);
  return text === "just now" ? text : `${text} ago`;
}

function plural(n, one, many) {
  return `${compact(n)} ${n === 1 ? one : many}`;
}

// --- formatted text: Telegram entities (UTF-16 offsets, as JS strings count) --------------------

function entityNode(entity, text) {
  switch (entity.type) {
    case "bold": return el("strong");
    case "italic": return el("em");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "code": return el("code");
    case "pre": return el("pre");
    case "blockquote": case "expandable_blockquote": return el("blockquote");
    case "spoiler": {
      const node = el("span", { class: "spoiler", title: "Spoiler: click to reveal" });
      node.addEventListener("click", () => node.classList.add("shown"));
      return node;
    }
    case "text_link": return link(entity.url, "", "");
    case "url": return link(/^[a-z]+:/i.test(text) ? text : `https://${text}`, "", "");
    case "email": return link(`mailto:${text}`, "", "");
    case "mention": return link(`https://t.me/${text.slice(1)}`, "", "");
    case "hashtag": case "cashtag": return el("span", { class: "hashtag" });
    default: return el("span", { class: `entity-${entity.type}` });
  }
}

function renderText(text, entities) {
  const sorted = [...(entities || [])].sort((a, b) => a.offset - b.offset || b.length - a.length);
  const build = (start, end, list) => {
    const fragment = document.createDocumentFragment();
    let pos = start;
    let i = 0;
    while (i < list.length) {
      const entity = list[i];
      const stop = Math.min(entity.offset + entity.length, end);
      if (entity.offset < pos) { i += 1; continue; }  // overlaps what is already drawn
      let j = i + 1;
      while (j < list.length && list[j].offset < stop) j += 1;
      fragment.append(text.slice(pos, entity.offset));
      const node = entityNode(entity, text.slice(entity.offset, stop));
      node.append(build(entity.offset, stop, list.slice(i + 1, j)));
      fragment.append(node);
      pos = stop;
      i = j;
    }
    fragment.append(text.slice(pos, end));
    return fragment;
  };
  return el("div", { class: "text" }, build(0, text.length, sorted));
}

// Facebook and Instagram have no entities: hashtags and links are found in the text.
function autoEntities(text) {
  const found = [];
  for (const match of text.matchAll(/#[\p{L}\p{N}_]+|https?:\/\/[^\s]+/gu)) {
    found.push({ type: match[0][0] === "#" ? "hashtag" : "url", offset: match.index, length: match[0].length });
  }
  return found;
}

function images(list, alt) {
  if (!list.length) return null;
  return el("div", { class: list.length === 1 ? "images one" : "images" },
    list.map((image) => el("img", {
      src: image.url, alt, loading: "lazy", width: image.width, height: image.height,
    })));
}

function files(list) {
  if (!list.length) return null;
  return el("div", { class: "files" }, list.map((f) => {
    const node = link(f.url, ` ${f.name}`, "file");
    node.prepend(icon("file"));
    return node;
  }));
}

// --- inline keyboards (posts and chat) ----------------------------------------------------------

function keyboard(rows, onCallback) {
  if (!rows || !rows.length) return null;
  return el("div", { class: "inline-keyboard" }, rows.map((row) => el("div", { class: "keyboard-row" },
    row.map((button) => {
      if (button.url) return link(button.url, button.text, "inline-button url");
      if (button.callback_data !== undefined && onCallback) {
        return el("button", {
          type: "button", class: "inline-button", "data-callback": button.callback_data, text: button.text,
          onclick: (event) => onCallback(button, event.currentTarget),
        });
      }
      return el("button", { type: "button", class: "inline-button", disabled: true, text: button.text });
    }))));
}

// --- posts --------------------------------------------------------------------------------------

function telegramPost(feed, post, now) {
  const counts = post.counts;
  const meta = [post.edited ? "edited" : null, clockTime(post.timestamp)].filter(Boolean).join(" · ");
  const bubble = el("div", { class: "tg-bubble" },
    images(post.images, post.text || feed.name),
    feed.kind === "channel" ? null : el("div", { class: "tg-channel", text: feed.name }),
    post.text ? renderText(post.text, post.entities) : null,
    files(post.files),
    el("div", { class: "tg-foot" },
      el("div", { class: "reactions" }, counts.reactions.map((r) => el("span", { class: "reaction", text: `${r.emoji} ${compact(r.count)}` }))),
      el("span", { class: "tg-meta", title: fullDate(post.timestamp) },
        counts.views ? el("span", { class: "views", title: `${counts.views} views` }, icon("eye"), ` ${compact(counts.views)} · `) : null,
        meta)));
  // Callback buttons under a channel post are pressed as the user chosen in the chat panel.
  const press = (button, node) => pressButton(Number(feed.id), Number(post.id), button, node);
  return el("article", { class: "post tg-post", "data-key": post.key },
    bubble, keyboard(post.buttons, press));
}

function facebookPost(feed, post, now) {
  const counts = post.counts;
  return el("article", { class: "post fb-post", "data-key": post.key },
    el("div", { class: "post-head" }, avatar(feed.name),
      el("div", {},
        el("div", { class: "who", text: feed.name }),
        el("div", { class: "when", title: fullDate(post.timestamp) }, `${ago(post.timestamp, now)} · `, icon("globe")))),
    post.text ? renderText(post.text, autoEntities(post.text)) : null,
    post.link ? link(post.link, post.link, "fb-link") : null,
    images(post.images, post.text || feed.name),
    el("div", { class: "fb-counts" },
      el("span", { class: "likes", title: `${counts.reactions} reactions` }, counts.reactions ? [
        el("span", { class: "badge-like" }, icon("like")), el("span", { class: "badge-love" }, icon("heart-solid")),
        compact(counts.reactions)] : null),
      counts.comments ? el("span", { text: plural(counts.comments, "comment", "comments") }) : null,
      counts.shares ? el("span", { text: plural(counts.shares, "share", "shares") }) : null),
    el("div", { class: "fb-actions", "aria-hidden": "true" },
      el("span", {}, icon("like"), " Like"), el("span", {}, icon("comment"), " Comment"),
      el("span", {}, icon("share"), " Share")));
}

function instagramPost(feed, post, now) {
  const counts = post.counts;
  const owner = feed.name;
  const caption = post.text ? renderText(post.text, autoEntities(post.text)) : null;
  if (caption) caption.prepend(el("span", { class: "owner", text: owner }));
  return el("article", { class: "post ig-post", "data-key": post.key },
    el("div", { class: "post-head" }, avatar(owner), el("span", { class: "who", text: owner }),
      post.story ? el("span", { class: "story-badge", text: "Story" }) : null),
    images(post.images, post.text || owner),
    post.images.length > 1 ? el("div", { class: "ig-dots", "aria-hidden": "true" }, post.images.map(() => el("span"))) : null,
    el("div", { class: "ig-actions", "aria-hidden": "true" }, icon("heart"), icon("comment"), icon("send")),
    el("div", { class: "ig-likes", text: plural(counts.likes, "like", "likes") }),
    caption,
    counts.comments ? el("div", { class: "ig-comments", text: `View all ${plural(counts.comments, "comment", "comments")}` }) : null,
    el("div", { class: "ig-when", title: fullDate(post.timestamp), text: agoText(post.timestamp, now) }));
}

const RENDERERS = { telegram: telegramPost, facebook: facebookPost, instagram: instagramPost };

// --- columns ----------------------------------------------------------------------------------

function chosenFeed(platform, feeds) {
  const picked = feeds.find((f) => f.id === page.chosen[platform]);
  if (picked) return picked;
  // Until the visitor picks one, follow the feed with the newest post.
  const newest = (f) => (f.posts.length ? f.posts[0].timestamp : -1);
  return feeds.reduce((best, f) => (newest(f) > newest(best) ? f : best), feeds[0]);
}

function renderColumn(platform, feeds, now) {
  const column = document.querySelector(`[data-platform="${platform}"]`);
  if (!feeds.length) return;
  const current = chosenFeed(platform, feeds);
  column.querySelector(".accounts").replaceChildren(...feeds.map((feed) => el("button", {
    type: "button", class: "account", "aria-pressed": feed.id === current.id ? "true" : "false",
    "data-account": feed.id, title: feed.handle || feed.name,
    onclick: () => { page.chosen[platform] = feed.id; render(); },
  }, feed.name, el("span", { class: "count", text: feed.posts.length }))));
  column.querySelector(".account-title").replaceChildren(el("span", {},
    el("strong", { text: feedTitle(current) }),
    current.handle && current.handle !== current.name ? current.handle : null,
    current.note ? el("span", { class: "note", text: `(${current.note})` }) : null));
  const feedNode = column.querySelector(".feed");
  if (!current.posts.length) {
    feedNode.replaceChildren(el("p", { class: "empty", text: "Nothing published here yet." }));
    return;
  }
  const nodes = current.posts.map((post) => {
    const sig = JSON.stringify(post) + ago(post.timestamp, now);
    const known = page.rendered[post.key];
    if (known && known.sig === sig) return known.node;
    const node = RENDERERS[platform](current, post, now);
    page.rendered[post.key] = { sig, node };
    return node;
  });
  if (nodes.length !== feedNode.children.length || nodes.some((n, i) => feedNode.children[i] !== n)) {
    feedNode.replaceChildren(...nodes);
  }
}

function feedTitle(feed) {
  return feed.kind === "supergroup" || feed.kind === "group" ? `${feed.name} (group)` : feed.name;
}

// How far the sandbox clock runs ahead of real time, e.g. "+1 d 3 h ahead".
function aheadText(seconds) {
  const hours = Math.round(seconds / 3600);
  if (hours < 1) return "";
  const days = Math.floor(hours / 24);
  const parts = [days ? `${days} d` : "", hours % 24 ? `${hours % 24} h` : ""].filter(Boolean);
  return `+${parts.join(" ")} ahead`;
}

function renderHeader(data) {
  const now = data.clock.timestamp;
  document.getElementById("clock-now").textContent = fullDate(now);
  document.getElementById("clock-ahead").textContent = aheadText(now - Date.now() / 1000);
  const faults = data.faults;
  const parts = [faults.spec, ...faults.forced.map((f) => `next ${f}`)].filter(Boolean);
  document.getElementById("faults-spec").textContent = parts.length ? parts.join("; ") : "none";
  document.getElementById("faults").classList.toggle("active", parts.length > 0);
  document.getElementById("faults").title =
    `Faults in force: ${parts.join("; ") || "none"} — injected so far: ${faults.injected}`;
}

function render() {
  const data = page.data;
  if (!data) return;
  renderHeader(data);
  for (const platform of PLATFORMS) renderColumn(platform, data[platform], data.clock.timestamp);
  renderChatHead(data);
}

// --- the chat with the bot -----------------------------------------------------------------------

function renderChatHead(data) {
  if (page.chatUser === null) page.chatUser = data.users[0].id;
  document.getElementById("chat-bot-name").textContent = data.bot.name;
  document.getElementById("chat-bot-user").textContent = `@${data.bot.username} · private chat`;
  const holder = document.getElementById("chat-users");
  if (holder.children.length !== data.users.length || [...holder.children].some((b) => b.getAttribute("aria-pressed") !== String(Number(b.dataset.user) === page.chatUser))) {
    holder.replaceChildren(...data.users.map((user) => el("button", {
      type: "button", "data-user": user.id, "aria-pressed": String(user.id === page.chatUser),
      title: `${user.name} (@${user.username}), user id ${user.id}`,
      onclick: () => { page.chatUser = user.id; page.chatSig = ""; render(); refreshChat(); },
    }, `${user.role === "staff" ? "Staff" : "Follower"}`)));
  }
}

function chatMessage(message) {
  const fromUser = message.sender === "user";
  const photo = message.photo ? [{ url: `/_sandbox/telegram/files/${message.photo.file_path}`, width: message.photo.width, height: message.photo.height }] : [];
  const document_ = message.document ? [{ url: `/_sandbox/telegram/files/${message.document.file_path}`, name: message.document.file_name || "file" }] : [];
  const text = message.text ?? message.caption;
  const entities = message.text !== null && message.text !== undefined ? message.entities : message.caption_entities;
  const meta = [message.edit_date ? "edited" : null, clockTime(message.date)].filter(Boolean).join(" · ");
  return el("div", { class: `chat-message ${fromUser ? "from-user" : "from-bot"}`, "data-message-id": message.message_id },
    el("div", { class: "chat-bubble" },
      images(photo, text || "photo"),
      text ? renderText(text, entities) : null,
      files(document_),
      el("div", { class: "chat-meta", text: meta })),
    fromUser ? null : keyboard(message.buttons,
      (button, node) => pressButton(page.chatUser, message.message_id, button, node)));
}

async function refreshChat() {
  const user = page.chatUser;
  if (user === null) return;
  const answer = await fetch(`/_sandbox/telegram/chats/${user}/messages`, { cache: "no-store" });
  if (!answer.ok || user !== page.chatUser) return;
  const body = await answer.json();
  const sig = JSON.stringify(body.messages);
  if (sig === page.chatSig) return;
  page.chatSig = sig;
  const box = document.getElementById("chat-messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.replaceChildren(...(body.messages.length
    ? body.messages.map(chatMessage)
    : [el("p", { class: "empty", text: "Say hello: try /start." })]));
  if (atBottom || !box.dataset.seen) box.scrollTop = box.scrollHeight;
  box.dataset.seen = "1";
}

async function admin(path, body) {
  const answer = await fetch(`/_sandbox/${path}`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(data.error || `${answer.status} ${answer.statusText}`);
  return data;
}

async function inject(body) {
  try {
    const result = await admin("telegram/updates", { user_id: page.chatUser, ...body });
    if (!result.delivered) toast("The bot does not take this kind of update (its allowed_updates leave it out).", true);
    return result;
  } catch (error) {
    toast(`Telegram refused: ${error.message}`, true);
    return null;
  } finally {
    refreshSoon();
  }
}

async function pressButton(chatId, messageId, button, node) {
  node.classList.add("busy");
  const result = await inject({
    type: "callback", chat_id: chatId, message_id: messageId, data: button.callback_data,
  });
  const query = result && result.update && result.update.callback_query;
  if (!query) { node.classList.remove("busy"); return; }
  // The bot answers the button press with answerCallbackQuery: show its text as Telegram does.
  for (let i = 0; i < 20; i += 1) {
    await sleep(250);
    const answer = await fetch(`/_sandbox/telegram/callbacks/${query.id}`, { cache: "no-store" });
    const state = answer.ok ? await answer.json() : null;
    if (state && state.answered) {
      if (state.answer && state.answer.text) toast(state.answer.text, false);
      break;
    }
  }
  node.classList.remove("busy");
}

function sleep(ms) {
  return new Promise((resolve) => { setTimeout(resolve, ms); });
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function setUpComposer() {
  const form = document.getElementById("composer");
  const input = document.getElementById("chat-text");
  const photo = document.getElementById("chat-photo");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    await inject({ type: "message", text });
  });
  photo.addEventListener("change", async () => {
    const file = photo.files && photo.files[0];
    if (!file) return;
    const caption = input.value.trim() ? input.value : undefined;
    input.value = "";
    photo.value = "";
    await inject({ type: "photo", image_base64: await readBase64(file), caption });
  });
}

function setUpClock() {
  for (const button of document.querySelectorAll("[data-advance]")) {
    button.addEventListener("click", async () => {
      try {
        await admin("clock/advance", { seconds: Number(button.dataset.advance) });
      } catch (error) {
        toast(`The clock did not move: ${error.message}`, true);
      }
      refreshSoon();
    });
  }
}

function toast(message, isError) {
  const node = el("div", { class: isError ? "toast error" : "toast", role: "status", text: message });
  document.getElementById("toasts").append(node);
  setTimeout(() => node.remove(), 4000);
}

// --- polling ------------------------------------------------------------------------------------

function setLive(ok, text) {
  const live = document.getElementById("live");
  live.classList.toggle("ok", ok);
  live.classList.toggle("down", !ok);
  document.getElementById("live-text").textContent = text;
}

async function refresh() {
  try {
    const answer = await fetch("/_sandbox/feeds", { cache: "no-store" });
    if (!answer.ok) throw new Error(`${answer.status}`);
    page.data = await answer.json();
    render();
    await refreshChat();
    setLive(true, "live");
  } catch (_error) {
    setLive(false, "sandbox unreachable");
  }
}

function refreshSoon() {
  clearTimeout(page.timer);
  page.timer = setTimeout(poll, 50);
}

async function poll() {
  clearTimeout(page.timer);
  await refresh();
  clearTimeout(page.timer);
  page.timer = setTimeout(poll, POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  setUpComposer();
  setUpClock();
  poll();
});
