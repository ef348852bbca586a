// The dashboard: picks a campaign, follows its WebSocket (ticks move the charts and numbers,
// alerts fill the spike feed), loads its top mentions and latest prediction, runs analyst SQL.
// Every failed call is shown to the user (the error list, or the panel it belongs to).

import * as api from "./api.js";
import { LiveCharts } from "./charts.js";
import { language, setLanguage, t, translatePage } from "./i18n.js";
import * as views from "./views.js";

const $ = (id) => document.getElementById(id);
const MAX_SPIKES = 50;
const MAX_SQL_ROWS_SHOWN = 1000;
const MENTIONS_REFRESH_MS = 2000;
// the predictor writes one every 5 minutes by default: the panel rereads at that pace, no faster
const PREDICTION_REFRESH_MS = 5 * 60 * 1000;

const state = { campaign: null, live: null, alerts: new Map(), lastTick: null, prediction: null };
let charts;

function showError(err) {
  if (err instanceof api.ApiError && err.needsKey) {
    $("key-form").hidden = false;
  }
  const item = views.el("li", {}, `${t("error")}: ${err.message || err}`,
    views.el("button", { type: "button", className: "dismiss", title: "×", onclick: () => item.remove() }, "×"));
  $("errors").append(item);
  while ($("errors").children.length > 5) $("errors").firstElementChild.remove();
}

function setConnection(kind) {
  const node = $("connection");
  node.className = `connection ${kind}`;
  node.textContent = kind ? t(kind) : "";
  node.dataset.state = kind;
}

// -- the spike feed -----------------------------------------------------------------------------
function addAlert(alert) {
  if (state.campaign !== "*" && alert.campaign_id !== state.campaign) return;
  const known = state.alerts.get(alert.alert_id);
  if (known && (known.revision ?? 0) > (alert.revision ?? 0)) return;
  state.alerts.set(alert.alert_id, alert);
  renderAlerts();
}

function renderAlerts() {
  const newestFirst = [...state.alerts.values()]
    .sort((a, b) => String(b.updated_at || b.raised_at).localeCompare(String(a.updated_at || a.raised_at)))
    .slice(0, MAX_SPIKES);
  $("spikes").replaceChildren(...newestFirst.map(views.spike));
  $("no-spikes").hidden = newestFirst.length > 0;
}

// -- per campaign -------------------------------------------------------------------------------
function onLiveMessage(msg) {
  if (msg.type === "tick" && msg.campaign_id === state.campaign) {
    state.lastTick = msg;
    $("kpis").replaceChildren(...views.kpis(msg));
    const campaign = state.campaign;
    for (const platform of charts.applyTick(msg)) {
      // a platform seen for the first time gets its past minutes once, not again on every tick
      api.minuteHistory(campaign, 60, platform)
        .then((history) => campaign === state.campaign && charts.seed(history, platform))
        .catch(showError);
    }
  } else if (msg.type === "alert") {
    addAlert(msg);
    refreshMentionsSoon(); // a spike changes what the top mentions are
  }
}

let mentionsTimer = null;

/** One reload of the top mentions for a burst of alerts (an incident's revisions come in runs),
 * not one analyst query per alert. */
function refreshMentionsSoon() {
  if (mentionsTimer !== null) return;
  mentionsTimer = setTimeout(() => {
    mentionsTimer = null;
    loadMentions();
  }, MENTIONS_REFRESH_MS);
}

async function loadMentions() {
  const campaign = state.campaign;
  try {
    const mentions = await api.topMentions(campaign);
    if (campaign !== state.campaign) return;
    $("mentions").replaceChildren(...mentions.map(views.mentionRow));
    $("no-mentions").hidden = mentions.length > 0;
  } catch (err) {
    showError(err);
  }
}

async function loadPrediction() {
  const campaign = state.campaign;
  try {
    const prediction = await api.latestPrediction(campaign);
    if (campaign !== state.campaign) return;
    state.prediction = prediction;
    $("prediction").replaceChildren(...views.prediction(prediction));
  } catch (err) {
    showError(err);
  }
}

async function loadHistoryAndAlerts() {
  const campaign = state.campaign;
  try {
    const [history, alerts] = await Promise.all([api.minuteHistory(campaign), api.alerts(campaign)]);
    if (campaign !== state.campaign) return;
    charts.seed(history);
    alerts.forEach(addAlert);
  } catch (err) {
    showError(err);
  }
}

function selectCampaign(campaignId) {
  if (state.live) state.live.close();
  state.campaign = campaignId;
  state.alerts.clear();
  state.lastTick = null;
  renderAlerts();
  $("kpis").replaceChildren();
  charts.reset();
  localStorage.setItem("truevoice.campaign", campaignId);
  setConnection("");
  state.live = api.follow(campaignId, onLiveMessage, (s) => setConnection(s === "open" ? "live" : s === "refused" ? "refused" : "offline"));
  loadHistoryAndAlerts();
  loadMentions();
  loadPrediction();
}

async function loadCampaigns() {
  let list;
  try {
    list = await api.campaigns();
  } catch (err) {
    showError(err);
    return;
  }
  const select = $("campaign");
  const options = list.map((c) => views.el("option", { value: c.campaign_id },
    c.name ? `${c.name} (${c.campaign_id})` : `${c.brand} · ${c.campaign_id}`));
  options.push(views.el("option", { value: "*" }, t("allMentions")));
  select.replaceChildren(...options);
  const remembered = localStorage.getItem("truevoice.campaign");
  const ids = [...list.map((c) => c.campaign_id), "*"];
  const pick = new URLSearchParams(location.search).get("campaign") || remembered;
  select.value = ids.includes(pick) ? pick : ids[0];
  selectCampaign(select.value);
}

// -- analyst SQL --------------------------------------------------------------------------------
async function runSql(event) {
  event.preventDefault();
  const status = $("sql-status");
  const table = $("sql-result");
  status.className = "sql-status running";
  status.textContent = "…";
  try {
    const { columns, rows } = await api.sql($("sql-input").value);
    table.replaceChildren(...views.resultTable(columns, rows.slice(0, MAX_SQL_ROWS_SHOWN)));
    status.className = "sql-status ok";
    status.textContent = t("rows", { n: rows.length });
  } catch (err) {
    table.replaceChildren();
    status.className = "sql-status failed";
    status.textContent = err.message;
    if (err.needsKey) $("key-form").hidden = false;
  }
}

// -- language and key ---------------------------------------------------------------------------
function applyLanguage() {
  translatePage();
  $("language").textContent = language() === "ko" ? "EN" : "한국어";
  const allOption = $("campaign").querySelector('option[value="*"]');
  if (allOption) allOption.textContent = t("allMentions");
  renderAlerts();
  if (state.lastTick) $("kpis").replaceChildren(...views.kpis(state.lastTick));
  if (state.campaign) $("prediction").replaceChildren(...views.prediction(state.prediction));
  const connection = $("connection").dataset.state;
  if (connection) setConnection(connection);
  charts.relabel();
}

function saveKey(event) {
  event.preventDefault();
  api.saveKey($("key-input").value);
  $("key-input").value = "";
  $("key-form").hidden = true;
  $("errors").replaceChildren();
  loadCampaigns();
}

function start() {
  api.adoptKeyFromUrl();
  charts = new LiveCharts($("velocity-chart"), $("sentiment-chart"), () => ({ summed: t("summed") }));
  $("language").addEventListener("click", () => {
    setLanguage(language() === "ko" ? "en" : "ko");
    applyLanguage();
  });
  $("campaign").addEventListener("change", (e) => selectCampaign(e.target.value));
  $("sql-form").addEventListener("submit", runSql);
  $("sql-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) runSql(e);
  });
  $("key-form").addEventListener("submit", saveKey);
  applyLanguage();
  if (!api.currentKey()) $("key-form").hidden = false;
  loadCampaigns();
  setInterval(() => state.campaign && loadPrediction(), PREDICTION_REFRESH_MS);
}

start();
