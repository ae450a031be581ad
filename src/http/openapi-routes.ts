import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import YAML from 'yaml';

export const OPENAPI_PATH = path.join(__dirname, '..', '..', 'openapi.yaml');

/** GET /openapi.json: openapi.yaml, parsed once at start. */
export function openapiRoutes(file = OPENAPI_PATH): Router {
  const document = JSON.stringify(YAML.parse(readFileSync(file, 'utf8')));
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(document);
  });
  return router;
}
