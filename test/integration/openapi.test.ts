import request from 'supertest';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Response } from 'supertest';
import { useSharedServer } from '../support/harness';
import { lenderWaitsFor, startLenderServer } from '../integrator/integrator-support';
import { startWebhookSetup, waitUntil } from '../integrator/webhook-support';
import { Applicant } from '../support/applicant';

const shared = useSharedServer();
let spec: {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
};
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);

beforeAll(async () => {
  spec = (await request(shared.server.url).get('/openapi.json').expect(200)).body;
  ajv.addSchema(spec, 'openapi');
});

const checked: string[] = [];

/** Asserts that the response is documented for this path and method, and that its body matches the schema. */
function conforms(method: string, path: string, res: Response): void {
  const operation = spec.paths[path]?.[method];
  expect(operation).toBeDefined();
  const documented = operation?.responses[String(res.status)];
  if (!documented)
    throw new Error(
      `${method.toUpperCase()} ${path} answered ${res.status}, which openapi.yaml does not document`,
    );
  checked.push(`${method.toUpperCase()} ${path} ${res.status}`);
  const pointer = (documented as { $ref?: string }).$ref
    ? `openapi${(documented as { $ref: string }).$ref}/content/application~1json/schema`
    : `openapi#/paths/${path.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}/responses/${res.status}/content/application~1json/schema`;
  if (!documented.content && !(documented as { $ref?: string }).$ref) {
    expect(res.text ?? '').toBe('');
    return;
  }
  const validate = ajv.getSchema(pointer);
  if (!validate) throw new Error(`no schema at ${pointer}`);
  if (!validate(res.body))
    throw new Error(
      `${method} ${path} ${res.status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(res.body)}`,
    );
}

describe('openapi.yaml describes what the server really answers', () => {
  it('is served as JSON at /openapi.json', () => {
    expect(spec).toMatchObject({ openapi: '3.1.0' });
  });

  it('validates the real responses of full, cancelled and failed flows and of errors', async () => {
    const applicant = new Applicant(shared.server.url);
    const json = (r: ReturnType<typeof applicant.post>) => r.set('Content-Type', 'application/json');

    conforms('get', '/api/verification', await applicant.get('/api/verification'));
    conforms('get', '/healthz', await applicant.get('/healthz'));
    conforms('get', '/readyz', await applicant.get('/readyz'));
    conforms('get', '/verification/start', await applicant.get('/verification/start?language=xx'));
    conforms(
      'post',
      '/api/verification',
      await json(applicant.post('/api/verification')).send({ iban: 'DE00' }),
    );
    conforms(
      'post',
      '/api/verification',
      await applicant.post('/api/verification').set('Content-Type', 'text/plain').send('x'),
    );
    conforms('post', '/api/verification', await json(applicant.post('/api/verification')).send('{"oops'));
    conforms(
      'post',
      '/api/verification/callback',
      await json(applicant.post('/api/verification/callback')).send({
        state: 'x',
        success: 'true',
        code: 'c',
      }),
    );

    const created = await json(applicant.post('/api/verification')).send({ language: 'en' });
    conforms('post', '/api/verification', created);
    const pending = await applicant.get('/api/verification');
    conforms('get', '/api/verification', pending);
    // A held poll that ends by its wait: 304 with the documented Preference-Applied.
    const held = await applicant
      .get('/api/verification')
      .set('Prefer', 'wait=1')
      .set('If-None-Match', pending.headers.etag as string);
    conforms('get', '/api/verification', held);
    expect(held.status).toBe(304);
    expect(held.headers['preference-applied']).toMatch(/^wait=[0-9]+$/);
    const callback = await applicant.approveInWidget(created.body.location);
    const done = await json(applicant.post('/api/verification/callback')).send(callback.params);
    conforms('post', '/api/verification/callback', done);
    conforms('get', '/api/verification', await applicant.get('/api/verification'));
    const ready = await applicant.poll(['ready']);
    conforms('get', '/api/verification', ready);
    conforms(
      'get',
      '/api/verification',
      await applicant.get('/api/verification').set('If-None-Match', ready.headers.etag as string),
    );

    const cancelled = await json(applicant.post('/api/verification')).send({});
    const cancel = await applicant.decideInWidget(cancelled.body.location, 'cancel');
    conforms(
      'post',
      '/api/verification/callback',
      await json(applicant.post('/api/verification/callback')).send(cancel.params),
    );
    conforms('get', '/api/verification', await applicant.get('/api/verification'));
    const failed = await json(applicant.post('/api/verification')).send({});
    const fail = await applicant.decideInWidget(failed.body.location, 'fail');
    conforms(
      'post',
      '/api/verification/callback',
      await json(applicant.post('/api/verification/callback')).send(fail.params),
    );
    conforms('get', '/api/verification', await applicant.get('/api/verification'));
    conforms('get', '/callback', await applicant.get('/callback?state=nope&success=true&code=x'));
    conforms('delete', '/api/verification', await applicant.delete('/api/verification'));
    conforms('delete', '/api/verification', await json(applicant.delete('/api/verification')));
    conforms('get', '/api/verification', await applicant.get('/api/verification'));

    expect(new Set(checked).size).toBeGreaterThanOrEqual(13);
  });

  it('validates the real answers of the integrator API', async () => {
    const lenderServer = await startLenderServer(shared.sandbox);
    try {
      const api = lenderServer.lender();
      const made = await api.post('/verifications', { reference: 'oa-1', language: 'de' });
      conforms('post', '/integrator/v1/verifications', made);
      conforms(
        'post',
        '/integrator/v1/verifications',
        await api.post('/verifications', { reference: 'bad ref' }),
      );
      conforms(
        'post',
        '/integrator/v1/verifications',
        await lenderServer.lender('x'.repeat(40)).post('/verifications', {}),
      );
      conforms('get', '/integrator/v1/verifications', await api.get('/verifications?reference=oa-1'));
      conforms('get', '/integrator/v1/verifications', await api.get('/verifications'));
      const id = made.body.id as string;
      conforms('get', '/integrator/v1/verifications/{id}', await api.get(`/verifications/${id}`));
      conforms(
        'get',
        '/integrator/v1/verifications/{id}/report',
        await api.get(`/verifications/${id}/report`),
      );
      await new Applicant(lenderServer.url).completeFlow(made.body.start_url);
      await lenderWaitsFor(lenderServer, id, ['ready']);
      conforms('get', '/integrator/v1/verifications/{id}', await api.get(`/verifications/${id}`));
      conforms(
        'get',
        '/integrator/v1/verifications/{id}/report',
        await api.get(`/verifications/${id}/report`),
      );
      // One-time access: 409 access_not_ongoing.
      conforms(
        'post',
        '/integrator/v1/verifications/{id}/report-refresh',
        await api.post(`/verifications/${id}/report-refresh`, {}),
      );
      const ongoing = await api.post('/verifications', { reference: 'oa-2', access: 'ongoing' });
      conforms('post', '/integrator/v1/verifications', ongoing);
      const ongoingId = ongoing.body.id as string;
      // No first report yet: 409 report_not_ready.
      conforms(
        'post',
        '/integrator/v1/verifications/{id}/report-refresh',
        await api.post(`/verifications/${ongoingId}/report-refresh`, {}),
      );
      await new Applicant(lenderServer.url).completeFlow(ongoing.body.start_url);
      await lenderWaitsFor(lenderServer, ongoingId, ['ready']);
      conforms('get', '/integrator/v1/verifications/{id}', await api.get(`/verifications/${ongoingId}`));
      const refresh = await api.post(`/verifications/${ongoingId}/report-refresh`, {});
      expect(refresh.status).toBe(202);
      conforms('post', '/integrator/v1/verifications/{id}/report-refresh', refresh);
      conforms(
        'delete',
        '/integrator/v1/verifications/{id}',
        await api.delete(`/verifications/${ongoingId}`),
      );
      conforms(
        'post',
        '/integrator/v1/verifications/{id}/report-refresh',
        await api.post(`/verifications/${ongoingId}/report-refresh`, {}),
      );
      conforms('delete', '/integrator/v1/verifications/{id}', await api.delete(`/verifications/${id}`));
      conforms('get', '/integrator/v1/verifications/{id}', await api.get(`/verifications/${id}`));
      conforms(
        'get',
        '/integrator/v1/verifications/{id}/report',
        await api.get(`/verifications/${id}/report`),
      );
      conforms(
        'get',
        '/integrator/v1/verifications/{id}',
        await api.get('/verifications/ver_' + 'A'.repeat(22)),
      );
    } finally {
      await lenderServer.close();
    }
  });

  it('validates the webhook routes and the body and headers of a real delivery (OpenAPI 3.1 webhooks)', async () => {
    const setup = await startWebhookSetup(shared.sandbox, {
      env: { WEBHOOK_RETRY_SCHEDULE_S: '0.2' },
      receiver: { respond: (d) => ({ status: JSON.parse(d.body).data.reference === 'oa-dead' ? 500 : 204 }) },
    });
    try {
      const api = setup.server.lender();
      conforms('get', '/integrator/v1/events', await api.get('/events'));
      const made = await api.post('/verifications', { reference: 'oa-wh' });
      await new Applicant(setup.server.url).completeFlow(made.body.start_url);
      const dead = await api.post('/verifications', { reference: 'oa-dead' });
      await new Applicant(setup.server.url).cancelFlow(dead.body.start_url);
      const failed = async () => api.get('/webhook-deliveries?status=failed');
      await waitUntil('a dead letter', async () => (await failed()).body.items.length === 1);
      await waitUntil('a delivery', () => setup.receiver.deliveries.some((d) => d.status === 204));
      conforms('get', '/integrator/v1/webhook-deliveries', await failed());
      conforms('get', '/integrator/v1/webhook-deliveries', await api.get('/webhook-deliveries'));
      const events = await api.get('/events?limit=1');
      conforms('get', '/integrator/v1/events', events);
      conforms('get', '/integrator/v1/events', await api.get(`/events?after=${events.body.next as string}`));
      conforms('get', '/integrator/v1/events', await api.get('/events?after=x'));
      const deadId = (await failed()).body.items[0].webhook_id as string;
      const path = '/integrator/v1/webhook-deliveries/{webhook_id}/redeliver';
      conforms('post', path, await api.post(`/webhook-deliveries/${deadId}/redeliver`, {}));
      conforms('post', path, await api.post(`/webhook-deliveries/${deadId}/redeliver`, {}));
      conforms('post', path, await api.post(`/webhook-deliveries/msg_${'0'.repeat(26)}/redeliver`, {}));

      const webhook = (
        spec as unknown as {
          webhooks: Record<string, { post: { parameters: Array<{ name: string; schema: unknown }> } }>;
        }
      ).webhooks.verificationEnded?.post;
      expect(webhook).toBeDefined();
      const body = ajv.getSchema('openapi#/components/schemas/WebhookBody');
      for (const delivery of setup.receiver.deliveries) {
        if (!body?.(JSON.parse(delivery.body))) throw new Error(ajv.errorsText(body?.errors));
        const headers: Record<string, string> = {
          'webhook-id': delivery.webhookId,
          'webhook-timestamp': String(delivery.timestamp),
          'webhook-signature': delivery.signature,
        };
        for (const parameter of webhook?.parameters ?? []) {
          const ref = (parameter.schema as { $ref?: string }).$ref;
          const schema = ref ? { $ref: `openapi${ref}` } : (parameter.schema as object);
          expect([parameter.name, ajv.validate(schema, headers[parameter.name])]).toEqual([
            parameter.name,
            true,
          ]);
        }
      }
    } finally {
      await setup.close();
    }
  });
});
