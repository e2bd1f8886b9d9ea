import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../src/platform/doctor.ts';
import { testConfig } from './helpers/config.ts';
import { createTestDatabase, type TestDatabase } from './helpers/databases.ts';
import { captureLogs } from './helpers/logs.ts';
import { type Providers, startProviders, startSmtp } from './helpers/providers.ts';

describe('switchboard doctor and the providers', () => {
  let providers: Providers;
  let target: TestDatabase;
  beforeAll(async () => {
    providers = await startProviders();
    target = await createTestDatabase('pglite');
  });
  afterAll(async () => {
    await providers?.close();
    await target?.drop();
  });
  const doctor = (env: Record<string, string>) =>
    runDoctor({ config: testConfig(target.config, env), log: captureLogs('silent').log });
  const finding = (findings: Awaited<ReturnType<typeof doctor>>, prefix: string) =>
    findings.find((f) => f.component.startsWith(prefix));

  it('asks each configured provider whether our credentials work', async () => {
    const findings = await doctor(providers.env);
    expect(finding(findings, 'sms')).toMatchObject({
      component: 'sms (twilio)',
      ok: true,
      detail: expect.stringContaining('is active'),
    });
    expect(finding(findings, 'email')).toMatchObject({
      component: 'email (sendgrid)',
      ok: true,
      detail: expect.stringContaining('may send mail'),
    });
    expect(finding(findings, 'slack')).toMatchObject({
      component: 'slack (slack)',
      ok: true,
      detail: expect.stringContaining('bot'),
    });
  });

  it('says which credentials a provider refuses', async () => {
    const findings = await doctor({
      ...providers.env,
      TWILIO_AUTH_TOKEN: 'a-wrong-twilio-token',
      SENDGRID_API_KEY: 'SG.wrong-key-entirely',
      SLACK_BOT_TOKEN: 'xoxb-wrong',
    });
    expect(finding(findings, 'sms')).toMatchObject({ ok: false, detail: expect.stringContaining('20003') });
    expect(finding(findings, 'email')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('SendGrid 401'),
    });
    expect(finding(findings, 'slack')).toMatchObject({ ok: false, detail: 'Slack: invalid_auth' });
  });

  it('checks an SMTP server, and reports sandboxes plainly', async () => {
    const { smtp, env } = await startSmtp();
    try {
      const findings = await doctor(env);
      expect(finding(findings, 'email')).toMatchObject({ component: 'email (smtp)', ok: true });
      expect(finding(findings, 'sms')).toMatchObject({ component: 'sms (sandbox)', ok: true });
      const refused = await doctor({ ...env, SMTP_URL: env.SMTP_URL!.replace('secret', 'wrong') });
      expect(finding(refused, 'email')).toMatchObject({
        ok: false,
        detail: expect.stringMatching(/^SMTP 535/),
      });
    } finally {
      await smtp.close();
    }
  });
});
