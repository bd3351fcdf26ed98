// The group-buy activity form: the product comes from the picker (picker.js, product mode); choosing
// another product lists its SKUs for their 拼团价; the preview shows what a shopper sees ("3人团 ¥29.90").
import { el, fenOf, money } from "/static/console/preview.js";

const form = document.getElementById("activity-form");
const body = document.getElementById("gb-skus");
const empty = document.getElementById("gb-skus-empty");
const box = document.getElementById("gb-preview");

function input(attrs) {
  const node = document.createElement("input");
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

// The chosen product's SKUs as rows to price (a new product: nothing typed for it yet).
function rowsFor(product) {
  body.replaceChildren();
  for (const k of product.skus || []) {
    const tr = el("tr");
    tr.setAttribute("data-sku-id", String(k.id));
    tr.setAttribute("data-price-fen", String(k.price_fen));
    const price = el("div", "input-prefix");
    price.append(el("span", "", "¥"), input({ type: "text", name: `price_${k.id}`, id: `f-price-${k.id}`, inputmode: "decimal", placeholder: "例如 9.90", "aria-label": `${k.name} 拼团价（元）` }));
    const stock = input({ type: "number", name: `stock_${k.id}`, id: `f-stock-${k.id}`, min: "0", placeholder: "留空：直接卖商品库存", "aria-label": `${k.name} 活动库存` });
    const cells = [el("td", "", k.name), el("td", "num", money(k.price_fen)), el("td", "num", String(k.stock)), el("td"), el("td")];
    cells[3].append(price);
    cells[4].append(stock);
    tr.append(...cells);
    body.append(tr);
  }
  body.setAttribute("data-product-id", String(product.id));
}

function render() {
  const size = Number(form.querySelector("[name=group_size]").value) || 0;
  const minutes = Number(form.querySelector("[name=duration_minutes]").value) || 0;
  const leader = fenOf(form.querySelector("[name=leader_discount]").value) || 0;
  const priced = [];
  for (const tr of body.querySelectorAll("tr[data-sku-id]")) {
    const fen = fenOf(tr.querySelector("input[name^=price_]").value);
    if (fen !== null) priced.push({ fen, own: Number(tr.getAttribute("data-price-fen")), name: tr.cells[0].textContent });
  }
  if (!priced.length || size < 2) {
    box.replaceChildren(el("p", "preview-empty", "选择商品并填写拼团价后，这里显示买家看到的拼团价。"));
    return;
  }
  const low = priced.reduce((a, b) => (b.fen < a.fen ? b : a));
  const line = el("div", "preview-line");
  line.append(el("span", "preview-tag", `${size}人团`), el("span", "preview-price", money(low.fen)));
  if (priced.length > 1) line.append(el("span", "muted", "起"));
  line.append(el("span", "muted", `单独购买 ${money(low.own)}`));
  const rules = el("div", "preview-line muted");
  const hours = minutes >= 60 ? `${Math.round((minutes / 60) * 10) / 10} 小时` : `${minutes} 分钟`;
  rules.append(el("span", "", `${hours}内邀请 ${size - 1} 位好友成团，未成团自动退款`));
  if (leader > 0) rules.append(el("span", "", `团长再减 ${money(leader)}`));
  if (form.querySelector("[name=new_user_required]").checked) rules.append(el("span", "preview-tag", "老带新"));
  const over = priced.filter((p) => p.fen > p.own);
  const parts = [line, rules];
  if (over.length) parts.push(el("p", "field-error", `拼团价不能高于商品原价：${over.map((p) => p.name).join("、")}`));
  box.replaceChildren(...parts);
}

if (form && body && box) {
  form.addEventListener("picker:change", (e) => {
    const [product] = e.detail.items;
    if (product && String(product.id) !== body.getAttribute("data-product-id")) rowsFor(product);
    if (!product) { body.replaceChildren(); body.setAttribute("data-product-id", ""); }
    if (empty) empty.hidden = Boolean(body.children.length);
    render();
  });
  form.addEventListener("input", render);
  form.addEventListener("change", render);
  render();
}
