// The comparison view: every candidate at once; a digit (or a click) chooses the worst.
"use strict";
const studyId = Number(location.pathname.split("/").filter(Boolean)[2]);
const api = `/rate/api/studies/${studyId}`;
const state = { shown: [], busy: false, name: localStorage.getItem("hitl.name") || "" };
const $ = (id) => document.getElementById(id);

async function load() {
  // the loop refills the chosen output's place within moments: wait until the whole set is there
  for (;;) {
    const answer = await (await fetch(`${api}/candidates`)).json();
    if (answer.candidates.length >= (answer.batch || 2)) return show(answer);
    $("status").textContent = "waiting for the next output...";
    await new Promise((r) => setTimeout(r, 250));
  }
}

function show(answer) {
  state.shown = answer.candidates;
  $("status").textContent = "";
  $("progress").textContent = `${answer.choices} choices in ${answer.study_name}`;
  const grid = $("grid");
  grid.replaceChildren(...answer.candidates.map((c, i) => card(c, i)));
  state.busy = false;
}

function card(candidate, index) {
  const div = document.createElement("div");
  div.className = "card";
  div.tabIndex = 0;
  div.dataset.number = candidate.number;
  const media = document.createElement("div");
  media.className = "media";
  const m = candidate.media || {};
  let el;
  if ((m.mimetype || "").startsWith("audio/")) { el = document.createElement("audio"); el.controls = true; }
  else if ((m.mimetype || "").startsWith("video/")) { el = document.createElement("video"); el.controls = true; }
  else { el = document.createElement("img"); el.alt = `output ${index + 1}`; }
  if (m.url) el.src = m.url;
  media.append(el);
  const key = document.createElement("div");
  key.className = "key";
  key.textContent = `${index + 1}`;
  div.append(media, key);
  div.addEventListener("click", () => choose(index));
  return div;
}

async function choose(index) {
  if (state.busy || index >= state.shown.length) return;
  state.busy = true;
  $("status").textContent = "recorded; the next set is coming...";
  const body = { candidates: state.shown.map((c) => c.number), worst: state.shown[index].number, name: state.name };
  const res = await fetch(`${api}/choose`, { method: "POST", headers: { "Content-Type": "application/json" },
                                             body: JSON.stringify(body) });
  if (res.status === 409) {
    const answer = await res.json();
    show(answer);
    $("status").textContent = answer.reason;
    return;
  }
  if (!res.ok) { $("status").textContent = `not recorded: ${(await res.json()).reason || res.status}`; state.busy = false; return; }
  await load();
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const digit = "123456789".indexOf(event.key);
  if (digit >= 0) { event.preventDefault(); choose(digit); }
});
load();
