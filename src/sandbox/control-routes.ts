import express, { Router } from 'express';
import { z } from 'zod';
import { FinxCode, issuesOf, sendFinxError } from './finx-error';
import type { SandboxOptions } from './sandbox-config';
import { scriptedEndpointSchema, scriptedResponseSchema, type SandboxState } from './sandbox-state';

const scriptRequestSchema = z.strictObject({
  endpoint: scriptedEndpointSchema,
  responses: z.array(scriptedResponseSchema),
});

function publicOptions(options: SandboxOptions): Omit<SandboxOptions, 'clientSecret'> {
  const { clientSecret: _secret, ...rest } = options;
  return rest;
}

/**
 * The sandbox's own control surface under /__sandbox, for tests and benchmarks that run it in
 * another process. Not part of the provider's API.
 */
export function createControlRoutes(state: SandboxState): Router {
  const router = Router();
  router.use('/__sandbox', express.json({ limit: '256kb' }));

  router.get('/__sandbox/stats', (_req, res) => {
    res.json(state.stats());
  });

  router.post('/__sandbox/reset-stats', (_req, res) => {
    state.resetStats();
    res.json(state.stats());
  });

  router.post('/__sandbox/config', (req, res) => {
    try {
      state.configure(req.body as Parameters<SandboxState['configure']>[0]);
    } catch (err) {
      if (!(err instanceof z.ZodError)) throw err;
      sendFinxError(res, 400, FinxCode.invalidRequest, 'Invalid request', 'Invalid sandbox options', {
        issues: issuesOf(err),
      });
      return;
    }
    res.json(publicOptions(state.options()));
  });

  router.post('/__sandbox/script', (req, res) => {
    const parsed = scriptRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      sendFinxError(res, 400, FinxCode.invalidRequest, 'Invalid request', 'Invalid script', {
        issues: issuesOf(parsed.error),
      });
      return;
    }
    state.script(parsed.data.endpoint, parsed.data.responses);
    res.json({ endpoint: parsed.data.endpoint, queued: parsed.data.responses.length });
  });

  router.post('/__sandbox/revoke-all', (_req, res) => {
    state.revokeAll();
    res.json({ revoked: true });
  });

  return router;
}
