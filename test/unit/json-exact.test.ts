// Exact integers in JSON (src/util/json-exact.ts, through json-input.ts and the validators):
// values beyond 2^53 keep every digit as bigints, the schema's 64-bit limits hold exactly,
// and the snapshot written back carries them unchanged.
import { expect } from 'chai';
import { hasUnsafeInteger, parseExact, toJson } from '../../src/util/json-exact.js';
import { parseJsonText } from '../../src/util/json-input.js';
import { validateConfig, validateResources } from '../../src/spec/validate.js';

const MAX_U64 = '18446744073709551615';

describe('exact JSON integers', function () {
  it('finds integers a double cannot carry, and nothing else', function () {
    expect(hasUnsafeInteger(`{"a":${MAX_U64}}`)).to.equal(true);
    expect(hasUnsafeInteger('{"a":-9223372036854775808}')).to.equal(true);
    expect(hasUnsafeInteger('{"a":9007199254740991,"b":-9007199254740991}')).to.equal(false);
    expect(hasUnsafeInteger(`{"a":"${MAX_U64}"}`)).to.equal(false);
    expect(hasUnsafeInteger('{"a":"\\"18446744073709551615"}')).to.equal(false);
  });

  it('parses as JSON.parse does, with unsafe integers as bigints', function () {
    const text = `{"s":"x\\n\\u00e9","n":[0,-1,2.5,1e3,9007199254740993,-9223372036854775808,${MAX_U64},1.5e300],"o":{"t":true,"f":false,"z":null,"e":{},"a":[]},"__proto__":{"p":1}}`;
    const exact = parseExact(text) as Record<string, any>;
    const plain = JSON.parse(text) as Record<string, any>;
    expect(exact.n).to.deep.equal([0, -1, 2.5, 1000, 9007199254740993n, -9223372036854775808n, 18446744073709551615n, 1.5e300]);
    expect(exact.s).to.equal(plain.s);
    expect(exact.o).to.deep.equal(plain.o);
    // "__proto__" is an own member, as with JSON.parse, not the prototype.
    expect(Object.getPrototypeOf(exact)).to.equal(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(exact, '__proto__')?.value).to.deep.equal({ p: 1 });
  });

  it('parseJsonText keeps RLIM_INFINITY exact and other documents as JSON.parse reads them', function () {
    const doc = parseJsonText(`{"rlimits":[{"type":"RLIMIT_CORE","soft":${MAX_U64},"hard":${MAX_U64}}]}`, 'x.json') as any;
    expect(doc.rlimits[0].soft).to.equal(18446744073709551615n);
    expect(parseJsonText('{"a":[1,2.5,"3"]}', 'x.json')).to.deep.equal({ a: [1, 2.5, '3'] });
  });

  it('writes bigints back as plain numbers', function () {
    const text = `{"a":${MAX_U64},"b":[-9223372036854775808,1],"c":"d"}`;
    expect(toJson(parseExact(text))).to.equal(text);
  });

  describe('the schema\'s 64-bit limits, exactly', function () {
    const rlimit = (soft: string) =>
      validateConfig(parseJsonText(`{"ociVersion":"1.3.0","root":{"path":"r"},"process":{"cwd":"/","args":["sh"],"rlimits":[{"type":"RLIMIT_CORE","soft":${soft},"hard":0}]}}`, 'c.json'))
        .map((e) => e.message);
    const memory = (limit: string) => validateResources(parseJsonText(`{"memory":{"limit":${limit}}}`, 'r.json')).map((e) => e.message);

    it('uint64: 2^64-1 passes, 2^64 does not', function () {
      expect(rlimit(MAX_U64)).to.deep.equal([]);
      expect(rlimit('18446744073709551616')).to.deep.equal(['process.rlimits[0].soft: must be <= 18446744073709551615']);
      expect(rlimit('-1')).to.deep.equal(['process.rlimits[0].soft: must not be negative']);
    });

    it('int64: 2^63-1 passes, 2^63 does not; -2^63 passes, -2^63-1 does not', function () {
      expect(memory('9223372036854775807')).to.deep.equal([]);
      expect(memory('9223372036854775808')).to.deep.equal(['memory.limit: must be <= 9223372036854775807']);
      expect(memory('-9223372036854775809')).to.deep.equal(['memory.limit: must be >= -9223372036854775808']);
      // In range for the schema; refused by the rule on memory sizes (only -1 is unlimited).
      expect(memory('-9223372036854775808')).to.deep.equal(['memory.limit: must be -1 (unlimited) or a size in bytes']);
    });
  });
});
