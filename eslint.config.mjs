import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test-results/', 'bench/.build/', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // The direction of the layers: the domain (verification, tokens), the provider client and
    // storage know nothing of HTTP or of how configuration is read; they get what they need.
    files: ['src/verification/**', 'src/tokens/**', 'src/provider/**', 'src/storage/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'express', message: 'HTTP belongs in src/http/.' },
            { name: 'express-session', message: 'Sessions belong in src/http/.' },
          ],
          patterns: [
            { group: ['**/http/*', '**/http'], message: 'The domain must not depend on the HTTP layer.' },
            { group: ['**/config', '**/config/*'], message: 'Pass settings in; do not read config here.' },
          ],
        },
      ],
    },
  },
  {
    // The HTTP layer gets what it uses (use cases, a rate limiter, the poll's views) from the
    // composition root (src/server.ts, src/app.ts), not the bag of the domain's collaborators or storage.
    files: ['src/http/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/verification/verification-deps'],
              message: 'Take the narrow thing the route needs; the composition root builds it.',
            },
            {
              group: ['**/storage/*', '**/storage'],
              message: 'Storage is reached through the domain or an object the composition root hands in.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['public/**/*.js'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        fetch: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        AbortController: 'readonly',
        console: 'readonly',
        location: 'readonly',
        navigator: 'readonly',
        history: 'readonly',
      },
    },
  },
);
