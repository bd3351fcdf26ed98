// 我的 and 登录: the shopper's profile, order shortcuts, 收货地址 / 我的收藏 / 足迹 (features/addresses.js and
// features/favorites.js serve them) and the entries other features add; sandbox WeChat login and the test
// login codes.

import { api, clearRef, deviceLoginCode, pendingRef, setToken } from '../api.js';
import { ICONS, confirmBox, h, icon, img, toast, yuan } from '../ui.js';
import { back, busy, featureSections, go, put } from '../kit.js';

// ---- 我的 --------------------------------------------------------------------------------------

// GET /me names level (the member level's name, opening 会员中心), points (opening #/me/points), wallet_fen
// (#/me/wallet) and paid_member_until; each is null until the tool behind it is there, and 我的 shows each
// only when it has a value, never a 0 that only means "no such feature yet".
const has = (v) => v !== undefined && v !== null;

function meStats(me) {
  const cells = [];
  if (has(me.points)) cells.push(h('a.stat', { href: '#/me/points', dataset: { stat: 'points' } }, h('strong', String(me.points)), h('span', '积分')));
  if (has(me.wallet_fen)) cells.push(h('a.stat', { href: '#/me/wallet', dataset: { stat: 'wallet' } }, h('strong', yuan(me.wallet_fen)), h('span', '余额（元）')));
  if (!cells.length) return [];
  cells.push(h('div.stat', { dataset: { stat: 'distribution' } }, h('strong', me.is_distributor ? '已开通' : '未开通'), h('span', '分销')));
  return cells;
}

export function meScreen(ctx) {
  const head = h('section.me-head', h('div.me-avatar', '…'), h('div.me-name', '加载中…'));
  const stats = h('section.card.me-stats', { hidden: true });
  api('/me').then((me) => {
    if (!ctx.alive()) return;
    put(head,
      h('div.me-avatar', me.avatar_url ? img(me.avatar_url, me.nickname, 'me-avatar-img') : (me.nickname || '我').slice(0, 1)),
      h('div.me-who', h('div.me-name', me.nickname), h('div.me-id', `编号 ${me.id}`,
        has(me.level) ? h('a.me-level', { href: '#/me/member', dataset: { level: me.level } }, me.level) : null,
        me.paid_member_until ? h('span.me-level.me-vip', '付费会员') : null,
        me.is_distributor ? h('span.me-level.me-dist', '分销员') : null)));
    const cells = meStats(me);
    put(stats, cells);
    stats.hidden = !cells.length;
  }).catch((err) => ctx.fail(err));

  const shortcuts = [
    ['pending_payment', '待付款', ICONS.pay],
    ['paid', '待发货', ICONS.box],
    ['shipped', '待收货', ICONS.truck],
    ['done', '已完成', ICONS.check],
  ];
  const logout = h('button.menu-item', { type: 'button' }, h('span', '退出登录'), icon(ICONS.chevron, 'icon chev'));
  logout.addEventListener('click', async () => {
    if (!(await confirmBox('确定退出当前账号吗？', '退出'))) return;
    setToken(null);
    toast('已退出登录');
    go('#/', true);
  });
  return h('div.page.me',
    head,
    stats,
    h('section.card',
      h('a.card-title.card-title-link', { href: '#/orders' }, h('span', '我的订单'), h('span.muted.small', '全部订单'), icon(ICONS.chevron, 'icon chev')),
      h('div.shortcuts', shortcuts.map(([key, label, d]) => h('a.shortcut', { href: `#/orders?status=${key}` }, icon(d), h('span', label))))),
    h('section.card.menu.me-mine',
      ...[['#/me/addresses', '收货地址'], ['#/me/favorites', '我的收藏'], ['#/me/history', '足迹']].map(([href, label]) =>
        h('a.menu-item', { href }, h('span', label), icon(ICONS.chevron, 'icon chev')))),
    ...featureSections('meEntries', ctx),
    h('section.card.menu',
      h('a.menu-item', { href: '#/login' }, h('span', '切换账号'), icon(ICONS.chevron, 'icon chev')),
      logout),
    h('p.footnote', '沙箱环境 · 登录与支付均为模拟'));
}

// ---- 登录 --------------------------------------------------------------------------------------

export function loginScreen(ctx) {
  const next = ctx.query.get('next');
  const target = next && next.startsWith('/') && !next.startsWith('/login') ? '#' + next : '#/';

  async function login(code) {
    const ref = pendingRef();
    let res;
    try {
      res = await api('/auth/wechat-login', { body: ref ? { code, ref } : { code } });
    } catch (err) {
      ctx.fail(err);
      return;
    }
    setToken(res.token);
    if (ref) clearRef();
    toast(res.user.is_new ? `欢迎你，${res.user.nickname}` : `欢迎回来，${res.user.nickname}`, 'ok');
    go(target, true);
  }

  const wx = h('button.btn.btn-wechat.btn-block.btn-lg', { type: 'button' }, icon(ICONS.wechat), '微信一键登录');
  wx.addEventListener('click', busy(wx, () => login(deviceLoginCode())));
  const codeInput = h('input.login-code', {
    name: 'code', placeholder: '测试账号，如 alice', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', maxlength: 48,
    'aria-label': '测试登录码',
  });
  const codeBtn = h('button.btn.btn-ghost', { type: 'submit' }, '登录');
  const form = h('form.login-test', codeInput, codeBtn);
  form.addEventListener('submit', busy(codeBtn, async (e) => {
    e.preventDefault();
    const code = codeInput.value.trim();
    if (!/^[A-Za-z0-9_-]{1,48}$/.test(code)) {
      toast('登录码只能包含字母、数字、下划线和短横线');
      return;
    }
    await login(code);
  }));

  return h('div.page.login',
    h('button.float-back', { type: 'button', 'aria-label': '返回', onclick: () => back('#/') }, icon(ICONS.back)),
    h('div.login-hero',
      h('div.login-logo', '裂'),
      h('h1', '裂变商城'),
      h('p', '好物低价 · 拼团秒杀 · 分享有礼')),
    h('div.login-box',
      wx,
      h('p.login-tip', '登录即表示同意《用户协议》和《隐私政策》'),
      h('div.divider', h('span', '测试登录')),
      form,
      h('p.login-tip', '沙箱环境：任意登录码对应一个测试用户，可用来切换账号')),
  );
}
