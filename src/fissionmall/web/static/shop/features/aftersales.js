// 售后: apply (仅退款 / 退货退款, lines and quantities, reason, photos, the amount before submitting), an
// after-sales page (state, history, the return's carrier and tracking number, cancel) and the shopper's list.
// The order page links here (申请售后, and each of its refunds).

import { api, deviceId, getToken, randomId } from '../api.js';
import { busy, empty, fail, go, loading, put, topbar } from '../kit.js';
import { REFUND_STATUS, confirmBox, errorText, fmtTime, h, img, price, stepper, toast, yuan } from '../ui.js';

const REASONS = [
  ['unwanted', '拍错/不想要了'],
  ['quality', '质量问题'],
  ['missing', '少件/漏发'],
  ['not_as_described', '与描述不符'],
  ['other', '其他'],
];
const SERVICE = { refund_only: '仅退款', return: '退货退款' };
const ACTOR = { shopper: '我', merchant: '商家', system: '系统' };
const MAX_PHOTOS = 6;
const S = {
  row: 'display:flex;gap:8px;flex-wrap:wrap;margin:8px 0',
  photo: 'width:64px;height:64px;object-fit:cover;border-radius:6px',
  amount: 'display:flex;justify-content:space-between;align-items:center;padding:10px 0;font-weight:600',
  entry: 'padding:8px 0;border-bottom:1px solid #f0f0f0',
};

/** One photo up (multipart, not JSON: the only upload of the shop), its media URL back. */
async function upload(file) {
  const form = new FormData();
  form.append('file', file);
  const res = await fetch('/api/v1/me/uploads', {
    method: 'POST',
    headers: { Authorization: `Bearer ${getToken()}`, 'X-Device-Id': deviceId() },
    body: form,
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error((data && data.error && data.error.message) || '图片上传失败');
  return data.url;
}

function chips(options, current, onPick) {
  const wrap = h('div.reason-list');
  for (const [key, label] of options) {
    const b = h('button.chip', { type: 'button', dataset: { key } }, label);
    if (key === current) b.classList.add('active');
    b.addEventListener('click', () => {
      for (const x of wrap.children) x.classList.toggle('active', x === b);
      onPick(key);
    });
    wrap.append(b);
  }
  return wrap;
}

// ---- 申请售后 ----------------------------------------------------------------------------------

function applyScreen(ctx) {
  const orderId = ctx.params[0];
  const root = h('div.page.aftersales-apply', topbar('申请售后', { backTo: `#/orders/${orderId}` }), loading());
  api(`/orders/${orderId}`).then((o) => {
    if (ctx.alive()) put(root, topbar('申请售后', { backTo: `#/orders/${orderId}` }), ...applyForm(o, ctx));
  }, (err) => {
    if (!ctx.alive()) return;
    put(root, topbar('申请售后', { backTo: '#/orders' }), empty(errorText(err)));
    ctx.failShown(err);
  });
  return root;
}

function applyForm(o, ctx) {
  const shipped = ['shipped', 'received'].includes(o.status);
  const state = { kind: 'refund_only', reason: 'other', qty: {}, photos: [] };
  const amount = h('span.aftersales-amount', '—');
  const shippingNote = h('span.muted.small');
  let seq = 0;
  let attempt = null;

  const body = () => {
    const text = note.value.trim();
    const label = REASONS.find(([k]) => k === state.reason)[1];
    const lines = Object.entries(state.qty).filter(([, n]) => n > 0).map(([id, n]) => ({ line_id: Number(id), qty: n }));
    return { kind: state.kind, reason_code: state.reason, reason: (text || label).slice(0, 200), lines, images: state.photos };
  };
  async function requote() {
    const mine = ++seq;
    const b = body();
    if (!b.lines.length) {
      amount.textContent = '请选择要退的商品';
      shippingNote.textContent = '';
      return;
    }
    try {
      const q = await api(`/orders/${o.id}/refunds/quote`, { body: b });
      if (mine !== seq || !ctx.alive()) return;
      put(amount, price(q.amount_fen, 'price-red'));
      shippingNote.textContent = q.shipping_fen ? `含运费 ¥${yuan(q.shipping_fen)}` : '不含运费';
    } catch (err) {
      if (mine === seq && ctx.alive()) amount.textContent = errorText(err);
    }
  }

  // From a line's 申请售后 (?line=ID) only that line is chosen; from the order's button, everything left.
  const only = ctx.query.get('line');
  const lines = o.lines.map((ln) => {
    const left = ln.qty - ln.refunded_qty - ln.refund_pending_qty;
    state.qty[ln.id] = only && String(ln.id) !== only ? 0 : Math.max(0, left);
    return h('div.oline', { dataset: { line: String(ln.id) } },
      h('div.line', img(ln.image, ln.title),
        h('div.line-main', h('div.line-title', ln.title), h('div.line-sku', ln.sku_name), h('div.muted.small', `可退 ${Math.max(0, left)} 件`)),
        left > 0 ? stepper(state.qty[ln.id], 0, left, (n) => {
          state.qty[ln.id] = n;
          requote();
        }, '退货数量') : h('span.muted.small', '已无可退')));
  });

  const note = h('textarea.refund-note', { rows: 2, maxlength: 150, placeholder: '补充说明（选填）' });
  note.addEventListener('change', requote);
  const thumbs = h('div.aftersales-photos', { style: S.row });
  // The native file control reads in the browser's language: hidden, behind a button of our own words.
  const picker = h('input', { type: 'file', accept: 'image/jpeg,image/png,image/webp', 'aria-label': '上传凭证图片', style: 'display:none' });
  const pick = h('label.btn.btn-small.btn-ghost', picker, '＋ 上传图片');
  const showPhotos = () => {
    put(thumbs, state.photos.map((url, i) => {
      const x = h('button.chip', { type: 'button', 'aria-label': '删除图片' }, '×');
      x.addEventListener('click', () => {
        state.photos.splice(i, 1);
        showPhotos();
      });
      return h('div', h('img', { src: url, alt: `凭证 ${i + 1}`, style: S.photo }), x);
    }));
    picker.disabled = state.photos.length >= MAX_PHOTOS;
    pick.hidden = picker.disabled;
  };
  picker.addEventListener('change', async () => {
    const file = picker.files && picker.files[0];
    picker.value = '';
    if (!file) return;
    if (state.photos.length >= MAX_PHOTOS) {
      toast(`最多上传 ${MAX_PHOTOS} 张图片`);
      return;
    }
    try {
      state.photos.push(await upload(file));
      showPhotos();
    } catch (err) {
      toast(err.message || '图片上传失败', 'error');
    }
  });

  const submit = h('button.btn.btn-primary.btn-block', { type: 'button' }, '提交申请');
  submit.addEventListener('click', busy(submit, async () => {
    const b = body();
    if (!b.lines.length) {
      toast('请选择要退的商品');
      return;
    }
    const text = JSON.stringify(b);
    if (!attempt || attempt.body !== text) attempt = { key: randomId('refund-'), body: text };
    try {
      const r = await api(`/orders/${o.id}/refunds`, { body: b, idem: attempt.key });
      toast('售后申请已提交，等待商家处理', 'ok');
      go(`#/aftersales/${r.id}`, true);
    } catch (err) {
      ctx.fail(err);
    }
  }));

  const kinds = shipped ? [['refund_only', '仅退款'], ['return', '退货退款']] : [['refund_only', '仅退款']];
  requote();
  return [
    h('section.card', h('div.card-title', '售后类型'), chips(kinds, state.kind, (k) => {
      state.kind = k;
      requote();
    }), shipped ? null : h('div.muted.small', '商品尚未发货，可申请仅退款')),
    h('section.card', h('div.card-title', '选择商品'), lines),
    h('section.card', h('div.card-title', '退款原因'), chips(REASONS, state.reason, (k) => {
      state.reason = k;
      requote();
    }), note),
    h('section.card', h('div.card-title', `上传凭证（最多 ${MAX_PHOTOS} 张）`), thumbs, pick),
    h('section.card', h('div', { style: S.amount }, h('span', '退款金额'), amount), shippingNote),
    h('div.actionbar', submit),
  ];
}

// ---- 售后详情 ----------------------------------------------------------------------------------

const HINT = {
  pending: '等待商家处理，商家超时未处理将自动同意',
  approved: '商家已同意，请按退货地址寄回商品并填写物流单号',
  return_shipped: '商品已寄回，等待商家确认收货后退款',
  processing: '退款处理中，款项将原路退回',
  succeeded: '退款成功，款项已原路退回',
  rejected: '商家拒绝了售后申请',
  cancelled: '您已撤销本次售后申请',
  closed: '超时未寄回商品，售后已关闭',
};

function detailScreen(ctx) {
  const id = ctx.params[0];
  const root = h('div.page.aftersales-detail', topbar('售后详情', { backTo: '#/aftersales' }), loading());
  async function show() {
    let r;
    try {
      r = await api(`/refunds/${id}`);
    } catch (err) {
      if (!ctx.alive()) return;
      put(root, topbar('售后详情', { backTo: '#/aftersales' }), empty(errorText(err)));
      ctx.failShown(err);
      return;
    }
    if (ctx.alive()) put(root, topbar('售后详情', { backTo: `#/orders/${r.order_id}` }), ...detailView(r, ctx, show));
  }
  show();
  return root;
}

function shipForm(r, ctx, refresh) {
  const carrier = h('input', { name: 'carrier', maxlength: 64, placeholder: '快递公司，如 顺丰速运', 'aria-label': '快递公司' });
  const no = h('input', { name: 'tracking_no', maxlength: 40, placeholder: '快递单号', 'aria-label': '快递单号' });
  const send = h('button.btn.btn-primary.btn-block', { type: 'button' }, '提交物流信息');
  send.addEventListener('click', busy(send, async () => {
    const body = { carrier: carrier.value.trim(), tracking_no: no.value.trim() };
    if (!body.carrier) return toast('请填写快递公司');
    if (!/^[A-Za-z0-9-]{4,40}$/.test(body.tracking_no)) return toast('请填写正确的快递单号（4-40 位字母或数字）');
    try {
      await api(`/refunds/${r.id}/return-shipment`, { body });
      toast('已提交物流信息', 'ok');
      await refresh();
    } catch (err) {
      ctx.fail(err);
    }
    return null;
  }));
  return h('section.card.return-form', h('div.card-title', '填写退货物流'),
    h('label.form-row', h('span.form-label', '快递公司'), carrier),
    h('label.form-row', h('span.form-label', '快递单号'), no), send);
}

function detailView(r, ctx, refresh) {
  const photos = (urls) => (urls && urls.length
    ? h('div', { style: S.row }, urls.map((u, i) => h('img', { src: u, alt: `凭证 ${i + 1}`, style: S.photo })))
    : null);
  let cancel = null;
  if (r.status === 'pending' || r.status === 'approved') {
    cancel = h('button.btn.btn-ghost.btn-block', { type: 'button' }, '撤销申请');
    cancel.addEventListener('click', busy(cancel, async () => {
      if (!(await confirmBox('确定撤销本次售后申请吗？', '撤销申请'))) return;
      try {
        await api(`/refunds/${r.id}/cancel`, { method: 'POST' });
        toast('已撤销');
        await refresh();
      } catch (err) {
        ctx.fail(err);
      }
    }));
  }
  const kv = [
    ['售后类型', SERVICE[r.service] || r.service],
    ['退款原因', r.reason],
    ['退款金额', `¥${yuan(r.amount_fen)}${r.shipping_fen ? `（含运费 ¥${yuan(r.shipping_fen)}）` : ''}`],
    ['退货地址', r.return_address || ''],
    ['退货物流', r.return_tracking_no ? `${r.return_carrier} ${r.return_tracking_no}` : ''],
    ['拒绝原因', r.status === 'rejected' ? r.reject_reason || '' : ''],
    ['申请时间', fmtTime(r.created_at)],
  ].filter(([, v]) => v);
  return [
    h(`section.ostatus.aftersales-status.rstatus-${r.status}`, { dataset: { status: r.status } },
      h('div.ostatus-text', h('strong.ostatus-name', REFUND_STATUS[r.status] || r.status), h('div.ostatus-hint', HINT[r.status] || ''))),
    h('section.card', kv.map(([k, v]) => h('div.kv', h('span', k), h('span', v))), photos(r.images)),
    r.status === 'approved' && r.service === 'return' ? shipForm(r, ctx, refresh) : null,
    h('section.card.aftersales-history', h('div.card-title', '协商记录'), (r.entries || []).map((e) => h('div.history-entry', { style: S.entry },
      h('div', h('strong', ACTOR[e.actor] || e.actor), ' ', h('span.muted.small', fmtTime(e.created_at))),
      h('div', e.text), photos(e.images)))),
    h('a.btn.btn-ghost.btn-block', { href: `#/orders/${r.order_id}` }, '查看订单'),
    cancel,
  ];
}

// ---- 我的售后 ----------------------------------------------------------------------------------

function listScreen(ctx) {
  const list = h('div.aftersales-list', loading());
  const more = h('div.more');
  async function load(cursor) {
    try {
      const pg = await api('/refunds', { query: { cursor, limit: 10 } });
      if (!ctx.alive()) return;
      if (!cursor) put(list);
      list.append(...pg.items.map((r) => h('a.card.refund', { href: `#/aftersales/${r.id}`, dataset: { id: String(r.id), status: r.status } },
        h('div.refund-head', h('span', `${SERVICE[r.service] || ''} · 售后单 ${r.id}`), h(`span.rstatus.rstatus-${r.status}`, REFUND_STATUS[r.status] || r.status)),
        h('div.refund-foot', h('span.muted.small', fmtTime(r.created_at)), h('span', '退款金额 ', price(r.amount_fen, 'price-red'))))));
      if (!list.children.length) put(list, empty('暂无售后记录'));
      put(more, pg.next_cursor ? h('button.btn-more', { type: 'button', onclick: () => load(pg.next_cursor) }, '加载更多') : null);
    } catch (err) {
      if (ctx.alive()) fail(err, ctx);
    }
  }
  load(null);
  return h('div.page', topbar('我的售后', { backTo: '#/me' }), list, more);
}

function meEntries() {
  return h('section.card.menu', h('a.menu-item', { href: '#/aftersales' }, h('span', '我的售后')));
}

export const routes = [
  [/^\/aftersales$/, listScreen, { auth: true, tab: 'me' }],
  [/^\/aftersales\/new\/(\d+)$/, applyScreen, { auth: true }],
  [/^\/aftersales\/(\d+)$/, detailScreen, { auth: true }],
];
export { meEntries };
