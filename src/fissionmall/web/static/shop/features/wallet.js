// 储值 (余额): the wallet page (#/me/wallet: 本金, 赠送, 余额明细), the top-up page (#/me/wallet/top-up:
// packages as cards 充500送100, bought through the cashier), a 我的 entry, and the 收银台's 余额支付 /
// 组合支付 (余额 ¥x + 微信 ¥y): the wallet pays all of it (straight to the order) or its part, and the
// gateway's cashier then asks for the rest.

import { busy, empty, fail, go, loading, put, startPayment, topbar } from '../kit.js';
import { api, randomId } from '../api.js';
import { h, icon, ICONS, toast, yuan, fmtTime, errorText } from '../ui.js';

const STYLE = `
.wl-head { text-align: center; padding: 18px 12px; }
.wl-head strong { display: block; font-size: 30px; margin: 4px 0 10px; }
.wl-parts { display: flex; justify-content: space-around; color: var(--muted); font-size: 13px; }
.wl-parts b { display: block; color: var(--text, #222); font-size: 16px; }
.wl-entry { display: flex; justify-content: space-between; align-items: center; gap: 10px; padding: 10px 0; }
.wl-entry + .wl-entry { border-top: 1px solid var(--line); }
.wl-entry small { display: block; color: var(--muted); }
.wl-plus { color: var(--red, #e4393c); }
.wl-packages { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.wl-package { border: 1px solid var(--line); border-radius: 10px; padding: 14px 10px; text-align: center; background: #fff; font: inherit; }
.wl-package strong { display: block; font-size: 18px; }
.wl-package small { color: var(--red, #e4393c); }
.wl-method { margin-top: 12px; padding-top: 12px; border-top: 1px solid var(--line); }
.wl-method .pay-method-icon { background: var(--orange, #ff9500); }
.wl-method .btn { margin-left: auto; white-space: nowrap; }
.wl-right { text-align: right; }
.wl-top-up { margin-top: 14px; }
.wl-note { padding: 0 16px; margin-top: 10px; }
.wl-right small { white-space: nowrap; }
`;
if (!document.getElementById('wl-style')) document.head.append(h('style', { id: 'wl-style' }, STYLE));

const signed = (fen) => (fen > 0 ? '+' : fen < 0 ? '-' : '') + '¥' + yuan(Math.abs(fen));

function entryRow(e) {
  const parts = [];
  if (e.principal_delta) parts.push(`本金 ${signed(e.principal_delta)}`);
  if (e.bonus_delta) parts.push(`赠送 ${signed(e.bonus_delta)}`);
  return h('div.wl-entry', { dataset: { kind: e.kind } },
    h('div', h('span', e.kind_text), h('small', [e.reason, fmtTime(e.created_at)].filter(Boolean).join(' · '))),
    h('div.wl-right',
      h('strong', { class: e.delta_fen > 0 ? 'wl-plus' : '' }, signed(e.delta_fen)), h('small', parts.join('，'))));
}

function walletScreen(ctx) {
  const head = h('section.card.wl-head', loading());
  const list = h('div.wl-list');
  const more = h('button.btn.btn-ghost.btn-block', { type: 'button', hidden: true }, '加载更多');
  let cursor = null;
  const page = async () => {
    const data = await api('/wallet/ledger', { query: { cursor, limit: 20 } });
    if (!ctx.alive()) return;
    if (!cursor && !data.items.length) put(list, h('p.muted', '还没有余额变动'));
    else list.append(...data.items.map(entryRow));
    cursor = data.next_cursor;
    more.hidden = !cursor;
  };
  more.addEventListener('click', busy(more, () => page().catch((err) => fail(err, ctx))));
  (async () => {
    try {
      const w = await api('/wallet');
      if (!ctx.alive()) return;
      put(head,
        h('span.muted', '账户余额（元）'),
        h('strong', { id: 'wallet-balance' }, yuan(w.balance_fen)),
        h('div.wl-parts',
          h('span', h('b', { id: 'wallet-principal' }, yuan(w.principal_fen)), '本金'),
          h('span', h('b', { id: 'wallet-bonus' }, yuan(w.bonus_fen)), '赠送')),
        h('a.btn.btn-primary.btn-block.wl-top-up', { id: 'wallet-top-up', href: '#/me/wallet/top-up' }, '充值'));
      await page();
    } catch (err) {
      if (ctx.alive()) ctx.fail(err);
    }
  })();
  return h('div.page.wallet', topbar('我的余额', { backTo: '#/me' }), head,
    h('section.card', h('div.card-title', '余额明细'), list, more),
    h('p.muted.small.wl-note', '先使用本金，再使用赠送金额；赠送金额不可提现。储值退款请联系商家，只退未使用的本金。'));
}

function topUpScreen(ctx) {
  const grid = h('div.wl-packages', loading());
  (async () => {
    try {
      const packages = await api('/wallet/packages');
      if (!ctx.alive()) return;
      if (!packages.length) {
        put(grid, empty('暂无可选的充值套餐'));
        return;
      }
      put(grid, ...packages.map((p) => {
        const card = h('button.wl-package', { type: 'button', dataset: { packageId: String(p.id) } },
          h('strong', `充${yuan(p.pay_fen).replace(/\.00$/, '')}`),
          p.bonus_fen ? h('small', `送${yuan(p.bonus_fen).replace(/\.00$/, '')}元`) : h('small', '\u00a0'),
          h('div.muted.small', p.name));
        const idem = randomId('topup-');
        card.addEventListener('click', busy(card, async () => {
          try {
            const order = await api('/wallet/top-ups', { body: { package_id: p.id }, idem });
            await startPayment(order.id);
          } catch (err) {
            fail(err, ctx);
          }
        }));
        return card;
      }));
    } catch (err) {
      if (ctx.alive()) ctx.fail(err);
    }
  })();
  return h('div.page.wallet-top-up', topbar('余额充值', { backTo: '#/me/wallet' }),
    h('section.card', h('div.card-title', '选择充值金额'), grid),
    h('p.muted.small.wl-note', '充值金额到账为本金，赠送金额另计；支付成功后立即到账。'));
}

export const routes = [
  [/^\/me\/wallet$/, walletScreen, { auth: true, tab: 'me' }],
  [/^\/me\/wallet\/top-up$/, topUpScreen, { auth: true, tab: 'me' }],
];

export function meEntries() {
  return h('section.card.menu', h('a.menu-item', { id: 'me-wallet', href: '#/me/wallet' }, h('span', '我的余额'), h('span.muted.small', '充值有礼')));
}

// A top-up order's page links back to the balance it credited.
export function orderSections(o) {
  if (o.source !== 'wallet_topup') return null;
  return h('section.card.menu', h('a.menu-item.wl-order-link', { href: '#/me/wallet' }, h('span', '查看我的余额')));
}

/** The cashier's wallet row: 余额支付 when the balance covers the payment, else 组合支付, or what the wallet already paid. */
export function cashierMethods(payment, ctx) {
  const row = h('div.pay-method.wl-method', { hidden: true, dataset: { method: 'wallet' } });
  (async () => {
    try {
      const [w, o] = await Promise.all([api('/wallet'), api(`/orders/${payment.order_id}`)]);
      if (!ctx.alive() || o.source === 'wallet_topup') return;
      const due = payment.amount_fen;
      const name = (title, note) => [h('span.pay-method-icon', icon(ICONS.wallet)), h('span.pay-method-name', title, h('small', note))];
      if (o.payable_fen > due) {
        put(row, name('余额已抵扣', `¥${yuan(o.payable_fen - due)}，还需微信支付 ¥${yuan(due)}`));
      } else if (w.balance_fen <= 0) {
        put(row, name('余额支付', '余额不足'), h('a.btn.btn-sm.btn-ghost', { href: '#/me/wallet/top-up' }, '去充值'));
      } else {
        const all = w.balance_fen >= due;
        const part = all ? due : w.balance_fen;
        const btn = h('button.btn.btn-sm.btn-primary', { id: 'wallet-pay', type: 'button' }, all ? '余额支付' : '组合支付');
        const idem = randomId('wpay-');
        btn.addEventListener('click', busy(btn, async () => {
          try {
            const body = all ? { method: 'wallet' } : { method: 'split', wallet_fen: part };
            const pay = await api(`/orders/${payment.order_id}/pay`, { body, idem });
            if (pay.payment_id == null) {
              toast('支付成功', 'ok');
              go(`#/orders/${payment.order_id}`, true);
            } else {
              toast(`余额已抵扣 ¥${yuan(part)}，请支付剩余金额`, 'ok');
              go(`#/cashier/${pay.payment_id}`, true);
            }
          } catch (err) {
            toast(errorText(err));
          }
        }));
        put(row,
          name(all ? '余额支付' : '组合支付',
            all ? `可用余额 ¥${yuan(w.balance_fen)}` : `余额 ¥${yuan(part)} + 微信 ¥${yuan(due - part)}`),
          btn);
      }
      row.hidden = false;
    } catch {
      /* no wallet row: the shopper pays by WeChat as before */
    }
  })();
  return row;
}
