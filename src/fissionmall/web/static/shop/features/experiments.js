// 到手价 on the product page: a signed-in shopper's price for the chosen SKU and quantity, priced by the
// checkout preview, so a shopper in an A/B test sees their own arm's offer (满100减20, 买2送1…) exactly as
// checkout will charge it (and the preview records their exposure once). Nothing is shown when no
// promotion changes the price; anonymous pages keep today's badges.
import { api, getToken } from '../api.js';
import { put } from '../kit.js';
import { h, yuan } from '../ui.js';

const OFFER_KINDS = new Set(['tiered', 'limited', 'reduction', 'gift']);

function productSections(p, ctx, pick) {
  if (!getToken()) return null;
  const box = h('section.card.pd-offer', { hidden: true });
  let asked = 0;
  let timer = 0;
  pick.watch(({ sku, qty }) => {
    clearTimeout(timer);
    if (!sku) { box.hidden = true; return; }
    timer = setTimeout(() => {
      const mine = ++asked;
      api('/checkout/preview', { method: 'POST', body: { items: [{ sku_id: sku.id, qty: qty || 1 }] } }).then((q) => {
        if (mine !== asked || (ctx.alive && !ctx.alive())) return;
        const offers = q.steps.filter((s) => OFFER_KINDS.has(s.kind));
        if (!offers.length) { box.hidden = true; return; }
        const goods = q.goods_fen - q.discount_fen;
        box.hidden = false;
        put(box,
          h('div.card-title', '到手价'),
          h('div', h('b', `¥${yuan(goods)}`), qty > 1 ? ` （${qty} 件）` : ''),
          h('div.muted.small', offers.map((s) => `${s.label} ${s.amount_fen ? '-¥' + yuan(-s.amount_fen) : ''}`).join('，')));
      }).catch(() => { box.hidden = true; });
    }, 250);
  });
  return box;
}

export { productSections };
