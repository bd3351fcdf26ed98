// 消费积分: 我的积分 (#/me/points: balance, debt, what expires soon, the sign-in calendar with the streak,
// 签到, what tomorrow pays, and the ledger), a 我的 entry, a sign-in card on the home page for a shopper
// who has not signed in today, and the 积分抵扣 row of 确认订单 (a switch: the usable maximum, or none).

import { api, getToken } from '../api.js';
import { busy, empty, loading, put, topbar } from '../kit.js';
import { errorText, fmtTime, h, toast, yuan } from '../ui.js';

const CSS = `
.pt-head{margin:8px 12px 0;padding:18px 16px;border-radius:12px;background:linear-gradient(135deg,#ff7a45,#f23d3d);color:#fff}
.pt-head-label{font-size:13px;opacity:.9}
.pt-balance{font-size:34px;font-weight:700;line-height:1.2;margin:4px 0}
.pt-head-note{font-size:12px;opacity:.92;margin-top:2px}
.pt-debt{margin-top:8px;padding:6px 10px;border-radius:8px;background:rgba(255,255,255,.2);font-size:12px}
.pt-sign-head{display:flex;align-items:center;justify-content:space-between;gap:8px}
.pt-streak{font-size:13px;color:var(--muted,#888)}
.pt-streak b{color:#f23d3d;font-size:16px}
.pt-week,.pt-days{display:grid;grid-template-columns:repeat(7,1fr);gap:4px;text-align:center}
.pt-week{font-size:11px;color:#999;margin:10px 0 4px}
.pt-day{position:relative;aspect-ratio:1;display:flex;flex-direction:column;align-items:center;justify-content:center;border-radius:8px;font-size:13px;background:#f7f8fa;color:#333;min-width:0}
.pt-day.on{background:#fff0e6;color:#f26b1d;font-weight:600}
.pt-day.today{outline:2px solid #f23d3d;outline-offset:-2px}
.pt-day small{font-size:10px;line-height:1}
.pt-day.blank{background:none}
.pt-sign-foot{display:flex;align-items:center;justify-content:space-between;gap:10px;margin-top:12px}
.pt-tomorrow{font-size:12px;color:#888}
.pt-entry{display:flex;align-items:center;gap:10px;padding:10px 0;border-top:1px solid #f2f3f5}
.pt-entry:first-child{border-top:0}
.pt-entry-main{flex:1;min-width:0}
.pt-entry-note{font-size:12px;color:#999;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.pt-entry-pts{font-weight:600;font-variant-numeric:tabular-nums}
.pt-plus{color:#f23d3d}
.pt-minus{color:#333}
.pt-home{display:flex;align-items:center;gap:12px;margin:10px 12px;padding:12px;border-radius:12px;background:#fff7e6;border:1px solid #ffe1b3}
.pt-home-main{flex:1;min-width:0}
.pt-home-main a{color:inherit;text-decoration:none}
.pt-row{display:flex;align-items:center;justify-content:space-between;gap:10px;padding:10px 0}
.pt-row-text{flex:1;min-width:0;font-size:13px}
.pt-switch{appearance:none;-webkit-appearance:none;flex:none;width:44px;height:26px;border-radius:13px;background:#dcdee0;position:relative;margin:0;transition:background .2s;cursor:pointer}
.pt-switch::after{content:'';position:absolute;top:3px;left:3px;width:20px;height:20px;border-radius:50%;background:#fff;box-shadow:0 1px 2px rgba(0,0,0,.2);transition:left .2s}
.pt-switch:checked{background:#f23d3d}
.pt-switch:checked::after{left:21px}
`;

function style() {
  if (document.getElementById('pt-style')) return;
  document.head.append(h('style', { id: 'pt-style' }, CSS));
}

const WEEK = ['日', '一', '二', '三', '四', '五', '六'];
const signed = (n) => (n > 0 ? `+${n}` : String(n));
/** What `points` pay at `perYuan` points per 元, in fen (whole units are worth whole fen: the rules say so). */
const worth = (points, perYuan) => Math.floor((points * 100) / perYuan);

// ---- the sign-in calendar --------------------------------------------------------------------------

function calendar(cal) {
  const [y, m] = cal.month.split('-').map(Number);
  const first = new Date(Date.UTC(y, m - 1, 1)).getUTCDay();
  const count = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const got = new Map(cal.days.map((d) => [Number(d.day.slice(8, 10)), d.points]));
  const today = cal.today && cal.today.startsWith(cal.month) ? Number(cal.today.slice(8, 10)) : 0;
  const cells = [];
  for (let i = 0; i < first; i += 1) cells.push(h('span.pt-day.blank', { 'aria-hidden': 'true' }));
  for (let d = 1; d <= count; d += 1) {
    const pts = got.get(d);
    const cls = `span.pt-day${pts !== undefined ? '.on' : ''}${d === today ? '.today' : ''}`;
    const label = `${m}月${d}日${pts !== undefined ? `，已签到 +${pts} 积分` : ''}${d === today ? '（今天）' : ''}`;
    cells.push(h(cls, { dataset: { day: String(d) }, 'aria-label': label },
      String(d), pts !== undefined ? h('small', `+${pts}`) : null));
  }
  return [h('div.pt-week', { 'aria-hidden': 'true' }, WEEK.map((w) => h('span', w))), h('div.pt-days', cells)];
}

function signInCard(cal, onSigned) {
  const btn = h('button.btn.btn-primary.btn-small.pt-sign-btn', { type: 'button', disabled: cal.signed_today },
    cal.signed_today ? '今日已签到' : `签到 +${cal.today_points}`);
  btn.addEventListener('click', busy(btn, async () => {
    try {
      const r = await api('/points/sign-in', { method: 'POST' });
      toast(r.granted > 0 ? `签到成功，+${r.granted} 积分` : '今天已经签到过了', 'ok');
      onSigned();
    } catch (err) {
      toast(errorText(err));
    }
  }));
  const [, mon] = cal.month.split('-').map(Number);
  return h('section.card.pt-signin',
    h('div.pt-sign-head', h('div.card-title', `${mon}月签到`),
      h('span.pt-streak', '已连续签到 ', h('b', String(cal.streak)), ' 天')),
    ...calendar(cal),
    h('div.pt-sign-foot',
      h('span.pt-tomorrow', cal.signed_today ? `明天签到可得 ${cal.tomorrow_points} 积分` : `今天签到可得 ${cal.today_points} 积分，明天可得 ${cal.tomorrow_points} 积分`),
      btn));
}

// ---- 我的积分 --------------------------------------------------------------------------------------

// Points expire at a midnight (the end of a year): 2028-01-01 00:00 reads as the day before's 23:59.
function lastMoment(iso) {
  const s = fmtTime(iso);
  if (!s.endsWith(' 00:00')) return s;
  const d = new Date(`${s.slice(0, 10)}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return `${d.toISOString().slice(0, 10)} 23:59`;
}

function headCard(me) {
  const notes = [];
  if (me.spend_unit) notes.push(h('div.pt-head-note', `下单时 ${me.spend_unit} 积分可抵 ¥${yuan(worth(me.spend_unit, me.spend_points_per_yuan))}`));
  if (me.expiring_points > 0 && me.expiring_at) {
    notes.push(h('div.pt-head-note.pt-expiring', `${me.expiring_points} 积分将于 ${lastMoment(me.expiring_at)} 过期`));
  }
  return h('section.pt-head',
    h('div.pt-head-label', '可用积分'),
    h('div.pt-balance', String(me.points)),
    ...notes,
    me.debt > 0 ? h('div.pt-debt', `欠积分 ${me.debt}：之前退款扣回了已使用的积分，之后获得的积分会先抵扣欠款`) : null,
    me.enabled ? null : h('div.pt-head-note', '本店暂未开放积分'));
}

function entryRow(e) {
  return h('div.pt-entry', { dataset: { entry: String(e.id), kind: e.kind } },
    h('div.pt-entry-main', h('div', e.label), h('div.pt-entry-note', [e.note, fmtTime(e.created_at)].filter(Boolean).join(' · '))),
    h(`span.pt-entry-pts${e.points > 0 ? '.pt-plus' : '.pt-minus'}`, signed(e.points)));
}

function ledger(ctx) {
  const list = h('div.pt-entries', loading());
  const more = h('button.btn.btn-ghost.btn-block.btn-small', { type: 'button', hidden: true }, '加载更多');
  let cursor = null;
  const load = async (first) => {
    try {
      const page = await api('/points/ledger', { query: { limit: 20, ...(cursor ? { cursor } : {}) } });
      if (!ctx.alive()) return;
      const rows = page.items.map(entryRow);
      if (first) put(list, ...(rows.length ? rows : [empty('还没有积分记录')]));
      else list.append(...rows);
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (err) {
      if (ctx.alive()) put(list, h('div.error-box', errorText(err)));
    }
  };
  more.addEventListener('click', busy(more, () => load(false)));
  load(true);
  return h('section.card', h('div.card-title', '积分明细'), list, more);
}

function pointsScreen(ctx) {
  style();
  const head = h('div', loading());
  const sign = h('div');
  const entries = h('div');
  const refresh = () => Promise.all([api('/points'), api('/points/sign-in')]).then(([me, cal]) => {
    if (!ctx.alive()) return;
    put(head, headCard(me));
    put(sign, cal.enabled ? signInCard(cal, refresh) : null);
    put(entries, ledger(ctx));
  }).catch((err) => ctx.alive() && ctx.fail(err));
  refresh();
  return h('div.page.points', topbar('我的积分', { backTo: '#/me' }), head, sign, entries);
}

// ---- hooks: 我的, the home page ---------------------------------------------------------------------

function meEntries() {
  return h('section.card.menu', h('a.menu-item.pt-me', { href: '#/me/points' }, h('span', '我的积分'), h('span.muted.small', '签到领积分')));
}

function homeSections(ctx) {
  if (!getToken()) return null;
  style();
  const box = h('section.pt-home', { hidden: true, 'aria-label': '每日签到', dataset: { feature: 'points', rank: '40' } });
  api('/points/sign-in').then((cal) => {
    if (!ctx.alive() || !cal.enabled || cal.signed_today) return;
    const btn = h('button.btn.btn-primary.btn-small', { type: 'button' }, '签到');
    btn.addEventListener('click', busy(btn, async () => {
      try {
        const r = await api('/points/sign-in', { method: 'POST' });
        toast(r.granted > 0 ? `签到成功，+${r.granted} 积分，已连续 ${r.streak} 天` : '今天已经签到过了', 'ok');
        box.hidden = true;
      } catch (err) {
        toast(errorText(err));
      }
    }));
    put(box,
      h('div.pt-home-main', h('a', { href: '#/me/points' }, h('strong', '每日签到'),
        h('div.muted.small', cal.streak ? `已连续签到 ${cal.streak} 天，今天签到 +${cal.today_points} 积分` : `今天签到 +${cal.today_points} 积分`))),
      btn);
    box.hidden = false;
  }).catch(() => {});
  return box;
}

// ---- 确认订单: the 积分抵扣 row ---------------------------------------------------------------------

const checkouts = new WeakMap(); // ctx → {row, on, want}

function checkoutSections(ctx) {
  style();
  const sw = h('input.pt-switch', { type: 'checkbox', role: 'switch', 'aria-label': '使用积分抵扣' });
  const text = h('span.pt-row-text');
  const row = h('section.card.points-card', { hidden: true, dataset: { feature: 'points' } },
    h('label.pt-row', h('span', '积分抵扣'), text, sw));
  const st = { row, sw, text, on: false, want: 0, info: null };
  checkouts.set(ctx, st);
  sw.addEventListener('change', () => {
    st.on = sw.checked && Boolean(st.info && st.info.usable_max > 0);
    st.want = st.on ? st.info.usable_max : 0;
    ctx.reprice();
  });
  return row;
}

function checkoutBody(ctx) {
  const st = checkouts.get(ctx);
  return st && st.on && st.want > 0 ? { points: st.want } : {};
}

function checkoutQuote(q, ctx) {
  const st = checkouts.get(ctx);
  if (!st) return;
  const info = q.points;
  st.info = info || null;
  if (!info || (info.usable_max <= 0 && !info.used)) {
    st.on = false;
    st.row.hidden = true;
    return;
  }
  if (st.on && info.used !== info.usable_max) {
    // The cap moved (another coupon, another quantity): use the new most, or nothing.
    st.want = info.usable_max;
    st.on = st.want > 0;
    ctx.reprice();
  }
  st.sw.checked = st.on;
  st.row.hidden = false;
  put(st.text, st.on && info.used
    ? h('span', `已用 ${info.used} 积分抵 `, h('span.price-red', `¥${yuan(info.value_fen)}`))
    : h('span', `可用 ${info.usable_max} 积分抵 ¥${yuan(info.usable_max_value_fen)}`, h('span.muted.small', `（共 ${info.balance} 积分）`)));
}

function checkoutRefused(err, ctx) {
  const st = checkouts.get(ctx);
  const ours = err && typeof err.code === 'string' && (err.code.startsWith('POINTS_') || err.code === 'INSUFFICIENT_POINTS');
  if (!st || !st.on || !ours) return {};
  toast(errorText(err));
  const most = err.detail && Number.isInteger(err.detail.usable_max) ? err.detail.usable_max : 0;
  st.want = most > 0 && most < st.want ? most : 0;
  st.on = st.want > 0;
  st.sw.checked = st.on;
  return { retry: true };
}

export const routes = [[/^\/me\/points$/, pointsScreen, { auth: true, tab: 'me' }]];
export { checkoutBody, checkoutQuote, checkoutRefused, checkoutSections, homeSections, meEntries };
