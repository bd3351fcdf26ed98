// The 首页轮播 form: the product picker shows only while 点击后跳转 is 商品. No inline script (the console's CSP).
const select = document.getElementById("f-link");
const field = document.getElementById("product-field");
if (select && field) {
  const sync = () => { field.hidden = select.value !== "product"; };
  select.addEventListener("change", sync);
  sync();
}
