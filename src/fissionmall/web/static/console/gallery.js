// Product images in the console: the uploader of the 素材库 page and the gallery widget of any form.
//
// A form carries <div class="media-gallery" data-gallery data-name="images"> with one
// <input type="hidden" name="images" value="/media/..."> per image, in order (the first is the cover).
// Without JavaScript those inputs submit as they are; with it they are shown as thumbnails that can be
// reordered by dragging, made the cover (设为封面) or removed (删除), and new images are uploaded
// (drag-and-drop or picker, several at once) or picked from the library (从素材库选择).
// Loaded by admin.js when a page has either element; no inline script (the console's CSP).

const UPLOAD_URL = "/admin/media/upload";
const LIBRARY_URL = "/admin/media/library.json";
const LIB_URL = /^(\/media\/lib\/[0-9a-f]{2}\/[0-9a-f]{64})\.(jpg|png|webp)$/;

function csrf() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

export function thumbOf(url) {
  const m = LIB_URL.exec(url);
  return m ? `${m[1]}_t.${m[2]}` : url;
}

function sizeText(n) {
  return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`;
}

function failure(xhr) {
  try {
    const body = JSON.parse(xhr.responseText);
    if (body && body.error && body.error.message) return body.error.message;
  } catch (_) { /* not JSON: a refusal page */ }
  if (xhr.status === 403) return "没有上传图片的权限，或页面已过期，请刷新后重试";
  if (xhr.status === 413) return "图片文件太大";
  return `上传失败（${xhr.status || "网络错误"}），请稍后重试`;
}

// Upload one file with progress; resolves to the asset ({id, url, thumb_url, ...}) or rejects with Chinese text.
export function uploadFile(file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", UPLOAD_URL);
    xhr.setRequestHeader("X-CSRF-Token", csrf());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      if (xhr.status === 201) resolve(JSON.parse(xhr.responseText));
      else reject(new Error(failure(xhr)));
    };
    xhr.onerror = () => reject(new Error("网络连接失败，请检查网络后重试"));
    const data = new FormData();
    data.append("file", file);
    xhr.send(data);
  });
}

// Upload several files one after another, each with its own line in `list` (progress, then done or the error).
async function uploadAll(files, list, onDone) {
  for (const file of files) {
    const bar = el("progress", { max: "100", value: "0" });
    const status = el("span", { class: "media-status", text: "上传中…" });
    const line = el("li", { class: "media-progress-item" }, el("span", { class: "media-file", text: file.name }), bar, status);
    list.append(line);
    try {
      const asset = await uploadFile(file, (f) => { bar.value = Math.round(f * 100); });
      bar.value = 100;
      status.textContent = "已上传";
      line.classList.add("done");
      onDone(asset);
    } catch (err) {
      bar.remove();
      status.textContent = err.message;
      line.classList.add("failed");
    }
  }
}

function imageFiles(dataTransfer) {
  return Array.from((dataTransfer && dataTransfer.files) || []);
}

function dropZone(zone, onFiles) {
  const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes("Files");
  zone.addEventListener("dragover", (e) => { if (hasFiles(e)) { e.preventDefault(); zone.classList.add("over"); } });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    zone.classList.remove("over");
    onFiles(imageFiles(e.dataTransfer));
  });
}

// ---- the library page's uploader ------------------------------------------------------------------

function libraryTile(asset, canDelete) {
  const img = el("img", { src: asset.thumb_url, alt: asset.original_name || "", loading: "lazy" });
  const tile = el("li", { class: "media-tile", "data-media-id": String(asset.id) },
    el("a", { href: asset.url, target: "_blank", rel: "noopener" }, img),
    el("div", { class: "media-meta" },
      el("span", { class: "media-name", text: asset.original_name || "未命名" }),
      el("span", { class: "muted", text: `${asset.width}×${asset.height} · ${sizeText(asset.bytes)}` })));
  if (canDelete) {
    const form = el("form", { method: "post", action: `/admin/media/${asset.id}/delete`,
      "data-confirm": "从素材库删除这张图片？已使用它的商品不受影响。" },
      el("input", { type: "hidden", name: "csrf_token", value: csrf() }),
      el("button", { type: "submit", class: "btn btn-ghost btn-sm media-delete", text: "删除" }));
    tile.append(form);
  }
  return tile;
}

export function enhanceUploader(zone) {
  const input = zone.querySelector("[data-media-input]");
  const list = zone.querySelector("[data-media-progress]");
  const grid = document.querySelector(zone.dataset.grid || "#media-grid");
  const canDelete = grid && grid.dataset.canDelete === "true";
  const add = (asset) => {
    if (!grid) return;
    const old = grid.querySelector(`[data-media-id="${asset.id}"]`);
    if (old) old.remove();
    grid.prepend(libraryTile(asset, canDelete));
    const empty = document.querySelector("[data-media-empty]");
    if (empty) empty.remove();
  };
  const start = (files) => { if (files.length) uploadAll(files, list, add); };
  input.addEventListener("change", () => { start(Array.from(input.files)); input.value = ""; });
  dropZone(zone, start);
}

// ---- the gallery widget ---------------------------------------------------------------------------

function libraryDialog(onPick) {
  const grid = el("ul", { class: "media-grid media-pick-grid" });
  const more = el("button", { type: "button", class: "btn btn-sm", text: "加载更多", hidden: "" });
  const note = el("p", { class: "muted", text: "点击图片选择，可选多张" });
  const ok = el("button", { type: "button", class: "btn btn-primary", text: "添加所选" });
  const cancel = el("button", { type: "button", class: "btn", text: "取消" });
  const dialog = el("dialog", { class: "media-dialog", "aria-label": "从素材库选择" },
    el("h2", { text: "从素材库选择" }), note, grid,
    el("div", { class: "form-actions" }, more, cancel, ok));
  let cursor = null;
  const chosen = new Map();
  async function load() {
    more.hidden = true;
    const url = cursor ? `${LIBRARY_URL}?cursor=${encodeURIComponent(cursor)}` : LIBRARY_URL;
    let page;
    try {
      const r = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!r.ok) throw new Error();
      page = await r.json();
    } catch (_) {
      note.textContent = "素材库加载失败，请稍后重试";
      return;
    }
    for (const a of page.items) {
      const tile = el("li", { class: "media-tile pickable", "data-media-id": String(a.id), tabindex: "0", role: "button",
        "aria-pressed": "false" }, el("img", { src: a.thumb_url, alt: a.original_name || "" }),
        el("div", { class: "media-meta" }, el("span", { class: "muted", text: `${a.width}×${a.height}` })));
      const toggle = () => {
        if (chosen.has(a.id)) chosen.delete(a.id); else chosen.set(a.id, a);
        tile.classList.toggle("chosen", chosen.has(a.id));
        tile.setAttribute("aria-pressed", String(chosen.has(a.id)));
      };
      tile.addEventListener("click", toggle);
      tile.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); } });
      grid.append(tile);
    }
    if (!page.items.length && !grid.children.length) note.textContent = "素材库还没有图片，请先上传";
    cursor = page.next_cursor;
    more.hidden = !cursor;
  }
  more.addEventListener("click", load);
  cancel.addEventListener("click", () => dialog.close());
  ok.addEventListener("click", () => { onPick(Array.from(chosen.values())); dialog.close(); });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  load();
}

export function enhanceGallery(root) {
  const name = root.dataset.name || "images";
  const single = "single" in root.dataset;  // data-single: one image, a new one replaces it (a banner)
  const initial = Array.from(root.querySelectorAll(`input[type=hidden][name="${name}"]`)).map((i) => i.value);
  root.textContent = "";
  root.classList.add("enhanced");
  const list = el("ol", { class: "gallery-list", "aria-label": "商品图片（第一张为封面）" });
  const input = el("input", { type: "file", accept: "image/jpeg,image/png,image/webp", ...(single ? {} : { multiple: "" }) });
  const pick = el("label", { class: "btn btn-sm gallery-upload" }, "上传图片", input);
  const fromLibrary = el("button", { type: "button", class: "btn btn-sm", text: "从素材库选择" });
  const hint = el("span", { class: "muted", text: single ? "拖入图片上传；新选的图片替换原图" : "拖入图片上传；拖动图片调整顺序，第一张为封面" });
  const progress = el("ul", { class: "media-progress", "aria-live": "polite" });
  root.append(list, el("div", { class: "gallery-tools" }, pick, fromLibrary, hint), progress);

  let dragged = null;
  function refresh() {
    Array.from(list.children).forEach((li, i) => {
      li.classList.toggle("cover", i === 0 && !single);
      li.querySelector(".gallery-cover-btn").hidden = i === 0 || single;
    });
  }
  function add(url) {
    if (Array.from(list.querySelectorAll("input")).some((i) => i.value === url)) return;
    if (single) list.textContent = "";
    const coverBtn = el("button", { type: "button", class: "link gallery-cover-btn", text: "设为封面" });
    const removeBtn = el("button", { type: "button", class: "link danger gallery-remove", text: "删除" });
    const li = el("li", { class: "gallery-item", draggable: "true" },
      el("img", { src: thumbOf(url), alt: "", draggable: "false" }),
      el("span", { class: "gallery-badge", text: "封面" }),
      el("div", { class: "gallery-actions" }, coverBtn, removeBtn),
      el("input", { type: "hidden", name, value: url }));
    coverBtn.addEventListener("click", () => { list.prepend(li); refresh(); });
    removeBtn.addEventListener("click", () => { li.remove(); refresh(); });
    li.addEventListener("dragstart", (e) => {
      dragged = li;
      li.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", url);
    });
    li.addEventListener("dragend", () => { li.classList.remove("dragging"); dragged = null; refresh(); });
    list.append(li);
    refresh();
  }
  list.addEventListener("dragover", (e) => {
    if (!dragged) return;
    e.preventDefault();
    const over = e.target.closest(".gallery-item");
    if (!over || over === dragged) return;
    const box = over.getBoundingClientRect();
    const after = e.clientX > box.left + box.width / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
  });
  list.addEventListener("drop", (e) => { if (dragged) { e.preventDefault(); refresh(); } });

  const upload = (files) => { if (files.length) uploadAll(single ? files.slice(-1) : files, progress, (asset) => add(asset.url)); };
  input.addEventListener("change", () => { upload(Array.from(input.files)); input.value = ""; });
  dropZone(root, upload);
  fromLibrary.addEventListener("click", () => libraryDialog((assets) => assets.forEach((a) => add(a.url))));
  initial.forEach(add);
}

function stylesheet() {
  if (document.querySelector('link[data-gallery-css]')) return;
  document.head.append(el("link", { rel: "stylesheet", href: "/static/console/gallery.css", "data-gallery-css": "" }));
}

export function enhanceAll(doc = document) {
  stylesheet();
  doc.querySelectorAll("[data-media-uploader]:not(.enhanced)").forEach((z) => { z.classList.add("enhanced"); enhanceUploader(z); });
  doc.querySelectorAll("[data-gallery]:not(.enhanced)").forEach(enhanceGallery);
}

enhanceAll();
// Pages swapped in by htmx (a product form loaded in place) are enhanced too.
document.addEventListener("htmx:afterSettle", () => enhanceAll());
