import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { blockYaml } from '../../src/synth/block-yaml.ts';
import { FULL, render } from '../support/fleet-fixtures.ts';

const viaYaml = (value: unknown) => stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });

describe('blockYaml writes exactly what yaml.stringify writes', () => {
  it('for every object synth generates', () => {
    const { objects } = render(FULL);
    expect(objects.length).toBeGreaterThan(10);
    for (const { object } of objects) expect(blockYaml(object)).toBe(viaYaml(object));
  });

  it('for scalars that need quoting, odd keys, empty and nested collections', () => {
    const tricky = {
      strings: ['', '-', '- x', 'true', 'True', 'null', '~', '1', '1.5', '0x1f', '1e3', '.inf', '#x', 'a: b', 'a #b', ' lead', 'trail ', '@x', "it's", 'say "hi"', 'yes', '*', '&a', '!t', '%x', '?', 'a:b', 'é', '0 3 * * *', 'x'.repeat(600), 'two\nlines'],
      numbers: [0, -3, 1.5, -0, 1e21, Number.NaN, Number.POSITIVE_INFINITY],
      others: [true, false, null, {}, [], [[1, 2], []], [{}], [{ a: [], b: {} }]],
      'key with space': 1,
      '1': 2,
      true: 3,
      'k:': 4,
      '-': 5,
      ['x'.repeat(1100)]: 6,
      nested: { deep: [{ a: { b: [1, { c: 'd' }] } }] },
    };
    expect(blockYaml(tricky)).toBe(viaYaml(tricky));
  });

  it('for arbitrary JSON', () => {
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (value) => blockYaml(value) === viaYaml(value)), { numRuns: 300 });
  });
});
