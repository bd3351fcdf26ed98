// 首页轮播图: the merchant's banners (GET /banners) at the top of the home page, swipeable, with dots and
// auto-advance; hidden when there are none. A tap opens the banner's link (a product, the 领券中心).

import { api } from '../api.js';
import { h, img } from '../ui.js';

const ADVANCE_MS = 4000;
const CSS = `
.bn-home{margin:8px 12px 0;position:relative;border-radius:12px;overflow:hidden;background:#f2f3f5;aspect-ratio:5/2}
.bn-track{display:flex;height:100%;overflow-x:auto;scroll-snap-type:x mandatory;scrollbar-width:none}
.bn-track::-webkit-scrollbar{display:none}
.bn-slide{flex:none;width:100%;height:100%;scroll-snap-align:start;scroll-snap-stop:always;display:block}
.bn-img{width:100%;height:100%;object-fit:cover;display:block}
.bn-dots{position:absolute;left:0;right:0;bottom:8px;display:flex;justify-content:center;gap:6px}
.bn-dot{width:6px;height:6px;padding:0;border:0;border-radius:3px;background:rgba(255,255,255,.6);transition:width .2s}
.bn-dot.on{width:16px;background:#fff}
`;

function style() {
  if (document.getElementById('bn-style')) return;
  document.head.append(h('style', { id: 'bn-style' }, CSS));
}

// Only the shop's own screens: a link is "#/…" (the server builds it), never a URL a row could smuggle in.
const safeLink = (link) => (typeof link === 'string' && /^#\/[\w/?=&-]*$/.test(link) ? link : null);

function carousel(items, ctx) {
  const slides = items.map((b, i) => {
    const picture = img(b.image_url, b.title, 'bn-img');
    const link = safeLink(b.link);
    const attrs = { dataset: { bannerId: String(b.id) }, 'aria-label': `${b.title}（第 ${i + 1}/${items.length} 张）` };
    return link ? h('a.bn-slide', { ...attrs, href: link }, picture) : h('div.bn-slide', attrs, picture);
  });
  const track = h('div.bn-track', slides);
  const at = () => Math.min(items.length - 1, Math.max(0, Math.round(track.scrollLeft / Math.max(1, track.clientWidth))));
  const show = (i) => track.scrollTo({ left: i * track.clientWidth, behavior: 'smooth' });
  const dots = items.map((b, i) => h('button.bn-dot', { type: 'button', 'aria-label': `第 ${i + 1} 张：${b.title}`, onclick: () => show(i) }));
  const mark = () => dots.forEach((d, j) => d.classList.toggle('on', at() === j));
  track.addEventListener('scroll', mark, { passive: true });
  mark();
  if (items.length > 1) {
    // Advance unless the shopper is touching or pointing at it; stop when the page is left.
    let held = false;
    const hold = (v) => () => { held = v; };
    track.addEventListener('touchstart', hold(true), { passive: true });
    track.addEventListener('touchend', hold(false), { passive: true });
    track.addEventListener('mouseenter', hold(true));
    track.addEventListener('mouseleave', hold(false));
    const timer = setInterval(() => {
      if (!held && !document.hidden && track.isConnected) show((at() + 1) % items.length);
    }, ADVANCE_MS);
    ctx.onLeave(() => clearInterval(timer));
  }
  return [track, items.length > 1 ? h('div.bn-dots', dots) : null];
}

function homeSections(ctx) {
  style();
  // rank 1: the carousel opens the home page, above 限时秒杀 (10) and 拼团 (20)
  const box = h('section.bn-home', { hidden: true, 'aria-label': '轮播图', dataset: { feature: 'banners', rank: '1' } });
  api('/banners').then((data) => {
    if (!ctx.alive() || !data.items.length) return;
    box.append(...carousel(data.items, ctx).filter(Boolean));
    box.hidden = false;
  }).catch(() => {});
  return box;
}

export { homeSections };
