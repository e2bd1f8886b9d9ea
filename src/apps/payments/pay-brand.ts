// The merchant's look on /pay (PAYMENTS_BRAND_*): its colours as CSS variables, with the text on
// each chosen black or white by WCAG contrast, so any brand colour stays readable (AA: 4.5:1).
import type { PaymentsConfig } from './config.ts';

function luminance(hex: string): number {
  const full = hex.length === 4 ? `#${[...hex.slice(1)].map((c) => c + c).join('')}` : hex;
  const channel = (at: number) => {
    const value = Number.parseInt(full.slice(at, at + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

export function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/** Black or white text, whichever reads better on `background` (one of them always reaches 4.58:1). */
export const textOn = (background: string) =>
  contrast(background, '#ffffff') >= contrast(background, '#000000') ? '#ffffff' : '#000000';

export function brandCss(brand: PaymentsConfig['brand']): string {
  return `:root { --brand: ${brand.color}; --on-brand: ${textOn(brand.color)}; --page: ${brand.backgroundColor}; --on-page: ${textOn(brand.backgroundColor)}; }`;
}
