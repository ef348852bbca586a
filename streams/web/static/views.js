// DOM builders for the dashboard's panels. Data from the server (mention texts, campaign names,
// alert messages, SQL results) only ever becomes text nodes, never markup.

import { formatTime, language, t } from "./i18n.js";

/** An element with `props` (className, dataset, title…) and children: strings become text nodes. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "dataset") Object.assign(node.dataset, value);
    else node[name] = value;
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const fixed = (value, digits = 2) => (value === null || value === undefined ? "–" : Number(value).toFixed(digits));
const percent = (value) => (value === null || value === undefined ? "–" : `${Math.round(Number(value) * 100)}%`);

function tone(sentiment) {
  if (sentiment === null || sentiment === undefined) return "";
  return sentiment <= -0.15 ? "neg" : sentiment >= 0.15 ? "pos" : "neu";
}

export function kpis(tick) {
  const s = tick.summed;
  const card = (label, value, cls = "") => el("div", { className: `kpi ${cls}` },
    el("span", { className: "kpi-value" }, value), el("span", { className: "kpi-label" }, label));
  return [
    card(t("mentions1m"), s.velocity.last_1m),
    card(t("mentions60m"), s.mentions["60m"]),
    card(t("sentiment5m"), fixed(s.sentiment_mean["5m"]), tone(s.sentiment_mean["5m"])),
    card(t("credible60m"), percent(s.credible_share["60m"])),
  ];
}

export function spike(alert) {
  const platforms = (alert.platforms && alert.platforms.length ? alert.platforms : [alert.platform]).join(", ");
  return el("li", { className: `spike severity-${alert.severity || "low"} status-${alert.status}`,
    dataset: { alertId: alert.alert_id } },
  el("div", { className: "spike-head" },
    el("span", { className: "badge" }, t(`status_${alert.status}`)),
    el("span", { className: "severity" }, `${t("severity")}: ${alert.severity || "low"}`),
    el("time", {}, formatTime(alert.updated_at || alert.raised_at))),
  el("p", { className: "spike-message", title: alert.message,
    onclick: (event) => event.currentTarget.parentElement.classList.toggle("expanded") }, alert.message),
  el("p", { className: "spike-meta" },
    `${platforms} · ${t("observed", { count: alert.count, expected: fixed(alert.baseline_mean, 1) })} · z ${fixed(alert.zscore, 1)}`,
    alert.terms && alert.terms.length ? ` · ${alert.terms.slice(0, 6).join(", ")}` : ""));
}

function reasonsOf(mention) {
  // named tuples arrive as objects or as [factor, points, evidence] arrays, depending on the driver
  return (mention.credibility_reasons || []).map((r) => (Array.isArray(r)
    ? { factor: r[0], points: r[1], evidence: r[2] } : r));
}

export function mentionRow(m) {
  const reasons = reasonsOf(m);
  return el("tr", { dataset: { eventId: m.event_id } },
    el("td", { className: "platform" }, m.platform, el("br"), el("time", {}, formatTime(m.posted_at))),
    el("td", { className: "text" }, m.text),
    el("td", { className: "scores" },
      el("span", { className: `chip ${tone(m.sentiment)}` }, `${m.sentiment_label} ${fixed(m.sentiment)}`),
      el("span", { className: "chip" }, `tox ${fixed(m.toxicity)}`),
      el("span", { className: "chip" }, `buy ${fixed(m.purchase_intent)}`)),
    el("td", { className: m.credible ? "credible" : "not-credible" }, `${fixed(m.credibility, 0)}${m.credible ? " ✓" : ""}`),
    el("td", { className: "reasons" }, reasons.length
      ? el("ul", {}, reasons.map((r) => el("li", { title: r.evidence || "" },
        `${r.factor} ${r.points > 0 ? "+" : ""}${fixed(r.points, 0)}`, r.evidence ? ` (${r.evidence})` : "")))
      : "–"));
}

function items(title, list, cls) {
  return el("div", { className: `items ${cls}` }, el("h3", {}, title),
    list.length
      ? el("ul", {}, list.map((item) => el("li", {},
        el("span", { className: "item-kind" }, item.kind || ""),
        ` ${item.summary || ""}`,
        item.platform ? el("span", { className: "item-platform" }, ` · ${item.platform}`) : "",
        item.severity ? el("span", { className: "item-severity" }, ` · ${fixed(item.severity)}`) : "")))
      : el("p", { className: "empty" }, t("none")));
}

export function prediction(p) {
  if (!p) return [el("p", { className: "empty" }, t("noPrediction"))];
  const figure = (label, value, cls = "") => el("div", { className: `figure ${cls}` },
    el("span", { className: "figure-value" }, value), el("span", { className: "figure-label" }, label));
  return [
    el("div", { className: "figures" },
      figure(t("brandSentiment"), fixed(p.brand_sentiment), tone(p.brand_sentiment)),
      figure(t("purchaseIntent"), percent(p.purchase_intent)),
      figure(t("viralPotential"), percent(p.viral_potential)),
      figure(t("confidence"), percent(p.confidence))),
    el("p", { className: "made-at" }, `${t("madeAt")}: ${formatTime(p.made_at)}`),
    items(t("risks"), p.risks, "risks"),
    items(t("opportunities"), p.opportunities, "opportunities"),
    written(t("insights"), (p.insights || []).map((i) => i.text), "insights"),
    written(t("recommendations"), p.recommendations || [], "recommendations"),
  ];
}

/** Sentences the server wrote in both languages ({ko, en}), in the page's language. */
function written(title, texts, cls) {
  if (!texts.length) return "";
  return el("div", { className: `items ${cls}` }, el("h3", {}, title),
    el("ul", {}, texts.map((text) => el("li", {}, text[language()] || text.ko))));
}

export function resultTable(columns, rows) {
  const cell = (v) => (v === null ? "NULL" : typeof v === "object" ? JSON.stringify(v) : String(v));
  return [
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", {}, c)))),
    el("tbody", {}, rows.map((row) => el("tr", {}, row.map((v) => el("td", {}, cell(v)))))),
  ];
}
