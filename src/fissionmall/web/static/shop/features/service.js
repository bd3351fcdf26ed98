// 联系客服: the shop's customer-service contact (GET /shop/info, set by FISSIONMALL_SERVICE_PHONE and
// FISSIONMALL_SERVICE_WECHAT). In H5 a phone number is a tel: link and a WeChat id is offered to copy; the
// mini-program shows WeChat's own 客服 button (open-type="contact") instead, when service_wechat_enabled.
import { api } from '../api.js';
import { h, icon, sheet, toast } from '../ui.js';

const HEADSET = 'M12 3a8 8 0 0 0-8 8v5a3 3 0 0 0 3 3h1v-7H6v-1a6 6 0 0 1 12 0v1h-2v7h1.5a2.5 2.5 0 0 1-2.4 2H12v2h3.1a4.5 4.5 0 0 0 4.4-3.6A3 3 0 0 0 20 16v-5a8 8 0 0 0-8-8z';

let pending = null;
/** The shop's contact, asked once per page load (null when it cannot be read). */
function shopInfo() {
  if (!pending) {
    pending = api('/shop/info').catch(() => {
      pending = null;
      return null;
    });
  }
  return pending;
}

const reachable = (info) => Boolean(info && (info.service_phone || info.service_wechat));

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast('已复制微信号', 'ok');
  } catch (e) {
    toast(`微信号：${text}`);
  }
}

function contactSheet(info) {
  sheet('联系客服', () => [
    info.service_hours ? h('p.muted.small', `服务时间：${info.service_hours}`) : null,
    info.service_phone ? h('div.kv.service-phone', h('span', '客服电话'),
      h('a.btn.btn-small', { href: `tel:${info.service_phone.replace(/[^0-9+]/g, '')}` }, info.service_phone)) : null,
    info.service_wechat ? h('div.kv.service-wechat', h('span', `客服微信：${info.service_wechat}`),
      h('button.btn.btn-small', { type: 'button', onclick: () => copy(info.service_wechat) }, '复制')) : null,
  ]);
}

/** A 联系客服 control; `shown` (the control or the card holding it) appears once the shop has a contact. */
function serviceButton(tag, label, kids, style = '') {
  const el = h(tag, { type: 'button', 'data-service': label, style: style || null }, ...kids);
  el.addEventListener('click', async () => {
    const info = await shopInfo();
    if (reachable(info)) contactSheet(info);
    else toast('暂未设置客服联系方式');
  });
  return el;
}

function shownWithContact(el) {
  el.hidden = true;
  shopInfo().then((info) => {
    el.hidden = !reachable(info);
  });
  return el;
}

function productActions() {
  const style = 'background:none;border:0;padding:0;cursor:pointer';
  return shownWithContact(serviceButton('button.ab-icon.ab-service', 'product', [icon(HEADSET), h('span', '客服')], style));
}

function entry(label) {
  const style = 'background:none;border:0;width:100%;text-align:left;font:inherit;color:inherit;cursor:pointer';
  return shownWithContact(h('section.card.menu', serviceButton('button.menu-item.service-entry', label, [h('span', '联系客服')], style)));
}

const orderSections = () => entry('order');
const meEntries = () => entry('me');

export { meEntries, orderSections, productActions };
