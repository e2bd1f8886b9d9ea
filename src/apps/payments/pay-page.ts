// The /pay web chat. The card step shows Stripe's Payment Element (embedded mode) or a link to
// Stripe Checkout (hosted mode) inside the conversation; no input of this page ever holds card data.
// The page greets before any request, shows the merchant (PAYMENTS_BRAND_*), what is being paid
// before the card, a typing state while the bot answers (the answer arrives as server-sent events),
// errors with a way to try again, and a receipt screen once Stripe confirms the payment. Its code is
// pay-page-script.ts.
import type { PaymentsConfig } from './config.ts';
import { brandCss } from './pay-brand.ts';

export { payPageScript } from './pay-page-script.ts';

const escapeHtml = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

const STYLE = `
* { box-sizing: border-box; }
body { font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; background: var(--page); color: var(--on-page); }
.brand { background: var(--brand); color: var(--on-brand); }
.brand-inner, main, footer { max-width: 40rem; margin: 0 auto; padding: .75rem 1rem; }
.brand-inner { display: flex; align-items: center; gap: .75rem; }
.brand img { max-height: 2.5rem; max-width: 8rem; }
.brand h1 { font-size: 1.25rem; margin: 0; }
.brand p { margin: 0; font-size: .875rem; }
#log { background: #fff; color: #111; border: 1px solid #c7ccd1; border-radius: 12px; padding: .75rem; min-height: 14rem; }
#log p { margin: .5rem 0; padding: .5rem .75rem; border-radius: 12px; max-width: 85%; overflow-wrap: anywhere; }
#log .bot { background: #eef1f4; color: #111; }
#log .me { background: var(--brand); color: var(--on-brand); margin-left: auto; }
#log .problem { background: #fdecec; color: #7a1010; border: 1px solid #e3a0a0; }
.typing { margin: .5rem 0 0; font-style: italic; color: #111; background: #fff; display: inline-block; padding: .25rem .75rem; border-radius: 12px; }
.card-step { max-width: 85%; margin: .5rem 0; padding: .75rem; border: 1px solid #8a94a0; border-radius: 12px; background: #fff; color: #111; }
.purpose { margin: 0 0 .5rem; }
.purpose strong { font-size: 1.25rem; display: block; }
form#say { display: flex; gap: .5rem; margin-top: .75rem; }
#text { flex: 1; min-width: 0; padding: .625rem .75rem; font: inherit; border: 1px solid #6b7480; border-radius: 8px; background: #fff; color: #111; min-height: 44px; }
button { font: inherit; min-height: 44px; padding: .5rem 1rem; border-radius: 8px; border: 0; background: var(--brand); color: var(--on-brand); cursor: pointer; }
button:disabled { opacity: .6; cursor: progress; }
:focus-visible { outline: 3px solid #111; outline-offset: 2px; }
.brand :focus-visible { outline-color: var(--on-brand); }
#problem { margin-top: .75rem; padding: .75rem; border-radius: 8px; background: #fdecec; color: #7a1010; border: 1px solid #e3a0a0; }
#problem button { margin-left: .5rem; }
#receipt { background: #fff; color: #111; border: 1px solid #c7ccd1; border-radius: 12px; padding: 1rem; margin-top: .75rem; }
#receipt h2 { margin-top: 0; }
#receipt dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
#receipt dt { font-weight: 600; }
#receipt dd { margin: 0; overflow-wrap: anywhere; }
footer { font-size: .875rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
[hidden] { display: none !important; }
@media (max-width: 30rem) { .brand-inner, main, footer { padding: .5rem .75rem; } #log p { max-width: 95%; } }
`;

export function payPageHtml(page: {
  sessionId: string;
  token: string;
  invoiceId: string | null;
  stripeJsUrl: string;
  publishableKey: string | null;
  brand: PaymentsConfig['brand'];
}): string {
  const data = (name: string, value: string | null) => (value ? ` data-${name}="${escapeHtml(value)}"` : '');
  const name = escapeHtml(page.brand.name);
  const logo = page.brand.logoUrl ? `<img src="${escapeHtml(page.brand.logoUrl)}" alt="">` : '';
  const greeting = page.invoiceId
    ? `Hi! I'm ${name}'s payment assistant. Let's pay invoice ${escapeHtml(page.invoiceId)}: I'll ask your name, then you enter your card in Stripe's secure form.`
    : `Hi! I'm ${name}'s payment assistant. I'll ask your name and the amount, then you enter your card in Stripe's secure form.`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pay ${name}</title>
<link rel="icon" href="data:,">
<style>${brandCss(page.brand)}${STYLE}</style>
</head>
<body>
<header class="brand"><div class="brand-inner">${logo}<div><h1>${name}</h1><p>Secure payment</p></div></div></header>
<main id="chat"${data('session', page.sessionId)}${data('token', page.token)}${data('invoice', page.invoiceId)}${data('pk', page.publishableKey)}${data('brand', page.brand.name)}>
<h2 class="visually-hidden">Conversation</h2>
<div id="log" role="log" aria-live="polite" aria-label="Conversation with ${name}"><p class="bot">${greeting}</p></div>
<p id="typing" class="typing" role="status" hidden>${name} is typing…</p>
<div id="problem" role="alert" hidden><span id="problem-text"></span> <button type="button" id="retry">Try again</button></div>
<form id="say"><label for="text" class="visually-hidden">Your message</label><input id="text" autocomplete="off" enterkeyhint="send" placeholder="Type a message (never your card number)"><button type="submit" id="send">Send</button></form>
<section id="receipt" tabindex="-1" aria-labelledby="receipt-title" hidden><h2 id="receipt-title">Payment received</h2><dl id="receipt-details"></dl><p id="receipt-note"></p></section>
</main>
<footer><p>Your card is entered only in Stripe's secure form and never passes through this chat.</p></footer>
<script src="${escapeHtml(page.stripeJsUrl)}"></script>
<script src="/pay/chat.js"></script>
</body>
</html>`;
}
