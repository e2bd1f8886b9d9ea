// The Summary Info reader on executed notebooks of the tests' own (outputs as Jupyter records them):
// which number is the credit, and which outputs need a person instead. Every amount to the cent.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Notebook } from '../src/apps/credits/calculators/notebook-format.ts';
import { dollarsToCents } from '../src/apps/credits/calculators/notebook-money.ts';
import { headingWords } from '../src/apps/credits/calculators/notebook-sections.ts';
import { readSummary } from '../src/apps/credits/calculators/notebook-summary.ts';
import { displayed, markdown, notebookJson, printed, ran, type TestCell } from './helpers/notebooks.ts';

const HEADING = 'Summary Info';
const read = (cells: TestCell[]) => readSummary(notebookJson(cells) as unknown as Notebook, HEADING);
const needsPerson = (cells: TestCell[], reason: RegExp) => {
  expect(() => read(cells)).toThrow(reason);
  try {
    read(cells);
  } catch (error) {
    expect(error).toMatchObject({ code: 'notebook_summary' });
  }
};

/** A printed table as a notebook author might print it: columns two spaces apart. */
const textTable = (header: string[], rows: string[][]) =>
  [header, ...rows].map((cells) => cells.join('  ')).join('\n');

/** A pandas-style DataFrame display: HTML with the index as th, and its text/plain form. */
const dataFrame = (header: string[], rows: string[][], index?: string[]) => {
  const th = (cells: string[]) => cells.map((c) => `<th>${c}</th>`).join('');
  const body = rows
    .map((row, i) => `<tr><th>${index?.[i] ?? i}</th>${row.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('\n');
  const html = `<div><table border="1" class="dataframe">\n<thead><tr style="text-align: right;"><th></th>${th(header)}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
  const plain = textTable(
    ['', ...header],
    rows.map((row, i) => [index?.[i] ?? String(i), ...row]),
  );
  return {
    output_type: 'execute_result',
    execution_count: 1,
    metadata: {},
    data: { 'text/html': html, 'text/plain': plain },
  };
};

// The case the outside check reported: two accounts, $4,822.35 in all, and a TOTAL row.
const ACCOUNTS = [
  ['AC01', '31,000', '$3,100.00'],
  ['AC02', '17,223', '$1,722.35'],
];

describe('the summary heading', () => {
  it.each([
    '## Summary Info',
    '## Summary Info:',
    '## 📊 Summary Info',
    '## 4. Summary Info',
    '### summary info',
    '# 4.2) SUMMARY INFO!',
    '## IV. Summary Info',
    '## **Summary Info** ##',
    'Summary Info\n============',
    '<h2>Summary Info</h2>',
  ])('%j is the summary heading', (heading) => {
    const summary = read([
      markdown(heading),
      ran(7, [printed(textTable(['account', 'messages', 'credit'], ACCOUNTS))]),
    ]);
    expect(summary.creditCents).toBe(482235);
    expect(summary.rule).toBe('table');
  });

  it('is not a heading of other words, nor text that is not a heading', () => {
    for (const other of ['## Summary Information', '## Info Summary', 'Summary Info (plain text)']) {
      needsPerson(
        [markdown(other), ran(1, [printed(textTable(['account', 'credit'], [['A', '$1.00']]))])],
        /no "Summary Info" heading/,
      );
    }
    expect(headingWords('## 4. 📊 Summary   Info:')).toBe('summary info');
  });

  it('ends at the next heading of its level or above, not at a subheading', () => {
    const cells = [
      markdown('## Summary Info'),
      markdown('### By account'),
      ran(3, [printed(textTable(['account', 'credit'], [['A', '$10.00']]))]),
      markdown('## Appendix'),
      ran(4, [printed(textTable(['account', 'credit'], [['B', '$99.00']]))]),
    ];
    expect(read(cells).creditCents).toBe(1000);
  });

  it('reads the cells tagged summary when there are any, whatever the headings', () => {
    const tagged = { ...ran(9, [printed('{"credit_cents": 1234}')]), metadata: { tags: ['summary'] } };
    expect(read([markdown('# Something else'), tagged]).creditCents).toBe(1234);
  });
});

describe('a machine-readable result', () => {
  const table = ran(5, [printed(textTable(['account', 'credit'], [['A', '$50.00']]))]);

  it('wins over the table: application/json, a printed JSON line, or a recorded scrap', () => {
    for (const result of [
      displayed({ 'application/json': { credit_cents: 482235 } }),
      displayed({ 'application/json': { credit: 4822.35 } }),
      printed('details follow\n{"credit": "$4,822.35", "accounts": 2}\n'),
    ]) {
      const summary = read([markdown('## Summary Info'), table, ran(6, [result])]);
      expect(summary.creditCents).toBe(482235);
      expect(summary.rule).toBe('result');
    }
    // scrapbook's glue("credit", 4822.35) records a scrap wherever it is called.
    const scrap = displayed({
      'application/scrapbook.scrap.json+json': { name: 'credit', data: 4822.35, encoder: 'json', version: 1 },
    });
    expect(read([ran(2, [scrap]), markdown('## Summary Info'), table]).creditCents).toBe(482235);
  });

  it('must agree with itself when it gives both credit and credit_cents', () => {
    const both = (credit: number) =>
      read([
        markdown('## Summary Info'),
        ran(1, [displayed({ 'application/json': { credit, credit_cents: 482235 } })]),
      ]);
    expect(both(4822.35).creditCents).toBe(482235);
    expect(() => both(4822.36)).toThrow(/gives credit \$4,822\.36 and credit_cents \$4,822\.35/);
  });

  it('must agree with any other machine-readable result', () => {
    needsPerson(
      [
        markdown('## Summary Info'),
        ran(1, [displayed({ 'application/json': { credit_cents: 100 } })]),
        ran(2, [printed('{"credit": 2.00}')]),
      ],
      /disagree/,
    );
  });

  it('is refused when negative or a fraction of a cent', () => {
    needsPerson([markdown('## Summary Info'), ran(1, [printed('{"credit": -5.00}')])], /negative/);
    needsPerson(
      [markdown('## Summary Info'), ran(1, [displayed({ 'application/json': { credit: 10.005 } })])],
      /not a whole number of cents/,
    );
    needsPerson(
      [markdown('## Summary Info'), ran(1, [displayed({ 'application/json': { credit_cents: 10.5 } })])],
      /not a whole number of cents/,
    );
  });

  it('is not a Python dict repr, nor a JSON object outside the section', () => {
    needsPerson(
      [
        ran(1, [printed('{"credit": 1.00}')]),
        markdown('## Summary Info'),
        ran(2, [printed("{'credit': 1.00}")]),
      ],
      /no credit under "Summary Info"/,
    );
  });
});

describe('the summary table', () => {
  it('excludes a TOTAL row from the sum and checks it', () => {
    const withTotal = [...ACCOUNTS, ['TOTAL', '48,223', '$4,822.35']];
    const summary = read([
      markdown('## Summary Info'),
      ran(3, [printed(textTable(['account', 'messages', 'credit'], withTotal))]),
    ]);
    expect(summary.creditCents).toBe(482235);
    expect(summary.table?.totalRow).toEqual(['TOTAL', '48,223', '$4,822.35']);
    expect(summary.table?.rows).toHaveLength(3);
    needsPerson(
      [
        markdown('## Summary Info'),
        ran(3, [
          printed(textTable(['account', 'messages', 'credit'], [...ACCOUNTS, ['Total:', '', '$4,822.36']])),
        ]),
      ],
      /TOTAL row says \$4,822\.36 but its rows sum to \$4,822\.35/,
    );
  });

  it('reads a DataFrame (HTML, the index as a column, TOTAL in the index)', () => {
    const frame = dataFrame(
      ['messages', 'credit'],
      [
        ['31000', '3100.00'],
        ['17223', '1722.35'],
        ['48223', '4822.35'],
      ],
      ['AC01', 'AC02', 'TOTAL'],
    );
    const summary = read([markdown('## 📊 Summary Info'), ran(8, [frame])]);
    expect(summary.creditCents).toBe(482235);
    expect(summary.table?.columns).toEqual(['', 'messages', 'credit']);
  });

  it('reads a float credit column that is whole cents after rounding', () => {
    // What pandas prints for float sums such as 0.1 + 0.2 and 4822.35 computed in floats.
    const frame = dataFrame(
      ['credit'],
      [['4822.349999999999'], ['0.30000000000000004'], ['1722.3500000000001']],
    );
    expect(read([markdown('## Summary Info'), ran(2, [frame])]).creditCents).toBe(482235 + 30 + 172235);
    needsPerson(
      [markdown('## Summary Info'), ran(2, [dataFrame(['credit'], [['4822.355']])])],
      /not a whole number of cents/,
    );
  });

  it('reads a Markdown table and a credit_cents column', () => {
    const md = '| account | credit_cents |\n|---|---:|\n| AC01 | 310000 |\n| AC02 | 172235 |\n';
    const output = displayed({ 'text/markdown': md, 'text/plain': '<IPython.core.display.Markdown object>' });
    expect(read([markdown('## Summary Info'), ran(4, [output])]).creditCents).toBe(482235);
  });

  it('is not outvoted by a line such as "Requested credit: $10,000.00"', () => {
    const text = `Requested credit: $10,000.00\n\n${textTable(['account', 'messages', 'credit'], ACCOUNTS)}\nCredit amount: $4,822.35\n`;
    expect(read([markdown('## Summary Info'), ran(3, [printed(text)])]).creditCents).toBe(482235);
    // Alone, such a line is not a credit at all.
    needsPerson(
      [
        markdown('## Summary Info'),
        ran(3, [printed('Requested credit: $10,000.00\nCredit amount: $4,822.35')]),
      ],
      /no credit under "Summary Info"/,
    );
  });

  it('must be the only table with a credit column under the heading', () => {
    needsPerson(
      [
        markdown('## Summary Info'),
        ran(3, [printed(textTable(['account', 'credit'], [['AC01', '$3,100.00']]))]),
        ran(4, [printed(textTable(['region', 'credit'], [['US', '$1,722.35']]))]),
      ],
      /2 tables with a credit column/,
    );
  });

  it('refuses a negative row, an empty credit, a row that cannot be placed, and no rows', () => {
    const table = (rows: string[][]) => [
      markdown('## Summary Info'),
      ran(3, [printed(textTable(['account', 'messages', 'credit'], rows))]),
    ];
    needsPerson(table([...ACCOUNTS, ['AC03', '10', '-$100.00']]), /row 3 .* is negative/);
    needsPerson(table([...ACCOUNTS, ['AC03', '10', '($100.00)']]), /is negative/);
    needsPerson(table([...ACCOUNTS, ['AC03', '10', 'NaN']]), /row 3 of the summary table has no credit/);
    needsPerson(table([['AC01', '$3,100.00']]), /2 cells for 3 columns/);
    needsPerson(table([]), /has no rows/);
  });
});

describe('amounts', () => {
  it('read as cents from every printed form, exactly', () => {
    const cases: Array<[unknown, number]> = [
      ['$4,822.35', 482235],
      ['4822.35', 482235],
      ['4,822.3', 482230],
      ['USD 4822', 482200],
      [4822.35, 482235],
      [0.1 + 0.2, 30],
      ['4.82235e3', 482235],
      ['$0.00', 0],
      ['.5', 50],
    ];
    for (const [value, cents] of cases) expect(dollarsToCents(value, 'x')).toBe(cents);
  });

  it('in any table form, with or without a TOTAL row, sum to the cent (generated)', () => {
    const rowsArb = fc.array(fc.integer({ min: 0, max: 5_000_000_00 }), { minLength: 1, maxLength: 8 });
    const style = fc.constantFrom('dollars', 'plain', 'float');
    const form = fc.constantFrom('text', 'html', 'markdown');
    fc.assert(
      fc.property(rowsArb, style, form, fc.boolean(), (cents, how, shape, withTotal) => {
        const show = (c: number) =>
          how === 'dollars'
            ? `$${Math.floor(c / 100).toLocaleString('en-US')}.${String(c % 100).padStart(2, '0')}`
            : how === 'plain'
              ? (c / 100).toFixed(2)
              : String(c / 100);
        const sum = cents.reduce((a, b) => a + b, 0);
        // A float total, as a notebook summing a float column prints it.
        const floatSum = cents.reduce((a, b) => a + b / 100, 0);
        const rows = cents.map((c, i) => [`acct-${i}`, show(c)]);
        if (withTotal) rows.push(['Total', how === 'float' ? String(floatSum) : show(sum)]);
        const output =
          shape === 'html'
            ? dataFrame(['account', 'credit'], rows)
            : shape === 'markdown'
              ? displayed({
                  'text/markdown': `| account | credit |\n|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}`,
                })
              : printed(textTable(['account', 'credit'], rows));
        expect(read([markdown('## Summary Info'), ran(1, [output])]).creditCents).toBe(sum);
      }),
      { seed: 15, numRuns: 300 },
    );
  });
});

describe('tables of one column', () => {
  it('are read as a printed DataFrame column or a Markdown table', () => {
    const printedColumn = printed('     credit\nAC01  3100.00\nAC02  1722.35\nCredit amount: $1.00\n');
    expect(read([markdown('##Summary Info'), ran(1, [printedColumn])]).creditCents).toBe(482235);
    const md = displayed({ 'text/markdown': '| credit |\n|---|\n| 3,100.00 |\n| 1,722.35 |' });
    expect(read([markdown('## Summary Info'), ran(1, [md])]).creditCents).toBe(482235);
  });
});
