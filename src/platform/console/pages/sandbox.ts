// The sandbox inbox: what the sandbox drivers stood in for, as the people would have seen it. SMS
// as a thread per number with a box to text back as that person; emails rendered; Slack channels
// with threads and reactions. Nothing here left the machine.
import {
  listSandboxMessages,
  type SandboxMessage,
  sandboxSmsThreads,
  simulateInboundSms,
} from '../../channels/sandbox/inbox.ts';
import { countSegments } from '../../channels/sms/segments.ts';
import { details, link, section, table, time } from '../components.ts';
import { html, queryString, type SafeHtml } from '../html.ts';
import type { ActionDefinition, PageDefinition } from '../ui.ts';
import type { PlatformPageDeps } from './deps.ts';

const THREAD_LIMIT = 200;

export function sandboxPages(deps: PlatformPageDeps): {
  pages: PageDefinition[];
  actions: ActionDefinition[];
} {
  const inbound = {
    db: deps.db,
    drivers: deps.channels.driverNames,
    smsNumber: deps.smsNumber,
    defaultRegion: deps.defaultRegion,
    receiveSms: deps.channels.receiveSms,
  };
  const page: PageDefinition = {
    path: '/console/sandbox',
    title: 'Sandbox',
    nav: 'Sandbox',
    live: true,
    async render(view) {
      const tab = view.query.tab === 'email' || view.query.tab === 'slack' ? view.query.tab : 'sms';
      const tabs = html`<nav aria-label="Sandbox channels"><ul class="tabs">${(
        ['sms', 'email', 'slack'] as const
      ).map(
        (t) =>
          html`<li><a href="/console/sandbox${queryString({ tab: t })}"${t === tab ? html` aria-current="page"` : ''}>${t === 'sms' ? 'SMS' : t === 'email' ? 'Email' : 'Slack'} (${deps.channels.driverNames[t]})</a></li>`,
      )}</ul></nav>`;
      const body =
        tab === 'sms'
          ? await smsTab(deps, view.query, view.csrf)
          : tab === 'email'
            ? await emailTab(deps, view.query)
            : await slackTab(deps, view);
      return html`${tabs}${body}`;
    },
  };
  const textBack: ActionDefinition = {
    path: '/console/sandbox/sms',
    name: 'sandbox.text_back',
    confirm: null,
    async run(view) {
      const result = await simulateInboundSms(inbound, view.form.from ?? '', view.form.body ?? '');
      return {
        message: `Texted “${(view.form.body ?? '').slice(0, 60)}” from ${result.from}: ${result.action}.`,
        target: result.from,
        redirect: `/console/sandbox${queryString({ tab: 'sms', phone: result.from })}`,
      };
    },
  };
  return { pages: [page], actions: [textBack] };
}

async function smsTab(
  deps: PlatformPageDeps,
  query: Record<string, string | undefined>,
  csrf: string,
): Promise<SafeHtml> {
  if (deps.channels.driverNames.sms !== 'sandbox')
    return html`<p>SMS go through ${deps.channels.driverNames.sms}: there is no sandbox inbox for them.</p>`;
  const threads = await sandboxSmsThreads(deps.db, deps.smsNumber, 100);
  const phone = query.phone ?? threads[0]?.phone;
  const messages = phone
    ? (await listSandboxMessages(deps.db, { channel: 'sms', party: phone, limit: THREAD_LIMIT })).reverse()
    : [];
  return html`<div class="grid2">
${section(
  'Numbers',
  table(
    'SMS threads, latest first',
    [
      {
        label: 'Number',
        cell: (t) => link(`/console/sandbox${queryString({ tab: 'sms', phone: t.phone })}`, t.phone),
      },
      { label: 'Messages', cell: (t) => t.messages, numeric: true },
      { label: 'Last', cell: (t) => time(t.last_at) },
    ],
    threads,
    'No texts yet. Text in as a new number below.',
  ),
)}
${section(
  phone ? `Thread with ${phone}` : 'Text in',
  html`<div class="thread" aria-live="polite">${messages.map(smsBubble)}</div>
<form method="post" action="/console/sandbox/sms" class="stack">
<input type="hidden" name="_csrf" value="${csrf}">
<p><label for="sms-from">From number</label> <input id="sms-from" name="from" value="${phone ?? ''}" required placeholder="+14155550100" autocomplete="off"></p>
<p><label for="sms-body">Text back as this person</label><br><textarea id="sms-body" name="body" rows="2" cols="40" required placeholder="STOP, START, HELP, TIME 9-11, or a reply"></textarea></p>
<p><button type="submit" class="primary">Send as this person</button></p>
</form>`,
)}
</div>`;
}

function smsBubble(message: SandboxMessage): SafeHtml {
  const body = String(message.content.body ?? '');
  const who = message.direction === 'inbound' ? `from ${message.sender}` : `to ${message.recipient}`;
  const segments = countSegments(body).segments;
  return html`<div class="bubble ${message.direction}"><small>${who} · ${time(message.createdAt)}${message.direction === 'outbound' ? ` · ${segments} segment${segments === 1 ? '' : 's'}` : ''}</small>${body}</div>`;
}

async function emailTab(
  deps: PlatformPageDeps,
  query: Record<string, string | undefined>,
): Promise<SafeHtml> {
  if (deps.channels.driverNames.email !== 'sandbox')
    return html`<p>Email goes through ${deps.channels.driverNames.email}: there is no sandbox inbox for it.</p>`;
  const emails = await listSandboxMessages(deps.db, { channel: 'email', limit: 50 });
  const open = emails.find((e) => e.id === query.email) ?? emails[0];
  return html`<div class="grid2">
${section(
  'Emails',
  table(
    'Emails, newest first',
    [
      { label: 'When', cell: (e) => time(e.createdAt) },
      { label: 'To', cell: (e) => e.recipient },
      {
        label: 'Subject',
        cell: (e) =>
          link(
            `/console/sandbox${queryString({ tab: 'email', email: e.id })}`,
            String(e.content.subject ?? '(no subject)'),
          ),
      },
    ],
    emails,
    'No emails yet.',
  ),
)}
${open ? section('Email', emailView(open)) : ''}
</div>`;
}

function emailView(email: SandboxMessage): SafeHtml {
  const content = email.content;
  return html`${details([
    ['From', email.sender],
    ['To', email.recipient],
    ['Subject', String(content.subject ?? '')],
    ['Date', time(email.createdAt)],
    ['Outbox message', email.outboxId ? link(`/console/outbox/${email.outboxId}`, email.outboxId) : null],
  ])}
${typeof content.html === 'string' ? html`<h3>HTML part</h3><iframe class="email" sandbox="" title="HTML part of ${String(content.subject ?? 'the email')}" srcdoc="${content.html}"></iframe>` : ''}
<h3>Text part</h3><pre class="text">${String(content.text ?? '')}</pre>`;
}

async function slackTab(
  deps: PlatformPageDeps,
  view: Parameters<PageDefinition['render']>[0],
): Promise<SafeHtml> {
  const panels = await deps.sandboxPanels(view);
  if (deps.channels.driverNames.slack !== 'sandbox')
    return html`<p>Slack goes through its workspace: there is no sandbox channel.</p>${panels}`;
  const rows = (await listSandboxMessages(deps.db, { channel: 'slack', limit: 500 })).reverse();
  const byChannel = new Map<string, SandboxMessage[]>();
  for (const row of rows) byChannel.set(row.recipient, [...(byChannel.get(row.recipient) ?? []), row]);
  const channel =
    view.query.channel && byChannel.has(view.query.channel) ? view.query.channel : [...byChannel.keys()][0];
  const list = html`<ul>${[...byChannel.entries()].map(
    ([name, messages]) =>
      html`<li>${link(`/console/sandbox${queryString({ tab: 'slack', channel: name })}`, name)} (${messages.length})</li>`,
  )}</ul>`;
  return html`${panels}<div class="grid2">${section('Channels and DMs', byChannel.size ? list : html`<p class="empty">Nothing in Slack yet.</p>`)}
${channel ? section(`In ${channel}`, slackThreads(byChannel.get(channel) ?? [])) : ''}</div>`;
}

/** Top-level messages with their thread replies and reactions, oldest first. */
function slackThreads(messages: SandboxMessage[]): SafeHtml {
  const reactions = new Map<string, string[]>();
  const replies = new Map<string, SandboxMessage[]>();
  const roots: SandboxMessage[] = [];
  for (const m of messages) {
    const content = m.content;
    if (typeof content.reaction === 'string') {
      const ts = String(content.timestamp ?? '');
      reactions.set(ts, [...(reactions.get(ts) ?? []), content.reaction]);
    } else if (typeof content.threadTs === 'string') {
      replies.set(content.threadTs, [...(replies.get(content.threadTs) ?? []), m]);
    } else roots.push(m);
  }
  const one = (m: SandboxMessage) => {
    const ts = String(m.content.ts ?? '');
    const marks = reactions.get(ts) ?? [];
    return html`<div class="bubble ${m.direction}"><small>${m.direction === 'inbound' ? String(m.content.user ?? m.sender ?? 'someone') : 'Switchboard'} · ${time(m.createdAt)}</small>${String(m.content.text ?? '')}${marks.length ? html`<small>Reactions: ${marks.map((r) => html`<span class="badge plain">:${r}:</span> `)}</small>` : ''}</div>`;
  };
  if (!roots.length && !replies.size) return html`<p class="empty">No messages.</p>`;
  return html`${roots.map((root) => {
    const thread = replies.get(String(root.content.ts ?? '')) ?? [];
    return html`<div class="thread">${one(root)}${thread.length ? html`<div class="replies" aria-label="Replies">${thread.map(one)}</div>` : ''}</div>`;
  })}`;
}
