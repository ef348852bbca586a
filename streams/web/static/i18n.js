// The dashboard's words in Korean (the default) and English. Elements carry data-i18n="name";
// code asks t("name", {n: 3}) for text it builds.

const LANG_STORE = "truevoice.lang";

const WORDS = {
  ko: {
    title: "TrueVoice 대시보드",
    campaign: "캠페인",
    allMentions: "전체 멘션 (*)",
    live: "실시간 연결됨",
    offline: "연결 끊김 – 다시 연결하는 중",
    refused: "실시간 연결이 거부되었습니다 (API 키 또는 캠페인 권한을 확인하세요)",
    velocity: "언급량 (분당)",
    sentiment: "감성 평균 (−1 ~ 1)",
    summed: "전체 합계",
    mentions1m: "최근 1분",
    mentions60m: "최근 60분",
    sentiment5m: "감성 (5분)",
    credible60m: "신뢰 비율 (60분)",
    spikes: "급증 알림",
    noSpikes: "아직 알림이 없습니다",
    topMentions: "주요 멘션 (24시간)",
    noMentions: "표시할 멘션이 없습니다",
    prediction: "최신 예측",
    noPrediction: "아직 예측이 없습니다",
    purchaseIntent: "구매 의향",
    brandSentiment: "브랜드 감성",
    viralPotential: "확산 가능성",
    confidence: "신뢰도",
    risks: "위험",
    opportunities: "기회",
    insights: "인사이트",
    recommendations: "권장 조치",
    none: "없음",
    madeAt: "예측 시각",
    sql: "SQL (분석가용)",
    run: "실행",
    rows: "{n}개 행",
    keyNeeded: "API 키가 필요합니다. `truevoice up`이 출력한 대시보드 링크를 열거나 키를 입력하세요.",
    keyPlaceholder: "tv_… API 키",
    saveKey: "저장",
    platform: "플랫폼",
    text: "내용",
    scores: "점수",
    credibility: "신뢰도",
    reasons: "신뢰도 근거",
    posted: "게시",
    severity: "심각도",
    observed: "분당 {count}건 (예상 {expected})",
    status_open: "발생",
    status_updated: "갱신",
    status_resolved: "해소",
    error: "오류",
  },
  en: {
    title: "TrueVoice dashboard",
    campaign: "Campaign",
    allMentions: "All mentions (*)",
    live: "Live",
    offline: "Disconnected – reconnecting",
    refused: "Live connection refused (check the API key and the campaign's access)",
    velocity: "Mentions per minute",
    sentiment: "Mean sentiment (−1 to 1)",
    summed: "All platforms",
    mentions1m: "Last minute",
    mentions60m: "Last 60 min",
    sentiment5m: "Sentiment (5 min)",
    credible60m: "Credible share (60 min)",
    spikes: "Spike alerts",
    noSpikes: "No alerts yet",
    topMentions: "Top mentions (24 h)",
    noMentions: "No mentions to show",
    prediction: "Latest prediction",
    noPrediction: "No prediction yet",
    purchaseIntent: "Purchase intent",
    brandSentiment: "Brand sentiment",
    viralPotential: "Viral potential",
    confidence: "Confidence",
    risks: "Risks",
    opportunities: "Opportunities",
    insights: "Insights",
    recommendations: "Recommendations",
    none: "none",
    madeAt: "Made at",
    sql: "SQL (analysts)",
    run: "Run",
    rows: "{n} rows",
    keyNeeded: "An API key is needed. Open the dashboard link `truevoice up` printed, or paste a key.",
    keyPlaceholder: "tv_… API key",
    saveKey: "Save",
    platform: "Platform",
    text: "Text",
    scores: "Scores",
    credibility: "Credibility",
    reasons: "Credibility reasons",
    posted: "Posted",
    severity: "Severity",
    observed: "{count}/min (expected {expected})",
    status_open: "open",
    status_updated: "updated",
    status_resolved: "resolved",
    error: "Error",
  },
};

let lang = localStorage.getItem(LANG_STORE) === "en" ? "en" : "ko";

export function language() {
  return lang;
}

export function setLanguage(next) {
  lang = next === "en" ? "en" : "ko";
  localStorage.setItem(LANG_STORE, lang);
  translatePage();
}

export function t(name, values = {}) {
  const text = WORDS[lang][name] ?? WORDS.ko[name] ?? name;
  return text.replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));
}

export function translatePage() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}

export function formatTime(value) {
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(lang === "ko" ? "ko-KR" : "en-GB", {
    // "Dec 04", not "04/12": day and month order differ between English readers
    month: lang === "ko" ? "2-digit" : "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}
