// 会员中心 (#/me/member): the level card with the growth value and a progress bar to the next level,
// what each level gives, the birthday (set once); the member-day banner on the home page on that day;
// the 会员价 line on the product page when the shopper's level (or the member day) gives a discount.
// GET /me/level, GET /membership/member-day, GET /me/member-prices, PUT /me/birthday.

import { api, getToken } from '../api.js';
import { busy, loading, put, topbar } from '../kit.js';
import { errorText, h, price, toast, yuan } from '../ui.js';

const CSS = `
.mb-card{margin:12px;padding:18px 16px;border-radius:14px;color:#5a3b12;background:linear-gradient(135deg,#f8e3b5,#e9c27a)}
.mb-card[data-rank="0"]{color:#3d4350;background:linear-gradient(135deg,#eef0f4,#cfd5de)}
.mb-card[data-rank="1"]{color:#3d4350;background:linear-gradient(135deg,#f1f3f7,#b9c2cf)}
.mb-card[data-rank="3"]{color:#eef3ff;background:linear-gradient(135deg,#4a5678,#1f2740)}
.mb-name{font-size:22px;font-weight:700}
.mb-growth{margin-top:6px;font-size:13px;opacity:.85}
.mb-bar{margin-top:12px;height:6px;border-radius:3px;background:rgba(255,255,255,.45);overflow:hidden}
.mb-bar>i{display:block;height:100%;background:currentColor;border-radius:3px}
.mb-next{margin-top:6px;font-size:12px;opacity:.85}
.mb-level{padding:12px 14px;border-top:1px solid #f0f1f3}
.mb-level:first-of-type{border-top:0}
.mb-level.on{background:#fff8ec}
.mb-level h3{margin:0 0 4px;font-size:15px;display:flex;gap:8px;align-items:center}
.mb-tag{font-size:12px;font-weight:400;color:#b7791f}
.mb-benefit{display:inline-block;margin:4px 6px 0 0;padding:2px 8px;border-radius:999px;background:#fff0e0;color:#b7591f;font-size:12px}
.mb-day{margin:8px 12px 0;padding:10px 14px;border-radius:12px;background:linear-gradient(90deg,#ff5a4e,#ff8a3d);color:#fff;font-weight:600}
.mb-day.soon{background:#fff4ec;color:#d9480f;font-weight:500}
.mb-price{margin:8px 12px 0;padding:8px 12px;border-radius:10px;background:#fff7e8;color:#8a5a12;display:flex;gap:8px;align-items:baseline}
.mb-price .price{color:#c7000b}
.mb-birthday{display:flex;gap:8px;padding:12px 14px;align-items:center}
`;

function style() {
  if (document.getElementById('mb-style')) return;
  document.head.append(h('style', { id: 'mb-style' }, CSS));
}

// Growth value reads as whole 元 of goods paid: 1 元 = 1 成长值 (a point, never a decimal).
const growthText = (fen) => String(Math.floor(fen / 100));
// On the day itself the banner says so once: 今天是会员日 · 会员再享8折 · 双倍积分 (the label's first part
// names the day of the month, which is today).
const todayText = (label) => ['今天是会员日', ...label.split(' · ').slice(1)].join(' · ');

// Any other day the shopper still reads when it is: 每月18日会员日 · 会员再享8折 · 双倍积分 (a quieter banner).
const memberDay = (d) => {
  if (!d || !d.enabled || !d.label) return null;
  return d.today ? h('div.mb-day', todayText(d.label)) : h('div.mb-day.soon', d.label);
};

function levelCard(me) {
  const nextAt = me.next_at_fen;
  const pct = nextAt ? Math.min(100, Math.floor((me.growth_fen * 100) / nextAt)) : 100;
  return h('section.mb-card', { dataset: { rank: String(Math.min(me.rank, 3)) }, id: 'mb-card' },
    h('div.mb-name', me.level),
    h('div.mb-growth', `近 ${me.window_months} 个月成长值 ${growthText(me.growth_fen)}`),
    h('div.mb-bar', { role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(pct) },
      h('i', { style: `width:${pct}%` })),
    h('div.mb-next', me.next_level
      ? `再消费 ${yuan(me.to_next_fen).replace(/\.00$/, '')} 元升级为${me.next_level}`
      : '已是最高等级'));
}

function levelList(me) {
  return h('section.card', h('div.card-title', h('span', '等级权益')),
    ...me.levels.map((lv) => h(lv.id === me.level_id ? 'div.mb-level.on' : 'div.mb-level', { dataset: { level: lv.name } },
      h('h3', lv.name, lv.id === me.level_id ? h('span.mb-tag', '当前等级') : null,
        h('span.mb-tag', lv.threshold_fen ? `成长值 ${growthText(lv.threshold_fen)}` : '注册即享')),
      lv.benefits.length ? lv.benefits.map((b) => h('span.mb-benefit', b)) : h('span.muted.small', '基础权益'))));
}

function birthdayCard(me, reload) {
  if (me.birthday) {
    return h('section.card', h('div.mb-birthday', h('span', '生日'), h('strong', { id: 'mb-birthday' }, me.birthday),
      h('span.muted.small', '生日当天发放生日礼券')));
  }
  const input = h('input', { type: 'date', name: 'birthday', 'aria-label': '生日', max: new Date().toISOString().slice(0, 10) });
  const save = h('button.btn.btn-primary.btn-small', { type: 'button' }, '保存');
  save.addEventListener('click', busy(save, async () => {
    if (!input.value) {
      toast('请选择生日');
      return;
    }
    try {
      await api('/me/birthday', { method: 'PUT', body: { birthday: input.value } });
      toast('生日已保存', 'ok');
      reload();
    } catch (err) {
      toast(errorText(err));
    }
  }));
  return h('section.card', h('div.mb-birthday', h('span', '生日'), input, save),
    h('p.muted.small', { style: 'padding:0 14px 12px;margin:0' }, '生日填写后不能修改，生日当天可获得等级对应的生日礼券'));
}

function memberScreen(ctx) {
  style();
  const body = h('div', loading());
  const load = () => api('/me/level').then((me) => {
    if (!ctx.alive()) return;
    put(body,
      levelCard(me),
      memberDay(me.member_day),
      levelList(me),
      birthdayCard(me, load));
  }).catch((err) => ctx.fail(err));
  load();
  return h('div.page', topbar('会员中心', { backTo: '#/me' }), body);
}

function homeSections(ctx) {
  style();
  const box = h('section.mb-day', { hidden: true, dataset: { feature: 'membership', rank: '5' }, id: 'mb-day-banner' });
  api('/membership/member-day').then((d) => {
    if (!ctx.alive() || !d.today) return;
    box.textContent = todayText(d.label);
    box.hidden = false;
  }).catch(() => {});
  return box;
}

function productBanners(p, ctx, pick) {
  if (!getToken()) return null;
  style();
  const box = h('section.mb-price', { hidden: true, dataset: { feature: 'membership' } });
  api('/me/member-prices', { query: { product_id: p.id } }).then((m) => {
    if (!ctx.alive() || !m.applies) return;
    const bySku = new Map(m.skus.map((k) => [k.sku_id, k]));
    pick.watch(({ sku }) => {
      const k = (sku && bySku.get(sku.id)) || m.skus[0];
      if (!k) return;
      put(box, h('strong', '会员价'), price(k.member_price_fen), h('span.small', m.label));
      box.hidden = false;
    });
  }).catch(() => {});
  return box;
}

function meEntries() {
  return h('section.card.menu', h('a.menu-item', { href: '#/me/member' }, h('span', '会员中心'), h('span.muted.small', '等级权益')));
}

export const routes = [[/^\/me\/member$/, memberScreen, { auth: true, tab: 'me' }]];
export { homeSections, meEntries, productBanners };
