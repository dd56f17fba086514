// The try-it page of `captioner serve`: posts each chosen photo to /v1/captions and shows its caption, the n-best
// list and, for attention models, where the model looked for each word (hover or focus a word). Usable without a
// mouse: the file input is in the tab order, words take focus, and each result is announced (#status, aria-live).
// A large drop is sent a few photos at a time, so the server's queue is not flooded. No libraries, no network
// beyond this server.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
let attentionModel = false;

function authHeaders() {
  const t = $("#token").value.trim();
  return t ? { Authorization: "Bearer " + t } : {};
}

async function loadModel() {
  const r = await fetch("v1/model", { headers: authHeaders() });
  if (r.status === 401) {
    $("#token-box").hidden = false;
    $("#model").textContent = "this server needs a token";
    return;
  }
  const m = await r.json();
  attentionModel = m.attention;
  $("#model").textContent = `model ${m.model}: ${m.decoder} decoder on ${m.encoder}` + (m.attention ? " (hover a word to see where it looked)" : "");
  $("#beam").value = m.default_options.beam;
}

// Paints one attention map (rows x cols, row-major, row 0 at the top) over the picture: bright where the weight is high.
function paint(canvas, map, rows, cols) {
  const size = 224;
  canvas.width = size;
  canvas.height = size;
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, size, size);
  const max = Math.max(...map) || 1;
  const cw = size / cols, ch = size / rows;
  // darken everything, then let the attended cells through in warm light
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const w = map[r * cols + c] / max;
      g.fillStyle = `rgba(0,0,0,${0.7 * (1 - w)})`;
      g.fillRect(c * cw, r * ch, cw + 0.5, ch + 0.5);
      if (w > 0) {
        g.fillStyle = `rgba(255,200,40,${0.35 * w})`;
        g.fillRect(c * cw, r * ch, cw + 0.5, ch + 0.5);
      }
    }
  }
  canvas.dataset.painted = "true";
}

function show(card, answer) {
  if (answer.error) {
    $(".error", card).textContent = `${answer.error.kind}: ${answer.error.message}`;
    return;
  }
  $(".caption", card).textContent = answer.caption;
  const list = $(".nbest", card);
  for (const n of answer.nbest || []) {
    const li = document.createElement("li");
    li.textContent = `${n.caption} (${n.score.toFixed(2)})`;
    list.appendChild(li);
  }
  const att = answer.attention;
  if (!att) return;
  const canvas = $(".heatmap", card), words = $(".words", card);
  const [rows, cols] = att.grid;
  att.words.forEach((w, i) => {
    const s = document.createElement("span");
    s.textContent = w;
    s.tabIndex = 0;
    const showMap = () => {
      words.querySelectorAll("span").forEach(x => x.classList.remove("active"));
      s.classList.add("active");
      paint(canvas, att.maps[i], rows, cols);
    };
    s.addEventListener("mouseenter", showMap);
    s.addEventListener("focus", showMap);
    words.appendChild(s);
  });
  // the first word's map at once, so the picture shows attention before any hover
  words.firstChild.classList.add("active");
  paint(canvas, att.maps[0], rows, cols);
}

async function caption(file) {
  const card = $("#card").content.firstElementChild.cloneNode(true);
  $("img", card).src = URL.createObjectURL(file);
  $(".caption", card).textContent = "...";
  $("#results").prepend(card);
  const beam = $("#beam").value, nbest = Math.min(+$("#nbest").value, +beam);
  const q = new URLSearchParams({ beam, nbest, attention: attentionModel });
  try {
    const r = await fetch("v1/captions?" + q, {
      method: "POST", body: file,
      headers: Object.assign({ "Content-Type": file.type || "application/octet-stream" }, authHeaders()),
    });
    const answer = await r.json();
    if (r.status === 401) $("#token-box").hidden = false;
    $(".caption", card).textContent = "";
    show(card, answer);
    // the caption is the picture's text alternative
    $("img", card).alt = answer.caption || `${file.name}: ${answer.error ? answer.error.message : "no caption"}`;
    announce(answer.caption ? `${file.name}: ${answer.caption}` : `${file.name} failed: ${answer.error && answer.error.message}`);
  } catch (e) {
    $(".caption", card).textContent = "";
    $(".error", card).textContent = "request failed: " + e;
    announce(`${file.name}: request failed`);
  }
  card.dataset.done = "true";
}

function announce(text) {
  $("#status").textContent = text;
}

// At most this many requests in flight: the rest of a large drop waits here instead of in the server's queue.
const IN_FLIGHT = 4;
const waiting = [];
let active = 0;

function captionAll(files) {
  waiting.push(...files);
  pump();
}

function pump() {
  while (active < IN_FLIGHT && waiting.length) {
    active++;
    caption(waiting.shift()).finally(() => { active--; pump(); });
  }
}

$("#file").addEventListener("change", e => captionAll(e.target.files));
const drop = $("#drop");
drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", e => { e.preventDefault(); drop.classList.remove("over"); captionAll(e.dataTransfer.files); });
$("#token").addEventListener("change", loadModel);
loadModel();
