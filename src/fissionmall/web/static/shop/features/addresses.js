// 收货地址: the shopper's address book (list, add, edit, delete, set default), reachable from 我的, with a
// 省/市/区 picker over the GB/T 2260 table (GET /api/v1/regions: loaded once, kept in memory and in
// localStorage beside its version). Checkout (screens/checkout.js) picks the default address and lets the
// shopper choose another from the book; it imports PHONE_RE, addressBlock and addressText, and may use
// regionPicker / loadRegions for its own first-address form.

import { api } from '../api.js';
import { busy, empty, fail, loading, put, topbar } from '../kit.js';
import { confirmBox, errorText, h, toast } from '../ui.js';

const FIELDS = [
  ['name', '收货人', '请填写收货人姓名', 'text', 'name', 64],
  ['phone', '手机号', '手机或座机，如 020-81167888', 'tel', 'tel', 32],
  ['detail', '详细地址', '街道、门牌号等', 'text', 'street-address', 200],
];
// Digits with +, spaces, - and brackets (full-width too): the server normalises and keeps what was typed.
export const PHONE_RE = /^\+?[0-9()（）\- ]{5,32}$/;
// Only what reads differently here than in the server's table (GET /api/v1/error-codes).
const ERRORS = {
  ADDRESS_BOOK_FULL: '地址簿已满（最多 20 个），请先删除不用的地址',
  REGION_UNKNOWN: '请选择到区/县一级的所在地区',
};
const say = (err) => (err && ERRORS[err.code]) || errorText(err);
const S = {
  who: 'display:flex;gap:10px;align-items:baseline;font-weight:600',
  line: 'color:#5c6370;font-size:13px;margin:4px 0 8px',
  tag: 'display:inline-block;padding:1px 6px;border-radius:4px;background:#fff0e6;color:#f26b1d;font-size:12px;font-weight:400',
  actions: 'display:flex;gap:8px;justify-content:flex-end;align-items:center',
  picker: 'flex:1;display:flex;gap:4px;min-width:0;flex-wrap:wrap;padding:6px 0',
  select: 'flex:1 1 30%;min-width:0;height:34px;border:1px solid #e5e6eb;border-radius:6px;background:#fff;font-size:14px;padding:0 4px;color:inherit',
  note: 'flex-basis:100%;color:#8a8f99;font-size:12px',
};

// ---- the region table (省/市/区) ------------------------------------------------------------------

const KEY_REGIONS = 'fm.regions';
const REGIONS_RECHECK_MS = 7 * 86400 * 1000; // the server's max-age: the table changes with a release at most
const FILLERS = new Set(['市辖区', '县']); // a municipality's table rows that a region's name leaves out
let regionTree = null; // {version, regions: [[code, name, [[code, name, [[code, name], …]], …]], …], checked}
let treeLoading = null;

/** The region table, fetched once per week at most (memory, then localStorage, then a conditional GET). */
export function loadRegions() {
  if (regionTree) return Promise.resolve(regionTree);
  if (treeLoading) return treeLoading;
  let kept = null;
  try {
    kept = JSON.parse(localStorage.getItem(KEY_REGIONS) || 'null');
  } catch (e) {
    kept = null;
  }
  if (!kept || !kept.version || !Array.isArray(kept.regions)) kept = null;
  if (kept && Date.now() - (kept.checked || 0) < REGIONS_RECHECK_MS) {
    regionTree = kept;
    return Promise.resolve(kept);
  }
  treeLoading = (async () => {
    const headers = kept ? { 'If-None-Match': `"${kept.version}"` } : {};
    const res = await fetch('/api/v1/regions', { headers });
    let tree;
    if (res.status === 304 && kept) tree = kept;
    else if (res.ok) tree = await res.json();
    else throw new Error(`regions: HTTP ${res.status}`);
    tree.checked = Date.now();
    try {
      localStorage.setItem(KEY_REGIONS, JSON.stringify(tree));
    } catch (e) {
      // storage full or off: the copy in memory serves this visit
    }
    regionTree = tree;
    return tree;
  })().finally(() => {
    treeLoading = null;
  });
  return treeLoading;
}

// A province with no cities (台湾、香港、澳门) or a city whose table rows below are towns (东莞、中山: nine
// digits) may be the address's region by itself; anywhere else the shopper picks a 区/县.
const hasCounties = (node) => (node[2] || []).some((k) => k[0].length === 6);
const isMunicipality = (prov) => prov[2].length > 0 && prov[2].every((c) => FILLERS.has(c[1]));

function findPath(tree, code) {
  for (const p of tree.regions) {
    if (p[0] === code) return [p];
    for (const c of p[2]) {
      if (c[0] === code) return [p, c];
      for (const k of c[2]) if (k[0] === code) return [p, c, k];
    }
  }
  return null;
}

/**
 * The 省/市/区 picker: three selects styled as the shop's inputs. `initial` is `{region, region_code}` of the
 * address being edited (or null). Returns `{el, value(), problem(), touched()}`: `value()` is
 * `{region, region_code}` once a deliverable place is chosen, else null; `problem()` the Chinese hint for
 * what is missing.
 */
export function regionPicker(initial) {
  const sel = (name, label) => h('select', { name, 'aria-label': label, style: S.select, disabled: true });
  const prov = sel('province', '省份');
  const city = sel('city', '城市');
  const county = sel('county', '区县');
  const note = h('span.region-note', { style: S.note });
  const el = h('div.region-picker', { style: S.picker }, prov, city, county, note);
  let tree = null;
  let touched = false;
  const opts = (select, items, placeholder) => {
    put(select, h('option', { value: '' }, placeholder), items.map(([code, name]) => h('option', { value: code }, name)));
    select.disabled = false;
  };
  const pIdx = () => tree.regions.find((p) => p[0] === prov.value) || null;
  const cIdx = (p) => (p && !isMunicipality(p) ? p[2].find((c) => c[0] === city.value) || null : null);

  function onProvince() {
    const p = pIdx();
    city.hidden = !p || !p[2].length || isMunicipality(p);
    county.hidden = !p || !p[2].length;
    if (p && isMunicipality(p)) opts(county, p[2].flatMap((c) => c[2]), '请选择区县');
    else {
      opts(city, p ? p[2] : [], '请选择城市');
      put(county);
      county.disabled = true;
    }
  }
  function onCity() {
    const c = cIdx(pIdx());
    county.hidden = !c || !c[2].length;
    opts(county, c ? c[2] : [], c && !hasCounties(c) ? '街道/镇（可不选）' : '请选择区县');
  }
  prov.addEventListener('change', () => { touched = true; onProvince(); });
  city.addEventListener('change', () => { touched = true; onCity(); });
  county.addEventListener('change', () => { touched = true; });

  loadRegions().then((t) => {
    tree = t;
    opts(prov, t.regions, '请选择省份');
    const path = initial && initial.region_code ? findPath(t, initial.region_code) : null;
    if (path) {
      prov.value = path[0][0];
      onProvince();
      if (path[1] && !isMunicipality(path[0])) {
        city.value = path[1][0];
        onCity();
      }
      if (path[2]) county.value = path[2][0];
    } else {
      onProvince();
      if (initial && initial.region) note.textContent = `当前：${initial.region}（可重新选择）`;
    }
  }).catch(() => {
    note.textContent = '地区列表加载失败，请稍后重试';
  });

  function chosen() {
    if (!tree) return null;
    const p = pIdx();
    if (!p) return null;
    if (!p[2].length) return [p];
    if (county.value) {
      const c = isMunicipality(p) ? p[2].find((x) => x[2].some((k) => k[0] === county.value)) : cIdx(p);
      const k = c && c[2].find((x) => x[0] === county.value);
      return k ? [p, c, k] : null;
    }
    const c = cIdx(p);
    return c && !hasCounties(c) ? [p, c] : null;
  }
  return {
    el,
    touched: () => touched,
    value() {
      const path = chosen();
      if (!path) return null;
      const names = path.map((r) => r[1]).filter((n) => !FILLERS.has(n));
      return { region: names.join(' '), region_code: path[path.length - 1][0] };
    },
    problem() {
      if (!tree) return '地区列表还在加载，请稍候';
      if (!prov.value) return '请选择所在省份';
      const p = pIdx();
      if (p && !isMunicipality(p) && p[2].length && !city.value) return '请选择所在城市';
      return '请选择所在区县';
    },
  };
}

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

function validate(v, picker, keepRegion) {
  if (!v.name) return '请填写收货人';
  if (!PHONE_RE.test(v.phone)) return '请填写正确的电话号码';
  if (!keepRegion && !picker.value()) return picker.problem();
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
  const picker = regionPicker(existing);
  rows.splice(2, 0, h('div.form-row.region-row', h('span.form-label', '所在地区'), picker.el));
  const isDefault = h('input', {
    type: 'checkbox', name: 'is_default', checked: existing ? existing.is_default : false, style: 'flex:none;width:20px;height:20px;margin-left:auto',
  });
  const save = h('button.btn.btn-primary.btn-block', { type: 'button' }, '保存');
  save.addEventListener('click', busy(save, async () => {
    const v = {};
    for (const [key] of FIELDS) v[key] = inputs[key].value.trim();
    // An address saved before the picker (text only) keeps its region until the shopper picks a new one.
    const keepRegion = Boolean(existing) && !picker.touched() && !picker.value();
    const problem = validate(v, picker, keepRegion);
    if (problem) {
      toast(problem);
      return;
    }
    if (!keepRegion) Object.assign(v, picker.value());
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
  const asked = ctx.query.get('back');
  const back = asked || '#/me/addresses';
  const body = h('div', id ? loading() : null);
  // Sent here from another screen (the checkout's 新增收货地址): go back with the saved address picked.
  const finish = (saved) => {
    location.hash = asked && saved ? `${back}${back.includes('?') ? '&' : '?'}picked=${saved.id}` : back;
  };
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

export const routes = [
  [/^\/me\/addresses$/, listScreen, { auth: true, tab: 'me' }],
  [/^\/me\/addresses\/new$/, editScreen, { auth: true, tab: 'me' }],
  [/^\/me\/addresses\/(\d+)\/edit$/, editScreen, { auth: true, tab: 'me' }],
];
