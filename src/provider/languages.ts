/** The widget languages finX offers (docs/finx-api.md §1); German is the provider's default. */
export const LANGUAGES = ['de', 'en', 'es', 'fr', 'ar'] as const;
export type Language = (typeof LANGUAGES)[number];
export const languages: readonly Language[] = LANGUAGES;
