// The /pay web chat. The card step shows Stripe's Payment Element (embedded mode) or a link to
// Stripe Checkout (hosted mode) inside the conversation; no input of this page ever holds card data.

const escapeHtml = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

export function payPageHtml(page: {
  sessionId: string;
  token: string;
  invoiceId: string | null;
  stripeJsUrl: string;
  publishableKey: string | null;
}): string {
  const data = (name: string, value: string | null) => (value ? ` data-${name}="${escapeHtml(value)}"` : '');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pay</title>
<link rel="icon" href="data:,">
<style>
body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem; }
#log { border: 1px solid #ccc; border-radius: 8px; padding: 1rem; min-height: 12rem; }
.bot, .me { margin: .5rem 0; padding: .5rem .75rem; border-radius: 8px; }
.bot { background: #f1f3f5; } .me { background: #dbeafe; text-align: right; }
.card-step { margin: .5rem 0; padding: .75rem; border: 1px dashed #888; border-radius: 8px; }
form#say { display: flex; gap: .5rem; margin-top: 1rem; } #text { flex: 1; padding: .5rem; }
</style>
</head>
<body>
<h1>Pay</h1>
<div id="chat"${data('session', page.sessionId)}${data('token', page.token)}${data('invoice', page.invoiceId)}${data('pk', page.publishableKey)}>
<div id="log" aria-live="polite"></div>
<form id="say"><input id="text" autocomplete="off" placeholder="Type a message (never your card number)"><button>Send</button></form>
</div>
<script src="${escapeHtml(page.stripeJsUrl)}"></script>
<script src="/pay/chat.js"></script>
</body>
</html>`;
}

/** The page's own code: plain browser JavaScript, no build step. */
export const payPageScript = `'use strict';
(function () {
  var root = document.getElementById('chat');
  var log = document.getElementById('log');
  var sessionId = root.dataset.session;
  var invoiceId = root.dataset.invoice;
  var stripe = null;
  var steps = 0;

  function say(who, text) {
    var p = document.createElement('p');
    p.className = who;
    p.textContent = text;
    log.appendChild(p);
    return p;
  }

  function stripeClient(pk) {
    if (!stripe) stripe = window.Stripe(pk || root.dataset.pk);
    return stripe;
  }

  function send(message, extra) {
    var body = Object.assign({ sessionId: sessionId, message: message }, extra || {});
    if (invoiceId) body.invoiceId = invoiceId;
    return fetch('/chat', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-pay-page-token': root.dataset.token },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json(); }).then(function (answer) {
      if (answer.error) { say('bot', answer.error.message); return; }
      say('bot', answer.response);
      root.dataset.status = answer.status;
      root.dataset.field = answer.currentField;
      if (answer.payment) act(answer.payment);
    });
  }

  function act(payment) {
    if (payment.checkoutUrl) {
      var box = say('bot card-step', '');
      var link = document.createElement('a');
      link.href = payment.checkoutUrl;
      link.textContent = 'Enter your card on Stripe\\'s secure page';
      box.appendChild(link);
    } else if (payment.publishableKey) {
      showPaymentElement(payment);
    } else if (payment.clientSecret) {
      stripeClient().handleNextAction({ clientSecret: payment.clientSecret }).then(function (result) {
        send(result.error ? 'verification failed' : 'verification done');
      });
    }
  }

  function showPaymentElement(payment) {
    steps += 1;
    var box = say('bot card-step', '');
    var slot = document.createElement('div');
    slot.id = 'payment-element-' + steps;
    box.appendChild(slot);
    var button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Use this card';
    box.appendChild(button);
    var client = stripeClient(payment.publishableKey);
    var elements = client.elements({ mode: 'payment', amount: payment.amount, currency: payment.currency });
    elements.create('payment').mount('#' + slot.id);
    button.addEventListener('click', function () {
      button.disabled = true;
      elements.submit().then(function (submitted) {
        if (submitted && submitted.error) throw submitted.error;
        return client.createConfirmationToken({ elements: elements });
      }).then(function (result) {
        if (result.error) throw result.error;
        return send('card entered', { confirmationToken: result.confirmationToken.id });
      }).catch(function (error) {
        button.disabled = false;
        say('bot', error.message || 'The card form reported a problem.');
      });
    });
  }

  document.getElementById('say').addEventListener('submit', function (event) {
    event.preventDefault();
    var input = document.getElementById('text');
    var text = input.value.trim();
    if (!text) return;
    input.value = '';
    say('me', text);
    send(text);
  });

  var params = new URLSearchParams(location.search);
  if (params.get('checkout') === 'done') send('I entered my card');
  else send(invoiceId ? 'I want to pay invoice ' + invoiceId : 'I want to make a payment');
})();
`;
