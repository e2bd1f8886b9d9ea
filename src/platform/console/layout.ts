// The console's page shell: navigation, the operator, the banners that say how this instance runs
// (open without login; sandbox channels), and the main region the live refresh replaces.
import { html, type SafeHtml } from './html.ts';

export interface ShellOptions {
  title: string;
  nav: Array<{ href: string; label: string }>;
  current: string;
  /** Signed in as (null on the login page). */
  operator: string | null;
  csrf: string | null;
  /** No ADMIN_API_TOKEN: anyone who reaches the (loopback) address may act. */
  open: boolean;
  /** Channels on their sandbox driver. */
  sandboxChannels: string[];
  live: boolean;
  notice?: SafeHtml | string | null;
  body: SafeHtml;
}

export function shell(options: ShellOptions): SafeHtml {
  const navItems = options.nav.map((item) => {
    const current =
      item.href === options.current ||
      (item.href !== '/console' && options.current.startsWith(`${item.href}/`));
    return html`<li><a href="${item.href}"${current ? html` aria-current="page"` : ''}>${item.label}</a></li>`;
  });
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Switchboard console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<span class="brand">Switchboard</span>
${options.operator !== null ? html`<nav aria-label="Console"><ul>${navItems}</ul></nav>` : ''}
${
  options.operator !== null && options.csrf
    ? html`<form method="post" action="/console/logout" class="who"><span>${options.operator}</span>
<input type="hidden" name="_csrf" value="${options.csrf}"><button type="submit">Log out</button></form>`
    : ''
}
</header>
${options.open ? html`<p class="banner warn" role="note"><strong>Open console.</strong> ADMIN_API_TOKEN is not set, so there is no login: anyone who can reach this loopback address can see and act. Set ADMIN_API_TOKEN before exposing it.</p>` : ''}
${
  options.sandboxChannels.length
    ? html`<p class="banner sandbox" role="note"><strong>SANDBOX</strong> for ${options.sandboxChannels.join(', ')}: no credentials are set, so these messages stay in the <a href="/console/sandbox">sandbox inbox</a> and never leave this machine.</p>`
    : ''
}
<main id="main"${options.live ? html` data-live="5000"` : ''} tabindex="-1">
${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''}
<h1>${options.title}</h1>
${options.body}
</main>
</body>
</html>`;
}

/** Only the main region's content, for the live refresh (same markup as inside `shell`). */
export function fragment(options: Pick<ShellOptions, 'title' | 'notice' | 'body'>): SafeHtml {
  return html`${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''}
<h1>${options.title}</h1>
${options.body}`;
}
