// 图文详情: a small rich-text editor (contenteditable + toolbar) whose HTML goes into a hidden field. The
// server sanitises whatever it receives (catalog/rules.py); this keeps the editor to the same allowlist so
// what the merchant sees is what the shop will show, and never runs what it loads.

const TAGS = new Set(['P', 'BR', 'STRONG', 'B', 'EM', 'I', 'U', 'H2', 'H3', 'UL', 'OL', 'LI', 'BLOCKQUOTE', 'IMG']);
const DROP = new Set(['SCRIPT', 'STYLE', 'IFRAME', 'OBJECT', 'EMBED', 'TEMPLATE', 'NOSCRIPT', 'SVG', 'MATH']);
const MEDIA = /^\/media\/(?:[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}\/){0,8}[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

export const isMediaUrl = (url) => typeof url === 'string' && url.length <= 500 && MEDIA.test(url);

/** Copy the allowed part of `from` (an inert node: a DOMParser document's) into `to`. */
function copyClean(from, to) {
  for (const node of from.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) {
      to.append(document.createTextNode(node.data));
      continue;
    }
    if (node.nodeType !== Node.ELEMENT_NODE || DROP.has(node.tagName)) continue;
    if (!TAGS.has(node.tagName)) {
      copyClean(node, to); // the tag goes, its text stays
      continue;
    }
    if (node.tagName === 'IMG') {
      const src = node.getAttribute('src');
      if (!isMediaUrl(src)) continue;
      const img = document.createElement('img');
      img.setAttribute('src', src);
      img.setAttribute('alt', node.getAttribute('alt') || '');
      to.append(img);
      continue;
    }
    const el = document.createElement(node.tagName.toLowerCase());
    copyClean(node, el);
    to.append(el);
  }
}

/** Safe HTML → a fragment: parsed in an inert document (no script runs, no image loads there). */
export function cleanFragment(html) {
  const doc = new DOMParser().parseFromString(`<body>${html || ''}</body>`, 'text/html');
  const frag = document.createDocumentFragment();
  copyClean(doc.body, frag);
  return frag;
}

function button(label, title, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'btn btn-ghost btn-sm';
  b.textContent = label;
  b.title = title;
  b.addEventListener('mousedown', (e) => e.preventDefault()); // keep the editor's selection
  b.addEventListener('click', onClick);
  return b;
}

export function mountRichText(box, form) {
  const hidden = document.getElementById(box.dataset.rte);
  if (!hidden) return;
  const readonly = Boolean(box.closest('fieldset[disabled]'));
  const galleryName = box.dataset.galleryName || 'images';
  const area = document.createElement('div');
  area.className = 'rte-area';
  area.contentEditable = readonly ? 'false' : 'true';
  area.setAttribute('role', 'textbox');
  area.setAttribute('aria-multiline', 'true');
  area.setAttribute('aria-label', '图文详情');
  area.dataset.placeholder = '介绍商品的卖点、参数、使用方法……';
  area.append(cleanFragment(hidden.value));

  const sync = () => {
    const holder = document.createElement('div');
    holder.append(cleanFragment(area.innerHTML));
    hidden.value = holder.textContent.trim() || holder.querySelector('img') ? holder.innerHTML : '';
  };
  const exec = (cmd, arg) => {
    area.focus();
    document.execCommand(cmd, false, arg);
    sync();
  };

  const picker = document.createElement('div');
  picker.className = 'rte-picker';
  picker.hidden = true;
  function insertImage(src) {
    if (!isMediaUrl(src)) return false;
    area.focus();
    const img = document.createElement('img');
    img.src = src;
    img.alt = '';
    const sel = window.getSelection();
    if (sel && sel.rangeCount && area.contains(sel.anchorNode)) {
      const range = sel.getRangeAt(0);
      range.deleteContents();
      range.insertNode(img);
      range.setStartAfter(img);
    } else {
      area.append(img);
    }
    picker.hidden = true;
    sync();
    return true;
  }
  function openPicker() {
    const urls = [...form.querySelectorAll(`[data-gallery] input[name="${galleryName}"]`)].map((i) => i.value).filter(isMediaUrl);
    const list = document.createElement('div');
    list.className = 'rte-picks';
    for (const url of urls) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'rte-pick';
      b.title = '插入这张图片';
      const im = document.createElement('img');
      im.src = url;
      im.alt = '商品图片';
      b.append(im);
      b.addEventListener('click', () => insertImage(url));
      list.append(b);
    }
    const input = document.createElement('input');
    input.type = 'text';
    input.placeholder = '或输入本店图片地址，如 /media/…';
    input.setAttribute('aria-label', '图片地址');
    const msg = document.createElement('span');
    msg.className = 'field-error';
    const ok = button('插入', '插入图片地址', () => {
      msg.textContent = insertImage(input.value.trim()) ? '' : '只能插入本店上传的图片（以 /media/ 开头）';
    });
    const cancel = button('取消', '关闭', () => {
      picker.hidden = true;
    });
    const row = document.createElement('div');
    row.className = 'rte-url';
    row.append(input, ok, cancel);
    const hint = document.createElement('p');
    hint.className = 'field-hint';
    hint.textContent = urls.length ? '点击商品图片插入：' : '还没有商品图片，可先在上方添加，或输入图片地址：';
    picker.replaceChildren(hint, list, row, msg);
    picker.hidden = false;
  }

  const bar = document.createElement('div');
  bar.className = 'rte-bar';
  bar.setAttribute('role', 'toolbar');
  bar.setAttribute('aria-label', '图文详情工具栏');
  bar.append(
    button('粗体', '粗体', () => exec('bold')),
    button('标题', '标题', () => {
      const block = document.queryCommandValue('formatBlock').toLowerCase();
      exec('formatBlock', block === 'h2' ? 'p' : 'h2');
    }),
    button('列表', '列表', () => exec('insertUnorderedList')),
    button('插入图片', '插入图片', openPicker),
  );
  area.addEventListener('input', sync);
  area.addEventListener('paste', (e) => {
    // Pasted markup (a web page, a document) goes through the same allowlist as everything else.
    const html = e.clipboardData && e.clipboardData.getData('text/html');
    if (!html) return;
    e.preventDefault();
    const holder = document.createElement('div');
    holder.append(cleanFragment(html));
    document.execCommand('insertHTML', false, holder.innerHTML);
    sync();
  });
  form.addEventListener('submit', sync);
  box.replaceChildren(...(readonly ? [] : [bar, picker]), area);
}
