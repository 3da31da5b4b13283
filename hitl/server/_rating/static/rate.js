// The rating view: one output at a time; a digit, a click or Enter rates it and the next one
// shows at once (its file was fetched while the person looked at this one).
"use strict";

const studyId = Number(location.pathname.split("/").filter(Boolean)[2]);
const api = (path) => `/rate/api/studies/${studyId}${path}`;
const $ = (id) => document.getElementById(id);
const client = sessionStorage.getItem("hitl.client") || crypto.getRandomValues(new Uint32Array(4)).join("-");
sessionStorage.setItem("hitl.client", client);

const state = { form: null, name: null, trial: null, hint: null, values: [], busy: false, polling: null };
const blobs = new Map(); // trial id -> Promise of an object URL: the output's bytes, fetched ahead
window.hitlLatencies = []; // ms from a rating to the next output on screen (read by the benchmark)

async function call(path, body) {
  const answer = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify({ client, name: state.name, ...body }),
  });
  let data = {};
  try { data = await answer.json(); } catch (e) { /* an empty or HTML answer: the status says it */ }
  if (answer.status === 401 || answer.status === 403) throw new Error("not allowed: open the link with the token hitl printed");
  if (!answer.ok && answer.status !== 409) throw new Error(data.reason || `the server answered ${answer.status}`);
  return data;
}

function say(text) { $("status").textContent = text || ""; }
function fail(error) {
  $("alert").textContent = String(error.message || error);
  $("alert").hidden = false;
  setTimeout(() => { $("alert").hidden = true; }, 6000);
}

function preload(trial) {
  if (!trial || !trial.media || blobs.has(trial.id)) return;
  const url = trial.media.url;
  const loaded = fetch(url).then((r) => (r.ok ? r.blob() : Promise.reject(r.status)))
    .then(async (blob) => {
      const objectUrl = URL.createObjectURL(blob);
      if (trial.media.mimetype.startsWith("image/")) {
        const img = new Image();
        img.src = objectUrl;
        await img.decode().catch(() => {});
      }
      return objectUrl;
    })
    .catch(() => url);
  blobs.set(trial.id, loaded);
}

async function show(answer, started) {
  if (answer.progress) showProgress(answer.progress);
  say(answer.reason || answer.message || answer.notice || "");
  state.hint = answer.hint;
  const trial = answer.trial;
  if (!trial) {
    state.trial = null;
    $("output").innerHTML = '<p class="empty">Nothing to rate right now: the next output is on its way.</p>';
    $("params").hidden = true;
    schedulePoll();
    return;
  }
  preload(trial);
  const src = await blobs.get(trial.id);
  state.trial = trial;
  state.values = state.form.widgets.map(() => null);
  const mime = trial.media ? trial.media.mimetype : "";
  let el;
  if (mime.startsWith("image/")) {
    el = new Image();
    el.alt = `output of trial ${trial.number}`;
    el.src = src;
    await el.decode().catch(() => {});
  } else if (mime.startsWith("audio/") || mime.startsWith("video/")) {
    el = document.createElement(mime.startsWith("audio/") ? "audio" : "video");
    el.controls = true;
    el.src = src;
    el.setAttribute("aria-label", `output of trial ${trial.number}`);
    el.autoplay = $("autoplay").checked;
    $("autoplay").parentElement.hidden = false;
  } else {
    el = document.createElement("a");
    el.href = trial.media ? trial.media.url : "#";
    el.textContent = `open the output of trial ${trial.number}`;
  }
  el.dataset.trial = String(trial.id);
  $("output").replaceChildren(el);
  $("params").replaceChildren(...Object.entries(trial.params).map(([k, v]) => {
    const row = document.createElement("tr");
    row.innerHTML = "<td></td><td></td>";
    row.cells[0].textContent = k;
    row.cells[1].textContent = typeof v === "number" ? Number(v.toPrecision(4)) : v;
    return row;
  }));
  $("params").hidden = $("toggle-params").getAttribute("aria-pressed") !== "true";
  renderForm();
  for (const old of blobs.keys()) if (old !== trial.id && (!state.hint || old !== state.hint.id)) blobs.delete(old);
  preload(state.hint);
  if (started !== undefined) requestAnimationFrame(() => window.hitlLatencies.push(performance.now() - started));
}

function showProgress(p) {
  const box = $("progress");
  box.replaceChildren(`${p.mine} rated by you · ${p.rated} in all`);
  if (p.best) {
    box.append(" · best so far:");
    if (p.best.media && p.best.media.mimetype.startsWith("image/")) {
      const img = new Image();
      img.src = p.best.media.url;
      img.alt = `best so far, trial ${p.best.number}`;
      box.append(img);
    }
    box.append(` trial ${p.best.number}, rated ${p.best.value}`);
  }
}

function steps(w) { // a slider's values, when few enough to be buttons
  const step = w.step || 1;
  const n = Math.round((w.max - w.min) / step) + 1;
  if (n > 10 || Math.abs((n - 1) * step - (w.max - w.min)) > 1e-9) return null;
  return Array.from({ length: n }, (_, i) => Number((w.min + i * step).toPrecision(12)));
}

function renderForm() {
  const box = $("form");
  box.replaceChildren();
  state.form.widgets.forEach((w, i) => {
    const row = document.createElement("div");
    row.className = "widget";
    const label = document.createElement("div");
    label.className = "label";
    label.textContent = w.description || state.form.questions[i] || "";
    row.append(label);
    const options = w.type === "choice" ? w.choices.map((c, j) => [c, w.values[j]])
      : w.type === "slider" && steps(w) ? steps(w).map((v) => [String(v), v]) : null;
    if (options) {
      const group = document.createElement("div");
      group.className = "choices";
      group.setAttribute("role", "radiogroup");
      options.forEach(([text, value], j) => {
        const b = document.createElement("button");
        b.type = "button";
        b.setAttribute("role", "radio");
        b.setAttribute("aria-checked", "false");
        b.dataset.value = String(value);
        b.innerHTML = "<span></span><kbd></kbd>";
        b.firstChild.textContent = text;
        b.lastChild.textContent = j < 10 ? String((j + 1) % 10) : "";
        b.addEventListener("click", () => { pick(i, value); if (ready()) rate(); });
        group.append(b);
      });
      row.append(group);
      if (w.type === "slider") row.append(ends(w));
    } else if (w.type === "slider") {
      const range = document.createElement("input");
      Object.assign(range, { type: "range", min: w.min, max: w.max, step: w.step || "any", className: "unset" });
      range.setAttribute("aria-label", label.textContent);
      range.addEventListener("input", () => { range.classList.remove("unset"); state.values[i] = Number(range.value); });
      row.append(range, ends(w));
    } else {
      const input = document.createElement("input");
      Object.assign(input, { type: "number", step: "any", placeholder: "a number, then Enter" });
      input.setAttribute("aria-label", label.textContent);
      input.addEventListener("input", () => { state.values[i] = input.value === "" ? null : Number(input.value); });
      row.append(input);
      if (state.form.widgets.length === 1) setTimeout(() => input.focus(), 0);
    }
    box.append(row);
  });
  const keys = document.createElement("div");
  keys.className = "keys";
  keys.textContent = "keys: digits rate · ← → choose, Enter rates · S skip · U undo · P parameters";
  box.append(keys);
}

function ends(w) { // the slider's labels at both ends, under the scale
  const box = document.createElement("div");
  box.className = "ends";
  box.innerHTML = "<span></span><span></span>";
  box.children[0].textContent = labelOf(w, w.min);
  box.children[1].textContent = labelOf(w, w.max);
  return box;
}

function labelOf(w, v) {
  const found = (w.labels || []).find((l) => Number(l.value) === Number(v));
  return found ? `${v} ${found.label}` : String(v);
}

function pick(i, value) {
  state.values[i] = value;
  const group = $("form").querySelectorAll(".widget")[i].querySelector(".choices");
  if (group) for (const b of group.children) b.setAttribute("aria-checked", String(Number(b.dataset.value) === value));
}

function ready() { return state.trial && state.values.every((v) => v !== null && Number.isFinite(v)); }

async function rate() {
  if (state.busy || !ready()) return;
  state.busy = true;
  const started = performance.now();
  try {
    const answer = await call(api(`/trials/${state.trial.id}/rate`), { values: state.values, prefer: state.hint && state.hint.id });
    await show(answer, started);
  } catch (e) { fail(e); } finally { state.busy = false; }
}

async function act(path, body) {
  if (state.busy) return;
  state.busy = true;
  try { await show(await call(path, body)); } catch (e) { fail(e); } finally { state.busy = false; }
}

function schedulePoll() {
  clearTimeout(state.polling);
  state.polling = setTimeout(() => { if (!state.trial) act(api("/next"), {}); }, 300);
}

function onKey(event) {
  if ($("name-dialog").open || event.ctrlKey || event.metaKey || event.altKey) return;
  const typing = event.target instanceof HTMLInputElement && event.target.type === "number";
  const key = event.key.toLowerCase();
  if (!typing && key === "u") return act(api("/undo"), {});
  if (!typing && key === "s" && state.trial) return act(api(`/trials/${state.trial.id}/skip`), {});
  if (!typing && key === "p") return $("toggle-params").click();
  if (!state.trial) return;
  const widgets = state.form.widgets;
  const i = Math.max(0, state.values.findIndex((v) => v === null)); // the first objective not rated yet
  const group = $("form").querySelectorAll(".widget")[i]?.querySelector(".choices");
  if (!typing && group && /^[0-9]$/.test(key)) {
    const button = group.children[(Number(key) + 9) % 10];
    if (button) { event.preventDefault(); pick(i, Number(button.dataset.value)); if (ready()) rate(); }
  } else if (group && (key === "arrowleft" || key === "arrowright")) {
    event.preventDefault();
    const buttons = [...group.children];
    const at = buttons.findIndex((b) => b.getAttribute("aria-checked") === "true");
    const next = at < 0 ? Math.floor((buttons.length - 1) / 2) : Math.min(buttons.length - 1, Math.max(0, at + (key === "arrowright" ? 1 : -1)));
    buttons.forEach((b, j) => b.setAttribute("aria-checked", String(j === next)));
    group.dataset.selected = String(next);
  } else if (key === "enter") {
    event.preventDefault();
    widgets.forEach((w, j) => { // a choice picked with the arrows counts once Enter confirms it
      const g = $("form").querySelectorAll(".widget")[j].querySelector(".choices");
      const b = g && g.querySelector('[aria-checked="true"]');
      if (b && state.values[j] === null) state.values[j] = Number(b.dataset.value);
    });
    rate();
  }
}

async function start() {
  try {
    state.form = await call(api(""));
  } catch (e) { return fail(e); }
  $("question").textContent = state.form.questions.join(" · ") || state.form.study_name;
  document.title = `Rate: ${state.form.study_name}`;
  state.name = state.form.rater || localStorage.getItem("hitl.name");
  $("who").hidden = Boolean(state.form.rater);
  if (!state.name) await askName();
  $("who").textContent = state.name;
  document.addEventListener("keydown", onKey);
  $("undo").addEventListener("click", () => act(api("/undo"), {}));
  $("skip").addEventListener("click", () => state.trial && act(api(`/trials/${state.trial.id}/skip`), {}));
  $("toggle-params").addEventListener("click", () => {
    const on = $("toggle-params").getAttribute("aria-pressed") !== "true";
    $("toggle-params").setAttribute("aria-pressed", String(on));
    $("params").hidden = !on || !state.trial;
  });
  $("autoplay").checked = localStorage.getItem("hitl.autoplay") === "1";
  $("autoplay").addEventListener("change", () => localStorage.setItem("hitl.autoplay", $("autoplay").checked ? "1" : "0"));
  $("who").addEventListener("click", async () => { await askName(); $("who").textContent = state.name; });
  setInterval(() => { // keep this output held while the page is open and looked at
    if (state.trial && document.visibilityState === "visible") {
      call(api(`/trials/${state.trial.id}/hold`), {}).then((a) => { if (a.held === false) act(api("/next"), {}); }).catch(() => {});
    }
  }, Math.max(1000, state.form.hold * 1000 / 4));
  addEventListener("pagehide", () => {
    if (state.trial) {
      const body = new Blob([JSON.stringify({ client, name: state.name })], { type: "application/json" });
      navigator.sendBeacon(api(`/trials/${state.trial.id}/release`), body);
    }
  });
  await act(api("/next"), {});
}

function askName() {
  return new Promise((resolve) => {
    const dialog = $("name-dialog");
    $("name-input").value = state.name || "";
    dialog.addEventListener("close", () => {
      const name = $("name-input").value.trim();
      if (name) { state.name = name; localStorage.setItem("hitl.name", name); }
      resolve();
    }, { once: true });
    dialog.showModal();
  });
}

start();
