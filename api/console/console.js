// Doxa reviewer console: a thin client over the API. User text is only ever written with textContent.
"use strict";

const CREDENTIAL_KEY = "doxa.console.credential";
const $ = (selector, root = document) => root.querySelector(selector);

function credential() {
  const raw = sessionStorage.getItem(CREDENTIAL_KEY);
  return raw ? JSON.parse(raw) : null;
}

function authHeaders() {
  const held = credential();
  if (!held) return {};
  return held.kind === "api_key" ? { "X-API-Key": held.value } : { Authorization: `Bearer ${held.value}` };
}

function say(text, isError = false) {
  const box = $("#message");
  box.textContent = text;
  box.className = isError ? "error" : "ok";
  box.hidden = !text;
}

async function api(method, path, body) {
  const headers = { Accept: "application/json", ...authHeaders() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
  });
  const payload = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (response.status === 401 && credential()) {
    signOut("Your session ended; sign in again.");
  }
  if (!response.ok) {
    const error = new Error((payload && payload.detail) || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return payload;
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

// --- sign-in -------------------------------------------------------------------------------------

async function showSignIn() {
  $("#workspace").hidden = true;
  $("#who").hidden = true;
  $("#sign-in").hidden = false;
  try {
    const methods = await api("GET", "/auth/methods");
    $("#password-form").hidden = !methods.password;
  } catch (error) {
    say(error.message, true);
  }
}

async function signInWithPassword(event) {
  event.preventDefault();
  const form = event.target;
  try {
    const token = await api("POST", "/auth/login", {
      username: form.username.value.trim(),
      password: form.password.value,
    });
    form.password.value = "";
    sessionStorage.setItem(
      CREDENTIAL_KEY,
      JSON.stringify({ kind: "bearer", value: token.access_token, subject: token.subject })
    );
    say("");
    await showWorkspace();
  } catch (error) {
    say(`Sign-in refused: ${error.message}`, true);
  }
}

async function signInWithToken(event) {
  event.preventDefault();
  const value = event.target.token.value.trim();
  const kind = value.startsWith("doxa_") ? "api_key" : "bearer";
  sessionStorage.setItem(CREDENTIAL_KEY, JSON.stringify({ kind, value, subject: kind === "api_key" ? "API key" : "token" }));
  event.target.token.value = "";
  say("");
  await showWorkspace();
}

function signOut(text = "") {
  sessionStorage.removeItem(CREDENTIAL_KEY);
  say(text, Boolean(text));
  showSignIn();
}

// --- workspace -----------------------------------------------------------------------------------

let currentView = "pending";

async function showWorkspace() {
  $("#sign-in").hidden = true;
  $("#workspace").hidden = false;
  $("#who").hidden = false;
  $("#who-name").textContent = `Signed in as ${credential().subject}`;
  await refresh();
}

function selectView(name) {
  currentView = name;
  for (const button of document.querySelectorAll("nav button[data-view]")) {
    button.classList.toggle("active", button.dataset.view === name);
  }
  for (const view of ["pending", "approved", "tickets"]) {
    $(`#view-${view}`).hidden = view !== name;
  }
  return refresh();
}

async function refresh() {
  try {
    const stats = await api("GET", "/staging-faq/stats");
    const s = stats.by_status;
    $("#stats").textContent =
      `${s.PENDING} pending, ${s.APPROVED} approved, ${s.REJECTED} rejected, ${s.REVERTED} reverted; ` +
      `${stats.live_faqs} live FAQs`;
    if (currentView === "pending") await renderCandidates("PENDING", $("#pending-list"));
    if (currentView === "approved") await renderCandidates("APPROVED", $("#approved-list"));
    if (currentView === "tickets") await renderTickets();
  } catch (error) {
    if (error.status !== 401) say(error.message, true);
  }
}

async function renderCandidates(status, container) {
  const page = await api("GET", `/staging-faq?status=${status}&limit=100`);
  container.replaceChildren();
  if (page.items.length === 0) container.append(element("p", `No ${status.toLowerCase()} candidates.`, "empty"));
  for (const candidate of page.items) container.append(await candidateCard(candidate));
}

async function candidateCard(candidate) {
  const card = $("#candidate-template").content.firstElementChild.cloneNode(true);
  card.dataset.id = candidate.id;
  const target = candidate.merge_with_id ? ` → FAQ #${candidate.merge_with_id}` : "";
  $(".c-title", card).textContent = `#${candidate.id} ${candidate.action}${target}`;
  $(".c-meta", card).textContent =
    ` confidence ${Number(candidate.confidence).toFixed(2)} · ${candidate.source_count} source ticket(s)` +
    ` · PII redacted: ${candidate.pii_kinds.length ? candidate.pii_kinds.join(", ") : "none"}` +
    ` · v${candidate.version}` +
    (candidate.reviewed_by ? ` · by ${candidate.reviewed_by}` : "");
  $(".c-question", card).textContent = candidate.question;
  $(".c-answer", card).textContent = candidate.answer;
  $(".c-tags", card).textContent = `Tags: ${candidate.tags.join(", ") || "none"}`;
  $(".c-sources", card).textContent = `Source tickets: ${candidate.source_ticket_ids.join(", ")}`;
  if (candidate.merge_with_id) await showMergeTarget(card, candidate.id);

  const pending = candidate.status === "PENDING";
  for (const selector of [".c-approve", ".c-reject", ".c-edit-button", ".c-note"]) $(selector, card).hidden = !pending;
  $(".c-revert", card).hidden = candidate.status !== "APPROVED";
  $(".c-approve", card).addEventListener("click", () => decide(card, candidate, "approve"));
  $(".c-reject", card).addEventListener("click", () => decide(card, candidate, "reject"));
  $(".c-revert", card).addEventListener("click", () => act(`/staging-faq/${candidate.id}/revert`, {}, "reverted"));
  $(".c-edit-button", card).addEventListener("click", () => openEditor(card, candidate));
  $(".c-cancel", card).addEventListener("click", () => ($(".c-edit", card).hidden = true));
  $(".c-edit", card).addEventListener("submit", (event) => saveEdits(event, candidate));
  return card;
}

async function showMergeTarget(card, id) {
  try {
    const preview = await api("GET", `/staging-faq/${id}/existing`);
    const box = $(".c-merge", card);
    box.hidden = false;
    const state = preview.target_is_live ? "live" : "deleted";
    $(".c-merge-title", box).textContent =
      `Merges into FAQ #${preview.target.id} v${preview.target.version} (${state}): ${preview.target.question}`;
    $(".c-diff", box).textContent =
      [preview.question_diff, preview.answer_diff, preview.tags_diff].filter(Boolean).join("\n") || "(no change)";
  } catch (error) {
    say(error.message, true);
  }
}

async function act(path, body, done) {
  try {
    await api("POST", path, body);
    say(`Candidate ${done}.`);
  } catch (error) {
    say(error.message, true);
  }
  await refresh();
}

function decide(card, candidate, decision) {
  const note = $(".c-note", card).value.trim();
  const body = { decision };
  if (note) body.note = note;
  return act(`/staging-faq/${candidate.id}/review`, body, decision === "approve" ? "approved" : "rejected");
}

function openEditor(card, candidate) {
  const form = $(".c-edit", card);
  form.question.value = candidate.question;
  form.answer.value = candidate.answer;
  form.tags.value = candidate.tags.join(", ");
  form.hidden = false;
}

async function saveEdits(event, candidate) {
  event.preventDefault();
  const form = event.target;
  const tags = form.tags.value.split(",").map((tag) => tag.trim()).filter(Boolean);
  try {
    await api("PUT", `/staging-faq/${candidate.id}`, {
      question: form.question.value,
      answer: form.answer.value,
      tags,
      expected_version: candidate.version,
    });
    say("Candidate saved.");
  } catch (error) {
    say(error.message, true);
  }
  await refresh();
}

async function ticketsWithStatus(statuses) {
  const items = [];
  for (const status of statuses) {
    const page = await api("GET", `/tickets?status=${status}&limit=100`);
    items.push(...page.items);
  }
  return items.sort((a, b) => String(b.updated_at).localeCompare(String(a.updated_at)));
}

// Answered threads (a confident answer went out) wait for the customer's feedback as much as solutions do.
const TICKET_TABLES = [
  [["awaiting_feedback", "answered"], "#awaiting-table"],
  [["escalated"], "#escalated-table"],
];

async function renderTickets() {
  for (const [statuses, table] of TICKET_TABLES) {
    const items = await ticketsWithStatus(statuses);
    const body = $(`${table} tbody`);
    body.replaceChildren();
    for (const ticket of items) {
      const row = document.createElement("tr");
      for (const value of [ticket.id, ticket.subject, ticket.priority, ticket.category, ticket.updated_at]) {
        row.append(element("td", value ?? ""));
      }
      body.append(row);
    }
    if (items.length === 0) {
      const row = document.createElement("tr");
      const cell = element("td", "None.", "empty");
      cell.colSpan = 5;
      row.append(cell);
      body.append(row);
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("#password-form").addEventListener("submit", signInWithPassword);
  $("#token-form").addEventListener("submit", signInWithToken);
  $("#sign-out").addEventListener("click", () => signOut());
  $("#refresh").addEventListener("click", () => refresh());
  for (const button of document.querySelectorAll("nav button[data-view]")) {
    button.addEventListener("click", () => selectView(button.dataset.view));
  }
  if (credential()) showWorkspace();
  else showSignIn();
});
