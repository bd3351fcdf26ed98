// The console's own script (a file, not inline: the Content-Security-Policy allows scripts from /static only).
(function () {
  // Network and server failures of htmx requests: say so instead of doing nothing.
  var toast = document.getElementById("toast"), timer = null;
  function show(text) {
    if (!toast) return;
    toast.textContent = text; toast.hidden = false;
    clearTimeout(timer); timer = setTimeout(function () { toast.hidden = true; }, 4000);
  }
  document.addEventListener("htmx:responseError", function () { show("服务器出错了，请稍后再试"); });
  document.addEventListener("htmx:sendError", function () { show("网络连接失败，请检查网络后重试"); });
  // One way to say a field is wrong: the server's Chinese text beside the field (the console validates every
  // post). The browser's own bubbles (in the browser's language, one field at a time) never show: every form,
  // also one htmx swaps in later, is novalidate.
  function noBubbles(root) {
    if (root.tagName === "FORM") root.noValidate = true;
    if (root.querySelectorAll) root.querySelectorAll("form").forEach(function (f) { f.noValidate = true; });
  }
  noBubbles(document);
  document.addEventListener("htmx:load", function (e) { noBubbles(e.target); });
  // A form that arrives some other way is caught before it submits.
  document.addEventListener("submit", function (e) { if (e.target.tagName === "FORM") e.target.noValidate = true; }, true);

  // Counters (待发货, 待处理售后…): the sidebar's badges and any [data-counter] of the page, read when the page
  // loads and again whenever an htmx action succeeded (the server's HX-Trigger: counters-changed).
  var nav = document.querySelector("[data-counters]");
  function showCounters(values) {
    Object.keys(values).forEach(function (key) {
      var n = values[key];
      document.querySelectorAll('[data-counter="' + key + '"]').forEach(function (el) {
        if (el.classList.contains("nav-badge")) {
          el.textContent = n > 99 ? "99+" : String(n);
          el.hidden = !n;
          var list = el.getAttribute("data-counter-list");
          if (list) document.querySelectorAll('a[href="' + list + '"] .tab-count').forEach(function (c) {
            c.textContent = String(n); c.hidden = !n;
          });
        } else {
          el.textContent = String(n);
        }
      });
    });
  }
  function readCounters() {
    if (!nav) return;
    fetch(nav.getAttribute("data-counters"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body && body.counters) showCounters(body.counters); })
      .catch(function () { /* a badge can wait for the next page */ });
  }
  readCounters();
  document.addEventListener("counters-changed", readCounters);

  // Narrow screens: 菜单 opens and closes the grouped sidebar.
  var toggle = document.getElementById("nav-toggle"), sidebar = document.getElementById("sidebar");
  if (toggle && sidebar) toggle.addEventListener("click", function () {
    var open = sidebar.classList.toggle("open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // Plain forms that need a second thought carry data-confirm (htmx ones use hx-confirm).
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });

  // The product form: SKU rows are added and removed in the page; the server reads them as parallel lists.
  var rows = document.getElementById("sku-rows");
  var tpl = document.getElementById("sku-row-template");
  var add = document.getElementById("add-sku");
  if (rows && tpl && add) {
    add.addEventListener("click", function () {
      rows.appendChild(tpl.content.cloneNode(true));
      rows.lastElementChild.querySelector("input[name=sku_name]").focus();
    });
    rows.addEventListener("click", function (e) {
      var btn = e.target.closest(".remove-sku");
      if (!btn) return;
      if (rows.children.length <= 1) { alert("至少保留一个规格"); return; }
      btn.closest("tr").remove();
    });
  }

  // Image uploads and product galleries (static/console/gallery.js), only on the pages that have one.
  if (document.querySelector("[data-gallery], [data-media-uploader]")) import("/static/console/gallery.js");
})();
