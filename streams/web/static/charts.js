// Live per-minute charts (uPlot, vendored in vendor/): mentions per minute and mean sentiment,
// summed over all platforms and per platform. The summed history is seeded once from the window
// buckets; after that every WebSocket tick rewrites the minute in progress, so the charts move
// without the page asking the server for anything.

/* global uPlot */

const MINUTES_SHOWN = 60;
const PALETTE = ["#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626",
  "#4b5563", "#ea580c", "#0d9488", "#9333ea", "#be123c", "#1d4ed8"];
const SUMMED = "*";
// lines drawn at first: the busiest platforms (the others are in the legend, a click away)
const PLATFORMS_DRAWN = 4;

function hourMinute(epochSeconds) {
  const d = new Date(epochSeconds * 1000);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

class MinuteSeries {
  constructor() {
    this.byScope = new Map(); // scope ("*" or a platform) → Map(minute → value)
  }
  set(scope, minute, value) {
    if (!this.byScope.has(scope)) this.byScope.set(scope, new Map());
    this.byScope.get(scope).set(minute, value);
  }
  has(scope, minute) {
    return this.byScope.has(scope) && this.byScope.get(scope).has(minute);
  }
  values(scope, minutes, missing) {
    const points = this.byScope.get(scope) || new Map();
    return minutes.map((m) => (points.has(m) ? points.get(m) : missing(m)));
  }
}

export class LiveCharts {
  /** `velocityEl`, `sentimentEl`: the two chart containers; `labels()` gives the legend words. */
  constructor(velocityEl, sentimentEl, labels) {
    this.els = { velocity: velocityEl, sentiment: sentimentEl };
    this.labels = labels;
    this.reset();
    const observer = new ResizeObserver(() => this.resize());
    observer.observe(velocityEl);
  }

  reset() {
    this.velocity = new MinuteSeries();
    this.sentiment = new MinuteSeries();
    this.platforms = [];
    this.busiest = [];
    this.seededFrom = new Map(); // scope → first minute its seeded history covers
    this.latestMinute = Math.floor(Date.now() / 60000) * 60;
    for (const chart of Object.values(this.charts || {})) chart.destroy();
    this.charts = {};
    this.draw();
  }

  /** The minutes before the page opened, of the summed scope or (`platform`) one platform. */
  seed(history, platform = SUMMED) {
    for (const row of history) {
      // a tick's number for a minute is never older than the history's
      if (this.velocity.has(platform, row.minute)) continue;
      this.velocity.set(platform, row.minute, row.count);
      this.sentiment.set(platform, row.minute, row.sentiment);
    }
    this.seededFrom.set(platform, this.latestMinute - (MINUTES_SHOWN - 1) * 60);
    this.draw();
  }

  /** A tick of WS /api/v1/ws/{campaign_id}: the minute in progress, summed and per platform. */
  applyTick(tick) {
    // the server's clock names the minutes, not the browser's; a minute keeps the count of its
    // last tick (up to one tick period short of its end)
    const minute = tick.minute;
    this.latestMinute = minute;
    this.velocity.set(SUMMED, minute, tick.summed.velocity.last_1m);
    this.sentiment.set(SUMMED, minute, tick.summed.sentiment_mean["1m"]);
    const active = Object.entries(tick.platforms).filter(([, n]) => n.mentions["60m"] > 0).map(([p]) => p);
    this.busiest = active.sort((a, b) => tick.platforms[b].mentions["60m"] - tick.platforms[a].mentions["60m"])
      .slice(0, PLATFORMS_DRAWN);
    for (const platform of active) {
      const numbers = tick.platforms[platform];
      this.velocity.set(platform, minute, numbers.velocity.last_1m);
      this.sentiment.set(platform, minute, numbers.sentiment_mean["1m"]);
    }
    const added = active.filter((p) => !this.platforms.includes(p));
    if (added.length) {
      this.platforms = [...this.platforms, ...added].sort();
      for (const chart of Object.values(this.charts)) chart.destroy();
      this.charts = {};
    }
    this.draw();
    return added;
  }

  minutes() {
    return Array.from({ length: MINUTES_SHOWN }, (_, i) => this.latestMinute - (MINUTES_SHOWN - 1 - i) * 60);
  }

  data(kind) {
    const minutes = this.minutes();
    const series = kind === "velocity" ? this.velocity : this.sentiment;
    // a minute the seeded history covers and that has no bucket had no mentions (0); a minute
    // before anything was seen is unknown (a gap in the line)
    const missing = (scope) => (m) => (kind === "velocity" && m >= (this.seededFrom.get(scope) ?? Infinity) ? 0 : null);
    return [minutes, ...[SUMMED, ...this.platforms].map((scope) => series.values(scope, minutes, missing(scope)))];
  }

  options(kind) {
    const el = this.els[kind];
    const width = Math.max(280, el.clientWidth);
    // a minute's mean sentiment stands alone between minutes without mentions: dots keep it visible
    const dots = kind === "sentiment";
    return {
      width,
      height: 190,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: kind === "sentiment" ? { y: { range: [-1, 1] } } : { y: { range: (u, min, max) => [0, Math.max(5, max * 1.15)] } },
      axes: [
        { stroke: "#475569", grid: { stroke: "#e2e8f0" }, values: (u, splits) => splits.map(hourMinute) },
        { stroke: "#475569", grid: { stroke: "#e2e8f0" }, size: 44 },
      ],
      series: [
        {},
        { label: this.labels().summed, stroke: "#0f172a", width: 2.5, points: { show: dots, size: 5 } },
        ...this.platforms.map((p, i) => ({ label: p, stroke: PALETTE[i % PALETTE.length], width: 1.25,
          points: { show: dots, size: 4 }, show: this.busiest.includes(p) })),
      ],
    };
  }

  draw() {
    for (const kind of ["velocity", "sentiment"]) {
      if (!this.charts[kind]) {
        this.els[kind].replaceChildren();
        this.charts[kind] = new uPlot(this.options(kind), this.data(kind), this.els[kind]);
      } else {
        this.charts[kind].setData(this.data(kind));
      }
    }
  }

  /** The legend's words changed (language toggle): the charts are made again. */
  relabel() {
    for (const chart of Object.values(this.charts)) chart.destroy();
    this.charts = {};
    this.draw();
  }

  resize() {
    for (const [kind, chart] of Object.entries(this.charts)) {
      chart.setSize({ width: Math.max(280, this.els[kind].clientWidth), height: 190 });
    }
  }
}
