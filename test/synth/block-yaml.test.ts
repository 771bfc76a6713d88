import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toYaml } from '../../src/outputs/yaml.ts';
import { blockYaml } from '../../src/synth/block-yaml.ts';
import { FULL, render } from '../support/fleet-fixtures.ts';

const viaYaml = toYaml;

describe('blockYaml writes exactly what toYaml writes', () => {
  it('for every object synth generates', () => {
    const { objects } = render(FULL);
    expect(objects.length).toBeGreaterThan(10);
    for (const { object } of objects) expect(blockYaml(object)).toBe(viaYaml(object));
  });

  it('for scalars that need quoting, odd keys, empty and nested collections', () => {
    const tricky = {
      strings: [
        '',
        '-',
        '- x',
        'true',
        'True',
        'null',
        '~',
        '1',
        '1.5',
        '0x1f',
        '1e3',
        '.inf',
        '#x',
        'a: b',
        'a #b',
        ' lead',
        'trail ',
        '@x',
        "it's",
        'say "hi"',
        'yes',
        '*',
        '&a',
        '!t',
        '%x',
        '?',
        'a:b',
        'é',
        '0 3 * * *',
        'x'.repeat(600),
        'two\nlines',
        'Y',
        'NO',
        'On',
        'oFF',
        '=',
        '<<',
        '1_000',
        '0b101',
        '0o17',
        '1:20',
        '190:20:30.15',
        '2001-12-14',
        '.NaN',
        '-.Inf',
      ],
      numbers: [0, -3, 1.5, -0, 1e21, Number.NaN, Number.POSITIVE_INFINITY],
      others: [true, false, null, {}, [], [[1, 2], []], [{}], [{ a: [], b: {} }]],
      'key with space': 1,
      '1': 2,
      no: 7,
      '=': 8,
      true: 3,
      'k:': 4,
      '-': 5,
      ['x'.repeat(1100)]: 6,
      nested: { deep: [{ a: { b: [1, { c: 'd' }] } }] },
    };
    expect(blockYaml(tricky)).toBe(viaYaml(tricky));
  });

  it('for arbitrary JSON', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue()),
        (value) => blockYaml(value) === viaYaml(value),
      ),
      { numRuns: 300 },
    );
  });

  it('for short strings made of the characters YAML 1.1 gives a meaning (booleans, numbers, sexagesimals, tags)', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9._/+:=<~-]{0,6}$/);
    fc.assert(
      fc.property(
        fc.dictionary(word, fc.oneof(word, fc.array(word))),
        (value) => blockYaml(value) === viaYaml(value),
      ),
      { numRuns: 1000 },
    );
  });
});
