/** The small HTML pages the local Stripe server shows in place of Stripe's hosted pages. */

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>${escape(title)}</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; padding: 0 1rem; color: #1a1a2e; }
    .card { border: 1px solid #ddd; border-radius: 12px; padding: 1.5rem; }
    .note { color: #666; font-size: .85rem; }
    form { display: inline; }
    button { font-size: 1rem; padding: .6rem 1.4rem; border-radius: 8px; border: 0; cursor: pointer; margin-right: .5rem; }
    .pay { background: #635bff; color: white; }
    .cancel { background: #eee; }
  </style>
</head>
<body><div class="card">${body}</div>
<p class="note">Local Stripe simulator (no STRIPE_SECRET_KEY is configured): no real payment is made.</p>
</body>
</html>`;
}

export function checkoutPage(session: { id: string; amountText: string; description: string; status: string }): string {
  if (session.status !== 'open') return layout('Checkout', `<h1>Checkout</h1><p>This checkout session is ${escape(session.status)}.</p>`);
  const action = (what: string) => `/checkout/${encodeURIComponent(session.id)}/${what}`;
  return layout(
    'Checkout',
    `<h1>Pay ${escape(session.amountText)}</h1>
<p>${escape(session.description)}</p>
<form method="post" action="${action('pay')}"><button class="pay" type="submit">Pay</button></form>
<form method="post" action="${action('cancel')}"><button class="cancel" type="submit">Cancel</button></form>`,
  );
}

export function resultPage(title: string, message: string, link?: { href: string; label: string }): string {
  const next = link ? `<p><a href="${escape(link.href)}">${escape(link.label)}</a></p>` : '';
  return layout(title, `<h1>${escape(title)}</h1><p>${escape(message)}</p>${next}`);
}

export function portalPage(customerId: string, returnUrl: string | undefined): string {
  return resultPage('Billing portal', `Customer ${customerId}: there are no invoices or saved payment methods in the local simulator.`, returnUrl ? { href: returnUrl, label: 'Back to the app' } : undefined);
}
