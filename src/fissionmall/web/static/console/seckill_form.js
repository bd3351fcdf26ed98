// The new flash-sale form: rows come from the SKU picker (picker.js); the preview shows each row as a
// shopper will see it ("¥19.90 秒杀价，每人限购 2", the original price struck, when the sale starts).
import { el, fenOf, money, untilText, whenText } from "/static/console/preview.js";

const form = document.getElementById("session-form");
const box = document.getElementById("seckill-preview");
const loadedAt = Date.now();

function readItem(row) {
  try {
    return JSON.parse(row.getAttribute("data-picker-item") || "null");
  } catch (_) {
    return null;
  }
}

function render() {
  const rows = Array.from(document.querySelectorAll("#seckill-items [data-picker-item]"));
  const start = form.querySelector("[name=starts_at]").value;
  const lines = [];
  for (const row of rows) {
    const item = readItem(row);
    if (!item) continue;
    const fen = fenOf(row.querySelector("[name=price]").value);
    const limit = Number(row.querySelector("[name=limit]").value) || 1;
    const line = el("div", "preview-line");
    line.append(el("span", "", item.label || item.title || ""));
    if (fen === null) {
      line.append(el("span", "muted", "（请填写秒杀价）"));
    } else {
      line.append(el("span", "preview-price", money(fen)), el("span", "", `秒杀价，每人限购 ${limit}`));
      if (item.price_fen) line.append(el("s", "preview-was", money(item.price_fen)));
      if (item.price_fen && fen >= item.price_fen) line.append(el("span", "field-error", "秒杀价须低于原价"));
    }
    if (row.querySelector("[name=new_only]").value === "1") line.append(el("span", "preview-tag", "新人专享"));
    lines.push(line);
  }
  if (!lines.length) {
    box.replaceChildren(el("p", "preview-empty", "选择商品并填写秒杀价后，这里显示买家看到的价格和开抢时间。"));
    return;
  }
  const when = whenText(start);
  const head = el("div", "preview-line");
  head.append(el("span", "preview-tag", "限时秒杀"));
  head.append(el("span", "", when ? `${when} 开抢` : "请选择开始时间"));
  if (when) head.append(el("span", "muted", untilText(start, form.getAttribute("data-shop-now"), loadedAt)));
  box.replaceChildren(head, ...lines);
}

if (form && box) {
  form.addEventListener("input", render);
  form.addEventListener("change", render);
  form.addEventListener("picker:change", render);
  render();
  setInterval(render, 30000); // the countdown moves on
}
