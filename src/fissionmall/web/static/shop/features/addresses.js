// 收货地址: the shopper's address book (list, add, edit, delete, set default), reachable from 我的.
// Checkout (screens/checkout.js) picks the default address and lets the shopper choose another from the book.

import { api } from '../api.js';
import { busy, empty, fail, loading, put, topbar } from '../kit.js';
import { confirmBox, errorText, h, toast } from '../ui.js';

const FIELDS = [
  ['name', '收货人', '请填写收货人姓名', 'text', 'name', 64],
  ['phone', '手机号', '手机或座机，如 020-81167888', 'tel', 'tel', 32],
  ['region', '所在地区', '省 市 区，如 上海市 浦东新区', 'text', 'address-level1', 100],
  ['detail', '详细地址', '街道、门牌号等', 'text', 'street-address', 200],
];
// Digits with +, spaces, - and brackets (full-width too): the server normalises and keeps what was typed.
export const PHONE_RE = /^\+?[0-9()（）\- ]{5,32}$/;
// Only what reads differently here than in the server's table (GET /api/v1/error-codes).
const ERRORS = {
  ADDRESS_BOOK_FULL: '地址簿已满（最多 20 个），请先删除不用的地址',
};
const say = (err) => (err && ERRORS[err.code]) || errorText(err);
const S = {
  who: 'display:flex;gap:10px;align-items:baseline;font-weight:600',
  line: 'color:#5c6370;font-size:13px;margin:4px 0 8px',
  tag: 'display:inline-block;padding:1px 6px;border-radius:4px;background:#fff0e6;color:#f26b1d;font-size:12px;font-weight:400',
  actions: 'display:flex;gap:8px;justify-content:flex-end;align-items:center',
};

export function addressText(a) {
  return `${a.region} ${a.detail}`;
}

/** One address as a card body: 收货人 电话 [默认] / 地区 详细地址. */
export function addressBlock(a) {
  return h('div.addr',
    h('div', { style: S.who }, h('span.addr-name', a.name), h('span.addr-phone', a.phone),
      a.is_default ? h('span.addr-default', { style: S.tag }, '默认') : null),
    h('div.addr-line', { style: S.line }, addressText(a)));
}

function validate(v) {
  if (!v.name) return '请填写收货人';
  if (!PHONE_RE.test(v.phone)) return '请填写正确的电话号码';
  if (!v.region) return '请填写所在地区';
  if (!v.detail) return '请填写详细地址';
  return null;
}

/** The add / edit form, inside a page. `done(saved)` after the server stored it. */
function addressForm(existing, done) {
  const inputs = {};
  const rows = FIELDS.map(([key, label, ph, type, ac, max]) => {
    inputs[key] = h('input', { name: key, type, placeholder: ph, autocomplete: ac, maxlength: max, value: existing ? existing[key] || '' : '' });
    return h('label.form-row', h('span.form-label', label), inputs[key]);
  });
  const isDefault = h('input', { type: 'checkbox', name: 'is_default', checked: existing ? existing.is_default : false });
  const save = h('button.btn.btn-primary.btn-block', { type: 'button' }, '保存');
  save.addEventListener('click', busy(save, async () => {
    const v = {};
    for (const [key] of FIELDS) v[key] = inputs[key].value.trim();
    const problem = validate(v);
    if (problem) {
      toast(problem);
      return;
    }
    try {
      let saved;
      if (existing) {
        if (isDefault.checked && !existing.is_default) v.is_default = true;
        saved = await api(`/me/addresses/${existing.id}`, { method: 'PUT', body: v });
      } else {
        v.is_default = isDefault.checked;
        saved = await api('/me/addresses', { body: v });
      }
      toast('地址已保存', 'ok');
      done(saved);
    } catch (err) {
      toast(say(err));
    }
  }));
  return h('div',
    h('section.card.addr-form', ...rows,
      h('label.form-row', h('span.form-label', '设为默认'), isDefault)),
    h('div', { style: 'padding:12px' }, save));
}

function editScreen(ctx) {
  const id = ctx.params[0];
  const back = ctx.query.get('back') || '#/me/addresses';
  const body = h('div', id ? loading() : null);
  const finish = () => { location.hash = back; };
  if (!id) {
    put(body, addressForm(null, finish));
  } else {
    api('/me/addresses').then((r) => {
      if (!ctx.alive()) return;
      const a = r.items.find((x) => String(x.id) === id);
      put(body, a ? addressForm(a, finish) : empty('该地址已不存在'));
    }).catch((err) => ctx.fail(err));
  }
  return h('div.page.addr-edit', topbar(id ? '编辑收货地址' : '新增收货地址', { backTo: back }), body);
}

function listScreen(ctx) {
  const list = h('div', loading());
  const add = h('a.btn.btn-primary.btn-block.addr-add', { href: '#/me/addresses/new' }, '＋ 新增收货地址');

  async function reload() {
    let r;
    try {
      r = await api('/me/addresses');
    } catch (err) {
      ctx.fail(err);
      return;
    }
    if (!ctx.alive()) return;
    if (!r.items.length) {
      put(list, empty('还没有收货地址'));
      return;
    }
    put(list, ...r.items.map((a) => {
      const setDefault = a.is_default ? null : h('button.btn.btn-small', { type: 'button' }, '设为默认');
      if (setDefault) setDefault.addEventListener('click', busy(setDefault, async () => {
        try {
          await api(`/me/addresses/${a.id}`, { method: 'PUT', body: { is_default: true } });
          toast('已设为默认地址', 'ok');
        } catch (err) {
          toast(say(err));
        }
        await reload();
      }));
      const del = h('button.btn.btn-small', { type: 'button' }, '删除');
      del.addEventListener('click', busy(del, async () => {
        if (!(await confirmBox('确定删除这个地址吗？', '删除'))) return;
        try {
          await api(`/me/addresses/${a.id}`, { method: 'DELETE' });
          toast('已删除', 'ok');
        } catch (err) {
          toast(say(err));
        }
        await reload();
      }));
      return h('section.card.addr-item', { 'data-id': String(a.id) },
        addressBlock(a),
        h('div', { style: S.actions }, setDefault,
          h('a.btn.btn-small', { href: `#/me/addresses/${a.id}/edit` }, '编辑'), del));
    }), h('p.muted.small', { style: 'text-align:center' }, `最多可保存 ${r.limit} 个地址`));
  }
  reload().catch((err) => fail(err, ctx));
  return h('div.page.addresses', topbar('收货地址', { backTo: '#/me' }), list, h('div', { style: 'padding:12px' }, add));
}

function meEntries() {
  return h('section.card.menu', h('a.menu-item', { href: '#/me/addresses' }, h('span', '收货地址')));
}

export const routes = [
  [/^\/me\/addresses$/, listScreen, { auth: true, tab: 'me' }],
  [/^\/me\/addresses\/new$/, editScreen, { auth: true, tab: 'me' }],
  [/^\/me\/addresses\/(\d+)\/edit$/, editScreen, { auth: true, tab: 'me' }],
];
export { meEntries };
