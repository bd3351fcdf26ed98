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
