// The configuration: every variable with its documentation (entries.ts), the rules between them
// (rules.ts), the development defaults (development-defaults.ts) and one loader (load.ts).
export { DEFAULT_REPORT_PATH, SERVER_ENTRIES } from './entries';
export { envSchema, loadConfig } from './load';
export { DEFAULT_WEBHOOK_SCHEDULE_S, retryWindowMs } from './parsers';
export { ConfigError, type Config, type EncryptionKey, type Language } from './types';
export { languages } from '../provider/languages';
