// The only module that talks to the server: every route the dashboard uses is named here, so a
// route that moves is changed in one place. All are /api/v1 but the minute history, which only
// the unversioned /api/windows serves (there is no v1 route for past minutes yet).

const KEY_STORE = "truevoice.apiKey";

/** An answer the server refused; `status` 0 means the server could not be reached at all. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
  get needsKey() {
    return this.status === 401;
  }
}

/** `truevoice up` prints a link with the key in its fragment (#key=…): the fragment never leaves
 * the browser, so the key is kept in localStorage and the fragment cleared from the address bar. */
export function adoptKeyFromUrl() {
  const params = new URLSearchParams(location.hash.slice(1));
  const key = params.get("key");
  if (key) {
    saveKey(key);
    history.replaceState(null, "", location.pathname + location.search);
  }
}

export function currentKey() {
  return localStorage.getItem(KEY_STORE) || "";
}

export function saveKey(key) {
  localStorage.setItem(KEY_STORE, key.trim());
}

async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  const key = currentKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, String(err.message || err));
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = (data && data.error) || text || response.statusText;
    throw new ApiError(response.status, `${response.status}: ${message}`);
  }
  return data;
}

export async function campaigns() {
  return (await request("GET", "/api/v1/campaigns")).campaigns;
}

/** Per-minute buckets of the last `minutes` minutes on `platform`, or summed over all platforms. */
export async function minuteHistory(campaignId, minutes = 60, platform = null) {
  const q = new URLSearchParams({ campaign: campaignId, windows: String(minutes) });
  if (platform) q.set("platform", platform);
  const body = await request("GET", `/api/windows?${q}`);
  return body.tumbling_1m.map((row) => ({
    minute: row.minute,
    count: row.count,
    sentiment: row.count ? row.sentiment_sum / row.count : null,
  }));
}

/** The latest state of the campaign's recent incidents (every campaign's for "*"). */
export async function alerts(campaignId, limit = 50) {
  const q = new URLSearchParams({ limit: String(limit) });
  if (campaignId !== "*") q.set("campaign_id", campaignId);
  return (await request("GET", `/api/v1/alerts?${q}`)).alerts;
}

/** The latest prediction with its risks and opportunities, and the insights and recommendations
 * the server wrote from them ({ko, en}); null while the campaign has none (404). */
export async function latestPrediction(campaignId) {
  try {
    const report = await request("GET", `/api/v1/predictions/${encodeURIComponent(campaignId)}`);
    return { ...report.latest, insights: report.insights, recommendations: report.recommendations };
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
}

export async function sql(query) {
  return request("POST", "/api/v1/sql", { sql: query });
}

/** The campaign's most engaging mentions of the last day, with their scores and credibility
 * reasons: analyst SQL, because /api/v1/campaigns/{id}/mentions carries no credibility reasons and
 * pages newest first. The campaign id is checked against the server's own pattern before it goes
 * into the query (the SQL route takes no parameters). */
export async function topMentions(campaignId, limit = 20) {
  if (!/^(\*|[A-Za-z0-9_.:-]{1,128})$/.test(campaignId)) throw new ApiError(400, `not a campaign id: ${campaignId}`);
  const campaign = campaignId === "*" ? "" : `AND has(campaigns, '${campaignId}')`;
  const body = await sql(
    "SELECT event_id, platform, posted_at, text, sentiment, sentiment_label, toxicity, purchase_intent, " +
      "credibility, credible, credibility_reasons " +
      `FROM mentions FINAL WHERE posted_at > now() - INTERVAL 1 DAY ${campaign} ` +
      `ORDER BY likes + comments + shares DESC, posted_at DESC LIMIT ${Number(limit)}`,
  );
  return body.rows.map((row) => Object.fromEntries(body.columns.map((c, i) => [c, row[i]])));
}

/** Follows the campaign's WebSocket (ticks and alerts) until `close()`; reopens it when it drops.
 * `onMessage(msg)` gets every message, `onState(state, detail)` "open" / "closed" / "refused". */
export function follow(campaignId, onMessage, onState) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const q = new URLSearchParams({ recent: "20", key: currentKey() });
  const url = `${scheme}://${location.host}/api/v1/ws/${encodeURIComponent(campaignId)}?${q}`;
  let socket = null;
  let stopped = false;
  let retry = 1000;
  let timer = null;

  function open() {
    socket = new WebSocket(url);
    let opened = false;
    socket.onopen = () => {
      opened = true;
      retry = 1000;
      onState("open");
    };
    socket.onmessage = (event) => {
      if (!stopped) onMessage(JSON.parse(event.data)); // none after close(), even if already received
    };
    socket.onclose = (event) => {
      if (stopped) return;
      // a handshake refused (no key, another tenant's campaign) closes before it ever opened
      onState(opened ? "closed" : "refused", event.code);
      timer = setTimeout(open, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  open();
  return {
    close() {
      stopped = true;
      clearTimeout(timer);
      if (socket) socket.close();
    },
  };
}
