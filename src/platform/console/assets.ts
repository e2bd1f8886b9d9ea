// The console's stylesheet and script, served from the service itself (no CDN, no build step).

export const consoleCss = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #4a5360; --line: #c9d1d9; --bg: #f6f8fa;
  --accent: #1f5fbf; --good: #1b6e2a; --bad: #a4161a; --wait: #7a4d00; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #fff; }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; z-index: 2; }
header.top { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; padding: 8px 16px; background: #0f2340; color: #fff; }
header.top a { color: #fff; text-decoration: none; padding: 4px 6px; border-radius: 4px; }
header.top a[aria-current="page"] { background: #fff; color: #0f2340; font-weight: 600; }
header.top ul { display: flex; flex-wrap: wrap; gap: 4px; list-style: none; margin: 0; padding: 0; }
.brand { font-weight: 700; letter-spacing: .02em; }
form.who { margin-left: auto; display: flex; gap: 8px; align-items: center; }
main { padding: 8px 16px 48px; max-width: 1280px; }
main:focus { outline: none; }
h1 { font-size: 1.5rem; margin: 12px 0; } h2 { font-size: 1.15rem; margin: 20px 0 8px; }
.banner { margin: 0; padding: 8px 16px; border-bottom: 1px solid var(--line); }
.banner.warn { background: #fff4d6; } .banner.sandbox { background: #e6f0ff; }
.notice { background: #e8f5e9; border: 1px solid #9ccc9c; padding: 8px 12px; border-radius: 6px; }
.notice.error { background: #fdecea; border-color: #e5a4a0; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 12px; }
caption { text-align: left; font-weight: 600; padding: 4px 0; color: var(--muted); }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: .85em; border: 1px solid currentColor; }
.badge.good { color: var(--good); } .badge.bad { color: var(--bad); } .badge.wait { color: var(--wait); } .badge.plain { color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: #fff; }
.card h3 { margin: 0 0 4px; font-size: 1rem; } .card p { margin: 2px 0; color: var(--muted); }
.empty { color: var(--muted); }
form.filters { display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: center; margin: 8px 0; }
form.inline { display: inline; }
label { font-weight: 600; }
input, select, textarea, button { font: inherit; }
input, select, textarea { padding: 4px 6px; border: 1px solid #6b7480; border-radius: 4px; max-width: 100%; }
button { padding: 4px 12px; border: 1px solid #3b4a5c; border-radius: 4px; background: #fff; color: var(--ink); cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { background: var(--bad); border-color: var(--bad); color: #fff; }
:focus-visible { outline: 3px solid #f2b705; outline-offset: 1px; }
dl.details { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
dl.details dt { font-weight: 600; } dl.details dd { margin: 0; overflow-wrap: anywhere; }
pre.json, pre.text { background: var(--bg); border: 1px solid var(--line); padding: 8px; overflow: auto; max-height: 420px; white-space: pre-wrap; }
.chart svg { width: 100%; max-width: 720px; height: auto; } .chart text { font-size: 11px; fill: var(--muted); }
.key { margin-right: 10px; } .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
.thread { border: 1px solid var(--line); border-radius: 8px; padding: 8px; margin: 8px 0; }
.bubble { margin: 4px 0; padding: 6px 10px; border-radius: 10px; max-width: 36rem; white-space: pre-wrap; }
.bubble.outbound { background: #e6f0ff; } .bubble.inbound { background: #eef7ee; margin-left: auto; }
.bubble small { display: block; color: var(--muted); }
iframe.email { width: 100%; min-height: 320px; border: 1px solid var(--line); background: #fff; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 8px 16px; }
ul.tabs { display: flex; flex-wrap: wrap; gap: 8px; list-style: none; padding: 0; margin: 8px 0; }
ul.tabs a { display: inline-block; padding: 4px 10px; border: 1px solid var(--line); border-radius: 6px; }
ul.tabs a[aria-current="page"] { background: var(--accent); color: #fff; border-color: var(--accent); }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.stack > * + * { margin-top: 8px; }
.login { max-width: 24rem; } .login p { margin: 8px 0; } .login input { width: 100%; }
nav.pager { margin: 8px 0; display: flex; gap: 16px; }
@media (max-width: 720px) {
  .charts { grid-template-columns: 1fr; }
  .grid2 { grid-template-columns: 1fr; }
  form.who { margin-left: 0; }
  th, td { padding: 4px 6px; }
}
`;

/**
 * Live refresh: pages marked data-live are fetched again every few seconds and their main region
 * replaced, unless the operator is typing in it or the tab is hidden. Without JavaScript the
 * pages work the same, only without the refresh.
 */
export const consoleScript = `'use strict';
(function () {
  var main = document.getElementById('main');
  if (!main || !main.dataset.live) return;
  var every = Number(main.dataset.live) || 5000;
  var busy = false;
  function editing() {
    var a = document.activeElement;
    return a && main.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName);
  }
  function refresh() {
    if (busy || document.hidden || editing() || String(window.getSelection() || '')) return;
    busy = true;
    fetch(location.href, { headers: { 'x-console-fragment': '1' }, credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (text) {
        if (text !== null && text !== main.dataset.last) { main.innerHTML = text; main.dataset.last = text; }
        main.dataset.refreshed = String(Date.now());
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }
  setInterval(refresh, every);
})();
`;
