// The bargain activity form: the SKU comes from the picker (one SKU); the start price defaults to its list
// price. The live check asks /admin/bargain/check whether the figures reach the target in exactly N helps
// within the per-cut bounds (the same rule the save applies), with a sample bargain's cuts when they do.
import { el, fenOf, money } from "/static/console/preview.js";

const form = document.getElementById("activity-form");
const box = document.getElementById("bg-check");
const picker = document.getElementById("bg-sku");
let listPrice = null;
let asked = 0;

function value(name) {
  const node = form.querySelector(`[name=${name}]`);
  return node ? node.value : "";
}

async function check() {
  const start = fenOf(value("start_fen")) ?? listPrice;
  const target = fenOf(value("target_fen"));
  const helpers = Number(value("helpers_needed"));
  const q = new URLSearchParams({
    start: start === null ? "" : String(start),
    target: target === null ? "" : String(target),
    helpers: Number.isInteger(helpers) && helpers > 0 ? String(helpers) : (value("helpers_needed") || ""),
    lo: String(fenOf(value("min_cut_fen")) ?? ""),
    hi: String(fenOf(value("max_cut_fen")) ?? ""),
  });
  const mine = ++asked;
  let answer;
  try {
    const r = await fetch(`/admin/bargain/check?${q}`, { credentials: "same-origin" });
    answer = await r.json();
  } catch (e) {
    return;
  }
  if (mine !== asked) return;
  box.dataset.state = answer.ok === true ? "ok" : answer.ok === false ? "refused" : "";
  const parts = [el("p", answer.ok === false ? "field-error" : answer.ok ? "preview-line" : "preview-empty", answer.message)];
  if (answer.ok && start !== null && target !== null) {
    parts.push(el("p", "muted", `从 ${money(start)} 砍到 ${money(target)}，示例：${answer.sample_cuts.map(money).join(" + ")}`));
  }
  box.replaceChildren(...parts);
}

if (picker) {
  picker.addEventListener("picker:change", (ev) => {
    const item = (ev.detail && ev.detail.items && ev.detail.items[0]) || null;
    listPrice = item ? item.price_fen : null;
    const start = form.querySelector("[name=start_fen]");
    if (start && listPrice !== null) start.placeholder = `不填则为商品原价 ${money(listPrice)}`;
    check();
  });
}
for (const name of ["start_fen", "target_fen", "helpers_needed", "min_cut_fen", "max_cut_fen"]) {
  const node = form.querySelector(`[name=${name}]`);
  if (node) node.addEventListener("input", check);
}
check();
