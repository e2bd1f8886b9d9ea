import { describe, expect, it } from 'vitest';
import { formatMoney, isCurrency, minorDigits } from '../src/platform/money.ts';

describe('money', () => {
  it('formats minor units with the currency’s own decimals and thousands separators', () => {
    expect(formatMoney(494880, 'USD')).toBe('$4,948.80');
    expect(formatMoney(5, 'USD')).toBe('$0.05');
    expect(formatMoney(0, 'USD')).toBe('$0.00');
    expect(formatMoney(123456789, 'EUR')).toBe('€1,234,567.89');
    expect(formatMoney(1500, 'JPY')).toBe('¥1,500');
    expect(formatMoney(1234, 'BHD')).toBe('BHD\u00a01.234'); // Intl puts a no-break space after a code
    expect(formatMoney(-2550, 'USD')).toBe('-$25.50');
  });

  it('stays exact beyond what a float holds', () => {
    expect(formatMoney(2n ** 63n - 1n, 'USD')).toBe('$92,233,720,368,547,758.07');
    expect(formatMoney(9007199254740993n, 'USD')).toBe('$90,071,992,547,409.93');
  });

  it('never rounds: each minor unit shows', () => {
    for (const cents of [1, 49, 50, 99, 100, 101, 999_999, 1_000_000]) {
      const text = formatMoney(cents, 'USD');
      expect(Number(text.replace(/[$,]/g, '')) * 100).toBeCloseTo(cents, 6);
    }
  });

  it('knows ISO 4217 codes and their minor digits', () => {
    expect(isCurrency('USD')).toBe(true);
    expect(isCurrency('usd')).toBe(false);
    expect(isCurrency('XYZ')).toBe(false);
    expect([minorDigits('USD'), minorDigits('JPY'), minorDigits('KWD')]).toEqual([2, 0, 3]);
  });
});
