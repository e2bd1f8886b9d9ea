// Which product a query is about: Verify when its SQL mentions Authy (CREDITS_VERIFY_PATTERNS),
// otherwise Programmable SMS. Each product has its own calculator setting.
export type Product = 'verify' | 'psms';

export const detectProduct = (sql: string, verifyPatterns: RegExp[]): Product =>
  verifyPatterns.some((pattern) => pattern.test(sql)) ? 'verify' : 'psms';

export const PRODUCT_NAMES: Record<Product, string> = { verify: 'Verify', psms: 'PSMS' };
