// Customer picker: <div data-customer-picker data-name="customer_id"></div> becomes a search box (nickname,
// whole phone number or 买家编号) over GET /admin/customers/search and a hidden input `customer_id` holding
// the chosen shopper's id. A file, not inline: the console's Content-Security-Policy runs scripts from
// /static only. See notes/customer_picker.md (docs/customers.md) for the attributes.
//   data-name         the form field the id is submitted as (required)
//   data-value        an id already chosen (shown by its nickname once looked up)
//   data-multiple     several shoppers: their ids joined by "," in the one field
//   data-placeholder  the search box's hint
//   data-input-id     an id for the search box (a <label for> names it)
const SEARCH = "/admin/customers/search";
const WAIT_MS = 250;

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function avatar(item) {
  if (item.avatar_url) {
    const img = el("img", "cp-avatar");
    img.src = item.avatar_url;
    img.alt = "";
    return img;
  }
  return el("span", "cp-avatar cp-initial", (item.nickname || "?").slice(0, 1));
}

async function search(q) {
  const r = await fetch(`${SEARCH}?q=${encodeURIComponent(q)}`, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (r.status === 401) throw new Error("login");
  if (!r.ok) return [];
  return (await r.json()).items || [];
}

function setup(root) {
  if (root.dataset.ready) return;
  root.dataset.ready = "1";
  root.classList.add("customer-picker");
  const multiple = root.hasAttribute("data-multiple");
  const hidden = el("input");
  hidden.type = "hidden";
  hidden.name = root.dataset.name || "customer_id";
  const chips = el("div", "cp-chips");
  const box = el("input", "cp-search");
  box.type = "search";
  if (root.dataset.inputId) box.id = root.dataset.inputId;
  box.autocomplete = "off";
  box.placeholder = root.dataset.placeholder || "搜索昵称、手机号或买家编号";
  box.setAttribute("aria-label", box.placeholder);
  box.setAttribute("role", "combobox");
  box.setAttribute("aria-expanded", "false");
  const list = el("ul", "cp-results");
  list.setAttribute("role", "listbox");
  list.hidden = true;
  const status = el("span", "cp-status muted");
  root.replaceChildren(hidden, chips, box, list, status);

  let chosen = []; // [{id, nickname, phone}]
  let items = [];
  let active = -1;
  let timer = 0;
  let asked = "";

  function sync() {
    hidden.value = chosen.map((c) => c.id).join(",");
    chips.replaceChildren(
      ...chosen.map((c) => {
        const chip = el("span", "cp-chip");
        chip.dataset.id = String(c.id);
        chip.append(el("span", "", `${c.nickname} #${c.id}`));
        const x = el("button", "cp-remove", "×");
        x.type = "button";
        x.setAttribute("aria-label", `移除 ${c.nickname}`);
        x.addEventListener("click", () => {
          chosen = chosen.filter((o) => o.id !== c.id);
          sync();
          box.hidden = false;
          box.focus();
        });
        chip.append(x);
        return chip;
      }),
    );
    box.hidden = !multiple && chosen.length > 0;
    hidden.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function close() {
    list.hidden = true;
    box.setAttribute("aria-expanded", "false");
    active = -1;
  }

  function pick(item) {
    if (!chosen.some((c) => c.id === item.id)) chosen = multiple ? [...chosen, item] : [item];
    box.value = "";
    status.textContent = "";
    close();
    sync();
    root.dispatchEvent(new CustomEvent("customer-picked", { bubbles: true, detail: item }));
  }

  function show(found) {
    items = found;
    active = found.length ? 0 : -1;
    list.replaceChildren(
      ...found.map((item, i) => {
        const li = el("li", "cp-option");
        li.setAttribute("role", "option");
        li.dataset.id = String(item.id);
        const text = el("span", "cp-text");
        text.append(el("span", "cp-name", item.nickname));
        text.append(el("span", "cp-meta", `#${item.id}${item.phone ? " · " + item.phone : ""}${item.blocked ? " · 已封禁" : ""}`));
        li.append(avatar(item), text);
        li.addEventListener("mousedown", (e) => {
          e.preventDefault(); // keep the focus in the box until the click lands
          pick(item);
        });
        if (i === active) li.classList.add("active");
        return li;
      }),
    );
    list.hidden = found.length === 0;
    box.setAttribute("aria-expanded", String(!list.hidden));
    status.textContent = found.length ? "" : "没有找到相符的客户";
  }

  function highlight(i) {
    const options = list.querySelectorAll(".cp-option");
    options.forEach((o, k) => o.classList.toggle("active", k === i));
    active = i;
  }

  async function run(q) {
    asked = q;
    try {
      const found = await search(q);
      if (asked === q) show(found);
    } catch {
      status.textContent = "登录已过期，请刷新页面后重新登录";
    }
  }

  box.addEventListener("input", () => {
    clearTimeout(timer);
    const q = box.value.trim();
    if (!q) {
      close();
      status.textContent = "";
      return;
    }
    timer = setTimeout(() => run(q), WAIT_MS);
  });
  box.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" && items.length) {
      e.preventDefault();
      highlight((active + 1) % items.length);
    } else if (e.key === "ArrowUp" && items.length) {
      e.preventDefault();
      highlight((active - 1 + items.length) % items.length);
    } else if (e.key === "Enter") {
      if (!list.hidden && active >= 0) {
        e.preventDefault(); // choosing, not submitting the form
        pick(items[active]);
      }
    } else if (e.key === "Escape") {
      close();
    }
  });
  box.addEventListener("blur", () => setTimeout(close, 150));

  // Ids already chosen (a form shown again): show them by nickname; the search finds a shopper by 编号.
  const preset = (root.dataset.value || "").split(",").map((v) => v.trim()).filter((v) => /^\d{1,18}$/.test(v));
  chosen = preset.map((id) => ({ id: Number(id), nickname: "买家" }));
  sync();
  preset.forEach(async (id) => {
    try {
      const hit = (await search(id)).find((item) => String(item.id) === id);
      if (hit) {
        chosen = chosen.map((c) => (String(c.id) === id ? hit : c));
        sync();
      }
    } catch {
      /* the page still submits the id it had */
    }
  });
}

function styles() {
  // The picker brings its own stylesheet, so a page needs only the script.
  if (document.querySelector('link[href="/static/console/customer_picker.css"]')) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/static/console/customer_picker.css";
  document.head.append(link);
}

function setupAll(scope) {
  scope.querySelectorAll("[data-customer-picker]").forEach(setup);
}

styles();
setupAll(document);
// Pickers that arrive later (an htmx swap) are set up as they land.
document.addEventListener("htmx:load", (e) => setupAll(e.target));
