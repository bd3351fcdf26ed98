// The 积分商城 item form: the SKU picker shows for 实物商品, the coupon choice for 优惠券. No inline script (CSP).
const kind = document.getElementById("f-kind");
const sku = document.getElementById("sku-field");
const coupon = document.getElementById("coupon-field");
if (kind && sku && coupon) {
  const sync = () => {
    sku.hidden = kind.value !== "product";
    coupon.hidden = kind.value !== "coupon";
  };
  kind.addEventListener("change", sync);
  sync();
}
