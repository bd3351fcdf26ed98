// Helpers of the marketing forms' live previews ("¥19.90 秒杀价，每人限购 2", "3人团 ¥29.90"): amounts as
// the operator types them (元) and as the shop prints them, times as the shop's clock reads them.

// "19.9" / "１９.９" / "¥19.90" → 1990 fen; null when it is not an amount.
export function fenOf(text) {
  const t = String(text || "").normalize("NFKC").replace(/[¥￥,\s]/g, "");
  if (!/^\d{1,9}(\.\d{0,2})?$/.test(t)) return null;
  const [whole, part = ""] = t.split(".");
  return Number(whole) * 100 + Number((part + "00").slice(0, 2));
}

// 1990 → "¥19.90", as the shop shows a price.
export function money(fen) {
  return `¥${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, "0")}`;
}

// A datetime-local value ("2025-06-01T20:00", the shop's time zone) read against the shop's now at render
// time (data-shop-now, same zone): both parse in the browser's zone, so the zone cancels out.
export function untilText(local, shopNow, loadedAt) {
  const start = Date.parse(local);
  const now = Date.parse(shopNow) + (Date.now() - loadedAt);
  if (Number.isNaN(start) || Number.isNaN(now)) return "";
  const m = Math.round((start - now) / 60000);
  if (m <= 0) return "已开抢";
  if (m < 60) return `距开抢 ${m} 分钟`;
  if (m < 1440) return `距开抢 ${Math.floor(m / 60)} 小时 ${m % 60} 分`;
  return `距开抢 ${Math.floor(m / 1440)} 天 ${Math.floor((m % 1440) / 60)} 小时`;
}

// "2025-06-01T20:00" → "6月1日 20:00".
export function whenText(local) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local || "");
  return m ? `${Number(m[2])}月${Number(m[3])}日 ${m[4]}:${m[5]}` : "";
}

export function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}
