// The /pay page's own code: plain browser JavaScript, no build step. It sends each message to
// POST /chat asking for server-sent events (chat-stream.ts) and shows a typing state until the
// reply arrives; a `token` event grows the reply as it comes, `message` is a whole reply, `done`
// carries the contract. After the customer confirms, it asks GET /pay/status until Stripe's webhook
// has settled the payment, then shows the receipt screen.
export const payPageScript = `'use strict';
(function () {
  var root = document.getElementById('chat');
  var log = document.getElementById('log');
  var typing = document.getElementById('typing');
  var problem = document.getElementById('problem');
  var problemText = document.getElementById('problem-text');
  var input = document.getElementById('text');
  var sendButton = document.getElementById('send');
  var sessionId = root.dataset.session;
  var invoiceId = root.dataset.invoice;
  var stripe = null;
  var steps = 0;
  var lastSent = null;
  var busy = false;

  function say(who, text, tag) {
    var p = document.createElement(tag || 'p');
    p.className = who;
    p.textContent = text;
    log.appendChild(p);
    p.scrollIntoView({ block: 'nearest' });
    return p;
  }

  function setBusy(on) {
    busy = on;
    typing.hidden = !on;
    sendButton.disabled = on;
    root.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  function showProblem(text, retry) {
    problemText.textContent = text;
    problem.hidden = false;
    document.getElementById('retry').hidden = !retry;
  }

  function stripeClient(pk) {
    if (!stripe) stripe = window.Stripe(pk || root.dataset.pk);
    return stripe;
  }

  /** Reads a text/event-stream body: calls onEvent(name, data) per event. */
  function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = '';
    function pump() {
      return reader.read().then(function (chunk) {
        buffer += decoder.decode(chunk.value || new Uint8Array(), { stream: !chunk.done });
        var blocks = buffer.split(/\\r?\\n\\r?\\n/);
        buffer = chunk.done ? '' : blocks.pop();
        blocks.forEach(function (block) {
          var name = 'message';
          var data = [];
          block.split(/\\r?\\n/).forEach(function (line) {
            if (line.indexOf('event:') === 0) name = line.slice(6).trim();
            else if (line.indexOf('data:') === 0) data.push(line.slice(5).replace(/^ /, ''));
          });
          if (data.length) onEvent(name, JSON.parse(data.join('\\n')));
        });
        if (!chunk.done) return pump();
      });
    }
    return pump();
  }

  function send(message, extra) {
    if (busy) return Promise.resolve();
    var body = Object.assign({ sessionId: sessionId, message: message }, extra || {});
    if (invoiceId) body.invoiceId = invoiceId;
    lastSent = { message: message, extra: extra };
    problem.hidden = true;
    setBusy(true);
    var bubble = null;
    var answer = null;
    return fetch('/chat', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        'x-pay-page-token': root.dataset.token
      },
      body: JSON.stringify(body)
    }).then(function (response) {
      var type = response.headers.get('content-type') || '';
      if (!response.ok || type.indexOf('text/event-stream') !== 0) {
        return response.json().then(function (failed) {
          var text = failed && failed.error ? failed.error.message : 'Something went wrong.';
          showProblem(text, response.status >= 500 || response.status === 429);
        });
      }
      return readEvents(response, function (name, data) {
        if (name === 'token') {
          setBusy(false);
          busy = true;
          if (!bubble) bubble = say('bot', '');
          bubble.textContent += data.text;
        } else if (name === 'message') {
          if (bubble) bubble.textContent = data.text;
          else bubble = say('bot', data.text);
        } else if (name === 'done') {
          answer = data;
        }
      });
    }).catch(function () {
      showProblem('Could not reach the server. Check your connection and try again.', true);
    }).then(function () {
      setBusy(false);
      if (answer) handle(answer);
    });
  }

  function handle(answer) {
    root.dataset.status = answer.status;
    root.dataset.field = answer.currentField;
    if (answer.payment) act(answer.payment);
    if (answer.status === 'completed') showReceipt();
    else if (answer.status === 'confirming' && answer.currentField === 'confirmation' && !answer.payment)
      waitForSettlement(0);
    if (!problem.hidden) return;
    input.focus();
  }

  function status() {
    return fetch('/pay/status?session=' + encodeURIComponent(sessionId), {
      headers: { 'x-pay-page-token': root.dataset.token }
    }).then(function (r) { return r.ok ? r.json() : null; });
  }

  /** After "yes": Stripe's webhook settles the payment; until then the page keeps asking, quietly. */
  function waitForSettlement(tries) {
    status().then(function (now) {
      if (!now) return;
      if (now.status === 'completed') return showReceipt(now);
      if (now.charging && tries < 40) setTimeout(function () { waitForSettlement(tries + 1); }, 1500);
    }).catch(function () {});
  }

  function showReceipt(known) {
    var ready = known ? Promise.resolve(known) : status();
    ready.then(function (now) {
      if (!now) return;
      var details = document.getElementById('receipt-details');
      details.textContent = '';
      [['Amount', now.amountText], ['For', now.description], ['Receipt email', now.receiptEmail], ['Reference', now.reference]]
        .forEach(function (row) {
          if (!row[1]) return;
          var dt = document.createElement('dt');
          dt.textContent = row[0];
          var dd = document.createElement('dd');
          dd.textContent = row[1];
          details.appendChild(dt);
          details.appendChild(dd);
        });
      document.getElementById('receipt-note').textContent = now.receiptEmail
        ? 'Stripe emails your receipt to ' + now.receiptEmail + '.'
        : 'Thank you. You can close this page.';
      var receipt = document.getElementById('receipt');
      receipt.hidden = false;
      document.getElementById('say').hidden = true;
      root.dataset.status = 'completed';
      receipt.focus();
    });
  }

  function purposeLine(box, payment) {
    var line = document.createElement('p');
    line.className = 'purpose';
    var label = document.createElement('span');
    label.textContent = 'You are paying';
    var amount = document.createElement('strong');
    amount.textContent = payment.amountText;
    var what = document.createElement('span');
    what.textContent = payment.description;
    line.appendChild(label);
    line.appendChild(amount);
    line.appendChild(what);
    box.appendChild(line);
  }

  function act(payment) {
    if (payment.checkoutUrl) {
      var box = say('card-step', '', 'div');
      box.setAttribute('role', 'group');
      box.setAttribute('aria-label', 'Payment details');
      purposeLine(box, payment);
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
    var box = say('card-step', '', 'div');
    box.setAttribute('role', 'group');
    box.setAttribute('aria-label', 'Payment details');
    purposeLine(box, payment);
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
        showProblem(error.message || 'The card form reported a problem.', false);
      });
    });
  }

  document.getElementById('say').addEventListener('submit', function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || busy) return;
    input.value = '';
    say('me', text);
    send(text);
  });

  document.getElementById('retry').addEventListener('click', function () {
    if (lastSent) send(lastSent.message, lastSent.extra);
  });

  var params = new URLSearchParams(location.search);
  if (params.get('checkout') === 'done') send('I entered my card');
  else send(invoiceId ? 'I want to pay invoice ' + invoiceId : 'I want to make a payment');
})();
`;
