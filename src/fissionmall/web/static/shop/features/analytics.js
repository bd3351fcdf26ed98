// The merchant's data: page views, shares and share links opened, sent by api.js's `track` in small
// batches. Orders, payments and a tool's participations are recorded by the server itself, never here.
// The page is `<tool>:<id>` where the address names one (`product:5`, `bargain:3`), else the tool.
import { track } from '../api.js';

function where() {
  const path = (location.hash.replace(/^#/, '').split('?')[0] || '/').replace(/\/+$/, '') || '/';
  const product = path.match(/^\/p\/(\d+)/);
  if (product) return { page: `product:${product[1]}`, product_id: Number(product[1]) };
  const bargain = path.match(/^\/bargain\/a\/(\d+)/);
  if (bargain) return { page: `bargain:${bargain[1]}` };
  const tool = path.split('/')[1];
  return { page: /^[a-z_]{1,24}$/.test(tool || '') ? tool : 'home' };
}

function refOf() {
  const hashQuery = location.hash.includes('?') ? location.hash.slice(location.hash.indexOf('?') + 1) : '';
  const ref = new URLSearchParams(location.search).get('ref') || new URLSearchParams(hashQuery).get('ref');
  return ref && /^[A-Za-z0-9_-]{1,64}$/.test(ref) ? ref : undefined;
}

// The first screen of a page load reached from a share (a `ref`, or a group / bargain share page opened
// from outside the shop) is a share link opened.
const first = where();
const fromOutside = !document.referrer || !document.referrer.startsWith(location.origin);
const sharePage = /^#\/(groupbuy\/g|bargain\/b)\/\d+/.test(location.hash);
if (refOf() || (sharePage && fromOutside)) track('share_open', { ...first, ref: refOf() });
track('page_view', { ...first, ref: refOf() });
window.addEventListener('hashchange', () => track('page_view', where()));

// A share: the link copied or the poster saved (distribution's sheet), a group's 邀请好友参团.
document.addEventListener('click', (e) => {
  if (e.target instanceof Element && e.target.closest('.gb-share-btn, .share-copy, .share-save')) {
    track('share', where());
  }
});
