// 收藏 and 足迹: the product page's ♡ 收藏 button (filled when favourited), 我的收藏 (newest first, off-shelf
// products shown as 已下架) and 足迹 (the latest 100 products viewed, grouped by day). The product GET stays
// public and cached: the button asks GET /me/favorites/contains for its state, and opening a product page
// while logged in records the view with PUT /me/history/{id}. 我的 (screens/account.js) links both lists.

import { api, getToken, serverNow } from '../api.js';
import { busy, empty, goLogin, loading, put, topbar } from '../kit.js';
import { confirmBox, errorText, h, icon, img, price, toast } from '../ui.js';

// Material Design's favorite / favorite_border (Apache-2.0).
const HEART = 'M12 21.35l-1.45-1.32C5.4 15.36 2 12.28 2 8.5 2 5.42 4.42 3 7.5 3c1.74 0 3.41.81 4.5 2.09C13.09 3.81 14.76 3 16.5 3 19.58 3 22 5.42 22 8.5c0 3.78-3.4 6.86-8.55 11.54z';
const HEART_LINE = 'M16.5 3c-1.74 0-3.41.81-4.5 2.09C10.91 3.81 9.24 3 7.5 3 4.42 3 2 5.42 2 8.5c0 3.78 3.4 6.86 8.55 11.54L12 21.35l1.45-1.32C18.6 15.36 22 12.28 22 8.5 22 5.42 19.58 3 16.5 3zm-4.4 15.55-.1.1-.1-.1C7.14 14.24 4 11.39 4 8.5 4 6.5 5.5 5 7.5 5c1.54 0 3.04.99 3.57 2.36h1.87C13.46 5.99 14.96 5 16.5 5c2 0 3.5 1.5 3.5 3.5 0 2.89-3.14 5.74-7.9 10.05z';
const ERRORS = {
  FAVORITES_FULL: '收藏已满（最多 500 个），请先取消一些不需要的收藏',
  PRODUCT_NOT_FOUND: '商品不存在或已下架，无法收藏',
};
const say = (err) => (err && ERRORS[err.code]) || errorText(err);
const S = {
  on: 'color:#f2302f',
  off: 'color:#5c6370',
  row: 'display:flex;gap:10px;align-items:center;padding:10px 12px',
  thumb: 'width:72px;height:72px;border-radius:6px;object-fit:cover;flex:none;background:#f0f1f3',
  body: 'flex:1;min-width:0;display:flex;flex-direction:column;gap:6px',
  title: 'font-size:14px;line-height:1.35;overflow:hidden;text-overflow:ellipsis;display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical',
  gone: 'display:inline-block;padding:1px 6px;border-radius:4px;background:#f0f1f3;color:#8a8f99;font-size:12px',
  day: 'padding:12px 14px 4px;color:#8a8f99;font-size:13px',
  muted: 'opacity:.55',
};

// ---- the product page's ♡ 收藏 -------------------------------------------------------------------

function productActions(p, ctx) {
  let on = false;
  const glyph = h('span.fav-glyph');
  const label = h('span', '收藏');
  const btn = h('button.ab-icon.fav-btn', { type: 'button', 'aria-pressed': 'false', style: 'border:0;background:none;padding:0' }, glyph, label);
  const show = (v) => {
    on = v;
    put(glyph, icon(on ? HEART : HEART_LINE));
    btn.setAttribute('aria-pressed', on ? 'true' : 'false');
    btn.setAttribute('style', `border:0;background:none;padding:0;${on ? S.on : S.off}`);
    label.textContent = on ? '已收藏' : '收藏';
  };
  show(false);
  if (getToken()) {
    api('/me/favorites/contains', { query: { ids: p.id } })
      .then((r) => ctx.alive() && show(r.ids.includes(p.id)))
      .catch(() => {}); // the button still works; its state is only a hint
    api(`/me/history/${p.id}`, { method: 'PUT' }).catch(() => {}); // 足迹: a missed view is no error
  }
  btn.addEventListener('click', busy(btn, async () => {
    if (!getToken()) {
      toast('请先登录');
      goLogin(`/p/${p.id}`);
      return;
    }
    try {
      if (on) {
        await api(`/me/favorites/${p.id}`, { method: 'DELETE' });
        show(false);
        toast('已取消收藏');
      } else {
        await api(`/me/favorites/${p.id}`, { method: 'PUT' });
        show(true);
        toast('已收藏', 'ok');
      }
    } catch (err) {
      toast(say(err));
    }
  }));
  return btn;
}

// ---- lists ---------------------------------------------------------------------------------------

function card(item, extra) {
  const link = item.on_shelf ? `#/p/${item.product_id}` : null;
  const body = h('div', { style: S.body },
    h('div.fav-title', { style: S.title }, item.title || '商品'),
    item.on_shelf ? price(item.price_fen) : h('span.fav-gone', { style: S.gone }, '已下架'));
  const main = link
    ? h('a', { href: link, style: 'display:flex;gap:10px;flex:1;min-width:0;color:inherit' }, img(item.image, item.title, 'fav-img'), body)
    : h('div', { style: `display:flex;gap:10px;flex:1;min-width:0;${S.muted}` }, img(item.image, item.title, 'fav-img'), body);
  for (const el of main.querySelectorAll('img')) el.setAttribute('style', S.thumb);
  return h('section.card.fav-item', { style: S.row, dataset: { id: String(item.product_id) } }, main, extra);
}

function favoritesScreen(ctx) {
  const list = h('div', loading());
  const more = h('div', { style: 'padding:12px;text-align:center' });
  let cursor = null;
  let shown = [];

  async function load(reset) {
    let r;
    try {
      r = await api('/me/favorites', { query: { limit: 20, cursor: reset ? null : cursor } });
    } catch (err) {
      ctx.fail(err);
      return;
    }
    if (!ctx.alive()) return;
    shown = reset ? r.items : shown.concat(r.items);
    cursor = r.next_cursor;
    if (!shown.length) {
      put(list, empty('还没有收藏的商品', h('a.btn.btn-ghost', { href: '#/' }, '去逛逛')));
    } else {
      put(list, shown.map((it) => {
        const drop = h('button.btn.btn-small', { type: 'button' }, '取消收藏');
        drop.addEventListener('click', busy(drop, async () => {
          try {
            await api(`/me/favorites/${it.product_id}`, { method: 'DELETE' });
            toast('已取消收藏');
          } catch (err) {
            toast(say(err));
          }
          await load(true);
        }));
        return card(it, drop);
      }));
    }
    if (cursor) {
      const btn = h('button.btn.btn-ghost', { type: 'button' }, '加载更多');
      btn.addEventListener('click', busy(btn, () => load(false)));
      put(more, btn);
    } else put(more, shown.length ? h('span.muted.small', `共 ${r.total} 件，最多可收藏 ${r.limit} 件`) : null);
  }
  load(true);
  return h('div.page.favorites', topbar('我的收藏', { backTo: '#/me' }), list, more);
}

/** 今天 / 昨天 / 12月3日 for a "YYYY-MM-DD" in the zone the server's times carry. */
function dayLabel(key, iso) {
  const m = /([+-])(\d{2}):(\d{2})$/.exec(iso || '');
  const offset = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  const day = (ms) => new Date(ms + offset * 60000).toISOString().slice(0, 10);
  const now = serverNow();
  if (key === day(now)) return '今天';
  if (key === day(now - 86400000)) return '昨天';
  const [y, mo, d] = key.split('-').map(Number);
  return `${y === new Date(now).getFullYear() ? '' : `${y}年`}${mo}月${d}日`;
}

function historyScreen(ctx) {
  const list = h('div', loading());
  const clear = h('button.btn.btn-small.hist-clear', { type: 'button' }, '清空');

  async function reload() {
    let r;
    try {
      r = await api('/me/history', { query: { limit: 100 } });
    } catch (err) {
      ctx.fail(err);
      return;
    }
    if (!ctx.alive()) return;
    clear.hidden = !r.items.length;
    if (!r.items.length) {
      put(list, empty('还没有浏览过的商品', h('a.btn.btn-ghost', { href: '#/' }, '去逛逛')));
      return;
    }
    const days = new Map();
    for (const it of r.items) {
      const key = it.viewed_at.slice(0, 10);
      if (!days.has(key)) days.set(key, []);
      days.get(key).push(it);
    }
    put(list, [...days].map(([key, items]) => h('div.hist-day', { dataset: { day: key } },
      h('h2.hist-day-title', { style: S.day }, dayLabel(key, items[0].viewed_at)),
      items.map((it) => {
        const del = h('button.btn.btn-small', { type: 'button', 'aria-label': '删除这条足迹' }, '删除');
        del.addEventListener('click', busy(del, async () => {
          try {
            await api(`/me/history/${it.product_id}`, { method: 'DELETE' });
          } catch (err) {
            toast(errorText(err));
          }
          await reload();
        }));
        return card(it, del);
      }))), h('p.muted.small', { style: 'text-align:center' }, `保留最近浏览的 ${r.limit} 件商品`));
  }
  clear.addEventListener('click', busy(clear, async () => {
    if (!(await confirmBox('确定清空全部足迹吗？', '清空'))) return;
    try {
      await api('/me/history', { method: 'DELETE' });
      toast('足迹已清空', 'ok');
    } catch (err) {
      toast(errorText(err));
    }
    await reload();
  }));
  reload();
  return h('div.page.history', topbar('足迹', { backTo: '#/me', right: clear }), list);
}

export const routes = [
  [/^\/me\/favorites$/, favoritesScreen, { auth: true, tab: 'me' }],
  [/^\/me\/history$/, historyScreen, { auth: true, tab: 'me' }],
];
export { productActions };
