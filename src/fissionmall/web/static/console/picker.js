// The console's product / SKU picker: any form declares it in HTML, the operator searches by name and
// chooses; the form posts ids in hidden inputs. How a form uses it: docs/picker.md.
//
//   <div data-sku-picker data-name="sku_id" [data-multiple] [data-rows="#tbody"] [data-row-template="#tpl"]>
//   <div data-product-picker data-name="product_id">            (a product, not a SKU)
//   [data-empty="#sel"]: the "nothing chosen" text to hide once something is (default: its own .picker-empty)
//
// Each chosen item is an element with data-picker-item='{json}' (the endpoint's item shape) holding
// <input type="hidden" name="{data-name}" value="{id}">; the server renders them when a form comes back
// after a refusal (admin/_picker.html does it), this script adds and removes them. A row template's
// [data-fill="label|title|name|price|stock|thumb"] elements are filled from the item. After every change the
// widget fires "picker:change" (bubbles; detail.items) so a form's live preview can follow.
// Loaded as a module by the page (<script type="module" src="/static/console/picker.js">): no inline script.

const URL_ = "/admin/products/picker";
const SEARCH_DELAY_MS = 250;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

function thumb(item, cls) {
  if (item.thumb) return el("img", { src: item.thumb, alt: "", class: cls, loading: "lazy" });
  return el("span", { class: `${cls} picker-thumb-empty`, "aria-hidden": "true", text: (item.title || "商").slice(0, 1) });
}

export function priceText(item) {
  return `¥${item.price}`;
}

function readItem(node) {
  try {
    return JSON.parse(node.getAttribute("data-picker-item") || "null");
  } catch (_) {
    return null;
  }
}

async function fetchJson(params) {
  const r = await fetch(`${URL_}?${new URLSearchParams(params)}`, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  let body = null;
  try {
    body = await r.json();
  } catch (_) { /* a login redirect or a refusal page */ }
  if (!r.ok || !body || !Array.isArray(body.items)) {
    const msg = body && body.error && body.error.message;
    throw new Error(msg || (r.status === 403 ? "没有查看商品的权限" : "加载商品失败，请刷新页面后重试"));
  }
  return body;
}

class Picker {
  constructor(root) {
    this.root = root;
    this.productMode = root.hasAttribute("data-product-picker") || root.getAttribute("data-mode") === "product";
    this.name = root.getAttribute("data-name") || (this.productMode ? "product_id" : "sku_id");
    this.multiple = root.hasAttribute("data-multiple");
    this.disabled = root.hasAttribute("data-disabled");
    const rows = root.getAttribute("data-rows");
    this.rows = (rows && document.querySelector(rows)) || root.querySelector(".picker-chosen");
    if (!this.rows) {
      this.rows = el("ul", { class: "picker-chosen" });
      root.prepend(this.rows);
    }
    const tpl = root.getAttribute("data-row-template");
    this.template = tpl ? document.querySelector(tpl) : null;
    const empty = root.getAttribute("data-empty");
    this.empty = (empty && document.querySelector(empty)) || root.querySelector(".picker-empty");
    root.classList.add("picker", "enhanced");
    if (!this.disabled) this.addButton();
    this.rows.addEventListener("click", (e) => {
      const btn = e.target.closest("[data-picker-remove]");
      if (!btn || !this.rows.contains(btn)) return;
      const row = btn.closest("[data-picker-item]");
      if (row) { row.remove(); this.changed(); }
    });
    this.resolve().then(() => this.changed());
  }

  // ---- chosen items -------------------------------------------------------------------------------

  chosenRows() {
    return Array.from(this.rows.querySelectorAll("[data-picker-item]"));
  }

  items() {
    return this.chosenRows().map(readItem).filter(Boolean);
  }

  has(id) {
    return this.items().some((x) => String(x.id) === String(id));
  }

  // A pre-filled row that carries only its id (data-picker-item="" with the hidden input) gets its names.
  async resolve() {
    const bare = this.chosenRows().filter((r) => !readItem(r));
    if (!bare.length) return;
    const ids = bare.map((r) => (r.querySelector(`input[name="${this.name}"]`) || {}).value).filter(Boolean);
    if (!ids.length) return;
    try {
      const body = await fetchJson({ [this.productMode ? "product_ids" : "sku_ids"]: ids.join(",") });
      const byId = new Map(body.items.map((x) => [String(x.id), x]));
      for (const r of bare) {
        const input = r.querySelector(`input[name="${this.name}"]`);
        const item = input && byId.get(input.value);
        if (item) { r.setAttribute("data-picker-item", JSON.stringify(item)); fill(r, item); }
      }
    } catch (_) { /* the ids still post; the names show after the next save */ }
  }

  choose(item) {
    if (!this.multiple) for (const r of this.chosenRows()) r.remove();
    else if (this.has(item.id)) return;
    this.rows.append(this.rowFor(item));
    this.changed();
  }

  unchoose(id) {
    for (const r of this.chosenRows()) {
      const it = readItem(r);
      if (it && String(it.id) === String(id)) r.remove();
    }
    this.changed();
  }

  rowFor(item) {
    let row;
    if (this.template) {
      row = this.template.content.firstElementChild.cloneNode(true);
    } else {
      row = el(
        "li",
        { class: "picker-item" },
        cell(),
        this.disabled ? null : el("button", { type: "button", class: "btn btn-ghost btn-sm", "data-picker-remove": true, text: "移除" }),
      );
    }
    row.setAttribute("data-picker-item", JSON.stringify(item));
    let input = row.querySelector(`input[name="${this.name}"]`);
    if (!input) {
      input = el("input", { type: "hidden", name: this.name });
      (row.querySelector("td") || row).prepend(input);
    }
    input.value = String(item.id);
    fill(row, item);
    return row;
  }

  changed() {
    const items = this.items();
    if (this.empty) this.empty.hidden = items.length > 0;
    if (this.addBtn) this.addBtn.textContent = this.buttonText(items.length);
    this.root.dispatchEvent(new CustomEvent("picker:change", { bubbles: true, detail: { items, picker: this } }));
  }

  buttonText(n) {
    const what = this.productMode ? "商品" : "商品规格";
    if (!this.multiple && n) return `更换${what}`;
    return this.multiple && n ? `继续添加${what}` : `选择${what}`;
  }

  addButton() {
    this.addBtn = el("button", { type: "button", class: "btn picker-open", text: this.buttonText(0) });
    this.addBtn.addEventListener("click", () => this.open());
    this.root.append(this.addBtn);
  }

  // ---- the search dialog ------------------------------------------------------------------------

  open() {
    if (!this.dialog) this.buildDialog();
    this.dialog.showModal();
    this.search.focus();
    if (!this.loaded) this.load(true);
    else this.markChosen();
  }

  buildDialog() {
    const title = this.productMode ? "选择商品" : "选择商品规格";
    this.search = el("input", { type: "search", class: "picker-search", placeholder: "输入商品名称搜索", "aria-label": "搜索商品名称" });
    this.list = el("ul", { class: "picker-results", "aria-label": "搜索结果" });
    this.status = el("p", { class: "picker-status muted", role: "status" });
    this.more = el("button", { type: "button", class: "btn btn-sm picker-more", text: "加载更多", hidden: true });
    this.count = el("span", { class: "muted picker-count" });
    const done = el("button", { type: "button", class: "btn btn-primary", text: "完成" });
    this.dialog = el(
      "dialog",
      { class: "picker-dialog", "aria-label": title },
      el("div", { class: "picker-dialog-head" }, el("h2", { text: title }), this.search),
      this.list,
      this.status,
      el("div", { class: "picker-dialog-foot" }, this.more, el("span", { class: "picker-spacer" }), this.count, done),
    );
    // The dialog lives outside the form: Enter in its search box must never submit the form.
    document.body.append(this.dialog);
    let timer = null;
    this.search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.load(true), SEARCH_DELAY_MS);
    });
    this.search.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); clearTimeout(timer); this.load(true); }
    });
    this.more.addEventListener("click", () => this.load(false));
    done.addEventListener("click", () => this.dialog.close());
    this.list.addEventListener("click", (e) => this.onPick(e));
  }

  async load(fresh) {
    const q = this.search.value.trim();
    const params = { q };
    if (!fresh && this.cursor) params.cursor = this.cursor;
    const seq = (this.seq = (this.seq || 0) + 1);
    this.status.textContent = "加载中…";
    this.more.hidden = true;
    let body;
    try {
      body = await fetchJson(params);
    } catch (err) {
      if (seq === this.seq) this.status.textContent = err.message;
      return;
    }
    if (seq !== this.seq) return; // a newer search answered first
    if (fresh) { this.list.replaceChildren(); this.found = new Map(); }
    for (const p of body.items) {
      if (!this.productMode && !p.skus.length) continue;
      this.list.append(this.resultFor(p));
    }
    this.loaded = true;
    this.cursor = body.next_cursor;
    this.more.hidden = !body.next_cursor;
    this.status.textContent = this.list.children.length ? "" : q ? `没有找到“${q}”相关的在售商品` : "还没有在售商品";
    this.markChosen();
  }

  resultFor(p) {
    this.found.set(`p${p.id}`, p);
    const head = el(
      "div",
      { class: "picker-product" },
      thumb(p, "picker-thumb"),
      el(
        "span",
        { class: "picker-product-text" },
        el("span", { class: "picker-product-title", text: p.title }),
        el("span", { class: "muted", text: `${priceText(p)} · 库存 ${p.stock}` }),
      ),
    );
    if (this.productMode) {
      return el("li", {}, el("button", { type: "button", class: "picker-choice picker-choice-product", "data-key": `p${p.id}`, "aria-pressed": "false" }, head));
    }
    const skus = el("div", { class: "picker-skus" });
    for (const k of p.skus) {
      this.found.set(`s${k.id}`, k);
      skus.append(
        el(
          "button",
          { type: "button", class: "picker-choice picker-sku", "data-key": `s${k.id}`, "aria-pressed": "false" },
          el("span", { class: "picker-sku-name", text: k.name || "默认规格" }),
          el("span", { class: "picker-sku-price", text: priceText(k) }),
          el("span", { class: `picker-sku-stock${k.stock ? "" : " none"}`, text: k.stock ? `库存 ${k.stock}` : "无库存" }),
        ),
      );
    }
    return el("li", {}, head, skus);
  }

  onPick(e) {
    const btn = e.target.closest(".picker-choice");
    if (!btn) return;
    const item = this.found.get(btn.getAttribute("data-key"));
    if (!item) return;
    if (this.multiple && this.has(item.id)) this.unchoose(item.id);
    else this.choose(item);
    if (!this.multiple) this.dialog.close();
    else this.markChosen();
  }

  markChosen() {
    const chosen = new Set(this.items().map((x) => String(x.id)));
    const prefix = this.productMode ? "p" : "s";
    for (const b of this.list.querySelectorAll(".picker-choice")) {
      const key = b.getAttribute("data-key");
      const on = key.startsWith(prefix) && chosen.has(key.slice(1));
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.classList.toggle("chosen", on);
    }
    this.count.textContent = this.multiple ? `已选 ${chosen.size} 项` : "";
  }
}

// The chosen item's thumbnail, name and price · stock (as admin/_picker.html's picker_cell renders it).
function cell() {
  return el(
    "div",
    { class: "picker-cell" },
    el("span", { class: "picker-item-thumb", "data-fill": "thumb" }),
    el(
      "span",
      { class: "picker-cell-text" },
      el("span", { class: "picker-item-label", "data-fill": "label" }),
      el("span", { class: "picker-item-meta" }, el("span", { "data-fill": "price" }), " · 库存 ", el("span", { "data-fill": "stock" })),
    ),
  );
}

function fill(row, item) {
  for (const node of row.querySelectorAll("[data-fill]")) {
    const key = node.getAttribute("data-fill");
    if (key === "thumb") node.replaceChildren(thumb(item, "picker-thumb"));
    else if (key === "price") node.textContent = priceText(item);
    else if (key in item) node.textContent = String(item[key] ?? "");
  }
}

export function init(scope = document) {
  for (const root of scope.querySelectorAll("[data-sku-picker], [data-product-picker]")) {
    if (!root.picker) root.picker = new Picker(root);
  }
}

init();
