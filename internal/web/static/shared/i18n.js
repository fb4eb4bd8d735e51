// Translation helpers. Each app keeps its own catalog ({en: {...}, fr: {...}}); English is the fallback.

export const LANGUAGES = ['en', 'fr'];

/** The first candidate that names a supported language (fr-CA → fr), else English. */
export function pickLanguage(...candidates) {
  for (const candidate of candidates) {
    const lang = String(candidate || '').toLowerCase().slice(0, 2);
    if (LANGUAGES.includes(lang)) return lang;
  }
  return 'en';
}

/** Returns t(key, params): the text for key in lang, with {name} placeholders filled from params. */
export function createTranslator(catalog, lang) {
  const primary = catalog[lang] || {};
  const fallback = catalog.en || {};
  return (key, params) => {
    const text = primary[key] ?? fallback[key] ?? key;
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
  };
}

/** Plain words for a realtime error (see docs/protocol.md, "Codes"): the catalog's `error.CODE`, else `error.default`. */
export function errorMessage(t, err) {
  const key = `error.${err && err.code}`;
  const text = t(key);
  return text === key ? t('error.default') : text;
}
